"""Throttling of outgoing requests: Retry-After parsing, a token bucket,
and the limiter the proactive sender waits on.

`Limiter` keeps a send budget per (app, tenant) (`global_rate`, the sender's
default 30/s: Teams allows an app 50 messages a second per tenant, all its
messages together; the 20 left are the replies to people, which are not
throttled here) and one bucket per conversation (`per_conversation_rate`,
default 7/s, Teams' limit). Both are GCRA token buckets with a burst of 1 by
default, so the requests are evenly spaced and no one-second window holds
more than the rate; they run `headroom` (2 %) below the nominal rates so
that network jitter cannot push a window of the channel's over the limit.

The send budget is either this process's own bucket (`TokenBucket`, one for
every tenant together: SQLite, where one process serves the database, and
a Sender without a database) or the budget shared by every process through
PostgreSQL (`SendBudget`, bot.tenant_budget: one per tenant, booked in the
database), which the limiter is given as `budgets`.

A conversation's slot is counted at the moment its budget slot comes up
(one request per conversation waits for the budget at a time), so a
backlog in the budget's queue can never bunch two sends of one conversation;
budget slots go in the order the requests were made (a retry keeps its
place: see `Limiter.slots`), so a conversation with several messages is
not starved behind later ones. One limiter serves one event loop.

The conversations' buckets stay in the process, also when the budget is
shared: a conversation is one person's 1:1 chat, a round sends each person a
few messages (a card, a reminder days later; an escalation in parts is sent
by the one process that claimed it, in order), so two processes sending into
one conversation at once send two messages, never seven a second; and a 429
there is retried all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import heapq
import itertools
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]

SWEEP_EVERY = 256
"""Forget the idle conversations' buckets after this many requests."""


def parse_retry_after(value: str | None, *, now_wall: float) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds (fractions
    accepted) or an HTTP date. None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - now_wall
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


class Turns:
    """Turns, one at a time: by priority (lower first), then first come, first
    served. `async with turns.take(priority):` waits for its turn and holds it
    to the end of the block; a task cancelled while waiting gives its place up."""

    def __init__(self) -> None:
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._owned = False

    @property
    def busy(self) -> bool:
        return self._owned or bool(self._waiting)

    @contextlib.asynccontextmanager
    async def take(self, priority: float = 0.0) -> AsyncIterator[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._arrivals), future))
        self._hand_over()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # it was our turn after all
                self._owned = False
                self._hand_over()
            raise
        try:
            yield
        finally:
            self._owned = False
            self._hand_over()

    def _hand_over(self) -> None:
        if self._owned:
            return
        while self._waiting:
            _priority, _arrival, future = heapq.heappop(self._waiting)
            if not future.done():
                self._owned = True
                future.set_result(None)
                return


class TokenBucket:
    """A token bucket as GCRA (the "theoretical arrival time"): `rate`
    requests a second, at most `burst` at once.

    `acquire()` waits its turn (by priority, then first come, first served)
    and counts the request at the moment it really goes ahead, so a task
    that wakes late never lets the next one through early. `reserve()`
    books the next slot without waiting (the bare arithmetic). One bucket
    serves one event loop."""

    def __init__(
        self, rate: float, *, burst: int = 1, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ):
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self.interval = 1.0 / rate
        self._tolerance = (burst - 1) * self.interval
        self._tat = -math.inf
        self._clock = clock
        self._sleep = sleep
        self._turns = Turns()

    def wait_time(self) -> float:
        """How long until a request would conform, without booking it."""
        return max(0.0, self._tat - self._tolerance - self._clock())

    def book(self, at: float) -> None:
        """Count a request made at `at`."""
        self._tat = max(self._tat, at) + self.interval

    def reserve(self) -> float:
        delay = self.wait_time()
        self.book(self._clock() + delay)
        return delay

    async def acquire(self, priority: float = 0.0) -> None:
        """Wait for a slot. Waiters go in order of `priority` (lower first),
        then of arrival; the one whose turn it is waits for the slot and
        counts it when it really goes ahead."""
        async with self._turns.take(priority):
            delay = self.wait_time()
            if delay > 0:
                await self._sleep(delay)
            self.book(self._clock())

    def refund(self) -> None:
        """Give back the last slot taken: its request was not carried out."""
        self._tat = max(self._clock(), self._tat - self.interval)

    def defer(self, until: float) -> None:
        """No slot before `until` (after a 429 with Retry-After)."""
        self._tat = max(self._tat, until + self._tolerance)

    def idle(self) -> bool:
        """Full again: forgetting this bucket changes nothing."""
        return self._tat <= self._clock() and not self._turns.busy


class Budget(Protocol):
    """The send budget one request waits for besides its conversation's bucket:
    this process's `TokenBucket`, or a tenant's budget shared through the
    database (bot.tenant_budget.SendBudget)."""

    async def acquire(self, priority: float = 0.0) -> None:
        """Wait for a slot, in the order of `priority`, then of arrival."""

    def refund(self) -> None:
        """The last slot's request was not carried out (503)."""


class SharedBudgets(Protocol):
    """Budgets shared by every process (bot.tenant_budget.SendBudgets): one per
    (registration, tenant)."""

    def of(self, tenant_id: str, app_id: str | None = None) -> SharedBudget:
        """The budget of `tenant_id` ("" when not known) for the app `app_id` (None: the
        sender's own)."""


