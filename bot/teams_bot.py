"""The Teams activity handler: who is speaking, a welcome, the conversation
references for proactive messages, at-most-once handling of retried
activities, and the main dialog for everything typed or submitted."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from microsoft_agents.activity import ActivityTypes, ChannelAccount
from microsoft_agents.hosting.core import ActivityHandler, Storage, TurnContext
from microsoft_agents.hosting.core.app.state.conversation_state import ConversationState
from microsoft_agents.hosting.core.state.user_state import UserState
from microsoft_agents.hosting.dialogs import Dialog, DialogExtensions
from sqlalchemy.engine import Engine

from bot.identity import Identity, identity_of, set_identity
from dialogs import MainDialog, texts
from storage.bot_state import claim_activity, org_for_tenant, save_conversation_reference

log = logging.getLogger("kompetensbot.bot")

CONVERSATION_STATE = "kompetensbot.conversation_state"
USER_STATE = "kompetensbot.user_state"


def tenant_of(activity: Any) -> str | None:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") or {}
    if isinstance(tenant, dict) and tenant.get("id"):
        return str(tenant["id"])
    conversation = activity.conversation
    return getattr(conversation, "tenant_id", None) if conversation else None


async def _drop_state_traces(_context: TurnContext, activities: list[Any], next_send: Any) -> Any:
    """The dialogs send a "BotState" trace with the raw dialog state every
    turn; it is never for a user, and on the emulator channel it cannot even
    be serialised. Drop it before it is sent."""
    activities[:] = [a for a in activities if not (a.type == ActivityTypes.trace and a.name == "BotState")]
    return await next_send() if activities else []


class KompetensBot(ActivityHandler):
    """One instance serves every turn: nothing per turn is kept on `self`
    (the SDK's AgentState caches on its instance, so states are made per turn)."""

    def __init__(self, engine: Engine, storage: Storage, *, demo: bool = False, dialog: Dialog | None = None):
        self.engine = engine
        self.storage = storage
        self.demo = demo
        self.dialog = dialog or MainDialog(engine)

    async def on_turn(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        activity = turn_context.activity
        turn_context.on_send_activities(_drop_state_traces)
        if activity.type in (ActivityTypes.message, ActivityTypes.invoke) and activity.id:
            first = await asyncio.to_thread(
                claim_activity, self.engine, activity.conversation.id, activity.id
            )
            if not first:
                log.info("activity %s answered already: ignored", activity.id)
                return
        identity = await self._identify(turn_context)
        if identity is None:
            return
        set_identity(turn_context, identity)
        await self._remember_reference(turn_context, identity)
        conversation_state = ConversationState(self.storage)
        user_state = UserState(self.storage)
        turn_context.turn_state[CONVERSATION_STATE] = conversation_state
        turn_context.turn_state[USER_STATE] = user_state
        await super().on_turn(turn_context)
        await conversation_state.save(turn_context)
        await user_state.save(turn_context)

    async def _identify(self, turn_context: TurnContext) -> Identity | None:
        activity = turn_context.activity
        org = await asyncio.to_thread(org_for_tenant, self.engine, tenant_of(activity))
        sender = activity.from_property or ChannelAccount(id="")
        if org is None:
            if activity.type == ActivityTypes.message:
                await turn_context.send_activity(texts.TENANT_NOT_LINKED)
            return None
        return Identity(
            org_slug=org.slug,
            org_name=org.name,
            user_id=sender.aad_object_id or sender.id or "",
            name=sender.name or "",
            demo=self.demo,
            org_id=org.id,
        )

    async def _remember_reference(self, turn_context: TurnContext, identity: Identity) -> None:
        activity = turn_context.activity
        if activity.type not in (
            ActivityTypes.message,
            ActivityTypes.conversation_update,
            ActivityTypes.installation_update,
            ActivityTypes.invoke,
        ):
            return
        conversation = activity.conversation
        kind = getattr(conversation, "conversation_type", None) or "personal"
        reference = activity.get_conversation_reference().model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        await asyncio.to_thread(
            save_conversation_reference,
            self.engine,
            org_id=identity.org_id,
            tenant_id=tenant_of(activity) or "",
            user_id=identity.user_id if kind == "personal" else "",
            conversation_id=conversation.id,
            conversation_type=kind,
            reference=reference,
        )

    async def on_members_added_activity(  # type: ignore[override]
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        identity = identity_of(turn_context)
        if any(m.id for m in members_added):
            await turn_context.send_activity(texts.welcome(identity.name, identity.demo))

    async def on_message_activity(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        identity = identity_of(turn_context)
        if not identity.demo:
            principal = await asyncio.to_thread(identity.services(self.engine).principal, identity.user_id)
            if not principal.grants:
                await turn_context.send_activity(texts.no_access(identity.name))
                return
        conversation_state: ConversationState = turn_context.turn_state[CONVERSATION_STATE]
        await DialogExtensions.run_dialog(
            self.dialog, turn_context, conversation_state.create_property("DialogState")
        )
