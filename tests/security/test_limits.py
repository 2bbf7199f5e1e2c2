"""The server's limits, against what an attacker (or a bad day) tries to
hold it with: a PostgreSQL that stops answering, a database lock
held by someone else, a SIGTERM while all that goes on, request headers and
bodies sent a byte at a time, JSON nested 900 and 100 000 deep with NUL
characters, invoke activities the bot does not handle, and the `Server:`
header read for versions to attack."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from dialogs import texts
from storage.db import make_engine
from storage.db_limits import DatabaseTimeouts
from storage.unit_of_work import UnitOfWork
from tests.conftest import PG_URL
from tests.http.conftest import _prepare, pg_schema
from tests.http.faults import pg_target, through, wait_for
from tests.http.harness import BotServer, ConnectorStub, activity
from tests.http.inprocess import InProcessBot
from tests.security.limits_support import HangingProxy, dribble, exchange

needs_postgres = pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL"
)


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InProcessBot, ConnectorStub]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('limits') / 'bot.db'}"
    _prepare(url)
    stub = ConnectorStub().start()
    app = InProcessBot(url, body_timeout=1.0).start()
    try:
        yield app, stub
    finally:
        app.stop()
        stub.stop()


def _nested(depth: int, inner: str) -> bytes:
    return ("[" * depth + inner + "]" * depth).encode()


# --- item 12: deep JSON, invoke, Server header, unfinished bodies (in this process) -------


@pytest.mark.parametrize("depth", [900, 100_000])
def test_json_nested_900_or_100000_deep_with_nul_gets_a_400_with_a_reason_not_a_500(bot, depth: int) -> None:
    app, stub = bot
    errors = len(app.errors.records)
    head = json.dumps(activity("hej", service_url=stub.url, conversation_id="deep"))[:-1]
    body = head.encode() + b', "value": ' + _nested(depth, '"\\u0000"') + b"}"
    status, answer = app.post(body)
    assert status == 400, answer
    assert len(answer) < 200 and json.loads(answer)["error"], answer
    assert "Traceback" not in answer
    assert app.errors.lines()[errors:] == []  # nothing logged as an error, no traceback


def test_a_body_nested_as_teams_nests_with_nul_is_still_answered(bot) -> None:
    app, stub = bot
    before = len(stub.received)
    head = json.dumps(activity("saldo GVN", service_url=stub.url, conversation_id="shallow"))[:-1]
    body = head.encode() + b', "value": ' + _nested(20, '"a\\u0000b"') + b"}"
    assert app.post(body)[0] == 202
    assert "9 500 000 kr" in " ".join(a.get("text") or "" for a in stub.received[before:])


@pytest.mark.parametrize("name", ["adaptiveCard/action", "task/fetch", "composeExtension/query", None])
def test_invoke_activities_the_bot_does_not_handle_get_200_not_501(bot, name: str | None) -> None:
    app, stub = bot
    errors = len(app.errors.records)
    body = activity(
        None,
        service_url=stub.url,
        conversation_id=f"invoke-{uuid.uuid4().hex[:6]}",
        activity_type="invoke",
        value={"action": {"type": "Action.Execute", "verb": "x"}},
    )
    if name:
        body["name"] = name  # the activity's name (harness.activity's `name` is the sender's)
    status, answer = app.post(body)
    assert status == 200, answer
    if name == "adaptiveCard/action":
        assert json.loads(answer)["statusCode"] == 200
    assert app.errors.lines()[errors:] == []


def test_the_server_header_names_no_versions(bot) -> None:
    app, _stub = bot
    import urllib.error
    import urllib.request

    for path in ("/healthz", "/nowhere"):
        try:
            with urllib.request.urlopen(app.url + path, timeout=10) as r:
                server = r.headers.get("Server")
        except urllib.error.HTTPError as e:
            server = e.headers.get("Server")
        assert server == "kompetensbot", (path, server)


def test_a_body_sent_a_byte_at_a_time_is_cut_off_with_408(bot) -> None:
    app, _stub = bot
    head = (
        b"POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    closed_after, answer = dribble(app.port, head, b"{" + b" " * 999, every=0.3, for_at_most=8)
    assert closed_after < 4, (closed_after, answer)  # body_timeout is 1 s here
    assert answer.startswith(b"HTTP/1.1 408"), answer


# --- item 10: PostgreSQL's timeouts (in this process) ------------------------------------


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL")
    with pg_schema() as url:  # a URL with its own `options` (search_path): the timeouts add to it
        yield url


@pytest.mark.postgres
def test_a_statement_running_past_the_statement_timeout_is_cancelled(pg_url: str) -> None:
    engine = make_engine(pg_url, timeouts=DatabaseTimeouts(connect=5, statement=1, lock=1))
    try:
        with engine.connect() as conn:
            # the URL's search_path is kept beside the timeouts
            assert conn.execute(text("SELECT count(*) FROM organisations")).scalar_one() >= 1
            started = time.monotonic()
            with pytest.raises(OperationalError, match="statement timeout"):
                conn.execute(text("SELECT pg_sleep(10)"))
            assert time.monotonic() - started < 3
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_writer_behind_a_held_city_lock_gives_up_and_skip_locked_still_skips(pg_url: str) -> None:
    engine = make_engine(pg_url, timeouts=DatabaseTimeouts(connect=5, statement=10, lock=1))
    holder = make_engine(pg_url)
    try:
        with holder.connect() as held:
            # someone holds every city's row lock
            held.execute(text("SELECT id FROM organisations FOR UPDATE"))
            with engine.connect() as conn:
                skipped = conn.execute(text("SELECT id FROM organisations FOR UPDATE SKIP LOCKED")).all()
                assert skipped == []  # the round's claims skip, they never wait
            started = time.monotonic()
            with pytest.raises(OperationalError, match="lock timeout"):
                UnitOfWork(engine, "malmo", write=True).__enter__()
            assert time.monotonic() - started < 3
            held.rollback()
        with UnitOfWork(engine, "malmo", write=True) as _repo:  # the lock is free again: the writer goes on
            pass
    finally:
        engine.dispose()
        holder.dispose()


@pytest.mark.postgres
def test_a_database_that_stops_answering_fails_the_statement_in_seconds_not_never(pg_url: str) -> None:
    proxy = HangingProxy(*pg_target()).start()
    limits = DatabaseTimeouts(connect=2, statement=1, lock=1)
    engine = make_engine(through(pg_url, proxy.port), timeouts=limits)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            proxy.hang()
            started = time.monotonic()
            with pytest.raises(OperationalError):
                conn.execute(text("SELECT 1"))
            assert time.monotonic() - started < 5  # statement timeout 1 s + the watchdog's grace
        started = time.monotonic()
        with pytest.raises(OperationalError), engine.connect() as conn:  # a new connection: connect timeout
            conn.execute(text("SELECT 1"))
        assert time.monotonic() - started < 6
        proxy.resume()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        proxy.resume()
        engine.dispose()
        proxy.stop()


# --- whole servers ---------------------------------------------------------------------------

FAST = {"KOMPETENSBOT_DB_STATEMENT_TIMEOUT": "2", "KOMPETENSBOT_DB_CONNECT_TIMEOUT": "2"}


def _post_in_background(server: BotServer, body: dict[str, Any]) -> threading.Thread:
    def post() -> None:
        try:
            server.post(body)
        except OSError:
            pass  # the server stopped under it

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread


def _seconds_to_stop(server: BotServer) -> float:
    assert server.process is not None
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()
        return float("inf")
    return time.monotonic() - started


@pytest.mark.slow
@pytest.mark.postgres
@needs_postgres
def test_with_postgres_hanging_healthz_says_503_at_once_a_turn_hears_try_later_and_sigterm_stops() -> None:
    stub = ConnectorStub().start()
    proxy = HangingProxy(*pg_target()).start()
    with pg_schema() as url:
        server = BotServer(through(url, proxy.port), env=FAST).start()
        try:
            proxy.hang()
            started = time.monotonic()
            status, answer = server.get("/healthz")
            assert status == 503 and time.monotonic() - started < 4, (status, answer)
            started = time.monotonic()
            assert server.get("/healthz")[0] == 503 and time.monotonic() - started < 4  # again: still quick

            started = time.monotonic()
            status, _ = server.post(activity("saldo GVN", service_url=stub.url, conversation_id="hang"))
            assert status in (200, 202)
            assert time.monotonic() - started < 15
            wait_for(lambda: texts.TRY_AGAIN_LATER in stub.texts("hang"), "the try-again message", 10)

            proxy.resume()  # the database is back: so is the server, without a restart
            wait_for(lambda: server.get("/healthz")[0] == 200, "healthz to say ok again", 15)
            server.post(activity("saldo GVN", service_url=stub.url, conversation_id="back"))
            assert "9 500 000 kr" in " ".join(stub.texts("back"))

            proxy.hang()
            _post_in_background(server, activity("saldo GVN", service_url=stub.url, conversation_id="hang-2"))
            time.sleep(1)  # the turn waits on the database
            assert _seconds_to_stop(server) < 10
            assert "Traceback" not in server.log.read_text(errors="replace")
        finally:
            server.stop()
            proxy.resume()
            proxy.stop()
            stub.stop()


@pytest.mark.slow
def test_sigterm_stops_the_server_within_10_s_while_a_turn_waits_on_a_locked_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    _prepare(url)
    stub = ConnectorStub().start()
    server = BotServer(url).start()
    locker = sqlite3.connect(tmp_path / "bot.db", timeout=1, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")  # every write waits (SQLite's busy timeout is 30 s)
        _post_in_background(server, activity("saldo GVN", service_url=stub.url, conversation_id="locked"))
        time.sleep(1)
        assert _seconds_to_stop(server) < 10
        assert "Traceback" not in server.log.read_text(errors="replace")
    finally:
        locker.rollback()
        locker.close()
        server.stop()
        stub.stop()


@pytest.mark.slow
def test_headers_sent_a_byte_at_a_time_are_cut_off_and_aiohttp_errors_name_no_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    _prepare(url)
    server = BotServer(url, env={"KOMPETENSBOT_HEADER_TIMEOUT": "2"}).start()
    try:
        head = b"POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        closed_after, answer = dribble(server.port, head, b"X-Slow: " + b"a" * 200, every=0.3, for_at_most=10)
        assert closed_after < 5, (closed_after, answer)

        answer = exchange(server.port, b"BLAH \x01 HTTP/1.1\r\n\r\n")
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.split()[1:2] == [b"400"], answer
        headers = rest.split(b"\r\n\r\n", 1)[0].lower()
        assert b"server: kompetensbot\r\n" in headers + b"\r\n" and b"aiohttp" not in headers, answer
        assert server.get("/healthz")[0] == 200  # the server is fine
    finally:
        server.stop()


def test_a_web_page_cannot_post_to_a_local_anonymous_server(tmp_path: Path) -> None:
    """A page open in a developer's browser posted text/plain (no preflight) with
    Origin https://evil.example to `serve --demo` and a measure was saved."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    _prepare(url)
    stub = ConnectorStub().start()
    bot = InProcessBot(url).start()
    try:
        body = activity("ny insats", service_url=stub.url, conversation_id="page")
        page = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
        assert bot.post(body, headers={"Content-Type": "text/plain", **page})[0] == 415
        assert bot.post(body, headers=page)[0] == 403
        assert bot.post(body, headers={"Sec-Fetch-Site": "cross-site"})[0] == 403
        assert stub.texts("page") == []
        assert bot.post(body)[0] == 202  # a channel's server sends JSON, without Origin
        assert stub.texts("page")
    finally:
        bot.stop()
        stub.stop()
