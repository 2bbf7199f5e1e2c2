"""Roles from Entra groups (issue 22): the mappings' use cases and the sync.

`GroupServices` maps a group to a role (`roles map-group`), removes a mapping
(`roles unmap-group`), lists them with their last sync (`roles groups`) and applies a
sync's reads: in one writing unit of work (under the city's write lock) it reads the
mappings and grants as committed, asks core.group_sync what to add and take back,
writes those grants and revocations (sealed, by storage.repository), remembers the
members' names (storage.people, source "group") and records each group's outcome on
its mappings. Only stadskontoret and the administrator (Action.MANAGE_ROLES).

`sync_groups` reads each mapped group's users from Microsoft Graph
(`/groups/{id}/transitiveMembers/microsoft.graph.user`, every page) between a read
and that write; a group whose read fails changes nothing for its grants and gets its
reason recorded. `kompetensbot roles sync` runs it on demand, `kompetensbot serve`
every KOMPETENSBOT_GROUP_SYNC_SECONDS (`sync_every_city`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from bot.config import Settings
from bot.graph import GraphClient, GraphClients, GraphResponse
from bot.services import Services, utcnow
from bot.services import _check_grant as check_grant  # how `roles grant` checks a role and its unit
from core.errors import NotFound, RuleError
from core.group_sync import (
    SYNC_REVOKER,
    GrantChange,
    GroupMapping,
    GroupRead,
    Member,
    granted_by_group,
    is_object_id,
    plan_sync,
    read_failure,
    read_group_id,
)
from core.lookup import resolve_unit
from core.model import Principal, Role, RoleGrant
from core.permissions import Action, require
from storage import group_mappings, people
from storage.group_mappings import MappingStatus
from storage.read_model import SummaryLedger
from storage.repository import Repository, city_names

log = logging.getLogger("kompetensbot.group_sync")

MEMBERS_SELECT = "id,displayName,userPrincipalName,mail"
PAGE_SIZE = "999"  # Graph's largest page for a group's members

SYNC_PRINCIPAL = Principal(user=SYNC_REVOKER, is_admin=True, name="Entra-synk")
"""Who runs the server's scheduled sync."""


class GroupReader(Protocol):
    """What a sync asks of Microsoft Graph (bot.graph.GraphClient has it)."""

    async def pages(
        self, path: str, params: Mapping[str, str] | None = None, *, limit: int = 1000
    ) -> tuple[list[Mapping[str, Any]], GraphResponse]: ...


