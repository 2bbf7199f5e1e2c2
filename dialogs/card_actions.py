"""Universal Actions: a card's `Action.Execute` arrives as an invoke activity
named "adaptiveCard/action", with {"action": {"type": "Action.Execute",
"verb": V, "data": {...}}, "trigger": "manual" | "automatic"} as its value
("automatic": the card's `refresh` as the card is opened). The answer goes back
in the HTTP response (the invoke response's body), not as a message: a card
that replaces the one on screen, or a short message Teams shows under it.

Each verb has one handler; a handler answers with `card_response`,
`message_response` or `error_response`. What a card sends is checked again
here and by the services: a verb not known, a value of the wrong shape or data
that is not an object is refused with a Swedish message, and nothing is done.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from microsoft_agents.hosting.core import TurnContext

from dialogs import texts

log = logging.getLogger("kompetensbot.cards")

INVOKE_NAME = "adaptiveCard/action"
CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
ERROR_RESPONSE = "application/vnd.microsoft.error"

InvokeBody = dict[str, Any]
CardAction = Callable[[TurnContext, dict[str, Any], bool], Awaitable[InvokeBody]]
"""A verb's handler: the turn, the action's data, and whether the card asked by itself
(its `refresh` as it was opened) rather than a person pressing a button."""


def card_response(content: dict[str, Any]) -> InvokeBody:
    """The card that replaces the one on screen (for the person who acted only)."""
    return {"statusCode": int(HTTPStatus.OK), "type": CARD_RESPONSE, "value": content}


def message_response(text: str) -> InvokeBody:
    """A short message Teams shows with the card, which stays as it was: plain text (Teams
    does not render Markdown there), so the chat's Markdown is undone: "**x**" is "x", and
    an escaped character ("250\\.000", texts.plain) is the character."""
    plain = _ESCAPED.sub(r"\1", _BOLD.sub(r"\1", text))
    return {"statusCode": int(HTTPStatus.OK), "type": MESSAGE_RESPONSE, "value": plain}


_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_ESCAPED = re.compile(r"\\([^\w\s])")


def error_response(message: str, code: str = "BadRequest", status: int = 400) -> InvokeBody:
    return {"statusCode": status, "type": ERROR_RESPONSE, "value": {"code": code, "message": message}}


_ACTIONS: dict[str, CardAction] = {}

VERB_MODULES = ("dialogs.overview", "dialogs.round_turns", "dialogs.proposal_cards")
"""The modules that register card verbs: imported at the first invoke (not with the package:
the command line imports dialogs.ports and should not load the SDK with it)."""


def register(verb: str, handler: CardAction) -> None:
    """Give `verb` its handler (each card module registers its own verbs when imported)."""
    _ACTIONS[verb] = handler


def _load() -> None:
    for module in VERB_MODULES:
        importlib.import_module(module)


def verbs() -> frozenset[str]:
    _load()
    return frozenset(_ACTIONS)


def _parts(value: Any) -> tuple[str, dict[str, Any], bool] | None:
    if not isinstance(value, dict):
        return None
    action = value.get("action")
    if not isinstance(action, dict) or action.get("type") != "Action.Execute":
        return None
    verb = action.get("verb")
    data = action.get("data", {})
    if not isinstance(verb, str) or not isinstance(data, dict):
        return None
    return verb, data, value.get("trigger") == "automatic"


async def handle_card_action(turn_context: TurnContext) -> InvokeBody:
    """The invoke response body for an "adaptiveCard/action" invoke."""
    parts = _parts(turn_context.activity.value)
    if parts is None:
        log.info("card action of the wrong shape: refused")
        return message_response(texts.CARD_ACTION_MALFORMED)
    verb, data, automatic = parts
    _load()
    handler = _ACTIONS.get(verb)
    if handler is None:
        log.info("card action %r not known: refused", verb[:40])
        return message_response(texts.CARD_ACTION_UNKNOWN)
    return await handler(turn_context, data, automatic)
