"""What every dialog needs from a turn: who is speaking, their services, today's
date, and whether the activity is a card submission."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import TurnContext
from sqlalchemy.engine import Engine

from bot import clock
from bot.identity import Identity, identity_of
from bot.services import AlreadySaved, Services
from core.entries import ReallocationEntry
from core.ledger import Ledger
from core.model import Measure
from core.permissions import Action, can_any
from core.rules import years
from dialogs import texts

TODAY_KEY = "kompetensbot.today"
"""Turn-state key of the date the dialogs take as today (tests set it)."""

ACTION_KEY = "action"
"""The key every card submission's data carries: which form it is."""

ONCE_KEY = "once"
"""The key of a form's one-time token: one card saves at most once (bot.services, `once`)."""

T = TypeVar("T")


def today_of(turn_context: TurnContext) -> date:
    """The bot's date: the settings' (bot.clock), as the handler put it in the turn."""
    today = turn_context.turn_state.get(TODAY_KEY)
    return clock.today(today if isinstance(today, date) else None)


def clock_of(turn_context: TurnContext) -> Callable[[], datetime]:
    """The time stamps of the turn's writes: on the bot's date when it is set (bot.clock)."""
    today = turn_context.turn_state.get(TODAY_KEY)
    return clock.clock_for(today if isinstance(today, date) else clock.settings_today())


TURN_CACHE_KEY = "kompetensbot.turn_cache"
"""Turn-state key of the services' cache for one turn (see bot.services.Services.turn)."""


def who(turn_context: TurnContext, engine: Engine) -> tuple[Identity, Services]:
    """Who is speaking, and their services; the city's data and the person's roles
    are read once per turn (a write in the turn reads them again)."""
    identity = identity_of(turn_context)
    cache = turn_context.turn_state.get(TURN_CACHE_KEY)
    if not isinstance(cache, dict):
        cache = turn_context.turn_state[TURN_CACHE_KEY] = {}
    services = identity.services(engine)
    services.turn = cache
    services.clock = clock_of(turn_context)
    return identity, services


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a synchronous (SQL) service call off the event loop; a query the
    turn's services answer from memory runs in place (no thread hop)."""
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, Services) and owner.answers_from_memory(getattr(fn, "__name__", ""), args, kwargs):
        return fn(*args, **kwargs)
    return await asyncio.to_thread(fn, *args, **kwargs)


def default_year(ledger: Ledger, today: date) -> int:
    """The year meant when none is given: the core's one rule (core.rules.years),
    the same as the command line's."""
    return years.default_year(ledger, today)


async def already_saved(turn_context: TurnContext, engine: Engine, done: AlreadySaved) -> str:
    """What to say to a write whose once key was used: what is already saved,
    by name (the generic sentence when the key does not say what, or when it
    names a measure the person may not read: someone else's key tells them nothing,
    tryout 2 item 4)."""
    identity, services = who(turn_context, engine)
    if done.saved is None:
        return done.message
    ledger = await call(services.ledger)
    principal = await call(services.principal, identity.user_id)

    def readable(*measures: Measure | None) -> bool:
        return all(m is not None and can_any(principal, Action.READ, m.units) for m in measures)

    kind, *ids = done.saved
    if kind == "measure" and readable(ledger.measures.get(ids[0])):
        return texts.already_saved_measure(ids[0], ledger.measures[ids[0]].title)
    if kind == "followup" and readable(ledger.measures.get(ids[0])):
        return texts.already_saved_followup(ledger.measures[ids[0]].title, ids[1])
    entry = next((e for e in ledger.entries if kind == "entry" and e.seq == ids[0]), None)
    if isinstance(entry, ReallocationEntry):
        source, target = ledger.measures.get(entry.from_measure), ledger.measures.get(entry.to_measure)
        if source is not None and target is not None and readable(source, target):
            return texts.already_saved_reallocation(entry.amount, source.title, target.title, entry.seq)
    return done.message


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
