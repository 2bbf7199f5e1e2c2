"""`kompetensbot tenants link TENANT`: a Teams tenant served by the city of --org."""

from __future__ import annotations

import argparse
from typing import TextIO

from cli import texts
from cli.common import Commands, group, handles
from core.errors import DomainError, RuleError
from storage.db import make_engine


def register(commands: Commands) -> None:
    tenants = group(
        commands, "tenants", "tenants_command", help="koppla en Teams-klient (tenant) till en stad"
    )
    tl = tenants.add_parser("link", help="koppla tenant-id till staden (--org)")
    tl.add_argument("tenant_id")
    tl.add_argument(
        "--move",
        action="store_true",
        help="flytta en tenant som redan betjänas av en annan stad (dess användare byter stad)",
    )
    handles(tl, run_link)


def run_link(args: argparse.Namespace, out: TextIO) -> int:
    from storage.bot_state import city_of_tenant, link_tenant

    if not args.org:
        raise DomainError(RuleError("needs_org", texts.NEEDS_ORG, "--org"))
    # Teams writes tenant ids in lower case; one spelling, so a tenant is linked once.
    tenant = args.tenant_id.strip().lower()
    engine = make_engine()
    now = city_of_tenant(engine, tenant)
    if now is not None and now != args.org and not args.move:
        raise DomainError(
            RuleError("tenant_elsewhere", texts.tenant_elsewhere(tenant, now, args.org), "--move")
        )
    try:
        link_tenant(engine, tenant, args.org)
    except LookupError:
        raise DomainError(RuleError("unknown_org", texts.unknown_org(args.org), "--org")) from None
    print(texts.tenant_linked(tenant, args.org), file=out)
    return 0
