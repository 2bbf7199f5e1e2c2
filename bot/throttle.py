"""Throttling of outgoing requests: Retry-After parsing, a token bucket,
and the limiter the proactive sender waits on.

`Limiter` keeps a global token bucket (`global_rate`, the sender's default
30/s) and one bucket per conversation (`per_conversation_rate`, default
7/s, Teams' limit). Both are GCRA token buckets with a burst of 1 by
default, so the requests are evenly spaced and no one-second window holds
more than the rate; they run `headroom` (2 %) below the nominal rates so
that network jitter cannot push a window of the channel's over the limit.
A conversation's slot is counted at the moment its global slot comes up
(one request per conversation waits for the global bucket at a time), so a
backlog in the global queue can never bunch two sends of one conversation;
global slots go in the order the requests were made (a retry keeps its
place: see `Limiter.slots`), so a conversation with several messages is
not starved behind later ones. One limiter serves one event loop, and its
rates are per process.
"""

from __future__ import annotations

import asyncio
import email.utils
import heapq
import itertools
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

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
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._owned = False

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
            delay = self.wait_time()
            if delay > 0:
                await self._sleep(delay)
            self.book(self._clock())
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

    def refund(self) -> None:
        """Give back the last slot taken: its request was not carried out."""
        self._tat = max(self._clock(), self._tat - self.interval)

    def defer(self, until: float) -> None:
        """No slot before `until` (after a 429 with Retry-After)."""
        self._tat = max(self._tat, until + self._tolerance)

    def idle(self) -> bool:
        """Full again: forgetting this bucket changes nothing."""
        return self._tat <= self._clock() and not self._owned and not self._waiting


@dataclass
class _Lane:
    """One conversation: its bucket, and a lock so that one request per
    conversation at a time waits for the global bucket."""

    bucket: TokenBucket
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class Limiter:
    """The global bucket and the conversations' buckets of one sender."""

    def __init__(
        self,
        global_rate: float,
        per_conversation_rate: float,
        *,
        burst: int = 1,
        headroom: float = 0.02,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ):
        if not 0 <= headroom < 1:
            raise ValueError("headroom must be in [0, 1)")
        self.per_conversation_rate = per_conversation_rate
        self.burst = burst
        self.headroom = headroom
        self._clock = clock
        self._sleep = sleep
        self._global = TokenBucket(self.spaced(global_rate), burst=burst, clock=clock, sleep=sleep)
        self._lanes: dict[str, _Lane] = {}
        self._tickets = itertools.count()
        self._since_sweep = 0

    def spaced(self, rate: float) -> float:
        """The rate a bucket runs at: `headroom` stretches every interval,
        so that a one-second window of the channel's sees at most the limit
        even when requests arrive up to `headroom` seconds unevenly."""
        return rate / (1.0 + self.headroom)

    def slots(self, conversation_id: str | None) -> ConversationSlots:
        """The slots of one request (all its attempts) to `conversation_id`
        (None: no conversation, only the global bucket). Its place in the
        global queue is taken now, so a retry keeps it."""
        return ConversationSlots(self, conversation_id, next(self._tickets))

    async def acquire(self, conversation_id: str | None, ticket: int) -> None:
        """Wait for the conversation's slot and a global one (in `ticket` order)."""
        if conversation_id is None:
            await self._global.acquire(ticket)
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
                # Wait until the conversation could send, then for a global
                # slot, and only then book the conversation's slot: at the
                # moment the request actually goes out.
                wait = lane.bucket.wait_time()
                if wait > 0:
                    await self._sleep(wait)
                await self._global.acquire(ticket)
                lane.bucket.book(self._clock())
        finally:
            lane.users -= 1
        self._since_sweep += 1
        if self._since_sweep >= SWEEP_EVERY:
            self._sweep()

    def refund_global(self) -> None:
        """The last global slot's request was not carried out (503)."""
        self._global.refund()

    def defer(self, conversation_id: str | None, seconds: float) -> None:
        """No slot for the conversation in the next `seconds` (after a 429)."""
        if conversation_id is not None and conversation_id in self._lanes:
            self._lanes[conversation_id].bucket.defer(self._clock() + seconds)

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

    async def wait(self) -> None:
        await self.limiter.acquire(self.conversation_id, self.ticket)

    def not_carried_out(self) -> None:
        # "Service unavailable": the request was not carried out, so it does
        # not use up a send of the global rate.
        self.limiter.refund_global()

    def hold(self, seconds: float) -> None:
        self.limiter.defer(self.conversation_id, seconds)
