"""Whose dialog state a turn reads: one per personal chat, one per person in a
group chat or a team channel, each inside its Teams tenant. (Who is speaking:
dialogs.turn.Identity.)

The tenant is part of every state key (issue 23): with one registration per city,
a valid token of city B's bot on an activity from B's tenant naming a conversation
of city A (its id, or a person's id as from.id) would otherwise read and answer
A's dialog in progress; the token's registration is checked against the tenant
(bot.app), so the tenant in the key keeps each city's states apart."""

from __future__ import annotations

from typing import Any

from microsoft_agents.hosting.core.app.state.conversation_state import ConversationState
from microsoft_agents.hosting.core.state.user_state import UserState


def tenants_named(activity: Any) -> tuple[str, str]:
    """The tenant ids an activity names: channelData.tenant.id and conversation.tenantId
    ("" where it names none)."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") or {}
    in_data = str(tenant.get("id") or "") if isinstance(tenant, dict) else ""
    conversation = activity.conversation
    return in_data, str((getattr(conversation, "tenant_id", None) if conversation else None) or "")


def tenant_of(activity: Any) -> str | None:
    """The activity's Teams tenant: channelData.tenant.id, else conversation.tenantId."""
    in_data, in_conversation = tenants_named(activity)
    return in_data or in_conversation or None


def _scope(activity: Any) -> str:
    """ "<channel>/tenants/<tenant>" ("<channel>" when the activity names no tenant)."""
    tenant = tenant_of(activity)
    return f"{activity.channel_id}/tenants/{tenant}" if tenant else str(activity.channel_id)


def conversation_state_key(activity: Any) -> str:
    """The key of a conversation's dialog state: "<channel>/tenants/<tenant>/
    conversations/<id>" in a personal chat; in a group chat or a team channel one
    per person ("…/users/<their id>"), so that nobody can answer another person's
    dialog there."""
    key = f"{_scope(activity)}/conversations/{activity.conversation.id}"
    kind = getattr(activity.conversation, "conversation_type", None) or "personal"
    if kind == "personal":
        return key
    sender = activity.from_property
    person = (sender.aad_object_id or sender.id) if sender else ""
    if not person:
        raise ValueError("Invalid activity: a group conversation's message without a sender")
    return f"{key}/users/{person}"


class PersonalConversationState(ConversationState):
    """ConversationState keyed by `conversation_state_key`: per person outside personal chats."""

    def get_storage_key(self, turn_context: Any, *, target_cls: Any = None) -> str:
        super().get_storage_key(turn_context)  # the SDK's checks: a channel and a conversation id
        return conversation_state_key(turn_context.activity)


class TenantUserState(UserState):
    """UserState keyed "<channel>/tenants/<tenant>/users/<from.id>" (the SDK's without
    the tenant): a person's state is read only in their own tenant."""

    def get_storage_key(self, turn_context: Any, *, target_cls: Any = None) -> str:
        super().get_storage_key(turn_context)  # the SDK's checks: a channel and a sender id
        activity = turn_context.activity
        return f"{_scope(activity)}/users/{activity.from_property.id}"
