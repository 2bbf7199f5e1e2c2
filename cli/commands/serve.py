"""`kompetensbot serve`: start the bot (POST /api/messages, GET /healthz)."""

from __future__ import annotations

import argparse
from typing import TextIO

from cli.common import Commands, as_of_date, handles


def register(commands: Commands) -> None:
    sv = commands.add_parser("serve", help="starta boten (POST /api/messages, GET /healthz)")
    sv.add_argument("--host", help="adress att lyssna på (standard 127.0.0.1)")
    sv.add_argument("--port", type=int, help="port (standard 3978)")
    sv.add_argument(
        "--anonymous",
        action="store_true",
        help="utan inloggningsuppgifter, bara på 127.0.0.1 (lokalt, t.ex. med Agents Playground)",
    )
    sv.add_argument(
        "--demo", action="store_true", help="demoläge (anonymt): alla användare får rollen stadskontoret"
    )
    sv.add_argument(
        "--today", type=as_of_date, default=None, help="botens datum (bara demo och test), t.ex. 2025-06-02"
    )
    handles(sv, run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from bot.app import serve  # the server's imports (the SDK, aiohttp) only for serve
    from bot.config import Settings

    settings = Settings.from_env(
        host=args.host,
        port=args.port,
        demo=args.demo or None,
        today=args.today,
        anonymous=args.anonymous or None,
    )
    serve(settings)
    return 0
