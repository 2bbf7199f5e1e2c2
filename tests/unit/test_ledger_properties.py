"""Property tests: any sequence of allocations, grants, follow-ups and
reallocations keeps every invariant, and no krona is created or lost."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.balances import fund_balance, measure_balance
from core.errors import DomainError
from core.model import Status
from core.validation import validate
from tests.unit.builders import Book

UNIT_CODES = ["FSKN", "GVN", "SBN", "TN", "MN"]
MEASURES = [
    ("A", ("FSKN",)),
    ("B", ("GVN",)),
    ("C", ("SBN", "TN", "MN")),
    ("D", ("TN",)),
    ("E", ("GVN", "FSKN")),
]

amounts = st.one_of(
    st.sampled_from([0, -5, 50_000, 100_000, 250_000, 1_000_000, 3_000_000]),
    st.integers(min_value=-1_000, max_value=4_000_000),
)
unit = st.sampled_from(UNIT_CODES)
measure = st.integers(min_value=1, max_value=len(MEASURES))
operation = st.one_of(
    st.tuples(st.just("allocate"), unit, amounts, st.booleans()),
    st.tuples(st.just("grant"), measure, st.integers(0, 3), amounts),
    st.tuples(
        st.just("followup"),
        st.one_of(st.sampled_from([1, 2, 4]), measure),
        amounts,
        amounts,
        st.sampled_from(list(Status)),
    ),
    st.tuples(
        st.just("reallocate"),
        st.one_of(st.sampled_from([1, 2, 4]), measure),
        st.one_of(st.sampled_from([1, 2, 4]), measure),
        st.one_of(amounts, st.just("unused")),
    ),
)


def apply(book: Book, op: tuple[Any, ...]) -> None:
    match op:
        case ("allocate", code, amount, recurring):
            book.allocate(code, amount, recurring=recurring)
        case ("grant", mid, index, amount):
            codes = MEASURES[mid - 1][1] + ("KS",)  # KS is on no measure: refused
            book.grant(mid, codes[index % len(codes)], amount)
        case ("followup", mid, spent, extra, status):
            book.followup(mid, spent, spent + extra // 8, status)
        case ("reallocate", source, target, amount):
            if amount == "unused":  # all that the latest follow-up leaves unused
                amount = measure_balance(book.ledger, source, 2025).unused_forecast
            book.reallocate(source, target, amount)


def check_invariants(book: Book, fund_total: int) -> None:
    ledger = book.ledger
    assert validate(ledger) == []
    for year in (2025, 2026):
        fund = fund_balance(ledger, year)
        transferred = sum(a.amount for a in ledger.allocations(year))
        # The fund total never moves, and reallocations create or lose nothing.
        assert fund.total == fund_total
        assert fund.allocated == transferred <= fund.total
        assert sum(u.reallocated for u in fund.units) == 0
        measures_total = 0
        for m in ledger.measures.values():
            b = measure_balance(ledger, m.id, year)
            assert b.allocated >= 0
            assert sum(s.allocated for s in b.shares) == b.allocated
            assert sum(s.spent for s in b.shares) == b.spent
            measures_total += b.allocated
        assert sum(u.earmarked for u in fund.units) == measures_total
        for u in fund.units:
            assert u.unallocated >= 0, u


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, max_size=30))
def test_any_sequence_of_operations_keeps_every_invariant(ops: list[tuple[Any, ...]]) -> None:
    book = Book().fund(2025, 10_000_000).fund(2026, 10_000_000)
    for code in UNIT_CODES:
        book.allocate(code, 1_500_000)
    for title, units in MEASURES:
        book.measure(title, *units)
    book.grant(1, "FSKN", 500_000).grant(2, "GVN", 500_000).grant(4, "TN", 300_000)
    for op in ops:
        before = book.ledger
        try:
            apply(book, op)
            event(f"{op[0]} accepted")
        except DomainError:
            assert book.ledger is before  # a refusal changes nothing
        check_invariants(book, 10_000_000)


@settings(max_examples=50, deadline=None)
@given(st.lists(operation, max_size=25))
def test_replaying_the_entries_gives_the_same_balances(ops: list[tuple[Any, ...]]) -> None:
    from core.ledger import Ledger

    book = Book().fund(2025, 10_000_000)
    for title, units in MEASURES:
        book.measure(title, *units)
    for op in ops:
        try:
            apply(book, op)
        except DomainError:
            pass
    replayed = Ledger.build(
        book.ledger.units.values(),
        book.ledger.measures.values(),
        reversed(book.ledger.entries),
        reversed(book.ledger.followups),
    )
    assert fund_balance(replayed, 2025) == fund_balance(book.ledger, 2025)


@settings(max_examples=200, deadline=None)
@given(
    granted=st.integers(1, 2_000_000),
    spent=st.integers(0, 2_000_000),
    extra=st.integers(0, 2_000_000),
    amount=st.integers(-10, 2_000_000),
    shared=st.booleans(),
)
def test_reallocation_is_accepted_exactly_when_it_moves_unused_money(
    granted: int, spent: int, extra: int, amount: int, shared: bool
) -> None:
    book = Book().fund(2025, 10_000_000)
    for code in UNIT_CODES:
        book.allocate(code, 2_000_000)
    source = book.measure("Källa", *(("SBN", "TN", "MN") if shared else ("TN",)))
    target = book.measure("Mål", "FSKN", "GVN")
    parts = (granted // 3, granted // 3, granted - 2 * (granted // 3)) if shared else (granted,)
    for code, part in zip(book.ledger.measures[source].units, parts, strict=True):
        if part:
            book.grant(source, code, part)
    book.grant(target, "FSKN", 100_000)
    forecast = spent + extra
    book.followup(source, spent, forecast)
    before = fund_balance(book.ledger, 2025)
    unused = max(0, granted - forecast)
    try:
        book.reallocate(source, target, amount)
    except DomainError:
        assert not 0 < amount <= unused
        return
    assert 0 < amount <= unused
    after = fund_balance(book.ledger, 2025)
    assert (after.total, after.allocated) == (before.total, before.allocated)
    assert measure_balance(book.ledger, source).allocated == granted - amount
    assert measure_balance(book.ledger, target).allocated == 100_000 + amount
    assert sum(u.allocated for u in after.units) == sum(u.allocated for u in before.units)
    check_invariants_2025(book)


def check_invariants_2025(book: Book) -> None:
    assert validate(book.ledger) == []
    fund = fund_balance(book.ledger, 2025)
    assert sum(u.reallocated for u in fund.units) == 0
    assert all(u.unallocated >= 0 for u in fund.units)
