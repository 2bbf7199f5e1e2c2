"""Item 6, least privilege on PostgreSQL: the README's two roles, made with
names of this test run (roles are cluster-wide) and dropped after. The
application role chats, saves a follow-up and its dialog state, opens a
round; it cannot UPDATE, DELETE or TRUNCATE the ledger, nor switch its
triggers off, nor change the schema."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from microsoft_agents.activity import ActivityTypes, ChannelAccount, ChannelId
from microsoft_agents.testing import TestAdapter
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from bot.data_services import load_example
from bot.round_services import RoundServices
from bot.services import Services
from bot.state_storage import SqlStorage
from bot.teams_bot import KompetensBot
from core.model import Role
from storage import send_budget
from storage.db import make_engine, normalise_url
from storage.migrate import upgrade
from storage.seal import verify
from storage.tick_locks import TickLocks

PG_URL = os.environ.get("KOMPETENSBOT_TEST_DATABASE_URL")
README = Path(__file__).parents[2] / "README.md"
ANNA = "5b0c2a77-9f0e-4d8e-a2a4-0c1d2e3f4a5b"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="rolltesterna kräver KOMPETENSBOT_TEST_DATABASE_URL (PostgreSQL)"),
]


def readme_sql() -> tuple[str, str]:
    """The README's two SQL blocks: the roles and schema (as a superuser),
    then the application role's grants (as the owner)."""
    section = README.read_text(encoding="utf-8").split("### The ledger's seal and the database roles")[1]
    blocks = re.findall(r"```sql\n(.*?)```", section, re.S)
    assert len(blocks) == 2, "the README shows the roles, then the grants"
    return blocks[0], blocks[1]


@dataclass
class Roles:
    owner: Engine
    app: Engine


def _as(role: str, password: str) -> Engine:
    assert PG_URL
    url = make_url(normalise_url(PG_URL)).set(username=role, password=password)
    return make_engine(url.render_as_string(hide_password=False))


@pytest.fixture
def roles() -> Iterator[Roles]:
    suffix = uuid.uuid4().hex[:10]
    names = {
        "kompetensbot_owner": f"kb_owner_{suffix}",
        "kompetensbot_app": f"kb_app_{suffix}",
        "kompetensbot": f"kb_{suffix}",  # the schema
    }

    def ours(sql: str) -> str:
        for placeholder in sorted(names, key=len, reverse=True):
            sql = re.sub(rf"\b{placeholder}\b", names[placeholder], sql)
        return sql

    create, grants = readme_sql()
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(ours(create)))
    owner = _as(names["kompetensbot_owner"], "byt-mig-1")
    app = _as(names["kompetensbot_app"], "byt-mig-2")
    try:
        upgrade(owner)  # kompetensbot db upgrade, as the owner
        load_example(owner, "malmo-2025")
        with owner.begin() as conn:
            conn.execute(text(ours(grants)))
        yield Roles(owner, app)
    finally:
        owner.dispose()
        app.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{names["kompetensbot"]}" CASCADE'))
            for role in (names["kompetensbot_app"], names["kompetensbot_owner"]):
                conn.execute(text(f'DROP OWNED BY "{role}"'))
                conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


def _chat(engine: Engine, adapter: TestAdapter, value: dict[str, str] | None, message: str = "") -> list[str]:
    """One turn through the Teams handler with the database's own state storage."""
    activity = adapter.create_activity(message)
    activity.channel_id = ChannelId("msteams")
    activity.from_property = ChannelAccount(id=f"29:{ANNA}", name="Anna Andersson", aad_object_id=ANNA)
    if value is not None:
        activity.text, activity.value = None, value
    bot = KompetensBot(engine, SqlStorage(engine), today=date(2025, 10, 1))
    asyncio.run(adapter.process_activity(adapter.claims_identity, activity, bot.on_turn))
    replies = []
    while (sent := adapter.get_next_reply()) is not None:
        if sent.type == ActivityTypes.message:
            replies.append(sent.text or "")
    return replies


def test_the_application_role_works_and_cannot_rewrite_or_unseal_the_ledger(roles: Roles) -> None:
    app = roles.app
    adapter = TestAdapter()  # one conversation: its activity ids go on from turn to turn
    services = Services(app, org="malmo")
    administration = Services(roles.owner, org="malmo")  # roles are granted as the owner
    administration.grant_role(None, ANNA, Role.CHEF, "GVN")
    assert "kvar" in " ".join(_chat(app, adapter, None, "saldo GVN"))
    _chat(app, adapter, None, "jag vill lämna en uppföljning")  # a dialog's state is saved in bot_state
    measure = next(m for m in services.ledger().measures.values() if m.title == "Yrkeslärarsatsning")
    form = {
        "action": "followup", "measure_id": str(measure.id), "period": "2025-09", "status": "Pågående",
        "spent": "1,5 mkr", "forecast": "4 mkr", "usable": "ja", "note": "Enligt plan",
    }  # fmt: skip
    saved = _chat(app, adapter, form)
    assert any(r.startswith("Klart!") for r in saved), saved
    RoundServices(app, org="malmo").open(None, "2025-06")
    RoundServices(app, org="malmo").enqueue_due(date(2025, 6, 2))  # the tick's first step
    locks = TickLocks(app)  # one ticker per city (advisory locks need no grant)
    try:
        assert locks.take([1]) == {1}
    finally:
        locks.release()
    assert send_budget.reserve(app, "", "tenant-malmo", 1 / 30).wait == 0  # the shared send budget
    send_budget.push(app, "", "tenant-malmo", 1.0)  # a 429's Retry-After
    administration.revoke_role(None, ANNA, Role.CHEF, "GVN")
    with app.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM bot_state")).scalar_one() > 0
        assert verify(conn, 1).problems == ()

    refused = []
    for statement in (
        "UPDATE ledger_entries SET amount = 90000000 WHERE seq = 1",
        "DELETE FROM ledger_entries",
        "TRUNCATE ledger_entries CASCADE",
        "UPDATE followups SET spent = 0",
        "TRUNCATE followups",
        "UPDATE seals SET link = 'x'",
        "ALTER TABLE ledger_entries DISABLE TRIGGER USER",
        "ALTER TABLE ledger_entries DISABLE TRIGGER ALL",
        "DROP TRIGGER ledger_entries_append_only ON ledger_entries",
        "ALTER TABLE ledger_entries ADD COLUMN x int",
        "UPDATE organisations SET name = 'x'",
        "CREATE TABLE x (id int)",
        # whoever holds the application's password cannot make anyone ksau
        "INSERT INTO role_grants (org_id, user_id, role, created_at, granted_by) "
        "VALUES (1, 'intruder', 'ksau', now(), 'x')",
        "DELETE FROM role_grants",
    ):
        try:
            with app.begin() as conn:
                conn.execute(text(statement))
        except DBAPIError as error:
            message = str(error.orig)
            assert "permission denied" in message or "must be owner" in message, (statement, message)
            refused.append(statement)
    assert len(refused) == 14
    with app.connect() as conn:
        fund = conn.execute(text("SELECT amount FROM ledger_entries WHERE seq = 1")).scalar_one()
    assert fund == 78_000_000
