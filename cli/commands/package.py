"""`kompetensbot package`: write the Teams app package (cli/teams_package.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from cli import texts
from cli.common import Commands, handles


def register(commands: Commands) -> None:
    pk = commands.add_parser("package", help="skriv Teams-appens paket (zip) att ladda upp")
    pk.add_argument("--app-id", required=True, help="appens id (GUID) från Azure-registreringen")
    pk.add_argument("--bot-id", help="botens id (GUID; standard: samma som --app-id)")
    pk.add_argument("--out", type=Path, default=Path("build/kompetensbot.zip"), help="zip-filen att skriva")
    handles(pk, run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from cli.teams_package import unset_settings, write_package

    manifest = write_package(args.out, args.app_id, args.bot_id)
    if unset := unset_settings():
        print(texts.package_unset(unset), file=sys.stderr)
    print(texts.package_written(args.out, manifest["id"], manifest["bots"][0]["botId"]), file=out)
    return 0
