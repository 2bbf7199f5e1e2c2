"""Who may do what: the one place that decides permissions.

Roles are scoped to units: a chef or hr grant names a unit; stadskontoret and
ksau grants see every unit. The administrator (the command line without
--user) may do everything.

| action            | chef | hr   | stadskontoret | ksau |
|-------------------|------|------|---------------|------|
| read              | own  | own  | all           | all  |
| follow_up         | own  | own  | all           |      |
| submit_measure    |      | own  | all           |      |
| assess_needs      |      | own  | all           |      |
| allocate          |      |      | all           |      |
| manage_roles      |      |      | all           |      |
| manage_rounds     |      |      | all           |      |
| remind_round      |      | own  | all           |      |
| reallocate        |      |      |               | all  |
| set_substitute    |      | own  | all           |      |

A substitute (ersättare, issue 22) standing in for an absent chef or hr holds,
while the absence lasts, the absent person's unit grants for read and
follow_up only (Principal.stand_in): never submit_measure, assess_needs,
remind_round, nor anything city-wide. Anyone with a role names their own substitute
(core.rules.substitutes.check_may_set); set_substitute is naming someone else's: HR for people
holding roles in its units, stadskontoret for anyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from core.errors import PermissionDenied, RuleError
from core.model import Principal, Role


class Action(StrEnum):
    READ = "läsa"
    FOLLOW_UP = "lämna uppföljning"
    SUBMIT_MEASURE = "lämna in insatser"
    ALLOCATE = "registrera anslag och överföringar"
    MANAGE_ROLES = "hantera behörigheter"
    MANAGE_ROUNDS = "öppna och stänga uppföljningsomgångar"
    REALLOCATE = "registrera omfördelningar"
    ASSESS_NEEDS = "registrera och koppla kompetensbehov"
    """Issue 21: assess a committee's competence needs and link them to measures: who may submit
    its measures (HR of the committee, stadskontoret)."""
    REMIND_ROUND = "påminna om uppföljningen"
    """An extra reminder of the round now, to those who have not answered (issue 20): HR for
    the recipients of its own units' measures, stadskontoret for all. Opening and closing a
    round stays MANAGE_ROUNDS."""
    SET_SUBSTITUTE = "ange ersättare för andra"
    """Issue 22: name or end another person's substitute during their absence (HR for people
    holding roles in its units, stadskontoret for anyone); one's own needs no more than a role."""


_CITY_WIDE = {Role.CITY_OFFICE, Role.KSAU}

_ALLOWED: dict[Role, frozenset[Action]] = {
    Role.CHEF: frozenset({Action.READ, Action.FOLLOW_UP}),
    Role.HR: frozenset(
        {
            Action.READ,
            Action.FOLLOW_UP,
            Action.SUBMIT_MEASURE,
            Action.ASSESS_NEEDS,
            Action.REMIND_ROUND,
            Action.SET_SUBSTITUTE,
        }
    ),
    Role.CITY_OFFICE: frozenset(
        {
            Action.READ,
            Action.FOLLOW_UP,
            Action.SUBMIT_MEASURE,
            Action.ASSESS_NEEDS,
            Action.ALLOCATE,
            Action.MANAGE_ROLES,
            Action.MANAGE_ROUNDS,
            Action.REMIND_ROUND,
            Action.SET_SUBSTITUTE,
        }
    ),
    Role.KSAU: frozenset({Action.READ, Action.REALLOCATE}),
}


STAND_IN_ACTIONS = frozenset({Action.READ, Action.FOLLOW_UP})
"""What a substitute may do with the absent person's unit grants."""


def _grant_covers(principal: Principal, action: Action, unit: str) -> bool:
    if any(action in _ALLOWED[g.role] and (g.role in _CITY_WIDE or g.unit == unit) for g in principal.grants):
        return True
    return action in STAND_IN_ACTIONS and any(
        g.unit == unit and g.role not in _CITY_WIDE and action in _ALLOWED[g.role] for g in principal.stand_in
    )


def can(principal: Principal, action: Action, units: Iterable[str] = ()) -> bool:
    """May the principal do `action` on all of `units` (none: city-wide)?"""
    if principal.is_admin:
        return True
    codes = list(units)
    if not codes:
        return any(action in _ALLOWED[g.role] and g.role in _CITY_WIDE for g in principal.grants)
    return all(_grant_covers(principal, action, code) for code in codes)


def can_any(principal: Principal, action: Action, units: Iterable[str]) -> bool:
    """May the principal do `action` on at least one of `units` (a shared measure)?"""
    return principal.is_admin or any(can(principal, action, [u]) for u in units)


def visible_units(principal: Principal, all_units: Iterable[str]) -> list[str]:
    return [u for u in all_units if can(principal, Action.READ, [u])]


def require(principal: Principal, action: Action, units: Iterable[str] = (), *, any_of: bool = False) -> None:
    """Raise PermissionDenied with a Swedish sentence unless allowed."""
    codes = list(units)
    allowed = can_any(principal, action, codes) if any_of else can(principal, action, codes)
    if allowed:
        return
    where = f" för {', '.join(codes)}" if codes else " för hela staden"
    roles = ", ".join(sorted({g.role.value + (f" ({g.unit})" if g.unit else "") for g in principal.grants}))
    held = f" Dina roller: {roles}." if roles else " Du har ingen roll i kompetensbot."
    standing = sorted({g.unit for g in principal.stand_in if g.unit})
    if standing:  # issue 22: what a substitute may do for the absent person, and no more
        held += f" Som ersättare får du läsa och följa upp för {', '.join(standing)}."
    # A person with no role is told the id an administrator gives `roles grant`.
    who = (
        ""
        if roles or standing or principal.is_admin
        else f" Ditt id för kompetensbot roles grant: {principal.user}."
    )
    raise PermissionDenied(
        RuleError(
            "permission_denied",
            f"Du har inte behörighet att {action.value}{where}.{held} "
            f"Behörighet ges av stadskontorets HR-avdelning.{who}",
        )
    )
