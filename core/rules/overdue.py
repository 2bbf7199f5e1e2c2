"""Rule: a measure is overdue (försenad) when its end date has passed and its
status is not Klar."""

from __future__ import annotations

from datetime import date

from core.ledger import Ledger
from core.model import Measure, Status


def is_overdue(ledger: Ledger, measure: Measure, as_of: date) -> bool:
    return (
        measure.end_date is not None
        and measure.end_date < as_of
        and ledger.current_status(measure.id) != Status.DONE
    )


def overdue_measures(ledger: Ledger, as_of: date) -> tuple[Measure, ...]:
    return tuple(m for m in ledger.measures.values() if is_overdue(ledger, m, as_of))
