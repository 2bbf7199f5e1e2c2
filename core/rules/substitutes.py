"""Rules: a substitution names someone else as substitute, runs forwards in time,
and is limited only to units the city has (issue 22)."""

from __future__ import annotations

from collections.abc import Collection

from core.dates import format_date
from core.errors import RuleError, echo
from core.substitutes import Substitution


def check_substitution(substitution: Substitution, units: Collection[str]) -> list[RuleError]:
    """A person is not their own substitute; the last day is not before the first; the units
    it is limited to are known."""
    errors: list[RuleError] = []
    if substitution.absent == substitution.substitute:
        errors.append(
            RuleError(
                "own_substitute",
                "En person kan inte vara sin egen ersättare. Ange någon annan som ersätter.",
                "ersättare",
            )
        )
    if substitution.last < substitution.first:
        errors.append(
            RuleError(
                "substitution_backwards",
                f"Frånvaron slutar ({format_date(substitution.last)}) före den börjar "
                f"({format_date(substitution.first)}). Ange första och sista dagen, till exempel "
                '"16 juni–11 juli".',
                "till",
            )
        )
    unknown = sorted(u for u in substitution.units if u not in units)
    if unknown:
        named = ", ".join(echo(u) for u in unknown)
        errors.append(
            RuleError(
                "unknown_unit",
                f"Okänd nämnd {named}. Kända nämnder: {', '.join(sorted(units))}.",
                "nämnd",
            )
        )
    return errors
