"""The SDK's CloudAdapter, configured from the settings, with an error
handler that logs, tells the user in one Swedish sentence, and clears the
broken conversation state so that a dialog cannot loop on the same error."""

from __future__ import annotations

import logging
from typing import Any

from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    ConnectionManager,
    TurnContext,
)
from microsoft_agents.hosting.core.app.state.conversation_state import ConversationState
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from dialogs import texts
from storage.bot_state import StaleWrite

log = logging.getLogger("kompetensbot.adapter")


def connection_manager(settings: Settings) -> tuple[ConnectionManager, AgentAuthConfiguration]:
    """The SDK connection manager and the configuration the JWT middleware checks.

    Without a client id the bot runs anonymously (local use with Agents
    Playground): the SDK's MSAL manager refuses to start without a
    SERVICE_CONNECTION section, so an anonymous one is built here instead of
    asking the user to set empty variables."""
    if settings.anonymous:
        anonymous = AgentAuthConfiguration(anonymous_allowed=True)
        manager = ConnectionManager(
            provider_factory=lambda _config: AnonymousTokenProvider(),
            connections_configurations={"SERVICE_CONNECTION": anonymous},
        )
        return manager, anonymous
    manager = MsalConnectionManager(**settings.sdk)
    return manager, manager.get_default_connection_configuration()


def create_adapter(settings: Settings, storage: Any) -> tuple[CloudAdapter, AgentAuthConfiguration]:
    manager, auth_config = connection_manager(settings)
    adapter = CloudAdapter(connection_manager=manager)

    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        if isinstance(error, StaleWrite):
            log.warning("stale state write in conversation %s", context.activity.conversation.id)
            await context.send_activity(texts.CONFLICT)
            return
        if isinstance(error, SQLAlchemyError):
            log.error("database error during a turn: %s", type(error).__name__)
            await context.send_activity(texts.TRY_AGAIN_LATER)
            return
        log.exception("unhandled error in a turn", exc_info=error)
        await context.send_activity(texts.INTERNAL_ERROR)
        try:
            state = ConversationState(storage)
            await state.load(context)
            state.clear(context)
            await state.save(context, force=True)
        except Exception:  # noqa: BLE001 - clearing is best effort; the error is logged above
            log.exception("could not clear the conversation state")

    adapter.on_turn_error = on_turn_error
    return adapter, auth_config
