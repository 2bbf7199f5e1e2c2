"""Reaching people who never opened the bot (issue 22): the app installed for them
through Microsoft Graph before a round sends to them, and the 1:1 chat found through
the installed app stored as their conversation, so the card goes there.

With KOMPETENSBOT_GRAPH_INSTALL on, the round runner (bot/round_runner.py), before it
sends, takes every pending send whose person has no stored conversation and, once per
(round, person) (storage.graph_installs: a claim with a lease):

1. finds the app's id in the tenant's catalog: KOMPETENSBOT_TEAMS_APP_CATALOG_ID, or
   looked up once by the manifest's id (`GET /appCatalogs/teamsApps?$filter=externalId
   eq '…'`, AppCatalog.Read.All; an app the city uploaded itself has a catalog id of its
   own, not the manifest's);
2. installs it for the person (`POST /users/{id}/teamwork/installedApps` with
   `teamsApp@odata.bind`, TeamsAppInstallation.ReadWriteSelfForUser.All): 201, or 409
   "already installed", both count as installed;
3. finds the chat (`GET …/installedApps?$filter=teamsApp/id eq '…'`, then
   `GET …/installedApps/{id}/chat`) and stores the conversation reference, as
   bot.round_runner stores one it creates.

Graph is paced and 429/5xx retried by the client (bot.graph). A 403 for a permission
the administrator has not consented to is recorded on the install and on the send with
a reason in Swedish that names the permission and where to consent; after one such 403
the pass asks Graph no more (every other person's install is refused alike) and
records the same reason. A 404 for the person: not in the city's tenant.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from microsoft_agents.activity import ConversationReference

from bot.graph import DEFAULT_REGISTRATION, GraphClient, GraphClients, GraphResponse
from bot.round_services import RoundServices
from core.errors import DomainError
from core.model import Principal
from core.permissions import Action, can, require, visible_units
from core.rounds import Round, answered_measures, assign
from storage import graph_installs as installs
from storage import rounds as store
from storage.bot_state import save_conversation_reference
from storage.graph_installs import InstallState
from storage.read_model import CitySnapshot
from storage.repository import Repository
from storage.rounds import CityRounds

log = logging.getLogger("kompetensbot.reach")

INSTALL_PERMISSION = "TeamsAppInstallation.ReadWriteSelfForUser.All"
CATALOG_PERMISSION = "AppCatalog.Read.All"
BUSY = "busy"  # another process is installing for the person now


def no_consent(permission: str) -> str:
    """The reason recorded when Graph refuses for a permission without consent: what an
    administrator must do, and where."""
    return (
        f"Administratören har inte godkänt behörigheten {permission} för kompetensbot i Entra ID "
        "(Företagsprogram → kompetensbot → Behörigheter → Bevilja administratörsmedgivande)"
    )


NOT_IN_TENANT = "personen finns inte i stadens Entra ID (Microsoft Graph svarade 404 för användaren)"
NO_SERVICE = "staden har ingen känd Teams-tjänst ännu: ingen har pratat med boten"
NOT_IN_CATALOG = (
    "appen kompetensbot finns inte i stadens appkatalog i Teams: ladda upp paketet "
    "(kompetensbot package) eller sätt KOMPETENSBOT_TEAMS_APP_CATALOG_ID till appens id i katalogen"
)


def _consent_refused(answer: GraphResponse) -> bool:
    """A 403 for a missing application permission (not, say, an app blocked by policy)."""
    if answer.status != 403:
        return False
    text = f"{answer.error_code} {answer.error_message}".lower()
    return "permission" in text or "authorization_requestdenied" in text or "roles" in text


def _graph_failure(what: str, answer: GraphResponse) -> str:
    if answer.status == 0:
        return f"{what}: {answer.reason}"
    detail = answer.error_message or answer.reason
    return f"{what}: Microsoft Graph svarade {answer.status}" + (f" ({detail[:200]})" if detail else "")


@dataclass(frozen=True, slots=True)
class Reached:
    """One person's reach: `ok` with the stored reference, or the state and reason
    (InstallState's, or BUSY) and, for a Graph that asked to wait, Retry-After."""

    ok: bool
    state: str
    reason: str = ""
    reference: dict[str, Any] | None = None
    retry_after: float | None = None
    installed: bool = False  # this call's request installed the app (201)

    @property
    def final(self) -> bool:
        """Nothing more to try for this send: the person is not reached this way."""
        return self.state in (InstallState.NO_CONSENT, InstallState.NOT_FOUND)


def chat_reference(
    service_url: str,
    tenant_id: str,
    user_id: str,
    chat_id: str,
    *,
    bot_id: str | None,
    user_name: str | None = None,
    channel_id: str = "msteams",
) -> dict[str, Any]:
    """A 1:1 conversation reference for a chat Graph named, in the shape the bot stores
    (bot.proactive.Sender.create_conversation_result makes the same)."""
    raw: dict[str, Any] = {
        "user": {"id": user_id, **({"name": user_name} if user_name else {})},
        "conversation": {"id": chat_id, "conversationType": "personal", "tenantId": tenant_id},
        "channelId": channel_id,
        "serviceUrl": service_url,
        **({"bot": {"id": bot_id}} if bot_id else {}),
        "locale": "sv-SE",
    }
    return ConversationReference.model_validate(raw).model_dump(mode="json", by_alias=True, exclude_none=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


class GraphReach:
    """Installs through Graph for the round runner (see the module). One per runner; a
    pass (`begin`) forgets the previous pass's consent refusals.

    Each city's installs go as its own registration (bot.registrations, issue 23): its Graph
    client (GraphClients.for_city), its bot id in the stored reference, its app in its own
    tenant's catalog (the registration's teams_app_catalog_id, else looked up by its
    teams_app_id or app id); a consent refused in one city's tenant stops that city's installs
    only. `bot_id`, `catalog_id` and `app_id` are the single registration's (KOMPETENSBOT_…)."""

    def __init__(
        self,
        engine: Any,
        clients: GraphClients,
        *,
        bot_id: str | None = None,
        catalog_id: str | None = None,
        app_id: str | None = None,
        lease: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = utcnow,
        registration: str = DEFAULT_REGISTRATION,
    ) -> None:
        self.engine = engine
        self.clients = clients
        self.bot_id = bot_id
        self.app_id = app_id
        self.lease = lease
        self.clock = clock
        self.registration = registration
        # By registration name: the app's id in its tenant's catalog, and the reason after a
        # 403 for consent in this pass.
        self._catalog_ids: dict[str, str] = {registration: catalog_id} if catalog_id else {}
        self._refused: dict[str, str] = {}
        self._lock = asyncio.Lock()

    @staticmethod
    def from_settings(engine: Any, settings: Any, *, lease: timedelta) -> GraphReach | None:
        """None unless KOMPETENSBOT_GRAPH_INSTALL is on."""
        if not settings.graph_install:
            return None
        return GraphReach(
            engine,
            GraphClients.from_settings(settings),
            bot_id=settings.client_id,
            catalog_id=settings.teams_app_catalog_id,
            app_id=settings.teams_app_id or settings.client_id,
            lease=lease,
        )

    def begin(self) -> None:
        self._refused.clear()

    def as_city(self, city: str | None) -> tuple[str | None, GraphClient | None, str | None, str | None]:
        """(registration name, Graph client, bot id, manifest id) a city's installs go as; the
        name and client are None when the city has no registration (`clients.why_not`)."""
        if self.registration != DEFAULT_REGISTRATION:  # one registration named by the caller
            return self.registration, self.clients.client(self.registration), self.bot_id, self.app_id
        name = self.clients.registration_of(city)
        client = self.clients.client(name) if name is not None else None
        own = self.clients.registrations.for_city(city) if self.clients.registrations.linked else None
        if own is None:
            return name, client, self.bot_id, self.app_id
        only = len(self.clients.registrations) == 1  # then KOMPETENSBOT_TEAMS_APP_… are its
        catalog = own.teams_app_catalog_id or (self._catalog_ids.get(DEFAULT_REGISTRATION) if only else None)
        if catalog:
            self._catalog_ids.setdefault(own.name, catalog)
        return name, client, own.bot_id, own.teams_app_id or (self.app_id if only else None) or own.app_id

    async def close(self) -> None:
        await self.clients.close()

    # --- the app's id in the catalog -------------------------------------------

    async def catalog_id(
        self, client: GraphClient, registration: str = DEFAULT_REGISTRATION, app_id: str | None = None
    ) -> tuple[str | None, str, str]:
        """(catalog id, "", "") or (None, state, reason), of the registration's app (manifest
        id `app_id`, default the single registration's) in its tenant; looked up once, then cached."""
        app_id = app_id or self.app_id
        async with self._lock:
            if registration in self._catalog_ids:
                return self._catalog_ids[registration], "", ""
            if not app_id:
                return (
                    None,
                    InstallState.FAILED,
                    "appens id i Teams-katalogen är okänt: sätt KOMPETENSBOT_TEAMS_APP_CATALOG_ID "
                    "(eller KOMPETENSBOT_TEAMS_APP_ID, manifestets id, för att slå upp det)",
                )
            answer = await client.get(
                "/appCatalogs/teamsApps", {"$filter": f"externalId eq '{app_id.replace(chr(39), '')}'"}
            )
            if _consent_refused(answer):
                reason = (
                    no_consent(CATALOG_PERMISSION)
                    + ", eller sätt KOMPETENSBOT_TEAMS_APP_CATALOG_ID till appens id i katalogen"
                )
                return None, InstallState.NO_CONSENT, reason
            if not answer.ok:
                return None, InstallState.FAILED, _graph_failure("appens id i katalogen", answer)
            found = [v for v in answer.body.get("value", []) if isinstance(v, Mapping) and v.get("id")]
            if not found:
                return None, InstallState.FAILED, NOT_IN_CATALOG
            self._catalog_ids[registration] = str(found[0]["id"])
            log.info(
                "the app's id in %s's tenant's catalog: %s", registration, self._catalog_ids[registration]
            )
            return self._catalog_ids[registration], "", ""

    # --- one person ----------------------------------------------------------------

    async def stored(self, round_id: int, user_id: str) -> installs.Install | None:
        return await asyncio.to_thread(installs.install_of, self.engine, round_id, user_id)

    async def reach(self, ctx: store.SendingCity, round_id: int, user_id: str) -> Reached:
        """Install for (round, person) unless installed already, find the chat, store the
        reference (see the module)."""
        service = (ctx.fallback or {}).get("serviceUrl")
        if not service or not ctx.tenant_id:
            return Reached(False, InstallState.FAILED, NO_SERVICE)
        token = store.new_token()
        claim = await asyncio.to_thread(
            installs.claim,
            self.engine,
            org_id=ctx.org_id,
            round_id=round_id,
            user_id=user_id,
            token=token,
            lease=self.lease,
            now=self.clock(),
        )
        if not claim.claimed and claim.install.state != InstallState.INSTALLED:
            return Reached(False, BUSY, "appen installeras just nu för personen (en annan process)")
        registration, client, bot_id, app_id = self.as_city(ctx.slug)

        async def done(state: str, reason: str, status: int | None = None, **extra: Any) -> Reached:
            if claim.claimed:
                kept = await asyncio.to_thread(
                    installs.finish,
                    self.engine,
                    round_id=round_id,
                    user_id=user_id,
                    token=token,
                    state=state,
                    reason=reason,
                    chat_id=extra.pop("chat_id", None),
                    http_status=status,
                )
                if not kept:
                    log.warning("install for %s (round %s) was taken over after its lease", user_id, round_id)
            return Reached(state == InstallState.INSTALLED, state, reason, **extra)

        if client is None or registration is None:
            return await done(InstallState.FAILED, f"Microsoft Graph: {self.clients.why_not(ctx.slug)}")
        if self._refused.get(registration) and claim.claimed:
            return await done(InstallState.NO_CONSENT, self._refused[registration], 403)
        catalog, state, reason = await self.catalog_id(client, registration, app_id)
        if catalog is None:
            if state == InstallState.NO_CONSENT:
                self._refused[registration] = reason
            return await done(state, reason)
        installed_now = False
        if claim.claimed:
            answer = await client.request(
                "POST",
                f"/users/{user_id}/teamwork/installedApps",
                body={"teamsApp@odata.bind": f"{client.base_url}/appCatalogs/teamsApps/{catalog}"},
            )
            if _consent_refused(answer):
                reason = no_consent(INSTALL_PERMISSION)
                self._refused[registration] = reason
                log.warning(
                    "Graph refused to install the app in %s's tenant: no consent to %s",
                    ctx.slug,
                    INSTALL_PERMISSION,
                )
                return await done(InstallState.NO_CONSENT, reason, 403)
            if answer.status == 404:
                text = answer.error_message.lower()
                if "app" in text and "user" not in text:
                    return await done(InstallState.FAILED, NOT_IN_CATALOG, 404)
                return await done(InstallState.NOT_FOUND, NOT_IN_TENANT, 404)
            if answer.status not in (201, 409) and not answer.ok:
                return await done(
                    InstallState.FAILED,
                    _graph_failure("installationen", answer),
                    answer.status,
                    retry_after=answer.retry_after,
                )
            installed_now = answer.status != 409
        chat, problem, status = await self._chat(client, user_id, catalog)
        if chat is None:
            return await done(InstallState.FAILED, problem, status)
        reference = chat_reference(
            service,
            ctx.tenant_id,
            user_id,
            chat,
            bot_id=bot_id,
            user_name=ctx.names.get(user_id),
            channel_id=(ctx.fallback or {}).get("channelId", "msteams"),
        )
        await asyncio.to_thread(
            save_conversation_reference,
            self.engine,
            org_id=ctx.org_id,
            tenant_id=ctx.tenant_id,
            user_id=user_id,
            conversation_id=chat,
            conversation_type="personal",
            reference=reference,
        )
        return await done(
            InstallState.INSTALLED,
            "",
            201 if installed_now else 409,
            reference=reference,
            installed=installed_now,
            chat_id=chat,
        )

    async def _chat(self, client: GraphClient, user_id: str, catalog: str) -> tuple[str | None, str, int]:
        """The 1:1 chat of the person with the installed app: (id, "", 200) or (None, reason, status)."""
        apps = await client.get(
            f"/users/{user_id}/teamwork/installedApps",
            {"$expand": "teamsAppDefinition", "$filter": f"teamsApp/id eq '{catalog}'"},
        )
        if not apps.ok:
            return None, _graph_failure("appen installerades men chatten hittades inte", apps), apps.status
        found = [a for a in apps.body.get("value", []) if isinstance(a, Mapping) and a.get("id")]
        if not found:
            return None, "appen installerades men syns inte bland personens appar ännu", apps.status
        chat = await client.get(f"/users/{user_id}/teamwork/installedApps/{found[0]['id']}/chat")
        chat_id = chat.body.get("id") if chat.ok else None
        if not isinstance(chat_id, str) or not chat_id:
            return None, _graph_failure("appen installerades men chatten hittades inte", chat), chat.status
        return chat_id, "", chat.status


# --- before the round: who cannot be reached (`kompetensbot followup reach`) -------------

NO_CONVERSATION = "no_conversation"
NOT_IN_TENANT_WHY = "not_in_tenant"
BLOCKED = "blocked"
NO_CONSENT_WHY = "no_consent"
INSTALL_FAILED = "install_failed"
TO_INSTALL = "to_install"  # reached: the app is installed when the round opens

NO_CONVERSATION_REASON = (
    "ingen konversation: personen har aldrig öppnat boten, och installation genom Microsoft Graph är "
    "avstängd (KOMPETENSBOT_GRAPH_INSTALL=1 slår på den); Teams tar inte emot ett kort till den "
    "som saknar appen"
)
TO_INSTALL_REASON = "ingen konversation än: appen installeras genom Microsoft Graph när omgången öppnar"
BLOCKED_REASON = "Teams nekade senaste utskicket: boten blockerad eller appen borttagen"


@dataclass(frozen=True, slots=True)
class Recipient:
    """One of the round's recipients as `followup reach` sees them: the measures on
    their card (not yet answered) and their units; `why` is "" for one who is reached."""

    user_id: str
    name: str
    measure_ids: tuple[int, ...]
    units: tuple[str, ...]
    why: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ReachReport:
    period: str
    opened: bool  # the round is recorded (`followup open`, or opened by a tick)
    graph_install: bool
    consent: bool | None  # Graph checked: consented or not; None: not asked
    recipients: tuple[Recipient, ...]
    measure_titles: Mapping[int, str]
    unit_names: Mapping[str, str]
    measure_units: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    no_recipient: tuple[int, ...] = ()
    """The round's unanswered measures nobody can be asked about (no responsible person, no HR
    for their committees): no card goes out for them, whoever can be reached."""

    def no_recipient_units(self) -> dict[str, int]:
        """Unit → how many of `no_recipient` are its (a shared measure counts for each)."""
        per_unit: dict[str, int] = {}
        for m in self.no_recipient:
            for u in self.measure_units.get(m, ()):
                per_unit[u] = per_unit.get(u, 0) + 1
        return dict(sorted(per_unit.items()))

    @property
    def unreachable(self) -> list[Recipient]:
        return [r for r in self.recipients if r.why and r.why != TO_INSTALL]

    @property
    def to_install(self) -> list[Recipient]:
        return [r for r in self.recipients if r.why == TO_INSTALL]

    def affected(self) -> tuple[list[int], dict[str, int]]:
        """The measures of the unreachable (each once) and, per unit, how many of them."""
        per_unit: dict[str, set[int]] = {}
        measures: set[int] = set()
        for r in self.unreachable:
            for m in r.measure_ids:
                measures.add(m)
                for u in self.measure_units.get(m, ()):
                    per_unit.setdefault(u, set()).add(m)
        return sorted(measures), {u: len(ms) for u, ms in sorted(per_unit.items())}


class ReachServices(RoundServices):
    """`followup reach`: the round's recipients, and who of them cannot be reached and why."""

    def candidates(self, user: str | None, period: str, as_of: date) -> tuple[ReachReport, int | None]:
        """The recipients with their cards and what the database knows of reaching them
        (no Graph request); the round's id when it is recorded."""

        def run(repo: Repository, snapshot: CitySnapshot, who: Principal) -> tuple[ReachReport, int | None]:
            rounds = CityRounds(repo)
            try:
                round_: Round | None = rounds.find(period)
            except DomainError:
                round_ = None
            ledger = rounds.ledger(snapshot, [period])
            if can(who, Action.READ):
                visible: set[str] | None = None
            else:
                visible = set(visible_units(who, ledger.units))
                if not visible:
                    require(who, Action.READ)
            year = int(period[:4])
            answered = answered_measures(ledger, period)
            assignments = assign(ledger, repo.grants(), year)
            cards = assignments.cards
            units_of = {mid: tuple(ledger.measures[mid].units) for ids in cards.values() for mid in ids}
            nobody = tuple(
                m
                for m in assignments.unassigned
                if m not in answered and (visible is None or set(ledger.measures[m].units) & visible)
            )
            units_of |= {m: tuple(ledger.measures[m].units) for m in nobody}
            conn = rounds.conn
            names = rounds.display_names()
            people = {
                p: tuple(m for m in ids if m not in answered)
                for p, ids in cards.items()
                if any(m not in answered for m in ids)
                and (visible is None or any(set(units_of[m]) & visible for m in ids))
            }
            missing = installs.without_reference(conn, repo.org_id, people)
            refused = installs.refused_sends(conn, repo.org_id, set(people) - missing)
            stored = installs.installs(conn, round_.id) if round_ is not None else {}
            out = []
            for person in sorted(people, key=lambda p: ((names.get(p) or p).casefold(), p)):
                ids = people[person]
                units = tuple(sorted({u for m in ids for u in units_of[m]}))
                why, reason = "", ""
                if person in refused:
                    why, reason = BLOCKED, f"{BLOCKED_REASON} ({refused[person][1][:200]})"
                elif person in missing:
                    install = stored.get(person)
                    if install is not None and install.state == InstallState.NO_CONSENT:
                        why, reason = NO_CONSENT_WHY, install.reason
                    elif install is not None and install.state == InstallState.NOT_FOUND:
                        why, reason = NOT_IN_TENANT_WHY, install.reason
                    elif install is not None and install.state == InstallState.FAILED:
                        why, reason = INSTALL_FAILED, f"installationen misslyckades senast: {install.reason}"
                    else:
                        why, reason = NO_CONVERSATION, NO_CONVERSATION_REASON
                out.append(Recipient(person, names.get(person) or "", ids, units, why, reason))
            titles = {mid: ledger.measures[mid].title for mid in units_of}
            report = ReachReport(
                period,
                round_ is not None,
                False,
                None,
                tuple(out),
                titles,
                {code: unit.name for code, unit in ledger.units.items()},
                units_of,
                nobody,
            )
            return report, (round_.id if round_ is not None else None)

        return self._read_round(user, run)


async def check_with_graph(report: ReachReport, reach: GraphReach, city: str | None = None) -> ReachReport:
    """With Graph installs on: each recipient without a conversation (and no recorded
    refusal) asked of Graph once (`GET /users/{id}/teamwork/installedApps`, the install
    permission's read) as the city's registration: 403 no consent (then nobody else is
    asked), 404 not in the tenant, else installed when the round opens."""
    _name, client, _bot, _app = reach.as_city(city)
    consent: bool | None = None
    refused_reason = ""
    out = []
    for r in report.recipients:
        if r.why != NO_CONVERSATION:
            out.append(r)
            continue
        if client is None:
            out.append(
                replace(r, why=INSTALL_FAILED, reason=f"Microsoft Graph: {reach.clients.why_not(city)}")
            )
            continue
        if refused_reason:
            out.append(replace(r, why=NO_CONSENT_WHY, reason=refused_reason))
            continue
        answer = await client.get(f"/users/{r.user_id}/teamwork/installedApps", {"$expand": "teamsApp"})
        if _consent_refused(answer):
            consent, refused_reason = False, no_consent(INSTALL_PERMISSION)
            out.append(replace(r, why=NO_CONSENT_WHY, reason=refused_reason))
        elif answer.status == 404:
            consent = True if consent is None else consent
            out.append(replace(r, why=NOT_IN_TENANT_WHY, reason=NOT_IN_TENANT))
        elif answer.ok:
            consent = True if consent is None else consent
            out.append(replace(r, why=TO_INSTALL, reason=TO_INSTALL_REASON))
        else:
            out.append(
                replace(
                    r, why=INSTALL_FAILED, reason=_graph_failure("Microsoft Graph kunde inte fråga", answer)
                )
            )
    return replace(report, graph_install=True, consent=consent, recipients=tuple(out))
