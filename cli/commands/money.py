"""`kompetensbot fund`, `allocate` and `reallocate`: the ledger's money entries, each by a decision."""

from __future__ import annotations

import argparse
from typing import TextIO

from cli import texts
from cli.common import Commands, amount, handles, options, services, user_of
from core.model import parse_decision


def register(commands: Commands) -> None:
    al = commands.add_parser("allocate", help="registrera en överföring från anslaget till en nämnd")
    al.add_argument("--unit", required=True)
    al.add_argument("--year", type=int, required=True)
    al.add_argument("--amount", required=True)
    al.add_argument("--decision", required=True)
    al.add_argument("--recurring", action="store_true", help="fr.o.m. året och framåt")
    options(al)
    handles(al, run_allocate)

    fs = commands.add_parser("fund", help="registrera årets anslag")
    fs.add_argument("--year", type=int, required=True)
    fs.add_argument("--amount", required=True)
    fs.add_argument("--decision", required=True)
    options(fs)
    handles(fs, run_fund)

    re_ = commands.add_parser("reallocate", help="omfördela outnyttjade medel (KSAU-beslut)")
    re_.add_argument("--from", dest="source", required=True, help="insats: id eller titel")
    re_.add_argument("--to", dest="target", required=True)
    re_.add_argument("--amount", required=True)
    re_.add_argument("--decision", required=True, help='t.ex. "KSAU 2025-06-20 § 5"')
    options(re_)
    handles(re_, run_reallocate)


def run_allocate(args: argparse.Namespace, out: TextIO) -> int:
    entry = services(args).allocate(
        user_of(args),
        args.unit,
        args.year,
        amount(args.amount, "--amount"),
        parse_decision(args.decision),
        recurring=args.recurring,
    )
    print(texts.allocation_registered(entry.amount, entry.unit, entry.seq), file=out)
    return 0


def run_fund(args: argparse.Namespace, out: TextIO) -> int:
    services(args).set_fund(
        user_of(args), args.year, amount(args.amount, "--amount"), parse_decision(args.decision)
    )
    print(texts.fund_registered(args.year), file=out)
    return 0


def run_reallocate(args: argparse.Namespace, out: TextIO) -> int:
    entry = services(args).reallocate(
        user_of(args),
        args.source,
        args.target,
        amount(args.amount, "--amount"),
        parse_decision(args.decision),
    )
    print(texts.reallocation_registered(entry.amount, entry.seq, entry.decision.reference), file=out)
    return 0
