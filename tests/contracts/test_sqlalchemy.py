"""SQLAlchemy's private APIs that storage/ relies on (sqlalchemy ~=2.1.9, psycopg ~=3.3.9)."""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import Pool, QueuePool
from sqlalchemy.sql.compiler import SQLCompiler

from tests.contracts import broken

DRIVER_SQL = "storage/driver_sql.py (DriverQuery)"

_TABLE = Table(
    "t",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("at", DateTime),
    Column("name", String),
)


def _compiled(dialect: Dialect) -> SQLCompiler:
    compiled = select(_TABLE.c.id).where(_TABLE.c.at >= datetime(2025, 6, 5, 12)).compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    return compiled


def test_compiled_bind_processors_is_a_mapping_of_parameter_names_to_callables() -> None:
    api = "SQLCompiler._bind_processors"
    for dialect in (sqlite.dialect(), postgresql.psycopg.dialect()):
        compiled = _compiled(dialect)
        processors = getattr(compiled, "_bind_processors", None)
        assert processors is not None, broken(api, "sqlalchemy", DRIVER_SQL, "is gone")
        items: list[tuple[str, Callable[[object], object]]] = list(processors.items())
        names = set(compiled.construct_params({}))
        for name, process in items:
            assert name in names and callable(process), broken(
                api,
                "sqlalchemy",
                DRIVER_SQL,
                f"on {dialect.name} holds {name!r}: {process!r}, not a callable",
            )
        if dialect.name == "sqlite":  # SQLite stores a datetime as SQLAlchemy's text; DriverQuery must too
            ((name, process),) = items
            assert process(datetime(2025, 6, 5, 12)) == "2025-06-05 12:00:00.000000", broken(
                api, "sqlalchemy", DRIVER_SQL, "no longer turns a datetime into SQLite's text"
            )


def test_a_compiled_statement_gives_the_sql_and_the_parameters_in_the_drivers_style() -> None:
    """DriverQuery runs `compiled.string` with `construct_params`, in `positiontup` order when
    `positional` (SQLite's qmark), else by name (psycopg's pyformat)."""
    on_sqlite = _compiled(sqlite.dialect())
    assert on_sqlite.positional and on_sqlite.positiontup == ["at_1"], broken(
        "SQLCompiler.positional / positiontup", "sqlalchemy", DRIVER_SQL, "changed for SQLite"
    )
    assert "?" in on_sqlite.string
    on_postgres = _compiled(postgresql.psycopg.dialect())
    assert not on_postgres.positional and "%(at_1)s" in on_postgres.string, broken(
        "SQLCompiler.positional / string", "sqlalchemy", DRIVER_SQL, "changed for psycopg"
    )


def test_pool_invalidate_makes_every_older_pooled_connection_new(tmp_path: Path) -> None:
    """On a lost connection DriverQuery does what SQLAlchemy does: pool._invalidate(connection,
    error) marks every connection the pool made before it stale, so none is handed out again."""
    api = "Pool._invalidate"
    parameters = list(inspect.signature(Pool._invalidate).parameters)
    assert parameters[:3] == ["self", "connection", "exception"], broken(
        api, "sqlalchemy", DRIVER_SQL, f"takes {parameters}, not (connection, exception, ...)"
    )
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}", poolclass=QueuePool, pool_size=2)
    try:
        lost, resting = engine.connect(), engine.connect()
        resting_dbapi = resting.connection.dbapi_connection
        resting.close()  # back in the pool, made before the loss
        error = sqlite3.OperationalError("the server closed the connection")
        engine.pool._invalidate(lost.connection, error)
        lost.invalidate(error)
        lost.close()
        with engine.connect() as fresh:
            assert fresh.connection.dbapi_connection is not resting_dbapi, broken(
                api, "sqlalchemy", DRIVER_SQL, "no longer retires the connections made before the lost one"
            )
            assert fresh.execute(text("select 1")).scalar() == 1
    finally:
        engine.dispose()


def test_dbapi_error_instance_wraps_a_driver_error_as_sqlalchemy_does() -> None:
    error = DBAPIError.instance(
        "select 1", (), sqlite3.OperationalError("gone"), sqlite3.Error, connection_invalidated=True
    )
    assert isinstance(error, OperationalError) and error.connection_invalidated, broken(
        "DBAPIError.instance", "sqlalchemy", DRIVER_SQL, f"returned {error!r}"
    )


def test_a_row_has_its_mapping() -> None:
    """storage/seal.py reads rows by column name through Row._mapping (public in spite of its
    underscore, SQLAlchemy's documentation says; kept here all the same)."""
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            row = conn.execute(text("select 1 as id, 'a' as name")).one()
            assert dict(row._mapping) == {"id": 1, "name": "a"}, broken(
                "Row._mapping", "sqlalchemy", "storage/seal.py", "no longer maps names to values"
            )
    finally:
        engine.dispose()
