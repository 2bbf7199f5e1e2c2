"""Issue 17 items 4, 5 and 6 in the core: implausible amounts, a closed round's
period, and figures "hittills" on the bot's date."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from core import commands
from core.balances import fund_balance, measure_balance
from core.errors import PermissionDenied, RuleViolation
from core.model import ADMIN, FollowUp, Principal, Role, RoleGrant, Status
from core.round_answers import Answer, answers_to_followups
from core.rounds import Round, plan_round
from core.rules.followup import implausible_amounts, known_on
from tests.unit.builders import AT, Book, reported_at

CLOSED_AT = datetime(2025, 6, 24, 9, 0, tzinfo=UTC)


def _book() -> tuple[Book, int, int]:
    book = Book().fund(2025, 20_000_000).allocate("GVN", 10_000_000).allocate("SBN", 3_000_000)
    book.allocate("TN", 3_000_000)
    single = book.measure("Yrkeslärarsatsning", "GVN")
    book.grant(single, "GVN", 4_000_000)
    shared = book.measure("Malmö Lär", "SBN", "TN")
    book.grant(shared, "SBN", 1_000_000).grant(shared, "TN", 2_000_000)
    return book, single, shared


def _followup(measure_id: int, spent: int, forecast: int, period: str = "2025-06", **kw: object) -> FollowUp:
    fields: dict[str, Any] = dict(
        status=Status.ONGOING, usable_as_planned=True, note="", author="hr", at=reported_at(period)
    )
    fields.update(kw)
    return FollowUp(measure_id, period, spent=spent, forecast=forecast, **fields)


def _closed_june() -> Round:
    return Round(1, plan_round("2025-06"), "admin", CLOSED_AT)


# --- item 4 -----------------------------------------------------------------------


def test_a_spend_over_twice_the_measures_money_is_refused_naming_both_amounts() -> None:
    """Issue 17 item 4: 1 000 000 000 000 kr spent on a 4 mkr measure is not
    saved without a confirmation; the refusal names the amount and the money."""
    book, single, _ = _book()
    with pytest.raises(RuleViolation) as refused:
        commands.report_followup(book.ledger, ADMIN, _followup(single, 10**12, 10**12))
    assert refused.value.errors[0].code == "implausible_amount"
    assert "Utfallet 1 000 000 000 000 kr är mer än dubbelt så mycket" in refused.value.message
    assert "4 000 000 kr" in refused.value.message
    assert "Prognosen 1 000 000 000 000 kr" in refused.value.message


def test_a_confirmed_implausible_amount_is_saved_and_twice_the_money_needs_no_confirmation() -> None:
    """Issue 17 item 4: the confirmation lets it through; up to twice the money is plausible."""
    book, single, _ = _book()
    stored = commands.report_followup(
        book.ledger, ADMIN, _followup(single, 9_000_000, 9_000_000), amount_confirmed=True
    )
    assert stored.spent == 9_000_000
    assert implausible_amounts(book.ledger, _followup(single, 8_000_000, 8_000_000)) == []
    [problem] = implausible_amounts(book.ledger, _followup(single, 1_000_000, 8_000_001))
    assert problem.field == "prognos"


def test_a_shared_measure_is_measured_by_each_units_share() -> None:
    """Issue 17 item 4: for a shared measure the limit is twice a unit's share
    (SBN 1 mkr, TN 2 mkr of 3 mkr): the refusal names the share."""
    book, _, shared = _book()
    assert implausible_amounts(book.ledger, _followup(shared, 6_000_000, 6_000_000)) == []
    [problem] = implausible_amounts(book.ledger, _followup(shared, 0, 6_000_003))
    assert "SBN:s andel är 1 000 000 kr av 3 000 000 kr" in problem.message
    assert "SBN:s del av prognosen blir 2 000 001 kr" in problem.message


def test_a_part_without_money_of_its_own_is_measured_by_its_parents_money() -> None:
    """Issue 17 item 4: a sub-measure (no grant of its own) against its parent's money."""
    book, single, _ = _book()
    part = book.measure("Del 1", "GVN", parent_id=single)
    assert implausible_amounts(book.ledger, _followup(part, 8_000_000, 8_000_000)) == []
    assert implausible_amounts(book.ledger, _followup(part, 8_000_001, 8_000_001))


# --- item 5 -----------------------------------------------------------------------


def test_a_closed_rounds_period_takes_no_new_followups() -> None:
    """Issue 17 item 5: after `followup close --period 2025-06` no follow-up for
    2025-06 is taken; other periods and periods without a round are."""
    book, single, _ = _book()
    rounds = (_closed_june(),)
    with pytest.raises(RuleViolation) as refused:
        commands.report_followup(book.ledger, ADMIN, _followup(single, 0, 100), rounds=rounds)
    assert refused.value.code == "period_closed"
    assert refused.value.message.startswith(
        "Uppföljningen juni 2025 stängdes 24 juni 2025 och tar inte emot fler uppföljningar för 2025-06."
    )
    assert commands.report_followup(book.ledger, ADMIN, _followup(single, 0, 100, "2025-07"), rounds=rounds)
    open_round = replace(_closed_june(), closed_at=None)
    assert commands.report_followup(book.ledger, ADMIN, _followup(single, 0, 100), rounds=(open_round,))


