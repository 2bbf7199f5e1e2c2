"""Strangers' findings on the June round card (issue 21): people reached is refused above
100 000 (no Swedish municipality employs more; "1000000" was kept), and more people reached
than the needs the measure answers concern is kept but noted on the answered card. Through the
real Teams handler, on 5 June 2025 with the June round open and HR for Förskolenämnden; FSKN-1's
link to "Stärka formell kompetens" says it is to reach 10 people."""

from __future__ import annotations

from datetime import date

import pytest

from bot.clock import clock_for
from bot.needs_services import NeedServices
from bot.round_services import RoundServices
from core.model import Role
from dialogs import texts
from dialogs.round_cards import answered_card, card_measures
from tests.dialogs.conftest import counts
from tests.dialogs.test_round_reached import HR, JUNE, Teams, _answer

FORMELL = "Stärka formell kompetens"


@pytest.fixture
def opened(example_engine, services) -> tuple[int, int]:
    """(the measure's id, the round's id)."""
    services.grant_role(None, HR, Role.HR, "FSKN")
    NeedServices(example_engine, org="malmo", clock=clock_for(JUNE)).link(
        None, "FSKN-1", FORMELL, author="Stadskontoret", people=10
    )
    measure = next(m.id for m in services.ledger().measures.values() if m.title == FORMELL)
    return measure, RoundServices(example_engine, org="malmo").open(None, "2025-06").id


def test_the_round_card_refuses_more_people_than_any_municipality_employs(
    opened, example_engine, services
) -> None:
    measure, round_id = opened
    before = counts(services)
    refused = Teams(example_engine).send(_answer(round_id, measure, reached="1000000"))
    assert FORMELL in refused and "högst 100 000 personer" in refused
    assert counts(services) == before


def test_more_reached_than_the_needs_concern_is_kept_and_noted_on_the_answered_card(
    opened, example_engine, services
) -> None:
    measure, round_id = opened
    said = Teams(example_engine).send(_answer(round_id, measure, reached="12"))
    assert "sparat uppföljningen juni 2025" in said
    rounds = RoundServices(example_engine, org="malmo")
    mine = rounds.my_card(HR, date(2025, 6, 10), round_id)
    assert mine.needs[measure].people == 10
    plan = mine.round.plan
    shown = card_measures(mine.ledger, mine.round, mine.measure_ids, mine.needs)
    content = str(answered_card(plan.period, plan.deadline, shown, complete=False))
    assert texts.reached_over_people(12, 10) in content
    assert content.count("nådda är fler än") == 1  # only the measure that went beyond its needs
