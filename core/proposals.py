"""Reallocation proposals (omfördelningsförslag) from a round's answers.

Money a follow-up forecasts as unused (allocated − forecast) is proposed for
already-decided measures of the same year that reported a need for more
(forecast above their allocation). Within the same unit first, so that an
administration keeps its money where it can, then across units; largest
needs first. Every proposal passes the core's reallocation rule as if KSAU
had decided it, with the proposals before it applied: together they never
move more than is unused, and a proposal is only a proposal until KSAU
records it (`kompetensbot reallocate` or the bot).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from core.entries import ReallocationEntry
from core.ledger import Ledger
from core.model import Body, Decision
from core.rules.reallocation import check_reallocation


@dataclass(frozen=True, slots=True)
class Proposal:
    """Move `amount` kronor from one measure to another in `year`."""

    year: int
    from_measure: int
    to_measure: int
    amount: int
    same_unit: bool


@dataclass(frozen=True, slots=True)
class Need:
    measure_id: int
    amount: int  # forecast − allocated


@dataclass(frozen=True, slots=True)
class Surplus:
    measure_id: int
    amount: int  # allocated − forecast


def _unused_by_forecast(ledger: Ledger, year: int) -> list[tuple[int, int]]:
    """(measure, allocated − forecast) for every decided measure of the year with a
    follow-up: positive is money forecast as unused, negative money lacking."""
    out = []
    for mid in sorted(ledger.measures):
        if not ledger.is_decided(mid, year):
            continue
        latest = ledger.latest_followup(mid, year)
        if latest is not None:
            out.append((mid, ledger.measure_allocated(mid, year) - latest.forecast))
    return out


def surpluses(ledger: Ledger, year: int) -> list[Surplus]:
    """Decided measures whose latest follow-up forecasts money as unused."""
    return [Surplus(mid, unused) for mid, unused in _unused_by_forecast(ledger, year) if unused > 0]


def needs(ledger: Ledger, year: int) -> list[Need]:
    """Decided measures whose latest follow-up forecasts more than they have."""
    return [Need(mid, -unused) for mid, unused in _unused_by_forecast(ledger, year) if unused < 0]


_PROPOSAL_DECISION = Decision(Body.KSAU, date(1970, 1, 1), title="förslag")


def propose(ledger: Ledger, year: int) -> list[Proposal]:
    """Proposals that cover as much of the reported needs as the unused
    money allows, each within the reallocation rule."""
    left = {s.measure_id: s.amount for s in surpluses(ledger, year)}
    proposals: list[Proposal] = []
    at = datetime(year, 1, 1, tzinfo=UTC)
    for need in sorted(needs(ledger, year), key=lambda n: (-n.amount, n.measure_id)):
        wanted = need.amount
        to_units = set(ledger.measures[need.measure_id].units)

        unit_of = {m: set(ledger.measures[m].units) for m in left}
        donors = sorted(
            (m for m in left if left[m] > 0),
            key=lambda m: (not (to_units & unit_of[m]), -left[m], m),
        )
        for donor in donors:
            if wanted == 0:
                break
            amount = min(wanted, left[donor])
            entry = ReallocationEntry(year, donor, need.measure_id, amount, _PROPOSAL_DECISION, "förslag", at)
            if check_reallocation(ledger, entry):
                continue
            ledger = ledger.append(entry)
            left[donor] -= amount
            wanted -= amount
            proposals.append(
                Proposal(
                    year,
                    donor,
                    need.measure_id,
                    amount,
                    same_unit=bool(to_units & set(ledger.measures[donor].units)),
                )
            )
    return proposals