def test_the_round_card_is_refused_by_the_same_rule() -> None:
    """Issue 17 item 5: the round card's answers meet the same rule and words."""
    book, single, _ = _book()
    answer = Answer(single, Status.ONGOING, 0, 100, True, "")
    with pytest.raises(RuleViolation) as refused:
        answers_to_followups(
            book.ledger, ADMIN, _closed_june(), [answer], author="hr", at=AT, as_of=date(2025, 6, 10)
        )
    assert refused.value.code == "period_closed"
    assert "stängdes 24 juni 2025 och tar inte emot fler uppföljningar" in refused.value.message


def test_after_close_a_reason_is_recorded_first_in_the_note() -> None:
    """Issue 17 item 5: one who manages rounds may add a follow-up after close
    with a reason, kept in the follow-up's note (the ledger is append-only)."""
    book, single, _ = _book()
    stored = commands.report_followup(
        book.ledger,
        ADMIN,
        _followup(single, 0, 100, note="Enligt plan"),
        rounds=(_closed_june(),),
        after_close_reason="Svaret kom per post den 20 juni",
    )
    assert stored.note == (
        "Registrerad efter att uppföljningen 2025-06 stängdes (24 juni 2025). "
        "Skäl: Svaret kom per post den 20 juni. Enligt plan"
    )


def test_after_close_needs_a_reason_a_closed_round_and_the_right_to_manage_rounds() -> None:
    """Issue 17 item 5: no empty reason, no late entry for a period that is not
    closed, and HR may not override the close."""
    book, single, _ = _book()
    closed = (_closed_june(),)
    for reason, rounds, code in (("  ", closed, "late_reason_missing"), ("skäl", (), "period_not_closed")):
        with pytest.raises(RuleViolation) as refused:
            commands.report_followup(
                book.ledger, ADMIN, _followup(single, 0, 100), rounds=rounds, after_close_reason=reason
            )
        assert refused.value.code == code
    hr = Principal("hr1", (RoleGrant("hr1", Role.HR, "GVN"),))
    with pytest.raises(PermissionDenied):
        commands.report_followup(
            book.ledger, hr, _followup(single, 0, 100), rounds=closed, after_close_reason="x"
        )


# --- item 6 -----------------------------------------------------------------------


def test_followups_reported_after_the_day_are_not_spent_yet() -> None:
    """Issue 17 item 6: on 5 June, the follow-ups reported 12 June do not count."""
    book, single, _ = _book()
    book.ledger = book.ledger.add_followup(
        _followup(single, 1_350_000, 4_000_000, at=datetime(2025, 6, 12, 8, 0, tzinfo=UTC), seq=1)
    )
    assert measure_balance(book.ledger, single).spent == 1_350_000
    on_june_5 = known_on(book.ledger, date(2025, 6, 5))
    assert measure_balance(on_june_5, single).spent == 0
    gvn = fund_balance(on_june_5, 2025).unit("GVN")
    assert gvn is not None and gvn.spent == 0
    assert measure_balance(known_on(book.ledger, date(2025, 6, 12)), single).spent == 1_350_000


def test_a_period_that_has_not_begun_takes_no_followup() -> None:
    """Tryout finding A: on 2025-06-05 a follow-up for 2025-12 was saved; the core
    refuses a period that starts after the bot's today, naming it and what is allowed."""
    book, single, _ = _book()
    on_june_5 = datetime(2025, 6, 5, 10, 0, tzinfo=UTC)
    with pytest.raises(RuleViolation) as refused:
        commands.report_followup(book.ledger, ADMIN, _followup(single, 0, 100, "2025-12", at=on_june_5))
    assert refused.value.errors[0].message == (
        "Perioden 2025-12 (december 2025) har inte börjat än, så det finns inget att följa upp. "
        "Ange en period som har börjat: 2025-06 eller tidigare."
    )
    assert commands.report_followup(book.ledger, ADMIN, _followup(single, 0, 100, "2025-06", at=on_june_5))


def test_a_period_before_the_measures_year_names_the_measure_without_an_odd_genitive() -> None:
    """Tryout finding D: the refusal read '... ligger före "Yrkeslärarsatsning" (id 1)s år 2025.'"""
    book, single, _ = _book()
    with pytest.raises(RuleViolation) as refused:
        commands.report_followup(book.ledger, ADMIN, _followup(single, 0, 100, "2024-06"))
    assert refused.value.errors[0].message == (
        f'Perioden 2024-06 ligger före insatsens år: "Yrkeslärarsatsning" (id {single}) gäller 2025.'
    )
