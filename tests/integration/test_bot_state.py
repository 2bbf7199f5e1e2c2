"""The bot's records in the database: versioned state, retried activities,
conversation references and tenants (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.state_storage import VERSION, SqlStorage
from storage import bot_state
from storage.bot_state import (
    CLAIMS_KEPT,
    ONCE_KEYS,
    StaleWrite,
    StateStore,
    claim_activity,
    claim_key,
    conversation_references,
    finish_turn,
    link_tenant,
    org_for_tenant,
    prune_claims,
    save_conversation_reference,
)
from storage.repository import create_organisation
from storage.tables import ProcessedActivityRow, table

CLAIMS = table(ProcessedActivityRow)  # typed columns (SQLModel types ProcessedActivityRow.key as a str)


def test_a_stale_state_write_is_refused_not_lost(engine: Engine) -> None:
    store = StateStore(engine)
    assert store.write("conv/1", {"step": 1}, None) == 1
    first = store.read(["conv/1"])["conv/1"]
    second = store.read(["conv/1"])["conv/1"]
    assert store.write("conv/1", {"step": 2}, first.version) == 2
    with pytest.raises(StaleWrite):
        store.write("conv/1", {"step": "from the other server"}, second.version)
    assert store.read(["conv/1"])["conv/1"].data == {"step": 2}
    with pytest.raises(StaleWrite):  # creating a key that another turn created meanwhile
        store.write("conv/1", {"step": 0}, None)


def test_sdk_storage_round_trip_keeps_the_version_in_step(engine: Engine) -> None:
    from microsoft_agents.hosting.core.state.agent_state import CachedAgentState

    def version_of(item: CachedAgentState) -> object:
        """The version SqlStorage keeps in the state, beside the entries the SDK types
        (as StoreItem | dict)."""
        state: Mapping[str, object] = item.state
        return state[VERSION]

    async def run() -> None:
        storage = SqlStorage(engine)
        item = CachedAgentState({"DialogState": {"dialogStack": [{"id": "MainDialog"}]}})
        await storage.write({"k": item})
        assert version_of(item) == 1
        await storage.write({"k": item})  # the same turn saves again: version 1 → 2
        read = await storage.read(["k"], target_cls=CachedAgentState)
        assert read["k"].state["DialogState"] == {"dialogStack": [{"id": "MainDialog"}]}
        assert version_of(read["k"]) == 2
        stale_state: dict[str, Any] = {"DialogState": {}, VERSION: 1}  # JSON, as read back
        stale = CachedAgentState(stale_state)
        with pytest.raises(StaleWrite):
            await storage.write({"k": stale})
        await storage.delete(["k"])
        assert await storage.read(["k"], target_cls=CachedAgentState) == {}

    asyncio.run(run())


def test_a_retried_activity_is_claimed_once(engine: Engine) -> None:
    assert claim_activity(engine, "conv", "act-1")
    assert not claim_activity(engine, "conv", "act-1")
    assert claim_activity(engine, "conv", "act-2")
    assert claim_activity(engine, "other-conv", "act-1")


def _lease_ends(engine: Engine, conversation_id: str, activity_id: str) -> None:
    """The claim's lease ran out (as it does when the turn's process was killed)."""
    with engine.begin() as conn:
        conn.execute(
            update(CLAIMS)
            .where(CLAIMS.c.key == claim_key(conversation_id, activity_id))
            .where(CLAIMS.c.lease_until.is_not(None))
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_a_claim_is_leased_until_its_turn_finishes(engine: Engine) -> None:
    assert claim_activity(engine, "conv", "act-1")
    assert not claim_activity(engine, "conv", "act-1")  # the turn still runs
    _lease_ends(engine, "conv", "act-1")
    assert claim_activity(engine, "conv", "act-1")  # it never finished: handled again
    assert not claim_activity(engine, "conv", "act-1")  # by one retry, not two
    finish_turn(engine, "conv", "act-1")
    _lease_ends(engine, "conv", "act-1")  # nothing to end: a finished turn has no lease
    assert not claim_activity(engine, "conv", "act-1")
    assert claim_activity(engine, "conv", "act-2", lease=timedelta(0))
    assert claim_activity(engine, "conv", "act-2")  # a lease of nothing is over at once


def test_ids_that_differ_only_after_256_characters_are_different_claims(engine: Engine) -> None:
    long_conversation = "a:" + "c" * 600
    stem = "1:" + "x" * 300
    assert claim_activity(engine, long_conversation, stem + "-first")
    assert claim_activity(engine, long_conversation, stem + "-second")
    assert claim_activity(engine, long_conversation[:-1] + "d", stem + "-first")
    assert not claim_activity(engine, long_conversation, stem + "-first")
    assert len({claim_key("ab", "c"), claim_key("a", "bc")}) == 2  # the parts cannot slide


def _age(engine: Engine, conversation_id: str, activity_ids: list[str], at: datetime) -> None:
    keys = [claim_key(conversation_id, a) for a in activity_ids]
    with engine.begin() as conn:
        conn.execute(update(CLAIMS).where(CLAIMS.c.key.in_(keys)).values(created_at=at))


def _claims(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(CLAIMS.c.key)).scalars())


def test_claims_older_than_a_week_are_pruned_and_once_keys_kept(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot_state, "_PRUNE_BATCH", 3)  # several batches
    now = datetime.now(UTC)
    old = [f"old-{i}" for i in range(7)]
    for activity in [*old, "recent", "at-the-edge"]:
        assert claim_activity(engine, "conv", activity)
    with Session(engine) as session:  # as bot.services stores a write's once key
        session.add(ProcessedActivityRow(key=claim_key(ONCE_KEYS, "measure-card-1"), once=True))
        session.commit()
    _age(engine, "conv", old, now - CLAIMS_KEPT - timedelta(days=1))
    _age(engine, "conv", ["at-the-edge"], now - CLAIMS_KEPT + timedelta(minutes=5))
    _age(engine, ONCE_KEYS, ["measure-card-1"], now - timedelta(days=400))

    assert prune_claims(engine, now) == 7
    assert _claims(engine) == {
        claim_key("conv", "recent"),
        claim_key("conv", "at-the-edge"),
        claim_key(ONCE_KEYS, "measure-card-1"),
    }
    assert not claim_activity(engine, "conv", "recent")  # a retry inside the week is still stopped
    assert not claim_activity(engine, ONCE_KEYS, "measure-card-1")
    assert prune_claims(engine, now) == 0


def test_conversation_references_are_kept_up_to_date(engine: Engine) -> None:
    kwargs: dict[str, Any] = {
        "org_id": None,
        "tenant_id": "t",
        "user_id": "u1",
        "conversation_id": "c1",
        "conversation_type": "personal",
    }
    save_conversation_reference(engine, reference={"serviceUrl": "https://a"}, **kwargs)
    save_conversation_reference(engine, reference={"serviceUrl": "https://b"}, **kwargs)
    assert conversation_references(engine, "u1") == [{"serviceUrl": "https://b"}]


def test_one_city_serves_every_tenant_and_several_need_links(engine: Engine) -> None:
    assert org_for_tenant(engine, "any") is None
    with Session(engine) as session:
        create_organisation(session, "malmo", "Malmö stad")
        session.commit()
    one = org_for_tenant(engine, "any")
    assert one is not None and one.slug == "malmo"
    with Session(engine) as session:
        create_organisation(session, "lund", "Lunds kommun")
        session.commit()
    assert org_for_tenant(engine, "tenant-lund") is None
    link_tenant(engine, "tenant-lund", "lund")
    linked = org_for_tenant(engine, "tenant-lund")
    assert linked is not None and linked.slug == "lund"
    with pytest.raises(LookupError):
        link_tenant(engine, "x", "nowhere")


def test_claims_made_before_the_upgrade_to_leases_still_hold(engine: Engine) -> None:
    """Migration 0010 keys the old (conversation, activity) rows as claim_key does:
    a retry of an activity handled before the upgrade is still answered by nothing,
    and a card's once key still keeps its write from being made twice."""
    from alembic import command

    from storage.migrate import alembic_config, current, head, upgrade

    def migrate(step: Any, revision: str) -> None:
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, revision)

    migrate(command.downgrade, "0009")  # the table as it was before leases
    old = Table("processed_activities", MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(
            old.insert(),
            [
                {"conversation_id": "conv", "activity_id": "handled", "created_at": datetime.now(UTC)},
                {"conversation_id": ONCE_KEYS, "activity_id": "f" * 32, "created_at": datetime.now(UTC)},
            ],
        )
    upgrade(engine)
    assert current(engine) == head()  # upgraded to the latest migration
    assert not claim_activity(engine, "conv", "handled")
    assert claim_activity(engine, "conv", "new")
    assert prune_claims(engine, datetime.now(UTC) + CLAIMS_KEPT + timedelta(days=1)) == 2  # not the once key
    with Session(engine) as session:  # as bot.services finds a form's once key
        kept = session.get(ProcessedActivityRow, claim_key(ONCE_KEYS, "f" * 32))
        assert kept is not None and kept.once and kept.lease_until is None


def test_a_turn_longer_than_its_lease_keeps_its_claim_until_it_ends(engine: Engine) -> None:
    """bot.claims renews the lease at every half lease while the turn's task runs;
    a turn that ended in an error stops renewing, and its lease runs out. Turns
    that end together are marked finished in one batch."""
    from bot.claims import Finisher, HeldClaim

    lease = timedelta(seconds=0.4)
    finisher = Finisher(engine)

    async def slow_turn(activity_id: str, fail: bool) -> None:
        assert claim_activity(engine, "conv", activity_id, lease=lease)
        held = HeldClaim(finisher, "conv", activity_id, lease)
        await asyncio.sleep(1.0)  # two and a half leases
        assert not claim_activity(engine, "conv", activity_id)  # Teams' retry: the turn still runs
        if fail:
            raise RuntimeError("the turn fails")
        held.finish()
        await finisher.drain()

    async def turns() -> None:
        await slow_turn("slow", fail=False)
        with pytest.raises(RuntimeError):
            await asyncio.create_task(slow_turn("failing", fail=True))
        await asyncio.sleep(1.0)  # the same loop runs on: the failed turn's timer sees it ended

    asyncio.run(turns())
    assert not claim_activity(engine, "conv", "slow")  # finished: never again
    assert claim_activity(engine, "conv", "failing")  # not finished, lease over: handled again

    async def together() -> None:
        for i in range(5):
            assert claim_activity(engine, "conv", f"together-{i}")
            HeldClaim(finisher, "conv", f"together-{i}", lease).finish()
        await finisher.drain()
        await asyncio.sleep(0.5)  # past their leases

    asyncio.run(together())
    assert not any(claim_activity(engine, "conv", f"together-{i}") for i in range(5))
