"""KSAU's proposals card (dialogs.proposal_cards) against the Adaptive Card 1.5
schema: open, decided, read-only and refused, and with many proposals with long
titles still under our card limit and Teams' message limit."""

from __future__ import annotations

import inspect
import json
from dataclasses import replace
from datetime import UTC, datetime

from core.proposal_sets import ProposalItem, ProposalSet, ProposalSetView, SetDecision
from dialogs import cards, proposal_cards
from dialogs.cards import MAX_CARD_BYTES
from dialogs.proposal_cards import DECIDE_VERB, SHOW_VERB, proposals_card
from tests.manifest.test_cards_schema import MAX_MESSAGE_BYTES, assert_valid, message_size

AT = datetime(2025, 6, 24, 8, 30, tzinfo=UTC)


def _view(count: int, title_length: int = 40) -> ProposalSetView:
    items = tuple(
        ProposalItem(n, 2025, 100 + n, 500 + n, 10_000 * n, n % 2 == 0, 20_000 * n, "2025-06", n)
        for n in range(1, count + 1)
    )
    stem = "Kompetensutveckling för förskollärare och barnskötare i område "
    titles = {
        m: (stem * 4)[: title_length - 4] + f" {m}" for i in items for m in (i.from_measure, i.to_measure)
    }
    return ProposalSetView(ProposalSet(3, 1, "2025-06", 2025, items, "stk", AT), titles, ("ksau-1", "ksau-2"))


def _decided(view: ProposalSetView) -> ProposalSetView:
    numbers = [i.number for i in view.proposal_set.items]
    decision = SetDecision(
        "KSAU 2025-06-24 § 5",
        "ksau-1",
        "Karin Ksau",
        AT,
        tuple(numbers[:-2]),
        ((numbers[-2], "Underlaget har ändrats sedan förslaget skickades."),),
        (numbers[-1],),
    )
    return replace(view, proposal_set=replace(view.proposal_set, decision=decision))


def built():
    four = _view(4)
    yield "open, ksau", proposals_card(four, may_decide=True, viewer="29:ksau-1")
    yield "open, read only", proposals_card(four, may_decide=False)
    yield "decided", proposals_card(_decided(four), may_decide=True, viewer="29:ksau-1")
    yield (
        "decided, refused copy",
        proposals_card(_decided(four), may_decide=True, note="Beslutet registrerades inte."),
    )
    yield "preliminary", proposals_card(replace(four, preliminary=True), may_decide=True, viewer="29:ksau-1")
    yield "300 proposals, long titles", proposals_card(_view(300, 200), may_decide=True, viewer="29:ksau-1")
    yield "300 proposals decided", proposals_card(_decided(_view(300, 200)), may_decide=True)


def test_every_proposals_card_builder_is_checked() -> None:
    found = {
        name
        for name, fn in inspect.getmembers(proposal_cards, inspect.isfunction)
        if fn.__module__ == proposal_cards.__name__
        and not name.startswith("_")
        and inspect.signature(fn).return_annotation in (cards.Card, "Card")
    }
    assert found == {"proposals_card"}


def test_every_proposals_card_validates_and_fits() -> None:
    for what, content in built():
        assert_valid(content, what)
        assert (
            message_size(content, "Omfördelningsförslagen efter uppföljningen juni 2025") < MAX_MESSAGE_BYTES
        )
        assert len(json.dumps(content, ensure_ascii=False).encode()) <= MAX_CARD_BYTES
        assert content["version"] == "1.5"
        if "refresh" in content:
            data = {"period": "2025-06"} if what == "preliminary" else {"set_id": 3}
            assert content["refresh"]["action"] == {
                "type": "Action.Execute",
                "verb": SHOW_VERB,
                "title": "Uppdatera",
                "data": data,
            }
            assert content["refresh"]["userIds"] == ["29:ksau-1"]


def test_a_preliminary_card_has_nothing_to_decide_from() -> None:
    content = proposals_card(replace(_view(4), preliminary=True), may_decide=True, viewer="29:ksau-1")
    text = json.dumps(content, ensure_ascii=False)
    assert "Preliminära förslag" in text and "Input." not in text and "actions" not in content


def test_the_open_card_ticks_each_proposal_and_registers_with_a_fallback() -> None:
    content = proposals_card(_view(4), may_decide=True, viewer="29:ksau-1")
    toggles = [
        i
        for c in content["body"]
        if c["type"] == "Container"
        for i in c["items"]
        if i["type"] == "Input.Toggle"
    ]
    assert [t["id"] for t in toggles] == ["p1", "p2", "p3", "p4"]
    assert {(t["valueOn"], t["valueOff"]) for t in toggles} == {("true", "false")}
    [decision] = [b for b in content["body"] if b.get("id") == "decision"]
    assert decision["type"] == "Input.Text" and "KSAU 2025-06-24 § 5" in decision["placeholder"]
    [action] = content["actions"]
    assert (action["type"], action["verb"], action["title"]) == (
        "Action.Execute",
        DECIDE_VERB,
        "Registrera beslut",
    )
    assert (
        action["fallback"]["type"] == "Action.Submit" and action["fallback"]["data"]["action"] == DECIDE_VERB
    )
    assert content["refresh"]["userIds"] == ["29:ksau-1"]
    assert "Input.Toggle" not in str(proposals_card(_view(4), may_decide=False))


def test_many_proposals_show_as_many_as_fit_and_say_how_many_more() -> None:
    content = proposals_card(_view(300, 200), may_decide=True)
    shown = [c for c in content["body"] if c["type"] == "Container"]
    assert 20 < len(shown) < 300
    assert f"{300 - len(shown)} förslag till får inte plats" in str(content)


def test_the_decided_card_says_who_decided_and_each_proposals_fate() -> None:
    content = proposals_card(_decided(_view(4)), may_decide=True)
    text = str(content)
    assert "Beslutat KSAU 2025-06-24 § 5: 2 av 4 förslag, registrerat av Karin Ksau 2025-06-24 10:30" in text
    assert text.count("Registrerat") == 2 and "Underlaget har ändrats" in text and "Inte beslutat" in text
    assert "actions" not in content and "Input." not in text
