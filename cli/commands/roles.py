"""`kompetensbot roles grant | revoke | list`: who may do what; `roles map-group |
unmap-group | groups | sync`: roles from Entra groups (issue 22, bot.group_sync)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import TextIO

from bot.group_sync import (
    GRAPH_NOT_CONFIGURED,
    GroupServices,
    SyncReport,
    graph_clients,
    graph_configured,
    sync_groups,
)
from cli import group_texts, texts
from cli.common import EXIT_FAILED, Commands, group, handles, options, services, services_of, user_of
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
    register_groups(roles)


def register_groups(roles: Commands) -> None:
    """The group commands (issue 22)."""
    mg = roles.add_parser("map-group", help="ge medlemmarna i en Entra-grupp en roll")
    mg.add_argument("group", metavar="grupp-id", help="gruppens objekt-id i Entra ID (ett GUID)")
    mg.add_argument("role", help="chef, hr, stadskontoret eller ksau")
    mg.add_argument("--unit", help="nämnd (för chef och hr)")
    mg.add_argument("--name", default="", help='gruppens namn som det visas, t.ex. "HR Förskola"')
    options(mg)
    handles(mg, run_map_group)
    ug = roles.add_parser("unmap-group", help="ta bort en grupps koppling till en roll")
    ug.add_argument("group", metavar="grupp-id", help="gruppens objekt-id i Entra ID (ett GUID)")
    ug.add_argument("role", help="chef, hr, stadskontoret eller ksau")
    ug.add_argument("--unit", help="nämnd (för chef och hr)")
    options(ug)
    handles(ug, run_unmap_group)
    gs = roles.add_parser("groups", help="grupperna som ger roller, med senaste synk och fel")
    gs.add_argument("--json", action="store_true")
    options(gs)
    handles(gs, run_groups)
    sy = roles.add_parser("sync", help="läs grupperna i Microsoft Graph nu och ge eller ta bort roller")
    sy.add_argument("--json", action="store_true")
    options(sy)
    handles(sy, run_sync)


def _groups(args: argparse.Namespace) -> GroupServices:
    return services_of(args, GroupServices)


def run_map_group(args: argparse.Namespace, out: TextIO) -> int:
    from bot.config import Settings  # the SDK's connections: whether a sync can read Graph

    role = Role.parse(args.role)
    mapping, new = _groups(args).map_group(user_of(args), args.group, role, args.unit, args.name)
    print(group_texts.mapped(mapping, new=new, graph=graph_configured(Settings.from_env())), file=out)
    return 0


def run_unmap_group(args: argparse.Namespace, out: TextIO) -> int:
    role = Role.parse(args.role)
    mapping = _groups(args).unmap_group(user_of(args), args.group, role, args.unit)
    print(group_texts.unmapped(mapping), file=out)
    return 0


def run_groups(args: argparse.Namespace, out: TextIO) -> int:
    statuses = _groups(args).group_mappings(user_of(args))
    if args.json:
        found = [group_texts.mapping_json(s) for s in statuses]
        print(json.dumps(found, ensure_ascii=False, indent=2), file=out)
    else:
        for line in group_texts.mapping_lines(statuses):
            print(line, file=out)
    return 0


def run_sync(args: argparse.Namespace, out: TextIO) -> int:
    """Exit 0 when every group was read, 1 when one was not (its roles unchanged, the
    reason shown here and by `roles groups`), 2 when refused; with --json a refusal is JSON
    too ({"error": …, "code": …} on stdout, the Swedish line on stderr as always)."""
    try:
        return _sync(args, out)
    except DomainError as problem:
        if args.json:
            found = {"error": problem.message, "code": problem.errors[0].code if problem.errors else None}
            print(json.dumps(found, ensure_ascii=False, indent=2), file=out)
        raise


def _sync(args: argparse.Namespace, out: TextIO) -> int:
    from bot.config import Settings  # the SDK's connections, only for a sync

    services = _groups(args)
    services.group_mappings(user_of(args))  # may this person sync? asked before Graph is
    clients = graph_clients(Settings.from_env())
    if clients is None:
        raise DomainError(RuleError("graph_not_configured", GRAPH_NOT_CONFIGURED))
    graph = clients.for_city(args.org)  # the city's own registration (bot.registrations)
    if graph is None and clients.problem:  # a base URL the outbound rules refuse
        raise DomainError(RuleError("graph_url", f"KOMPETENSBOT_GRAPH_URL: {clients.problem}."))
    if graph is None:
        raise DomainError(
            RuleError("no_registration", f"{clients.why_not(args.org)}: {args.org or '--org saknas'}.")
        )

    async def run() -> SyncReport:
        try:
            return await sync_groups(services, graph, user_of(args))
        finally:
            await clients.close()

    report = asyncio.run(run())
    if args.json:
        print(json.dumps(group_texts.sync_json(report), ensure_ascii=False, indent=2), file=out)
    else:
        for line in group_texts.sync_lines(report):
            print(line, file=out)
    return EXIT_FAILED if report.failed else 0


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
