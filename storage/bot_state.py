"""The bot's own records: dialog and user state (a versioned key-value
store), conversation references, processed activity ids and tenant links.

Plain synchronous functions over an engine; bot/ adapts them to the SDK's
Storage interface and calls them off the event loop.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import BindParameter, bindparam, delete, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from storage.db import autocommit, unsynced_commits
from storage.driver_sql import DriverQuery
from storage.read_model import Freshness, tenant_freshness
from storage.tables import (
    BotStateRow,
    ConversationRefRow,
    OrganisationRow,
    ProcessedActivityRow,
    TenantRow,
    table,
    utcnow,
)

_WRITE_LOCKS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_WRITE_LOCKS_LOCK = threading.Lock()

_state = table(BotStateRow)
_refs = table(ConversationRefRow)
_orgs = table(OrganisationRow)
_processed = table(ProcessedActivityRow)
_tenants = table(TenantRow)


@contextmanager
def _one_writer(engine: Engine) -> Iterator[None]:
    """On SQLite, the bot's own write transactions (claims, references, state) in
    one process take turns on a lock. SQLite lets one writer in at a time and
    makes the others poll with growing sleeps (busy_timeout); a lock wakes the
    next writer as soon as the database is free (what it bought:
    bench/README.md, "Speed tricks"). PostgreSQL locks rows, not the
    database: nothing to do there."""
    if engine.dialect.name != "sqlite":
        yield
        return
    lock = _WRITE_LOCKS.get(engine)
    if lock is None:
        with _WRITE_LOCKS_LOCK:
            lock = _WRITE_LOCKS.setdefault(engine, threading.Lock())
    with lock:
        yield


class StaleWrite(Exception):
    """A state write named a version that is no longer the stored one: another
    turn wrote the key in between. The write is refused, never merged or lost."""

    def __init__(self, key: str):
        super().__init__(f"state {key!r} was changed by another turn")
        self.key = key


@dataclass(frozen=True, slots=True)
class StateItem:
    data: dict[str, Any]
    version: int


_STATE_INSERT = insert(_state)
_STATE_UPDATE = (
    update(_state)
    .where(_state.c.key == bindparam("the_key"), _state.c.version == bindparam("read"))
    .values(data=bindparam("text"), version=bindparam("next"), updated_at=bindparam("at"))
)


class StateStore:
    """A key → JSON document store with a version per key."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def read(self, keys: list[str]) -> dict[str, StateItem]:
        with self.engine.connect() as conn:
            return read_states(conn, keys)

    def write(self, key: str, data: dict[str, Any], expected_version: int | None) -> int:
        """Store `data` if the key is still at `expected_version` (None: the key
        must not exist yet). Returns the new version; raises StaleWrite otherwise."""
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        with _one_writer(self.engine), autocommit(self.engine) as conn:  # one statement
            if expected_version is None:
                try:
                    values = {"key": key, "data": text, "version": 1, "updated_at": utcnow()}
                    conn.execute(_STATE_INSERT, values)
                except IntegrityError:
                    raise StaleWrite(key) from None
                return 1
            result = conn.execute(
                _STATE_UPDATE,
                {"the_key": key, "read": expected_version, "text": text, "next": expected_version + 1,
                 "at": utcnow()},
            )  # fmt: skip
            if result.rowcount != 1:
                raise StaleWrite(key)
            return expected_version + 1

    def delete(self, keys: list[str]) -> None:
        with _one_writer(self.engine), self.engine.begin() as conn:
            conn.execute(delete(_state).where(_state.c.key.in_(keys)))


# The statements a turn runs, built once (with bound parameters) rather than
# on every call: building and caching a statement costs more than running it.
# The reads every message makes run on the driver's cursor (storage.driver_sql).


@functools.lru_cache(maxsize=8)
def _states(count: int) -> DriverQuery:
    """The read of `count` state keys (a turn reads its conversation's and its user's)."""
    keys: list[BindParameter[Any]] = [bindparam(f"key{i}") for i in range(count)]
    return DriverQuery(select(_state.c.key, _state.c.data, _state.c.version).where(_state.c.key.in_(keys)))


_REFERENCE = DriverQuery(
    select(
        _refs.c.reference,
        _refs.c.org_id,
        _refs.c.tenant_id,
        _refs.c.conversation_type,
    ).where(
        _refs.c.conversation_id == bindparam("conversation_id"),
        _refs.c.user_id == bindparam("user_id"),
    )
)


