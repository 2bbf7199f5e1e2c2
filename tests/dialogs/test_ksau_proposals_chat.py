"""Issue 20, KSAU's proposals in the chat: the set is stored (and frozen) only when it is
sent to KSAU, at the round's close or on stadskontoret's "skicka omfördelningsförslagen";
before that the proposals show as they are now, preliminary, with nothing to decide. Closing
a round from chat sends one card to each ksau member, or says why none can go; a send names
the latest closed round; KSAU's "omfördela …" gets the card; a decision's time reads back
in UTC whatever the machine's time zone."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from microsoft_agents.testing import TestAdapter
from sqlalchemy import select

from bot.round_services import RoundServices
from bot.teams_bot import KompetensBot
from core.entries import ReallocationEntry
from core.model import Role, parse_decision
from dialogs import texts
from storage.tables import ProposalSetRow, RoundSendRow, table
from tests.dialogs.conftest import JsonStorage
from tests.dialogs.test_round_turns import turn

JUNE = date(2025, 6, 24)
OFFICE, KARIN, KALLE = "aad-stk", "aad-karin", "aad-kalle"


_ADAPTERS: dict[int, TestAdapter] = {}


def _teams(engine, user: str, text: str) -> list[dict[str, Any]]:
    """`user` says `text` through the real Teams handler: each reply as {"text", "cards"}."""
    adapter = _ADAPTERS.setdefault(id(engine), TestAdapter())  # one: its activity ids never repeat
    activity = adapter.create_activity(text)
    activity.from_property.id = activity.from_property.aad_object_id = user
    replies = turn(KompetensBot(engine, JsonStorage(), today=JUNE), adapter, activity)
    return [{"text": r.text or "", "cards": [a.content for a in r.attachments or []]} for r in replies]


def _said(engine, user: str, text: str) -> str:
    return "\n".join(
        r["text"] + json.dumps(r["cards"], ensure_ascii=False) for r in _teams(engine, user, text)
    )


def _rows(engine, row) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(select(table(row)).order_by(table(row).c.id)).all()


def _proposal_sends(engine) -> list[str]:
    return sorted(r.recipient for r in _rows(engine, RoundSendRow) if r.kind == "proposals")


def _rounds(engine, clock=None) -> RoundServices:
    at = datetime(2025, 6, 24, 8, 30, tzinfo=UTC)
    return RoundServices(engine, org="malmo", clock=clock or (lambda: at))


def _close_from_chat(chat) -> str:
    assert "Stänga uppföljningen juni 2025?" in chat.said("stäng junirundan")
    return chat.said("ja")


@pytest.fixture
def office(example_engine, services, chat_as):
    services.grant_role(None, OFFICE, Role.CITY_OFFICE, None)
    _rounds(example_engine).open(None, "2025-06")
    return chat_as(OFFICE, today=JUNE)


def test_closing_the_round_from_chat_sends_one_card_to_each_ksau_member(office, example_engine, services):
    for member in (KARIN, KALLE):
        services.grant_role(None, member, Role.KSAU, None)
    said = _close_from_chat(office)
    assert "Uppföljningen juni 2025 är stängd" in said
    assert "(1 förslag) skickas nu till 2 av 2 med rollen ksau" in said
    assert _proposal_sends(example_engine) == [KALLE, KARIN]
    assert len(_rows(example_engine, ProposalSetRow)) == 1


def test_closing_the_round_from_chat_without_a_ksau_member_says_why_none_went(office, example_engine):
    said = _close_from_chat(office)
    assert "Uppföljningen juni 2025 är stängd" in said
    assert "Ingen har rollen ksau, så förslagen kan inte skickas" in said
    assert _proposal_sends(example_engine) == []


def test_asked_before_the_close_the_proposals_are_preliminary_and_nothing_is_stored(
    office, example_engine, chat_as
) -> None:
    chat_as(KARIN, Role.KSAU, today=JUNE)
    [content] = [c for r in _teams(example_engine, KARIN, "vilka förslag finns?") for c in r["cards"]]
    shown = json.dumps(content, ensure_ascii=False)
    assert texts.PROPOSALS_PRELIMINARY in shown and "660 000 kr" in shown
    assert "Input." not in shown and "actions" not in content  # nothing to decide from
    assert content["refresh"]["action"]["data"] == {"period": "2025-06"}
    # "hur går uppföljningen" shows the same, and stores nothing either.
    assert texts.PROPOSALS_PRELIMINARY in _said(example_engine, KARIN, "hur går uppföljningen")
    assert _rows(example_engine, ProposalSetRow) == []
    # Stadskontoret cannot send an open round's proposals: they go with the close.
    refused = _said(example_engine, OFFICE, "skicka omfördelningsförslagen till KSAU")
    assert "Ingen uppföljningsomgång är stängd ännu" in refused and "stäng rundan" in refused
    assert _rows(example_engine, ProposalSetRow) == [] and _proposal_sends(example_engine) == []


def test_a_send_names_the_latest_closed_round_not_a_later_one(office, example_engine, services) -> None:
    services.grant_role(None, KARIN, Role.KSAU, None)
    _close_from_chat(office)
    _rounds(example_engine).open(None, "2025-09")  # planned: opens later
    said = _said(example_engine, OFFICE, "skicka omfördelningsförslagen till KSAU")
    assert "Omfördelningsförslagen efter uppföljningen juni 2025 är redan skickade" in said
    assert [r.period for r in _rows(example_engine, ProposalSetRow)] == ["2025-06"]
    with pytest.raises(Exception, match="september 2025 är inte stängd"):
        _rounds(example_engine).send_proposals(None, "2025-09")


def test_ksau_asking_to_reallocate_gets_the_proposals_card(office, chat_as) -> None:
    ksau = chat_as(KARIN, Role.KSAU, today=JUNE)
    replies = ksau.say("omfördela 660 000 kr från 15 till 1 enligt KSAU 2025-06-24 § 5")
    assert replies[0].text == texts.PROPOSALS_REALLOCATE_HERE
    [card] = [c for r in replies for c in r.cards]
    assert "660 000 kr" in json.dumps(card, ensure_ascii=False)
    assert "Pengar flyttas" not in "".join(r.text for r in replies)
    other = office.say("omfördela 660 000 kr från 15 till 1 enligt KSAU 2025-06-24 § 5")
    assert [r.text for r in other] == [texts.REALLOCATION_INFO]
    assert "kortet med omfördelningsförslagen" in texts.REALLOCATION_INFO


@pytest.fixture
def stockholm_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's time zone Swedish (a naive time read back would be taken as local)."""
    monkeypatch.setenv("TZ", "Europe/Stockholm")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_decision_time_reads_back_in_utc_and_is_the_entries_time(
    office, example_engine, services, stockholm_time
) -> None:
    services.grant_role(None, KARIN, Role.KSAU, None)
    _close_from_chat(office)
    start = datetime(2025, 6, 24, 8, 30, tzinfo=UTC)
    calls: list[datetime] = []

    def ticking() -> datetime:  # each call a second later
        calls.append(start + timedelta(seconds=len(calls)))
        return calls[-1]

    rounds = _rounds(example_engine, ticking)
    view = rounds.proposals(KARIN)
    decision = parse_decision("KSAU 2025-06-24 § 5")
    rounds.decide_proposals(KARIN, view.proposal_set.id, {1}, decision, "Karin Ksau")
    read = _rounds(example_engine).proposal_set(KARIN, view.proposal_set.id).proposal_set
    assert read.decision is not None and read.decision.at.utcoffset() == timedelta(0)
    assert read.created_at.utcoffset() == timedelta(0)
    said = texts.proposals_decided(read.decision, len(read.items))
    assert said.endswith("registrerat av Karin Ksau 2025-06-24 10:30")  # 08:30 UTC, in Swedish time
    [entry] = [e for e in services.ledger().entries if isinstance(e, ReallocationEntry)]
    assert entry.at == read.decision.at


def test_proposals_count_only_the_follow_ups_reported_by_the_bots_date(example_engine, services) -> None:
    """With the bot's date set back (the demo's 5 June), the example's follow-ups of 10-18 June
    are not answers yet: the round's status showed no proposal while KSAU's card showed one."""
    from bot.clock import clock_for
    from core.errors import NotFound

    services.grant_role(None, KARIN, Role.KSAU, None)
    RoundServices(example_engine, org="malmo", clock=clock_for(date(2025, 6, 2))).open(None, "2025-06")
    early = RoundServices(example_engine, org="malmo", clock=clock_for(date(2025, 6, 5)))
    with pytest.raises(NotFound):
        early.proposals(KARIN)  # none yet, as the status says
    assert early.report(KARIN, "2025-06", date(2025, 6, 5)).proposals == ()
    later = RoundServices(example_engine, org="malmo", clock=clock_for(date(2025, 6, 24)))
    assert [i.amount for i in later.proposals(KARIN).proposal_set.items] == [660_000]
