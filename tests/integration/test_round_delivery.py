"""The June follow-up round delivered for real (issue 5): a round to 2 000
people against the local stand-in for the Teams connector service
(tests/http/harness.py: ThrottlingConnectorStub), which enforces 7 sends a
second per conversation and a global limit with 429 + Retry-After, and
answers some requests with 503.

The stand-in always enforces the same global limit the sender is configured
for (RATE, above Teams' 30/s default only so that 2 000 sends take seconds,
not minutes); the achieved rate is measured by bench/send_rate.py, not here.
What is checked is the outcome: who got what, how many times, and what the
database recorded.

1. A round to 2 000 recipients delivers every prompt exactly once (counted
   per conversation at the stand-in, and every round_sends row `sent` with
   the activity id the stand-in gave); a second tick sends nothing; the
   reminder tick reminds exactly those who have not answered and updates
   the cards of those who have, in place.
2. `kompetensbot followup tick` killed with SIGKILL mid-round and run
   again: no one skipped; only the send that was in flight at the kill is
   repeated, and its row says so (possibly_repeated).
3. Two `kompetensbot followup tick` processes at once on PostgreSQL: every
   prompt exactly once, both processes sending, the city planned by one of them,
   and together within the tenant's send budget (no 429 for the rate).
4. 403 and 404 are recorded as failed with the reason, reported by
   `followup status`, and not retried; a recipient without a conversation
   gets one through create-conversation, or is recorded as unreachable with
   the reason.
5. A card that goes out after a reminder date is not followed by that
   reminder at the next tick.
6. An outage (every request 503): each send gives up after `max_attempts`,
   and the process slows down instead of hammering.
7. An answered card whose update is refused for good is not tried again at
   every tick.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from bot.adapter import create_adapter
from bot.config import Settings
from bot.proactive import Sender
from bot.round_runner import RoundRunner, TickResult
from bot.round_services import RoundServices
from bot.services import Services
from cli.main import main as cli_main
from core.errors import NotFound
from core.model import Status
from core.round_answers import field_name
from core.rounds import SUPERSEDED_REMINDER
from dialogs import texts
from storage import rounds as store
from storage.tables import FollowUpRow, table
from storage.unit_of_work import UnitOfWork
from tests.conftest import PG_URL, copy_example
from tests.http.harness import ThrottlingConnectorStub
from tests.integration.round_population import (
    ORG,
    PERIOD,
    Population,
    conversation_name,
    populate,
    recipient_name,
)

FOLLOWUPS = table(FollowUpRow)  # typed columns (SQLModel types FollowUpRow.period as a str)

N = 2000
RATE = 150  # the global limit: the stand-in enforces it, the sender is configured for it
PER_CONVERSATION = 7  # Teams' limit per conversation, enforced by the stand-in
OPENS = date(2025, 6, 2)  # the June round's default opening: first working day of June
REMINDER = date(2025, 6, 10)  # its first reminder: 5 working days later
KOMPETENSBOT = str(Path(sys.executable).parent / "kompetensbot")


# --- helpers -------------------------------------------------------------------


def make_runner(engine: Engine, *, rate: float = RATE, **kwargs: Any) -> RoundRunner:
    adapter, _auth = create_adapter(Settings(database_url="sqlite://"), storage=None)
    sender = Sender(adapter, None, global_rate=rate, per_conversation_rate=PER_CONVERSATION)
    return RoundRunner(engine, sender, **kwargs)


def tick(runner: RoundRunner, as_of: date, timeout: float = 240) -> TickResult:
    """One tick; a test that goes wrong fails instead of hanging."""
    return asyncio.run(asyncio.wait_for(runner.tick(as_of), timeout))


def populated(engine: Engine, service_url: str, n: int, **kwargs: Any) -> Population:
    """`populate` on the example copied into the test's database (tests/conftest.py:
    copy_example), not loaded anew: the same rows, without the load's time."""
    return populate(copy_example(engine), service_url, n, load=False, **kwargs)


def sends_by_recipient(engine: Engine, kind: str | None = None) -> dict[str, store.Send]:
    rows = RoundServices(engine, org=ORG).sends(PERIOD)
    return {s.recipient: s for s in rows if kind is None or s.kind.value == kind}


