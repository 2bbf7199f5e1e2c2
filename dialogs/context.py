"""What every dialog needs from a turn: who is speaking, their services, today's
date, and whether the activity is a card submission."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import TurnContext
from sqlalchemy.engine import Engine

from bot.identity import Identity, identity_of
from bot.services import Services
from core.ledger import Ledger

TODAY_KEY = "kompetensbot.today"
"""Turn-state key of the date the dialogs take as today (tests set it)."""

ACTION_KEY = "action"
"""The key every card submission's data carries: which form it is."""

T = TypeVar("T")


def today_of(turn_context: TurnContext) -> date:
    today = turn_context.turn_state.get(TODAY_KEY)
    return today if isinstance(today, date) else date.today()


def who(turn_context: TurnContext, engine: Engine) -> tuple[Identity, Services]:
    identity = identity_of(turn_context)
    return identity, identity.services(engine)


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a synchronous (SQL) service call off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def default_year(ledger: Ledger, today: date) -> int:
    """This year when it has a fund; else the latest year with a fund before it (a demo
    on last year's data still answers), else this year."""
    if ledger.has_fund(today.year):
        return today.year
    earlier = [y for y in ledger.years if y < today.year and ledger.has_fund(y)]
    return max(earlier) if earlier else today.year


def card_submission(activity: Activity) -> dict[str, Any] | None:
    """The data of an Adaptive Card submission (a message with a `value` dict naming its
    action), or None."""
    if activity.type != ActivityTypes.message:
        return None
    value = activity.value
    if isinstance(value, dict) and ACTION_KEY in value:
        return value
    return None
