"""Rule: a measure never gets more than its unit has unallocated."""

from __future__ import annotations

from core.entries import AllocationEntry, MeasureFundingEntry
from core.errors import RuleError
from core.ledger import Ledger
from core.rules.names import kr, measure_name, unit_name


def unit_unallocated(ledger: Ledger, unit: str, year: int) -> int:
    """A unit's money not yet granted to any measure. Reallocations move money
    between measures and units alike, so they cancel out here."""
    transferred = sum(
        e.amount for e in ledger.allocations(year) if isinstance(e, AllocationEntry) and e.unit == unit
    )
    granted = sum(e.amount for e in ledger.fundings(year) if e.unit == unit)
    return transferred - granted


def check_measure_funding(ledger: Ledger, entry: MeasureFundingEntry) -> list[RuleError]:
    errors: list[RuleError] = []
    if entry.amount <= 0:
        errors.append(RuleError("amount_not_positive", "Beloppet måste vara större än 0 kr.", "belopp"))
    measure = ledger.measures.get(entry.measure_id)
    if measure is None:
        errors.append(RuleError("unknown_measure", f"Insatsen {entry.measure_id} finns inte."))
        return errors
    if entry.unit not in measure.units:
        errors.append(
            RuleError(
                "unit_not_on_measure",
                f"{unit_name(ledger, entry.unit)} står inte som ansvarig nämnd för "
                f"{measure_name(ledger, entry.measure_id)}.",
                "nämnd",
            )
        )
    if measure.kom_kr:
        errors.append(
            RuleError(
                "kom_kr_excluded",
                f"{measure_name(ledger, entry.measure_id)} kan finansieras med KOM-KR-medel "
                "och hanteras i KOM-KR-processen, inte i den här fonden.",
            )
        )
    if errors:
        return errors
    free = unit_unallocated(ledger, entry.unit, entry.year)
    if entry.amount > free:
        errors.append(
            RuleError(
                "unit_exceeded",
                f"Beloppet {kr(entry.amount)} är mer än vad {unit_name(ledger, entry.unit)} "
                f"har kvar att fördela för {entry.year}: {kr(max(free, 0))}.",
                "belopp",
            )
        )
    return errors
