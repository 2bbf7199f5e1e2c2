"""The database engine, from DATABASE_URL.

Default: an SQLite file under ./var/. PostgreSQL URLs ("postgresql://…") are
served by psycopg 3. Engines are made by `make_engine`, never at import time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlmodel import create_engine

from core.in_memory import IN_PLACE, ReadInPlace
from storage.db_limits import DatabaseTimeouts, apply_postgres_timeouts, watched

DEFAULT_URL = "sqlite:///var/kompetensbot.db"

POOL_SIZE = 10
"""Connections an engine keeps open. The server does its database work on
that many threads at most (bot.app.DATABASE_THREADS), so a turn always finds
one: with a pool smaller than the threads, SQLAlchemy opens a connection for
the overflow and closes it again when it is returned (for PostgreSQL a new
server process, its login and its statement caches; how often: bench/README.md,
"Speed tricks")."""


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def normalise_url(url: str) -> str:
    """Accept plain postgres URLs and route them to psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(
    url: str | None = None, *, timeouts: DatabaseTimeouts | None = None, pool_size: int = POOL_SIZE
) -> Engine:
    """`timeouts`: PostgreSQL's connect, statement and lock timeouts (storage.db_limits;
    by default from the environment)."""
    url = normalise_url(url or database_url())
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, pool_size=pool_size)
        refuse_in_place(engine)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")  # every commit synced (but see unsynced_commits)
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    timeouts = timeouts or DatabaseTimeouts.from_env()
    engine = create_engine(url, pool_size=pool_size)
    refuse_in_place(engine)
    apply_postgres_timeouts(engine, timeouts)
    _ping_when_idle(engine, timeouts.connect or None)
    return engine


def refuse_in_place(engine: Engine) -> None:
    """Refuse a connection to a method running in place on the event loop
    (core.in_memory: an in-memory view's, run by dialogs.turn.call): it raises
    ReadInPlace naming the method instead of blocking every turn while it reads.
    One context variable read per checkout."""

    @event.listens_for(engine, "checkout")
    def _refuse(_dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        method = IN_PLACE.get()
        if method is not None:
            raise ReadInPlace(method)


PING_AFTER_IDLE = 2.0
"""Seconds a pooled PostgreSQL connection may rest before it is checked again."""


def _ping_when_idle(engine: Engine, limit: float | None = None) -> None:
    """Check a pooled connection before it is used, when it has rested longer
    than PING_AFTER_IDLE: one that the server or the network dropped in the
    meantime is replaced, not handed to a turn. SQLAlchemy's `pool_pre_ping`
    does this before every use, a round trip more for every transaction; a
    connection used a moment ago needs no check, and if the database went
    away since, the failing statement is seen as a lost connection and
    SQLAlchemy replaces the whole pool (its behaviour on a disconnect). A ping
    that gets no answer within `limit` seconds is cut (storage.db_limits) and
    counts as a lost connection too."""

    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["kompetensbot.idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("kompetensbot.idle_since")
        if since is None or time.monotonic() - since <= PING_AFTER_IDLE:
            return
        try:
            if limit:
                with watched(dbapi_connection, limit):
                    engine.dialect.do_ping(dbapi_connection)
            else:
                engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError(str(error)) from error  # the pool connects anew
            raise


def autocommit(engine: Engine) -> Connection:
    """A connection on which every statement is a transaction of its own, for
    work that is one statement: no BEGIN and COMMIT around it (on PostgreSQL
    two round trips less). Its isolation is set back when it returns to the
    pool."""
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def reading(engine: Engine) -> Connection:
    """A connection for reading only. On PostgreSQL its statements run in
    autocommit: at READ COMMITTED, the isolation kompetensbot uses, each
    statement sees what was committed when it began, in a transaction or not,
    and a read transaction ends in ROLLBACK, on which psycopg forgets every
    statement it had prepared on the connection (a turn's statement was then
    planned anew for its next five runs). On SQLite a read transaction gives
    its statements one snapshot, and they keep it."""
    if engine.dialect.name == "postgresql":
        return autocommit(engine)
    return engine.connect()


@contextmanager
def unsynced_commits(conn: Connection) -> Iterator[Connection]:
    """On SQLite, the transactions begun inside commit without waiting for the
    disk (synchronous=NORMAL; WAL mode): such a commit survives the process
    crashing, and a power cut or a crash of the machine can lose it, but only
    until the next ordinary commit, whose sync writes everything before it to
    disk too. For records that are cheap to lose: a turn's dedupe claim
    (what it bought: bench/README.md, "Speed tricks"). The connection syncs
    again afterwards. On PostgreSQL nothing changes."""
    if conn.dialect.name != "sqlite":
        yield conn
        return
    dbapi_connection = conn.connection.dbapi_connection
    assert dbapi_connection is not None
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
    try:
        yield conn
    finally:
        dbapi_connection.execute("PRAGMA synchronous=FULL")
