"""The send budget per (app, tenant) shared by every process through PostgreSQL (issue 23):
storage/send_budget.py and bot/tenant_budget.py.

What an operator relies on: however many processes send, the slots booked for one
tenant are at least one interval apart (so together they never go over the rate), one
tenant's sends do not take another tenant's slots, and a 429 with Retry-After seen by one
process holds every process back. Checked on the slots booked (the database's clock),
not on how long anything took. On SQLite the sender keeps its own bucket."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.adapter import create_adapter
from bot.config import Settings
from bot.proactive import Sender
from bot.tenant_budget import SendBudget
from storage import send_budget
from storage.db import make_engine
from tests.conftest import PG_URL
from tests.http.harness import ThrottlingConnectorStub
from tests.integration.test_proactive import stored_reference

RATE = 30.0
HEADROOM = 0.02
INTERVAL = (1 + HEADROOM) / RATE  # what the sender books: the rate, 2 % below
MICROSECOND = timedelta(microseconds=1)  # timestamptz's resolution


def schema_url(engine: Engine) -> str:
    assert PG_URL
    with engine.connect() as conn:
        schema = conn.execute(text("select current_schema()")).scalar_one()
    return f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture
def processes(pg_engine: Engine) -> Iterator[list[Engine]]:
    """Three engines on the test's schema, each with its own connections: three processes
    as the database sees them."""
    url = schema_url(pg_engine)
    engines = [make_engine(url, pool_size=2) for _ in range(3)]
    yield engines
    for engine in engines:
        engine.dispose()


def book_at_once(
    engines: list[Engine], per_engine: int, tenant: str, app: str = "app-1"
) -> list[list[send_budget.Slot]]:
    """Every engine books `per_engine` slots of one budget, all at the same time (a thread each)."""
    booked: list[list[send_budget.Slot]] = [[] for _ in engines]
    start = threading.Barrier(len(engines))

    def book(i: int) -> None:
        start.wait()
        for _ in range(per_engine):
            booked[i].append(send_budget.reserve(engines[i], app, tenant, INTERVAL))

    threads = [threading.Thread(target=book, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return booked


@pytest.mark.postgres
def test_three_processes_booking_one_tenants_budget_get_slots_one_interval_apart(processes: list[Engine]):
    booked = book_at_once(processes, 40, "tenant-a")
    slots = sorted(slot.at for slots in booked for slot in slots)
    assert len(slots) == 120 and all(len(b) == 40 for b in booked)  # every process got its slots
    gaps = [later - earlier for earlier, later in zip(slots, slots[1:], strict=False)]
    assert min(gaps) >= timedelta(seconds=INTERVAL) - MICROSECOND  # never two in one interval
    # ... so no one-second window holds more than the rate, whoever sends
    assert max(sum(1 for s in slots if first <= s < first + timedelta(seconds=1)) for first in slots) <= RATE
    # and the budget is used, not wasted: one slot after the other
    assert slots[-1] - slots[0] <= timedelta(seconds=INTERVAL * 119 + 0.5)
    # each process waits for its slot: the later its slot, the longer
    for slots_of_one in booked:
        waits = [slot.wait for slot in slots_of_one]
        assert waits == sorted(waits) and waits[-1] > 0


@pytest.mark.postgres
def test_another_tenant_and_another_app_have_budgets_of_their_own(processes: list[Engine]):
    one, two, three = processes
    for _ in range(30):  # tenant-a's budget booked a second ahead
        last = send_budget.reserve(one, "app-1", "tenant-a", INTERVAL)
    after = send_budget.reserve(two, "app-1", "tenant-a", INTERVAL)
    assert after.at >= last.at + timedelta(seconds=INTERVAL) - MICROSECOND and after.wait > 0
    assert send_budget.reserve(two, "app-1", "tenant-b", INTERVAL).wait == 0  # its own budget
    assert send_budget.reserve(three, "app-2", "tenant-a", INTERVAL).wait == 0  # another registration's


@pytest.mark.postgres
def test_a_push_after_a_429_holds_back_every_process(processes: list[Engine]):
    one, two, _three = processes
    first = send_budget.reserve(one, "app-1", "tenant-a", INTERVAL)
    send_budget.push(one, "app-1", "tenant-a", 5.0)  # one process saw Retry-After: 5
    pushed = send_budget.next_slot(one, "app-1", "tenant-a")
    assert pushed is not None and pushed >= first.at + timedelta(seconds=5)  # the database's clock
    slot = send_budget.reserve(two, "app-1", "tenant-a", INTERVAL)
    assert slot.at >= pushed - MICROSECOND  # the other process's next slot is the pushed one
    assert 0 < slot.wait <= 5.0
    # a shorter push later does not bring the slot forward
    before = send_budget.next_slot(one, "app-1", "tenant-a")
    send_budget.push(one, "app-1", "tenant-a", 1.0)
    assert send_budget.next_slot(one, "app-1", "tenant-a") == before


@pytest.mark.postgres
def test_a_429_seen_by_one_senders_process_pushes_the_tenants_slot_for_another(processes: list[Engine]):
    """The sender itself: a 429 with Retry-After 3 answered to a send in tenant-malmo
    moves the shared slot; the next booking of another process waits for it."""
    one, two, _three = processes
    adapter, _auth = create_adapter(Settings(database_url="sqlite://"), storage=None)
    with ThrottlingConnectorStub(
        per_conversation_rate=None, global_rate=None, script={"a:throttled": [(429, {"Retry-After": "3"})]}
    ) as stub:
        sender = Sender(adapter, None, global_rate=RATE, database=one)
        assert sender.limiter.budgets is not None  # PostgreSQL: the shared budget

        async def send() -> None:
            result = await sender.send(stored_reference(stub.url, "a:throttled"), "hej", attempts=1)
            assert not result.ok and result.status == 429 and result.retry_after == 3
            await asyncio.sleep(0)  # the push, written by a thread
            budget = sender.limiter.budget("tenant-malmo")
            assert isinstance(budget, SendBudget)
            await asyncio.gather(*budget._pushes)

        asyncio.run(send())
    # the stored reference's conversation is tenant-malmo's, the sender's app anonymous ("")
    slot = send_budget.reserve(two, "", "tenant-malmo", INTERVAL)
    assert 2.5 <= slot.wait <= 3.0


@pytest.mark.postgres
def test_three_senders_on_one_tenant_keep_the_rate_together(
    processes: list[Engine], monkeypatch: pytest.MonkeyPatch
):
    """Three senders (three processes' engines), 20 sends each to one tenant at once:
    the slots they booked are one interval apart, and the stand-in saw each send once."""
    adapter, _auth = create_adapter(Settings(database_url="sqlite://"), storage=None)
    booked: list[send_budget.Slot] = []
    reserve = send_budget.reserve

    def recording(engine: Engine, app_id: str, tenant_id: str, interval: float) -> send_budget.Slot:
        slot = reserve(engine, app_id, tenant_id, interval)
        booked.append(slot)
        return slot

    monkeypatch.setattr(send_budget, "reserve", recording)

    async def one_process(url: str, engine: Engine, number: int) -> list[bool]:
        sender = Sender(adapter, None, global_rate=RATE, database=engine)
        jobs = [sender.send(stored_reference(url, f"a:{number}-{i}"), "kort") for i in range(20)]
        return [r.ok for r in await asyncio.gather(*jobs)]

    with ThrottlingConnectorStub(per_conversation_rate=None, global_rate=None) as stub:

        async def all_processes() -> list[list[bool]]:
            return await asyncio.gather(*(one_process(stub.url, e, n) for n, e in enumerate(processes)))

        results = asyncio.run(all_processes())
        sends = stub.sends()
    assert all(all(r) for r in results)
    assert len(sends) == 60 and len({s["conversation_id"] for s in sends}) == 60
    slots = sorted(slot.at for slot in booked)
    assert len(slots) == 60
    gaps = [later - earlier for earlier, later in zip(slots, slots[1:], strict=False)]
    assert min(gaps) >= timedelta(seconds=INTERVAL) - MICROSECOND


def test_on_sqlite_the_sender_keeps_its_own_bucket(sqlite_engine: Engine):
    adapter, _auth = create_adapter(Settings(database_url="sqlite://"), storage=None)
    assert Sender(adapter, None, database=sqlite_engine).limiter.budgets is None
    assert Sender(adapter, None).limiter.budgets is None  # no database: the same
