"""`kompetensbot import FILE [FILE]` and `kompetensbot export`: the template (CSV, XLSX; export
also JSON). An XLSX template has its needs on the sheet "Behov"; in CSV the needs are a file
of their own (`import mall.csv behov.csv`, `export --needs`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from bot.data_services import export_bytes, export_needs_bytes, export_template, import_files
from cli import texts
from cli.commands.measures import measure_json
from cli.common import Commands, default_year, handles, options, services, today, user_of
from core.errors import DomainError, RuleError


def register(commands: Commands) -> None:
    imp = commands.add_parser("import", help="importera en mall (CSV eller XLSX), med behov")
    imp.add_argument(
        "file",
        type=Path,
        nargs="+",
        help="mallen: en XLSX-fil (behoven på bladet Behov), eller en CSV-fil med insatser och/eller "
        "en med behov (känns igen på rubrikerna)",
    )
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
    exp.add_argument(
        "--needs",
        action="store_true",
        help="skriv behoven som CSV (i stället för insatserna); i XLSX står de på bladet Behov",
    )
    options(exp, as_of=True)
    handles(exp, run_export)


def run_import(args: argparse.Namespace, out: TextIO) -> int:
    city, as_of = services(args), today(args)
    result = import_files(
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
    names = " och ".join(p.name for p in args.file)
    counts = (len(result.needs), len(result.links), len(result.unchanged))
    print(texts.imported(len(result.measures), names, *counts), file=out)
    return 0


def run_export(args: argparse.Namespace, out: TextIO) -> int:
    city, user = services(args), user_of(args)
    if args.needs and args.format != "csv":
        raise DomainError(RuleError("needs_csv_only", texts.NEEDS_CSV_ONLY, "--needs"))
    template = export_template(city.engine, args.org, user, args.year)
    rows = template.rows
    if args.format == "json":
        views = city.measures(user, year=args.year, as_of=today(args))
        data = json.dumps([measure_json(v) for v in views], ensure_ascii=False, indent=2).encode()
    elif args.needs:
        data = export_needs_bytes(template.needs)
    else:
        data = export_bytes(rows, args.format, template.needs)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(data)
        if args.needs:
            print(texts.needs_written(len(template.needs), args.out), file=sys.stderr)
        else:
            print(texts.rows_written(len(rows), args.out), file=sys.stderr)
            if args.format == "xlsx" and template.needs:
                print(texts.needs_sheet_written(len(template.needs)), file=sys.stderr)
            elif args.format == "csv" and template.needs:
                print(texts.needs_in_own_file(len(template.needs)), file=sys.stderr)
    elif args.format == "xlsx":
        raise DomainError(RuleError("needs_out", texts.XLSX_NEEDS_OUT, "--out"))
    else:
        out.buffer.write(data)
    return 0
