"""`kompetensbot db upgrade`: create or upgrade the tables, and adopt the seal's key."""

from __future__ import annotations

import argparse
from typing import TextIO

from cli import texts
from cli.common import Commands, group, handles
from storage.db import make_engine
from storage.migrate import upgrade
from storage.seal import adopt_key_in, ledger_key


def register(commands: Commands) -> None:
    db = group(commands, "db", "db_command", help="databasen")
    handles(db.add_parser("upgrade", help="skapa eller uppgradera tabellerna"), run_upgrade)


def run_upgrade(args: argparse.Namespace, out: TextIO) -> int:
    engine = make_engine()
    upgrade(engine)
    print(texts.database_upgraded(engine.url.render_as_string(hide_password=True)), file=out)
    key = ledger_key()
    if not key.development:
        if adopt_key_in(engine, key):
            print(texts.seal_key_adopted(key.fingerprint), file=out)
    else:
        print(texts.DEVELOPMENT_KEY, file=out)
    return 0
