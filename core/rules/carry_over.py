"""Rule: at the end of a plan period every measure not Klar is proposed for
carry-over (förs över) to the next plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.ledger import Ledger
from core.model import Measure, Status


@dataclass(frozen=True, slots=True)
class CarryOverProposal:
    """A measure proposed for the next plan, with its status at period end."""

    measure: Measure
    status: Status
    next_year: int


def carry_over_proposals(ledger: Ledger, last_year: int, as_of: date) -> tuple[CarryOverProposal, ...]:
    """Proposals for a plan period ending with `last_year`; none before it has ended."""
    if as_of <= date(last_year, 12, 31):
        return ()
    return tuple(
        CarryOverProposal(m, ledger.current_status(m.id), last_year + 1)
        for m in sorted(ledger.measures.values(), key=lambda m: m.id)
        if m.year <= last_year and ledger.current_status(m.id) != Status.DONE
    )
