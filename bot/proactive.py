"""Proactive messages through stored conversation references: the sender
that the June follow-up round calls.

`Sender.send(reference, activity)` posts one activity into the conversation
of a stored reference (the JSON that `KompetensBot` stores from
`activity.get_conversation_reference()`), `update` replaces a sent card in
place, `create_conversation` opens a 1:1 chat with someone who has none yet.

Throttling: every request waits for a slot from a global token bucket
(`global_rate`, default 30/s) and, for sends and updates, from its
conversation's bucket (`per_conversation_rate`, default 7/s, Teams' limit).
Both are GCRA token buckets with a burst of 1 by default, so the requests
are evenly spaced and no one-second window holds more than the rate; they
run `headroom` (2 %) below the nominal rates so that network jitter cannot
push a window of the channel's over the limit. A conversation's slot is
counted at the moment its global slot comes up (one request per
conversation waits for the global bucket at a time), so a backlog in the
global queue can never bunch two sends of one conversation; global slots go
in the order the requests were made (a retry keeps its place), so a
conversation with several messages is not starved behind later ones. The
order of messages within one conversation is kept, except that a retried
message may arrive after a later one. One Sender serves one event loop, and
its rates are per process: two processes sending at once share Teams'
limits, so give each a share of the global rate.

Retries: 429, 412, 502, 503, 504, timeouts and connection errors, with
exponential backoff and jitter; a Retry-After (seconds or an HTTP date) is
honoured, and after a 429 the conversation's bucket waits too. 403 and 404
(bot blocked or removed, user or conversation gone) are not retried and come
back as `permanent`. Other failures (400, 401, ...) are not retried either,
but are not `permanent`: they are about the bot, not the recipient.

Where: every send, update and create-conversation goes only to an origin
that bot.outbound allows (the adapter's policy, see `outbound_of`); any
other is refused before a connection is made, as a permanent failure
("not allowed"), and so is a created conversation whose new serviceUrl is
not allowed.

Nothing here raises for a failed request: every call returns a result with
the reason. The HTTP call runs inside the SDK's proactive turn, but its
errors are caught inside the callback, so the adapter's `on_turn_error` (which
would tell the user "something went wrong" and clear their dialog state)
never runs for a failed proactive send.

What the SDK does (Agents SDK 1.9, read from its source): the connector
client raises `aiohttp.ClientResponseError` (status, headers, body as
message) for any non-2xx answer after logging one ERROR line; it never
retries; `continue_conversation` builds a new `TeamsConnectorClient` and a
new `UserTokenClient` - each with its own `aiohttp.ClientSession` - for every
call and closes them after the turn, so every send opens a new connection
(and, with a client id, asks the token provider for two tokens).
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import heapq
import itertools
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from microsoft_agents.hosting.core import ClaimsIdentity, TurnContext
from microsoft_agents.hosting.core.authorization import AuthenticationConstants
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient
from pydantic import ValidationError

from bot.outbound import OutboundPolicy

log = logging.getLogger("kompetensbot.proactive")

RETRYABLE_STATUSES = frozenset({412, 429, 502, 503, 504})
PERMANENT_STATUSES = {
    403: "403 Forbidden: the bot is blocked, uninstalled or not allowed in this conversation",
    404: "404 Not Found: the user or the conversation no longer exists",
}
# A failed attempt after which the request may nevertheless have been carried out.
UNCERTAIN_STATUSES = frozenset({502, 504})
MAX_DETAIL = 200

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]


class _NoAnonymousAppIdWarning(logging.Filter):
    """The SDK warns "App ID is not provided" every time it builds a user
    token client without one, i.e. on every anonymous proactive send: 2 000
    identical lines for a round. Said once by the server at start-up instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("App ID is not provided")


_SDK_TOKEN_CLIENT_LOG = "microsoft_agents.hosting.core.connector.client.user_token_client"


def _quiet_anonymous_warning() -> None:
    logger = logging.getLogger(_SDK_TOKEN_CLIENT_LOG)
    if not any(isinstance(f, _NoAnonymousAppIdWarning) for f in logger.filters):
        logger.addFilter(_NoAnonymousAppIdWarning())


