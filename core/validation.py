"""Replaying a ledger: every entry is checked against the ledger before it,
and the invariants are checked on the whole. Used to prove a stored ledger
is sound and by the property tests."""

from __future__ import annotations

from core.entries import (
    AllocationEndEntry,
    AllocationEntry,
    FundEntry,
    LedgerEntry,
    MeasureFundingEntry,
    ReallocationEntry,
)
from core.errors import RuleError
from core.ledger import Ledger
from core.needs import NeedEntry, NeedLinkEndedEntry, NeedLinkEntry, Needs
from core.rules import (
    check_allocation,
    check_allocation_end,
    check_fund,
    check_link,
    check_link_end,
    check_measure_funding,
    check_need,
    check_reallocation,
)
from core.rules.decision import check_decision_plausible
from core.rules.fund_limit import check_fund_limits
from core.rules.unit_limit import unit_unallocated


def check_entry(ledger: Ledger, entry: LedgerEntry) -> list[RuleError]:
    match entry:
        case FundEntry():
            return check_fund(ledger, entry)
        case AllocationEntry():
            return check_allocation(ledger, entry)
        case AllocationEndEntry():
            return check_allocation_end(ledger, entry)
        case MeasureFundingEntry():
            return check_measure_funding(ledger, entry) + check_decision_plausible(entry.decision, entry.year)
        case ReallocationEntry():
            # A replay sees follow-ups reported after the entry too; the
            # forecast rule is checked when the entry is made, not replayed.
            return [e for e in check_reallocation(ledger, entry) if e.code != "exceeds_unused"]
    return []


def validate(ledger: Ledger) -> list[RuleError]:
    """Replay every entry in order; collect every problem."""
    errors: list[RuleError] = []
    replay = Ledger(units=ledger.units, measures=ledger.measures, followups=ledger.followups)
    for entry in ledger.entries:
        for error in check_entry(replay, entry):
            errors.append(RuleError(error.code, f"Post {entry.seq}: {error.message}", error.field))
        replay = Ledger(
            units=replay.units,
            measures=replay.measures,
            entries=(*replay.entries, entry),
            followups=replay.followups,
        )
    errors += check_fund_limits(ledger)
    for year in ledger.years:
        for code in ledger.units:
            if unit_unallocated(ledger, code, year) < 0:
                errors.append(RuleError("unit_exceeded", f"{code} har beviljat mer än den fått för {year}."))
    return errors


def validate_needs(needs: Needs, ledger: Ledger) -> list[RuleError]:
    """Replay the needs' entries in order, each checked against the needs before it
    (core.rules.needs): a need whole and consistent, a link to a need and a measure
    that exist with one measure's shares within 100 %, only an active link ended.
    The surplus note is checked when a link is made, not replayed (the money of a
    measure may come later)."""
    errors: list[RuleError] = []
    replay = Needs()
    for entry in needs.entries:
        match entry:
            case NeedEntry():
                found = check_need(ledger, entry)
            case NeedLinkEntry():
                found = [e for e in check_link(replay, ledger, entry) if e.code != "surplus_needs_note"]
            case NeedLinkEndedEntry():
                found = check_link_end(replay, entry)
        errors += [RuleError(e.code, f"Behovspost {entry.seq}: {e.message}", e.field) for e in found]
        replay = Needs(entries=(*replay.entries, entry))
    return errors
