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
from bot.outbound import OutboundPolicy
from bot.round_services import RoundServices
from bot.substitute_notices import Tell, configured_search, proactive_tell
from bot.substitute_services import PeopleSearch, SubstituteServices
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
    notices: Tell | None = field(default=None, repr=False)
    """How a person is told in their 1:1 chat (issue 22: bot.substitute_notices), from this turn's
    adapter; None: nobody can be told from here."""

    def clock(self) -> datetime:
        return self.stamp()

    @property
    def substitutes(self) -> SubstituteServices:
        """The substitutes' use cases (issue 22), with the turn's cache and Graph's user search
        when Graph is configured."""
        city = self.city
        return SubstituteServices(
            city.engine,
            org=city.org,
            demo=city.demo,
            clock=city.clock,
            turn=city.turn,
            search=_search(city.org),
        )

    async def tell(self, user_id: str, text: str) -> str | None:
        if self.notices is None:
            return "boten kan inte skicka meddelanden härifrån"
        return await self.notices(user_id, text)

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


_searches: dict[str | None, PeopleSearch | None] = {}


def _search(city: str | None) -> PeopleSearch | None:
    """Graph's user search as the settings give it, as the city's own registration, made once
    per city and process (None: no Graph)."""
    if city not in _searches:
        from bot.config import Settings

        try:
            _searches[city] = configured_search(Settings.from_env(), city=city)
        except Exception:  # settings that cannot make a Graph token: names are matched without Graph
            _searches[city] = None
    return _searches[city]


def serve_turn(
    turn_context: Any,
    engine: Engine,
    identity: Identity,
    today: date | None = None,
    *,
    app_id: str | None = None,
    outbound: OutboundPolicy | None = None,
) -> BotTurnServices:
    """Put `identity`'s services for this turn in the turn state, where the dialogs
    find them (dialogs.turn.services_of); `app_id` and `outbound`: how this turn's adapter
    reaches a person proactively (issue 22: the absent person told of their substitute)."""
    services = turn_services(engine, identity, today)
    adapter = getattr(turn_context, "adapter", None)
    if adapter is not None:
        services.notices = proactive_tell(services.substitutes, adapter, app_id, outbound)
    set_services(turn_context, services)
    return services
