"""Shared fixtures: a migrated database per test, on SQLite and, when
KOMPETENSBOT_TEST_DATABASE_URL is set, on PostgreSQL too.

Each PostgreSQL test gets a schema of its own (search_path), dropped after the
test, so tests never share data. When the variable is set and the server is
unreachable, the PostgreSQL tests fail loudly; without it they are skipped
with a reason.
"""

from __future__ import annotations

import os
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


@pytest.fixture
def example_engine(engine: Engine) -> Engine:
    """The database with the Malmö 2025 example loaded."""
    from bot.data_services import load_example

    load_example(engine, "malmo-2025")
    return engine
