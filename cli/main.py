"""The command line: `kompetensbot`.

Every command prints Swedish. A refused command exits with 2 and says why on
stderr in one line; nothing is written. Without --user the command runs as
the administrator.

The parser is built from the `register` functions listed in cli.commands.REGISTRY (an
explicit list, in --help's order; the round's commands are registered by
cli/commands/followup.py under `followup`); the command argparse finds runs through
the handler its module bound to it (cli/common.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError, ProgrammingError

from cli import texts
from cli.commands import REGISTRY
from cli.common import EXIT_FAILED, EXIT_REFUSED, SwedishParser, handler_of
from core.errors import DomainError, PermissionDenied
from core.template import TemplateError

log = logging.getLogger("kompetensbot")


def build_parser() -> argparse.ArgumentParser:
    p = SwedishParser(prog=texts.PROGRAM, description=texts.DESCRIPTION)
    p.add_argument("--org", help="stadens kortnamn (behövs bara när databasen har flera städer)")
    commands = p.add_subparsers(dest="command", required=True, parser_class=SwedishParser)
    for register in REGISTRY:
        register(commands)
    return p


def run(args: argparse.Namespace) -> int:
    return handler_of(args)(args, sys.stdout)


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """The process's logging, set once: lines with a UTC timestamp, the root
    logger at KOMPETENSBOT_LOG (WARNING by default; `serve` keeps its own
    loggers at INFO, see bot.app.serve)."""
    handler = logging.StreamHandler()
    formatter = logging.Formatter(LOG_FORMAT, "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logging.basicConfig(level=os.environ.get("KOMPETENSBOT_LOG", "WARNING").upper(), handlers=[handler])


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except BrokenPipeError:  # the reader went away (| head): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except TemplateError as problem:
        print(texts.template_refused(len(problem.row_errors)), file=sys.stderr)
        for e in problem.row_errors:
            print(texts.template_row_error(e), file=sys.stderr)
        return EXIT_REFUSED
    except PermissionDenied as problem:  # the command line acts as --user: name who was refused
        print(texts.refused(problem.message, getattr(args, "user", None)), file=sys.stderr)
        return EXIT_REFUSED
    except DomainError as problem:
        print(texts.refused(problem.message), file=sys.stderr)
        return EXIT_REFUSED
    except (OperationalError, ProgrammingError) as problem:
        text = str(problem.orig if hasattr(problem, "orig") else problem).lower()
        if "no such table" in text or "does not exist" in text and "relation" in text:
            print(texts.NO_TABLES, file=sys.stderr)
        elif "no such column" in text or "column" in text and "does not exist" in text:
            print(texts.OLD_SCHEMA, file=sys.stderr)  # a database from before the last upgrade
        else:
            log.debug("database error", exc_info=True)
            print(texts.DATABASE_DOWN, file=sys.stderr)
        return EXIT_FAILED
    except Exception:
        # No traceback reaches the person at the terminal; KOMPETENSBOT_LOG=DEBUG shows it.
        log.debug("internal error", exc_info=True)
        print(texts.INTERNAL_ERROR, file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
