"""Shared fixtures: a migrated database per test, on SQLite and, when
KOMPETENSBOT_TEST_DATABASE_URL is set, on PostgreSQL too.

Each PostgreSQL test gets a schema of its own (search_path), dropped after the
test, so tests never share data. When the variable is set and the server is
unreachable, the PostgreSQL tests fail loudly; without it they are skipped
with a reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.db import make_engine, normalise_url, refuse_in_place
from storage.migrate import upgrade

PG_URL = os.environ.get("KOMPETENSBOT_TEST_DATABASE_URL")


def _pg_engine(schema: str) -> Engine:
    assert PG_URL
    from sqlmodel import create_engine

    engine = create_engine(
        normalise_url(PG_URL),
        connect_args={"options": f"-csearch_path={schema}"},
        pool_pre_ping=True,
    )
    refuse_in_place(engine)  # as make_engine does (core.in_memory)
    return engine


def _sqlite(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'test.db'}"
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _postgres() -> Iterator[Engine]:
    if not PG_URL:
        pytest.skip("PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:  # fails loudly when the server is unreachable
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = _pg_engine(schema)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A freshly migrated, empty database: SQLite, and PostgreSQL when configured."""
    if request.param == "sqlite":
        yield from _sqlite(tmp_path)
    else:
        yield from _postgres()


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    """PostgreSQL only (for tests of concurrent connections)."""
    yield from _postgres()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    yield from _sqlite(tmp_path)


EXAMPLE = "malmo-2025"


def _load_example(engine: Engine) -> None:
    from bot.data_services import load_example

    load_example(engine, EXAMPLE)


@pytest.fixture(scope="session")
def _sqlite_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example loaded once per run into a SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("example") / "example.db"
    template = make_engine(f"sqlite:///{path}")
    upgrade(template)
    _load_example(template)
    template.dispose()  # the last connection closed: the WAL is checkpointed into the file
    return path


@pytest.fixture(scope="session")
def _postgres_example() -> Iterator[str]:
    """The example loaded once per run into a PostgreSQL schema that each test copies."""
    if not PG_URL:
        pytest.skip("PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL")
    schema = f"x_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    template = _pg_engine(schema)
    try:
        upgrade(template)
        _load_example(template)
        template.dispose()
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _copy_postgres(engine: Engine, template: str) -> None:
    """Every row and sequence of the template schema into the engine's (both migrated alike);
    triggers and foreign keys are off for the copy only (session_replication_role)."""
    with engine.begin() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
        ).scalars()
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in list(tables):
            conn.execute(text(f'DELETE FROM "{schema}"."{table}"'))  # alembic_version: the same row
            conn.execute(text(f'INSERT INTO "{schema}"."{table}" SELECT * FROM "{template}"."{table}"'))
        sequences = conn.execute(
            text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s"), {"s": schema}
        ).scalars()
        for sequence in list(sequences):
            last, called = conn.execute(
                text(f'SELECT last_value, is_called FROM "{template}"."{sequence}"')
            ).one()
            conn.execute(
                text(f'SELECT setval(\'"{schema}"."{sequence}"\', :v, :c)'), {"v": last, "c": called}
            )


@pytest.fixture
def example_engine(engine: Engine, request: pytest.FixtureRequest) -> Engine:
    """The database with the Malmö 2025 example loaded: loaded once per run and per
    database, and copied into each test's own database (loading it took most of a
    test's time)."""
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        assert path
        engine.dispose()
        shutil.copyfile(request.getfixturevalue("_sqlite_example"), path)
    else:
        _copy_postgres(engine, request.getfixturevalue("_postgres_example"))
    return engine
