"""`kompetensbot substitute set | list | end`: substitutes during absence (issue 22), through
bot.substitute_services as the chat sets, lists and ends them. When someone else sets or ends
a person's substitute, the person is told in their chat with the bot (bot.substitute_notices,
through the connector the settings name), or the command says they could not be."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TextIO, TypeVar

from bot.substitute_notices import NOT_OPENED, configured_search, notices_of, proactive_tell
from bot.substitute_services import SubstituteServices, SubstitutionsEnded, SubstitutionSet, SubstitutionView
from cli.common import Commands, group, handles, options, services_of, today, user_of
from core import forms
from core.date_ranges import coming_date, read_days
from core.dates import format_date
from core.errors import DomainError, PermissionDenied, RuleError, RuleViolation
from dialogs.texts import absence_days


def register(commands: Commands) -> None:
    subs = group(commands, "substitute", "substitute_command", help="ersättare under frånvaro")
    st = subs.add_parser("set", help="ange vem som ersätter en person under frånvaro")
    st.add_argument("person", help="den som är borta: namn, e-postadress/UPN eller Entra-objekt-id")
    st.add_argument("--by", required=True, help="ersättaren: namn, e-postadress/UPN eller Entra-objekt-id")
    st.add_argument(
        "--from", dest="first", required=True, help='första dagen, t.ex. "16 juni" eller 2025-06-16'
    )
    st.add_argument("--to", dest="last", required=True, help='sista dagen, t.ex. "11 juli" eller 2025-07-11')
    st.add_argument(
        "--unit", action="append", default=[], help="bara för den här nämnden (kan upprepas; utan: alla)"
    )
    options(st, as_of=True)
    handles(st, run_set)

    ls = subs.add_parser("list", help="ersättare nu och framåt")
    ls.add_argument("--json", action="store_true")
    options(ls, as_of=True)
    handles(ls, run_list)

    end = subs.add_parser("end", help="avsluta en persons frånvaro i förtid")
    end.add_argument("person", help="den som är tillbaka: namn, e-postadress/UPN eller Entra-objekt-id")
    end.add_argument("--from", dest="first", help="från vilken dag ingen ersätter längre (utan: i dag)")
    options(end, as_of=True)
    handles(end, run_end)


def _services(args: argparse.Namespace) -> SubstituteServices:
    services = services_of(args, SubstituteServices)
    services.search = _search(args.org)
    return services


def _search(city: str | None) -> Any:
    """Graph's user search when Graph is configured (KOMPETENSBOT_GRAPH_URL), as the city's
    own registration, else None."""
    from bot.config import Settings

    return configured_search(Settings.from_env(), city=city)


def run_set(args: argparse.Namespace, out: TextIO) -> int:
    as_of = today(args)
    collect = forms.Collect()
    collect(lambda: coming_date(args.first, as_of, field="--from"))  # each refused on its own
    collect(lambda: coming_date(args.last, as_of, field="--to"))
    if collect.errors:
        raise RuleViolation(collect.errors)
    first, last = read_days(args.first, args.last, as_of, fields=("--from", "--to"))
    services = _services(args)
    made = _as_user(
        services,
        args,
        lambda: services.set_substitution(
            user_of(args), args.person, args.by, first, last, args.unit, today=as_of
        ),
    )
    s = made.substitution
    units = f" (bara {', '.join(sorted(s.units))})" if s.units else ""
    said = f"{made.substitute.shown} ersätter {made.absent.shown} {absence_days(s.first, s.last)}{units}."
    print(f"Sparat: {said}" if made.written else f"Redan sparat, inget nytt skrevs: {said}", file=out)
    _tell(services, made, out)
    return 0


def run_list(args: argparse.Namespace, out: TextIO) -> int:
    as_of = today(args)
    views = _services(args).list_substitutions(user_of(args), as_of)
    if args.json:
        print(json.dumps([view_json(v) for v in views], ensure_ascii=False, indent=2), file=out)
        return 0
    if not views:
        print(f"Inga ersättare angivna {format_date(as_of)} eller framåt.", file=out)
        return 0
    for v in views:
        s = v.substitution
        units = f" (bara {', '.join(sorted(s.units))})" if s.units else ""
        now = "nu, " if v.current else ""
        print(
            f"{v.absent.shown}: ersätts av {v.substitute.shown} {now}{absence_days(s.first, s.last)}{units}"
            f" (angivet av {v.by.shown})",
            file=out,
        )
    return 0


def view_json(v: SubstitutionView) -> dict[str, Any]:
    s = v.substitution
    return {
        "absent": {"id": v.absent.user_id, "name": v.absent.name},
        "substitute": {"id": v.substitute.user_id, "name": v.substitute.name},
        "first": s.first.isoformat(),
        "last": s.last.isoformat(),
        "units": sorted(s.units),
        "current": v.current,
        "set_by": {"id": v.by.user_id, "name": v.by.name},
        "seq": s.seq,
    }


def run_end(args: argparse.Namespace, out: TextIO) -> int:
    as_of = today(args)
    on = coming_date(args.first, as_of, field="--from") if args.first else as_of
    services = _services(args)
    ended = _as_user(services, args, lambda: services.end_substitutions(user_of(args), args.person, on))
    names = ", ".join(p.shown for p in ended.substitutes)
    print(
        f"{ended.absent.shown}s frånvaro är avslutad från {format_date(on)} ({names} ersätter inte längre).",
        file=out,
    )
    _tell(services, ended, out)
    return 0


T = TypeVar("T")

ADMINISTRATOR = "Stadskontorets administratör"
"""Who the people told are told set or ended it, when the administrator at a terminal did."""


def _as_user(services: SubstituteServices, args: argparse.Namespace, act: Callable[[], T]) -> T:
    """`act`, a refusal of the --user's rights said by their name (as the bot knows them), never
    starting with a bare id (cli.main names the --user of other commands' refusals)."""
    try:
        return act()
    except PermissionDenied as problem:
        user = user_of(args)
        name = _name_of(services, user) if user else ""
        said = f"{name}: {problem.message}" if name else problem.message
        raise DomainError(RuleError(problem.code, said)) from None


def _name_of(services: SubstituteServices, user: str) -> str:
    """The --user's name as the bot knows them, or "" (never their id)."""
    try:
        person = services.person(None, user)
    except DomainError:
        return ""
    return person.name


def _tell(services: SubstituteServices, result: SubstitutionSet | SubstitutionsEnded, out: TextIO) -> None:
    """Tell the absent person when someone else set or ended it (never for one's own), and the
    substitute when someone else made them one or ended it, through the connector the settings
    name; a person without a chat with the bot is said so."""
    if result.by.user_id.startswith("cli:"):  # the administrator at a terminal (cli.common.operator)
        result = replace(result, by=replace(result.by, name=ADMINISTRATOR))
    for person, notice in notices_of(result):
        why: str | None = NOT_OPENED
        if services.reference_of(person.user_id) is not None:
            from bot.adapter import create_adapter
            from bot.config import Settings

            settings = Settings.from_env()
            adapter, _ = create_adapter(settings, storage=None)
            tell = proactive_tell(services, adapter, settings.client_id)
            why = asyncio.run(tell(person.user_id, notice))
        if why is None:
            print(f"{person.shown} har fått ett meddelande om det i Teams.", file=out)
        else:
            print(f"{person.shown} kunde inte nås i Teams ({why}): berätta det själv.", file=out)
