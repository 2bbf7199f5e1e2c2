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
    handles(tl, run_link)


def run_link(args: argparse.Namespace, out: TextIO) -> int:
    from storage.bot_state import link_tenant

    if not args.org:
        raise DomainError(RuleError("needs_org", texts.NEEDS_ORG, "--org"))
    try:
        link_tenant(make_engine(), args.tenant_id.strip(), args.org)
    except LookupError:
        raise DomainError(RuleError("unknown_org", texts.unknown_org(args.org), "--org")) from None
    print(texts.tenant_linked(args.tenant_id, args.org), file=out)
    return 0
