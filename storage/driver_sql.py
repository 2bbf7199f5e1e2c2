"""The few queries every turn runs, on the database driver's own cursor.

Every message starts by asking five small things (the dedupe claim, the
city and its change markers, the conversation reference, the dialog state,
the person's roles; storage.turn_start). SQLAlchemy's Core spends about as
much CPU around each one as the database takes to answer it (the
statement's cache lookup, its execution context, and building the result's
metadata from the cursor's description, which psycopg makes anew every
time). What skipping that bought: bench/README.md, "Speed tricks".

`DriverQuery` keeps what SQLAlchemy is good at and skips the rest: a Core
`select` is compiled by SQLAlchemy once per dialect (the SQL and the
parameters in the driver's style), then run on the connection's DBAPI
cursor, in the same transaction; rows come back as the driver's tuples.
Parameters go through SQLAlchemy's bind processors, as in its own execution
(a datetime is stored on SQLite as SQLAlchemy stores it); columns come back
as the driver gives them, so only for columns SQLAlchemy would not convert
either: integers, text and, on PostgreSQL, arrays (a datetime column comes
back as text on SQLite, a datetime on PostgreSQL). A driver error is raised
as SQLAlchemy raises it (`DBAPIError`; when the connection was lost, it and
every pooled connection older than it are replaced, as SQLAlchemy does), so
callers handle one kind of error.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement


class DriverQuery:
    """A statement (a select, or an insert with RETURNING) run on the driver's cursor."""

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._compiled: dict[str, tuple[Any, tuple[tuple[str, Any], ...]]] = {}

    def _for(self, conn: Connection) -> tuple[Any, tuple[tuple[str, Any], ...]]:
        dialect = conn.dialect
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            processors = compiled._bind_processors  # type: ignore[attr-defined]  # SQLCompiler's private API, see the module
            found = self._compiled[dialect.name] = (compiled, tuple(processors.items()))
        return found

    def rows(self, conn: Connection, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        compiled, processors = self._for(conn)
        values = compiled.construct_params(params or {})
        for name, process in processors:
            if values.get(name) is not None:
                values[name] = process(values[name])
        arguments: Any = (
            tuple(values[name] for name in compiled.positiontup) if compiled.positional else values
        )
        dbapi_connection = conn.connection.dbapi_connection
        assert dbapi_connection is not None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(compiled.string, arguments)
            return list(cursor.fetchall())
        except conn.dialect.loaded_dbapi.Error as error:
            lost = conn.dialect.is_disconnect(error, dbapi_connection, cursor)
            if lost:  # as SQLAlchemy does on a disconnect: the whole pool is stale
                conn.engine.pool._invalidate(conn.connection, error)
                conn.invalidate(error)
            raise DBAPIError.instance(
                compiled.string,
                arguments,
                error,
                conn.dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=conn.dialect,
            ) from error
        finally:
            cursor.close()

    def first(self, conn: Connection, params: dict[str, Any] | None = None) -> tuple[Any, ...] | None:
        found = self.rows(conn, params)
        return found[0] if found else None
