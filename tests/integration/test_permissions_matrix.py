"""Permissions, table-driven: every role (chef, hr, stadskontoret, ksau, none)
× every action × the person's own unit and another unit, through the
application services that the chat and the command line both call, and
through the chat where the chat offers the action. Every refusal is asserted
to be a Swedish PermissionDenied that names the action, and to write nothing.

The person's own unit is GVN; the other unit is FSKN."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.services import Services
from core.errors import DomainError, PermissionDenied
from core.model import Body, Decision, Measure, Principal, Role, RoleGrant, Status
from core.permissions import Action, can

OWN, OTHER = "GVN", "FSKN"
ROLES = ["chef", "hr", "stadskontoret", "ksau", "none"]
AS_OF = date(2025, 10, 1)
KS = Decision(Body.KS, date(2025, 3, 5))
KSAU = Decision(Body.KSAU, date(2025, 6, 20), paragraph="5")
NÄMND = Decision(Body.COMMITTEE, date(2025, 2, 5))
MEASURE_OF = {OWN: "Yrkeslärarsatsning", OTHER: "Stärka formell kompetens"}

# The rules, written out: role -> (action -> "own" | "all" | "none"). A unit-scoped role
# (chef, hr) holds its grant for OWN only.
EXPECTED: dict[str, dict[Action, str]] = {
    "chef": {Action.READ: "own", Action.FOLLOW_UP: "own"},
    "hr": {
        Action.READ: "own",
        Action.FOLLOW_UP: "own",
        Action.SUBMIT_MEASURE: "own",
        Action.ASSESS_NEEDS: "own",
        Action.REMIND_ROUND: "own",
        Action.SET_SUBSTITUTE: "own",
    },
    "stadskontoret": {
        Action.READ: "all",
        Action.FOLLOW_UP: "all",
        Action.SUBMIT_MEASURE: "all",
        Action.ASSESS_NEEDS: "all",
        Action.ALLOCATE: "all",
        Action.MANAGE_ROLES: "all",
        **{a: "all" for a in Action if a.name == "MANAGE_ROUNDS"},
        Action.REMIND_ROUND: "all",
        Action.SET_SUBSTITUTE: "all",
    },
    "ksau": {Action.READ: "all", Action.REALLOCATE: "all"},
    "none": {},
}


def principal(role: str) -> Principal:
    if role == "none":
        return Principal("p")
    unit = OWN if role in ("chef", "hr") else None
    return Principal("p", (RoleGrant("p", Role(role), unit),))


def allowed(role: str, action: Action, unit: str | None) -> bool:
    scope = EXPECTED[role].get(action, "none")
    if scope == "all":
        return True
    return scope == "own" and unit == OWN


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("unit", [OWN, OTHER, None], ids=["own unit", "other unit", "city-wide"])
def test_the_core_table(role: str, action: Action, unit: str | None) -> None:
    """core.permissions.can against the table above, for every Action there is (a new
    action without a row here fails: it must be decided, not defaulted)."""
    assert can(principal(role), action, [unit] if unit else []) == allowed(role, action, unit)


# --- through the services ---------------------------------------------------------------


def _id(services: Services, unit: str) -> str:
    ledger = services.ledger()
    return str(next(m.id for m in ledger.measures.values() if m.title == MEASURE_OF[unit]))


Run = Callable[[Services, str, str], Any]
SERVICE_ACTIONS: dict[str, tuple[Action, bool, Run]] = {
    # name: (the action it needs, whether it is per unit, how to do it as `user` for `unit`)
    "read funds": (Action.READ, True, lambda s, u, unit: s.funds(u, 2025, unit)),
    "read measures": (Action.READ, True, lambda s, u, unit: s.measures(u, unit=unit, as_of=AS_OF)),
    "read a measure": (Action.READ, True, lambda s, u, unit: s.measure(u, _id(s, unit), AS_OF)),
    "submit a measure": (
        Action.SUBMIT_MEASURE,
        True,
        lambda s, u, unit: s.submit_measure(u, Measure(0, "Ny insats", (unit,), 2025), {unit: 1_000}, NÄMND),
    ),
    "grant a measure": (
        Action.SUBMIT_MEASURE,
        True,
        lambda s, u, unit: s.grant_measure(u, _id(s, unit), unit, 1_000, NÄMND),
    ),
    "add a follow-up": (
        Action.FOLLOW_UP,
        True,
        lambda s, u, unit: s.add_followup(
            u,
            _id(s, unit),
            period="2025-09",
            status=Status.ONGOING,
            spent=1_000,
            forecast=2_000,
            usable_as_planned=True,
        ),
    ),
    "allocate": (Action.ALLOCATE, True, lambda s, u, unit: s.allocate(u, unit, 2025, 1_000, KS)),
    "set the fund": (Action.ALLOCATE, False, lambda s, u, unit: s.set_fund(u, 2026, 1_000_000, KS)),
    "reallocate": (
        Action.REALLOCATE,
        False,
        lambda s, u, unit: s.reallocate(u, "Yrkeslärare i vård och omsorg", MEASURE_OF[OWN], 1_000, KSAU),
    ),
    "grant a role": (Action.MANAGE_ROLES, False, lambda s, u, unit: s.grant_role(u, "ny", Role.CHEF, OWN)),
    "revoke a role": (Action.MANAGE_ROLES, False, lambda s, u, unit: s.revoke_role(u, "p", Role.CHEF, OWN)),
}


def _state(services: Services) -> tuple[int, int, int, int]:
    ledger = services.ledger()
    return len(ledger.entries), len(ledger.measures), len(ledger.followups), len(services.roles(None))


def _grant(services: Services, user: str, role: str) -> None:
    if role != "none":
        services.grant_role(None, user, Role(role), OWN if role in ("chef", "hr") else None)


def test_every_service_refuses_every_role_and_unit_it_should(example_engine: Engine) -> None:
    """One database, one person per role ("p-chef", ...), every service for both units."""
    services = Services(example_engine, org="malmo")
    for role in ROLES:
        user = f"p-{role}"
        _grant(services, user, role)
        refused = 0
        for name, (action, per_unit, run) in SERVICE_ACTIONS.items():
            for unit in (OWN, OTHER) if per_unit else (OWN,):
                before = _state(services)
                try:
                    run(services, user, unit)
                    outcome = "done"
                except PermissionDenied as refusal:
                    outcome = "refused"
                    refused += 1
                    assert f"har inte behörighet att {action.value}" in refusal.message, refusal.message
                    assert "Behörighet ges av stadskontorets HR-avdelning." in refusal.message
                    assert _state(services) == before, f"{role}: {name} for {unit} was refused but wrote"
                except DomainError:
                    outcome = "done"  # permitted; a rule of the domain said no (e.g. no money left)
                expected = allowed(role, action, unit if per_unit else None)
                assert outcome == ("done" if expected else "refused"), (role, name, unit, outcome)
        assert refused or role == "stadskontoret", role


def test_what_each_role_may_list(example_engine: Engine) -> None:
    """Queries without a unit show only what the role may read; nothing at all is a refusal."""
    services = Services(example_engine, org="malmo")
    services.grant_role(None, "someone-else", Role.CHEF, OTHER)
    for role in ROLES:
        user = f"p-{role}"
        _grant(services, user, role)
        if role == "none":
            with pytest.raises(PermissionDenied, match="Du har ingen roll i kompetensbot"):
                services.funds(user, 2025)
            with pytest.raises(PermissionDenied, match="Du har ingen roll i kompetensbot"):
                services.measures(user, as_of=AS_OF)
            continue
        units = {u.code for u in services.funds(user, 2025).units}
        measure_units = {code for v in services.measures(user, as_of=AS_OF) for code in v.measure.units}
        if role in ("chef", "hr"):
            assert units == {OWN}, role
            assert OWN in measure_units and OTHER not in measure_units, role
        else:
            assert {OWN, OTHER} <= units and {OWN, OTHER} <= measure_units, role
        # only the role manager sees everyone's roles; the others see their own
        assert ("someone-else" in {g.user for g in services.roles(user)}) == (role == "stadskontoret"), role