@dataclass(frozen=True)
class SendResult:
    """The outcome of one send or update, after all its attempts.

    `status` is the HTTP status of the last answer; the SDK does not hand
    back the 2xx code of a successful request, so a success reports 200.
    `maybe_duplicate` is True when an attempt ended without a clear answer
    (timeout, dropped connection, 502, 504): if a later attempt succeeded,
    Teams may show the message twice; if none did, it may have arrived all
    the same. `history` lists each attempt's outcome ("429", "503",
    "timeout", "ok", ...). For a failure, `retryable` says whether trying
    again later may help (429, 412, 502, 503, 504, timeouts, connection
    errors) and `retry_after` is the last Retry-After in seconds, if any:
    a caller that sends with `attempts=1` and keeps its own queue (the round
    runner) schedules the retry from these."""

    ok: bool
    activity_id: str | None = None
    status: int | None = None
    reason: str = ""
    attempts: int = 0
    permanent: bool = False
    maybe_duplicate: bool = False
    history: tuple[str, ...] = ()
    retryable: bool = False
    retry_after: float | None = None


@dataclass(frozen=True)
class CreateResult:
    """The outcome of a create-conversation: the new reference (the same JSON
    shape as the stored ones) or the reason there is none."""

    ok: bool
    reference: dict[str, Any] | None = None
    status: int | None = None
    reason: str = ""
    attempts: int = 0
    permanent: bool = False
    history: tuple[str, ...] = ()
    retryable: bool = False
    retry_after: float | None = None


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


@dataclass
class _Failure:
    history_entry: str
    reason: str
    status: int | None = None
    retry: bool = False
    permanent: bool = False
    uncertain: bool = False
    retry_after: float | None = None


class _Captured(Exception):
    """Carries an error out of the SDK's turn callback (see `_in_turn`)."""

    def __init__(self, error: BaseException):
        super().__init__(type(error).__name__)
        self.error = error


def _short(text: Any) -> str:
    one_line = " ".join(str(text).split())
    return one_line if len(one_line) <= MAX_DETAIL else one_line[: MAX_DETAIL - 1] + "…"


