"""`kompetensbot load-example NAME`: load one of the examples (malmo-2025, hagersten-liljeholmen)."""

from __future__ import annotations

import argparse
from typing import TextIO

from bot.data_services import load_example
from cli import texts
from cli.common import Commands, handles
from storage.db import make_engine
from storage.examples import available


def register(commands: Commands) -> None:
    ex = commands.add_parser("load-example", help="läs in ett exempel, t.ex. malmo-2025")
    ex.add_argument("name", help=f"exemplets namn: {', '.join(available())}")
    handles(ex, run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    result = load_example(make_engine(), args.name)
    if result.loaded:
        print(texts.example_loaded(args.name, result), file=out)
    elif result.outdated:
        print(texts.outdated_example_text(args.name, result), file=out)
    elif result.missing_needs:
        print(texts.example_without_needs(args.name, result), file=out)
    else:
        print(texts.example_present(args.name, result.organisation), file=out)
    return 0
