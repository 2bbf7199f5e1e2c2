"""Databases for the HTTP tests as URLs (the server runs in its own process):
an SQLite file, and a PostgreSQL schema of its own when configured, each with the
2025 example (a copy of the process's template: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.data_services import load_example
from storage.db import make_engine
from storage.migrate import upgrade
from tests.conftest import PG_URL, TEMPLATES


def _prepare(url: str) -> None:
    """Migrate the database at `url` and load the 2025 example: a new SQLite file is
    a copy of the template."""
    path = make_url(url).database if url.startswith("sqlite") else None
    if path and path != ":memory:" and not Path(path).exists():
        TEMPLATES.copy_sqlite(Path(path), example=True)
        return
    engine = make_engine(url)
    upgrade(engine)
    load_example(engine, "malmo-2025")
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database with the 2025 example, as a URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bot.db'}"
        _prepare(url)
        yield url
        return
    if not PG_URL:
        pytest.skip("PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL")
    with pg_schema() as url:
        yield url


@contextmanager
def pg_schema() -> Iterator[str]:
    """A PostgreSQL schema of its own with the 2025 example, as a URL."""
    assert PG_URL
    with TEMPLATES.pg_schema(example=True) as schema:
        yield TEMPLATES.url(schema)
