"""The replies of a turn, retried when the channel's connector service
answers 429, 412, 502, 503, 504 or not at all.

What the SDK does (Agents SDK 1.9, read from its source): `TurnContext.
send_activity` posts each reply once through `ConnectorClient`, which raises
`aiohttp.ClientResponseError` for any non-2xx answer; nothing retries, so a
reply that Teams throttles is lost and the turn fails.

A person who asked something expects the answer, a little late if need be.
`ReplyRetries.handler` is registered per turn with `TurnContext.
on_send_activities` (the SDK's hook for a turn's outgoing activities; the
connector client, its token and its authentication are untouched). It sends
the turn's activities one at a time, in order, and retries each one with the
retry policy the proactive sender uses too (`bot.retry_policy.RetryPolicy`:
backoff with jitter, Retry-After honoured up to a limit, 403/404/400/500 not
retried), without throttling (`UNTHROTTLED`): a reply answers one person's
message, it is not bulk traffic, and a 429's Retry-After already makes it wait.

Limits: `attempts` tries of at most `timeout` seconds each, backoff at most
`max_delay` seconds between them, and no wait for a Retry-After longer than
`max_retry_after`. A reply whose attempt timed out may have been carried out
all the same, so the retry can show it twice (rather than not at all).

When a reply cannot be delivered within the limits, `ReplyNotDelivered` is
raised: the turn stops there and its dialog state is not saved, so the
person's next message carries on from the last question they did see
(bot.adapter logs it and sends nothing more). What the turn wrote before is
kept; a repeated confirmation cannot write it twice (bot.services, `once`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from microsoft_agents.hosting.core import TurnContext

from bot.retry_policy import UNTHROTTLED, RetryPolicy, SendResult

log = logging.getLogger("kompetensbot.replies")


class ReplyNotDelivered(Exception):
    """A reply of this turn could not be delivered within the retry limits."""

    def __init__(self, conversation_id: str | None, result: SendResult):
        super().__init__(f"reply in conversation {conversation_id} not delivered: {result.reason}")
        self.conversation_id = conversation_id
        self.result = result


@dataclass
class ReplyRetries:
    attempts: int = 4
    timeout: float = 10.0
    base_delay: float = 0.5
    max_delay: float = 4.0
    max_retry_after: float = 10.0
    policy: RetryPolicy = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.policy = RetryPolicy(
            max_attempts=self.attempts,
            attempt_timeout=self.timeout,
            base_delay=self.base_delay,
            max_delay=self.max_delay,
            max_retry_after=self.max_retry_after,
            log=log,
        )

    async def handler(
        self,
        context: TurnContext,
        activities: list[Any],
        next_send: Callable[[], Awaitable[Any]],
    ) -> Any:
        """An `on_send_activities` handler: each activity sent on its own, with retries."""
        if not activities:
            return await next_send()
        conversation = getattr(context.activity, "conversation", None)
        conversation_id = getattr(conversation, "id", None)
        batch = list(activities)
        responses: list[Any] = []
        try:
            for activity in batch:
                activities[:] = [activity]
                responses += await self._deliver(conversation_id, next_send)
        finally:
            activities[:] = batch
        return responses

    async def _deliver(
        self, conversation_id: str | None, next_send: Callable[[], Awaitable[Any]]
    ) -> list[Any]:
        failed: dict[str, BaseException] = {}

        async def attempt() -> Any:
            try:
                return await next_send()
            except Exception as error:
                failed["error"] = error
                raise

        result, value = await self.policy.run(
            attempt, "reply", conversation_id=conversation_id, slots=UNTHROTTLED
        )
        if result.ok:
            if result.attempts > 1:
                log.info(
                    "reply in %s delivered after %s%s",
                    conversation_id,
                    ", ".join(result.history[:-1]),
                    " (it may show twice)" if result.maybe_duplicate else "",
                )
            return list(value or [])
        if result.history and result.history[-1] == "error" and "error" in failed:
            raise failed["error"]  # not about delivery: a bug, for on_turn_error to report
        raise ReplyNotDelivered(conversation_id, result)