class SharedBudget(Budget, Protocol):
    def push(self, seconds: float) -> None:
        """No slot in the next `seconds`, for every process (after a 429 with Retry-After)."""


@dataclass
class _Lane:
    """One conversation: its bucket, and a lock so that one request per
    conversation at a time waits for the budget."""

    bucket: TokenBucket
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class Limiter:
    """The send budget and the conversations' buckets of one sender. `budgets`: the
    budgets shared by every process, one per tenant (PostgreSQL: bot.tenant_budget);
    None: one bucket of this process's for every tenant together."""

    def __init__(
        self,
        global_rate: float,
        per_conversation_rate: float,
        *,
        burst: int = 1,
        headroom: float = 0.02,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        budgets: SharedBudgets | None = None,
    ):
        if not 0 <= headroom < 1:
            raise ValueError("headroom must be in [0, 1)")
        self.per_conversation_rate = per_conversation_rate
        self.burst = burst
        self.headroom = headroom
        self._clock = clock
        self._sleep = sleep
        self._global = TokenBucket(self.spaced(global_rate), burst=burst, clock=clock, sleep=sleep)
        self.budgets = budgets
        self._lanes: dict[str, _Lane] = {}
        self._tickets = itertools.count()
        self._since_sweep = 0

    def spaced(self, rate: float) -> float:
        """The rate a bucket runs at: `headroom` stretches every interval,
        so that a one-second window of the channel's sees at most the limit
        even when requests arrive up to `headroom` seconds unevenly."""
        return rate / (1.0 + self.headroom)

    def budget(self, tenant_id: str | None, app_id: str | None = None) -> Budget:
        """The budget a request to `tenant_id` as the app `app_id` waits for."""
        if self.budgets is None:
            return self._global
        return self.budgets.of(tenant_id or "", app_id)

    def slots(
        self, conversation_id: str | None, tenant_id: str | None = None, app_id: str | None = None
    ) -> ConversationSlots:
        """The slots of one request (all its attempts) to `conversation_id`
        (None: no conversation, only the budget) in `tenant_id`, sent as the app
        `app_id` (None: the sender's own). Its place in the budget's queue is
        taken now, so a retry keeps it."""
        return ConversationSlots(self, conversation_id, next(self._tickets), tenant_id or "", app_id)

    async def acquire(
        self,
        conversation_id: str | None,
        ticket: int,
        tenant_id: str | None = None,
        app_id: str | None = None,
    ) -> None:
        """Wait for the conversation's slot and a budget one (in `ticket` order)."""
        budget = self.budget(tenant_id, app_id)
        if conversation_id is None:
            await budget.acquire(ticket)
            return
        lane = self._lanes.get(conversation_id)
        if lane is None:
            lane = self._lanes[conversation_id] = _Lane(
                TokenBucket(
                    self.spaced(self.per_conversation_rate),
                    burst=self.burst,
                    clock=self._clock,
                    sleep=self._sleep,
                )
            )
        lane.users += 1
        try:
            async with lane.lock:
                # Wait until the conversation could send, then for a budget
                # slot, and only then book the conversation's slot: at the
                # moment the request actually goes out.
                wait = lane.bucket.wait_time()
                if wait > 0:
                    await self._sleep(wait)
                await budget.acquire(ticket)
                lane.bucket.book(self._clock())
        finally:
            lane.users -= 1
        self._since_sweep += 1
        if self._since_sweep >= SWEEP_EVERY:
            self._sweep()

    def refund(self, tenant_id: str | None = None, app_id: str | None = None) -> None:
        """The last budget slot's request was not carried out (503)."""
        self.budget(tenant_id, app_id).refund()

    def defer(self, conversation_id: str | None, seconds: float) -> None:
        """No slot for the conversation in the next `seconds` (after a 429)."""
        if conversation_id is not None and conversation_id in self._lanes:
            self._lanes[conversation_id].bucket.defer(self._clock() + seconds)

    def push(self, tenant_id: str | None, seconds: float, app_id: str | None = None) -> None:
        """After a 429 with Retry-After: the tenant's shared budget gives no slot in
        the next `seconds`, to any process. This process's own bucket is left as it
        is (the conversation waits: `defer`)."""
        if self.budgets is not None:
            self.budgets.of(tenant_id or "", app_id).push(seconds)

    def _sweep(self) -> None:
        self._since_sweep = 0
        for key in [k for k, lane in self._lanes.items() if lane.users == 0 and lane.bucket.idle()]:
            del self._lanes[key]


@dataclass(frozen=True)
class ConversationSlots:
    """One request's view of a limiter (`bot.retry_policy.Slots`)."""

    limiter: Limiter
    conversation_id: str | None
    ticket: int
    tenant_id: str = ""
    app_id: str | None = None  # the registration it goes as (None: the sender's own)

    async def wait(self) -> None:
        await self.limiter.acquire(self.conversation_id, self.ticket, self.tenant_id, self.app_id)

    def not_carried_out(self) -> None:
        # "Service unavailable": the request was not carried out, so it does
        # not use up a send of the budget (this process's; a shared one keeps it).
        self.limiter.refund(self.tenant_id, self.app_id)

    def hold(self, seconds: float) -> None:
        self.limiter.defer(self.conversation_id, seconds)

    def push(self, seconds: float) -> None:
        self.limiter.push(self.tenant_id, seconds, self.app_id)
