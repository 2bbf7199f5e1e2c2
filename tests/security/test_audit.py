"""Item 11, audit: who made a follow-up or a ledger entry is their object id,
not the display name the caller sends (`from.name`); the name is kept for
display. Rows written before author ids were kept stay, shown by name."""

from __future__ import annotations

import asyncio
from datetime import date

from microsoft_agents.activity import ActivityTypes, ChannelAccount, ChannelId
from microsoft_agents.testing import TestAdapter
from sqlalchemy import select

from bot.data_services import load_example
from bot.services import Services
from bot.teams_bot import KompetensBot
from cli.main import main as cli
from core.model import Role
from storage.tables import FollowUpRow, LedgerEntryRow, table
from tests.dialogs.conftest import JsonStorage

FOLLOWUPS = table(FollowUpRow)  # typed columns (SQLModel types FollowUpRow.id as an int)
ENTRIES = table(LedgerEntryRow)

ANNA = "8d7a0e8e-1f4b-4c55-9a1e-3f5d2c7b9a01"  # Anna's AAD object id
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def _submit_followup_form(engine, services: Services, sender_name: str) -> None:
    measure = next(m for m in services.ledger().measures.values() if m.title == "Yrkeslärarsatsning")
    adapter = TestAdapter()
    activity = adapter.create_activity("")
    activity.text = None
    activity.channel_id = ChannelId("msteams")
    activity.channel_data = {"tenant": {"id": TENANT}}
    activity.from_property = ChannelAccount(id=f"29:{ANNA}", name=sender_name, aad_object_id=ANNA)
    activity.value = {
        "action": "followup",
        "measure_id": str(measure.id),
        "period": "2025-09",
        "status": "Pågående",
        "spent": "1,5 mkr",
        "forecast": "4 mkr",
        "usable": "ja",
        "note": "Enligt plan",
    }
    bot = KompetensBot(engine, JsonStorage(), today=date(2025, 10, 1))
    asyncio.run(adapter.process_activity(adapter.claims_identity, activity, bot.on_turn))
    replies = []
    while (sent := adapter.get_next_reply()) is not None:
        if sent.type == ActivityTypes.message:
            replies.append(sent.text or "")
    assert any(r.startswith("Klart!") for r in replies), replies


def test_a_forged_display_name_does_not_become_the_followups_author_id(example_engine) -> None:
    services = Services(example_engine, org="malmo")
    services.grant_role(None, ANNA, Role.CHEF, "GVN")
    _submit_followup_form(example_engine, services, sender_name="Stadsdirektören (KSAU)")
    with example_engine.connect() as conn:
        row = conn.execute(select(FOLLOWUPS).order_by(FOLLOWUPS.c.id.desc()).limit(1)).one()
    assert row.author_id == ANNA  # who made it: the object id the token vouches for
    assert row.author == "Stadsdirektören (KSAU)"  # only the name shown, as sent
    latest = services.ledger().followups[-1]
    assert (latest.author_id, latest.author) == (ANNA, "Stadsdirektören (KSAU)")


def test_the_command_line_records_its_operator_or_the_named_user(sqlite_engine, monkeypatch) -> None:
    load_example(sqlite_engine, "malmo-2025")
    monkeypatch.setenv("DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    monkeypatch.setattr("getpass.getuser", lambda: "tester")
    assert cli(["fund", "--year", "2026", "--amount", "1 mkr", "--decision", "KS 2025-12-01 § 1"]) == 0
    assert cli(["roles", "grant", "anna", "chef", "--unit", "GVN"]) == 0
    followup = ["followup", "add", "--measure", "Yrkeslärarsatsning", "--period", "2025-09"]
    followup += ["--status", "Pågående", "--spent", "0 kr", "--forecast", "0 kr", "--usable", "ja"]
    assert cli([*followup, "--user", "anna"]) == 0
    with sqlite_engine.connect() as conn:
        entry = conn.execute(select(ENTRIES).order_by(ENTRIES.c.id.desc()).limit(1)).one()
        row = conn.execute(select(FOLLOWUPS).order_by(FOLLOWUPS.c.id.desc()).limit(1)).one()
    assert (entry.author_id, entry.author) == ("cli:tester", "administratör")
    assert (row.author_id, row.author) == ("anna", "anna")
