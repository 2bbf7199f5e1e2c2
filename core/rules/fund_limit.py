"""Rule: the allocations of a fund-year never exceed its total, and a
recurring allocation reserves its amount in every later year."""

from __future__ import annotations

from core.entries import AllocationEndEntry, AllocationEntry, FundEntry
from core.errors import RuleError
from core.ledger import Ledger
from core.rules.names import kr, unit_name


def _positive(amount: int) -> list[RuleError]:
    if amount <= 0:
        return [RuleError("amount_not_positive", "Beloppet måste vara större än 0 kr.", "belopp")]
    return []


def check_fund(ledger: Ledger, entry: FundEntry) -> list[RuleError]:
    errors = _positive(entry.amount)
    if errors:
        return errors
    total = ledger.fund_total(entry.year) + entry.amount
    reserved = ledger.allocated_to_units(entry.year)
    if reserved > total:
        errors.append(
            RuleError(
                "fund_below_reserved",
                f"Anslaget för {entry.year} ({kr(total)}) räcker inte till de överföringar "
                f"som redan gäller för året ({kr(reserved)}).",
                "belopp",
            )
        )
    return errors


def check_allocation(ledger: Ledger, entry: AllocationEntry) -> list[RuleError]:
    errors = _positive(entry.amount)
    if entry.unit not in ledger.units:
        errors.append(RuleError("unknown_unit", f'Okänd nämnd "{entry.unit}".', "nämnd"))
    if not ledger.has_fund(entry.year):
        errors.append(
            RuleError(
                "no_fund",
                f"Det finns inget anslag för {entry.year}. Registrera årets anslag först.",
                "år",
            )
        )
    if errors:
        return errors
    years = [entry.year]
    if entry.recurring:
        years += [y for y in ledger.years if y > entry.year and ledger.has_fund(y)]
    for year in years:
        total = ledger.fund_total(year)
        free = total - ledger.allocated_to_units(year)
        if entry.amount > free:
            errors.append(
                RuleError(
                    "fund_exceeded",
                    f"Överföringen på {kr(entry.amount)} till {unit_name(ledger, entry.unit)} "
                    f"ryms inte i anslaget för {year}: {kr(free)} av {kr(total)} är "
                    "inte fördelat.",
                    "belopp",
                )
            )
    return errors


def check_allocation_end(ledger: Ledger, entry: AllocationEndEntry) -> list[RuleError]:
    target = next((e for e in ledger.entries if e.seq == entry.allocation_seq), None)
    if not isinstance(target, AllocationEntry) or not target.recurring:
        return [
            RuleError(
                "not_recurring",
                f"Post {entry.allocation_seq} är ingen återkommande överföring.",
                "överföring",
            )
        ]
    if entry.last_year < target.year:
        return [
            RuleError(
                "end_before_start",
                f"Sista året {entry.last_year} ligger före överföringens första år {target.year}.",
                "år",
            )
        ]
    return []


def check_fund_limits(ledger: Ledger) -> list[RuleError]:
    """The invariant over a whole ledger: no fund-year is over-allocated."""
    errors = []
    for year in ledger.years:
        if not ledger.has_fund(year):
            continue
        total, allocated = ledger.fund_total(year), ledger.allocated_to_units(year)
        if allocated > total:
            errors.append(
                RuleError(
                    "fund_exceeded",
                    f"Anslaget för {year} är överfördelat: {kr(allocated)} av {kr(total)}.",
                )
            )
    return errors
