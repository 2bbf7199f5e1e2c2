"""The send budget of the bot's app in each Teams tenant, shared by every process on one
PostgreSQL database (issue 23): what the proactive sender's limiter (bot.throttle) waits
for in place of its own bucket when the database is PostgreSQL.

Teams allows an app 50 messages a second per tenant, all its messages together. Rounds
take `rate` of those (KOMPETENSBOT_SEND_RATE, default 30: per tenant, whatever the number of
processes); the 20 left are for the replies to people, which are not counted here. The key
is (app id, tenant id): the sender's app id ("" when anonymous) and the tenant of the
conversation sent to (the caller names it: the round runner the stored reference's
conversation.tenantId, else the city's tenant).

Each request books its slot in the database (storage.send_budget.reserve: one statement)
and sleeps until it comes. A process books one slot of a tenant at a time: its requests
to that tenant take turns (in the order the limiter gives them, so a retry keeps its
place), and the next books only when the one before has had its slot; so a process that
dies costs the others at most the one slot it had booked, and the tenant's slots of all
processes are at least one interval apart.

A 429 with Retry-After (`push`) moves the tenant's next slot past it for every process:
here at once, in the database as soon as a thread has written it.

A 503 does not give its slot back (bot.throttle's own bucket does): other processes may
have booked the slots after it, and the budget cannot know that slot was not used by the
channel.

When the database cannot be reached for a booking, the request waits for a bucket of this
process's own at the same rate and a warning is logged: a round cannot claim or record
sends without the database either, so this only lets the send already under way finish.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.throttle import Clock, Sleep, TokenBucket, Turns
from storage import send_budget

log = logging.getLogger("kompetensbot.proactive")


def shared(engine: Engine | None) -> bool:
    """Whether sends through `engine` share their budget with other processes (PostgreSQL)."""
    return engine is not None and engine.dialect.name == "postgresql"


class SendBudget:
    """One (app, tenant)'s budget as this process sees it: turns for its requests, a slot
    booked in the database for each."""

    def __init__(
        self,
        engine: Engine,
        app_id: str,
        tenant_id: str,
        rate: float,
        *,
        headroom: float = 0.02,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.engine = engine
        self.app_id = app_id
        self.tenant_id = tenant_id
        self.interval = (1.0 + headroom) / rate
        self._clock = clock
        self._sleep = sleep
        self._turns = Turns()
        self._not_before = -float("inf")  # this process's copy of the last push
        self._pushes: set[asyncio.Task[None]] = set()
        self._fallback = TokenBucket(1.0 / self.interval, clock=clock, sleep=sleep)

    async def acquire(self, priority: float = 0.0) -> None:
        async with self._turns.take(priority):
            if self._pushes:  # the database knows of the last 429 before the next booking
                await asyncio.gather(*self._pushes, return_exceptions=True)
            held = self._not_before - self._clock()
            if held > 0:
                await self._sleep(held)
            try:
                slot = await asyncio.to_thread(
                    send_budget.reserve, self.engine, self.app_id, self.tenant_id, self.interval
                )
            except SQLAlchemyError as problem:
                log.warning(
                    "send budget of tenant %s not reached (%s): this process's own bucket for now",
                    self.tenant_id or "(unknown)",
                    type(problem).__name__,
                )
                await self._fallback.acquire()
                return
            if slot.wait > 0:
                await self._sleep(slot.wait)

    def refund(self) -> None:
        """A 503: the slot stays used (see the module's notes)."""
        return None

    def push(self, seconds: float) -> None:
        self._not_before = max(self._not_before, self._clock() + seconds)
        task = asyncio.get_running_loop().create_task(self._push(seconds))
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    async def _push(self, seconds: float) -> None:
        try:
            await asyncio.to_thread(send_budget.push, self.engine, self.app_id, self.tenant_id, seconds)
        except SQLAlchemyError as problem:
            log.warning(
                "a 429's Retry-After not shared with the other processes (%s)", type(problem).__name__
            )


class SendBudgets:
    """The budgets of the apps one sender sends as (its own by default; one per city's
    registration, bot.registrations), one per (app, tenant) (bot.throttle.SharedBudgets)."""

    def __init__(
        self,
        engine: Engine,
        app_id: str | None,
        rate: float,
        *,
        headroom: float = 0.02,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ):
        self.engine = engine
        self.app_id = app_id or ""
        self.rate = rate
        self.headroom = headroom
        self._clock = clock
        self._sleep = sleep
        self._budgets: dict[tuple[str, str], SendBudget] = {}

    def of(self, tenant_id: str, app_id: str | None = None) -> SendBudget:
        """The budget of (`app_id`, `tenant_id`); `app_id` None: this one's own app."""
        key = (self.app_id if app_id is None else app_id, tenant_id)
        budget = self._budgets.get(key)
        if budget is None:
            budget = self._budgets[key] = SendBudget(
                self.engine,
                key[0],
                tenant_id,
                self.rate,
                headroom=self.headroom,
                clock=self._clock,
                sleep=self._sleep,
            )
        return budget
