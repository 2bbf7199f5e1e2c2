"""Every card of the follow-up round against the Adaptive Card 1.5 schema,
and the largest realistic ones under Teams' message limit: a card for
someone answering for every measure of the 2025 example, with long notes."""

from __future__ import annotations

import inspect
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import get_type_hints

from core.model import FollowUp, Status
from core.needs import NeedEntry, NeedKind, Period, Recruitment
from core.rounds import CardNeeds, Round, plan_round
from dialogs import cards, round_cards
from dialogs.round_cards import (
    EscalationLine,
    EscalationSummary,
    answered_card,
    card_measures,
    escalation_card,
    escalation_cards,
    prompt_card,
)
from tests.manifest.test_cards_schema import (  # noqa: F401,F811 - fixtures
    MAX_MESSAGE_BYTES,
    assert_valid,
    ledger,
    malmo,
    message_size,
    services,
)

ROUND = Round(1, plan_round("2025-06"))
AT = datetime(2025, 6, 10, tzinfo=UTC)


def _all_measures(ledger, note_length: int):  # noqa: F811
    ids = tuple(sorted(m.id for m in ledger.measures.values() if m.parent_id is None))
    measures = card_measures(ledger, ROUND, ids)
    note = ("Utbildningen pågår enligt plan; nästa grupp startar i september. " * 200)[:note_length]
    answered = [
        replace(m, answer=FollowUp(m.id, "2025-06", Status.ONGOING, 100_000, 900_000, True, note, "Sara", AT))
        for m in measures
    ]
    return measures, answered


def built(ledger):  # noqa: F811
    fresh, answered = _all_measures(ledger, 300)
    plan = ROUND.plan
    yield "prompt_card", "one measure", prompt_card(1, plan.period, plan.deadline, fresh[:1])
    yield "prompt_card", "every measure", prompt_card(1, plan.period, plan.deadline, fresh)
    yield (
        "prompt_card",
        "a reminder, answered, possibly repeated",
        prompt_card(1, plan.period, plan.deadline, answered[:12], reminder=True, possibly_repeated=True),
    )
    yield (  # issue 20: Action.Execute with its Action.Submit fallback, refreshing itself for its reader
        "prompt_card",
        "a reminder that refreshes itself",
        prompt_card(1, plan.period, plan.deadline, fresh, reminder=True, viewer="29:reader"),
    )
    yield "answered_card", "complete", answered_card(plan.period, plan.deadline, answered[:12], complete=True)
    yield (
        "answered_card",
        "refreshing itself",
        answered_card(plan.period, plan.deadline, answered, complete=True, round_id=1, viewer="29:reader"),
    )
    yield "answered_card", "partly", answered_card(plan.period, plan.deadline, fresh[:5], complete=False)
    summary = EscalationSummary(plan.deadline, 45, 20, 25, 13, True, tuple(m.title for m in fresh[:3]))
    lines = [EscalationLine(f"N{i}", f"Nämnd {i}", i % 3, i % 2, i % 4) for i in range(13)]
    yield "escalation_card", "13 committees", escalation_card(1, plan.period, summary, lines)
    yield "escalation_card", "part 2 of 3", escalation_card(1, plan.period, summary, lines, part=2, parts=3)
    yield "escalation_card", "part 3 of 3", escalation_card(1, plan.period, summary, lines, part=3, parts=3)


def test_every_round_card_builder_is_checked(ledger) -> None:  # noqa: F811
    found = {
        name
        for name, fn in inspect.getmembers(round_cards, inspect.isfunction)
        if fn.__module__ == round_cards.__name__
        and not name.startswith("_")
        and get_type_hints(fn).get("return") == cards.Card
    }
    called = {builder for builder, _, _ in built(ledger)}
    assert found - called == set(), f"add these card builders to {Path(__file__).name}"


def test_every_round_card_validates_against_adaptive_cards_1_5(ledger) -> None:  # noqa: F811
    count = 0
    for builder, what, content in built(ledger):
        assert_valid(content, f"{builder}, {what}")
        count += 1
    assert count == 10  # the proposals' card: tests/manifest/test_proposal_cards_schema.py


