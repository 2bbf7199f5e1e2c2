"""Entra groups mapped to roles (issue 22): the mappings (table group_mappings, updated
in place, as round_sends are), each with how its last sync went, and the city's grants
with who made them (a sync's decisions need `granted_by`, core.group_sync).

The grants themselves are written through the Repository (`grant`, `revoke`), which
seals them; nothing here writes a grant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.engine import Connection

from core.group_sync import GROUP_GRANTOR, GroupMapping, HeldGrant
from core.model import Role
from storage.mapping import aware, utc
from storage.tables import GroupMappingRow, RoleGrantRow, table, utcnow

_maps = table(GroupMappingRow)
_grants = table(RoleGrantRow)


@dataclass(frozen=True, slots=True)
class MappingStatus:
    """A mapping as `roles groups` shows it: who made it and when, and its last sync
    (`synced_at`: the last read of the group; `tried_at`: the last attempt; `error`:
    why that attempt failed, "" when it did not)."""

    mapping: GroupMapping
    created_by: str
    created_at: datetime
    synced_at: datetime | None
    tried_at: datetime | None
    members: int | None
    error: str


def _same(unit: str | None) -> ColumnElement[bool]:
    return _maps.c.unit_code == unit if unit is not None else _maps.c.unit_code.is_(None)


def mappings(conn: Connection, org_id: int) -> list[MappingStatus]:
    """The city's mappings, in the order they were made."""
    rows = conn.execute(select(_maps).where(_maps.c.org_id == org_id).order_by(_maps.c.id)).all()
    return [
        MappingStatus(
            GroupMapping(r.group_id, Role(r.role), r.unit_code, r.group_name),
            r.created_by,
            aware(r.created_at),
            aware(r.synced_at) if r.synced_at else None,
            aware(r.tried_at) if r.tried_at else None,
            r.members,
            r.sync_error,
        )
        for r in rows
    ]


def add_mapping(conn: Connection, org_id: int, mapping: GroupMapping, by: str) -> bool:
    """Store a mapping; False (and its name updated, when one is given) when the group
    is mapped to that role and unit already."""
    found = conn.execute(
        select(_maps.c.id).where(
            _maps.c.org_id == org_id,
            _maps.c.group_id == mapping.group_id,
            _maps.c.role == mapping.role.value,
            _same(mapping.unit),
        )
    ).first()
    if found is not None:
        if mapping.name:
            conn.execute(update(_maps).where(_maps.c.id == found.id).values(group_name=mapping.name))
        return False
    conn.execute(
        _maps.insert().values(
            org_id=org_id,
            group_id=mapping.group_id,
            group_name=mapping.name,
            role=mapping.role.value,
            unit_code=mapping.unit,
            created_by=by,
            created_at=utcnow(),
            sync_error="",
        )
    )
    return True


def remove_mapping(conn: Connection, org_id: int, group_id: str, role: Role, unit: str | None) -> int:
    """Remove a mapping; how many were removed (0 or 1)."""
    result = conn.execute(
        delete(_maps).where(
            _maps.c.org_id == org_id,
            _maps.c.group_id == group_id,
            _maps.c.role == role.value,
            _same(unit),
        )
    )
    return int(result.rowcount or 0)


def record_sync(
    conn: Connection, org_id: int, group_id: str, at: datetime, *, error: str = "", members: int | None = None
) -> None:
    """How reading `group_id` went at `at`, on each of its mappings: read (error ""), or why not."""
    values: dict[str, object] = {"tried_at": utc(at), "sync_error": error}
    if not error:
        values.update(synced_at=utc(at), members=members)
    conn.execute(update(_maps).where(_maps.c.org_id == org_id, _maps.c.group_id == group_id).values(**values))


def held_grants(conn: Connection, org_id: int) -> list[HeldGrant]:
    """Every grant of the city with who made it."""
    rows = conn.execute(
        select(_grants.c.user_id, _grants.c.role, _grants.c.unit_code, _grants.c.granted_by)
        .where(_grants.c.org_id == org_id)
        .order_by(_grants.c.id)
    ).all()
    return [HeldGrant(r.user_id, Role(r.role), r.unit_code, r.granted_by) for r in rows]


def any_group_grants(conn: Connection, org_id: int) -> bool:
    """Whether a sync made any of the city's grants (a sync is needed even without mappings:
    their grants go when the mappings did)."""
    found = conn.execute(
        select(_grants.c.id)
        .where(_grants.c.org_id == org_id, _grants.c.granted_by.startswith(GROUP_GRANTOR, autoescape=True))
        .limit(1)
    ).first()
    return found is not None
