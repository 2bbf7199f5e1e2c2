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
from collections import Counter
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
    """Every row and sequence of the template schema into the engine's (both migrated alike)."""
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    TEMPLATES.copy_rows(template, schema)


_STRUCTURE = """
    WITH rel AS MATERIALIZED (
        SELECT oid, relname, relkind, relacl FROM pg_class WHERE relnamespace = to_regnamespace(:schema)
    )
    SELECT md5(string_agg(part, '|' ORDER BY part)) FROM (
        SELECT 'r ' || relname || ' ' || relkind::text || ' ' || coalesce(relacl::text, '') AS part FROM rel
        UNION ALL SELECT 'a ' || relname || ' ' || a.attnum || ' ' || a.attname || ' '
                || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull
            FROM rel, LATERAL (
                SELECT * FROM pg_attribute WHERE attrelid = rel.oid AND attnum > 0 AND NOT attisdropped
            ) a
        UNION ALL SELECT 't ' || relname || ' ' || t.tgenabled::text || ' '
                || CASE WHEN t.tgisinternal THEN '(a foreign key)' ELSE t.tgname END
            FROM rel, LATERAL (SELECT * FROM pg_trigger WHERE tgrelid = rel.oid) t
        UNION ALL SELECT 'k ' || relname || ' ' || k.conname || ' ' || k.contype::text
            FROM rel, LATERAL (SELECT * FROM pg_constraint WHERE conrelid = rel.oid) k
        UNION ALL SELECT 'p ' || proname || ' ' || md5(prosrc)
            FROM pg_proc WHERE pronamespace = to_regnamespace(:schema)
        UNION ALL SELECT 'n ' || coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = :schema
        UNION ALL SELECT 'v ' || version_num FROM "{schema}".alembic_version
    ) parts
"""
"""A digest of a schema's tables, columns, triggers (and whether they are on), constraints,
functions, grants and migration: equal for schemas migrated alike."""


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
        self._tables: list[str] = []
        self._sequences: list[str] = []
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
            try:
                if example:
                    engine = _pg_engine(schema)
                    try:
                        _load_example(engine)
                    finally:
                        engine.dispose()
                else:
                    self._structure = self._structure_of(schema)
                    self._tables, self._sequences = self._contents(schema)
            except BaseException:
                del self._pg[key]
                self._drop(schema)
                raise
        return self._pg[key]

    def _contents(self, schema: str) -> tuple[list[str], list[str]]:
        with self._admin_engine().connect() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY 1"), {"s": schema}
            )
            sequences = conn.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s ORDER BY 1"), {"s": schema}
            )
            return list(tables.scalars()), list(sequences.scalars())

    def _structure_of(self, schema: str) -> str:
        with self._admin_engine().begin() as conn:
            conn.execute(text("SET LOCAL jit = off"))  # the catalogs' estimates are far off: no compiling
            digest = conn.execute(text(_STRUCTURE.replace("{schema}", schema)), {"schema": schema})
            return str(digest.scalar_one())

    def copy_rows(self, template: str, schema: str, *, rename_to: str | None = None) -> None:
        """Every row and sequence of `template` into `schema` (migrated alike), in one round
        trip; triggers and foreign keys are off for the copy only (session_replication_role).
        `rename_to`: the schema's new name, in the same transaction."""
        self.pg(example=False)  # the tables and sequences
        statements = ["SET LOCAL session_replication_role = replica"]
        for table in self._tables:
            statements.append(f'DELETE FROM "{schema}"."{table}"')
            statements.append(f'INSERT INTO "{schema}"."{table}" SELECT * FROM "{template}"."{table}"')
        for sequence in self._sequences:
            target = f'"{schema}"."{sequence}"'
            statements.append(
                f'SELECT setval(\'{target}\', last_value, is_called) FROM "{template}"."{sequence}"'
            )
        if rename_to is not None:
            statements.append(f'ALTER SCHEMA "{schema}" RENAME TO "{rename_to}"')
        with self._admin_engine().begin() as conn:
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            dbapi.cursor().execute(";\n".join(statements))  # no parameters: several statements at once

    @contextmanager
    def pg_schema(self, *, example: bool) -> Iterator[str]:
        """A schema of the test's own, as the template left it, for the time of the `with`."""
        empty = self.pg(example=False)
        schema = self._free.pop() if self._free else self._migrated_schema("t")
        try:
            if example:
                self.copy_rows(self.pg(example=True), schema)
            yield schema
        finally:
            self._give_back(schema, empty)

    def _give_back(self, schema: str, empty: str) -> None:
        """The schema emptied for the next test, under a name never used before (whatever is
        keyed by the name, such as a connection's search_path or an advisory lock's class,
        is not the next test's), or dropped when the test changed its structure."""
        try:
            if self._structure_of(schema) == self._structure:
                fresh = f"t_{uuid.uuid4().hex[:12]}"
                self.copy_rows(empty, schema, rename_to=fresh)
                self._free.append(fresh)
                return
        except SQLAlchemyError:
            pass  # e.g. migrated down below the version table: dropped below
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The modules with slow tests (real server processes, big rounds, killed processes) first,
    the most slow tests first, then the rest by their number of tests: pytest-xdist's loadscope
    hands a whole module to one worker in this order (`--no-loadscope-reorder` in pyproject.toml),
    so a long module starts while there is other work for the other worker, not last, when
    there is none (ordered by their number of tests alone, as xdist does by default, a module of
    a few long tests came last and ran minutes on its own). The order within a module is kept."""

    def module(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    tests = Counter(module(item) for item in items)
    slow = Counter(module(item) for item in items if item.get_closest_marker("slow"))
    items.sort(key=lambda item: (-slow[module(item)], -tests[module(item)]))
