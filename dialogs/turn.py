"""What every dialog needs from a turn: who is speaking, the services the bot
put in the turn for them (dialogs.ports.TurnServices), today's date, and how
to run a service call without blocking the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar, cast

from core.entries import ReallocationEntry
from core.errors import AlreadySaved, DomainError
from core.in_memory import IN_PLACE, NotInMemory
from core.model import Measure, Principal
from core.permissions import Action, can_any
from dialogs import texts
from dialogs.ports import (
    CityQueries,
    CityServices,
    InMemory,
    NeedsPort,
    NeedsTurnServices,
    RoundServicesPort,
    TurnServices,
)

T = TypeVar("T")

IDENTITY_KEY = "kompetensbot.identity"
"""Turn-state key of who is speaking (`Identity`)."""

SERVICES_KEY = "kompetensbot.services"
"""Turn-state key of the turn's services (dialogs.ports.TurnServices)."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is speaking in a turn: their city (from the Teams tenant), their user
    id and whether the server runs in demo mode. The Teams handler puts it in
    the turn state; the dialogs read it from there.

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


def identity_of(turn_context: Any) -> Identity:
    """The identity the handler stored for this turn."""
    identity = turn_context.turn_state.get(IDENTITY_KEY)
    if not isinstance(identity, Identity):
        raise LookupError("no identity in the turn state")
    return identity


def viewer_of(turn_context: Any) -> str | None:
    """The speaker's Teams id as a card's `refresh.userIds` names them (the activity's from.id,
    "29:…"); None when the activity has none. Never who acts: that is `identity_of`."""
    sender = getattr(turn_context.activity, "from_property", None)
    found = getattr(sender, "id", None)
    return found if isinstance(found, str) and found else None


def set_identity(turn_context: Any, identity: Identity) -> None:
    turn_context.turn_state[IDENTITY_KEY] = identity


def services_of(turn_context: Any) -> TurnServices:
    """The services the bot put in this turn (bot.turn_services)."""
    services = turn_context.turn_state.get(SERVICES_KEY)
    if services is None:
        raise LookupError("no services in the turn state")
    found: TurnServices = services
    return found


def set_services(turn_context: Any, services: TurnServices) -> None:
    turn_context.turn_state[SERVICES_KEY] = services


def today_of(turn_context: Any) -> date:
    """The bot's date: the settings' (bot.clock), as the handler put it in the turn."""
    return services_of(turn_context).today


def who(turn_context: Any) -> tuple[Identity, CityServices]:
    """Who is speaking, and their city's services; the city's data and the person's
    roles are read once per turn (a write in the turn reads them again)."""
    return identity_of(turn_context), services_of(turn_context).city


def needs_of(turn_context: Any) -> NeedsPort:
    """The needs' use cases of the speaker's city (issue 21: bot.turn_services.BotTurnServices.needs)."""
    return cast(NeedsTurnServices, services_of(turn_context)).needs


def rounds_of(turn_context: Any) -> RoundServicesPort:
    """The rounds' services of the speaker's city."""
    return services_of(turn_context).rounds


def queries(services: CityServices, user: str | None = None, as_of: date | None = None) -> CityQueries:
    """Who answers `user`'s questions about the city as known on `as_of` (None:
    questions about the city alone, as summary_ledger and derived): the view of
    what the turn has already read (its methods run in place, see `call`) when
    it can answer them, else the services themselves (read on a worker thread)."""
    return services.in_memory(user, as_of) or services


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a synchronous (SQL) service call off the event loop; a method of an
    in-memory object (dialogs.ports.InMemory) runs in place (no thread hop),
    marked as such (core.in_memory.IN_PLACE: the storage refuses it a database
    connection). When it cannot answer from memory (a view asked about another
    person or day than it holds: core.in_memory.NotInMemory), what answers from
    the database runs on a worker thread instead."""
    if not isinstance(getattr(fn, "__self__", None), InMemory):
        return await asyncio.to_thread(fn, *args, **kwargs)
    token = IN_PLACE.set(fn.__qualname__)
    try:
        return fn(*args, **kwargs)
    except NotInMemory as refused:
        instead: Callable[..., T] = refused.instead
    finally:
        IN_PLACE.reset(token)
    return await asyncio.to_thread(instead, *args, **kwargs)


async def principal_of(turn_context: Any) -> Principal:
    """The speaker's roles, as the permission rules (core.permissions) read them."""
    identity, services = who(turn_context)
    return await call(queries(services, identity.user_id).principal, identity.user_id)


def own_units(principal: Principal) -> list[str]:
    """The units a person's roles name (chef, hr): "vi", "vår", "mina" mean these."""
    return sorted({g.unit for g in principal.grants if g.unit})


async def my_units(turn_context: Any) -> list[str] | None:
    """The speaker's own units (`own_units`); None when their roles cannot be read: the
    refusal is said, and the caller says nothing more."""
    try:
        principal = await principal_of(turn_context)
    except DomainError as refused:
        await turn_context.send_activity(texts.refused(refused.message))
        return None
    return own_units(principal)


async def already_saved(turn_context: Any, done: AlreadySaved) -> str:
    """What to say to a write whose once key was used: what is already saved,
    by name (the generic sentence when the key does not say what, or when it
    names a measure the person may not read: someone else's key tells them nothing,
    tryout 2 item 4)."""
    _, services = who(turn_context)
    if done.saved is None:
        return done.message
    ledger = await call(services.ledger)
    principal = await principal_of(turn_context)

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
