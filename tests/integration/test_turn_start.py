"""What a turn reads and claims before the bot answers (storage.turn_start):
the same on SQLite (several statements in a transaction) and on PostgreSQL
(one statement)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.services import Services
from core.model import Role
from storage.bot_state import StateStore, claim_key, conversation_references, finish_turn, link_tenant
from storage.repository import create_organisation
from storage.tables import ConversationRefRow, ProcessedActivityRow, table
from storage.turn_start import Arrival, TurnStart, begin_turn

CLAIMS = table(ProcessedActivityRow)  # typed columns (SQLModel types ProcessedActivityRow.key as a str)
REFS = table(ConversationRefRow)

CONVERSATION_KEY = "msteams/conversations/c1"
USER_KEY = "msteams/users/anna"


def start(engine: Engine, activity_id: str | None = "a1", **changes: Any) -> TurnStart:
    arrival = Arrival(
        conversation_id="c1",
        activity_id=activity_id,
        tenant_id="tenant-malmo",
        reference={"serviceUrl": "https://smba.example/", "conversation": {"id": "c1"}, "activityId": "x"},
        user_id="anna",
        conversation_type="personal",
        state_keys=(CONVERSATION_KEY, USER_KEY),
        roles_of="anna",
    )
    return begin_turn(engine, replace(arrival, **changes))


def test_a_turn_finds_its_city_state_and_roles(example_engine: Engine) -> None:
    services = Services(example_engine, org="malmo")
    services.grant_role(None, "anna", Role.CHEF, "GVN")
    services.grant_role(None, "anna", Role.HR, "FSKN")
    StateStore(example_engine).write(CONVERSATION_KEY, {"DialogState": {"dialogStack": []}}, None)

    turn = start(example_engine)

    assert turn.first
    assert turn.org is not None and (turn.org.slug, turn.org.name) == ("malmo", "Malmö stad")
    assert turn.org.measures > 0 and turn.org.units > 0 and turn.org.ledger_seq > 0
    assert turn.states is not None and set(turn.states) == {CONVERSATION_KEY}  # the user's is not stored
    assert turn.states[CONVERSATION_KEY].data == {"DialogState": {"dialogStack": []}}
    assert turn.states[CONVERSATION_KEY].version == 1
    assert turn.roles is not None
    assert [(g.role, g.unit) for g in turn.roles.grants] == [(Role.CHEF, "GVN"), (Role.HR, "FSKN")]
    assert start(example_engine, "a2", roles_of=None).roles is None
    bertils = start(example_engine, "a3", roles_of="bertil").roles
    assert bertils is not None and bertils.grants == ()


def test_an_activity_seen_before_is_not_handled_again(example_engine: Engine) -> None:
    assert start(example_engine, "a1").first
    assert start(example_engine, "a1") == TurnStart(False)
    assert start(example_engine, "a1", conversation_id="c2").first  # an id is per conversation
    assert start(example_engine, None).first and start(example_engine, None).first  # nothing to claim


def _lease_ends(engine: Engine, activity_id: str) -> None:
    """The claim's lease ran out, as when the turn's process was killed."""
    with engine.begin() as conn:
        conn.execute(
            update(CLAIMS)
            .where(CLAIMS.c.key == claim_key("c1", activity_id))
            .where(CLAIMS.c.lease_until.is_not(None))
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_a_running_turn_holds_its_claim_and_a_dead_ones_is_taken_over(example_engine: Engine) -> None:
    assert start(example_engine, "a1").first
    assert start(example_engine, "a1") == TurnStart(False)  # Teams' retry while the turn runs
    _lease_ends(example_engine, "a1")
    retry = start(example_engine, "a1")  # the turn's process died: the retry is the turn
    assert retry.first and retry.org is not None and retry.roles is not None
    assert start(example_engine, "a1") == TurnStart(False)
    finish_turn(example_engine, "c1", "a1")
    _lease_ends(example_engine, "a1")
    assert start(example_engine, "a1") == TurnStart(False)  # finished: never again
    assert start(example_engine, "a2", lease=timedelta(0)).first
    assert start(example_engine, "a2").first  # a lease of nothing is over at once


def test_activity_ids_that_differ_only_after_256_characters_are_both_handled(example_engine: Engine) -> None:
    stem = "1:" + "7" * 300
    assert start(example_engine, stem + "a").first
    assert start(example_engine, stem + "b").first
    assert start(example_engine, stem + "a", conversation_id="c" * 400).first
    assert start(example_engine, stem + "a") == TurnStart(False)


def test_the_tenant_decides_the_city_when_there_are_several(engine: Engine) -> None:
    assert start(engine) == TurnStart(True)  # no city at all
    with Session(engine) as session:
        create_organisation(session, "malmo", "Malmö stad")
        session.commit()
    only = start(engine, "a2", tenant_id=None).org
    assert only is not None and only.slug == "malmo"
    only = start(engine, "a3", tenant_id="any").org
    assert only is not None and only.slug == "malmo"
    with Session(engine) as session:
        create_organisation(session, "lund", "Lunds kommun")
        session.commit()
    assert start(engine, "a4", tenant_id="tenant-lund").org is None
    link_tenant(engine, "tenant-lund", "lund")
    linked = start(engine, "a5", tenant_id="tenant-lund").org
    assert linked is not None and linked.slug == "lund"
    assert start(engine, "a6", tenant_id="tenant-malmo").org is None
    assert start(engine, "a7", tenant_id=None).org is None


def test_the_conversation_reference_is_written_when_it_changes(example_engine: Engine) -> None:
    def stored() -> list[tuple[Any, ...]]:
        with example_engine.connect() as conn:
            return [
                tuple(row)
                for row in conn.execute(
                    select(
                        REFS.c.reference,
                        REFS.c.tenant_id,
                        REFS.c.conversation_type,
                        REFS.c.updated_at,
                    )
                )
            ]

    start(example_engine, "a1")
    first = stored()
    assert conversation_references(example_engine, "anna") == [
        {"serviceUrl": "https://smba.example/", "conversation": {"id": "c1"}, "activityId": "x"}
    ]
    same_place = {"serviceUrl": "https://smba.example/", "conversation": {"id": "c1"}, "activityId": "y"}
    start(example_engine, "a2", reference=same_place)
    assert stored() == first  # only the message's own id differs: not written
    start(example_engine, "a3", reference={"serviceUrl": "https://smba.other/", "conversation": {"id": "c1"}})
    assert conversation_references(example_engine, "anna") == [
        {"serviceUrl": "https://smba.other/", "conversation": {"id": "c1"}}
    ]
    start(
        example_engine,
        "a4",
        reference={"serviceUrl": "https://smba.other/", "conversation": {"id": "c1"}},
        conversation_type="groupChat",
    )
    assert [row[2] for row in stored()] == ["groupChat"]
    start(example_engine, "a5", reference=None, conversation_type="personal")
    assert [row[2] for row in stored()] == ["groupChat"]  # no reference given: left as it is


def test_on_sqlite_only_the_claim_commits_unsynced_and_later_writes_are_synced(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim's commit skips the wait for the disk (storage.db.unsynced_commits);
    the state, the ledger and everything else written afterwards on the same
    pooled connections is synced as before, also after a turn start that failed."""
    from sqlalchemy import event

    from bot.data_services import load_example

    engine = sqlite_engine
    load_example(engine, "malmo-2025")
    synced_at_commit: list[int] = []

    @event.listens_for(engine, "commit")
    def _record(conn: Any) -> None:
        synced_at_commit.append(conn.connection.dbapi_connection.execute("PRAGMA synchronous").fetchone()[0])

    assert start(engine, "a1").first
    assert synced_at_commit == [1]  # NORMAL: the claim
    StateStore(engine).write(CONVERSATION_KEY, {"DialogState": {}}, None)
    Services(engine, org="malmo").grant_role(None, "anna", Role.CHEF, "GVN")
    assert synced_at_commit[1:] and set(synced_at_commit[1:]) == {2}  # FULL

    event.remove(engine, "commit", _record)

    def failing(*_args: Any) -> None:
        raise RuntimeError("the state read fails")

    monkeypatch.setattr("storage.turn_start.read_states", failing)
    with pytest.raises(RuntimeError):
        start(engine, "a2")
    connections = [engine.connect() for _ in range(3)]
    try:
        assert {c.exec_driver_sql("PRAGMA synchronous").scalar() for c in connections} == {2}
    finally:
        for c in connections:
            c.close()
