"""Faults, each a test that fails if anything the user did is lost or doubled:
the database unreachable during a turn, two server processes on one
PostgreSQL database, and the channel's connector service answering replies
with 429, 5xx or not at all.

Every test runs real `kompetensbot serve` processes over the Bot Framework
protocol and asserts what the user sees (the replies) and what the ledger
holds (read directly from the database)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.services import Services
from core.balances import fund_balance, measure_balance
from core.rules import unit_unallocated
from core.validation import validate
from dialogs import texts
from storage.db import make_engine
from tests.conftest import PG_URL
from tests.http.conftest import _prepare, pg_schema
from tests.http.faults import TcpProxy, ledger_counts, pg_target, through, wait_for
from tests.http.harness import BotServer, ConnectorStub, ThrottlingConnectorStub, activity

pytestmark = pytest.mark.slow

ALREADY_SAVED = "Det här är redan sparat"

needs_postgres = pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL"
)


def replies_to(stub: ConnectorStub, activity_id: str) -> list[str]:
    """The texts the bot answered one activity with (its replies carry its id)."""
    return [
        a.get("text") or ""
        for a in stub.activities()
        if a.get("type") == "message" and a.get("replyToId") == activity_id
    ]


def say(
    server: BotServer, stub: ConnectorStub, message: str | None, conversation: str, **kwargs: Any
) -> list[str]:
    """One turn: the user's message, and every text the bot answered it with."""
    activity_id = str(uuid.uuid4())
    body = activity(
        message, service_url=stub.url, conversation_id=conversation, activity_id=activity_id, **kwargs
    )
    status, _ = server.post(body)
    assert status in (200, 202), status
    return replies_to(stub, activity_id)


SUBMIT_STEPS = [
    ("ny insats", "Vilken nämnd"),
    ("Förskolenämnden", "Vad heter insatsen"),
    (None, "Beskriv insatsen"),  # None: the title
    ("-", "Vilken målgrupp"),
    ("-", "Vilken strategikategori"),
    ("1", "När börjar insatsen"),
    ("-", "När ska insatsen vara klar"),
    ("31 december 2025", "Stämmer datumen ändå?"),  # 2025's money, a day passed by the real clock
    ("ja", "Vem genomför insatsen"),
    ("-", "Hur mycket pengar"),
    ("100 tkr", "Vilket beslut"),
    ("2025-02-05 § 5", "Vilket behov svarar insatsen mot"),  # FSKN has needs (issue 21)
    ("inget", "Vill du spara insatsen"),
]


def up_to_confirmation(
    servers: list[BotServer], stub: ConnectorStub, conversation: str, title: str, **kwargs: Any
) -> None:
    """Walk the submit-a-measure dialog up to "Vill du spara insatsen?", turns alternating
    between the servers."""
    for i, (message, expected) in enumerate(SUBMIT_STEPS):
        answer = " ".join(say(servers[i % len(servers)], stub, message or title, conversation, **kwargs))
        assert expected in answer, (message, answer)


def no_tracebacks(*servers: BotServer) -> None:
    for server in servers:
        assert "Traceback" not in server.log.read_text(), server.log


# --- the database unreachable during a turn ----------------------------------------------