def per_conversation(stub: ThrottlingConnectorStub, since: int = 0) -> Counter[str]:
    """Accepted new messages per conversation (the `since`-th onwards)."""
    return Counter(a["conversation_id"] for a in stub.sends()[since:])


def _number(pattern: str, out: str) -> int:
    """The number `pattern` finds in a command's output."""
    found = re.search(pattern, out)
    assert found is not None, (pattern, out)
    return int(found.group(1))


def answered_measures_in_db(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        rows = conn.execute(select(FOLLOWUPS.c.measure_id).where(FOLLOWUPS.c.period == PERIOD)).all()
    return {r[0] for r in rows}


def card_values(measure_ids: tuple[int, ...]) -> dict[str, str]:
    """A card's answer for every measure on it."""
    values: dict[str, str] = {}
    for mid in measure_ids:
        values[field_name(mid, "status")] = "Pågående"
        values[field_name(mid, "spent")] = "10 000"
        values[field_name(mid, "forecast")] = "50 000"
        values[field_name(mid, "usable")] = "ja"
    return values


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, process: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the process ended before {what}: {out}\n{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def tick_command(as_of: date) -> list[str]:
    return [KOMPETENSBOT, "followup", "tick", "--as-of", as_of.isoformat()]


def cli_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTIONS__")}  # anonymous
    env.update(DATABASE_URL=database_url, KOMPETENSBOT_LOG="ERROR", **extra)
    return env


def assert_each_once(stub: ThrottlingConnectorStub, population: Population) -> None:
    """Every recipient's conversation got exactly one message at the stand-in."""
    counts = per_conversation(stub)
    expected = {population.conversation(r) for r in population.recipients}
    twice = {c: n for c, n in counts.items() if n != 1}
    assert not twice, f"sent more than once: {sorted(twice.items())[:10]}"
    assert set(counts) == expected, f"skipped: {sorted(expected - set(counts))[:10]}"


def assert_rows_match_the_stub(engine: Engine, stub: ThrottlingConnectorStub, population: Population) -> None:
    """Every prompt row is `sent`, with the activity id the stand-in gave in that conversation."""
    rows = sends_by_recipient(engine, "prompt")
    assert set(rows) == set(population.recipients)
    not_sent = [(r, s.state, s.reason) for r, s in rows.items() if s.state != "sent"]
    assert not not_sent, not_sent[:10]
    given = {a["conversation_id"]: a["activity_id"] for a in stub.sends()}
    for recipient, row in rows.items():
        conversation = population.conversation(recipient)
        assert row.conversation_id == conversation, (recipient, row.conversation_id)
        assert row.activity_id == given[conversation], recipient
        assert row.reference is not None and row.reference["conversation"]["id"] == conversation


# --- 1. a round to 2 000 ----------------------------------------------------------


@pytest.mark.slow
def test_a_round_to_2000_delivers_every_prompt_once_and_reminds_only_those_who_have_not_answered(
    sqlite_engine: Engine,
):
    engine = sqlite_engine
    # The first send to every 97th person is refused with a 429 (Retry-After),
    # and every 40th request that passes the limits gets a 503.
    throttled = [recipient_name(i) for i in range(5, N, 97)]
    script = {conversation_name(r): [(429, {"Retry-After": "0.5"})] for r in throttled}
    with ThrottlingConnectorStub(
        per_conversation_rate=PER_CONVERSATION,
        global_rate=RATE,
        retry_after=0.5,
        fail_every=40,
        script=script,
    ) as stub:
        population = populated(engine, stub.url, N)
        rounds = RoundServices(engine, org=ORG)
        round_ = rounds.open(None, PERIOD)
        assert round_.plan.opens == OPENS and REMINDER in round_.plan.reminders
        runner = make_runner(engine)

        # -- the opening tick: one card to each of the 2 000, exactly once
        first = tick(runner, OPENS)
        statuses = stub.status_counts()
        assert statuses.get(429, 0) >= len(throttled) and statuses.get(503, 0) > 0, statuses
        assert first.recorded == N and first.sent == N, first
        assert first.outcomes["retry"] == statuses[429] + statuses[503], (first, statuses)
        assert first.possibly_repeated == 0
        assert_each_once(stub, population)
        assert_rows_match_the_stub(engine, stub, population)
        assert stub.max_in_window() <= RATE
        assert max(stub.max_in_window(c) for c in per_conversation(stub)) <= PER_CONVERSATION
        prompts = sends_by_recipient(engine, "prompt")
        with UnitOfWork(engine, ORG) as repo:
            ledger = repo.ledger()
        for recipient, row in prompts.items():  # one card, with measures of the person's unit
            assert row.measure_ids, recipient
            assert all(population.unit_of[recipient] in ledger.measures[m].units for m in row.measure_ids)
        assert not any(s.possibly_repeated for s in prompts.values())

        # -- the same tick again: nothing new, not a single request
        requests_before = len(stub.answers)
        second = tick(runner, OPENS)
        assert second.recorded == 0 and not second.outcomes and second.cards_updated == 0, second
        assert len(stub.answers) == requests_before
        assert sends_by_recipient(engine, "prompt") == prompts

        # -- answers: on the card (RoundServices.answer) for the people of
        #    three units, by chat/command line (Services.add_followup) for a fourth
        units = sorted(set(population.unit_of.values()))
        answering = [next(r for r in population.recipients if population.unit_of[r] == u) for u in units[:4]]
        for person in answering[:3]:
            _round, stored, complete = rounds.answer(
                person, round_.id, card_values(prompts[person].measure_ids), as_of=date(2025, 6, 5)
            )
            assert complete and len(stored) == len(prompts[person].measure_ids)
        for mid in prompts[answering[3]].measure_ids:
            Services(engine, org=ORG).add_followup(
                answering[3],
                str(mid),
                period=PERIOD,
                status=Status.ONGOING,
                spent=0,
                forecast=10_000,
                usable_as_planned=True,
            )
        answered = answered_measures_in_db(engine)
        done = {r for r in population.recipients if set(prompts[r].measure_ids) <= answered}
        waiting = set(population.recipients) - done
        assert set(answering) <= done and len(done) >= 4 * (N // len(units)) and waiting

        # -- the reminder date: a reminder to exactly those who have not
        #    answered; the answered cards updated in place
        sends_before = len(stub.sends())
        third = tick(runner, REMINDER)
        assert third.recorded == len(waiting) and third.sent == len(waiting), third
        reminded = per_conversation(stub, since=sends_before)
        assert reminded == Counter({population.conversation(r): 1 for r in waiting})
        reminders = sends_by_recipient(engine, "reminder-1")
        assert set(reminders) == waiting and all(s.state == "sent" for s in reminders.values())
        updates = Counter(a["conversation_id"] for a in stub.updates())
        assert updates == Counter({population.conversation(r): 1 for r in done})
        for put in stub.updates():  # the prompt's own message, replaced
            recipient = put["conversation_id"].removeprefix("a:1on1-")
            assert put["activity_id"] == prompts[recipient].activity_id
        assert third.cards_updated == len(done)
        prompts_now = sends_by_recipient(engine, "prompt")
        assert {r for r, s in prompts_now.items() if s.marked_answered} == done


# --- 2. killed mid-round ------------------------------------------------------------


def postgres_url(engine: Engine) -> str:
    """DATABASE_URL for a child process that reaches the test's own schema."""
    assert PG_URL
    with engine.connect() as conn:
        schema = conn.execute(text("select current_schema()")).scalar_one()
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Any:
    """(engine, DATABASE_URL of the same database for a child process)."""
    if request.param == "sqlite":
        engine = request.getfixturevalue("sqlite_engine")
        yield engine, f"sqlite:///{engine.url.database}"
    else:
        engine = request.getfixturevalue("pg_engine")
        yield engine, postgres_url(engine)


@pytest.mark.slow
def test_a_tick_killed_mid_round_skips_no_one_and_repeats_only_the_send_in_flight(database: Any):
    engine, url = database
    # The 301st person's send is carried out by the stand-in, but answered
    # only after 2 s: the process is killed while it waits for the answer.
    victim = recipient_name(300)
    victim_conversation = conversation_name(victim)
    lease = 1.0
    with ThrottlingConnectorStub(
        per_conversation_rate=PER_CONVERSATION,
        global_rate=RATE,
        retry_after=0.5,
        fail_every=50,
        script={victim_conversation: [("hang", 2.0)]},
    ) as stub:
        population = populated(engine, stub.url, N)
        env = cli_env(url, KOMPETENSBOT_SEND_RATE=str(RATE), KOMPETENSBOT_ROUND_LEASE_SECONDS=str(lease))
        first = subprocess.Popen(
            tick_command(OPENS), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            wait_for(
                lambda: any(c == victim_conversation for _t, _m, c in stub.arrivals),
                timeout=120,
                what="the victim's send",
                process=first,
            )
        finally:
            first.send_signal(signal.SIGKILL)
            first.communicate(timeout=30)
        killed_at = time.monotonic()
        assert first.returncode == -signal.SIGKILL

        # The stand-in carries the hanging send out (to a dead connection).
        wait_for(lambda: per_conversation(stub)[victim_conversation] == 1, timeout=10, what="the hang")
        at_kill = sends_by_recipient(engine, "prompt")
        claimed = [r for r, s in at_kill.items() if s.state == "claimed"]
        assert claimed == [victim]  # one send in flight (in_flight=1), and it is this one
        delivered = set(per_conversation(stub))
        recorded = {population.conversation(r) for r, s in at_kill.items() if s.state == "sent"}
        assert recorded == delivered - {victim_conversation}  # the database knows every other send
        assert 250 <= len(recorded) <= 300  # killed mid-round (a few 503s wait for their retry)
        assert all(s.state in ("sent", "pending") for r, s in at_kill.items() if r != victim)

        time.sleep(max(0.0, killed_at + lease + 0.1 - time.monotonic()))  # the dead claim's lease runs out
        second = subprocess.run(tick_command(OPENS), env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
        assert "1 utskick kan ha skickats två gånger" in second.stdout, second.stdout

    counts = per_conversation(stub)
    assert counts[victim_conversation] == 2  # the one send in flight at the kill, repeated
    del counts[victim_conversation]
    assert set(counts.values()) == {1} and len(counts) == N - 1  # everyone else exactly once
    rows = sends_by_recipient(engine, "prompt")
    assert all(s.state == "sent" for s in rows.values())
    assert [r for r, s in rows.items() if s.possibly_repeated] == [victim]
    assert rows[victim].attempts >= 2
    first_card, second_card = stub.sends(victim_conversation)
    assert rows[victim].activity_id == second_card["activity_id"]  # the card to update is the last one
    # The repeat says that it may be one.
    assert texts.ROUND_POSSIBLY_REPEATED not in json.dumps(first_card["activity"], ensure_ascii=False)
    assert texts.ROUND_POSSIBLY_REPEATED in json.dumps(second_card["activity"], ensure_ascii=False)


# --- 3. two processes on PostgreSQL ---------------------------------------------------


COUNT_CLAIMED = text("select count(*) from round_sends where state = 'claimed'")


@pytest.mark.postgres
@pytest.mark.slow
def test_two_processes_ticking_at_once_on_postgresql_never_send_twice_and_never_skip(pg_engine: Engine):
    """The round is open and its sends recorded; two ticks at once: one plans the city
    (it gets the city's tick lock, and finds nothing new to record), the other skips it;
    both send, sharing the tenant's send budget through the database."""
    url = postgres_url(pg_engine)
    with ThrottlingConnectorStub(
        per_conversation_rate=PER_CONVERSATION, global_rate=RATE, retry_after=0.5, fail_every=40
    ) as stub:
        population = populated(pg_engine, stub.url, N)
        services = RoundServices(pg_engine, org=ORG)
        services.open(None, PERIOD)
        assert services.enqueue_due(OPENS) == N
        # The budget is per tenant, whatever the number of processes: 90 % of what the
        # stand-in allows, so that together they are never refused for the rate (each at
        # that rate, as before issue 23, they would be at every second).
        budget = 0.9 * RATE
        env = cli_env(url, KOMPETENSBOT_SEND_RATE=str(budget))
        processes = [
            subprocess.Popen(
                tick_command(OPENS), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        # While they run: never more sends claimed than one per process (in_flight=1).
        most_claimed = 0
        deadline = time.monotonic() + 300
        while any(p.poll() is None for p in processes) and time.monotonic() < deadline:
            with pg_engine.connect() as conn:
                claimed = conn.execute(COUNT_CLAIMED).scalar()
            most_claimed = max(most_claimed, int(claimed or 0))
            time.sleep(0.05)
        outputs = [p.communicate(timeout=30) for p in processes]
        refused_for_the_rate = sum(1 for _t, _m, _p, status in stub.answers if status == 429)
    for p, (_out, err) in zip(processes, outputs, strict=True):
        assert p.returncode == 0, err
    assert 1 <= most_claimed <= 2
    sent = [_number(r"Skickade: (\d+)", out) for out, _err in outputs]
    assert sum(sent) == N and min(sent) >= N // 4, outputs  # both sent a fair share, together everything
    planned_elsewhere = ["1 stad planeras av en annan process" in out for out, _err in outputs]
    assert sorted(planned_elsewhere) == [False, True], outputs  # the city planned by one of them
    assert refused_for_the_rate == 0
    assert_each_once(stub, population)
    assert_rows_match_the_stub(pg_engine, stub, population)
    assert not any(s.possibly_repeated for s in sends_by_recipient(pg_engine).values())


def test_the_running_server_opens_the_round_and_sends_each_prompt_once_by_its_own_tick(database: Any):
    """`kompetensbot serve` with its tick (KOMPETENSBOT_TICK_SECONDS), not the
    cron command: on the round's first day it opens the round by itself and
    sends every prompt once, however many ticks follow."""
    from tests.http.harness import BotServer

    engine, url = database
    n = 12
    with ThrottlingConnectorStub(per_conversation_rate=PER_CONVERSATION, global_rate=RATE) as stub:
        population = populated(engine, stub.url, n)
        env = cli_env(
            url,
            KOMPETENSBOT_TICK_SECONDS="0.2",
            KOMPETENSBOT_TODAY=OPENS.isoformat(),
            KOMPETENSBOT_SEND_RATE=str(RATE),
        )

        def all_sent() -> bool:
            try:
                prompts = sends_by_recipient(engine, "prompt")
            except NotFound:  # the round is not open yet
                return False
            return len(prompts) == n and all(s.state == "sent" for s in prompts.values())

        server = BotServer(url, demo=False, env=env).start()
        try:
            wait_for(
                all_sent,
                timeout=60,
                what="every prompt sent by the server's tick",
            )
            time.sleep(1.0)  # five more ticks
        finally:
            server.stop()
    assert_each_once(stub, population)
    assert_rows_match_the_stub(engine, stub, population)
    assert {s.kind.value for s in sends_by_recipient(engine).values()} == {"prompt"}


def test_a_tick_reads_no_ledger_while_nothing_changed_and_sends_to_a_new_hr_lead_at_once(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
):
    """During a round the tick runs every minute: it works out what is due
    again only when the date, the rounds, the ledger or the role grants
    changed, and then records what became due. What it reads then is the
    read model and the round's follow-ups, never every row of the ledger."""
    import storage.read_model
    from storage.repository import Repository

    engine = sqlite_engine
    reads = Counter[str]()
    whole_ledger, period_ledger = Repository.ledger, storage.read_model.with_period_followups

    def counted_whole(self: Repository) -> Any:
        reads["whole"] += 1
        return whole_ledger(self)

    def counted_round(*args: Any, **kwargs: Any) -> Any:
        reads["round"] += 1
        return period_ledger(*args, **kwargs)

    monkeypatch.setattr(Repository, "ledger", counted_whole)
    monkeypatch.setattr(storage.read_model, "with_period_followups", counted_round)

    def reads_of(runner: RoundRunner, as_of: date) -> tuple[TickResult, Counter[str]]:
        before = reads.copy()
        result = tick(runner, as_of)
        return result, reads - before

    with ThrottlingConnectorStub(per_conversation_rate=PER_CONVERSATION, global_rate=RATE) as stub:
        population = populated(engine, stub.url, 3)
        runner = make_runner(engine)
        first, read = reads_of(runner, OPENS)
        assert first.recorded == 3 and read["round"] > 0 and read["whole"] == 0

        idle, read = reads_of(runner, OPENS)
        assert idle.recorded == 0 and not read  # nothing changed: nothing read

        newcomer = populate(engine, stub.url, 1, first=3, load=False)  # a grant straight into the table
        again, read = reads_of(runner, OPENS)
        assert again.recorded == 1 and again.outcomes == Counter({"sent": 1})
        assert read["round"] > 0 and read["whole"] == 0
        everyone = {**population.conversation_of, **newcomer.conversation_of}
        assert per_conversation(stub) == Counter({c: 1 for c in everyone.values()})

        reminders, read = reads_of(runner, REMINDER)  # the next date: the reminders
        assert reminders.recorded == 4 and read["round"] > 0 and read["whole"] == 0


# --- 4. blocked, gone, and no conversation yet ------------------------------------------


def test_403_404_and_missing_conversations_are_recorded_reported_and_not_retried(
    sqlite_engine: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    engine = sqlite_engine
    n = 30
    blocked, gone = recipient_name(3), recipient_name(4)
    new_ok, new_refused = recipient_name(10), recipient_name(11)
    with ThrottlingConnectorStub(
        per_conversation_rate=PER_CONVERSATION,
        global_rate=RATE,
        statuses={conversation_name(blocked): 403, conversation_name(gone): 404},
        create_statuses={new_refused: 403},
    ) as stub:
        population = populated(engine, stub.url, n, without_reference=[10, 11])
        runner = make_runner(engine)
        first = tick(runner, OPENS)  # the round opens by itself on its first day
        assert first.opened == [f"{ORG} {PERIOD}"]
        assert first.outcomes == Counter({"sent": n - 3, "failed": 2, "unreachable": 1}), first

        rows = sends_by_recipient(engine, "prompt")
        assert rows[blocked].state == "failed" and rows[blocked].reason.startswith("403")
        assert "blocked" in rows[blocked].reason
        assert rows[gone].state == "failed" and rows[gone].reason.startswith("404")
        assert rows[new_refused].state == "unreachable"
        assert "ingen konversation" in rows[new_refused].reason and "403" in rows[new_refused].reason
        # No conversation yet: Teams' create-conversation, then the card into it.
        created = [a for a in stub.accepted if a["path"] == "/v3/conversations"]
        assert sorted(a["activity"]["members"][0]["id"] for a in created) == [new_ok]
        assert rows[new_ok].state == "sent" and rows[new_ok].conversation_id == f"a:{new_ok}"
        assert per_conversation(stub)[f"a:{new_ok}"] == 1
        with engine.connect() as conn:  # kept, so the next send needs no new conversation
            kept = store.personal_reference(conn, population.org_id, new_ok)
        assert kept is not None and kept["conversation"]["id"] == f"a:{new_ok}"

        def requests_to(recipient: str) -> int:
            return sum(1 for _t, _m, c in stub.arrivals if c == conversation_name(recipient))

        assert requests_to(blocked) == 1 and requests_to(gone) == 1  # not retried

        # `followup status` reports them, with the reasons.
        monkeypatch.setenv("DATABASE_URL", str(engine.url))
        assert cli_main(["followup", "status", "--period", PERIOD, "--as-of", OPENS.isoformat()]) == 0
        report = capsys.readouterr().out
        assert "Utskick kort: misslyckade 2, skickade 27, onåbara 1" in report, report
        expected = {blocked: "403", gone: "404", new_refused: "onåbara (ingen konversation"}
        for person, fragment in expected.items():
            [line] = [x for x in report.splitlines() if x.strip().startswith(f"- {person}:")]
            assert fragment in line, line
        assert cli_main(["followup", "status", "--period", PERIOD, "--json"]) == 0
        problems = {p["recipient"]: p for p in json.loads(capsys.readouterr().out)["unreachable"]}
        assert set(problems) == {blocked, gone, new_refused}
        assert all(p["reason"] for p in problems.values())

        # Later ticks do not try them again...
        requests = len(stub.arrivals)
        again = tick(runner, date(2025, 6, 3))
        assert not again.outcomes and len(stub.arrivals) == requests
        # ...the next reminder is one more attempt each (they may have let the bot in again).
        reminder = tick(runner, REMINDER)
        assert reminder.outcomes == Counter({"sent": n - 3, "failed": 2, "unreachable": 1}), reminder
        assert requests_to(blocked) == 2 and requests_to(gone) == 2
        assert per_conversation(stub)[f"a:{new_ok}"] == 2  # the reminder found the kept conversation
        assert len([a for a in stub.accepted if a["path"] == "/v3/conversations"]) == 1


# --- 5. a round opened late ---------------------------------------------------------


def test_a_card_sent_after_a_reminder_date_is_not_followed_by_that_reminder(sqlite_engine: Engine):
    """The round's first tick comes after its first reminder date (opened
    late, or the person got the HR role late): the card goes out, and the
    next tick a minute later does not send the reminder on top of it; the
    next reminder date does remind."""
    engine = sqlite_engine
    n = 20
    late, second_reminder = date(2025, 6, 11), date(2025, 6, 18)
    with ThrottlingConnectorStub(per_conversation_rate=PER_CONVERSATION, global_rate=RATE) as stub:
        population = populated(engine, stub.url, n)
        everyone = set(population.recipients)
        conversations = [population.conversation(r) for r in population.recipients]
        round_ = RoundServices(engine, org=ORG).open(None, PERIOD)
        assert round_.plan.reminders == (REMINDER, second_reminder)
        runner = make_runner(engine)
        first = tick(runner, late)
        assert first.recorded == n and first.sent == n, first
        again = tick(runner, late)
        assert again.recorded == 0 and not again.outcomes, again
        assert per_conversation(stub) == Counter(conversations)
        skipped = sends_by_recipient(engine, "reminder-1")
        assert set(skipped) == everyone
        assert {(s.state, s.reason) for s in skipped.values()} == {("skipped", SUPERSEDED_REMINDER)}
        reminded = tick(runner, second_reminder)
        assert reminded.sent == n and set(sends_by_recipient(engine, "reminder-2")) == everyone
        assert per_conversation(stub) == Counter(conversations * 2)


# --- 6. an outage -------------------------------------------------------------------


def test_an_outage_is_not_hammered_and_each_send_gives_up_after_max_attempts(sqlite_engine: Engine):
    """Every request answered 503: each send is tried `max_attempts` times
    (one attempt per claim, back in the queue in between), the whole process
    slows down after failures in a row, and the sends end as failed with
    the reason, not retried for ever."""
    engine = sqlite_engine
    n = 4
    with ThrottlingConnectorStub(
        per_conversation_rate=PER_CONVERSATION, global_rate=RATE, fail_every=1
    ) as stub:
        population = populated(engine, stub.url, n)
        RoundServices(engine, org=ORG).open(None, PERIOD)
        runner = make_runner(
            engine,
            max_attempts=3,
            retry_delay=timedelta(milliseconds=20),
            max_retry_delay=timedelta(seconds=0.1),
        )
        result = tick(runner, OPENS, timeout=60)
    assert result.outcomes == Counter({"retry": 2 * n, "failed": n}), result
    assert stub.status_counts() == {503: 3 * n}
    arrivals = Counter(c for _t, _m, c in stub.arrivals)
    assert arrivals == Counter({population.conversation(r): 3 for r in population.recipients})
    rows = sends_by_recipient(engine, "prompt")
    assert all(s.state == "failed" and s.attempts == 3 for s in rows.values())
    assert all(s.reason.startswith("gav upp efter 3 försök: 503") for s in rows.values()), rows
    # Past three failures in a row the process waits before every send: at
    # least half the capped backoff (the sends' own retries alone would be
    # a few milliseconds apart, at the sender's rate).
    times = sorted(t for t, _m, _c in stub.arrivals)
    gaps = [b - a for a, b in zip(times[-4:-1], times[-3:], strict=True)]
    assert min(gaps) >= 0.04, gaps


def test_an_answered_card_that_cannot_be_updated_is_not_tried_at_every_tick(sqlite_engine: Engine):
    """The card's message is gone when the person has answered (404 on the
    update): recorded, and not tried again at every tick after."""
    engine = sqlite_engine
    person = recipient_name(0)
    conversation = conversation_name(person)
    # The card goes through; the update of it is answered 404.
    script = {conversation: [("hang", 0), (404, {})]}
    with ThrottlingConnectorStub(
        per_conversation_rate=PER_CONVERSATION, global_rate=RATE, script=script
    ) as stub:
        populated(engine, stub.url, 2)
        rounds = RoundServices(engine, org=ORG)
        round_ = rounds.open(None, PERIOD)
        runner = make_runner(engine)
        assert tick(runner, OPENS).sent == 2
        card = sends_by_recipient(engine, "prompt")[person]
        rounds.answer(person, round_.id, card_values(card.measure_ids), as_of=date(2025, 6, 3))
        assert tick(runner, date(2025, 6, 3)).cards_updated == 0
        assert sends_by_recipient(engine, "prompt")[person].marked_answered
        tick(runner, date(2025, 6, 4))

        def requests_to_the_card() -> list[str]:
            return [m for _t, m, c in stub.arrivals if c == conversation]

        assert requests_to_the_card() == ["POST", "PUT"]  # the card, one update; nothing after
