"""`kompetensbot package`: write the Teams app package (cli/teams_package.py); with
registrations per city (bot.registrations), one city's package (`--city`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from cli import texts
from cli.common import Commands, handles
from core.errors import DomainError, RuleError

DEFAULT_OUT = Path("build/kompetensbot.zip")


def register(commands: Commands) -> None:
    pk = commands.add_parser("package", help="skriv Teams-appens paket (zip) att ladda upp")
    pk.add_argument(
        "--app-id", help="appens id (GUID) från Azure-registreringen (med --city: registreringens)"
    )
    pk.add_argument(
        "--bot-id", help="botens id (GUID; standard: samma som --app-id, med --city registreringens)"
    )
    pk.add_argument("--city", help="stadens förkortning: paketet för stadens egen registrering")
    pk.add_argument(
        "--out",
        type=Path,
        help="zip-filen att skriva (standard build/kompetensbot.zip, med --city build/kompetensbot-STAD.zip)",
    )
    handles(pk, run)


def _refuse(code: str, message: str, field: str) -> DomainError:
    return DomainError(RuleError(code, message, field))


def _city_ids(city: str) -> tuple[str, str]:
    """(app id, client id) of the city's own registration, or a Swedish refusal naming the
    cities that have one."""
    from bot.config import Settings
    from bot.registrations import SLUG, RegistrationError, listed

    if not SLUG.match(city):
        raise _refuse(
            "bad_city", f"--city ska vara en stads förkortning som malmo, inte {city[:40]!r}.", "--city"
        )
    try:
        registrations = Settings.from_env().registrations
    except RegistrationError as problem:
        raise _refuse("registrations", problem.message, problem.setting) from None
    found = registrations.for_city(city)
    if found is None:
        where = (
            f"registreringar finns för {listed(registrations.cities)}"
            if registrations.cities
            else "ingen registrering är inställd (CONNECTIONS__<NAMN>__SETTINGS__CLIENTID)"
        )
        raise _refuse("unknown_city", f"Staden {city} har ingen egen registrering: {where}.", "--city")
    return found.teams_app_id or found.app_id, found.app_id


def _several_without_city() -> None:
    """Several registrations and no --city: which city's package is meant is not known."""
    from bot.config import Settings
    from bot.registrations import listed, parse_links

    settings = Settings.from_env()
    if len(settings.connections) <= 1:
        return
    source = settings.registration_settings
    try:
        cities = sorted(
            {c for c, _n in parse_links(source.city_connections)} | {c for c, _n in source.file_links}
        )
    except ValueError:
        cities = []
    example = cities[0] if cities else "malmo"
    raise _refuse(
        "city_needed",
        f"Registreringarna är {len(settings.connections)}, en per stad"
        + (f" ({listed(cities)})" if cities else "")
        + f": ange staden med --city, t.ex. --city {example}, så skrivs paketet för stadens egen "
        "registrering.",
        "--city",
    )


def run(args: argparse.Namespace, out: TextIO) -> int:
    from cli.teams_package import unset_settings, write_package

    client_id: str | None = None
    app_id = args.app_id
    if args.city:
        own_app, client_id = _city_ids(args.city.strip())
        app_id = app_id or own_app
    else:
        _several_without_city()
    if not app_id:
        raise _refuse(
            "app_id_missing",
            "--app-id saknas: ange appens id (ett GUID) från Azure-registreringen, "
            "eller --city STAD för en stads registrering.",
            "--app-id",
        )
    bot_id = args.bot_id if args.bot_id is not None else client_id  # with --city: the city's registration
    target = args.out or (Path(f"build/kompetensbot-{args.city.strip()}.zip") if args.city else DEFAULT_OUT)
    manifest = write_package(target, app_id, bot_id, client_id=client_id)
    if unset := unset_settings():
        print(texts.package_unset(unset), file=sys.stderr)
    print(texts.package_written(target, manifest["id"], manifest["bots"][0]["botId"]), file=out)
    return 0
