"""At least once, saved once (issue 16, item 5; and the dedupe keys of item 12).

Teams posts an activity again when the bot did not answer it in time. A turn
claims its activity for a lease (KOMPETENSBOT_CLAIM_LEASE_SECONDS; a few
seconds here): a retry while the turn still runs, or after it finished, is
answered by nothing; a retry after the lease of a turn whose process was
killed is handled again, and a write the dead turn had committed is not made
twice (its form's one-time key), the person is told it is already saved.

Real `kompetensbot serve` processes over HTTP; replies go to a connector
stand-in that can hold a reply unanswered (the turn is then still running),
and the server is killed with SIGKILL mid-turn."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from bot.services import Services
from storage.bot_state import claim_key
from storage.db import make_engine
from storage.tables import ProcessedActivityRow, table
from tests.conftest import PG_URL
from tests.http.conftest import pg_schema
from tests.http.faults import ledger_counts, wait_for
from tests.http.harness import BotServer, ThrottlingConnectorStub, activity

CLAIMS = table(ProcessedActivityRow)  # typed columns (SQLModel types ProcessedActivityRow.key as a str)

pytestmark = pytest.mark.slow

LEASE = 8.0
"""Seconds a turn holds its claim in these servers (60 by default): longer than a server takes to
start (3.5 s on this 2-core machine while other tests run), since a retry "during the lease" is
posted to a server started after the first was killed."""

SERVER_ENV = {"KOMPETENSBOT_CLAIM_LEASE_SECONDS": str(LEASE), "KOMPETENSBOT_REPLY_TIMEOUT": "30"}


@pytest.fixture
def channel() -> Iterator[ThrottlingConnectorStub]:
    with ThrottlingConnectorStub(per_conversation_rate=None, global_rate=None) as stub:
        yield stub


def server(url: str) -> BotServer:
    return BotServer(url, env=SERVER_ENV).start()


def form(title: str) -> dict[str, Any]:
    """A measure form as the card sends it, with its one-time key."""
    return {
        "action": "submit_measure",
        "unit": "FSKN",
        "title": title,
        "end_date": "2025-12-31",
        "amount": "100 tkr",
        "decision": "FSKN 2025-02-05 § 5",
        "once": uuid.uuid4().hex,
    }


def confirmation(
    bot: BotServer, stub: ThrottlingConnectorStub, conversation: str, title: str
) -> dict[str, Any]:
    """The measure form sent and summarised (a form is confirmed before it is saved:
    issue 17 item 1); the "ja" that saves it, to post."""
    sent = activity(None, service_url=stub.url, conversation_id=conversation, value=form(title))
    assert bot.post(sent)[0] == 202
    assert "Vill du spara insatsen" in " ".join(replies(stub, sent))
    return activity("ja", service_url=stub.url, conversation_id=conversation)


def replies(stub: ThrottlingConnectorStub, body: dict[str, Any]) -> list[str]:
    """The texts the channel took in answer to one activity."""
    return [
        s["activity"].get("text") or "" for s in stub.sends() if s["activity"].get("replyToId") == body["id"]
    ]


def post_in_background(bot: BotServer, body: dict[str, Any]) -> threading.Thread:
    """Post while the test goes on (the turn will not finish: its server is killed)."""

    def post() -> None:
        try:
            bot.post(body)
        except OSError:  # the server was killed under the request
            pass

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread


def wait_for_the_lease_to_end(engine: Engine, body: dict[str, Any]) -> None:
    """Until the claim's lease (set by the killed server's clock, this machine's) is over."""
    key = claim_key(body["conversation"]["id"], body["id"])

    def over() -> bool:
        with engine.connect() as conn:
            until = conn.execute(select(CLAIMS.c.lease_until).where(CLAIMS.c.key == key)).scalar_one()
        assert until is not None, "the killed turn's claim says it finished"
        return until.replace(tzinfo=UTC) < datetime.now(UTC)

    wait_for(over, "the killed turn's lease to end", LEASE + 10)


def retry_during_the_turn_gets_nothing(
    bot: BotServer, stub: ThrottlingConnectorStub, body: dict[str, Any]
) -> None:
    status, _ = bot.post(body)
    assert status == 202
    assert replies(stub, body) == []


