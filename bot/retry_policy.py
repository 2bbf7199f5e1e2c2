"""The one retry policy of the bot's outgoing requests: a turn's replies
(bot.replies) and the proactive sends, updates and create-conversations
(bot.proactive) alike.

Retried: 429, 412, 502, 503, 504, timeouts and connection errors, with
exponential backoff and jitter; a Retry-After (seconds or an HTTP date) is
honoured up to `max_retry_after`. 403 and 404 (bot blocked or removed, user
or conversation gone) are not retried and come back as `permanent`. Other
failures (400, 401, ...) are not retried either, but are not `permanent`:
they are about the bot, not the recipient.

Throttling is not the policy's: a caller that throttles hands `run` the
request's `Slots` (bot.throttle's `ConversationSlots`), which each attempt
waits for, which a 503 gives back and a 429 holds up (the conversation; with
a Retry-After, the tenant's send budget too, for every process: `push`). A
reply answers one
person's message, it is not bulk traffic, so replies run with `UNTHROTTLED`
and a 429's Retry-After alone makes them wait.

What the SDK does (Agents SDK 1.9, read from its source): the connector
client raises `aiohttp.ClientResponseError` (status, headers, body as
message) for any non-2xx answer after logging one ERROR line; it never
retries.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import aiohttp

from bot.throttle import Clock, Sleep, parse_retry_after

RETRYABLE_STATUSES = frozenset({412, 429, 502, 503, 504})
PERMANENT_STATUSES = {
    403: "403 Forbidden: the bot is blocked, uninstalled or not allowed in this conversation",
    404: "404 Not Found: the user or the conversation no longer exists",
}
# A failed attempt after which the request may nevertheless have been carried out.
UNCERTAIN_STATUSES = frozenset({502, 504})
MAX_DETAIL = 200

T = TypeVar("T")


def short(text: object) -> str:
    """`text` on one line, at most MAX_DETAIL characters (for reasons and logs)."""
    one_line = " ".join(str(text).split())
    return one_line if len(one_line) <= MAX_DETAIL else one_line[: MAX_DETAIL - 1] + "…"


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


class Captured(Exception):
    """Carries an error out of a callback that would otherwise handle it
    itself (the SDK's turn callback, see bot.proactive); the policy judges
    the error it carries."""

    def __init__(self, error: BaseException):
        super().__init__(type(error).__name__)
        self.error = error


@dataclass
class Failure:
    """How one failed attempt is judged."""

    history_entry: str
    reason: str
    status: int | None = None
    retry: bool = False
    permanent: bool = False
    uncertain: bool = False
    retry_after: float | None = None


class Slots(Protocol):
    """A throttled request's slots (bot.throttle.ConversationSlots)."""

    async def wait(self) -> None:
        """Before each attempt: wait for the request's slot."""

    def not_carried_out(self) -> None:
        """After a 503: the attempt did not use up its slot."""

    def hold(self, seconds: float) -> None:
        """After a 429: no slot for the conversation in the next `seconds`."""

    def push(self, seconds: float) -> None:
        """After a 429 with Retry-After: no slot of the tenant's send budget in the
        next `seconds`, for every process that shares it."""


class _Unthrottled:
    async def wait(self) -> None:
        return None

    def not_carried_out(self) -> None:
        return None

    def hold(self, seconds: float) -> None:
        return None

    def push(self, seconds: float) -> None:
        return None


UNTHROTTLED: Slots = _Unthrottled()
"""No throttling: attempts go as soon as the backoff allows (a turn's replies)."""

_log = logging.getLogger("kompetensbot.retry")


@dataclass
class RetryPolicy:
    """Attempts of one request: how many, how long each may take, the
    backoff between them and the longest Retry-After waited for.
    `sleep`, `wall_clock` and `rng` are injectable for tests; `log` is the
    logger the attempts are reported on (the caller's)."""

    max_attempts: int = 6
    attempt_timeout: float = 30.0
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    sleep: Sleep = asyncio.sleep
    wall_clock: Clock = time.time
    rng: random.Random = field(default_factory=random.Random)
    log: logging.Logger = _log

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def classify(self, error: BaseException) -> Failure:
        """How a failed attempt is judged: retried or not, permanent or not."""
        if isinstance(error, Captured):
            error = error.error
        if isinstance(error, aiohttp.ClientResponseError):
            status = int(error.status)
            detail = short(error.message) if error.message else ""
            if status in PERMANENT_STATUSES:
                reason = PERMANENT_STATUSES[status] + (f" ({detail})" if detail else "")
                return Failure(str(status), reason, status=status, permanent=True)
            if status in RETRYABLE_STATUSES:
                header = error.headers.get("Retry-After") if error.headers else None
                retry_after = parse_retry_after(header, now_wall=self.wall_clock())
                return Failure(
                    str(status),
                    f"HTTP {status}" + (f": {detail}" if detail else ""),
                    status=status,
                    retry=True,
                    uncertain=status in UNCERTAIN_STATUSES,
                    retry_after=retry_after,
                )
            return Failure(
                str(status), f"HTTP {status}, not retried" + (f": {detail}" if detail else ""), status=status
            )
        if isinstance(error, TimeoutError):
            return Failure(
                "timeout", f"no answer within {self.attempt_timeout:g} s", retry=True, uncertain=True
            )
        if isinstance(error, aiohttp.ClientConnectorError):
            # Never connected: the request cannot have been carried out.
            return Failure("connect", f"could not connect: {short(error)}", retry=True)
        if isinstance(error, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError)):
            return Failure(
                "connection",
                f"connection error: {type(error).__name__}: {short(error)}",
                retry=True,
                uncertain=True,
            )
        return Failure("error", f"{type(error).__name__}: {short(error)}")

    def backoff(self, retry_number: int) -> float:
        """The wait before retry `retry_number` (1, 2, ...) without a Retry-After."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry_number - 1))
        return ceiling * (0.5 + 0.5 * self.rng.random())

    async def run(
        self,
        attempt: Callable[[], Awaitable[T]],
        what: str,
        *,
        conversation_id: str | None = None,
        max_attempts: int | None = None,
        slots: Slots = UNTHROTTLED,
        started: Callable[[], object] | None = None,
    ) -> tuple[SendResult, T | None]:
        """Attempts until success, a failure that is not retried, or
        `max_attempts` (default: the policy's); each attempt waits for its
        `slots` first, and `started` is called as its request begins. Returns
        the result and the value of the successful attempt. Never raises for
        a failed attempt."""
        max_attempts = max(1, max_attempts or self.max_attempts)
        history: list[str] = []
        uncertain = False
        failure: Failure | None = None
        for number in range(1, max_attempts + 1):
            await slots.wait()
            if started is not None:
                started()
            try:
                async with asyncio.timeout(self.attempt_timeout):
                    value = await attempt()
            except Exception as error:  # noqa: BLE001 - every failure becomes a result
                captured = error.error if isinstance(error, Captured) else error
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
                failure = self.classify(captured)
                if failure.status == 503:
                    slots.not_carried_out()
                if failure.history_entry == "error":
                    self.log.warning(
                        "%s failed: %s", _where(what, conversation_id), failure.reason, exc_info=captured
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
            if failure.status == 429 and failure.retry_after is not None:
                slots.push(failure.retry_after)
            uncertain = uncertain or failure.uncertain
            if number == max_attempts:
                if failure.status == 429 and failure.retry_after:
                    # The caller retries later: the conversation waits all the same.
                    slots.hold(failure.retry_after)
                break
            if failure.retry_after is not None:
                delay = failure.retry_after + self.rng.uniform(0, min(1.0, 0.1 * failure.retry_after))
            else:
                delay = self.backoff(number)
            if failure.status == 429:
                slots.hold(delay)
            self.log.info(
                "%s: %s, attempt %d of %d, again in %.2f s",
                _where(what, conversation_id),
                failure.history_entry,
                number,
                max_attempts,
                delay,
            )
            await self.sleep(delay)
        assert failure is not None
        if max_attempts > 1:
            failure.reason += f"; gave up after {max_attempts} attempts"
        # With one attempt asked for, the caller retries a retryable failure itself.
        level = logging.INFO if max_attempts == 1 and failure.retry else logging.WARNING
        return self._failed(failure, max_attempts, uncertain, history, what, conversation_id, level), None

    def _failed(
        self,
        failure: Failure,
        attempts: int,
        uncertain: bool,
        history: list[str],
        what: str,
        conversation_id: str | None,
        level: int = logging.WARNING,
    ) -> SendResult:
        self.log.log(
            level,
            "%s failed after %d attempt(s): %s",
            _where(what, conversation_id),
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


def _where(what: str, conversation_id: str | None) -> str:
    return f"{what} in {conversation_id}" if conversation_id else what