def test_a_card_with_every_measure_and_long_answers_stays_under_80_kb(ledger) -> None:  # noqa: F811
    fresh, answered = _all_measures(ledger, 1000)
    plan = ROUND.plan
    # Half the measures answered with long notes, half not: the unanswered come first.
    mixed = answered[: len(answered) // 2] + fresh[len(fresh) // 2 :]
    content = prompt_card(1, plan.period, plan.deadline, mixed)
    assert_valid(content, "every measure, half answered with 1 000-character notes")
    assert message_size(content, "Dags för uppföljningen juni 2025") < MAX_MESSAGE_BYTES
    shown = [c for c in content["body"] if c.get("type") == "Container"]
    assert 0 < len(shown) < len(mixed)
    first_inputs = [i for i in shown[0]["items"] if i.get("id", "").endswith("_spent")]
    assert first_inputs and "value" not in first_inputs[0]  # an unanswered measure first
    assert f"{len(mixed) - len(shown)} insatser till" in content["body"][-1]["text"]
    assert plan.deadline == date(2025, 6, 19)
    done = answered_card(plan.period, plan.deadline, answered, complete=True)
    assert_valid(done, "every measure answered with 1 000-character notes")


def test_a_card_with_every_measure_linked_to_needs_stays_under_80_kb(ledger) -> None:  # noqa: F811
    """Issue 21: every measure linked to competence needs with the longest names, answered with
    people reached and 1 000-character notes: the card is valid, under the message limit, and
    every measure shown asks how many it has reached, with its saved number."""
    need = NeedEntry(
        "B1",
        "FSKN",
        "Förskollärare med särskild inriktning " * 6,
        NeedKind.UPSKILLING,
        "Formell kompetens",
        Recruitment.SHORTAGE,
        Period(2024, 2026),
        "Kompetensförsörjningsplan",
        date(2024, 3, 1),
        "HR",
        AT,
    )
    needs = CardNeeds(tuple(replace(need, key=f"B{i}") for i in range(5)), 2)
    fresh, answered = _all_measures(ledger, 1000)
    linked = [replace(m, needs=needs, answer=replace(m.answer, reached=1_234)) for m in answered]
    plan = ROUND.plan
    half = len(linked) // 2
    mixed = linked[:half] + [replace(m, needs=needs) for m in fresh[half:]]  # unanswered shown first
    content = prompt_card(1, plan.period, plan.deadline, mixed)
    assert_valid(content, "every measure linked to needs, half answered with people reached")
    assert message_size(content, "Dags för uppföljningen juni 2025") < MAX_MESSAGE_BYTES
    shown = [c for c in content["body"] if c.get("type") == "Container"]
    assert 0 < len(shown) < len(mixed)
    for container in shown:
        inputs = {i["id"].split("_")[1]: i for i in container["items"] if "id" in i}
        lines = [i["text"] for i in container["items"] if i.get("type") == "TextBlock"]
        answered_here = "value" in inputs["status"]  # the saved number filled in, or empty
        assert inputs["reached"].get("value") == ("1234" if answered_here else None)
        assert any(t.startswith("Svarar mot behov:") and t.endswith("och 4 behov till.") for t in lines)
    few = prompt_card(1, plan.period, plan.deadline, linked[:3])  # answered: the saved number filled in
    assert [
        i["value"] for c in few["body"] for i in c.get("items", []) if i.get("id", "").endswith("_reached")
    ] == ["1234"] * 3
    done = answered_card(plan.period, plan.deadline, linked, complete=True)
    assert_valid(done, "every measure answered with people reached")
    assert "1 234 personer" in str(done)


def _committees(count: int, name_length: int) -> list[EscalationLine]:
    """Synthetic committees with names of `name_length` characters (Swedish letters in them)."""
    stem = "Kompetensförsörjningsnämnden för område "
    return [
        EscalationLine(f"N{i:03d}", (stem * 10)[: name_length - 4] + f" {i:03d}", 12, 7, 3)
        for i in range(count)
    ]


def test_290_committees_fit_one_escalation_message_under_60000_bytes() -> None:
    """Issue 17 item 14: every committee with missing answers is on the escalation,
    one line each, and 290 committees with names as long as Malmö's longest
    ("Gymnasie- och vuxenutbildningsnämnden", 37 characters) and longer (60) fit
    one message under our 60 000-byte card limit: nothing is cut off."""
    plan = ROUND.plan
    summary = EscalationSummary(plan.deadline, 290 * 19, 290 * 12, 290 * 7, 290, True, ("Min insats",) * 5)
    for length in (37, 60):
        lines = _committees(290, length)
        parts = escalation_cards(1, plan.period, summary, lines)
        assert len(parts) == 1, length
        text = str(parts[0])
        assert message_size(parts[0], "Uppföljningen juni 2025 har passerat sista dag") < 60_000
        assert all(f"({line.code})" in text for line in lines)
        assert "… och" not in text and "till." not in text
        assert_valid(parts[0], f"290 committees, names of {length} characters")


def test_an_escalation_that_cannot_fit_is_split_with_every_committee_once() -> None:
    """Issue 17 item 14: only when 290 committees would not fit (names of 200
    characters, the longest a unit name may be) the escalation is split into
    parts, each under 60 000 bytes, every committee on exactly one part and the
    "Visa alla" button on the last."""
    plan = ROUND.plan
    summary = EscalationSummary(plan.deadline, 290 * 19, 290 * 12, 290 * 7, 290, True)
    lines = _committees(290, 200)
    parts = escalation_cards(1, plan.period, summary, lines)
    assert len(parts) > 1
    for number, part in enumerate(parts, start=1):
        assert message_size(part, "Uppföljningen juni 2025 har passerat sista dag") < 60_000
        assert f"Del {number} av {len(parts)}." in str(part)
        assert ("actions" in part) == (number == len(parts))
    seen = [line.code for line in lines for part in parts if f"({line.code})" in str(part)]
    assert seen == [line.code for line in lines]  # each once, in order
    assert "Sista dag var" in str(parts[0]) and all("Sista dag var" not in str(p) for p in parts[1:])