def _claim_statement(dialect: Any) -> Any:
    """INSERT … ON CONFLICT DO UPDATE, taking over a claim only when its lease
    ended and its turn never finished (a finished turn's lease_until is NULL,
    so the WHERE is not true for it); RETURNING says whether it was taken
    (rowcount is not reliable here on psycopg). No error (and no savepoint)
    for a repeat. Two retries after the lease: the row lock makes the second
    see the first's new lease, so only one is taken."""
    claim = dialect.insert(_processed).values(
        key=bindparam("claim_key"),
        created_at=bindparam("created_at"),
        lease_until=bindparam("lease_until"),
        once=False,
    )
    return claim.on_conflict_do_update(
        index_elements=[_processed.c.key],
        set_={"created_at": claim.excluded.created_at, "lease_until": claim.excluded.lease_until},
        where=_processed.c.lease_until < claim.excluded.created_at,
    ).returning(_processed.c.key)


_CLAIMS = {
    dialect.__name__.rsplit(".", 1)[-1]: DriverQuery(_claim_statement(dialect))
    for dialect in (postgresql, sqlite)
}
_FINISHES = {
    "sqlite": DriverQuery(
        update(_processed)
        .where(_processed.c.key == bindparam("claim_key"))
        .values(lease_until=None)
        .returning(_processed.c.key)
    ),
    # A finished turn is marked without waiting for the disk, as SQLite's claims are
    # (storage.db.unsynced_commits): lost to a crash of the database server, the claim's
    # lease runs out and a retry is handled again, its writes kept once by their keys.
    "postgresql": DriverQuery(
        text(
            "WITH unsynced AS (SELECT set_config('synchronous_commit', 'off', true)) "
            "UPDATE processed_activities SET lease_until = NULL FROM unsynced "
            "WHERE processed_activities.key = :claim_key RETURNING processed_activities.key"
        )
    ),
}


_FINISH_SOME = (
    update(_processed)
    .where(_processed.c.key.in_(bindparam("claim_keys", expanding=True)))
    .values(lease_until=None)
)
_FINISH_MANY = DriverQuery(
    text(
        "WITH unsynced AS (SELECT set_config('synchronous_commit', 'off', true)) "
        "UPDATE processed_activities SET lease_until = NULL FROM unsynced "
        "WHERE processed_activities.key = ANY(:claim_keys) RETURNING processed_activities.key"
    )
)


def claim_key(scope: str, key: str) -> str:
    """The stored key of a claim: the SHA-256 (hex) of the whole of `scope` (a
    conversation id, or ONCE_KEYS) and `key` (an activity id, a write's once
    key), length-prefixed so that no two pairs give the same text. Nothing is
    cut: ids that differ anywhere are different claims."""
    return hashlib.sha256(f"{len(scope)}:{scope}{key}".encode("utf-8", "surrogatepass")).hexdigest()


def read_states(conn: Connection, keys: list[str]) -> dict[str, StateItem]:
    rows = _states(len(keys)).rows(conn, {f"key{i}": key for i, key in enumerate(keys)})
    return {key: StateItem(json.loads(data), version) for key, data, version in rows}


def claim_activity(
    engine: Engine, conversation_id: str, activity_id: str, lease: timedelta | None = None
) -> bool:
    """Claim an activity for a turn; False when a turn has it (its lease has not
    ended) or had it (it finished)."""
    with _one_writer(engine), engine.begin() as conn:
        return _claim(conn, conversation_id, activity_id, CLAIM_LEASE if lease is None else lease)


def finish_turn(engine: Engine, conversation_id: str, activity_id: str) -> None:
    """Mark an activity's turn finished: a retry of it is answered by nothing,
    however late (until the claim is pruned). One statement; committed without
    waiting for the disk on both databases (see _FINISHES)."""
    finish = _FINISHES[engine.dialect.name]
    key = claim_key(conversation_id, activity_id)
    if engine.dialect.name == "postgresql":
        with autocommit(engine) as conn:  # one statement: no BEGIN and COMMIT
            finish.rows(conn, {"claim_key": key})
        return
    # In a transaction: autocommit costs more on SQLite (pysqlite's isolation is set and reset).
    with _one_writer(engine), engine.connect() as conn, unsynced_commits(conn), conn.begin():
        finish.rows(conn, {"claim_key": key})


