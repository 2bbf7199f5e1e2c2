"""Which process ticks which city: a PostgreSQL advisory lock per city (issue 23).

Several `kompetensbot serve` processes on one database each run the round's tick every
minute. Planning a city (opening its June or December round, recording what is due,
updating the cards answered or decided since) is done by one of them only, the one that
holds the city's lock; the others skip that city. Every process still claims and sends
(storage.rounds.claim), so the sending is shared. Planning twice would be harmless (the
unique keys record each send once, a round is opened once) but costs every process the
reading of 290 cities' ledgers and rounds every minute, and would update a card from two
processes at once.

The lock's scope, and why:

- Session locks (pg_try_advisory_lock), taken at a tick and kept: a city stays with the
  process that took it, so each city is planned by exactly one process, once per its tick
  period, and no other process even tries while it lives. A transaction lock around the
  planning alone would let each process in turn plan the city at each of its ticks (n
  processes: n plans a minute), and a tick spans several transactions with sends between
  them: no transaction may stay open across sends (its locks and its snapshot would be
  held for minutes).
- All on ONE dedicated connection per process, not one per city: 290 cities times a few
  processes would exhaust PostgreSQL's max_connections (100 here). The connection is in
  autocommit, so it never holds a transaction, only its locks; it is taken out of the pool
  and never returned to it (a pooled connection would carry its session locks to whoever
  uses it next): `release` closes it.
- Released when the process dies: its connection closes and PostgreSQL drops the
  session's locks at once (a crash, SIGKILL); when the host vanishes without closing the
  connection, the server notices through TCP keepalives (set on this session: about a
  minute). At a stop, `release` closes the connection. The other processes then take the
  cities at their next tick.
- A lost connection (the database restarted, a network cut, the keepalive gave up) means
  the locks are gone and another process may have taken the cities: each `take` first asks
  which locks the session really holds (pg_locks), and on a lost connection opens a new one
  and starts over, taking only the cities that are free. A city planned by two processes
  during such a change costs nothing but the work (see above).
- The lock's key is two integers: a class (a hash of "kompetensbot tick" and the schema,
  so two deployments or test runs in one database, each in its schema, never share locks)
  and the city's id.

SQLite has no such locks: one `serve` per SQLite file (bot.app refuses a second); a
`followup tick` from cron beside it plans the cities too, which the unique keys make
harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

log = logging.getLogger("kompetensbot.rounds")

_SESSION = text(
    "SELECT set_config('tcp_keepalives_idle', '30', false), "
    "set_config('tcp_keepalives_interval', '10', false), "
    "set_config('tcp_keepalives_count', '3', false), "
    "CASE WHEN current_setting('server_version_num')::int >= 140000 "
    "THEN set_config('idle_session_timeout', '0', false) END"
)
"""The lock session's settings: server-side keepalives (a vanished host's locks go after
about a minute), and never ended for being idle (PostgreSQL 14 and later have that timeout)."""

_CLASS = text("SELECT hashtext('kompetensbot tick ' || current_schema()) & 2147483647")
_HELD = text(
    "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
    "AND granted AND objsubid = 2 AND classid = CAST(:class AS oid)"
)
_TAKE = text("SELECT id, pg_try_advisory_lock(:class, id) FROM unnest(CAST(:ids AS integer[])) AS wanted(id)")


class TickLocks:
    """The cities this process ticks, as session advisory locks on one connection of its
    own (see the module's notes). Thread-safe; one per process (or per `followup tick`)."""

    def __init__(self, engine: Engine):
        if engine.dialect.name != "postgresql":
            raise ValueError("advisory locks are PostgreSQL's")
        self.engine = engine
        self._conn: Connection | None = None
        self._class = 0
        self._mutex = threading.Lock()
        self.reconnects = 0

    def take(self, org_ids: Iterable[int]) -> set[int]:
        """Of `org_ids`, the cities this process is to tick now: those whose lock it
        holds, and those whose lock it gets now. None of them when the database cannot
        be reached (the error is logged)."""
        wanted = sorted(set(org_ids))
        with self._mutex:
            for attempt in (1, 2):
                try:
                    return self._take(wanted)
                except DBAPIError as problem:
                    self._drop()
                    if attempt == 2 or not problem.connection_invalidated:
                        log.error("tick locks not taken (%s): no city ticked", type(problem).__name__)
                        return set()
                    self.reconnects += 1
                    log.warning(
                        "the tick locks' connection was lost: taking the cities again "
                        "(another process may have taken them meanwhile)"
                    )
                except SQLAlchemyError as problem:
                    self._drop()
                    log.error("tick locks not taken (%s): no city ticked", type(problem).__name__)
                    return set()
        return set()  # pragma: no cover - the loop always returns

    def held(self) -> set[int]:
        """The cities whose lock this process holds now (none without a connection)."""
        with self._mutex:
            if self._conn is None:
                return set()
            try:
                return self._held(self._conn)
            except SQLAlchemyError:
                self._drop()
                return set()

    def release(self) -> None:
        """Give every city up: the connection is closed (its session's locks go with it)."""
        with self._mutex:
            self._drop()

    def backend_pid(self) -> int | None:
        """The lock session's server process (for tests and logs), or None."""
        with self._mutex:
            if self._conn is None:
                return None
            return int(self._conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    # --- the connection ----------------------------------------------------------

    def _take(self, wanted: list[int]) -> set[int]:
        conn = self._connection()
        held = self._held(conn)
        free = [i for i in wanted if i not in held]
        got: set[int] = set()
        if free:
            rows = conn.execute(_TAKE, {"class": self._class, "ids": free}).all()
            got = {int(r[0]) for r in rows if r[1]}
        return {i for i in wanted if i in held or i in got}

    def _held(self, conn: Connection) -> set[int]:
        return {int(r[0]) for r in conn.execute(_HELD, {"class": self._class}).all()}

    def _connection(self) -> Connection:
        if self._conn is not None:
            return self._conn
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            conn.execute(_SESSION)
            self._class = int(conn.execute(_CLASS).scalar_one())
        except SQLAlchemyError:
            conn.invalidate()
            conn.close()
            raise
        self._conn = conn
        return conn

    def _drop(self) -> None:
        """Close the connection for good, never back to the pool with its locks."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.invalidate()
            conn.close()
        except SQLAlchemyError:  # pragma: no cover - closing a lost connection
            pass
