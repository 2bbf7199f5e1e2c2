"""Strangers' findings on the cards (issue 21): no card ever shows "None" (a tester's tool listed
the overview's refresh, an Action.Execute without a title, as a button titled "None"); the
follow-up form's people-reached field; the overview of a city without a fund (Hägersten-
Liljeholmen, loaded beside Malmö); the round's answered card noting more people reached than
the needs concern. All against the Adaptive Card 1.5 schema."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.data_services import load_example
from bot.round_services import RoundServices
from bot.services import Services
from core.model import FollowUp, Status
from core.needs import NeedEntry, NeedKind, Period, Recruitment
from core.rounds import CardNeeds
from dialogs import cards, overview, texts
from dialogs.round_cards import answered_card, card_measures
from tests.manifest import test_proposal_cards_schema, test_round_cards_schema
from tests.manifest.test_cards_schema import (  # noqa: F401,F811 - fixtures
    MAX_MESSAGE_BYTES,
    assert_valid,
    built_cards,
    fund,
    ledger,
    malmo,
    message_size,
    services,
    views,
)
from tests.manifest.test_overview_schema import _report

HL = "hagersten-liljeholmen"
TODAY = date(2025, 6, 10)
VIEWER = "29:viewer"
AT = datetime(2025, 6, 10, tzinfo=UTC)


def _need(key: str, people: int | None = None) -> NeedEntry:
    return NeedEntry(
        key,
        "FSKN",
        "Förskollärare",
        NeedKind.UPSKILLING,
        "Formell kompetens",
        Recruitment.SHORTAGE,
        Period(2024, 2026),
        "Kompetensförsörjningsplan",
        date(2024, 3, 1),
        "HR",
        AT,
        people=people,
    )


def _actions(card: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every action of a card, wherever it is: the actions, a refresh, a fallback, a select action."""

    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action."):
                yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    yield from walk(card)


