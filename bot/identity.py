"""Who is speaking in a turn: their city (from the Teams tenant), their user
id (the AAD object id) and whether the server runs in demo mode. The Teams
handler puts it in the turn state; the dialogs read it from there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from bot.services import Services

IDENTITY_KEY = "kompetensbot.identity"


@dataclass(frozen=True, slots=True)
class Identity:
    """
    Attributes:
      org_slug: the city serving the user's tenant.
      org_name: its name, e.g. "Malmö stad".
      user_id: the Teams user's AAD object id (or the channel's user id).
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
