"""`kompetensbot health`: does the server answer on /healthz (cli/health.py)?"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from cli.common import EXIT_FAILED, Commands, handles
from cli.health import DEFAULT_TIMEOUT, check, default_url, url_problem
from core.errors import InputError, RuleError


def register(commands: Commands) -> None:
    hc = commands.add_parser(
        "health", help="fråga servern om den mår bra (GET /healthz): slutkod 0 vid svar 200, annars 1"
    )
    hc.add_argument(
        "--url",
        help="adressen till /healthz (standard: http://127.0.0.1:PORT/healthz, med den port "
        "kompetensbot serve får av PORT eller KOMPETENSBOT_PORT)",
    )
    hc.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help=f"sekunder (standard {DEFAULT_TIMEOUT:g})"
    )
    handles(hc, run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    url = args.url or default_url(os.environ)
    problem = url_problem(url)
    if problem:
        raise InputError(RuleError("health_url", problem, "--url"))
    result = check(url, args.timeout)
    if not result.healthy:
        print(result.message, file=sys.stderr)
        return EXIT_FAILED
    print(result.message, file=out)
    return 0