def _said(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every (key, text) of a card: what a client may show, and the layout words beside it."""
    if isinstance(node, dict):
        for k, value in node.items():
            yield from _said(value, k)
    elif isinstance(node, list):
        for value in node:
            yield from _said(value, key)
    elif isinstance(node, str):
        yield key, node


@pytest.fixture(scope="module")
def hl(malmo: Engine) -> Services:  # noqa: F811
    load_example(malmo, HL)
    return Services(malmo, org=HL)


def _hl_overview(hl: Services, malmo: Engine) -> overview.Overview:  # noqa: F811
    ledger = hl.ledger()
    assert not any(ledger.has_fund(y) for y in ledger.years)
    balance = hl.funds(None, 2025, as_of=TODAY)
    views = tuple(hl.measures(None, as_of=TODAY))  # every year's: the overview of a city without a fund
    report = RoundServices(malmo, org=HL).latest_report(None, TODAY)
    return overview.Overview(
        "Hägersten-Liljeholmen (Stockholms stad)", TODAY, True, balance, views, report, None, True
    )


def _every_card(fund, ledger, views, malmo, hl) -> Iterator[tuple[str, dict[str, Any]]]:  # noqa: F811
    for builder, what, card in built_cards(fund, ledger, views):
        yield f"{builder}: {what}", card
    for builder, what, card in test_round_cards_schema.built(ledger):
        yield f"{builder}: {what}", card
    for what, card in test_proposal_cards_schema.built():
        yield f"proposals: {what}", card
    report, late = _report(malmo)
    yield (
        "overview: Malmö",
        overview.fitting_card(
            overview.Overview("Malmö stad", TODAY, True, fund, tuple(views), report, late), VIEWER
        ),
    )
    yield "overview: Hägersten-Liljeholmen", overview.fitting_card(_hl_overview(hl, malmo), VIEWER)


def test_no_card_has_an_untitled_action_or_shows_none(fund, ledger, views, malmo, hl) -> None:  # noqa: F811
    """Every action of every card (its buttons, its refresh, a fallback) has a title, and no text
    on a card is Python's None: a client that offers a refresh as a button shows "Uppdatera"."""
    for what, card in _every_card(fund, ledger, views, malmo, hl):
        for action in _actions(card):
            title = action.get("title")
            assert isinstance(title, str) and title.strip() and title != "None", f"{what}: {action}"
        nones = [
            (k, t) for k, t in _said(card) if "None" in t.split() and k != "spacing"
        ]  # "spacing": "None"
        assert not nones, f"{what}: {nones}"


def _blocks(card: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every element and fact of a card's body."""

    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    yield from walk(card.get("body", []))


def test_the_overview_of_a_city_without_a_fund_is_honest_and_valid(hl, malmo) -> None:  # noqa: F811
    """Hägersten-Liljeholmen has six ongoing measures of 2018 and no money: no table of zeros
    and no "Alla insatser 0", but a line saying there is no fund and every year's measures."""
    content = overview.fitting_card(_hl_overview(hl, malmo), VIEWER)
    assert_valid(content, "the overview of a city without a fund")
    assert message_size(content, texts.OVERVIEW_TEXT) < MAX_MESSAGE_BYTES
    body = [e for e in _blocks(content) if e.get("type") == "TextBlock"]
    shown = [e["text"] for e in body]
    assert shown[0] == "Översikt: Hägersten-Liljeholmen (Stockholms stad)"
    assert texts.overview_no_fund(2025) in shown
    assert texts.OVERVIEW_MONEY not in shown and "0 kr" not in shown
    facts = {
        f["title"]: f["value"] for e in _blocks(content) if e.get("type") == "FactSet" for f in e["facts"]
    }
    assert (facts["Pågående"], facts[texts.OVERVIEW_ALL_MEASURES]) == ("6", "6")
    assert texts.OVERVIEW_MEASURES_ALL_YEARS in shown
    assert [a["title"] for a in _actions(content)] == ["Uppdatera", "Uppdatera"]  # the button, the refresh


def test_the_followup_form_with_linked_measures_validates(ledger, views) -> None:  # noqa: F811
    labels = [(v.measure.id, f"{v.measure.title} ({', '.join(v.measure.units)})") for v in views]
    titles = {v.measure.id: v.measure.title for v in views}
    linked = {i: CardNeeds((_need(f"B{i}"),), 1) for i, _ in labels}  # every measure linked: the longest hint
    every = cards.followup_form(labels, period="2025-06", needs=linked, titles=titles)
    assert_valid(every, "the follow-up form, every measure linked to a need")
    assert message_size(every, texts.FOLLOWUP_INTRO) < MAX_MESSAGE_BYTES
    [hint] = [e["text"] for e in every["body"] if str(e.get("text", "")).startswith("Bara för insatser")]
    assert hint.count("(B") == texts.REACHED_SHOWN_ON_FORM and f"och {len(labels) - 3} insatser till" in hint
    first = labels[0][0]
    one = cards.followup_form(labels, period="2025-06", measure_id=first, needs={first: linked[first]})
    assert_valid(one, "the follow-up form, a linked measure chosen")
    assert "Svarar mot behov: Förskollärare, kompetenshöjning (B" in str(one)
    assert [e["id"] for e in one["body"] if e.get("id") == "reached"] == ["reached"]
    other = cards.followup_form(
        labels, period="2025-06", measure_id=labels[1][0], needs={first: linked[first]}
    )
    assert "reached" not in {e.get("id") for e in other["body"]}  # the chosen one answers no need


def test_the_answered_round_card_notes_more_reached_than_the_needs_concern(ledger) -> None:  # noqa: F811
    ids = tuple(sorted(m.id for m in ledger.measures.values() if m.parent_id is None))[:3]
    plan = test_round_cards_schema.ROUND.plan
    measures = card_measures(ledger, test_round_cards_schema.ROUND, ids)
    answer = FollowUp(ids[0], "2025-06", Status.ONGOING, 100, 200, True, "", "Sara", AT, reached=25)
    over = replace(measures[0], answer=answer, needs=CardNeeds((_need("B1", 20),), 0, 20))
    within = replace(measures[1], answer=replace(answer, measure_id=ids[1], reached=20), needs=over.needs)
    unknown = replace(measures[2], answer=replace(answer, measure_id=ids[2]), needs=CardNeeds((_need("B2"),)))
    content = answered_card(plan.period, plan.deadline, [over, within, unknown], complete=True)
    assert_valid(content, "an answered card with more people reached than the needs concern")
    notes = [e["text"] for e in _blocks(content) if e.get("color") == "Attention"]
    assert notes == [texts.reached_over_people(25, 20)]
