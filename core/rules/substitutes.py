"""Rules: a substitution names someone else as substitute, runs forwards in time,
and is limited only to units the city has; who may name a person's substitute (issue 22)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from core.dates import format_date
from core.errors import PermissionDenied, RuleError, echo
from core.model import Principal, Role, RoleGrant
from core.permissions import Action, can, require
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


def check_units_held(
    absent_name: str, units: Collection[str], absent_grants: Collection[RoleGrant], absent: str
) -> list[RuleError]:
    """A substitution limited to units is limited to units the absent person holds a role in
    (a limit to another unit would stand in for nothing)."""
    held = sorted({g.unit for g in absent_grants if g.user == absent and g.unit is not None})
    foreign = sorted(u for u in units if u not in held)
    if not foreign:
        return []
    return [
        RuleError(
            "unit_not_held",
            f"{absent_name} har ingen roll i {', '.join(foreign)}; {absent_name}s nämnder: "
            f"{', '.join(held) or 'inga'}. Begränsa ersättningen till någon av dem, eller ange ingen nämnd.",
            "nämnd",
        )
    ]


def check_not_past(last: date, today: date) -> list[RuleError]:
    """An absence that ended before today is refused (a period written without a year is this
    year's, core.date_ranges: "1/6–10/6" on 17 June is over, not next year's)."""
    if last >= today:
        return []
    return [
        RuleError(
            "substitution_past",
            f"Frånvaron slutade {format_date(last)}, före i dag ({format_date(today)}). "
            "Ange dagar från i dag och framåt.",
            "till",
        )
    ]


def check_may_set(
    who: Principal, absent: str, absent_grants: Collection[RoleGrant], units: Collection[str] = ()
) -> None:
    """Who may name (or end) `absent`'s substitute: the person themselves when they hold any
    role; stadskontoret (and the administrator) for anyone; HR for people holding roles in its
    units: every unit the substitution is limited to (`units`), or without a limit every unit
    the absent person holds a role in. PermissionDenied (Swedish) otherwise, naming the units
    HR may limit it to."""
    if who.is_admin or (who.user == absent and who.grants):
        return
    if who.user == absent:
        require(who, Action.SET_SUBSTITUTE)  # no role at all: told so, with the id to grant one
    if can(who, Action.SET_SUBSTITUTE):
        return
    held = sorted({g.unit for g in absent_grants if g.unit is not None and g.user == absent})
    wanted = sorted(units) if units else held
    if wanted and all(u in held for u in wanted) and can(who, Action.SET_SUBSTITUTE, wanted):
        return
    mine = [u for u in held if can(who, Action.SET_SUBSTITUTE, [u])]
    if mine and (not units or not all(u in held for u in wanted)):
        others = ", ".join(u for u in held if u not in mine) or "inga"
        raise PermissionDenied(
            RuleError(
                "substitute_units",
                f"Du kan ange ersättare för personen i {', '.join(mine)}, där du är HR och personen har "
                f"en roll (personens övriga nämnder: {others}). Begränsa ersättningen till "
                f"{', '.join(mine)}.",
                "nämnd",
            )
        )
    if not held:
        raise PermissionDenied(
            RuleError(
                "substitute_no_roles",
                "Personen har ingen roll i någon av dina nämnder, så du kan inte ange ersättare för hen. "
                "Det kan personen själv eller stadskontoret.",
            )
        )
    if not can(who, Action.SET_SUBSTITUTE, wanted):
        raise PermissionDenied(_not_yours(who, wanted))


def _not_yours(who: Principal, theirs: Collection[str]) -> RuleError:
    """Another person's substitute, where the one asking is not their HR (nor stadskontoret)."""
    mine = sorted({g.unit for g in who.grants if g.role == Role.HR and g.unit is not None})
    if mine:
        said = (
            "Du kan bara ange ersättare för dig själv, eller som HR för personer i dina nämnder "
            f"({', '.join(mine)})."
        )
    else:
        said = (
            "Du kan bara ange ersättare för dig själv. HR anger ersättare för personer i sina nämnder, "
            "stadskontoret för alla."
        )
    return RuleError(
        "substitute_not_yours", f"{said} Personen har sina roller i {', '.join(theirs)}.", "person"
    )
