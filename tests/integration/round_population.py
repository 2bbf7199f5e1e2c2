"""A big follow-up round for the delivery tests and the send-rate benchmark:
the 2025 example with N HR role holders spread over the units that still
owe an answer for June, each with a stored 1:1 conversation reference whose
serviceUrl is the connector stand-in (the JSON the bot stores from an
incoming Teams activity).

Rows are inserted in bulk (one transaction each for the grants and the
references); the references are exactly what KompetensBot stores through
storage.bot_state.save_conversation_reference."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from microsoft_agents.activity import Activity
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from bot.data_services import load_example
from core.model import Role, RoleGrant
from core.rounds import answered_measures, assign
from storage.tables import ConversationRefRow, OrganisationRow, RoleGrantRow, TenantRow, table, utcnow
from storage.unit_of_work import UnitOfWork
from tests.http.harness import activity

ORG = "malmo"
TENANT = "tenant-malmo"
PERIOD = "2025-06"


@dataclass(frozen=True)
class Population:
    org_id: int
    recipients: list[str]  # every HR role holder added, in order
    unit_of: dict[str, str]  # recipient -> their unit
    conversation_of: dict[str, str]  # recipient -> their 1:1 conversation (those with a reference)

    def conversation(self, recipient: str) -> str:
        return self.conversation_of[recipient]


def recipient_name(i: int) -> str:
    return f"aad-hr-{i:04d}"


def conversation_name(recipient: str) -> str:
    return f"a:1on1-{recipient}"


def stored_reference(
    service_url: str, conversation_id: str, user_id: str, name: str, tenant: str = TENANT
) -> dict[str, Any]:
    """A conversation reference as KompetensBot stores it from an incoming activity."""
    incoming = Activity.model_validate(
        activity(
            "hej",
            service_url=service_url,
            conversation_id=conversation_id,
            user_id=user_id,
            name=name,
            tenant_id=tenant,
        )
    )
    return incoming.get_conversation_reference().model_dump(mode="json", by_alias=True, exclude_none=True)


def units_owing_an_answer(
    engine: Engine, year: int = 2025, period: str = PERIOD, org: str = ORG
) -> list[str]:
    """The units whose HR role holders would get a June card (some measure
    with money in the year has no answer yet), in code order."""
    with UnitOfWork(engine, org) as repo:
        ledger = repo.ledger()
    codes = sorted(ledger.units)
    probe = [RoleGrant(f"probe-{c}", Role.HR, c) for c in codes]
    cards = assign(ledger, probe, year).cards
    answered = answered_measures(ledger, period)
    return [c for c in codes if any(m not in answered for m in cards.get(f"probe-{c}", ()))]


def populate(
    engine: Engine,
    service_url: str,
    n: int,
    *,
    without_reference: Iterable[int] = (),
    load: bool = True,
    first: int = 0,
    org: str = ORG,
    tenant: str = TENANT,
    units: list[str] | None = None,
) -> Population:
    """Load the example (when `load`), grant HR to `n` people (numbered from
    `first`) in city `org` spread over `units` (default: the units that owe
    an answer), and store a 1:1 reference in `tenant` for each except the
    indexes in `without_reference`."""
    if load:
        load_example(engine, "malmo-2025")
    units = units or units_owing_an_answer(engine, org=org)
    skip = set(without_reference)
    with engine.connect() as conn:
        org_id = conn.execute(
            select(table(OrganisationRow).c.id).where(table(OrganisationRow).c.slug == org)
        ).scalar_one()
    now = utcnow()
    recipients = [recipient_name(i) for i in range(first, first + n)]
    unit_of = {r: units[i % len(units)] for i, r in enumerate(recipients, first)}
    template = stored_reference(service_url, "CONV", "USER", "NAME", tenant)
    grant_rows = [
        {
            "org_id": org_id,
            "user_id": r,
            "role": Role.HR.value,
            "unit_code": unit_of[r],
            "granted_by": "test",
            "created_at": now,
        }
        for r in recipients
    ]
    ref_rows = []
    conversation_of = {}
    for i, r in enumerate(recipients, first):
        if i in skip:
            continue
        conversation = conversation_name(r)
        conversation_of[r] = conversation
        reference = _personalise(template, conversation, r, f"HR {i:04d}")
        ref_rows.append(
            {
                "org_id": org_id,
                "tenant_id": tenant,
                "user_id": r,
                "conversation_id": conversation,
                "conversation_type": "personal",
                "reference": json.dumps(reference, ensure_ascii=False, separators=(",", ":")),
                "updated_at": now,
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(grant_rows), 500):
            conn.execute(insert(RoleGrantRow), grant_rows[start : start + 500])
        for start in range(0, len(ref_rows), 500):
            conn.execute(insert(ConversationRefRow), ref_rows[start : start + 500])
    return Population(org_id, recipients, unit_of, conversation_of)


def _personalise(template: dict[str, Any], conversation: str, user: str, name: str) -> dict[str, Any]:
    """The template reference for another person: exactly what
    stored_reference would make for them (checked in the tests)."""
    text = json.dumps(template)
    text = text.replace('"CONV"', json.dumps(conversation)).replace("29:USER", f"29:{user}")
    text = text.replace('"USER"', json.dumps(user)).replace('"NAME"', json.dumps(name))
    return json.loads(text)


def add_example_city(engine: Engine, slug: str, name: str, tenant: str) -> None:
    """The 2025 example loaded as city `slug` (its own units, ledger and seal
    chain), served in Teams tenant `tenant` (a row in `tenants`); a city
    that is there already is left as it is."""

    def as_slug(org: str | None, *, write: bool = False, create: str | None = None) -> UnitOfWork:
        # load_example opens the example's own slug ("malmo"): this city's instead
        return UnitOfWork(engine, slug, write=write, create=name if create else None)

    load_example(engine, "malmo-2025", units=as_slug)
    with engine.begin() as conn:
        org_id = conn.execute(
            select(table(OrganisationRow).c.id).where(table(OrganisationRow).c.slug == slug)
        ).scalar_one()
        known = conn.execute(
            select(table(TenantRow).c.tenant_id).where(table(TenantRow).c.tenant_id == tenant)
        ).first()
        if known is None:
            conn.execute(insert(TenantRow).values(tenant_id=tenant, org_id=org_id, created_at=utcnow()))
