"""The turn's queries on the driver's cursor (storage.driver_sql) give the rows
SQLAlchemy gives and fail as SQLAlchemy fails: a caller sees one kind of error,
and a connection the database dropped is not handed out again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from storage.db import make_engine
from storage.driver_sql import DriverQuery
from storage.tables import OrganisationRow, ProcessedActivityRow, UnitRow, table
from tests.conftest import PG_URL

_org = table(OrganisationRow)
_units = table(UnitRow)
UNITS = (
    select(_units.c.code, _units.c.name)
    .where(_units.c.org_id == bindparam("org_id"))
    .order_by(_units.c.code)
    .limit(3)
)


def test_the_same_rows_as_sqlalchemy(example_engine: Engine) -> None:
    with example_engine.connect() as conn:
        org_id = conn.execute(select(_org.c.id)).scalar_one()
        expected = [tuple(r) for r in conn.execute(UNITS, {"org_id": org_id})]
        assert len(expected) == 3
        assert DriverQuery(UNITS).rows(conn, {"org_id": org_id}) == expected
        assert DriverQuery(UNITS).first(conn, {"org_id": org_id + 1000}) is None


def test_a_datetime_is_stored_as_sqlalchemy_stores_it(engine: Engine) -> None:
    claims = table(ProcessedActivityRow)
    when = datetime(2025, 6, 12, 9, 30, 15, 250000, tzinfo=UTC)
    a, b = "a" * 64, "b" * 64
    values = {"key": a, "created_at": when, "lease_until": None, "once": False, "saved": None}
    with engine.begin() as conn:
        returned = DriverQuery(insert(claims).returning(claims.c.key)).rows(conn, values)
        conn.execute(insert(claims), {**values, "key": b})
    assert returned == [(a,)]
    with engine.connect() as conn:
        stored: dict[str, datetime] = dict(conn.execute(select(claims.c.key, claims.c.created_at)).all())
        assert stored[a] == stored[b]
        assert stored[a].replace(tzinfo=UTC) == when  # SQLite keeps no zone: UTC, as written
        found = conn.execute(select(claims.c.key).where(claims.c.created_at >= when)).scalars().all()
        assert sorted(found) == [a, b]  # and compares as SQLAlchemy's own


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(engine: Engine) -> None:
    missing = select(text("x")).select_from(text("no_such_table"))
    with engine.connect() as conn, pytest.raises(DBAPIError) as raised:
        DriverQuery(missing).rows(conn)
    assert not raised.value.connection_invalidated


@pytest.mark.postgres
def test_after_a_dropped_connection_the_pool_hands_out_live_ones() -> None:
    """A server restart drops every connection: the first query to find out fails,
    and no other pooled connection is handed out dead after it."""
    if not PG_URL:
        pytest.skip("PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL")
    engine, admin = make_engine(PG_URL), make_engine(PG_URL)
    query = DriverQuery(select(text("1")))
    try:
        first, second = engine.connect(), engine.connect()
        pids = [c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in (first, second)]
        second.close()  # back in the pool, used a moment ago (not checked again before use)
        with admin.connect() as conn:
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as raised:
            query.rows(first)
        assert raised.value.connection_invalidated
        first.close()
        for _ in range(2):
            with engine.connect() as conn:
                assert query.rows(conn) == [(1,)]
                assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() not in pids
    finally:
        engine.dispose()
        admin.dispose()
