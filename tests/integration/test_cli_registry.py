"""The command line's one pattern (cli/commands): every command argparse can reach
runs through a handler its module bound to it, so nothing falls through to a chain
of `if args.command ==`."""

from __future__ import annotations

import argparse

from cli.common import HANDLER
from cli.main import build_parser


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        return [path]
    return [leaf for name, sub in subparsers[0].choices.items() for leaf in _leaves(sub, (*path, name))]


def test_every_command_has_its_handler() -> None:
    parser = build_parser()
    leaves = _leaves(parser)
    # db upgrade … package, the round's seven (issue 20: remind, propose), needs and need's four (issue 21),
    # followup reach, roles map-group | unmap-group | groups | sync, substitute set | list | end (issue 22),
    # health (issue 23: the container's health check)
    assert len(leaves) == 40
    for path in leaves:
        sub = parser
        for name in path:
            action = next(a for a in sub._actions if isinstance(a, argparse._SubParsersAction))
            sub = action.choices[name]
        assert callable(sub.get_default(HANDLER)), path


def test_every_commands_help_is_shown() -> None:
    """`kompetensbot need link --help` died with a traceback (a bare "%" in a help text): every
    command's and subcommand's help is formatted, as `--help` shows it."""
    import argparse

    from cli.main import build_parser

    def parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
        found = [parser]
        for action in parser._actions:  # argparse keeps its subcommands here only
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    found += parsers(child)
        return found

    every = parsers(build_parser())
    assert len(every) > 30
    for parser in every:
        assert parser.format_help().startswith("användning:"), parser.prog