class _Outgoing(Activity):
    """An outgoing proactive activity that stays without an id: the SDK's
    adapter sets `id = None` on every outgoing activity, and the connector
    client then posts "id": null, which the Teams emulator (Agents
    Playground) refuses with 400. Teams itself ignores the field."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "id" and value is None:
            self.__pydantic_fields_set__.discard("id")
            self.__dict__["id"] = None
            return
        super().__setattr__(name, value)


async def _drop_null_fields(_context: TurnContext, activities: list[Any], next_send: Any) -> Any:
    """Send the activities without JSON nulls (see _Outgoing)."""
    activities[:] = [
        _Outgoing.model_validate(a.model_dump(by_alias=True, exclude_unset=True, exclude_none=True))
        if isinstance(a, Activity)
        else a
        for a in activities
    ]
    return await next_send()


def outbound_of(adapter: Any) -> OutboundPolicy | None:
    """The outbound policy of an adapter made by bot.adapter.create_adapter (its client factory's)."""
    policy = getattr(getattr(adapter, "_channel_service_client_factory", None), "outbound", None)
    return policy if isinstance(policy, OutboundPolicy) else None


class Sender:
    """Proactive sends, updates and create-conversations for one bot.

    `adapter` is the SDK's CloudAdapter (the one `bot.adapter.create_adapter`
    builds); `app_id` is the bot's client id, or None when the bot runs
    anonymously (then no token is asked for, as against a local stand-in).
    `outbound`: where requests may go (default: the adapter's policy, or
    else bot.outbound's from the environment for the mode `app_id` says).
    `clock`, `sleep`, `wall_clock` and `rng` are injectable for tests."""

    def __init__(
        self,
        adapter: Any,
        app_id: str | None,
        *,
        global_rate: float = 30.0,
        per_conversation_rate: float = 7.0,
        max_attempts: int = 6,
        burst: int = 1,
        headroom: float = 0.02,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        max_retry_after: float = 120.0,
        attempt_timeout: float = 30.0,
        bot_id: str | None = None,
        outbound: OutboundPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Clock = time.time,
        rng: random.Random | None = None,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.adapter = adapter
        self.app_id = app_id or None
        self.outbound = (
            outbound or outbound_of(adapter) or OutboundPolicy.from_env(anonymous=self.app_id is None)
        )
        if self.app_id is None:
            _quiet_anonymous_warning()
        self.bot_id = bot_id or (f"28:{self.app_id}" if self.app_id else None)
        self.global_rate = global_rate
        self.per_conversation_rate = per_conversation_rate
        self.max_attempts = max_attempts
        self.burst = burst
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_retry_after = max_retry_after
        self.attempt_timeout = attempt_timeout
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        if not 0 <= headroom < 1:
            raise ValueError("headroom must be in [0, 1)")
        self.headroom = headroom
        self._global = TokenBucket(self._spaced(global_rate), burst=burst, clock=clock, sleep=sleep)
        self._lanes: dict[str, _Lane] = {}
        self._tickets = itertools.count()
        self._since_sweep = 0
        # (tenant id, user id) -> why no conversation could be created for them.
        self.unreachable: dict[tuple[str, str], str] = {}

    # -- public API -------------------------------------------------------

    async def send(
        self,
        reference: dict[str, Any],
        activity: Activity | dict[str, Any] | str,
        *,
        attempts: int | None = None,
    ) -> SendResult:
        """Post `activity` into the conversation of `reference`. Never raises
        for a failed request; keep `activity_id` to update the card later.
        `attempts` overrides `max_attempts` for this send (1: no retry here;
        the caller retries later, see `SendResult.retryable`)."""
        prepared = self._prepare(reference, activity)
        if isinstance(prepared, SendResult):
            return prepared
        ref, outgoing = prepared

        async def attempt() -> str | None:
            async def logic(context: TurnContext) -> str | None:
                # The SDK deep-copies what it sends (TurnContext.send_activities)
                # before addressing it: `outgoing` stays as it is for a retry.
                response = await context.send_activity(outgoing)
                return getattr(response, "id", None) or None

            return await self._in_turn(ref, logic)

        result, _ = await self._with_retries(ref.conversation.id, attempt, "send", attempts)
        return result

    async def update(
        self, reference: dict[str, Any], activity_id: str, activity: Activity | dict[str, Any] | str
    ) -> SendResult:
        """Replace the activity `activity_id` (as returned by `send`) in the
        conversation of `reference`, e.g. a card that has been answered."""
        if not activity_id:
            return SendResult(ok=False, reason="no activity id to update", permanent=True)
        prepared = self._prepare(reference, activity)
        if isinstance(prepared, SendResult):
            return prepared
        ref, outgoing = prepared
        outgoing.id = activity_id

        async def attempt() -> str | None:
            async def logic(context: TurnContext) -> str | None:
                # The SDK addresses the activity to update in place, top-level
                # fields only (Activity.apply_conversation_reference).
                response = await context.update_activity(outgoing.model_copy())
                return getattr(response, "id", None) or activity_id

            return await self._in_turn(ref, logic)

        result, _ = await self._with_retries(ref.conversation.id, attempt, "update")
        if result.ok and not result.activity_id:
            result = dataclasses.replace(result, activity_id=activity_id)
        return result

    async def create_conversation(
        self,
        service_url: str,
        tenant_id: str,
        user_id: str,
        *,
        channel_id: str = "msteams",
        user_name: str | None = None,
        locale: str | None = "sv-SE",
    ) -> dict[str, Any] | None:
        """A new 1:1 conversation with `user_id` (their Teams id, 29:..., or
        their AAD object id) in `tenant_id`: the new reference, or None, with
        the reason recorded in `self.unreachable[(tenant_id, user_id)]` and
        logged. `create_conversation_result` gives the whole outcome."""
        outcome = await self.create_conversation_result(
            service_url, tenant_id, user_id, channel_id=channel_id, user_name=user_name, locale=locale
        )
        if outcome.ok:
            self.unreachable.pop((tenant_id, user_id), None)
            return outcome.reference
        self.unreachable[(tenant_id, user_id)] = outcome.reason
        log.warning("no conversation for user %s in tenant %s: %s", user_id, tenant_id, outcome.reason)
        return None

    async def create_conversation_result(
        self,
        service_url: str,
        tenant_id: str,
        user_id: str,
        *,
        channel_id: str = "msteams",
        user_name: str | None = None,
        locale: str | None = "sv-SE",
        attempts: int | None = None,
    ) -> CreateResult:
        """`create_conversation` with the whole outcome; `attempts` as for `send`."""
        if not service_url or not tenant_id or not user_id:
            return CreateResult(
                ok=False, reason="service url, tenant id and user id are all needed", permanent=True
            )
        if not (decision := self.outbound.check(service_url)):
            log.warning("create-conversation for %s refused: %s", user_id, decision.reason)
            return CreateResult(ok=False, reason=f"not allowed: {decision.reason}", permanent=True)
        bot = {"agent": ChannelAccount(id=self.bot_id)} if self.bot_id else {}
        parameters = ConversationParameters(
            is_group=False,
            members=[ChannelAccount(id=user_id)],
            tenant_id=tenant_id,
            channel_data={"tenant": {"id": tenant_id}},
            **bot,
        )

        async def attempt() -> tuple[str, str | None]:
            return await self._create_once(service_url, channel_id, parameters)

        result, created = await self._with_retries(
            None, attempt, f"create-conversation for {user_id}", attempts
        )
        if not result.ok or not created:
            return CreateResult(
                ok=False,
                status=result.status,
                reason=result.reason or "no conversation id",
                attempts=result.attempts,
                permanent=result.permanent,
                history=result.history,
                retryable=result.retryable,
                retry_after=result.retry_after,
            )
        conversation_id, new_service_url = created
        if new_service_url and not (decision := self.outbound.check(new_service_url)):
            log.warning(
                "create-conversation for %s answered with a refused serviceUrl: %s", user_id, decision.reason
            )
            return CreateResult(ok=False, reason=f"not allowed: {decision.reason}", permanent=True)
        raw: dict[str, Any] = {
            "user": {"id": user_id, **({"name": user_name} if user_name else {})},
            "conversation": {"id": conversation_id, "conversationType": "personal", "tenantId": tenant_id},
            "channelId": channel_id,
            "serviceUrl": new_service_url or service_url,
            **({"bot": {"id": self.bot_id}} if self.bot_id else {}),
            **({"locale": locale} if locale else {}),
        }
        # The same JSON shape as the references the bot stores from incoming activities.
        reference = ConversationReference.model_validate(raw).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        return CreateResult(
            ok=True,
            reference=reference,
            status=result.status,
            reason=result.reason,
            attempts=result.attempts,
            history=result.history,
        )

    # -- one attempt ------------------------------------------------------

    def _prepare(
        self, reference: dict[str, Any], activity: Activity | dict[str, Any] | str
    ) -> tuple[ConversationReference, Activity] | SendResult:
        try:
            ref = ConversationReference.model_validate(reference)
        except (ValidationError, TypeError, ValueError) as problem:
            return SendResult(
                ok=False, reason=f"invalid conversation reference: {_short(problem)}", permanent=True
            )
        if not ref.conversation or not ref.conversation.id or not ref.service_url:
            return SendResult(
                ok=False,
                reason="the conversation reference has no conversation id or service url",
                permanent=True,
            )
        if not (decision := self.outbound.check(ref.service_url)):
            log.warning("send to conversation %s refused: %s", ref.conversation.id, decision.reason)
            return SendResult(ok=False, reason=f"not allowed: {decision.reason}", permanent=True)
        try:
            if isinstance(activity, str):
                outgoing = Activity(type=ActivityTypes.message, text=activity)
            elif isinstance(activity, Activity):
                # Shallow: only top-level fields (type, id) are ever set on it
                # here, and a deep copy of a big card costs milliseconds a send.
                outgoing = activity.model_copy()
            else:
                outgoing = Activity.model_validate(activity)
        except (ValidationError, TypeError, ValueError) as problem:
            return SendResult(ok=False, reason=f"invalid activity: {_short(problem)}")
        if not outgoing.type:
            outgoing.type = ActivityTypes.message
        return ref, outgoing

    def _continuation(self, ref: ConversationReference) -> Activity:
        continuation = ref.get_continuation_activity()
        # Without an id the turn's reference has no activity id, so the SDK
        # posts a new message (send_to_conversation) instead of a reply to
        # an activity that does not exist.
        continuation.id = None
        continuation.locale = ref.locale
        if continuation.recipient is None:
            # A reference made by an anonymous create-conversation has no bot
            # account; the SDK needs one to address the outgoing activity.
            continuation.recipient = ChannelAccount(id=self.bot_id or "bot")
        return continuation

    async def _in_turn(
        self, ref: ConversationReference, logic: Callable[[TurnContext], Awaitable[Any]]
    ) -> Any:
        """Run `logic` inside a proactive turn. Errors are caught inside the
        callback and raised again out here, so the adapter's on_turn_error
        (which messages the user) never sees them."""
        box: dict[str, Any] = {}

        async def callback(context: TurnContext) -> None:
            if isinstance(context, TurnContext):
                context.on_send_activities(_drop_null_fields)
            try:
                box["value"] = await logic(context)
            except Exception as problem:  # noqa: BLE001 - re-raised below, outside the turn
                box["error"] = problem

        continuation = self._continuation(ref)
        if self.app_id:
            await self.adapter.continue_conversation(self.app_id, continuation, callback)
        else:
            # Anonymous: empty claims make the SDK use its anonymous token
            # provider for the connector and the user-token client alike.
            await self.adapter.continue_conversation_with_claims(
                ClaimsIdentity({}, "anonymous"), continuation, callback
            )
        if "error" in box:
            raise _Captured(box["error"])
        if "value" not in box:
            raise RuntimeError("the proactive turn did not run")
        return box["value"]

    async def _create_once(
        self, service_url: str, channel_id: str, parameters: ConversationParameters
    ) -> tuple[str, str | None]:
        if self.app_id:
            box: dict[str, Any] = {}

            async def callback(context: TurnContext) -> None:
                conversation = context.activity.conversation
                box["id"] = conversation.id if conversation else None

            await self.adapter.create_conversation(
                self.app_id,
                channel_id,
                service_url,
                AuthenticationConstants.AGENTS_SDK_SCOPE,
                parameters,
                callback,
            )
            conversation_id, new_service_url = box.get("id"), None
        else:
            # The adapter's create_conversation always asks the connection
            # manager for a user-token client token, which an anonymous bot
            # does not have; talk to the connector directly instead.
            self.outbound.require(service_url)  # checked by the caller too: never a client otherwise
            client = TeamsConnectorClient(endpoint=service_url, token="")
            try:
                created = await client.conversations.create_conversation(parameters)
            finally:
                await client.close()
            conversation_id, new_service_url = created.id, created.service_url
        if not conversation_id:
            raise RuntimeError("the channel created a conversation without an id")
        return conversation_id, new_service_url

    # -- throttling and retries --------------------------------------------

    def _spaced(self, rate: float) -> float:
        """The rate the bucket runs at: `headroom` stretches every interval,
        so that a one-second window of the channel's sees at most the limit
        even when requests arrive up to `headroom` seconds unevenly."""
        return rate / (1.0 + self.headroom)

    async def _throttle(self, conversation_id: str | None, ticket: int) -> None:
        if conversation_id is None:
            await self._global.acquire(ticket)
            return
        lane = self._lanes.get(conversation_id)
        if lane is None:
            lane = self._lanes[conversation_id] = _Lane(
                TokenBucket(
                    self._spaced(self.per_conversation_rate),
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
        if self._since_sweep >= 256:
            self._sweep()

    def _sweep(self) -> None:
        self._since_sweep = 0
        for key in [k for k, lane in self._lanes.items() if lane.users == 0 and lane.bucket.idle()]:
            del self._lanes[key]

    def _defer_conversation(self, conversation_id: str | None, seconds: float) -> None:
        if conversation_id is not None and conversation_id in self._lanes:
            self._lanes[conversation_id].bucket.defer(self._clock() + seconds)

    def _classify(self, error: BaseException) -> _Failure:
        if isinstance(error, _Captured):
            error = error.error
        if isinstance(error, aiohttp.ClientResponseError):
            status = int(error.status)
            detail = _short(error.message) if error.message else ""
            if status in PERMANENT_STATUSES:
                reason = PERMANENT_STATUSES[status] + (f" ({detail})" if detail else "")
                return _Failure(str(status), reason, status=status, permanent=True)
            if status in RETRYABLE_STATUSES:
                headers = error.headers or {}
                retry_after = parse_retry_after(headers.get("Retry-After"), now_wall=self._wall_clock())
                return _Failure(
                    str(status),
                    f"HTTP {status}" + (f": {detail}" if detail else ""),
                    status=status,
                    retry=True,
                    uncertain=status in UNCERTAIN_STATUSES,
                    retry_after=retry_after,
                )
            return _Failure(
                str(status), f"HTTP {status}, not retried" + (f": {detail}" if detail else ""), status=status
            )
        if isinstance(error, TimeoutError):
            return _Failure(
                "timeout", f"no answer within {self.attempt_timeout:g} s", retry=True, uncertain=True
            )
        if isinstance(error, aiohttp.ClientConnectorError):
            # Never connected: the request cannot have been carried out.
            return _Failure("connect", f"could not connect: {_short(error)}", retry=True)
        if isinstance(error, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError)):
            return _Failure(
                "connection",
                f"connection error: {type(error).__name__}: {_short(error)}",
                retry=True,
                uncertain=True,
            )
        return _Failure("error", f"{type(error).__name__}: {_short(error)}")

    def _backoff(self, retry_number: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        return ceiling * (0.5 + 0.5 * self._rng.random())

    async def _with_retries(
        self,
        conversation_id: str | None,
        attempt: Callable[[], Awaitable[Any]],
        what: str,
        max_attempts: int | None = None,
    ) -> tuple[SendResult, Any]:
        """Attempts until success, a failure that is not retried, or
        `max_attempts` (default: the sender's); each attempt waits for its
        throttling slots first. Returns the result and the value of the
        successful attempt."""
        max_attempts = max(1, max_attempts or self.max_attempts)
        history: list[str] = []
        uncertain = False
        failure: _Failure | None = None
        # Global slots go in the order the requests were asked for (a retry
        # keeps its place), not in the order they became ready.
        ticket = next(self._tickets)
        for number in range(1, max_attempts + 1):
            await self._throttle(conversation_id, ticket)
            try:
                async with asyncio.timeout(self.attempt_timeout):
                    value = await attempt()
            except Exception as error:  # noqa: BLE001 - every failure becomes a result
                captured = error.error if isinstance(error, _Captured) else error
                if isinstance(captured, aiohttp.ClientResponseError) and 200 <= captured.status < 300:
                    # A 2xx whose body could not be read: carried out all the same.
                    history.append("ok")
                    result = SendResult(
                        ok=True,
                        status=captured.status,
                        reason="accepted (unreadable answer)",
                        attempts=number,
                        maybe_duplicate=uncertain,
                        history=tuple(history),
                    )
                    return result, None
                failure = self._classify(captured)
                if failure.status == 503:
                    # "Service unavailable": the request was not carried out, so
                    # it does not use up a send of the global rate.
                    self._global.refund()
                if failure.history_entry == "error":
                    log.warning(
                        "%s failed: %s", self._where(what, conversation_id), failure.reason, exc_info=captured
                    )
            else:
                history.append("ok")
                reason = "sent" if number == 1 else "sent after " + ", ".join(history[:-1])
                result = SendResult(
                    ok=True,
                    activity_id=value if isinstance(value, str) else None,
                    status=200,
                    reason=reason,
                    attempts=number,
                    maybe_duplicate=uncertain,
                    history=tuple(history),
                )
                return result, value
            history.append(failure.history_entry)
            if not failure.retry:
                return self._failed(failure, number, uncertain, history, what, conversation_id), None
            if failure.retry_after is not None and failure.retry_after > self.max_retry_after:
                failure.reason += (
                    f"; Retry-After {failure.retry_after:g} s is longer than {self.max_retry_after:g} s"
                )
                return self._failed(failure, number, uncertain, history, what, conversation_id), None
            uncertain = uncertain or failure.uncertain
            if number == max_attempts:
                if failure.status == 429 and failure.retry_after:
                    # The caller retries later: the conversation waits all the same.
                    self._defer_conversation(conversation_id, failure.retry_after)
                break
            if failure.retry_after is not None:
                delay = failure.retry_after + self._rng.uniform(0, min(1.0, 0.1 * failure.retry_after))
            else:
                delay = self._backoff(number)
            if failure.status == 429:
                self._defer_conversation(conversation_id, delay)
            log.info(
                "%s: %s, attempt %d of %d, again in %.2f s",
                self._where(what, conversation_id),
                failure.history_entry,
                number,
                max_attempts,
                delay,
            )
            await self._sleep(delay)
        assert failure is not None
        if max_attempts > 1:
            failure.reason += f"; gave up after {max_attempts} attempts"
        # With one attempt asked for, the caller retries a retryable failure itself.
        level = logging.INFO if max_attempts == 1 and failure.retry else logging.WARNING
        return self._failed(failure, max_attempts, uncertain, history, what, conversation_id, level), None

    @staticmethod
    def _where(what: str, conversation_id: str | None) -> str:
        return f"{what} in {conversation_id}" if conversation_id else what

    def _failed(
        self,
        failure: _Failure,
        attempts: int,
        uncertain: bool,
        history: list[str],
        what: str,
        conversation_id: str | None,
        level: int = logging.WARNING,
    ) -> SendResult:
        log.log(
            level,
            "%s failed after %d attempt(s): %s",
            self._where(what, conversation_id),
            attempts,
            failure.reason,
        )
        return SendResult(
            ok=False,
            status=failure.status,
            reason=failure.reason,
            attempts=attempts,
            permanent=failure.permanent,
            maybe_duplicate=uncertain or failure.uncertain,
            history=tuple(history),
            retryable=failure.retry,
            retry_after=failure.retry_after,
        )
