"""The send budget of one bot registration in one Teams tenant, shared by every process
on the database (PostgreSQL; issue 23): GCRA, with the theoretical arrival time in a row.

Teams limits each app per tenant (50 messages a second for all of the app's messages in
the tenant), whatever the number of processes that send them. So the budget is one row of
`send_budgets` per (app id, tenant id): `next_slot` is the earliest moment the next send
may go (GCRA's theoretical arrival time, TAT). A send books its slot with `reserve`, one
statement (INSERT … ON CONFLICT DO UPDATE … RETURNING, in autocommit) that moves
`next_slot` one interval on, and waits until the slot it was given; so the slots that all
processes get are at least one interval apart, and a process that dies after booking
costs at most the one slot it booked (the sender books one at a time: bot.tenant_budget).
The moment is the database's own clock (`clock_timestamp()`, the time the statement
runs, not the transaction's start), the same for every process whatever their clocks
say; the caller is told how long to wait from that moment, and waits at most that long
after the answer came: a late answer makes a send later, never earlier.

`push` after a 429 with Retry-After: no slot before then, for every process.

The row lock of the upsert orders concurrent bookings of one budget; a booking holds it
for the statement only (autocommit: no transaction stays open while anyone waits for a
slot). A booking that waited for another's row lock uses the clock read before it waited:
its slot still comes after the other's (the TAT only moves forward), and it is told to
wait a little longer than needed, never less.

PostgreSQL only: SQLite serves one process (bot.app refuses a second server on the same
file), whose in-process bucket (bot.throttle) is the whole budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.db import autocommit

_RESERVE = text(
    """
    INSERT INTO send_budgets AS b (app_id, tenant_id, next_slot, reserved_at)
    SELECT :app_id, :tenant_id, now_.t + :interval, now_.t FROM (SELECT clock_timestamp() AS t) AS now_
    ON CONFLICT (app_id, tenant_id) DO UPDATE
    SET next_slot = GREATEST(b.next_slot, EXCLUDED.reserved_at) + :interval,
        reserved_at = EXCLUDED.reserved_at
    RETURNING b.next_slot, b.reserved_at
    """
)

_PUSH = text(
    """
    INSERT INTO send_budgets AS b (app_id, tenant_id, next_slot, reserved_at)
    SELECT :app_id, :tenant_id, now_.t + :hold, now_.t FROM (SELECT clock_timestamp() AS t) AS now_
    ON CONFLICT (app_id, tenant_id) DO UPDATE
    SET next_slot = GREATEST(b.next_slot, EXCLUDED.next_slot)
    RETURNING b.next_slot
    """
)


@dataclass(frozen=True, slots=True)
class Slot:
    """A booked send slot: when it comes (the database's clock) and how long to wait
    for it from the moment it was booked (0: at once)."""

    at: datetime
    wait: float


def reserve(engine: Engine, app_id: str, tenant_id: str, interval: float, tolerance: float = 0.0) -> Slot:
    """Book the next send slot of (app id, tenant id), `interval` seconds after the one
    before (1 / the rate); `tolerance` lets a burst of 1 + tolerance / interval go at
    once (GCRA's τ; 0: evenly spaced). One statement in autocommit."""
    step = timedelta(seconds=interval)
    with autocommit(engine) as conn:
        row = conn.execute(_RESERVE, {"app_id": app_id, "tenant_id": tenant_id, "interval": step}).one()
    tat, now = row[0], row[1]
    # The slot is the TAT before this booking (its new value less one interval), less
    # the tolerance, and never before now.
    at = max(tat - step - timedelta(seconds=tolerance), now)
    return Slot(at, (at - now).total_seconds())


def push(engine: Engine, app_id: str, tenant_id: str, seconds: float) -> datetime:
    """No slot of (app id, tenant id) before `seconds` from now (after a 429 with
    Retry-After), for every process; a slot already later stays. Returns the next slot."""
    with autocommit(engine) as conn:
        value: datetime = conn.execute(
            _PUSH, {"app_id": app_id, "tenant_id": tenant_id, "hold": timedelta(seconds=max(0.0, seconds))}
        ).scalar_one()
    return value


def next_slot(engine: Engine, app_id: str, tenant_id: str) -> datetime | None:
    """The budget's next free slot as stored (None: no send booked yet)."""
    with engine.connect() as conn:
        value: datetime | None = conn.execute(
            text("SELECT next_slot FROM send_budgets WHERE app_id = :a AND tenant_id = :t"),
            {"a": app_id, "t": tenant_id},
        ).scalar()
    return value
