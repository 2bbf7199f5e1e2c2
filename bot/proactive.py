"""Proactive messages through stored conversation references: the sender
that the June follow-up round calls.

`Sender.send(reference, activity)` posts one activity into the conversation
of a stored reference (the JSON that `KompetensBot` stores from
`activity.get_conversation_reference()`), `update` replaces a sent card in
place, `create_conversation` opens a 1:1 chat with someone who has none yet.

Throttling (bot.throttle): every request waits for a slot of the send budget
of its (app, tenant) (`global_rate`, default 30/s per tenant: Teams allows an
app 50/s per tenant for all its messages, and the 20 left are for the replies
to people, which are not throttled) and, for sends and updates, from its
conversation's bucket (`per_conversation_rate`, default 7/s, Teams' limit),
`headroom` (2 %) below the nominal rates. With `database` on PostgreSQL the
budget is shared by every process on it (bot.tenant_budget: one per tenant,
booked in the database); otherwise (SQLite, where one process serves the
database, or no database) it is this process's own bucket, one for every
tenant together. The tenant is the one the caller names (`tenant_id`), else
the reference's conversation.tenantId. The order of messages within one
conversation is kept, except that a retried message may arrive after a
later one. One Sender serves one event loop.

Retries (bot.retry_policy, the policy the turn's replies use too): 429,
412, 502, 503, 504, timeouts and connection errors, with backoff and
jitter; a Retry-After is honoured, and after a 429 the conversation's
bucket waits too (and with a Retry-After the tenant's shared budget, for
every process). 403 and 404 come back as `permanent`.

As whom (issue 23: one bot registration per city, bot.registrations): a send or update
goes as the registration whose bot id the stored reference names ("bot": "28:<app id>",
the bot the person wrote to), a create-conversation as the city's registration (`city`),
else the one whose own tenant it is; the app id given to the Sender is the fallback (the
only registration, as a rule). The SDK then takes the token from that registration's
connection (its CONNECTIONSMAP by audience, bot.adapter). `app_id_of` says which app a
reference's sends go as, for a send budget per (registration, tenant).

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
client raises `aiohttp.ClientResponseError` for any non-2xx answer and never
retries; `continue_conversation` builds a new `TeamsConnectorClient` and a
new `UserTokenClient` - each with its own `aiohttp.ClientSession` - for every
call and closes them after the turn, so every send opens a new connection
(and, with a client id, asks the token provider for two tokens). The SDK
workarounds this module needs are beside the code that needs them
(`_Outgoing`, `_continuation`, `_create_once`); the anonymous app id warning's
is in bot.clients.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

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
from sqlalchemy.engine import Engine

from bot.clients import quiet_anonymous_app_id_warning
from bot.outbound import OutboundPolicy
from bot.registrations import Registrations
from bot.retry_policy import Captured, RetryPolicy, SendResult, short
from bot.tenant_budget import SendBudgets, shared
from bot.throttle import Clock, Limiter, Sleep

__all__ = ["CreateResult", "SendResult", "Sender", "outbound_of", "registrations_of", "tenant_of_reference"]

log = logging.getLogger("kompetensbot.proactive")

T = TypeVar("T")


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


def _id_of(response: object) -> str | None:
    """The activity id in the SDK's answer to a send or update (a ResourceResponse), if any."""
    value = getattr(response, "id", None)
    return value if isinstance(value, str) and value else None


def outbound_of(adapter: Any) -> OutboundPolicy | None:
    """The outbound policy of an adapter made by bot.adapter.create_adapter (its client factory's)."""
    policy = getattr(getattr(adapter, "_channel_service_client_factory", None), "outbound", None)
    return policy if isinstance(policy, OutboundPolicy) else None


def registrations_of(adapter: Any) -> Registrations:
    """The registrations of an adapter made by bot.adapter.create_adapter (its client
    factory's); none when anonymous or made otherwise."""
    found = getattr(getattr(adapter, "_channel_service_client_factory", None), "registrations", None)
    return found if isinstance(found, Registrations) else Registrations()


