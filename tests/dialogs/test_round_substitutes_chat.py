"""The June round with a substitute, as the people in the chat see it (issue 22, testers'
findings): Anna is HR for Förskolenämnden and away 9 June–11 July with Per Persson (chef for
GVN) as her substitute. Per's answer through the follow-up form ("jag vill lämna en
uppföljning") is given for Anna, as the handover card's is, and every source says so."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from microsoft_agents.testing import TestAdapter
from sqlalchemy.engine import Engine

from bot.clock import clock_for
from bot.round_services import RoundServices
from bot.teams_bot import KompetensBot
from core.model import FollowUp, Role, Status
from core.substitutes import Substitution, SubstitutionEnded
from dialogs.round_cards import CardMeasure, prompt_card
from storage import people
from storage.people import Person
from storage.unit_of_work import UnitOfWork
from tests.dialogs.conftest import JsonStorage, counts
from tests.dialogs.test_round_turns import card_of, submit, turn

ANNA, PER = "aad-anna", "aad-per"
AWAY_FROM, BACK, TENTH = date(2025, 6, 9), date(2025, 7, 11), date(2025, 6, 10)


@pytest.fixture
def june(example_engine: Engine, services) -> Engine:
    """Anna HR for FSKN, Per chef for GVN, both known by name; Anna away 9 June–11 July with Per
    as her substitute; the June round open."""
    services.grant_role(None, ANNA, Role.HR, "FSKN")
    services.grant_role(None, PER, Role.CHEF, "GVN")
    with UnitOfWork(example_engine, write=True) as repo:
        known = [Person(ANNA, "Anna Andersson"), Person(PER, "Per Persson")]
        people.remember(repo.session.connection(), repo.org_id, known, "test")
        repo.add_substitution(Substitution(ANNA, PER, AWAY_FROM, BACK, by=ANNA), "Anna Andersson")
        repo.session.commit()
    RoundServices(example_engine, org="malmo", clock=clock_for(date(2025, 6, 2))).open(None, "2025-06")
    return example_engine


def _fskn_measure(services) -> tuple[int, str]:
    ledger = services.ledger()
    answered = {f.measure_id for f in ledger.followups if f.period == "2025-06"}
    m = min(
        (m for m in ledger.measures.values() if m.units == ("FSKN",) and m.id not in answered),
        key=lambda m: m.id,
    )
    return m.id, m.title


def test_a_substitutes_answer_through_the_followup_form_is_given_for_the_absent_person(
    june: Engine, chat_as, services
) -> None:
    mid, title = _fskn_measure(services)
    chat = chat_as(PER, name="Per Persson", today=TENTH)
    chat.say("jag vill lämna en uppföljning")
    for answer in (title, "", "Pågående", "100 000 kr", "300 000 kr", "ja", "-"):
        chat.say(answer)
    replies = chat.say("ja")
    receipt = "\n".join(r.text + r.card_text() for r in replies)
    assert "Rapporterad av Per Persson för Anna Andersson." in receipt, receipt
    latest = max(services.ledger().followups, key=lambda f: f.seq)
    assert (
        latest.measure_id,
        latest.period,
        latest.author,
        latest.author_id,
        latest.for_id,
        latest.for_name,
    ) == (
        mid,
        "2025-06",
        "Per Persson",
        PER,
        ANNA,
        "Anna Andersson",
    )
    # the round's report (followup status, its JSON, the export) says it was given for her
    report = RoundServices(june, org="malmo", clock=clock_for(TENTH)).report(None, "2025-06", TENTH)
    [shown] = [m for m in report.measures if m.measure_id == mid]
    assert (shown.given_by, shown.for_id) == ("Per Persson för Anna Andersson", ANNA)


# --- whose measures the card asks about, and how many are left ----------------------------------

DEADLINE = date(2025, 6, 19)


def _card_text(card: dict[str, Any]) -> str:
    return " ".join(i.get("text", "") for i in card["body"] if i.get("type") == "TextBlock")


def _measures(n: int, answered: int = 0, for_name: str = "") -> list[CardMeasure]:
    answer = FollowUp(
        1, "2025-06", Status.ONGOING, 1, 2, True, "", "Olle Olsson", datetime(2025, 6, 5, tzinfo=UTC)
    )
    return [
        CardMeasure(i, f"Insats {i}", ("FSKN",), 1_000, answer if i <= answered else None, for_name=for_name)
        for i in range(1, n + 1)
    ]


def test_a_handover_card_asks_about_the_absent_persons_measures_not_yours() -> None:
    card = prompt_card(
        7, "2025-06", DEADLINE, _measures(4, for_name="Anna Andersson"), handover="Anna Andersson"
    )
    text = _card_text(card)
    assert "Du ersätter Anna Andersson: 4 insatser väntar på svar." in text
    assert "Hur går det för Anna Anderssons 4 insatser?" in text and "dina" not in text
    # a name ending in s takes no genitive s; one measure is "insats"
    lars = prompt_card(7, "2025-06", DEADLINE, _measures(1, for_name="Lars"), handover="Lars")
    assert "Hur går det för Lars insats?" in _card_text(lars)


def test_a_card_with_own_and_handed_over_measures_names_both() -> None:
    mixed = _measures(2) + [replace(m, id=m.id + 10) for m in _measures(3, for_name="Anna Andersson")]
    text = _card_text(prompt_card(7, "2025-06", DEADLINE, mixed))
    assert "Hur går det för dina 2 insatser och Anna Anderssons 3 insatser?" in text


def test_a_reminder_counts_only_the_measures_left_unanswered() -> None:
    """Olle's reminder said "dina 4 insatser" though two were answered."""
    text = _card_text(prompt_card(7, "2025-06", DEADLINE, _measures(4, answered=2), reminder=True))
    assert (
        "Hur går det för dina 2 insatser som saknar svar? 2 av kortets 4 insatser är redan besvarade." in text
    )
    assert "dina 4 insatser" not in text
    fresh = _card_text(prompt_card(7, "2025-06", DEADLINE, _measures(4)))
    assert "Hur går det för dina 4 insatser? Fyll i" in fresh


