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


def amount_fits(ledger: Ledger, unit: str, year: int, amount: int) -> list[RuleError]:
    """Does `amount` fit as a new grant of `unit`'s money of `year` (a new
    measure's funding)? Empty when it does; else why not: not positive, or more
    than the unit has unallocated. The question the chat and the form ask before
    the measure exists (no measure or entry is made up to ask it); the write asks
    it again through check_measure_funding."""
    if amount <= 0:
        return [_NOT_POSITIVE]
    return _over_unallocated(ledger, unit, year, amount)


_NOT_POSITIVE = RuleError("amount_not_positive", "Beloppet måste vara större än 0 kr.", "belopp")


def _over_unallocated(ledger: Ledger, unit: str, year: int, amount: int) -> list[RuleError]:
    free = unit_unallocated(ledger, unit, year)
    if amount <= free:
        return []
    return [
        RuleError(
            "unit_exceeded",
            f"Beloppet {kr(amount)} är mer än vad {unit_name(ledger, unit)} "
            f"har kvar att fördela för {year}: {kr(max(free, 0))}.",
            "belopp",
        )
    ]


def check_measure_funding(ledger: Ledger, entry: MeasureFundingEntry) -> list[RuleError]:
    errors: list[RuleError] = []
    if entry.amount <= 0:
        errors.append(_NOT_POSITIVE)
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
    return _over_unallocated(ledger, entry.unit, entry.year, entry.amount)