def finish_turns(engine: Engine, turns: list[tuple[str, str]]) -> None:
    """finish_turn for several (conversation id, activity id) at once: one
    statement on PostgreSQL, one transaction on SQLite (bot.claims.Finisher)."""
    keys = [claim_key(conversation_id, activity_id) for conversation_id, activity_id in turns]
    if engine.dialect.name == "postgresql":
        with autocommit(engine) as conn:
            _FINISH_MANY.rows(conn, {"claim_keys": keys})
        return
    with _one_writer(engine), engine.connect() as conn, unsynced_commits(conn), conn.begin():
        conn.execute(_FINISH_SOME, {"claim_keys": keys})


def renew_claim(engine: Engine, conversation_id: str, activity_id: str, lease: timedelta) -> None:
    """Extend the lease of a turn that still runs (bot.claims), unless it finished."""
    statement = (
        update(_processed)
        .where(_processed.c.key == claim_key(conversation_id, activity_id))
        .where(_processed.c.lease_until.is_not(None))
        .values(lease_until=utcnow() + lease)
    )
    with _one_writer(engine), engine.begin() as conn:
        conn.execute(statement)


CLAIM_LEASE = timedelta(seconds=60)
"""How long a turn holds its activity's claim before it is taken for dead (the
process was killed, the machine stopped). Longer than any turn takes: a turn
waits at most the reply attempts (bot.replies) and the database's timeouts.
Teams' retry of an activity whose turn is still running is answered by
nothing; one that comes after the lease ended is handled again (its writes
are kept once by their `once` keys). KOMPETENSBOT_CLAIM_LEASE_SECONDS."""


ONCE_KEYS = "kompetensbot:once"
"""The conversation_id under which a write's `once` key is claimed (bot.services):
kept for good, so that a card sent again days later is still not saved twice."""

CLAIMS_KEPT = timedelta(days=7)
"""How long an activity's claim is kept. The Bot Connector retries a delivery
within minutes; a week leaves room for a channel that was down over a weekend,
and keeps the table at a week of messages, not every message ever."""

_PRUNE_BATCH = 5000


def prune_claims(engine: Engine, now: datetime, kept: timedelta = CLAIMS_KEPT) -> int:
    """Delete the activity claims made before `now - kept` (the `once` keys
    stay) and say how many. In batches, each its own short transaction, so a
    first prune of a large table does not hold the turns' claims up."""
    older = (
        select(_processed.c.key)
        .where(_processed.c.created_at < now - kept, _processed.c.once.is_(False))
        .limit(_PRUNE_BATCH)
    )
    statement = delete(_processed).where(_processed.c.key.in_(older))
    pruned = 0
    while True:
        with _one_writer(engine), engine.begin() as conn:
            deleted = conn.execute(statement).rowcount
        pruned += deleted
        if deleted < _PRUNE_BATCH:
            return pruned


def _claim(conn: Connection, conversation_id: str, activity_id: str, lease: timedelta) -> bool:
    now = utcnow()
    values = {
        "claim_key": claim_key(conversation_id, activity_id),
        "created_at": now,
        "lease_until": now + lease,
    }
    statement = _CLAIMS.get(conn.dialect.name)
    if statement is None:  # pragma: no cover - the two databases kompetensbot runs on are above
        raise NotImplementedError(conn.dialect.name)
    return statement.first(conn, values) is not None


def save_conversation_reference(
    engine: Engine,
    *,
    org_id: int | None,
    tenant_id: str,
    user_id: str,
    conversation_id: str,
    conversation_type: str,
    reference: dict[str, Any],
) -> None:
    """Insert or refresh where a person (or, with user_id "", a channel) is reached."""
    with _one_writer(engine), engine.begin() as conn:
        _save_reference(
            conn,
            org_id=org_id,
            tenant_id=tenant_id,
            user_id=user_id,
            conversation_id=conversation_id,
            conversation_type=conversation_type,
            reference=reference,
        )


PER_ACTIVITY = frozenset({"activityId", "requestId"})
"""Parts of a conversation reference that name the activity it was taken from,
not where the conversation is: every message has new ones, and a proactive
message uses neither."""


def _same_reference(stored: str, reference: dict[str, Any]) -> bool:
    """The stored reference says the same as `reference` apart from PER_ACTIVITY,
    so a chat's reference is written when it changes, not every turn."""
    try:
        before = json.loads(stored)
    except ValueError:
        return False
    if not isinstance(before, dict):
        return False
    return {k: v for k, v in before.items() if k not in PER_ACTIVITY} == {
        k: v for k, v in reference.items() if k not in PER_ACTIVITY
    }


