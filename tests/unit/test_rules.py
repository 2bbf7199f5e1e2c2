"""The rules of the core, each as a user of the numbers would notice them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core import commands
from core.balances import fund_balance, measure_balance, unit_balance
from core.errors import PermissionDenied, RuleViolation
from core.model import Body, Decision, Status
from core.rules import carry_over_proposals, is_overdue, overdue_measures
from core.validation import validate
from tests.unit.builders import KS, Book, malmo_small


def codes(problem: RuleViolation) -> list[str]:
    return [e.code for e in problem.errors]


# --- fund limits -------------------------------------------------------------


def test_allocations_fill_the_fund_exactly_but_never_beyond() -> None:
    book = malmo_small()  # 9 600 000 of 10 000 000 allocated
    book.allocate("KS", 400_000)
    assert fund_balance(book.ledger, 2025).unallocated == 0
    with pytest.raises(RuleViolation) as refused:
        book.allocate("KS", 1)
    assert codes(refused.value) == ["fund_exceeded"]
    assert "ryms inte i anslaget för 2025" in refused.value.message


def test_allocation_needs_a_fund_for_its_year() -> None:
    with pytest.raises(RuleViolation) as refused:
        Book().allocate("FSKN", 100)
    assert codes(refused.value) == ["no_fund"]


def test_recurring_allocation_reserves_money_in_every_later_year() -> None:
    book = Book().fund(2025, 2_000_000).fund(2026, 1_500_000)
    book.allocate("KS", 1_000_000, recurring=True)
    assert fund_balance(book.ledger, 2026).allocated == 1_000_000
    assert fund_balance(book.ledger, 2027).allocated == 1_000_000
    # 2026 has only 500 000 left because of the recurring reservation
    with pytest.raises(RuleViolation):
        book.allocate("FSKN", 600_000, year=2026)
    book.allocate("FSKN", 500_000, year=2026)


def test_recurring_allocation_refused_when_a_later_year_cannot_hold_it() -> None:
    book = Book().fund(2025, 5_000_000).fund(2026, 500_000)
    with pytest.raises(RuleViolation) as refused:
        book.allocate("KS", 1_000_000, recurring=True)
    assert "2026" in refused.value.message


def test_a_new_fund_year_must_cover_recurring_reservations() -> None:
    book = Book().fund(2025, 5_000_000).allocate("KS", 1_000_000, recurring=True)
    with pytest.raises(RuleViolation) as refused:
        book.fund(2026, 900_000)
    assert codes(refused.value) == ["fund_below_reserved"]
    book.fund(2026, 1_000_000)


def test_a_later_decision_ends_a_recurring_allocation() -> None:
    from core import commands
    from core.model import ADMIN
    from tests.unit.builders import AT

    book = Book().fund(2025, 5_000_000).allocate("KS", 1_000_000, recurring=True)
    seq = book.ledger.entries[-1].seq
    end = commands.end_allocation(book.ledger, ADMIN, seq, 2026, KS, AT)
    book.ledger = book.ledger.append(end)
    assert fund_balance(book.ledger, 2026).allocated == 1_000_000
    assert fund_balance(book.ledger, 2027).allocated == 0


# --- unit limits ---------------------------------------------------------------


def test_a_measure_never_gets_more_than_its_unit_has_unallocated() -> None:
    book = malmo_small()
    m1 = book.measure("Stärka formell kompetens", "FSKN")
    m2 = book.measure("Hälsofrämjande insatser", "FSKN")
    book.grant(m1, "FSKN", 4_000_000)
    with pytest.raises(RuleViolation) as refused:
        book.grant(m2, "FSKN", 1_000_001)
    assert codes(refused.value) == ["unit_exceeded"]
    assert "1 000 000 kr" in refused.value.message
    book.grant(m2, "FSKN", 1_000_000)
    assert unit_balance(book.ledger, "FSKN", 2025).unallocated == 0


def test_kom_kr_measures_are_not_funded_from_this_fund() -> None:
    book = malmo_small()
    m = book.measure("Tidig omställning", "GVN", kom_kr=True)
    with pytest.raises(RuleViolation) as refused:
        book.grant(m, "GVN", 100_000)
    assert codes(refused.value) == ["kom_kr_excluded"]


def test_a_unit_not_on_the_measure_cannot_fund_it() -> None:
    book = malmo_small()
    m = book.measure("Yrkeslärarsatsning", "GVN")
    with pytest.raises(RuleViolation) as refused:
        book.grant(m, "FSKN", 100_000)
    assert codes(refused.value) == ["unit_not_on_measure"]


def test_measure_with_end_before_start_is_refused() -> None:
    with pytest.raises(RuleViolation) as refused:
        malmo_small().measure("Baklänges", "GVN", start_date=date(2025, 6, 1), end_date=date(2025, 1, 1))
    assert codes(refused.value) == ["end_before_start"]
    assert "1 januari 2025" in refused.value.message


def test_unknown_unit_on_a_measure_is_refused_with_the_known_ones() -> None:
    with pytest.raises(RuleViolation) as refused:
        malmo_small().measure("X", "RYMD")
    assert "RYMD" in refused.value.message and "FSKN" in refused.value.message


# --- remaining money -------------------------------------------------------------


def test_remaining_is_allocated_minus_spent_and_minus_forecast_at_every_level() -> None:
    book = malmo_small()
    m = book.measure("Yrkeslärarsatsning", "GVN")
    book.grant(m, "GVN", 2_000_000).followup(m, spent=500_000, forecast=1_600_000)
    mb = measure_balance(book.ledger, m)
    assert (mb.allocated, mb.spent, mb.forecast) == (2_000_000, 500_000, 1_600_000)
    assert (mb.remaining, mb.remaining_forecast) == (1_500_000, 400_000)
    gvn = unit_balance(book.ledger, "GVN", 2025)
    assert (gvn.allocated, gvn.spent, gvn.remaining) == (3_000_000, 500_000, 2_500_000)
    assert gvn.remaining_forecast == 3_000_000 - 1_600_000
    fund = fund_balance(book.ledger, 2025)
    assert (fund.total, fund.allocated, fund.spent) == (10_000_000, 9_600_000, 500_000)
    assert fund.remaining == 9_100_000


def test_latest_followup_wins() -> None:
    book = malmo_small()
    m = book.measure("Yrkeslärarsatsning", "GVN")
    book.grant(m, "GVN", 2_000_000)
    book.followup(m, 100_000, 2_000_000, period="2025-06")
    book.followup(m, 1_900_000, 1_900_000, Status.DONE, period="2025-12")
    assert measure_balance(book.ledger, m).spent == 1_900_000
    assert book.ledger.current_status(m) == Status.DONE


def test_followup_with_forecast_below_spent_is_refused() -> None:
    book = malmo_small()
    m = book.measure("Yrkeslärarsatsning", "GVN")
    with pytest.raises(RuleViolation) as refused:
        book.followup(m, spent=200, forecast=100)
    assert codes(refused.value) == ["forecast_below_spent"]


# --- shared measures ---------------------------------------------------------------


def test_a_shared_measure_shows_each_unit_its_share() -> None:
    book = malmo_small()
    lar = book.measure("Malmö Lär – gemensam samordningsresurs", "SBN", "TN", "MN")
    book.grant(lar, "SBN", 400_000).grant(lar, "TN", 200_000).grant(lar, "MN", 200_000)
    book.followup(lar, spent=400_000, forecast=800_000)
    b = measure_balance(book.ledger, lar)
    shares = {s.unit: (s.allocated, s.spent) for s in b.shares}
    assert shares == {"SBN": (400_000, 200_000), "TN": (200_000, 100_000), "MN": (200_000, 100_000)}
    assert unit_balance(book.ledger, "TN", 2025).spent == 100_000


def test_shares_of_odd_amounts_add_up_exactly() -> None:
    book = malmo_small()
    lar = book.measure("Malmö Lär", "SBN", "TN", "MN")
    book.grant(lar, "SBN", 100_000).grant(lar, "TN", 100_000).grant(lar, "MN", 100_000)
    book.followup(lar, spent=100_000, forecast=100_000)
    b = measure_balance(book.ledger, lar)
    assert sum(s.spent for s in b.shares) == 100_000
    assert sorted(s.spent for s in b.shares) == [33_333, 33_333, 33_334]


# --- reallocation -------------------------------------------------------------------


def realloc_book() -> tuple[Book, int, int, int]:
    book = malmo_small()
    source = book.measure("Förebyggande arbete", "TN")
    target = book.measure("Malmö Lär", "MN")
    undecided = book.measure("Ny idé", "MN")
    book.grant(source, "TN", 300_000).grant(target, "MN", 300_000)
    book.followup(source, spent=50_000, forecast=100_000)  # 200 000 unused
    return book, source, target, undecided


def test_reallocation_moves_unused_money_and_keeps_the_fund_total() -> None:
    book, source, target, _ = realloc_book()
    before = fund_balance(book.ledger, 2025)
    book.reallocate(source, target, 200_000)
    after = fund_balance(book.ledger, 2025)
    assert (after.total, after.allocated) == (before.total, before.allocated)
    assert measure_balance(book.ledger, source).allocated == 100_000
    assert measure_balance(book.ledger, target).allocated == 500_000
    tn, mn = after.unit("TN"), after.unit("MN")
    assert tn is not None and tn.allocated == 200_000
    assert mn is not None and mn.allocated == 600_000
    assert validate(book.ledger) == []


def test_reallocation_needs_a_ksau_decision() -> None:
    book, source, target, _ = realloc_book()
    with pytest.raises(RuleViolation) as refused:
        book.reallocate(source, target, 100_000, decision=KS)
    assert codes(refused.value) == ["needs_ksau_decision"]
    assert "KSAU" in refused.value.message


def test_reallocation_needs_a_decision_taken_and_of_the_moneys_time() -> None:
    """A KSAU decision dated after the day it is recorded, or from before the year before the
    money's year, is refused as a grant's would be (the attacker recorded KSAU 1901-01-01)."""
    book, source, target, _ = realloc_book()
    at = datetime(2025, 6, 10, 12, tzinfo=UTC)
    for decision, code in (
        (Decision(Body.KSAU, date(2025, 6, 24), paragraph="5"), "decision_in_future"),
        (Decision(Body.KSAU, date(1901, 1, 1), paragraph="5"), "decision_too_old"),
    ):
        with pytest.raises(RuleViolation) as refused:
            commands.reallocate(book.ledger, book.who, source, target, 100_000, decision, at)
        assert code in codes(refused.value), refused.value.message
    taken = Decision(Body.KSAU, date(2025, 6, 10), paragraph="5")
    assert commands.reallocate(book.ledger, book.who, source, target, 100_000, taken, at).amount == 100_000


def test_reallocation_only_moves_what_the_latest_followup_forecasts_as_unused() -> None:
    book, source, target, _ = realloc_book()
    with pytest.raises(RuleViolation) as refused:
        book.reallocate(source, target, 200_001)
    assert codes(refused.value) == ["exceeds_unused"]
    assert "200 000 kr" in refused.value.message


def test_reallocation_needs_a_followup() -> None:
    book, source, target, _ = realloc_book()
    with pytest.raises(RuleViolation) as refused:
        book.reallocate(target, source, 1)
    assert codes(refused.value) == ["no_followup"]


def test_reallocation_only_to_an_already_decided_measure() -> None:
    book, source, _, undecided = realloc_book()
    with pytest.raises(RuleViolation) as refused:
        book.reallocate(source, undecided, 100_000)
    assert codes(refused.value) == ["measure_not_decided"]


def test_reallocation_only_within_the_same_year() -> None:
    book, source, _, _ = realloc_book()
    book.fund(2026, 1_000_000).allocate("GVN", 500_000, year=2026)
    later = book.measure("Nästa år", "GVN", year=2026)
    book.grant(later, "GVN", 100_000)
    with pytest.raises(RuleViolation) as refused:
        book.reallocate(source, later, 100_000)
    assert codes(refused.value) == ["measure_not_decided"]


# --- overdue and carry-over -----------------------------------------------------------


def test_overdue_means_end_date_passed_and_not_klar() -> None:
    book = malmo_small()
    late = book.measure("Sen", "GVN", end_date=date(2025, 6, 30))
    done = book.measure("Klar i tid", "GVN", end_date=date(2025, 6, 30))
    future = book.measure("Framtid", "GVN", end_date=date(2025, 12, 31))
    book.followup(done, 0, 0, Status.DONE)
    as_of = date(2025, 7, 1)
    assert [m.id for m in overdue_measures(book.ledger, as_of)] == [late]
    assert not is_overdue(book.ledger, book.ledger.measures[late], date(2025, 6, 30))
    assert not is_overdue(book.ledger, book.ledger.measures[future], as_of)


def test_measures_not_klar_are_proposed_for_carry_over_at_period_end() -> None:
    book = malmo_small()
    a = book.measure("Pågår fortfarande", "GVN")
    b = book.measure("Klar", "GVN")
    book.followup(b, 0, 0, Status.DONE, period="2025-12")
    assert carry_over_proposals(book.ledger, 2025, date(2025, 12, 31)) == ()
    proposals = carry_over_proposals(book.ledger, 2025, date(2026, 1, 1))
    assert [(p.measure.id, p.status, p.next_year) for p in proposals] == [(a, Status.NOT_STARTED, 2026)]


# --- decisions ----------------------------------------------------------------------


def test_decision_reference_reads_as_in_the_papers() -> None:
    from core.model import parse_decision

    d = parse_decision("KSAU 2025-06-20 § 5 STK-2025-100")
    assert (d.body, d.date, d.paragraph, d.case_number) == (
        Body.KSAU,
        date(2025, 6, 20),
        "5",
        "STK-2025-100",
    )
    assert d.reference == "KSAU 2025-06-20 § 5 (STK-2025-100)"
    assert Decision(Body.KS, date(2025, 3, 5)).reference == "KS 2025-03-05"


@pytest.mark.parametrize("text", ["", "KSAU", "KSAU igår", "KSAU 2025-02-30", "Nämnden 2025-01-01"])
def test_unreadable_decision_references_are_refused(text: str) -> None:
    from core.errors import InputError
    from core.model import parse_decision

    with pytest.raises(InputError) as refused:
        parse_decision(text)
    assert "KSAU 2025-06-20" in refused.value.message or "ÅÅÅÅ-MM-DD" in refused.value.message


def test_permission_refusals_name_the_action() -> None:
    from core.model import Principal, Role, RoleGrant

    book, source, target, _ = realloc_book()
    office = book.as_user(Principal("eva", (RoleGrant("eva", Role.CITY_OFFICE),)))
    with pytest.raises(PermissionDenied) as refused:
        office.reallocate(source, target, 100)
    assert "omfördelningar" in refused.value.message
