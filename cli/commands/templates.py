"""`kompetensbot import FILE` and `kompetensbot export`: the template (CSV, XLSX; export also JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from bot.data_services import export_bytes, export_rows, import_template
from cli import texts
from cli.commands.measures import measure_json
from cli.common import Commands, default_year, handles, options, services, today, user_of
from core.errors import DomainError, RuleError


def register(commands: Commands) -> None:
    imp = commands.add_parser("import", help="importera en mall (CSV eller XLSX)")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--year", type=int, help="år för rader utan datum (standard: senaste år med beslutad fond)"
    )
    imp.add_argument(
        "--decision",
        help='beslutet bakom beviljade belopp, t.ex. "FSKN 2025-02-05 § 5"; "nämnd 2025-02-05 § 5": '
        "varje rads egen nämnd",
    )
    options(imp, as_of=True)
    handles(imp, run_import)

    exp = commands.add_parser("export", help="exportera årets insatser som mall")
    exp.add_argument("--year", type=int, required=True)
    exp.add_argument("--format", choices=["csv", "xlsx", "json"], default="csv")
    exp.add_argument("--out", type=Path, help="fil att skriva (standard: standard ut)")
    options(exp, as_of=True)
    handles(exp, run_export)


def run_import(args: argparse.Namespace, out: TextIO) -> int:
    city, as_of = services(args), today(args)
    created = import_template(
        city.engine,
        args.org,
        user_of(args),
        args.file,
        year=args.year or default_year(city, as_of),
        as_of=as_of,
        decision_text=args.decision,
        admin=city.admin,
        clock=city.clock,
    )
    print(texts.imported(len(created), args.file.name), file=out)
    return 0


def run_export(args: argparse.Namespace, out: TextIO) -> int:
    city, user = services(args), user_of(args)
    rows = export_rows(city.engine, args.org, user, args.year)
    if args.format == "json":
        views = city.measures(user, year=args.year, as_of=today(args))
        data = json.dumps([measure_json(v) for v in views], ensure_ascii=False, indent=2).encode()
    else:
        data = export_bytes(rows, args.format)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(data)
        print(texts.rows_written(len(rows), args.out), file=sys.stderr)
    elif args.format == "xlsx":
        raise DomainError(RuleError("needs_out", texts.XLSX_NEEDS_OUT, "--out"))
    else:
        out.buffer.write(data)
    return 0
