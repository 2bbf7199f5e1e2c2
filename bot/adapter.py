"""The SDK's CloudAdapter, configured from the settings, with an error
handler that logs, tells the user in one Swedish sentence, and clears the
broken conversation state so that a dialog cannot loop on the same error."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from microsoft_agents.authentication.msal import MsalAuth, MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    ConnectionManager,
    TurnContext,
)
from sqlalchemy.exc import SQLAlchemyError

from bot.clients import CheckedClientFactory, PooledClientFactory, quiet_anonymous_app_id_warning
from bot.config import Settings
from bot.conversation_state import PersonalConversationState
from bot.outbound import OutboundPolicy
from bot.registrations import DEFAULT
from bot.replies import ReplyNotDelivered
from dialogs import texts
from storage.bot_state import StaleWrite

log = logging.getLogger("kompetensbot.adapter")


def connection_manager(settings: Settings) -> tuple[ConnectionManager, AgentAuthConfiguration]:
    """The SDK connection manager and the configuration the JWT middleware checks.

    Without a client id the bot runs anonymously (local use with Agents
    Playground): the SDK's MSAL manager refuses to start without a
    SERVICE_CONNECTION section, so an anonymous one is built here instead of
    asking the user to set empty variables.

    The single SERVICE_CONNECTION registration linked to no city is given to the SDK's
    MsalConnectionManager as the environment has it. Registrations per city
    (bot.registrations) are given as configurations, with the CONNECTIONSMAP that makes the
    SDK take a reply's or proactive send's token from the connection whose client id is the
    claims' audience (ConnectionManager.get_token_provider), and SERVICE_CONNECTION, which the
    SDK requires, standing for the default registration when no connection has that name (one
    MSAL client per registration all the same)."""
    if settings.anonymous:
        anonymous = AgentAuthConfiguration(anonymous_allowed=True)
        manager = ConnectionManager(
            provider_factory=lambda _config: AnonymousTokenProvider(),
            connections_configurations={"SERVICE_CONNECTION": anonymous},
        )
        return manager, anonymous
    registrations = settings.registrations
    only = registrations.default
    if len(registrations) == 1 and only is not None and only.name == DEFAULT and only.city is None:
        manager = MsalConnectionManager(**settings.sdk)
        return manager, manager.get_default_connection_configuration()
    connections = settings.connections
    configurations = {r.name: AgentAuthConfiguration(**connections[r.name]) for r in registrations}
    if DEFAULT not in configurations and only is not None:
        configurations[DEFAULT] = configurations[only.name]
    providers: dict[int, MsalAuth] = {}

    def provider(config: AgentAuthConfiguration) -> MsalAuth:
        return providers.setdefault(id(config), MsalAuth(config))

    manager = ConnectionManager(
        provider_factory=provider,
        connections_configurations=configurations,
        connections_map=registrations.connections_map(),
    )
    return manager, manager.get_default_connection_configuration()


def token_configurations(settings: Settings, manager: ConnectionManager) -> dict[str, AgentAuthConfiguration]:
    """Each registration's SDK configuration by its app id (lower case), for the JWT check of
    a token for that app (bot.app): the SDK's validator builds an Entra token's key-set address
    from the tenant of the configuration it is given, so each token is checked with its own
    registration's. Empty when anonymous."""
    if settings.anonymous:
        return {}
    return {r.app_id: manager.get_connection(r.name).configuration for r in settings.registrations}


def create_adapter(
    settings: Settings, storage: Any, *, pooled: bool = False
) -> tuple[CloudAdapter, AgentAuthConfiguration]:
    """`pooled`: the SDK's client factory with one connection pool for every
    turn (bot.clients), for the server, which runs one event loop for its
    life and closes the pool when it stops; otherwise the SDK's own. Either
    refuses origins that bot.outbound does not allow."""
    manager, auth_config = connection_manager(settings)
    if settings.anonymous:
        quiet_anonymous_app_id_warning()  # the SDK would warn on every turn's user-token client
    outbound = OutboundPolicy.from_settings(settings)  # bot.outbound: where replies may go
    factory = (PooledClientFactory if pooled else CheckedClientFactory)(
        manager, outbound=outbound, registrations=settings.registrations if not settings.anonymous else None
    )
    adapter = CloudAdapter(connection_manager=manager, channel_service_client_factory=factory)

    async def tell(context: TurnContext, text: str) -> bool:
        """Send one message about the error; False when even that cannot be delivered."""
        try:
            await context.send_activity(text)
        except (ReplyNotDelivered, aiohttp.ClientError) as problem:
            conversation = context.activity.conversation.id
            log.error("could not tell conversation %s about the error: %s", conversation, problem)
            return False
        return True

    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        if isinstance(error, ReplyNotDelivered):
            # The channel does not take our replies: nothing more is sent, and the
            # turn's dialog state is not saved, so the next message carries on
            # from the last question the person did see.
            log.error("%s (attempts: %s)", error, ", ".join(error.result.history))
            return
        if isinstance(error, StaleWrite):
            log.warning("stale state write in conversation %s", context.activity.conversation.id)
            await tell(context, texts.CONFLICT)
            return
        if isinstance(error, SQLAlchemyError):
            log.error("database error during a turn: %s", type(error).__name__)
            await tell(context, texts.TRY_AGAIN_LATER)
            return
        log.exception("unhandled error in a turn", exc_info=error)
        await tell(context, texts.INTERNAL_ERROR)
        try:
            state = PersonalConversationState(storage)
            await state.load(context)
            state.clear(context)  # type: ignore[no-untyped-call]  # the SDK's ConversationState.clear has no annotations
            await state.save(context, force=True)
        except Exception:  # noqa: BLE001 - clearing is best effort; the error is logged above
            log.exception("could not clear the conversation state")

    adapter.on_turn_error = on_turn_error
    return adapter, auth_config
