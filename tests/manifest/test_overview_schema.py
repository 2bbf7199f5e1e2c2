"""Issue 20: the overview card against the Adaptive Card 1.5 schema (what Teams and Agents
Playground render), and under our card limit for the Malmö example and for a city of
290 committees and 2 000 measures, with long names and everyone late."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from core.limits import MAX_PERSON_NAME
from core.rounds import CommitteeGap
from dialogs import overview
from dialogs.cards import MAX_CARD_BYTES
from tests.manifest.test_cards_schema import (  # noqa: F401,F811 - fixtures
    MAX_MESSAGE_BYTES,
    assert_valid,
    fund,
    ledger,
    malmo,
    message_size,
    services,
    views,
)

VIEWER = "29:1a2b3c4d-viewer"
TODAY = date(2025, 6, 10)
ELEMENTS_1_5 = {"TextBlock", "FactSet", "ColumnSet", "Column", "Container"}


def _report(malmo):  # noqa: F811
    from bot.round_services import RoundServices

    rounds = RoundServices(malmo, org="malmo")
    if not rounds.latest_report(None, TODAY):
        rounds.open(None, "2025-06")
    report = rounds.latest_report(None, TODAY)
    assert report is not None
    return report, rounds.late_list(None, TODAY, report.round.id)


def _size(content) -> int:
    return len(json.dumps(content, ensure_ascii=False).encode("utf-8"))


def _types(content) -> set[str]:
    found = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("type"), str):
                found.add(node["type"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(content["body"])
    return found


def test_the_overview_of_the_example_validates_and_renders_with_1_5_elements_only(
    malmo,  # noqa: F811
    fund,  # noqa: F811
    views,  # noqa: F811
) -> None:
    report, late = _report(malmo)
    view = overview.Overview("Malmö stad", TODAY, True, fund, tuple(views), report, late)
    content = overview.fitting_card(view, VIEWER)
    assert_valid(content, "the overview of the Malmö example")
    assert _types(content) <= ELEMENTS_1_5
    assert content["refresh"]["userIds"] == [VIEWER]
    assert content["refresh"]["action"]["type"] == "Action.Execute"
    assert [a["type"] for a in content["actions"]] == ["Action.Execute"]
    assert message_size(content, "Här är översikten.") < MAX_MESSAGE_BYTES
    # Without a round, and for a chef (one unit, no list): valid too.
    for shown in (
        overview.Overview("Malmö stad", TODAY, False, fund.only({"GVN"}), tuple(views[:3]), None, None),
        overview.Overview("Malmö stad", TODAY, False, fund.only({"GVN"}), (), report, None),
    ):
        assert_valid(overview.overview_card(shown, VIEWER), "a chef's overview")


def test_a_city_of_290_committees_and_2000_measures_fits_one_card_summarised(
    malmo,  # noqa: F811
    fund,  # noqa: F811
    views,  # noqa: F811
) -> None:
    report, late = _report(malmo)
    long_name = "Kompetensförsörjningsnämnden för stadsområde "
    units = tuple(
        replace(fund.units[i % len(fund.units)], code=f"N{i:03d}", name=(long_name * 3)[:80] + f" {i}")
        for i in range(290)
    )
    big_fund = replace(fund, units=units)
    measures = tuple(views[i % len(views)] for i in range(2_000))
    person = ("Maria-Josefina Andersson Lindqvist " * 4)[:MAX_PERSON_NAME]
    people = {f"p{i}": f"{person[:-4]}{i:04d}" for i in range(2_000)}
    gaps = tuple(
        CommitteeGap(
            f"N{i:03d}",
            tuple(range(i * 7, i * 7 + 6)),
            (i * 7 + 6,),
            tuple(f"p{(i * 7 + k) % 2_000}" for k in range(7)),
            tuple(f"p{(i * 7 + k) % 2_000}" for k in range(7)),
        )
        for i in range(290)
    )
    everyone_late = replace(late, committees=gaps, unit_names={u.code: u.name for u in units}, names=people)
    view = overview.Overview("Malmö stad", TODAY, True, big_fund, measures, report, everyone_late)
    content = overview.fitting_card(view, VIEWER)
    assert_valid(content, "290 committees, 2 000 measures, everyone late")
    assert _size(content) < MAX_CARD_BYTES
    shown = json.dumps(content, ensure_ascii=False)
    rows = [e for e in content["body"] if e.get("type") == "ColumnSet"]
    assert len(rows) == 1 + overview.UNITS_SHOWN + 1  # the heading, the units shown, the total
    assert "260 nämnder till" in shown
    assert "2000" in shown  # every measure counted ("Alla insatser")
    assert "290 nämnder" in shown and "2030 insatser utan svar" in shown
    assert "278 nämnder till" in shown  # the committees not listed, counted