@needs_postgres
@pytest.mark.postgres
def test_the_database_unreachable_during_a_turn_loses_and_doubles_nothing() -> None:
    """PostgreSQL behind a proxy that is cut: between turns, at the moment a measure is
    written, and at the moment the dialog state is saved after the write."""
    with pg_schema() as url:
        direct = make_engine(url)
        proxy = TcpProxy(*pg_target()).start()
        stub = ConnectorStub().start()
        server = BotServer(through(url, proxy.port)).start()
        try:
            # Down between two turns: the user is told in Swedish, /healthz says so,
            # and the bot recovers by itself when the database is back.
            proxy.cut()
            assert say(server, stub, "saldo GVN", "db-1") == [texts.TRY_AGAIN_LATER]
            assert server.get("/healthz")[0] == 503
            proxy.restore()
            assert "9 500 000 kr" in " ".join(say(server, stub, "saldo GVN", "db-1"))
            assert server.get("/healthz")[0] == 200

            # Down at the moment the measure is inserted: nothing of it is written;
            # the same "ja" after the database is back saves it, once.
            up_to_confirmation([server], stub, "db-2", "Mentorskap under avbrott")
            before = ledger_counts(direct)
            proxy.cut_when(b"INSERT INTO measures")
            assert say(server, stub, "ja", "db-2") == [texts.TRY_AGAIN_LATER]
            assert proxy.cuts == 2, "the connection was not cut at the insert"
            assert ledger_counts(direct) == before
            proxy.restore()
            [receipt] = say(server, stub, "ja", "db-2")
            assert receipt.startswith("Klart! Insatsen **Mentorskap under avbrott** är sparad")
            entries, measures, followups = before
            assert ledger_counts(direct) == (entries + 1, measures + 1, followups)

            # Down at the moment the dialog state is saved, after the measure was
            # committed: the user saw the receipt; their repeated "ja" does not save
            # it a second time.
            up_to_confirmation([server], stub, "db-3", "Handledning under avbrott")
            before = ledger_counts(direct)
            proxy.cut_when(b'"dialog_stack"')  # the state's text: a prepared UPDATE goes by name
            receipt, told = say(server, stub, "ja", "db-3")
            assert receipt.startswith("Klart! Insatsen **Handledning under avbrott** är sparad")
            assert told == texts.TRY_AGAIN_LATER
            assert proxy.cuts == 3, "the connection was not cut at the state save"
            proxy.restore()
            [again] = say(server, stub, "ja", "db-3")
            assert again.startswith(ALREADY_SAVED)
            entries, measures, followups = before
            assert ledger_counts(direct) == (entries + 1, measures + 1, followups)
            # the conversation is free again: a question is answered, not taken as an answer
            assert "Förskolenämnden (FSKN) 2025" in " ".join(say(server, stub, "saldo FSKN", "db-3"))
            assert validate(Services(direct, org="malmo").ledger()) == []
            no_tracebacks(server)
        finally:
            server.stop()
            stub.stop()
            proxy.stop()
            direct.dispose()


# --- two server processes on one PostgreSQL database ------------------------------------


@pytest.fixture(scope="module")
def two_servers() -> Iterator[tuple[BotServer, BotServer, ConnectorStub, str, Engine]]:
    if not PG_URL:
        pytest.skip("PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL")
    with pg_schema() as url:
        direct = make_engine(url)
        stub = ConnectorStub().start()
        a = BotServer(url).start()
        b = BotServer(url).start()
        try:
            yield a, b, stub, url, direct
            no_tracebacks(a, b)
        finally:
            a.stop()
            b.stop()
            stub.stop()
            direct.dispose()