# --- Anna back early: Per's handover card is hers again -------------------------------------------


def _as_per(bot: KompetensBot, adapter: TestAdapter, message: str | dict[str, Any]) -> list[str]:
    activity = adapter.create_activity(message) if isinstance(message, str) else submit(adapter, message)
    activity.from_property.id = PER
    activity.from_property.name = "Per Persson"
    activity.from_property.aad_object_id = PER
    return [
        json.dumps(card_of(r), ensure_ascii=False) if r.attachments else r.text or ""
        for r in turn(bot, adapter, activity)
    ]


def test_a_handover_card_answered_after_the_absent_person_is_back_says_she_is_back(
    june: Engine, services
) -> None:
    """Anna ends her absence early (back 16 June): Per's handover card, answered on 17 June, is
    refused saying she is back and answers herself, not that the measures are not on his card;
    nothing is written. (Accepting it would let him answer over her: his right to follow up her
    committee ended with the absence.)"""
    adapter = TestAdapter()
    [card] = _as_per(KompetensBot(june, JsonStorage(), today=TENTH), adapter, "svara på uppföljningen")
    assert "Anna Anderssons" in card
    ids = sorted(int(k.split("_")[0][1:]) for k in _ids(json.loads(card)))
    with UnitOfWork(june, write=True) as repo:
        [made] = repo.substitutions()
        repo.end_substitution(SubstitutionEnded(made.seq, date(2025, 6, 16), by=ANNA), "Anna Andersson")
        repo.session.commit()
    values: dict[str, Any] = {
        "action": "round_answer",
        "round_id": json.loads(card)["actions"][0]["data"]["round_id"],
    }
    for mid in ids:
        values |= {
            f"m{mid}_status": "Pågående",
            f"m{mid}_spent": "10 000 kr",
            f"m{mid}_forecast": "50 000 kr",
        }
    before = counts(services)
    said = _as_per(KompetensBot(june, JsonStorage(), today=date(2025, 6, 17)), adapter, values)
    assert said == [
        "Svaret sparades inte. Anna Andersson är tillbaka sedan 16 juni 2025 och svarar själv för sina "
        "insatser i uppföljningen, så du svarar inte längre för dem."
    ]
    assert counts(services) == before


def _ids(card: dict[str, Any]) -> list[str]:
    """The input ids of a round card."""
    found = []
    for item in card["body"]:
        found += [i["id"] for i in item.get("items", []) if i.get("id", "").endswith("_status")]
    return found


# --- a substitute asking to submit a measure for the absent person's committee -------------------


def test_a_substitute_asking_for_a_new_measure_for_her_committee_is_told_about_that_committee(
    june: Engine, chat_as
) -> None:
    """Per (chef for GVN) standing in for Anna of FSKN typed "ny insats för fskn" and was told he
    may not submit measures for GVN: the refusal names FSKN, and that standing in gives no right."""
    said = chat_as(PER, name="Per Persson", today=TENTH).said("ny insats för fskn")
    assert "Du har inte behörighet att lämna in insatser för FSKN." in said, said
    assert "för GVN" not in said
    assert "Att du är ersättare för FSKN ger ingen rätt att lämna in insatser där" in said


def test_a_substitute_who_may_submit_elsewhere_is_told_the_committee_is_not_his(
    june: Engine, chat_as, services
) -> None:
    services.grant_role(None, PER, Role.HR, "GVN")
    said = chat_as(PER, name="Per Persson", today=TENTH).said("ny insats för fskn")
    assert "Förskolenämnden (FSKN) är inte en av dina nämnder." in said, said
    assert "Att du är ersättare för FSKN ger ingen rätt att lämna in insatser där" in said
