"""What a card submission carries: which form it is, its one-time token and
the ids it names. (Who is speaking and the turn's services: dialogs.turn.)"""

from __future__ import annotations

import uuid
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes

ACTION_KEY = "action"
"""The key every card submission's data carries: which form it is."""

ONCE_KEY = "once"
"""The key of a form's one-time token: one card saves at most once (bot.services, `once`)."""


MAX_ID = 2**63 - 1
"""The largest id the database stores (a signed 64-bit integer): a card's id
outside 1..MAX_ID names nothing (tryout 2 item 3: 2**63 crashed the save)."""


def card_number(raw: Any) -> int | None:
    """A whole number a card sent (an int, or ASCII digits as text), unbounded; None otherwise."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit() and len(raw.strip()) <= 40:
        return int(raw.strip())
    return None


def card_id(raw: Any) -> int | None:
    """An id a card sent, if it can name a stored row (1..MAX_ID); None otherwise."""
    number = card_number(raw)
    return number if number is not None and 1 <= number <= MAX_ID else None


def new_once_key() -> str:
    return uuid.uuid4().hex


def once_key(data: dict[str, Any]) -> str | None:
    """A submitted form's one-time token, if it carries a sane one."""
    value = data.get(ONCE_KEY)
    return value if isinstance(value, str) and 16 <= len(value) <= 64 and value.isalnum() else None


def card_submission(activity: Activity) -> dict[str, Any] | None:
    """The data of an Adaptive Card submission (a message with a `value` dict naming its
    action), or None."""
    if activity.type != ActivityTypes.message:
        return None
    value = activity.value
    if isinstance(value, dict) and ACTION_KEY in value:
        return value
    return None
