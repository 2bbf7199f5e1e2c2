"""Property tests: whatever needs, links and grants a city records, the money
per role and what no need claims add up exactly to the linked measures'
money, and the rules keep every measure's shares within 100 %."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from core.needs import (
    WHOLE,
    NeedEntry,
    NeedKind,
    NeedLinkEndedEntry,
    NeedLinkEntry,
    Needs,
    Period,
    Recruitment,
    money_per_role,
    split_measure,
)
from core.rules.needs import check_link, check_link_end, check_need
from tests.unit.builders import AT, Book

MEASURES = [("A", ("FSKN",)), ("B", ("GVN",)), ("C", ("FSKN", "GVN")), ("D", ("FSKN",))]
KEYS = ["B1", "B2", "B3", "B4", "B5", "b1"]  # "b1" is B1 again
ROLES = ["förskollärare", "Förskollärare", "barnskötare", "rektor", "personlig assistent"]

shares = st.one_of(st.none(), st.sampled_from([1, 2_500, 3_333, 5_000, WHOLE]), st.integers(-5, WHOLE + 5))
operation = st.one_of(
    st.tuples(
        st.just("need"), st.sampled_from(KEYS), st.sampled_from(ROLES), st.sampled_from(list(NeedKind))
    ),
    st.tuples(
        st.just("link"), st.sampled_from(KEYS), st.integers(1, len(MEASURES) + 1), shares, st.booleans()
    ),
    st.tuples(st.just("end"), st.sampled_from(KEYS), st.integers(1, len(MEASURES))),
    st.tuples(st.just("grant"), st.integers(1, len(MEASURES)), st.integers(0, 1), st.integers(1, 1_000_003)),
)


def apply(book: Book, needs: Needs, op: tuple[Any, ...]) -> Needs:
    """One operation through the rules: a refused one changes nothing."""
    match op:
        case ("need", key, role, kind):
            entry = NeedEntry(
                key=key,
                unit="FSKN",
                role=role,
                kind=kind,
                competence="Kompetens",
                recruitment=Recruitment.SHORTAGE,
                period=Period(2025, 2026),
                source="Plan",
                assessed=date(2025, 1, 1),
                author="hr",
                at=AT,
            )
            if check_need(book.ledger, entry):
                return needs
            return needs.append(entry)
        case ("link", key, mid, share, noted):
            link = NeedLinkEntry(key, mid, "hr", AT, share=share, note="KOM-KR räcker inte" if noted else "")
            if problems := check_link(needs, book.ledger, link):
                event(f"link refused: {problems[0].code}")
                return needs
            return needs.append(link)
        case ("end", key, mid):
            ended = NeedLinkEndedEntry(key, mid, "hr", AT)
            return needs if check_link_end(needs, ended) else needs.append(ended)
        case ("grant", mid, index, amount):
            units = MEASURES[mid - 1][1]
            try:
                book.grant(mid, units[index % len(units)], amount)
            except DomainError:
                pass
            return needs
    raise AssertionError(op)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, max_size=40))
def test_needs_and_the_unclaimed_rest_add_up_exactly_to_the_measures_money(
    ops: list[tuple[Any, ...]],
) -> None:
    book = Book().fund(2025, 10_000_000).allocate("FSKN", 4_000_000).allocate("GVN", 4_000_000)
    for title, units in MEASURES:
        book.measure(title, *units)
    for mid in range(1, len(MEASURES) + 1):
        book.grant(mid, MEASURES[mid - 1][1][0], 100_000 * mid + 1)
    needs = Needs()
    for key, role in zip(KEYS[:5], ROLES, strict=True):  # every key assessed once, reassessed by ops
        needs = apply(book, needs, ("need", key, role, NeedKind.UPSKILLING))
    for op in ops:
        needs = apply(book, needs, op)
        for mid in book.ledger.measures:
            assert sum(link.share or 0 for link in needs.links_of_measure(mid)) <= WHOLE
    money = money_per_role(needs, book.ledger, 2025)
    linked = {link.measure_id for link in needs.links}
    expected = sum(max(0, book.ledger.measure_allocated(mid, 2025)) for mid in linked)
    assert money.total == expected
    assert sum(money.by_role.values()) + money.unclaimed == expected
    assert sum(money.by_need.values()) == sum(money.by_role.values())
    assert all(part >= 0 for part in money.by_need.values())
    assert money.unclaimed >= 0
    # an explicit share gets its share of the money, to the krona
    for link in needs.links:
        if link.share is None:
            continue
        measure_money = money.by_measure.get(link.measure_id, 0)
        part, _ = split_measure(measure_money, needs.links_of_measure(link.measure_id))
        assert abs(part[link.need] * WHOLE - measure_money * link.share) < WHOLE
    event(f"unclaimed {'> 0' if money.unclaimed else '= 0'}, roles {len(money.by_role)}")


@settings(max_examples=300, deadline=None)
@given(
    money=st.integers(0, 10_000_000),
    links=st.lists(
        st.tuples(st.sampled_from(KEYS[:5]), st.one_of(st.none(), st.integers(1, WHOLE))), max_size=6
    ),
)
def test_one_measures_money_is_split_exactly(money: int, links: list[tuple[str, int | None]]) -> None:
    unique = {key: share for key, share in links}  # one link a need
    entries = [NeedLinkEntry(key, 1, "hr", AT, share=share) for key, share in unique.items()]
    parts, rest = split_measure(money, entries)
    assert sum(parts.values()) + rest == money
    assert rest >= 0 and all(p >= 0 for p in parts.values())
    assert set(parts) == set(unique)
    if any(share is None for share in unique.values()):
        assert rest == 0
    equal = sorted(parts[key] for key, share in unique.items() if share is None)
    assert not equal or equal[-1] - equal[0] <= 1  # the rest is split equally, to the krona