@pytest.mark.postgres
def test_a_submission_killed_before_its_write_is_saved_once_by_the_retry_after_the_lease(
    channel: ThrottlingConnectorStub,
) -> None:
    """The turn has claimed the activity and waits for the city's write lock (held by
    another transaction) when its process is killed: nothing was saved. Teams' retry
    during the lease gets nothing (the turn could still be running); the one after
    the lease is handled: saved once, with the receipt. Before: 202 and nothing,
    the form was lost."""
    if not PG_URL:
        pytest.skip("PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL")
    with pg_schema() as url:
        engine = make_engine(url)
        first = server(url)
        again: BotServer | None = None
        try:
            before = ledger_counts(engine)
            body = confirmation(first, channel, "killed-before-write", "Sparad efter omstart")
            lock = engine.connect()
            held = lock.begin()
            lock.execute(text("SELECT id FROM organisations WHERE slug = 'malmo' FOR UPDATE"))
            holder = lock.execute(text("SELECT pg_backend_pid()")).scalar_one()
            try:
                post_in_background(first, body)
                wait_for(
                    lambda: _waiting_for(engine, holder) > 0, "the turn to wait for the city's write lock"
                )
                retry_during_the_turn_gets_nothing(first, channel, body)
                first.kill()
            finally:
                held.rollback()
                lock.close()
            assert ledger_counts(engine) == before
            again = server(url)
            retry_during_the_turn_gets_nothing(again, channel, body)  # the lease has not ended
            wait_for_the_lease_to_end(engine, body)
            assert again.post(body)[0] == 202
            [receipt] = replies(channel, body)
            assert receipt.startswith("Klart! Insatsen **Sparad efter omstart** är sparad"), receipt
            entries, measures, followups = before
            assert ledger_counts(engine) == (entries + 1, measures + 1, followups)
            assert again.post(body)[0] == 202  # the turn finished: a later retry gets nothing
            assert replies(channel, body) == [receipt]
        finally:
            first.stop()
            if again is not None:
                again.stop()
            engine.dispose()


def _waiting_for(engine: Engine, holder: int) -> int:
    """How many backends wait for a lock the backend `holder` holds."""
    with engine.connect() as conn:
        query = text("SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))")
        return int(conn.execute(query, {"holder": holder}).scalar_one())


def test_a_submission_killed_after_its_write_is_answered_already_saved_and_not_saved_twice(
    database_url: str, channel: ThrottlingConnectorStub
) -> None:
    """The measure is committed and the bot is sending the receipt (the channel holds
    it unanswered) when its process is killed. A retry while the turn still runs gets
    202 and nothing; the retry after the lease is told what is already saved, and
    nothing is saved twice. Before: 202 and nothing, the person never knew."""
    engine = make_engine(database_url)
    first = server(database_url)
    again: BotServer | None = None
    try:
        before = ledger_counts(engine)
        conversation = "killed-after-write"
        body = confirmation(first, channel, conversation, "Sparad före krasch")
        channel.script[conversation] = [("hang", 120)]
        sent = [c for _t, _m, c in channel.arrivals].count(conversation)
        post_in_background(first, body)
        wait_for(
            lambda: [c for _t, _m, c in channel.arrivals].count(conversation) > sent, "the receipt to be sent"
        )
        entries, measures, followups = before
        assert ledger_counts(engine) == (entries + 1, measures + 1, followups)
        retry_during_the_turn_gets_nothing(first, channel, body)
        assert [c for _t, _m, c in channel.arrivals].count(conversation) == sent + 1
        first.kill()
        again = server(database_url)
        wait_for_the_lease_to_end(engine, body)
        assert again.post(body)[0] == 202
        [told] = replies(channel, body)
        measure_id = max(measure_ids(engine))
        assert told.startswith(
            f"Det här är redan sparat: insatsen **Sparad före krasch** (id {measure_id})"
        ), told
        assert ledger_counts(engine) == (entries + 1, measures + 1, followups)
        assert again.post(body)[0] == 202
        assert replies(channel, body) == [told]
    finally:
        first.stop()
        if again is not None:
            again.stop()
        engine.dispose()


def measure_ids(engine: Engine) -> list[int]:
    return list(Services(engine, org="malmo").ledger().measures)


def test_two_activity_ids_differing_only_after_256_characters_are_both_answered(
    database_url: str, channel: ThrottlingConnectorStub
) -> None:
    """Before, the claim kept the first 256 characters of the id: the second
    activity was taken for a retry of the first and got no answer."""
    bot = server(database_url)
    try:
        stem = "1:" + "f" * 300
        bodies = [
            activity("saldo GVN", service_url=channel.url, conversation_id="long-ids", activity_id=stem + end)
            for end in ("a", "b")
        ]
        for body in bodies:
            assert bot.post(body)[0] == 202
        for body in bodies:
            [answer] = replies(channel, body)
            assert "9 500 000 kr" in answer
        assert bot.post(bodies[0])[0] == 202  # a true retry still gets nothing
        assert len(replies(channel, bodies[0])) == 1
    finally:
        bot.stop()


def test_ids_longer_than_what_is_stored_are_refused_not_cut(
    database_url: str, channel: ThrottlingConnectorStub
) -> None:
    """A conversation id of 600 characters overflowed the state key on PostgreSQL
    (a DataError in the turn's one statement); ids are refused whole, never cut."""
    bot = server(database_url)
    try:
        too_long = activity("saldo GVN", service_url=channel.url, conversation_id="c" * 600)
        status, body = bot.post(too_long)
        assert status == 400 and "conversation.id is longer than 400 characters" in body
        forged = activity("saldo GVN", service_url=channel.url, conversation_id="ok", user_id="u" * 300)
        status, body = bot.post(forged)
        assert status == 400 and "from.id is longer than 200" in body
        assert replies(channel, too_long) == [] and replies(channel, forged) == []
        fine = activity("saldo GVN", service_url=channel.url, conversation_id="c" * 400)
        assert bot.post(fine)[0] == 202
        [answer] = replies(channel, fine)
        assert "9 500 000 kr" in answer
        assert "Traceback" not in bot.log.read_text(errors="replace")
    finally:
        bot.stop()
