"""Who is speaking in a turn: their city (from the Teams tenant), their user
id (the AAD object id) and whether the server runs in demo mode. The Teams
handler puts it in the turn state; the dialogs read it from there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microsoft_agents.hosting.core.app.state.conversation_state import ConversationState
from sqlalchemy.engine import Engine

from bot.services import Services

IDENTITY_KEY = "kompetensbot.identity"


@dataclass(frozen=True, slots=True)
class Identity:
    """
    Attributes:
      org_slug: the city serving the user's tenant.
      org_name: its name, e.g. "Malmö stad".
      user_id: the Teams user's AAD (Entra) object id; only in demo mode, when
        an activity has none, the channel's user id (bot.teams_bot).
      name: the display name, for greetings and as author of what they submit.
      demo: demo mode: every user has the stadskontoret role.
      org_id: the city's database id, when known.
    """

    org_slug: str
    org_name: str
    user_id: str
    name: str
    demo: bool = False
    org_id: int | None = None

    def services(self, engine: Engine) -> Services:
        return Services(engine, org=self.org_slug, demo=self.demo)


def identity_of(turn_context: Any) -> Identity:
    """The identity the handler stored for this turn."""
    identity = turn_context.turn_state.get(IDENTITY_KEY)
    if not isinstance(identity, Identity):
        raise LookupError("no identity in the turn state")
    return identity


def set_identity(turn_context: Any, identity: Identity) -> None:
    turn_context.turn_state[IDENTITY_KEY] = identity


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