def _unchanged(
    stored: Any, org_id: int | None, tenant_id: str, conversation_type: str, reference: dict[str, Any]
) -> bool:
    """A stored reference row (reference, org_id, tenant_id, conversation_type;
    None: none) already says what would be written."""
    return (
        stored is not None
        and tuple(stored[1:]) == (org_id, tenant_id, conversation_type)
        and _same_reference(stored[0], reference)
    )


def _save_reference(
    conn: Connection,
    *,
    org_id: int | None,
    tenant_id: str,
    user_id: str,
    conversation_id: str,
    conversation_type: str,
    reference: dict[str, Any],
) -> None:
    text = json.dumps(reference, ensure_ascii=False, separators=(",", ":"))
    values = {
        "org_id": org_id,
        "tenant_id": tenant_id,
        "conversation_type": conversation_type,
        "reference": text,
        "updated_at": utcnow(),
    }
    current = _REFERENCE.first(conn, {"conversation_id": conversation_id, "user_id": user_id})
    if current is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(_refs).values(conversation_id=conversation_id, user_id=user_id, **values))
            return
        except IntegrityError:  # a concurrent turn stored it first
            pass
    elif _unchanged(current, org_id, tenant_id, conversation_type, reference):
        return
    conn.execute(
        update(_refs)
        .where(
            _refs.c.conversation_id == conversation_id,
            _refs.c.user_id == user_id,
            # A conversation stays in the tenant it was stored in (issue 23): an activity
            # from another tenant naming it (a token of another city's registration)
            # must not move a person's chat to that city. Only a reference stored
            # without a tenant takes one.
            or_(_refs.c.tenant_id == tenant_id, _refs.c.tenant_id == ""),
        )
        .values(**values)
    )


def conversation_references(engine: Engine, user_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(_refs.c.reference).where(_refs.c.user_id == user_id)).all()
    return [json.loads(r.reference) for r in rows]


def personal_references(engine: Engine, user_id: str, tenant_id: str) -> list[dict[str, Any]]:
    """The person's stored personal chats with the bot in a tenant, the latest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(_refs.c.reference)
            .where(
                _refs.c.user_id == user_id,
                _refs.c.tenant_id == tenant_id,
                _refs.c.conversation_type == "personal",
            )
            .order_by(_refs.c.updated_at.desc())
        ).all()
    return [json.loads(r.reference) for r in rows]


def stored_service_urls(engine: Engine) -> Iterator[tuple[str, str, str]]:
    """(conversation id, user id, serviceUrl) of every stored reference ("" when it has none)."""
    with engine.connect() as conn:
        rows = conn.execute(select(_refs.c.conversation_id, _refs.c.user_id, _refs.c.reference))
        for conversation_id, user_id, reference in rows:
            try:
                url = json.loads(reference).get("serviceUrl")
            except (ValueError, AttributeError):
                url = None
            yield conversation_id, user_id, url if isinstance(url, str) else ""


def org_for_tenant(engine: Engine, tenant_id: str | None) -> Freshness | None:
    """The city that serves a tenant (its linked city, or the only city there
    is): id, slug, name and its change markers (storage.read_model)."""
    with engine.connect() as conn:
        return tenant_freshness(conn, tenant_id)


def city_of_tenant(engine: Engine, tenant_id: str | None) -> str | None:
    """The slug of the city a tenant is linked to (`kompetensbot tenants link`), or None:
    only a link counts here, never "the only city there is"."""
    if not tenant_id:
        return None
    with engine.connect() as conn:
        slug = conn.execute(
            select(_orgs.c.slug)
            .select_from(_tenants.join(_orgs, _orgs.c.id == _tenants.c.org_id))
            .where(_tenants.c.tenant_id == tenant_id)
        ).scalar_one_or_none()
    return str(slug) if slug is not None else None


def link_tenant(engine: Engine, tenant_id: str, org_slug: str) -> None:
    with engine.begin() as conn:
        org = conn.execute(select(_orgs.c.id).where(_orgs.c.slug == org_slug)).first()
        if org is None:
            raise LookupError(org_slug)
        conn.execute(delete(_tenants).where(_tenants.c.tenant_id == tenant_id))
        conn.execute(insert(_tenants).values(tenant_id=tenant_id, org_id=org.id, created_at=utcnow()))
