"""`kompetensbot roles grant | revoke | list`: who may do what."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from cli import texts
from cli.common import Commands, group, handles, options, services, user_of
from core.errors import DomainError, RuleError
from core.model import Role


def register(commands: Commands) -> None:
    roles = group(commands, "roles", "roles_command", help="behörigheter")
    for name, handler in (("grant", run_grant), ("revoke", run_revoke)):
        r = roles.add_parser(name)
        r.add_argument("person", help="användarens id (Teams: AAD-objekt-id) eller namn")
        r.add_argument("role", help="chef, hr, stadskontoret eller ksau")
        r.add_argument("--unit", help="nämnd (för chef och hr)")
        options(r)
        handles(r, handler)
    rl = roles.add_parser("list")
    rl.add_argument("--json", action="store_true")
    options(rl)
    handles(rl, run_list)


def run_list(args: argparse.Namespace, out: TextIO) -> int:
    grants = services(args).roles(user_of(args))
    if args.json:
        print(
            json.dumps(
                [{"user": g.user, "role": g.role.value, "unit": g.unit} for g in grants],
                ensure_ascii=False,
                indent=2,
            ),
            file=out,
        )
    else:
        for g in grants:
            print(texts.role_line(g.user, g.role.value, g.unit), file=out)
        if not grants:
            print(texts.NO_ROLES, file=out)
    return 0


def run_grant(args: argparse.Namespace, out: TextIO) -> int:
    city = services(args)
    role = Role.parse(args.role)
    new = city.grant_role(user_of(args), args.person, role, args.unit)
    print(texts.role_granted(args.person, role.value, args.unit, new=new), file=out)
    return 0


def run_revoke(args: argparse.Namespace, out: TextIO) -> int:
    city = services(args)
    role = Role.parse(args.role)
    n = city.revoke_role(user_of(args), args.person, role, args.unit)
    if n == 0:
        raise DomainError(RuleError("no_such_grant", texts.no_such_grant(args.person, role.value)))
    print(texts.role_revoked(args.person, role.value), file=out)
    return 0
