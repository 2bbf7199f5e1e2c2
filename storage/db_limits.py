"""How long the application waits for PostgreSQL.

Three limits the server enforces itself, on every connection it opens:
  connect    seconds to open a connection (psycopg's connect_timeout);
  statement  seconds a statement may run (statement_timeout, on the server);
  lock       seconds a statement may wait for a row or table lock (lock_timeout).
The server cancels a statement over its limit, and the turn gets an error
(SQLAlchemy's OperationalError), which the adapter answers with "try again later".

A server that no longer answers at all (stopped, or a network that holds
the connection without forwarding it) cancels nothing: for that, a watchdog
thread cuts the socket of a connection whose statement or commit has gone on
`statement + WATCHDOG_GRACE` seconds; psycopg then reports the connection
lost, SQLAlchemy drops it from the pool, and the turn gets the same error
instead of waiting for ever (TCP would wait for hours).

Read from the environment (KOMPETENSBOT_DB_CONNECT_TIMEOUT,
KOMPETENSBOT_DB_STATEMENT_TIMEOUT, KOMPETENSBOT_DB_LOCK_TIMEOUT; seconds;
0 turns a limit off). SQLite has its own busy timeout (storage.db)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("kompetensbot.db")

WATCHDOG_GRACE = 2.0
"""Seconds after the statement timeout before the watchdog cuts a connection:
by then the server would have cancelled the statement, if it were answering."""

NO_DEADLINE = "kompetensbot_no_deadline"
"""Execution option: this connection's statements may run as long as they take
(migrations; see `unlimited`)."""


@dataclass(frozen=True)
class DatabaseTimeouts:
    connect: float = 5.0
    statement: float = 15.0
    lock: float = 5.0

    @staticmethod
    def from_env(env: Any = None) -> DatabaseTimeouts:
        env = os.environ if env is None else env
        return DatabaseTimeouts(
            connect=float(env.get("KOMPETENSBOT_DB_CONNECT_TIMEOUT", "5")),
            statement=float(env.get("KOMPETENSBOT_DB_STATEMENT_TIMEOUT", "15")),
            lock=float(env.get("KOMPETENSBOT_DB_LOCK_TIMEOUT", "5")),
        )


def apply_postgres_timeouts(engine: Engine, timeouts: DatabaseTimeouts) -> None:
    """Every new connection of `engine` opens with the timeouts: connect_timeout
    as a connection parameter, statement_timeout and lock_timeout as session
    settings in the startup packet (`options`, added to any the URL has, such as
    a search_path), so they cost no round trip."""

    @event.listens_for(engine, "do_connect")
    def _with_timeouts(_dialect: Any, _record: Any, _cargs: Any, cparams: Any) -> None:
        if timeouts.connect > 0:
            cparams["connect_timeout"] = max(1, round(timeouts.connect))
        settings = []
        if timeouts.statement > 0:
            settings.append(f"-c statement_timeout={int(timeouts.statement * 1000)}")
        if timeouts.lock > 0:
            settings.append(f"-c lock_timeout={int(timeouts.lock * 1000)}")
        if settings:
            cparams["options"] = " ".join([str(cparams.get("options") or ""), *settings]).strip()

    if timeouts.statement > 0:
        _watch(engine, timeouts.statement + WATCHDOG_GRACE)


def unlimited(connection: Connection) -> Connection:
    """`connection`, for the transaction under way, without a statement timeout
    and without the watchdog: for migrations, which may rewrite whole tables.
    The lock timeout stays (a migration waiting for the turns' locks gives up
    rather than stopping every turn behind it)."""
    connection.execution_options(**{NO_DEADLINE: True})
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
    return connection


class _Watchdog:
    """Deadlines for the connections whose statement is under way; one thread
    for the process, started with the first deadline."""

    def __init__(self) -> None:
        self._deadlines: dict[int, tuple[float, int]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def arm(self, dbapi_connection: Any, seconds: float) -> None:
        try:
            fd = int(dbapi_connection.fileno())
        except Exception:  # noqa: BLE001 - a closed connection has nothing to watch
            return
        with self._lock:
            self._deadlines[id(dbapi_connection)] = (time.monotonic() + seconds, fd)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kompetensbot-watchdog", daemon=True)
                self._thread.start()

    def disarm(self, dbapi_connection: Any) -> None:
        with self._lock:
            self._deadlines.pop(id(dbapi_connection), None)

    def _run(self) -> None:
        while True:
            time.sleep(0.2)
            now = time.monotonic()
            with self._lock:
                expired = [(key, fd) for key, (deadline, fd) in self._deadlines.items() if deadline <= now]
                for key, _fd in expired:
                    del self._deadlines[key]
                # Cut while holding the lock: a disarm (and the connection's close,
                # which frees its descriptor for reuse) waits until this is done.
                for _key, fd in expired:
                    _cut(fd)


def _cut(fd: int) -> None:
    """Shut down the socket behind descriptor `fd` (both directions): the thread
    blocked reading it wakes up to a closed connection. The descriptor itself
    stays open, it belongs to the driver."""
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
        log.error("a database statement did not finish in time: connection cut")
    except OSError:
        pass
    finally:
        sock.close()


_WATCHDOG = _Watchdog()


def _watch(engine: Engine, seconds: float) -> None:
    def free(conn: Connection) -> bool:
        return bool(conn.get_execution_options().get(NO_DEADLINE))

    def dbapi_of(conn: Connection) -> Any:
        try:
            return conn.connection.dbapi_connection
        except Exception:  # noqa: BLE001 - closed or invalidated
            return None

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(
        conn: Any, cursor: Any, _statement: Any, _parameters: Any, _context: Any, _many: Any
    ) -> None:
        if not free(conn):
            _WATCHDOG.arm(cursor.connection, seconds)

    @event.listens_for(engine, "after_cursor_execute")
    def _statement_done(
        _conn: Any, cursor: Any, _statement: Any, _parameters: Any, _context: Any, _many: Any
    ) -> None:
        _WATCHDOG.disarm(cursor.connection)

    @event.listens_for(engine, "commit")
    def _commit(conn: Any) -> None:
        if not free(conn) and (dbapi := dbapi_of(conn)) is not None:
            _WATCHDOG.arm(dbapi, seconds)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if (dbapi := dbapi_of(conn)) is not None:
            _WATCHDOG.disarm(dbapi)

    @event.listens_for(engine, "handle_error")
    def _failed(context: Any) -> None:
        if context.connection is not None and (dbapi := dbapi_of(context.connection)) is not None:
            _WATCHDOG.disarm(dbapi)

    for name in ("checkin", "close", "invalidate", "soft_invalidate", "close_detached"):
        _disarm_on(engine, name)


def _disarm_on(engine: Engine, name: str) -> None:
    @event.listens_for(engine, name)
    def _done(dbapi_connection: Any, *_args: Any) -> None:
        if dbapi_connection is not None:
            _WATCHDOG.disarm(dbapi_connection)


def watched(dbapi_connection: Any, seconds: float) -> _Armed:
    """A context in which `dbapi_connection` is cut after `seconds` (for work done on
    the driver's connection directly, such as the pool's ping)."""
    return _Armed(dbapi_connection, seconds)


class _Armed:
    def __init__(self, dbapi_connection: Any, seconds: float):
        self.dbapi_connection = dbapi_connection
        self.seconds = seconds

    def __enter__(self) -> None:
        _WATCHDOG.arm(self.dbapi_connection, self.seconds)

    def __exit__(self, *_exc: object) -> None:
        _WATCHDOG.disarm(self.dbapi_connection)
