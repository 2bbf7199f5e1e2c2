"""What a reader sees of the city's data: plain values the services answer with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.balances import MeasureBalance, measure_balance
from core.ledger import Ledger
from core.model import Measure, Status
from core.rules import is_overdue


@dataclass(frozen=True, slots=True)
class MeasureView:
    """A measure as a reader sees it: plan data, current status and money."""

    measure: Measure
    status: Status
    balance: MeasureBalance
    overdue: bool


def measure_view(ledger: Ledger, m: Measure, as_of: date) -> MeasureView:
    """A measure as it stands in `ledger` on `as_of`."""
    return MeasureView(
        measure=m,
        status=ledger.current_status(m.id),
        balance=measure_balance(ledger, m.id),
        overdue=is_overdue(ledger, m, as_of),
    )
