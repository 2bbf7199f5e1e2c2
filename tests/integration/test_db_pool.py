"""A pooled PostgreSQL connection that rested and was dropped meanwhile (a
database restart, a network cut, an idle timeout) is replaced before a turn
uses it: the turn does not fail for it (storage.db)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

import storage.db
from storage.db import make_engine
from tests.conftest import PG_URL

pytestmark = pytest.mark.postgres


def test_a_rested_connection_the_server_dropped_is_replaced_unseen(monkeypatch: pytest.MonkeyPatch) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL")
    monkeypatch.setattr(storage.db, "PING_AFTER_IDLE", 0.05)
    engine, admin = make_engine(PG_URL), make_engine(PG_URL)
    try:
        with engine.connect() as conn:
            dropped = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        time.sleep(0.1)
        with engine.connect() as conn:  # no error: checked, found dropped, replaced
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != dropped
    finally:
        engine.dispose()
        admin.dispose()
