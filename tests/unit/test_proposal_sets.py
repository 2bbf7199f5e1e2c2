"""KSAU's decision on a set of proposals (core.proposal_sets): each ticked proposal
checked again against the ledger as it is then, a changed basis refused with the
reason while the others go through, the unticked reported as not decided, only
ksau, and the first decision closes the set (a second records nothing)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import PermissionDenied, RuleViolation
from core.model import Body, Decision, Principal, Role, RoleGrant
from core.proposal_sets import ProposalSet, SetDecision, basis_changed, check_set_open, decide, make_items
from core.rules.reallocation import check_reallocation
from tests.unit.builders import KS, KSAU, malmo_small

AT = datetime(2025, 6, 24, 9, 0, tzinfo=UTC)
KSAU_MEMBER = Principal("aad-ksau", (RoleGrant("aad-ksau", Role.KSAU),))
CITY_OFFICE = Principal("aad-stk", (RoleGrant("aad-stk", Role.CITY_OFFICE),))


def _book():
    """Four proposals: two givers (GVN 800 000 unused, FSKN 200 000), two takers."""
    book = malmo_small()
    giver_other = book.measure("GVN-överskott", "GVN")
    giver_same = book.measure("FSKN-överskott", "FSKN")
    taker = book.measure("FSKN-behov", "FSKN")
    taker2 = book.measure("GVN-behov", "GVN")
    for mid, unit, amount in (
        (giver_other, "GVN", 1_000_000),
        (giver_same, "FSKN", 300_000),
        (taker, "FSKN", 500_000),
        (taker2, "GVN", 200_000),
    ):
        book.grant(mid, unit, amount)
    book.followup(giver_other, 0, 200_000)
    book.followup(giver_same, 0, 100_000)
    book.followup(taker, 0, 1_000_000)
    book.followup(taker2, 0, 900_000)
    return book, (giver_other, giver_same, taker, taker2)


def _set(book) -> ProposalSet:
    return ProposalSet(1, 1, "2025-06", 2025, make_items(book.ledger, 2025), "aad-stk", AT)


def test_each_proposal_keeps_its_basis() -> None:
    book, (giver_other, giver_same, _, _) = _book()
    items = _set(book).items
    assert [i.number for i in items] == [1, 2, 3]
    basis = {i.from_measure: (i.basis_unused, i.basis_period) for i in items}
    assert basis == {giver_other: (800_000, "2025-06"), giver_same: (200_000, "2025-06")}
    assert all(basis_changed(book.ledger, i) is None for i in items)


def test_ticked_proposals_are_recorded_through_the_reallocation_rule_and_unticked_reported() -> None:
    book, _ = _book()
    s = _set(book)
    outcome = decide(book.ledger, KSAU_MEMBER, s, {1, 3}, KSAU, AT)
    assert outcome.recorded == (1, 3) and outcome.not_ticked == (2,) and outcome.refused == ()
    ledger = book.ledger
    for entry in outcome.entries:
        assert check_reallocation(ledger, entry) == []
        assert entry.decision == KSAU and entry.author_id == "aad-ksau"
        ledger = ledger.append(entry)
    assert [e.amount for e in outcome.entries] == [s.items[0].amount, s.items[2].amount]


def test_a_proposal_whose_basis_changed_is_refused_with_the_reason_and_the_others_go_through() -> None:
    book, (giver_other, giver_same, _, _) = _book()
    s = _set(book)
    book.followup(giver_same, 0, 250_000)  # a newer follow-up: 50 000 unused now, not 200 000
    outcome = decide(book.ledger, KSAU_MEMBER, s, {1, 2, 3}, KSAU, AT)
    changed = [i.number for i in s.items if i.from_measure == giver_same]
    assert [n for n, _ in outcome.refused] == changed
    [(_, reason)] = outcome.refused
    assert "Underlaget har ändrats" in reason and "200 000 kr" in reason and "50 000 kr" in reason
    assert set(outcome.recorded) == {i.number for i in s.items if i.from_measure == giver_other}


def test_money_moved_out_since_is_a_changed_basis_too() -> None:
    book, (giver_other, _, taker, _) = _book()
    s = _set(book)
    book.reallocate(giver_other, taker, 100_000)  # `kompetensbot reallocate` in between
    outcome = decide(book.ledger, KSAU_MEMBER, s, {1, 2, 3}, KSAU, AT)
    refused = {n for n, _ in outcome.refused}
    assert refused == {i.number for i in s.items if i.from_measure == giver_other}


@pytest.mark.parametrize(
    ("who", "decision", "ticked", "error", "words"),
    [
        (CITY_OFFICE, KSAU, {1}, PermissionDenied, "behörighet"),
        (KSAU_MEMBER, KS, {1}, RuleViolation, '"KSAU 2025-06-24 § 5"'),
        (KSAU_MEMBER, Decision(Body.KSAU, None, title="x"), {1}, RuleViolation, "arbetsutskott"),
        (KSAU_MEMBER, KSAU, set(), RuleViolation, "Kryssa i minst ett förslag"),
        (KSAU_MEMBER, KSAU, {99}, RuleViolation, "Kryssa i minst ett förslag"),
    ],
)
def test_refused_as_a_whole(who, decision, ticked, error, words) -> None:
    book, _ = _book()
    with pytest.raises(error) as refused:
        decide(book.ledger, who, _set(book), ticked, decision, AT)
    assert words in refused.value.message


def test_every_ticked_proposal_refused_records_nothing() -> None:
    book, (giver_other, giver_same, _, _) = _book()
    s = _set(book)
    book.followup(giver_other, 0, 1_000_000).followup(giver_same, 0, 300_000)
    with pytest.raises(RuleViolation) as refused:
        decide(book.ledger, KSAU_MEMBER, s, {1, 2, 3}, KSAU, AT)
    assert "Inget förslag kunde registreras" in refused.value.message


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    first=st.sets(st.integers(1, 4), min_size=1),
    second=st.sets(st.integers(1, 4), min_size=1),
    new_forecast=st.none() | st.integers(0, 1_200_000),
)
def test_the_first_decision_closes_the_set_and_never_moves_more_than_is_unused(
    first, second, new_forecast
) -> None:
    """Whatever is ticked, and whatever the source's follow-up says by then: what is
    recorded passes the reallocation rule in order, never moves more than the latest
    follow-ups leave unused, every proposal gets exactly one fate, and once the
    decision is recorded a second one (another copy, a retry) is refused and moves nothing."""
    book, (giver_other, _, _, _) = _book()
    s = _set(book)
    if new_forecast is not None:
        book.followup(giver_other, 0, new_forecast)
    try:
        outcome = decide(book.ledger, KSAU_MEMBER, s, first, KSAU, AT)
    except RuleViolation:
        return  # nothing could be recorded: nothing to close
    numbers = {i.number for i in s.items}
    fates = [*outcome.recorded, *(n for n, _ in outcome.refused), *outcome.not_ticked]
    assert sorted(fates) == sorted(numbers)
    ledger = book.ledger
    for entry in outcome.entries:
        assert check_reallocation(ledger, entry) == []
        ledger = ledger.append(entry)
    decided = replace(
        s,
        decision=SetDecision(
            "KSAU 2025-06-20 § 5", "aad-ksau", "Karin", AT, outcome.recorded, outcome.refused, ()
        ),
    )
    assert check_set_open(decided) and not check_set_open(s)
    with pytest.raises(RuleViolation) as again:
        decide(ledger, KSAU_MEMBER, decided, second, KSAU, AT)
    assert "redan beslutade" in again.value.message and "registrerat av Karin" in again.value.message