@dataclass(frozen=True, slots=True)
class SyncLine:
    """One grant a sync added or took back, as the summary shows it."""

    user: str
    name: str
    role: Role
    unit: str | None
    group_id: str
    group_name: str


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What a sync did: the groups it tried, the grants it added and took back, those it
    kept because a group that gives the same role could not be read, and each failed
    group's id with its reason."""

    groups: int = 0
    added: tuple[SyncLine, ...] = ()
    revoked: tuple[SyncLine, ...] = ()
    held_back: tuple[SyncLine, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    at: datetime | None = None

    @property
    def changed(self) -> bool:
        return bool(self.added or self.revoked)


@dataclass
class GroupServices(Services):
    """Group mappings and their sync, for one city (`org`, or the only one)."""

    def map_group(
        self, user: str | None, group_id: str, role: Role, unit: str | None, name: str = ""
    ) -> tuple[GroupMapping, bool]:
        """Map a group to a role (for a unit): checked as `roles grant` checks a grant.
        Returns the mapping and whether it is new (False: it was there; its name is
        updated when one is given)."""

        def run(repo: Repository, ledger: SummaryLedger, who: Principal) -> tuple[GroupMapping, bool]:
            require(who, Action.MANAGE_ROLES)
            group = read_group_id(group_id)
            code = resolve_unit(ledger, unit) if unit else None
            check_grant(role, code)
            mapping = GroupMapping(group, role, code, " ".join(name.split())[:200])
            new = group_mappings.add_mapping(repo.session.connection(), repo.org_id, mapping, who.user)
            return mapping, new

        return self._write(user, run)

    def unmap_group(self, user: str | None, group_id: str, role: Role, unit: str | None) -> GroupMapping:
        """Remove a mapping; NotFound when there is none. The grants it made go at the
        next sync (unless their holders are in another group that gives the role)."""

        def run(repo: Repository, ledger: SummaryLedger, who: Principal) -> GroupMapping:
            require(who, Action.MANAGE_ROLES)
            group = read_group_id(group_id)
            code = resolve_unit(ledger, unit) if unit else None
            check_grant(role, code)  # as map-group: hr without --unit names no mapping
            conn = repo.session.connection()
            if group_mappings.remove_mapping(conn, repo.org_id, group, role, code) == 0:
                mapped = [
                    f"{m.mapping.role.value}{' för ' + m.mapping.unit if m.mapping.unit else ''}"
                    for m in group_mappings.mappings(conn, repo.org_id)
                    if m.mapping.group_id == group
                ]
                there = (
                    f" Gruppen ger: {', '.join(mapped)}."
                    if mapped
                    else " Gruppen är inte kopplad till någon roll."
                )
                raise NotFound(
                    RuleError(
                        "no_such_group_mapping",
                        f"Gruppen {group} är inte kopplad till rollen {role.value}"
                        f"{' för ' + code if code else ''}.{there}",
                        "grupp-id",
                    )
                )
            return GroupMapping(group, role, code)

        return self._write(user, run)

    def group_mappings(self, user: str | None) -> list[MappingStatus]:
        """The city's mappings with their last sync (stadskontoret and the administrator)."""

        with self._unit_of_work() as repo:  # no ledger needed: not _read
            require(self._principal(repo, user), Action.MANAGE_ROLES)
            return group_mappings.mappings(repo.session.connection(), repo.org_id)

    def needs_sync(self) -> bool:
        """Whether the city has a mapping or a grant a sync made (the scheduled sync
        leaves a city without either alone)."""
        with self._unit_of_work() as repo:
            conn = repo.session.connection()
            return bool(group_mappings.mappings(conn, repo.org_id)) or group_mappings.any_group_grants(
                conn, repo.org_id
            )

    def apply_sync(self, user: str | None, reads: Mapping[str, GroupRead]) -> SyncReport:
        """Apply what the groups' reads say (see the module), in one writing unit of work."""
        at = self.clock()

        def run(repo: Repository, ledger: SummaryLedger, who: Principal) -> SyncReport:
            require(who, Action.MANAGE_ROLES)
            conn = repo.session.connection()
            statuses = group_mappings.mappings(conn, repo.org_id)
            maps = [s.mapping for s in statuses]
            plan = plan_sync(maps, reads, group_mappings.held_grants(conn, repo.org_id))
            members = {m.user_id: m for r in reads.values() if r.ok for m in r.members}
            people.remember(
                conn,
                repo.org_id,
                (people.Person(m.user_id, m.name, m.upn, m.mail) for m in members.values()),
                source="group",
            )
            for change in plan.add:
                repo.grant(
                    RoleGrant(change.user, change.role, change.unit), granted_by_group(change.group_id)
                )
            for change in plan.revoke:
                repo.revoke(RoleGrant(change.user, change.role, change.unit), SYNC_REVOKER)
            mapped = {m.group_id for m in maps}
            for group in mapped:
                read = reads.get(group)
                if read is None:  # mapped after the reads began: the next sync reads it
                    continue
                group_mappings.record_sync(
                    conn, repo.org_id, group, at, error=read.error, members=len(read.members)
                )
            names = {m.group_id: m.name for m in maps if m.name}
            known = {p.user_id: p.shown for p in people.known(conn, repo.org_id)}

            def line(change: GrantChange) -> SyncLine:
                return SyncLine(
                    change.user,
                    known.get(change.user, ""),
                    change.role,
                    change.unit,
                    change.group_id,
                    names.get(change.group_id, ""),
                )

            failed = tuple(sorted((g, reads[g].error) for g in mapped if g in reads and not reads[g].ok))
            return SyncReport(
                len([g for g in mapped if g in reads]),
                tuple(line(c) for c in plan.add),
                tuple(line(c) for c in plan.revoke),
                tuple(line(c) for c in plan.held_back),
                failed,
                at,
            )

        return self._write(user, run)


def _text(value: object, limit: int) -> str:
    return " ".join(value.split())[:limit] if isinstance(value, str) else ""


async def read_members(graph: GroupReader, group_id: str) -> GroupRead:
    """A group's users, direct and through nested groups, or why they could not be read."""
    items, answer = await graph.pages(
        f"/groups/{group_id}/transitiveMembers/microsoft.graph.user",
        {"$select": MEMBERS_SELECT, "$top": PAGE_SIZE},
    )
    if not answer.ok:
        return GroupRead(
            group_id, error=read_failure(group_id, answer.status, answer.error_code, answer.reason)
        )
    found: dict[str, Member] = {}
    for item in items:
        user = item.get("id")
        if not isinstance(user, str) or not is_object_id(user):
            continue  # a user has an object id; anything else gets no role
        key = user.strip().lower()
        found.setdefault(
            key,
            Member(
                key,
                _text(item.get("displayName"), 200),
                _text(item.get("userPrincipalName"), 320),
                _text(item.get("mail"), 320),
            ),
        )
    return GroupRead(group_id, tuple(found.values()))


async def sync_groups(services: GroupServices, graph: GroupReader, user: str | None = None) -> SyncReport:
    """Read every mapped group from Graph, then apply the reads (GroupServices.apply_sync).
    `user` must hold MANAGE_ROLES (None: the administrator); checked before Graph is asked."""
    statuses = await asyncio.to_thread(services.group_mappings, user)
    reads: dict[str, GroupRead] = {}
    for status in statuses:
        group = status.mapping.group_id
        if group not in reads:
            reads[group] = await read_members(graph, group)
    return await asyncio.to_thread(services.apply_sync, user, reads)


# --- Microsoft Graph for a sync ------------------------------------------------------


def graph_configured(settings: Settings) -> bool:
    """Whether a sync can read Graph: with the registration's credentials, or anonymous
    with KOMPETENSBOT_GRAPH_URL set (the stand-in Graph service; no token is sent)."""
    return not settings.anonymous or settings.graph_url is not None


def graph_clients(settings: Settings) -> GraphClients | None:
    """The Graph clients a sync reads with (one per registration, bot.graph.GraphClients),
    or None when Graph is not configured (`graph_configured`)."""
    return GraphClients.from_settings(settings) if graph_configured(settings) else None


GRAPH_NOT_CONFIGURED = (
    "Microsoft Graph är inte inställt: en synk av grupper behöver botens appregistrering "
    "(CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID, …CLIENTSECRET, …TENANTID) med "
    "applikationsbehörigheten GroupMember.Read.All, eller KOMPETENSBOT_GRAPH_URL för en lokal Graph-tjänst."
)


NO_PRIVILEGE = (
    "group sync: this server's database role may not read group mappings or write role grants "
    "(README: Roles from Entra groups): run `kompetensbot roles sync` as the tables' owner on a "
    "timer instead, and set KOMPETENSBOT_GROUP_SYNC_SECONDS=0"
)


@dataclass
class CitySyncs:
    """The server's scheduled sync of every city that has group mappings (or grants a
    sync made), each with a Graph client made for the run and closed after it."""

    engine: Engine
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    graph: Callable[[], GraphClient | None] | None = None
    reports: list[tuple[str, SyncReport]] = field(default_factory=list)

    async def run(self) -> list[tuple[str, SyncReport]]:
        """Each city's groups read as its own registration (GraphClients.for_city, issue 23)."""
        slugs = [slug for _name, slug in await asyncio.to_thread(city_names, self.engine)]
        done: list[tuple[str, SyncReport]] = []
        clients: GraphClients | None = None
        injected: GraphClient | None = None
        try:
            for slug in slugs:
                services = GroupServices(self.engine, org=slug, admin=SYNC_PRINCIPAL, clock=self.clock)
                try:
                    if not await asyncio.to_thread(services.needs_sync):
                        continue
                    if self.graph is not None:
                        injected = injected or self.graph()
                        client = injected
                    else:
                        clients = clients or graph_clients(self.settings)
                        client = clients.for_city(slug) if clients is not None else None
                    if client is None:
                        if clients is not None and not clients.problem:  # this city has no registration
                            log.warning("group sync of %s skipped: %s", slug, clients.why_not(slug))
                            continue
                        why = (clients.problem if clients is not None else "") or GRAPH_NOT_CONFIGURED
                        log.warning("group sync skipped: %s", why)
                        return done
                    report = await sync_groups(services, client)
                except DBAPIError as problem:
                    if "permission denied" not in str(problem.orig):
                        raise
                    log.error(NO_PRIVILEGE)
                    return done
                log_report(slug, report)
                done.append((slug, report))
        finally:
            if clients is not None:
                await clients.close()
            elif injected is not None:
                await injected.close()
        self.reports = done
        return done


def log_report(slug: str, report: SyncReport) -> None:
    """The sync's summary in the server's log: who got and lost what, and failed groups
    (nothing when nothing changed, as the round's tick)."""
    for line in report.added:
        log.info(
            "group sync %s: %s (%s) got %s%s from group %s",
            slug,
            line.user,
            line.name or "?",
            line.role.value,
            f" {line.unit}" if line.unit else "",
            line.group_id,
        )
    for line in report.revoked:
        log.info(
            "group sync %s: %s (%s) lost %s%s (made by group %s; in no mapped group now)",
            slug,
            line.user,
            line.name or "?",
            line.role.value,
            f" {line.unit}" if line.unit else "",
            line.group_id,
        )
    for group, error in report.failed:
        log.warning("group sync %s: group %s not read: %s", slug, group, error)
    if not (report.changed or report.failed or report.held_back):
        return
    log.info(
        "group sync %s: %d groups, %d granted, %d revoked, %d kept (a group unread), %d failed",
        slug,
        report.groups,
        len(report.added),
        len(report.revoked),
        len(report.held_back),
        len(report.failed),
    )
