"""Roles from Entra groups (issue 22): which grants a sync adds and which it takes back.

A mapping says that the members of an Entra security group hold a role (for a unit).
A sync reads every mapped group's members from Microsoft Graph and then decides, here,
without any I/O:

- a member of a group that gives (role, unit) who does not hold it gets it, granted
  by the group ("entra-grupp:<group id>", `granted_by_group`);
- a grant the sync made (its `granted_by` names a group) is taken back when its
  holder is in no group that gives that (role, unit) any more (a group left, or
  the mapping removed);
- a grant made by hand (any other `granted_by`) is never touched, and a person who
  already holds the role by hand gets nothing new: they keep it after leaving the group;
- a group whose read failed changes nothing: nobody gets its role from it, and no
  grant of a (role, unit) it gives is taken back, since its holder may be in it.

A person holds a (role, unit) once (storage's unique grant): someone in two groups that
give it has one grant, named after the first group in the mappings' order, and keeps
it while they are in either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.errors import InputError, echo, input_error
from core.model import Role

GROUP_GRANTOR = "entra-grupp:"
"""How a grant made by a sync names its group in `granted_by`."""

SYNC_REVOKER = "entra-synk"
"""Who took back a grant a sync made (`revoked_by` of its revocation)."""

PERMISSION = "GroupMember.Read.All"
"""The Microsoft Graph application permission a sync needs."""

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def granted_by_group(group_id: str) -> str:
    return f"{GROUP_GRANTOR}{group_id}"


def group_of(granted_by: str) -> str | None:
    """The group a grant was made by, or None for a grant made by hand."""
    return granted_by[len(GROUP_GRANTOR) :] if granted_by.startswith(GROUP_GRANTOR) else None


def is_object_id(text: str) -> bool:
    """Whether `text` is an Entra object id (a GUID, any case, perhaps in braces)."""
    return _GUID.fullmatch(text.strip().strip("{}").lower()) is not None


def read_group_id(text: str, field: str | None = "grupp-id") -> str:
    """An Entra group's object id as stored (a GUID in lower case), or InputError in Swedish."""
    key = text.strip().strip("{}").lower()
    if _GUID.fullmatch(key) is None:
        raise _bad_group_id(text, field)
    return key


def _bad_group_id(text: str, field: str | None) -> InputError:
    return input_error(
        "bad_group_id",
        f'Grupp-id "{echo(text)}" är inget objekt-id i Entra ID. Ange gruppens objekt-id, ett GUID '
        "som 3f2b9c1e-8d4a-4e57-9b1f-2c6d7e8f9a01 (Entra-administrationscentret: Grupper → gruppen "
        "→ Översikt → Objekt-ID), inte gruppens namn eller e-postadress.",
        field,
    )


@dataclass(frozen=True, slots=True)
class GroupMapping:
    """The members of Entra group `group_id` hold `role` (for `unit`: chef and hr)."""

    group_id: str
    role: Role
    unit: str | None = None
    name: str = ""

    @property
    def key(self) -> tuple[Role, str | None]:
        return self.role, self.unit

    @property
    def shown(self) -> str:
        """The group as a person reads it: its name, else its id."""
        return self.name or self.group_id


@dataclass(frozen=True, slots=True)
class Member:
    """A user in a group, as Graph names them ("" where not given)."""

    user_id: str
    name: str = ""
    upn: str = ""
    mail: str = ""


@dataclass(frozen=True, slots=True)
class GroupRead:
    """What reading one group gave: its members, or (error not "") why it could not be read."""

    group_id: str
    members: tuple[Member, ...] = ()
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True, slots=True)
class HeldGrant:
    """A grant as stored, with who made it (`granted_by`)."""

    user: str
    role: Role
    unit: str | None
    granted_by: str


@dataclass(frozen=True, slots=True)
class GrantChange:
    """A grant a sync adds or takes back; `group_id`: the group that gives it (added) or
    that made it (taken back)."""

    user: str
    role: Role
    unit: str | None
    group_id: str


