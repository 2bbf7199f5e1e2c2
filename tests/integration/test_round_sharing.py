"""Several processes on one database share the round (issue 23): claims go round the
cities, one process plans each city (PostgreSQL advisory locks), and a stop gives back
at once the sends it claimed and has not begun.

1. Claims take the cities in turn: a small city's sends go out among the first, not after
   a large city's hundreds.
2. Two runners on one PostgreSQL plan each city exactly once per tick, always the same
   one; when its lock connection dies, the other takes the city at its next tick, and
   the first one, finding its connection gone, takes only what is free.
3. `kompetensbot followup tick` beside a server that holds the cities plans none of them
   (and says so), and still sends.
4. A stop gives the claimed sends whose request has not begun back at once (another
   runner claims them straight away, not marked possibly repeated), and lets the request
   under way finish.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections import Counter
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from bot.adapter import create_adapter
from bot.config import Settings
from bot.data_services import load_example
from bot.proactive import Sender
from bot.round_runner import RoundRunner
from bot.round_services import RoundServices
from cli.main import main as cli_main
from core.rounds import RoundPlan
from storage import rounds as store
from storage.db import make_engine
from storage.rounds import SendState
from storage.tables import OrganisationRow, RoundSendRow, table
from storage.tick_locks import TickLocks
from tests.http.harness import ThrottlingConnectorStub
from tests.integration.round_population import ORG, PERIOD, conversation_name, populate, recipient_name
from tests.integration.test_send_budget import schema_url

OPENS = date(2025, 6, 2)
NOT_A_ROUND_DAY = date(2025, 3, 12)  # no round opens or sends: a tick only plans


def sender(rate: float = 150.0) -> Sender:
    adapter, _auth = create_adapter(Settings(database_url="sqlite://"), storage=None)
    return Sender(adapter, None, global_rate=rate)


# --- 1. the cities in turn -------------------------------------------------------------


def city_with_sends(engine: Engine, slug: str, n: int) -> int:
    """A city with an open round and `n` pending sends (recorded as enqueue records them)."""
    with engine.begin() as conn:
        org_id = conn.execute(
            insert(table(OrganisationRow))
            .values(slug=slug, name=slug, ledger_version=0, created_at=datetime.now(UTC))
            .returning(table(OrganisationRow).c.id)
        ).scalar_one()
        plan = RoundPlan(PERIOD, OPENS, date(2025, 6, 18), (), date(2025, 6, 19))
        round_ = store.create_round(conn, org_id, plan, "test")
        rows = [
            {
                "round_id": round_.id,
                "org_id": org_id,
                "recipient": f"{slug}-{i:04d}",
                "kind": "prompt",
                "state": SendState.PENDING,
                "attempts": 0,
                "possibly_repeated": False,
                "marked_answered": False,
                "created_at": datetime.now(UTC),
            }
            for i in range(n)
        ]
        conn.execute(insert(table(RoundSendRow)), rows)
    return int(org_id)


class RecordingRunner(RoundRunner):
    """The real drain (claims, the rotation, the workers); each send recorded as sent
    without a request."""

    def __init__(self, engine: Engine, **kwargs: Any):
        super().__init__(engine, sender(), **kwargs)
        self.order: list[int] = []

    async def _process(self, send: store.Send, as_of: date, contexts: dict[int, store.SendingCity]) -> str:
        self.order.append(send.org_id)
        return await self._finish(send, SendState.SENT, "")


@pytest.mark.parametrize("in_flight", [1, 2])
def test_claims_take_the_cities_in_turn_so_a_small_city_is_not_held_back(engine: Engine, in_flight: int):
    large = city_with_sends(engine, "storstad", 200)
    small = city_with_sends(engine, "lillstad", 10)
    runner = RecordingRunner(engine, in_flight=in_flight)
    asyncio.run(asyncio.wait_for(runner.drain(OPENS), 120))
    assert Counter(runner.order) == {large: 200, small: 10}  # every send once
    if in_flight == 1:  # one claim at a time (the default): strictly in turn
        # The small city's ten went out among the first twenty (not after the large city's 200).
        assert Counter(runner.order[:20])[small] == 10
        # Once the small city is done, the large city's go on, one after the other.
        assert runner.order[20:] == [large] * 190
    else:
        # Two workers share the turns; a claim that a loaded machine's thread holds up lets
        # the other worker send the large city's meanwhile, so the order is only nearly in
        # turn: still the small city's ten go out long before the large city's 200 are done.
        assert Counter(runner.order[:60])[small] == 10


# --- 2. one ticker per city ----------------------------------------------------------------


@pytest.fixture
def two_processes(pg_engine: Engine) -> Any:
    """Two cities, and two runners on engines of their own (two processes) with tick locks."""
    load_example(pg_engine, "malmo-2025")
    load_example(pg_engine, "hagersten-liljeholmen")
    url = schema_url(pg_engine)
    engines = [make_engine(url, pool_size=2) for _ in range(2)]
    runners = [RoundRunner(e, sender(), auto_open=False, locks=TickLocks(e)) for e in engines]
    yield runners
    for runner in runners:
        assert runner.locks is not None
        runner.locks.release()
    for e in engines:
        e.dispose()


def ticked_lines(caplog: pytest.LogCaptureFixture) -> Counter[str]:
    return Counter(
        r.getMessage().split(":")[0].removeprefix("ticked city ")
        for r in caplog.records
        if r.name == "kompetensbot.rounds" and r.getMessage().startswith("ticked city ")
    )


@pytest.mark.postgres
def test_two_runners_on_postgresql_plan_each_city_once_per_tick(
    two_processes: list[RoundRunner], caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="kompetensbot.rounds")
    a, b = two_processes
    cities = {"malmo", "hagersten-liljeholmen"}

    async def both_tick() -> tuple[list[str], list[str]]:
        ra, rb = await asyncio.gather(a.tick(NOT_A_ROUND_DAY), b.tick(NOT_A_ROUND_DAY))
        return ra.ticked, rb.ticked

    planned_by: dict[str, set[int]] = {c: set() for c in cities}
    for _ in range(3):
        ticked_a, ticked_b = asyncio.run(both_tick())
        assert sorted(ticked_a + ticked_b) == sorted(cities)  # each city once, by one of them
        for city in ticked_a:
            planned_by[city].add(0)
        for city in ticked_b:
            planned_by[city].add(1)
    assert all(len(who) == 1 for who in planned_by.values())  # always the same process
    assert ticked_lines(caplog) == {city: 3 for city in cities}  # the log says so, once a tick each


@pytest.mark.postgres
def test_when_the_holders_connection_dies_the_other_takes_the_city_at_its_next_tick(
    pg_engine: Engine, two_processes: list[RoundRunner], caplog: pytest.LogCaptureFixture
):
    a, b = two_processes
    assert a.locks is not None and b.locks is not None
    assert sorted(asyncio.run(a.tick(NOT_A_ROUND_DAY)).ticked) == ["hagersten-liljeholmen", "malmo"]
    assert asyncio.run(b.tick(NOT_A_ROUND_DAY)).ticked == []  # a holds both
    assert asyncio.run(b.tick(NOT_A_ROUND_DAY)).elsewhere == 2

    # a's lock connection dies (as when its process is killed or the network cuts it)
    pid = a.locks.backend_pid()
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()

    def ended() -> bool:
        with pg_engine.connect() as conn:
            query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
            return not conn.execute(query, {"pid": pid}).scalar_one()

    wait_for(ended, 10, "the session's end")

    caplog.set_level(logging.INFO, logger="kompetensbot.rounds")
    assert sorted(asyncio.run(b.tick(NOT_A_ROUND_DAY)).ticked) == ["hagersten-liljeholmen", "malmo"]
    after = asyncio.run(a.tick(NOT_A_ROUND_DAY))  # finds its connection gone, starts over
    assert after.ticked == [] and after.elsewhere == 2
    assert a.locks.reconnects == 1
    assert any("tick locks' connection was lost" in r.getMessage() for r in caplog.records)
    # b keeps them: a's later ticks plan nothing
    assert asyncio.run(a.tick(NOT_A_ROUND_DAY)).ticked == []
    assert sorted(asyncio.run(b.tick(NOT_A_ROUND_DAY)).ticked) == ["hagersten-liljeholmen", "malmo"]


@pytest.mark.postgres
def test_followup_tick_beside_a_server_holding_the_cities_plans_none_of_them(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
):
    """A server holds every city's tick lock: the cron command plans nothing (the June
    round is not opened by it), says so, and leaves the locks as they were."""
    load_example(pg_engine, "malmo-2025")
    server = TickLocks(pg_engine)
    try:
        assert server.take([org_id for org_id, _slug in store.cities(pg_engine)])
        monkeypatch.setenv("DATABASE_URL", schema_url(pg_engine))
        monkeypatch.setenv("KOMPETENSBOT_ANONYMOUS", "1")
        out = io.StringIO()
        with redirect_stdout(out):
            code = cli_main(["followup", "tick", "--as-of", OPENS.isoformat()])
        assert code == 0, out.getvalue()
        assert "1 stad planeras av en annan process (kompetensbot serve)" in out.getvalue()
        assert "Öppnade" not in out.getvalue()
        with pg_engine.connect() as conn:
            assert store.rounds(conn) == []  # not opened by the command
        assert len(server.held()) == 1  # the server still holds its city
    finally:
        server.release()
    # with the server gone, the command plans the city: the round opens
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli_main(["followup", "tick", "--as-of", OPENS.isoformat()]) == 0
    assert "Öppnade uppföljningsomgången malmo 2025-06" in out.getvalue()


# --- 4. a stop ----------------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def count_claimed(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text("SELECT count(*) FROM round_sends WHERE state = 'claimed'")).scalar_one()
        )


def test_a_stop_gives_back_the_claimed_sends_not_begun_and_lets_the_one_under_way_finish(engine: Engine):
    """Three sends in flight at one send a second: the first one's request is under way
    (the stand-in answers it after 1.5 s), the two others wait for their slots. The stop
    gives those two back at once; another runner claims them straight away, not marked
    possibly repeated; the first one's request finishes and is recorded as sent."""
    n = 12
    hang = {conversation_name(recipient_name(i)): [("hang", 1.5)] for i in range(n)}
    with ThrottlingConnectorStub(per_conversation_rate=7, global_rate=None, script=hang) as stub:
        populate(engine, stub.url, n)
        RoundServices(engine, org=ORG).open(None, PERIOD)
        runner = RoundRunner(engine, sender(rate=1.0), in_flight=3)

        async def run() -> tuple[int, int, list[store.Send]]:
            tick = asyncio.create_task(runner.tick(OPENS))
            while not (stub.arrivals and await asyncio.to_thread(count_claimed, engine) == 3):
                await asyncio.sleep(0.02)
            given_back = await runner.stop()
            # another process claims at once: the lease (5 minutes) need not run out
            other = await asyncio.to_thread(
                store.claim, engine, limit=n, lease=timedelta(minutes=5), token=store.new_token()
            )
            left = await runner.finish_sends(10.0)
            await asyncio.wait_for(tick, 10)
            return given_back, left, other

        given_back, left, taken = asyncio.run(asyncio.wait_for(run(), 60))
        sends = stub.sends()
    assert given_back == 2 and left == 0
    assert len(sends) == 1  # the one under way went out, once
    rows = {s.recipient: s for s in RoundServices(engine, org=ORG).sends(PERIOD)}
    first = next(r for r, s in rows.items() if s.state == "sent")
    assert rows[first].activity_id == sends[0]["activity_id"]
    assert len(taken) == n - 1 and first not in {s.recipient for s in taken}  # every other send
    assert not any(s.possibly_repeated for s in taken)
    assert all(s.attempts == 1 for s in taken)  # a send given back did not count as an attempt
