"""Whose dialog state a turn reads: one per personal chat, one per person in a
group chat or a team channel. (Who is speaking: dialogs.turn.Identity.)"""

from __future__ import annotations

from typing import Any

from microsoft_agents.hosting.core.app.state.conversation_state import ConversationState


def conversation_state_key(activity: Any) -> str:
    """The key of a conversation's dialog state: the SDK's
    ("<channel>/conversations/<id>") in a personal chat; in a group chat or a
    team channel one per person ("…/users/<their id>"), so that nobody can
    answer another person's dialog there."""
    key = f"{activity.channel_id}/conversations/{activity.conversation.id}"
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
