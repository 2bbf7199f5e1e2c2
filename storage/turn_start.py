"""What a turn reads and claims before the bot answers: the dedupe claim of
the activity, the city serving the tenant with its change markers, the
conversation reference, the turn's dialog and user state, and the person's
roles.

On SQLite those are five statements in one transaction (the database is in
the process: a statement costs microseconds), committed without waiting for
the disk (storage.db.unsynced_commits: a claim lost to a power cut costs at
most a retried message answered twice). On PostgreSQL each statement is
a round trip and work for the server process (parsing the message, running
the plan, answering; about as much again around BEGIN and COMMIT), and the
server shares the machine's cores with the bot. There they are one statement
(the claim a data-modifying CTE, the reads joined to it) run as its own
transaction, in autocommit. What each bought: bench/README.md, "Speed tricks".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, literal, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by, array_agg
from sqlalchemy.engine import Connection, Engine

from core.model import Principal
from storage.bot_state import (
    CLAIM_LEASE,
    StateItem,
    _claim,
    _claim_statement,
    _one_writer,
    _save_reference,
    _unchanged,
    claim_key,
    read_states,
)
from storage.db import autocommit, unsynced_commits
from storage.driver_sql import DriverQuery
from storage.read_model import (
    SERVED_CITY_FRESHNESS,
    Freshness,
    grants_of,
    principal_of,
    tenant_freshness,
    with_stand_in,
)
from storage.tables import BotStateRow, ConversationRefRow, RoleGrantRow, table, utcnow


@dataclass(frozen=True, slots=True)
class Arrival:
    """An incoming activity, as the start of its turn needs it.

    Attributes:
      conversation_id: the conversation it came in.
      activity_id: its id, claimed so that a retry is not handled twice (None:
        nothing to claim).
      tenant_id: the Teams tenant, which decides the city.
      reference: where the conversation is reached proactively (None: not
        stored for this activity).
      user_id: the person the reference is for ("" for a channel).
      conversation_type: "personal", "groupChat" or "channel".
      state_keys: the turn's dialog and user state keys.
      roles_of: whose roles to read in the city (None: nobody's).
      on: the day the roles are read for: what `roles_of` stands in for as someone's
        substitute that day comes with them (storage.read_model.grants_of; None: not read).
      only_city: a tenant that is not linked to a city is served by the only
        city there is (False: only a linked tenant is served; see bot.who).
      lease: how long the turn holds the activity's claim before it is taken
        for dead and a retry is handled again (storage.bot_state.CLAIM_LEASE).
    """

    conversation_id: str
    activity_id: str | None
    tenant_id: str | None
    reference: dict[str, Any] | None
    user_id: str
    conversation_type: str
    state_keys: tuple[str, ...] = ()
    roles_of: str | None = None
    only_city: bool = True
    lease: timedelta = CLAIM_LEASE
    on: date | None = None


@dataclass(frozen=True, slots=True)
class TurnStart:
    """What a turn needs from the database before the bot answers.

    Attributes:
      first: False when the activity is being handled or was handled (its claim
        is held or finished; nothing else is given). When True, the turn holds
        the claim until its lease ends: storage.bot_state.finish_turn at the end.
      org: the city serving the tenant, as a Freshness: id, slug, name and its
        change markers (None: no city does).
      states: the requested state keys that are stored (see StateStore).
      roles: the roles of `roles_of` in that city (None when not asked).
    """

    first: bool
    org: Freshness | None = None
    states: dict[str, StateItem] | None = None
    roles: Principal | None = None


def begin_turn(engine: Engine, arrival: Arrival) -> TurnStart:
    """Claim the activity for the turn's lease (when it has an id to claim; a
    repeat stops here, unless a turn that claimed it never finished and its
    lease ended),
    find the tenant's city with its change markers (a
    storage.read_model.Freshness), store the conversation reference (when
    given and changed), read the turn's dialog and user state, and the roles
    of `roles_of` in the city."""
    if engine.dialect.name == "postgresql" and len(arrival.state_keys) <= _STATE_KEYS:
        return _in_one_statement(engine, arrival)
    with _one_writer(engine), engine.connect() as conn, unsynced_commits(conn), conn.begin():
        if arrival.activity_id and not _claim(
            conn, arrival.conversation_id, arrival.activity_id, arrival.lease
        ):
            return TurnStart(False)
        org = tenant_freshness(conn, arrival.tenant_id, only_city=arrival.only_city)
        if org is None:
            return TurnStart(True)
        if arrival.reference is not None:
            _store_reference(conn, org, arrival, arrival.reference)
        states = read_states(conn, list(arrival.state_keys)) if arrival.state_keys else {}
        who = arrival.roles_of
        roles = grants_of(conn, org.org_id, who, arrival.on) if who is not None else None
    return TurnStart(True, org, states, roles)


def _store_reference(conn: Connection, org: Freshness, arrival: Arrival, reference: dict[str, Any]) -> None:
    _save_reference(
        conn,
        org_id=org.org_id,
        tenant_id=arrival.tenant_id or "",
        user_id=arrival.user_id,
        conversation_id=arrival.conversation_id,
        conversation_type=arrival.conversation_type,
        reference=reference,
    )


# --- PostgreSQL: one statement ------------------------------------------------------------

_STATE_KEYS = 2
"""State keys the statement reads (a turn has its conversation's and its user's)."""

_refs = table(ConversationRefRow)
_state = table(BotStateRow)
_grants = table(RoleGrantRow)


def _array_agg(expr: Any) -> ColumnElement[Any]:
    return array_agg(expr)  # type: ignore[no-any-return,no-untyped-call]  # SQLAlchemy's postgresql.array_agg is not annotated


def _turn_statement(claim: bool) -> Select[Any]:
    city = SERVED_CITY_FRESHNESS.subquery("city")
    if claim:
        inserted = _claim_statement(postgresql).cte("claim")
        claimed = select(func.count().label("claimed")).select_from(inserted).subquery("claimed")
    else:
        claimed = select(literal(1).label("claimed")).subquery("claimed")
    reference = (
        select(_refs.c.reference, _refs.c.org_id, _refs.c.tenant_id, _refs.c.conversation_type)
        .where(
            _refs.c.conversation_id == bindparam("conversation_id"),
            _refs.c.user_id == bindparam("ref_user"),
        )
        .subquery("reference")
    )
    states = (
        select(
            _array_agg(_state.c.key).label("keys"),
            _array_agg(_state.c.data).label("data"),
            _array_agg(_state.c.version).label("versions"),
        )
        .where(_state.c.key.in_([bindparam(f"key{i}") for i in range(_STATE_KEYS)]))
        .subquery("states")
    )
    roles = (
        select(
            _array_agg(aggregate_order_by(_grants.c.role, _grants.c.id)).label("roles"),
            _array_agg(aggregate_order_by(_grants.c.unit_code, _grants.c.id)).label("units"),
        )
        .where(_grants.c.org_id == city.c.id, _grants.c.user_id == bindparam("roles_of"))
        .lateral("roles")
    )
    return select(claimed.c.claimed, *city.c, *reference.c, *states.c, *roles.c).select_from(
        claimed.outerjoin(city, true())
        .outerjoin(reference, true())
        .join(states, true())
        .outerjoin(roles, true())
    )


_TURN = {True: DriverQuery(_turn_statement(True)), False: DriverQuery(_turn_statement(False))}
_CITY = slice(1, 1 + len(Freshness._fields))
_REST = _CITY.stop


def _in_one_statement(engine: Engine, arrival: Arrival) -> TurnStart:
    keys = [*arrival.state_keys, *[None] * (_STATE_KEYS - len(arrival.state_keys))]
    now = utcnow()
    params: dict[str, Any] = {
        "claim_key": claim_key(arrival.conversation_id, arrival.activity_id or ""),
        "created_at": now,
        "lease_until": now + arrival.lease,
        "tenant_id": arrival.tenant_id or None,
        "only_city": arrival.only_city,
        "conversation_id": arrival.conversation_id,
        "ref_user": arrival.user_id,
        "roles_of": arrival.roles_of,
        **{f"key{i}": key for i, key in enumerate(keys)},
    }
    with autocommit(engine) as conn:
        row = _TURN[bool(arrival.activity_id)].first(conn, params)
    assert row is not None  # the statement's first relation always has one row
    if not row[0]:
        return TurnStart(False)
    if row[1] is None:
        return TurnStart(True)
    org = Freshness(*row[_CITY])
    reference = arrival.reference
    stored = row[_REST : _REST + 4] if row[_REST] is not None else None
    if reference is not None and not _unchanged(
        stored, org.org_id, arrival.tenant_id or "", arrival.conversation_type, reference
    ):
        with engine.begin() as conn:
            _store_reference(conn, org, arrival, reference)
    found_keys, found_data, found_versions, role_names, role_units = row[_REST + 4 :]
    states = {
        key: StateItem(json.loads(data), version)
        for key, data, version in zip(found_keys or (), found_data or (), found_versions or (), strict=True)
    }
    roles = (
        principal_of(arrival.roles_of, zip(role_names or (), role_units or (), strict=True))
        if arrival.roles_of is not None
        else None
    )
    if roles is not None and arrival.on is not None:  # a substitute's stand-in grants: rare, read apart
        with autocommit(engine) as conn:
            roles = with_stand_in(conn, org.org_id, roles, arrival.on)
    return TurnStart(True, org, states, roles)
