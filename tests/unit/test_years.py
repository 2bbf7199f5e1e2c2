"""Issue 17 item 9: the year meant when none is given, and where a unit last had money
(core.rules.years): one rule for the chat and the command line."""

from __future__ import annotations

from datetime import date

from core.balances import fund_balance
from core.rules.years import default_year, latest_decided_fund_year, latest_year_with_money
from tests.unit.builders import Book


def _book() -> Book:
    """2025: a fund of 10 000 000 kr; FSKN 4 000 000 kr, KS 1 000 000 kr a year from 2025."""
    return Book().fund(2025, 10_000_000).allocate("FSKN", 4_000_000).allocate("KS", 1_000_000, recurring=True)


def test_the_default_year_is_the_latest_decided_fund_up_to_today() -> None:
    """Issue 17 item 9: 2026 holds only KS's recurring allocation (no fund): questions
    and new measures without a year mean 2025, the latest year with a decided fund."""
    ledger = _book().ledger
    assert default_year(ledger, date(2025, 6, 5)) == 2025
    assert default_year(ledger, date(2026, 12, 5)) == 2025
    assert default_year(ledger, date(2024, 1, 1)) == 2024  # nothing decided yet: this year


def test_a_fund_decided_ahead_is_not_taken_before_its_year() -> None:
    """Issue 17 item 9: in 2025 with only a 2026 fund decided, the year is 2025 (the chat said
    2025, the command line 2026 before: one rule now)."""
    ledger = Book().fund(2026, 5_000_000).ledger
    assert default_year(ledger, date(2025, 11, 1)) == 2025
    assert default_year(ledger, date(2026, 1, 2)) == 2026


def test_the_fund_named_when_a_year_has_none_is_the_latest_before_it_else_after() -> None:
    """Review finding 11: which decided fund "kvar 2026" or "kvar 2024" names (was decided in
    the funds dialog): the latest one before the year asked about, else the latest after."""
    ledger = Book().fund(2025, 10_000_000).fund(2027, 3_000_000).ledger
    assert latest_decided_fund_year(ledger, besides=2026) == 2025
    assert latest_decided_fund_year(ledger, besides=2024) == 2027
    assert latest_decided_fund_year(ledger, besides=2025) == 2027
    assert latest_decided_fund_year(Book().ledger, besides=2025) is None


def test_the_latest_year_with_money() -> None:
    ledger = _book().ledger
    assert latest_year_with_money(ledger, ["FSKN"], besides=2026) == 2025
    assert latest_year_with_money(ledger, ["FSKN"], besides=2025) is None
    assert latest_year_with_money(ledger, ["GVN"], besides=2026) is None


def test_a_recurring_allocation_without_a_fund_is_reserved_not_overdrawn() -> None:
    """Issue 17 item 9: KS's recurring 1 000 000 kr in 2026, a year without a fund: the
    fund is not decided, the money is reserved, and nothing is "not transferred" below 0."""
    ledger = _book().ledger
    fund = fund_balance(ledger, 2026)
    assert not fund.decided
    assert fund.reserved == 1_000_000
    assert fund.unallocated == 0
    assert [u.code for u in fund.units] == ["KS"]
    decided = fund_balance(ledger, 2025)
    assert decided.decided and decided.reserved == 0 and decided.unallocated == 5_000_000