class StateLock:
    """Holds the row lock on one conversation's dialog state, so that two turns of it
    both read the state and then both wait to write it: a true race, every time."""

    def __init__(self, engine: Engine, conversation: str):
        self.conn = engine.connect()
        self.tx = self.conn.begin()
        key = self.conn.execute(
            text("SELECT key FROM bot_state WHERE key LIKE :k FOR UPDATE"),
            {"k": f"%/conversations/{conversation}"},
        ).scalar_one()
        assert key
        self.pid = self.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()

    def waiting(self) -> int:
        """How many backends wait for this lock, directly or behind another waiter
        (the second UPDATE of a row queues behind the first)."""
        with self.conn.engine.connect() as other:
            rows = other.execute(
                text("SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).all()
        blocked_by = {pid: set(blockers) for pid, blockers in rows}
        behind = {self.pid}
        while True:
            more = {pid for pid, blockers in blocked_by.items() if blockers & behind} - behind
            if not more:
                return len(behind) - 1
            behind |= more

    def release(self) -> None:
        self.tx.commit()
        self.conn.close()


def race(turns: list[tuple[BotServer, dict[str, Any]]], lock: StateLock | None = None) -> None:
    """Post the activities at once, one thread each; with a lock, release it only when
    every turn is waiting to save its state."""
    results: list[int] = []

    def post(server: BotServer, body: dict[str, Any]) -> None:
        results.append(server.post(body)[0])

    threads = [threading.Thread(target=post, args=turn) for turn in turns]
    for t in threads:
        t.start()
    if lock is not None:
        try:
            wait_for(lambda: lock.waiting() == len(turns), "both turns waiting to save their state")
        finally:
            lock.release()
    for t in threads:
        t.join(60)
    assert sorted(results) == [202] * len(turns), results


@needs_postgres
@pytest.mark.postgres
def test_the_same_user_answering_in_both_processes_is_never_silently_lost(two_servers) -> None:
    a, b, stub, _url, direct = two_servers
    conversation = "two-answers"
    say(a, stub, "ny insats", conversation)
    assert "Vad heter insatsen" in " ".join(say(b, stub, "Förskolenämnden", conversation))
    first = activity("Insats skriven i fönster A", service_url=stub.url, conversation_id=conversation)
    second = activity("Insats skriven i fönster B", service_url=stub.url, conversation_id=conversation)
    race([(a, first), (b, second)], StateLock(direct, conversation))
    answers = {body["text"]: replies_to(stub, body["id"]) for body in (first, second)}
    told_conflict = [title for title, said in answers.items() if texts.CONFLICT in said]
    assert len(told_conflict) == 1, answers  # one answer won; the other person was told
    [kept] = [title for title in answers if title not in told_conflict]
    for message, expected in SUBMIT_STEPS[3:]:
        assert expected in " ".join(say(a, stub, message, conversation))
    [receipt] = say(b, stub, "ja", conversation)
    assert receipt.startswith(f"Klart! Insatsen **{kept}** är sparad")


@needs_postgres
@pytest.mark.postgres
def test_the_same_confirmation_in_both_processes_saves_once(two_servers) -> None:
    a, b, stub, _url, direct = two_servers
    conversation = "two-confirmations"
    up_to_confirmation([a, b], stub, conversation, "Dubbelklickad insats")
    entries, measures, followups = ledger_counts(direct)
    yes_a = activity("ja", service_url=stub.url, conversation_id=conversation)
    yes_b = activity("ja", service_url=stub.url, conversation_id=conversation)
    race([(a, yes_a), (b, yes_b)], StateLock(direct, conversation))
    said = [replies_to(stub, body["id"]) for body in (yes_a, yes_b)]
    everything = [t for turn in said for t in turn]
    assert sum(t.startswith("Klart! Insatsen **Dubbelklickad insats**") for t in everything) == 1, said
    assert sum(t.startswith(ALREADY_SAVED) for t in everything) == 1, said
    assert ledger_counts(direct) == (entries + 1, measures + 1, followups)


@needs_postgres
@pytest.mark.postgres
def test_racing_grants_in_two_processes_and_racing_reallocations_never_overdraw(two_servers) -> None:
    """Two people submit measure forms for the same unit in two processes while four
    `kompetensbot reallocate` processes move the same unused money: only what fits is
    accepted, the rest is refused with the rule's Swedish reason."""
    a, b, stub, url, direct = two_servers
    services = Services(direct, org="malmo")
    ledger = services.ledger()
    fund_before = fund_balance(ledger, 2025)
    free = unit_unallocated(ledger, "GSN", 2025)
    grant = free // 2 + 1_000  # one fits, two do not
    assert grant <= free < 2 * grant
    source = next(m for m in ledger.measures.values() if m.title == "Yrkeslärare i vård och omsorg")
    followup = ledger.latest_followup(source.id, 2025)
    assert followup is not None
    unused = ledger.measure_allocated(source.id, 2025) - followup.forecast
    move = unused // 2 + 1_000  # one fits, four do not
    assert move <= unused < 2 * move

    forms = [
        activity(
            None,
            service_url=stub.url,
            conversation_id=f"grant-{i}",
            user_id=f"hr-{i}",
            value={
                "action": "submit_measure",
                "unit": "GSN",
                "title": f"Kapplöpning {i}",
                "end_date": "2025-12-31",
                "amount": f"{grant} kr",
                "decision": "2025-01-29 § 8",
            },
        )
        for i in (1, 2)
    ]
    for form, server in zip(forms, (a, b), strict=True):  # each form summarised: its "ja" saves it
        assert server.post(form)[0] in (200, 202)
        assert "Vill du spara insatsen" in " ".join(replies_to(stub, form["id"]))
    yeses = [
        activity("ja", service_url=stub.url, conversation_id=f"grant-{i}", user_id=f"hr-{i}") for i in (1, 2)
    ]
    exe = str(Path(sys.executable).parent / "kompetensbot")
    command = [
        exe,
        "reallocate",
        "--from",
        str(source.id),
        "--to",
        "Yrkeslärarsatsning",
        "--amount",
        f"{move} kr",
        "--decision",
        "KSAU 2025-06-20 § 5",
    ]
    env = {**os.environ, "DATABASE_URL": url}
    cli = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    race([(a, yeses[0]), (b, yeses[1])])
    outcomes = [(p.wait(60), p.stderr.read() if p.stderr else "") for p in cli]

    assert sorted(code for code, _ in outcomes) == [0, 2, 2, 2], outcomes
    for code, stderr in outcomes:
        if code:
            assert "är mer än de outnyttjade medlen" in stderr, stderr
    said = [" ".join(replies_to(stub, body["id"])) for body in yeses]
    assert sum(s.startswith("Klart!") for s in said) == 1, said
    assert sum("kvar att fördela" in s and not s.startswith("Klart!") for s in said) == 1, said

    ledger = services.ledger()
    assert validate(ledger) == []
    fund_after = fund_balance(ledger, 2025)
    assert fund_after.total == fund_before.total
    assert fund_after.allocated == fund_before.allocated  # a reallocation moves, never adds
    assert unit_unallocated(ledger, "GSN", 2025) == free - grant
    assert measure_balance(ledger, source.id).allocated == followup.forecast + unused - move


# --- the connector service failing the bot's replies ---------------------------------------


@pytest.fixture(scope="module")
def flaky_channel(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[BotServer, ThrottlingConnectorStub, Engine]]:
    """One server (SQLite) whose replies go to a connector stand-in that fails on
    command; a reply attempt is given up after 1 s and a reply after 3 attempts."""
    url = f"sqlite:///{tmp_path_factory.mktemp('replies') / 'bot.db'}"
    _prepare(url)
    stub = ThrottlingConnectorStub(per_conversation_rate=None, global_rate=None).start()
    limits = {"KOMPETENSBOT_REPLY_TIMEOUT": "1", "KOMPETENSBOT_REPLY_ATTEMPTS": "3"}
    server = BotServer(url, env=limits).start()
    engine = make_engine(url)
    try:
        yield server, stub, engine
        no_tracebacks(server)
    finally:
        server.stop()
        stub.stop()
        engine.dispose()


def delivered(stub: ThrottlingConnectorStub, activity_id: str) -> list[str]:
    """What the user sees of the replies to one activity: the ones the channel took."""
    return [
        s["activity"].get("text") or "" for s in stub.sends() if s["activity"].get("replyToId") == activity_id
    ]


def answered(stub: ThrottlingConnectorStub, conversation: str) -> list[int]:
    """The channel's answers to the bot's requests in one conversation."""
    with stub._lock:
        return [status for _t, _m, path, status in stub.answers if f"/conversations/{conversation}/" in path]


def tell(server: BotServer, stub: ThrottlingConnectorStub, message: str, conversation: str) -> str:
    body = activity(message, service_url=stub.url, conversation_id=conversation)
    assert server.post(body)[0] in (200, 202)
    return body["id"]


def test_replies_throttled_or_failing_are_retried_and_arrive_once(flaky_channel) -> None:
    server, stub, _engine = flaky_channel
    stub.script["r-429"] = [(429, {"Retry-After": "1"}), (502, {})]
    turn = tell(server, stub, "saldo GVN", "r-429")
    [reply] = delivered(stub, turn)
    assert "9 500 000 kr" in reply
    assert answered(stub, "r-429") == [429, 502, 201]
    stub.script["r-429"] = [(503, {}), (504, {})]
    turn = tell(server, stub, "saldo FSKN", "r-429")
    [reply] = delivered(stub, turn)
    assert "15 000 000 kr" in reply
    assert answered(stub, "r-429") == [429, 502, 201, 503, 504, 201]


def test_a_teams_rate_limit_on_a_turn_with_several_replies_loses_none(flaky_channel) -> None:
    server, stub, _engine = flaky_channel
    stub.per_conversation_rate = 1  # one message a second: the turn's second reply gets a 429
    try:
        turn = tell(server, stub, "ny insats", "r-rate")
    finally:
        stub.per_conversation_rate = None
    intro, question = delivered(stub, turn)
    assert intro == texts.SUBMIT_INTRO
    assert question.startswith(texts.ASK_UNIT)
    assert 429 in answered(stub, "r-rate")


def test_a_reply_whose_answer_never_comes_is_sent_again(flaky_channel) -> None:
    """The channel takes the reply but answers after the 1 s attempt limit: the bot
    sends it again, so the user sees it (twice, rather than not at all)."""
    server, stub, _engine = flaky_channel
    stub.script["r-hang"] = [("hang", 2.5)]
    turn = tell(server, stub, "saldo GVN", "r-hang")
    [reply] = delivered(stub, turn)  # the second attempt, when the turn ends
    assert "9 500 000 kr" in reply
    wait_for(lambda: len(delivered(stub, turn)) == 2, "the late first attempt to be carried out")
    assert len(set(delivered(stub, turn))) == 1


def test_a_reply_that_cannot_be_delivered_skips_no_question_and_saves_nothing_twice(flaky_channel) -> None:
    """Beyond the limits (3 failures in a row) the reply is given up; the dialog state of
    that turn is not saved, so the next message gets the question the user never saw,
    and a repeated confirmation does not save twice."""
    server, stub, engine = flaky_channel
    conversation = "r-limit"
    tell(server, stub, "ny insats", conversation)
    stub.script[conversation] = [(503, {})] * 3
    lost = tell(server, stub, "Förskolenämnden", conversation)
    assert delivered(stub, lost) == []
    again = tell(server, stub, "Förskolenämnden", conversation)
    assert delivered(stub, again) == [texts.unit_chosen("Förskolenämnden (FSKN)"), texts.ASK_TITLE]
    # ("ja": the money is 2025's, and the day has passed by the real clock: asked, and kept)
    for message in (
        "Uppföljning utan svar",
        "-",
        "-",
        "-",
        "-",
        "31 december 2025",
        "ja",
        "-",
        "100 tkr",
        "2025-02-05 § 5",
        "inget",  # none of Förskolenämnden's needs (issue 21)
    ):
        tell(server, stub, message, conversation)
    entries, measures, followups = ledger_counts(engine)
    stub.script[conversation] = [(503, {})] * 3
    receipt_lost = tell(server, stub, "ja", conversation)
    assert delivered(stub, receipt_lost) == []
    assert ledger_counts(engine) == (entries + 1, measures + 1, followups)  # saved, receipt lost
    [told] = delivered(stub, tell(server, stub, "ja", conversation))
    assert told.startswith(ALREADY_SAVED)
    assert ledger_counts(engine) == (entries + 1, measures + 1, followups)
    assert "Förskolenämnden (FSKN) 2025" in " ".join(
        delivered(stub, tell(server, stub, "saldo FSKN", conversation))
    )