class Sender:
    """Proactive sends, updates and create-conversations for one bot.

    `adapter` is the SDK's CloudAdapter (the one `bot.adapter.create_adapter`
    builds); `app_id` is the bot's client id, or None when the bot runs
    anonymously (then no token is asked for, as against a local stand-in).
    `outbound`: where requests may go (default: the adapter's policy, or
    else bot.outbound's from the environment for the mode `app_id` says).
    `registrations`: the registrations it may send as (default: the adapter's; see the
    module, "As whom"). `database`: the send budget is shared through it with every
    other process when it is PostgreSQL (see the module's notes). `clock`, `sleep`,
    `wall_clock` and `rng` are injectable for tests."""

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
        registrations: Registrations | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Clock = time.time,
        rng: random.Random | None = None,
        database: Engine | None = None,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.adapter = adapter
        self.app_id = app_id or None
        self.outbound = (
            outbound or outbound_of(adapter) or OutboundPolicy.from_env(anonymous=self.app_id is None)
        )
        if self.app_id is None:
            quiet_anonymous_app_id_warning()
        self.bot_id = bot_id or (f"28:{self.app_id}" if self.app_id else None)
        self.registrations = (
            (registrations if registrations is not None else registrations_of(adapter))
            if self.app_id
            else Registrations()
        )
        self.global_rate = global_rate
        self.per_conversation_rate = per_conversation_rate
        self.retries = RetryPolicy(
            max_attempts=max_attempts,
            attempt_timeout=attempt_timeout,
            base_delay=base_delay,
            max_delay=max_delay,
            max_retry_after=max_retry_after,
            sleep=sleep,
            wall_clock=wall_clock,
            rng=rng or random.Random(),
            log=log,
        )
        budgets = (
            SendBudgets(database, self.app_id, global_rate, headroom=headroom, clock=clock, sleep=sleep)
            if database is not None and shared(database)
            else None
        )
        self.limiter = Limiter(
            global_rate,
            per_conversation_rate,
            burst=burst,
            headroom=headroom,
            clock=clock,
            sleep=sleep,
            budgets=budgets,
        )
        # (tenant id, user id) -> why no conversation could be created for them.
        self.unreachable: dict[tuple[str, str], str] = {}

    # -- public API -------------------------------------------------------

    def app_id_of(self, reference: dict[str, Any]) -> str | None:
        """The app id a send to `reference` goes as: the registration its bot id names
        ("bot": {"id": "28:<app id>"}), else the Sender's own (None: anonymous)."""
        bot = reference.get("bot") if isinstance(reference, dict) else None
        return self._sent_as(bot.get("id") if isinstance(bot, dict) else None)

    def app_id_for(self, tenant_id: str, city: str | None = None) -> str | None:
        """The app id a create-conversation in `tenant_id` goes as: the city's registration,
        else the one whose own tenant it is, else the Sender's own (None: anonymous)."""
        found = self.registrations.for_city(city) if city and self.registrations.linked else None
        found = found or self.registrations.for_tenant(tenant_id)
        return found.app_id if found else self.app_id

    async def send(
        self,
        reference: dict[str, Any],
        activity: Activity | dict[str, Any] | str,
        *,
        attempts: int | None = None,
        tenant_id: str | None = None,
        started: Callable[[], object] | None = None,
    ) -> SendResult:
        """Post `activity` into the conversation of `reference`. Never raises
        for a failed request; keep `activity_id` to update the card later.
        `attempts` overrides `max_attempts` for this send (1: no retry here;
        the caller retries later, see `SendResult.retryable`). `tenant_id`:
        whose send budget it takes (default: the reference's conversation's
        tenant). `started` is called as an attempt's request begins (its
        slots came up): until then, cancelling the send sends nothing."""
        prepared = self._prepare(reference, activity)
        if isinstance(prepared, SendResult):
            return prepared
        ref, outgoing = prepared

        async def attempt() -> str | None:
            async def logic(context: TurnContext) -> str | None:
                # The SDK deep-copies what it sends (TurnContext.send_activities)
                # before addressing it: `outgoing` stays as it is for a retry.
                response = await context.send_activity(outgoing)
                return _id_of(response)

            return await self._in_turn(ref, logic)

        result, _ = await self._with_retries(
            ref.conversation.id,
            attempt,
            "send",
            attempts,
            tenant_of_reference(ref, tenant_id),
            started,
            app_id=self.app_id_of(reference),
        )
        return result

    async def update(
        self,
        reference: dict[str, Any],
        activity_id: str,
        activity: Activity | dict[str, Any] | str,
        *,
        tenant_id: str | None = None,
    ) -> SendResult:
        """Replace the activity `activity_id` (as returned by `send`) in the
        conversation of `reference`, e.g. a card that has been answered
        (`tenant_id` as for `send`)."""
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
                return _id_of(response) or activity_id

            return await self._in_turn(ref, logic)

        result, _ = await self._with_retries(
            ref.conversation.id,
            attempt,
            "update",
            tenant_id=tenant_of_reference(ref, tenant_id),
            app_id=self.app_id_of(reference),
        )
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
        city: str | None = None,
    ) -> dict[str, Any] | None:
        """A new 1:1 conversation with `user_id` (their Teams id, 29:..., or
        their AAD object id) in `tenant_id`: the new reference, or None, with
        the reason recorded in `self.unreachable[(tenant_id, user_id)]` and
        logged. `create_conversation_result` gives the whole outcome."""
        outcome = await self.create_conversation_result(
            service_url,
            tenant_id,
            user_id,
            channel_id=channel_id,
            user_name=user_name,
            locale=locale,
            city=city,
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
        city: str | None = None,
    ) -> CreateResult:
        """`create_conversation` with the whole outcome; `attempts` as for `send`; `city`: the
        city's slug, whose registration the conversation is created as (see the module)."""
        if not service_url or not tenant_id or not user_id:
            return CreateResult(
                ok=False, reason="service url, tenant id and user id are all needed", permanent=True
            )
        if not (decision := self.outbound.check(service_url)):
            log.warning("create-conversation for %s refused: %s", user_id, decision.reason)
            return CreateResult(ok=False, reason=f"not allowed: {decision.reason}", permanent=True)
        parameters = ConversationParameters(  # type: ignore[call-arg]  # mypy reads the SDK's Field(None, alias="bot") as required
            is_group=False,
            members=[ChannelAccount(id=user_id)],
            tenant_id=tenant_id,
            channel_data={"tenant": {"id": tenant_id}},
        )
        app_id = self.app_id_for(tenant_id, city)
        bot_id = self.bot_id if app_id == self.app_id else f"28:{app_id}"
        if bot_id:
            parameters.agent = ChannelAccount(id=bot_id)

        async def attempt() -> tuple[str, str | None]:
            return await self._create_once(app_id, service_url, channel_id, parameters)

        result, created = await self._with_retries(
            None, attempt, f"create-conversation for {user_id}", attempts, tenant_id, app_id=app_id
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
            **({"bot": {"id": bot_id}} if bot_id else {}),
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
                ok=False, reason=f"invalid conversation reference: {short(problem)}", permanent=True
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
                # here (why not deep: bench/README.md, "Speed tricks").
                outgoing = activity.model_copy()
            else:
                outgoing = Activity.model_validate(activity)
        except (ValidationError, TypeError, ValueError) as problem:
            return SendResult(ok=False, reason=f"invalid activity: {short(problem)}")
        if not outgoing.type:
            outgoing.type = ActivityTypes.message
        return ref, outgoing

    def _continuation(self, ref: ConversationReference, app_id: str | None) -> Activity:
        continuation = ref.get_continuation_activity()
        # Without an id the turn's reference has no activity id, so the SDK
        # posts a new message (send_to_conversation) instead of a reply to
        # an activity that does not exist.
        continuation.id = None
        continuation.locale = ref.locale  # type: ignore[assignment]  # the SDK types it str; a reference may have none
        if continuation.recipient is None:
            # A reference made by an anonymous create-conversation has no bot
            # account; the SDK needs one to address the outgoing activity.
            bot_id = self.bot_id if app_id == self.app_id else f"28:{app_id}"
            continuation.recipient = ChannelAccount(id=bot_id or "bot")
        return continuation

    async def _in_turn(self, ref: ConversationReference, logic: Callable[[TurnContext], Awaitable[T]]) -> T:
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

        app_id = self._sent_as(ref.agent.id if ref.agent else None)
        continuation = self._continuation(ref, app_id)
        if app_id:
            await self.adapter.continue_conversation(app_id, continuation, callback)
        else:
            # Anonymous: empty claims make the SDK use its anonymous token
            # provider for the connector and the user-token client alike.
            await self.adapter.continue_conversation_with_claims(
                ClaimsIdentity({}, "anonymous"), continuation, callback
            )
        if "error" in box:
            raise Captured(box["error"])
        if "value" not in box:
            raise RuntimeError("the proactive turn did not run")
        value: T = box["value"]
        return value

    def _sent_as(self, bot_id: str | None) -> str | None:
        """The app id of the registration of `bot_id` ("28:<app id>"), else the Sender's own."""
        found = self.registrations.for_app_id(bot_id)
        return found.app_id if found else self.app_id

    async def _create_once(
        self, app_id: str | None, service_url: str, channel_id: str, parameters: ConversationParameters
    ) -> tuple[str, str | None]:
        if app_id:
            box: dict[str, Any] = {}

            async def callback(context: TurnContext) -> None:
                conversation = context.activity.conversation
                box["id"] = conversation.id if conversation else None

            await self.adapter.create_conversation(
                app_id,
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

    async def _with_retries(
        self,
        conversation_id: str | None,
        attempt: Callable[[], Awaitable[T]],
        what: str,
        max_attempts: int | None = None,
        tenant_id: str | None = None,
        started: Callable[[], object] | None = None,
        *,
        app_id: str | None = None,
    ) -> tuple[SendResult, T | None]:
        """The retry policy's attempts, each waiting for its throttling slots
        (the send budget of (`app_id`, `tenant_id`) and the conversation's)."""
        return await self.retries.run(
            attempt,
            what,
            conversation_id=conversation_id,
            max_attempts=max_attempts,
            slots=self.limiter.slots(conversation_id, tenant_id, app_id),
            started=started,
        )


def tenant_of_reference(ref: ConversationReference, named: str | None = None) -> str:
    """The tenant whose send budget a request into `ref`'s conversation takes: the one
    the caller named, else the conversation's tenantId ("" when neither says)."""
    if named:
        return named
    conversation = ref.conversation
    return str(getattr(conversation, "tenant_id", None) or "") if conversation else ""
