"""What every command shares: the Swedish argparse, the common options, how a
command names its handler, who runs it and the services it runs on.

The pattern (cli/commands/*): a module's `register(commands)` adds its parsers
to `commands` and binds each to its handler with `handles(parser, handler)`; a
handler is `handler(args, out) -> exit code`. cli/main.py calls every `register` listed
in `cli.commands.REGISTRY` and then the handler argparse found.
"""

from __future__ import annotations

import argparse
import getpass
import os
from collections.abc import Callable
from datetime import date
from typing import Any, NoReturn, TextIO, TypeAlias, TypeVar

from bot import clock
from bot.services import Services
from cli import texts
from core.dates import parse_date
from core.errors import InputError
from core.model import Principal
from core.money import parse_amount
from core.rules import years
from storage.db import make_engine

EXIT_REFUSED = 2
EXIT_FAILED = 1

Handler = Callable[[argparse.Namespace, TextIO], int]
"""A command: its parsed arguments and standard out in, its exit code out."""

HANDLER = "handler"
"""The attribute of the parsed arguments that holds the command's handler."""


class SwedishParser(argparse.ArgumentParser):
    """argparse that refuses in Swedish, on one line, with exit code 2, and whose help
    is in Swedish (argparse's own words: "usage:", "options:", -h's help)."""

    def __init__(self, *args: Any, add_help: bool = True, **kwargs: Any) -> None:
        kwargs["add_help"] = False  # our own -h below, with a Swedish help text
        super().__init__(*args, **kwargs)
        self._positionals.title = texts.HELP_POSITIONALS
        self._optionals.title = texts.HELP_OPTIONS
        if add_help:
            self.add_argument("-h", "--help", action="help", help=texts.HELP_HELP)

    def format_usage(self) -> str:
        return texts.swedish_usage(super().format_usage())

    def format_help(self) -> str:
        return texts.swedish_usage(super().format_help())

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_REFUSED, texts.bad_command(message))


Commands: TypeAlias = "argparse._SubParsersAction[SwedishParser]"
"""The subcommands of a parser: what a command module's `register` adds to (argparse
names its type with an underscore, and typeshed too)."""


def group(commands: Commands, name: str, dest: str, *, help: str) -> Commands:
    """A command with subcommands (`db upgrade`, `roles grant`, …): its subcommands.
    `dest` names the missing subcommand in argparse's refusal, as it always has."""
    parser = commands.add_parser(name, help=help)
    return parser.add_subparsers(dest=dest, required=True, parser_class=SwedishParser)


def handles(parser: argparse.ArgumentParser, handler: Handler) -> argparse.ArgumentParser:
    """`parser`'s command runs `handler`."""
    parser.set_defaults(**{HANDLER: handler})
    return parser


def handler_of(args: argparse.Namespace) -> Handler:
    handler: Handler = getattr(args, HANDLER)
    return handler


def as_of_date(text: str) -> date:
    """The type of --as-of and --today: a date as people write it, relative to today."""
    try:
        return parse_date(text, clock.today(), field="--as-of")
    except InputError as problem:
        raise argparse.ArgumentTypeError(problem.message) from None


def options(parser: argparse.ArgumentParser, *, as_of: bool = False, user: bool = True) -> None:
    """The options most commands take: --user and, for those that read the ledger, --as-of."""
    if user:
        parser.add_argument("--user", help="vem som utför kommandot (utan: administratör)")
    if as_of:
        parser.add_argument("--as-of", type=as_of_date, default=None, help="dagens datum, t.ex. 2025-06-30")


def today(args: argparse.Namespace) -> date:
    """--as-of, or the settings' date."""
    as_of: date | None = getattr(args, "as_of", None)
    return as_of or clock.today()


def user_of(args: argparse.Namespace) -> str | None:
    """--user; None is the administrator at this terminal."""
    user: str | None = getattr(args, "user", None)
    return user


def operator() -> Principal:
    """The administrator at this terminal: "cli:<os user>", shown as "administratör"."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (a bare container)
        login = str(os.getuid()) if hasattr(os, "getuid") else "okänd"
    return Principal(user=f"cli:{login}", is_admin=True, name="administratör")


S = TypeVar("S", bound=Services)


def services_of(args: argparse.Namespace, kind: Callable[..., S]) -> S:
    """The use cases of `kind` (Services or one of its kinds, such as NeedServices) for
    the command: the city of --org, the operator as administrator, the settings' date."""
    stamp = clock.clock_for(clock.settings_today())  # the settings' date, as the bot's (issue 17 item 6)
    return kind(make_engine(), org=args.org, admin=operator(), clock=stamp)


def services(args: argparse.Namespace) -> Services:
    return services_of(args, Services)


def default_year(services: Services, as_of: date) -> int:
    """The year meant without --year: the core's one rule, the same as the chat's."""
    return years.default_year(services.ledger(), as_of)


def amount(text: str, field: str) -> int:
    return parse_amount(text, field=field)