@dataclass(frozen=True, slots=True)
class SyncPlan:
    add: tuple[GrantChange, ...] = ()
    revoke: tuple[GrantChange, ...] = ()
    held_back: tuple[GrantChange, ...] = ()
    """Grants the sync made whose holder is in no group it read, kept because another
    group that gives the same role could not be read."""


def _order(change: GrantChange) -> tuple[str, str, str, str]:
    return change.role.value, change.unit or "", change.user, change.group_id


def plan_sync(
    mappings: Iterable[GroupMapping], reads: Mapping[str, GroupRead], held: Iterable[HeldGrant]
) -> SyncPlan:
    """The grants to add and take back (see the module). `reads`: each group's read by
    id; a mapped group missing from it counts as a failed read."""
    givers: dict[tuple[Role, str | None], list[GroupMapping]] = {}
    for mapping in mappings:
        givers.setdefault(mapping.key, []).append(mapping)
    unknown = {
        key
        for key, maps in givers.items()
        if any(reads.get(m.group_id) is None or not reads[m.group_id].ok for m in maps)
    }
    members: dict[tuple[Role, str | None], dict[str, str]] = {}  # key -> user -> first group
    for key, maps in givers.items():
        found = members.setdefault(key, {})
        for m in maps:
            read = reads.get(m.group_id)
            if read is None or not read.ok:
                continue
            for member in read.members:
                found.setdefault(member.user_id, m.group_id)
    holding = {(g.user, g.role, g.unit): g for g in held}
    add = [
        GrantChange(user, role, unit, group)
        for (role, unit), users in members.items()
        for user, group in users.items()
        if (user, role, unit) not in holding
    ]
    revoke: list[GrantChange] = []
    held_back: list[GrantChange] = []
    for grant in holding.values():
        group = group_of(grant.granted_by)
        if group is None:
            continue  # made by hand: never the sync's
        key = (grant.role, grant.unit)
        if grant.user in members.get(key, {}):
            continue
        change = GrantChange(grant.user, grant.role, grant.unit, group)
        (held_back if key in unknown else revoke).append(change)
    return SyncPlan(
        tuple(sorted(add, key=_order)),
        tuple(sorted(revoke, key=_order)),
        tuple(sorted(held_back, key=_order)),
    )


def read_failure(group: str, status: int, code: str = "", reason: str = "") -> str:
    """Why a group's members could not be read, in Swedish, for `roles groups`: what
    Graph answered and what an administrator does about it."""
    unchanged = "Gruppens roller ändrades inte."
    answered = f"{status} {code}".strip()
    if status == 403:
        return (
            f"Microsoft Graph nekade läsning av gruppen {group} ({answered}): appen saknar "
            f"applikationsbehörigheten {PERMISSION} eller administratörens medgivande till den. "
            "En administratör ger den i Entra-administrationscentret: Appregistreringar → "
            f"botens app → API-behörigheter → Lägg till en behörighet → Microsoft Graph → "
            f"Programbehörigheter → {PERMISSION}, och sedan Bevilja administratörsmedgivande. "
            f"{unchanged}"
        )
    if status == 401:
        return (
            f"Microsoft Graph tog inte emot botens inloggning ({answered}) när gruppen {group} skulle "
            "läsas: kontrollera appregistreringens klient-id, klienthemlighet och klientorganisation "
            f"(CONNECTIONS__SERVICE_CONNECTION__SETTINGS__…). {unchanged}"
        )
    if status == 404:
        return (
            f"Gruppen {group} finns inte i Entra ID ({answered}): den kan ha tagits bort eller "
            "id:t vara fel. Kontrollera gruppens objekt-id i Entra-administrationscentret, eller ta bort "
            f"kopplingen med kompetensbot roles unmap-group. {unchanged}"
        )
    if status == 0:
        why = reason.rstrip(".") or "Microsoft Graph svarade inte"
        return f"Gruppen {group} kunde inte läsas: {why}. {unchanged} Nästa synk försöker igen."
    return (
        f"Microsoft Graph svarade {answered} när gruppen {group} skulle läsas"
        f"{': ' + reason if reason else ''}. {unchanged} Nästa synk försöker igen."
    )
