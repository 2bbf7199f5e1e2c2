"""Shared fixtures: a migrated database per test, on SQLite and, when
KOMPETENSBOT_TEST_DATABASE_URL is set, on PostgreSQL too.

Migrating a database (and loading the Malmö example into it) took most of a small
test's time, so each test process (each pytest-xdist worker) does it once, into
templates (`TEMPLATES`), and every test gets a copy of its own: on SQLite a copy of
the template's file; on PostgreSQL a schema of its own (search_path) holding exactly
the template's rows and sequences. A PostgreSQL schema is kept for the process's next
test: after a test its rows are replaced by the empty template's, and a schema whose
structure the test changed (a downgrade, a trigger switched off or dropped, a grant)
is dropped instead; so tests never share data or structure. When the variable is set
and the server is unreachable, the PostgreSQL tests fail loudly; without it they are
skipped with a reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from storage.db import make_engine, normalise_url, refuse_in_place
from storage.migrate import upgrade
from storage.seal import KEY_VARIABLE

PG_URL = os.environ.get("KOMPETENSBOT_TEST_DATABASE_URL")
EXAMPLE = "malmo-2025"


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


def _load_example(engine: Engine) -> None:
    from bot.data_services import load_example

    load_example(engine, EXAMPLE)


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


_STRUCTURE = text(
    """
    WITH ns AS (SELECT to_regnamespace(current_schema()) AS oid)
    SELECT md5(string_agg(part, '|' ORDER BY part)) FROM (
        SELECT 'r ' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(c.relacl::text, '') AS part
            FROM pg_class c, ns WHERE c.relnamespace = ns.oid
        UNION ALL SELECT 'a ' || c.relname || ' ' || a.attnum || ' ' || a.attname || ' '
                || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid, ns
            WHERE c.relnamespace = ns.oid AND a.attnum > 0 AND NOT a.attisdropped
        UNION ALL SELECT 't ' || c.relname || ' ' || t.tgenabled::text || ' '
                || CASE WHEN t.tgisinternal THEN '(a foreign key)' ELSE t.tgname END
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid, ns WHERE c.relnamespace = ns.oid
        UNION ALL SELECT 'k ' || conname || ' ' || contype::text
            FROM pg_constraint, ns WHERE connamespace = ns.oid
        UNION ALL SELECT 'p ' || proname || ' ' || md5(prosrc) FROM pg_proc, ns WHERE pronamespace = ns.oid
        UNION ALL SELECT 'n ' || coalesce(nspacl::text, '')
            FROM pg_namespace, ns WHERE pg_namespace.oid = ns.oid
        UNION ALL SELECT 'v ' || version_num FROM alembic_version
    ) parts
    """
)


def _structure(engine: Engine) -> str:
    """A digest of the schema's tables, columns, triggers (and whether they are on),
    constraints, functions, grants and migration: equal for schemas migrated alike."""
    with engine.connect() as conn:
        return str(conn.execute(_STRUCTURE).scalar_one())


class Templates:
    """This process's migrated templates, made when first asked for, and its PostgreSQL
    schemas ready for a test. The example is loaded with the ledger key of the moment
    (KOMPETENSBOT_LEDGER_KEY): one template per key."""

    def __init__(self) -> None:
        self._dir: Path | None = None
        self._sqlite: dict[tuple[bool, str], Path] = {}
        self._admin: Engine | None = None
        self._pg: dict[tuple[bool, str], str] = {}
        self._structure = ""
        self._free: list[str] = []

    @staticmethod
    def _key(example: bool) -> tuple[bool, str]:
        return example, os.environ.get(KEY_VARIABLE, "") if example else ""

    def sqlite(self, *, example: bool) -> Path:
        """A migrated SQLite file (with the example) to copy; not to be written."""
        key = self._key(example)
        if key not in self._sqlite:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="kompetensbot-templates-"))
            path = self._dir / f"template-{len(self._sqlite)}.db"
            engine = make_engine(f"sqlite:///{path}")
            upgrade(engine)
            if example:
                _load_example(engine)
            engine.dispose()  # the last connection closed: the WAL is checkpointed into the file
            self._sqlite[key] = path
        return self._sqlite[key]

    def copy_sqlite(self, path: Path, *, example: bool) -> None:
        shutil.copyfile(self.sqlite(example=example), path)

    # -- PostgreSQL ------------------------------------------------------------------

    def _admin_engine(self) -> Engine:
        if not PG_URL:
            pytest.skip("PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL")
        if self._admin is None:
            self._admin = make_engine(PG_URL, pool_size=1)
        return self._admin

    def _migrated_schema(self, prefix: str) -> str:
        schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self._admin_engine().begin() as conn:  # fails loudly when the server is unreachable
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = _pg_engine(schema)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        return schema

    def pg(self, *, example: bool) -> str:
        """A migrated template schema (with the example) to copy from; not to be written."""
        key = self._key(example)
        if key not in self._pg:
            schema = self._pg[key] = self._migrated_schema("x")  # dropped by close()
            engine = _pg_engine(schema)
            try:
                if example:
                    _load_example(engine)
                else:
                    self._structure = _structure(engine)
            except BaseException:
                del self._pg[key]
                self._drop(schema)
                raise
            finally:
                engine.dispose()
        return self._pg[key]

    @contextmanager
    def pg_schema(self, *, example: bool) -> Iterator[str]:
        """A schema of the test's own, as the template left it, for the time of the `with`."""
        empty = self.pg(example=False)
        schema = self._free.pop() if self._free else self._migrated_schema("t")
        try:
            if example:
                engine = _pg_engine(schema)
                try:
                    _copy_postgres(engine, self.pg(example=True))
                finally:
                    engine.dispose()
            yield schema
        finally:
            self._give_back(schema, empty)

    def _give_back(self, schema: str, empty: str) -> None:
        """The schema emptied for the next test, or dropped when the test changed its structure."""
        engine = _pg_engine(schema)
        try:
            if _structure(engine) == self._structure:
                _copy_postgres(engine, empty)
                self._free.append(schema)
                return
        except SQLAlchemyError:
            pass  # e.g. migrated down below the version table: dropped below
        finally:
            engine.dispose()
        self._drop(schema)

    def _drop(self, schema: str) -> None:
        with self._admin_engine().begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    def url(self, schema: str) -> str:
        """A DATABASE_URL that reaches `schema` (for a server or command in another process)."""
        assert PG_URL
        base = normalise_url(PG_URL)
        return f"{base}{'&' if '?' in base else '?'}options={quote(f'-csearch_path={schema}')}"

    def close(self) -> None:
        if self._admin is not None:
            with self._admin.begin() as conn:
                for schema in [*self._free, *self._pg.values()]:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            self._admin.dispose()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


TEMPLATES = Templates()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    TEMPLATES.close()


def _sqlite(tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "test.db"
    TEMPLATES.copy_sqlite(path, example=False)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def _postgres() -> Iterator[Engine]:
    if not PG_URL:
        pytest.skip("PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL")
    with TEMPLATES.pg_schema(example=False) as schema:
        engine = _pg_engine(schema)
        try:
            yield engine
        finally:
            engine.dispose()


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


def copy_example(engine: Engine) -> Engine:
    """The Malmö 2025 example into a test's empty database (from these fixtures), as
    loading it leaves it: a copy of the process's template."""
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        assert path
        engine.dispose()
        TEMPLATES.copy_sqlite(Path(path), example=True)
    else:
        _copy_postgres(engine, TEMPLATES.pg(example=True))
    return engine


@pytest.fixture
def example_engine(engine: Engine) -> Engine:
    """The database with the Malmö 2025 example loaded: loaded once per process and
    database, and copied into each test's own database."""
    return copy_example(engine)
