"""The June round with a substitute, as the people in the chat see it (issue 22, testers'
findings): Anna is HR for Förskolenämnden and away 9 June–11 July with Per Persson (chef for
GVN) as her substitute. Per's answer through the follow-up form ("jag vill lämna en
uppföljning") is given for Anna, as the handover card's is, and every source says so."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine

from bot.clock import clock_for
from bot.round_services import RoundServices
from core.model import Role
from core.substitutes import Substitution
from storage import people
from storage.people import Person
from storage.unit_of_work import UnitOfWork

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
