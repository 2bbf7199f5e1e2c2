"""The services the bot hands the dialogs for one turn (dialogs.ports.TurnServices):
the speaker's city's services sharing one cache for the turn, its rounds, the
bot's date and clock (bot.clock), and its file offers (bot.file_offers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot import clock as bot_clock
from bot.file_offers import FileOffers
from bot.needs_services import NeedServices
from bot.round_services import RoundServices
from dialogs.turn import Identity, set_services


@dataclass
class BotTurnServices:
    """One turn's services (dialogs.ports.TurnServices). `city` keeps the turn's
    cache (Services.turn): the city's data and the person's roles are read once
    per turn, and any write through it empties the cache. `rounds` reads afresh."""

    city: NeedServices
    """The city's services, with the needs' use cases (bot.needs_services, issue 21)."""
    rounds: RoundServices
    today: date
    stamp: Callable[[], datetime] = field(repr=False)
    files: FileOffers = field(repr=False)

    def clock(self) -> datetime:
        return self.stamp()

    @property
    def needs(self) -> NeedServices:
        """The needs' use cases (issue 21): the city's services themselves, so one cache serves the turn."""
        return self.city


def turn_services(engine: Engine, identity: Identity, today: date | None = None) -> BotTurnServices:
    """The services for `identity`'s turn; `today`: the bot's date (`serve --today`),
    else the settings' (KOMPETENSBOT_TODAY), else the real date."""
    stamp = bot_clock.clock_for(today if today is not None else bot_clock.settings_today())
    cache: dict[Any, Any] = {}
    city = NeedServices(engine, org=identity.org_slug, demo=identity.demo, clock=stamp, turn=cache)
    rounds = RoundServices(engine, org=identity.org_slug, demo=identity.demo, clock=stamp)
    return BotTurnServices(city, rounds, bot_clock.today(today), stamp, FileOffers(engine, city, rounds))


def serve_turn(
    turn_context: Any, engine: Engine, identity: Identity, today: date | None = None
) -> BotTurnServices:
    """Put `identity`'s services for this turn in the turn state, where the dialogs
    find them (dialogs.turn.services_of)."""
    services = turn_services(engine, identity, today)
    set_services(turn_context, services)
    return services
