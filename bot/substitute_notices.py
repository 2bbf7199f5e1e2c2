"""Telling the absent person (issue 22): when someone else sets or ends their substitute, a
message in their 1:1 chat with the bot, sent proactively through their stored conversation
reference (bot.proactive.Sender, as the round's and KSAU's cards reach people). A person who
never opened the bot cannot be told: the one who set it is told so, with the reason.

And Microsoft Graph's user search for naming substitutes (bot.substitute_services.PeopleSearch),
when Graph is configured (`KOMPETENSBOT_GRAPH_URL` set): `GET /users?$search="displayName:…"`
with `ConsistencyLevel: eventual` (application permission User.Read.All).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from bot.graph import GRAPH_URL_ENV, GraphClient, TokenSource
from bot.outbound import OutboundPolicy
from bot.proactive import Sender
from bot.substitute_services import (
    ADDRESS,
    PeopleSearch,
    SubstituteServices,
    SubstitutionsEnded,
    SubstitutionSet,
)
from dialogs import texts
from storage.people import Person

log = logging.getLogger("kompetensbot.substitutes")

NOT_OPENED = "hen har inte öppnat någon chatt med kompetensbot ännu"
NOT_SENT = "meddelandet kom inte fram"

Tell = Callable[[str, str], Coroutine[Any, Any, str | None]]
"""Send `text` to the person of user id `user_id`: None when sent, else why not (Swedish)."""


def notice_of(result: SubstitutionSet | SubstitutionsEnded) -> str:
    """What the absent person is told."""
    if isinstance(result, SubstitutionSet):
        s = result.substitution
        return texts.substitute_notice_set(
            result.by.shown,
            result.substitute.shown,
            s.first,
            s.last,
            s.units,
            result.committees,
            result.kept_roles,
        )
    return texts.substitute_notice_ended(result.by.shown, result.on)


def notices_of(result: SubstitutionSet | SubstitutionsEnded) -> list[tuple[Person, str]]:
    """Who is told what: the absent person when someone else set or ended it; the substitute
    when made one, or no longer one, by someone else (issue 22)."""
    told: list[tuple[Person, str]] = []
    if result.tell:
        told.append((result.absent, notice_of(result)))
    by_absent = result.by.user_id == result.absent.user_id
    absent = None if by_absent else result.absent.shown
    if isinstance(result, SubstitutionSet):
        s = result.substitution
        if result.tell_substitute:
            notice = texts.substitute_notice_appointed(
                result.by.shown, absent, s.first, s.last, s.units, result.committees
            )
            told.append((result.substitute, notice))
    else:
        for sub in result.told_substitutes:
            told.append((sub, texts.substitute_notice_removed(result.by.shown, absent, result.on)))
    return told


def proactive_tell(
    services: SubstituteServices,
    adapter: Any,
    app_id: str | None,
    outbound: OutboundPolicy | None = None,
    *,
    attempts: int = 2,
) -> Tell:
    """Tell a person through their stored 1:1 conversation (bot.proactive.Sender on `adapter`)."""

    async def tell(user_id: str, text: str) -> str | None:
        reference = await asyncio.to_thread(services.reference_of, user_id)
        if reference is None:
            return NOT_OPENED
        sender = Sender(adapter, app_id, outbound=outbound)
        sent = await sender.send(reference, text, attempts=attempts)
        if not sent.ok:
            log.warning("substitute notice to %s not sent: %s", user_id, sent.reason)
            return NOT_SENT
        return None

    return tell


async def tell_absent(result: SubstitutionSet | SubstitutionsEnded, tell: Tell | None) -> str | None:
    """Tell the absent person when someone else set or ended their substitute: what the one
    who did it is told about that (None when there was nothing to tell)."""
    if not result.tell:
        return None
    absent = result.absent
    if tell is None:
        return texts.absent_not_told(absent.shown, "boten kan inte skicka meddelanden härifrån")
    why = await tell(absent.user_id, notice_of(result))
    return texts.absent_told(absent.shown) if why is None else texts.absent_not_told(absent.shown, why)


# --- Microsoft Graph's user search -----------------------------------------------------------


def graph_configured(env: Mapping[str, str] | None = None) -> bool:
    """Graph is asked for people only when its address is set (KOMPETENSBOT_GRAPH_URL)."""
    return bool((env if env is not None else os.environ).get(GRAPH_URL_ENV, "").strip())


def person_of(user: Mapping[str, Any]) -> Person | None:
    user_id = user.get("id")
    if not isinstance(user_id, str) or not user_id:
        return None
    return Person(
        user_id.lower(),
        str(user.get("displayName") or ""),
        str(user.get("userPrincipalName") or "").casefold(),
        str(user.get("mail") or "").casefold(),
    )


async def search_users(client: GraphClient, text: str, *, top: int = 10) -> list[Person]:
    """Graph's people matching `text`: by address (UPN or e-mail) or by the start of a display
    name. Nothing when Graph does not answer (the caller refuses the name as unknown)."""
    quoted = text.replace('"', "")
    if ADDRESS.fullmatch(text):
        query = f'"userPrincipalName:{quoted}" OR "mail:{quoted}"'
    else:
        query = f'"displayName:{quoted}"'
    answer = await client.request(
        "GET",
        "/users",
        params={"$search": query, "$select": "id,displayName,userPrincipalName,mail", "$top": str(top)},
        headers={"ConsistencyLevel": "eventual"},
    )
    if not answer.ok:
        log.warning("graph user search answered %s %s", answer.status, answer.error_code or answer.reason)
        return []
    found = [person_of(u) for u in answer.body.get("value", []) if isinstance(u, Mapping)]
    return [p for p in found if p is not None]


def graph_search(token: TokenSource, base_url: str) -> PeopleSearch:
    """A synchronous search for the services (which run on a worker thread or in the command
    line): one Graph client per search, on its own event loop."""

    def search(text: str) -> Sequence[Person]:
        async def run() -> list[Person]:
            client = GraphClient(token, base_url=base_url, attempts=2, timeout=10.0)
            try:
                return await search_users(client, text)
            finally:
                await client.close()

        return asyncio.run(run())

    return search


def configured_search(
    settings: Any, env: Mapping[str, str] | None = None, city: str | None = None
) -> PeopleSearch | None:
    """Graph's user search as the settings give it (the token of `city`'s own registration,
    bot.registrations; the single registration's for every city), or None when Graph is not
    configured or the city has no registration of its own."""
    values = env if env is not None else os.environ
    if not graph_configured(values):
        return None
    from bot.adapter import connection_manager
    from bot.graph import GraphClients, token_of

    manager, _ = connection_manager(settings)
    name = GraphClients.from_settings(settings, manager).registration_of(city)
    if name is None:
        return None
    return graph_search(token_of(manager.get_connection(name)), values[GRAPH_URL_ENV].strip())
