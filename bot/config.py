"""Settings from the environment, in one place.

The bot's Azure registration is read the way the SDK's samples read it:
CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID, __CLIENTSECRET and
__TENANTID, through `load_configuration_from_env`; several, one per city, as
bot.registrations describes (`Settings.registrations`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from microsoft_agents.activity import load_configuration_from_env
from sqlalchemy.engine import Engine

from bot.clock import settings_today
from bot.inbound_auth import callers
from bot.registrations import (
    CITY_CONNECTIONS_ENV,
    DEFAULT,
    RegistrationError,
    Registrations,
    RegistrationSettings,
    env_prefix,
    listed,
    registrations_of,
    set_settings,
)
from core.errors import DomainError, RuleError
from storage.db import database_url
from storage.db_limits import DatabaseTimeouts
from storage.seal import KEY_VARIABLE, adopt_key_in, key_problem, ledger_key

log = logging.getLogger("kompetensbot.config")

PREFIX = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
"""The SDK's names for the bot's Azure registration: PREFIX + CLIENTID, CLIENTSECRET, TENANTID."""

CLASSIC_NAMES = {
    "MicrosoftAppId": "CLIENTID",
    "MicrosoftAppPassword": "CLIENTSECRET",
    "MicrosoftAppTenantId": "TENANTID",
    "MicrosoftAppType": "AUTHTYPE",
}
"""Bot Framework SDK names this bot does not read, and the name to use instead."""

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
_YES = ("1", "true", "ja")


class StartRefused(DomainError):
    """`serve` does not start with these settings; the message says what to set."""


def start_refused(message: str, field: str | None = None) -> StartRefused:
    return StartRefused(RuleError("start_refused", message, field))


@dataclass(frozen=True)
class Settings:
    database_url: str
    host: str = "127.0.0.1"
    port: int = 3978
    demo: bool = False
    sdk: dict[str, Any] = field(default_factory=dict)
    max_body_bytes: int = 256 * 1024
    reply_attempts: int = 4
    reply_timeout: float = 10.0
    # The follow-up round: the tick's period inside serve (0: no tick), the
    # global send rate, sends in flight per process, how long a claim lasts,
    # whether June and December rounds open by themselves, and a fixed
    # "today" for demos and tests (None: the real date).
    tick_seconds: float = 0.0
    send_rate: float = 30.0
    round_in_flight: int = 1
    round_lease_seconds: float = 300.0
    auto_rounds: bool = True
    today: date | None = None
    # How often the server prunes old activity claims (0: never).
    housekeeping_seconds: float = 3600.0
    # How often the server syncs roles from Entra groups (bot.group_sync; 0: never;
    # only when Microsoft Graph is configured).
    group_sync_seconds: float = 0.0
    # Inbound and modes: anonymous mode asked for explicitly (serve
    # --anonymous, KOMPETENSBOT_ANONYMOUS=1; --demo implies it), the Entra
    # callers (azp/appid) accepted besides Bot Framework channel tokens, and
    # the classic Bot Framework variable names found in the environment.
    anonymous_requested: bool = False
    entra_callers: frozenset[str] = frozenset()
    classic_names: tuple[str, ...] = ()
    # Limits (README "Limits and timeouts"): PostgreSQL's
    # connect, statement and lock timeouts; /healthz's whole check; how long a
    # client may take to send a request's headers (also how long an idle
    # keep-alive connection stays open) and its body; and how long a stop
    # (SIGTERM) waits for the turns under way.
    db_timeouts: DatabaseTimeouts = field(default_factory=DatabaseTimeouts)
    health_timeout: float = 2.0
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    shutdown_timeout: float = 3.0
    # The ledger's seal: the HMAC key of the hash chain
    # (KOMPETENSBOT_LEDGER_KEY; "": the public development key, refused with
    # credentials). See storage/seal.py and check_ledger_key below.
    ledger_key: str = field(default="", repr=False)
    # Outbound: the origins replies and proactive sends may go to
    # (KOMPETENSBOT_SERVICE_URLS, comma-separated; None: Teams' service hosts),
    # see bot.outbound.
    service_urls: str | None = None
    # At least once, saved once: how long a turn holds its activity's
    # claim before a retry of it is handled again (storage.bot_state.CLAIM_LEASE).
    claim_lease_seconds: float = 60.0
    # Files in the chat: the origins an accepted file may be uploaded to
    # (KOMPETENSBOT_FILE_UPLOAD_URLS, comma-separated; None: Microsoft's file
    # hosts, https://*.sharepoint.com and the government clouds'), see bot.file_offers.
    file_upload_urls: str | None = None
    # Microsoft Graph (issue 22, README "Microsoft Graph: samtycke och behörigheter"):
    # its base URL (KOMPETENSBOT_GRAPH_URL; with credentials https only, anonymous
    # loopback only), whether a round installs the app for recipients without a
    # conversation (KOMPETENSBOT_GRAPH_INSTALL, off by default), the app's id in the
    # tenant's catalog (KOMPETENSBOT_TEAMS_APP_CATALOG_ID; None: looked up by the
    # manifest's id, KOMPETENSBOT_TEAMS_APP_ID or else the client id, with
    # AppCatalog.Read.All) and Graph requests a second per registration.
    graph_url: str | None = None  # None: https://graph.microsoft.com/v1.0 (bot.graph.GRAPH_URL)
    graph_install: bool = False
    teams_app_catalog_id: str | None = None
    teams_app_id: str | None = None
    graph_rate: float = 5.0

    # The registrations besides the SDK's CONNECTIONS__ names (bot.registrations):
    # KOMPETENSBOT_CITY_CONNECTIONS and the registrations file, as read.
    registration_settings: RegistrationSettings = field(default_factory=RegistrationSettings, repr=False)

    @property
    def connections(self) -> dict[str, dict[str, Any]]:
        """Every SDK connection with a setting set, by name: the environment's
        (CONNECTIONS__<NAME>__SETTINGS__…) and the registrations file's."""
        found = {name: set_settings(section) for name, section in self.sdk.get("CONNECTIONS", {}).items()}
        for name, section in self.registration_settings.file_connections.items():
            found.setdefault(name, set_settings(section))
        return {name: values for name, values in found.items() if values}

    def _default(self) -> dict[str, Any]:
        """The default registration's settings: SERVICE_CONNECTION's, else the first by name."""
        connections = self.connections
        if DEFAULT in connections:
            return connections[DEFAULT]
        return connections[min(connections)] if connections else {}

    @property
    def client_id(self) -> str | None:
        """The default registration's app id (the only one's, as a rule; see `registrations`)."""
        value = self._default().get("CLIENTID")  # the SDK's name; it reads no other
        return str(value) if value else None

    @property
    def anonymous(self) -> bool:
        """No credentials: anonymous mode (serve starts so only when asked to, see check_serve)."""
        return self.client_id is None

    @property
    def registration(self) -> dict[str, Any]:
        """The SERVICE_CONNECTION settings that are set (the SDK's names, without PREFIX)."""
        return set_settings(self.sdk.get("CONNECTIONS", {}).get(DEFAULT, {}))

    @property
    def tenant_id(self) -> str | None:
        """The default registration's own tenant (CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID)."""
        value = self._default().get("TENANTID")
        return str(value) if value else None

    @cached_property
    def registrations(self) -> Registrations:
        """Every registration, each linked to its city when there are several (bot.registrations);
        empty when anonymous. RegistrationError for settings that cannot be served (check_serve
        refuses the start with its message)."""
        return registrations_of(
            self.sdk.get("CONNECTIONS", {}),
            self.registration_settings,
            connections_map_set=bool(self.sdk.get("CONNECTIONSMAP")),
        )

    def _check_service_urls(self) -> None:
        """KOMPETENSBOT_SERVICE_URLS must be origins (bot.outbound.parse_origins)."""
        from bot.outbound import SERVICE_URLS_ENV, parse_origins

        if self.service_urls is None:
            return
        try:
            parse_origins(self.service_urls)
        except ValueError as problem:
            raise start_refused(
                f"{problem}. Tillåtet: https://värd[:port], eller http://127.0.0.1:port för lokal "
                "användning, åtskilda med kommatecken. Servern startade inte.",
                SERVICE_URLS_ENV,
            ) from None

    def _check_file_upload_urls(self) -> None:
        """KOMPETENSBOT_FILE_UPLOAD_URLS must be origins (bot.file_offers.UploadPolicy)."""
        from bot.file_offers import UPLOAD_URLS_ENV, UploadPolicy

        try:
            UploadPolicy.of(self.file_upload_urls)
        except ValueError as problem:
            raise start_refused(
                f"{problem}. Tillåtet: https://värd[:port], eller http://127.0.0.1:port för lokal "
                "användning, åtskilda med kommatecken. Servern startade inte.",
                UPLOAD_URLS_ENV,
            ) from None

    def _check_graph_url(self) -> None:
        """KOMPETENSBOT_GRAPH_URL: https with credentials, loopback when anonymous (bot.outbound)."""
        from bot.graph import GRAPH_URL
        from bot.outbound import GRAPH_URL_ENV, graph_url_problem

        if self.graph_url is None and not self.graph_install:
            return  # Graph is not used
        problem = graph_url_problem(self.graph_url or GRAPH_URL, anonymous=self.anonymous)
        if problem:
            raise start_refused(f"{GRAPH_URL_ENV}: {problem}. Servern startade inte.", GRAPH_URL_ENV)

    def check_serve(self) -> None:
        """StartRefused when `serve` must not start with these settings: credentials
        that are partial, misnamed or not tied to one tenant; credentials together
        with anonymous, demo or a fixed date; no credentials without an explicit
        anonymous mode; anonymous mode on an address other than loopback."""
        self._check_service_urls()
        self._check_file_upload_urls()
        self._check_graph_url()
        source = self.registration_settings
        if not self.connections and not (source.city_connections or source.file):
            if self.classic_names:
                names = self.classic_names
                instead = ", ".join(f"{PREFIX}{CLASSIC_NAMES[name]} i stället för {name}" for name in names)
                raise start_refused(
                    f"{' och '.join(names)} läses inte av kompetensbot: sätt {instead}. "
                    "Servern startade inte.",
                    self.classic_names[0],
                )
            if not (self.anonymous_requested or self.demo):
                raise start_refused(
                    f"inga inloggningsuppgifter: sätt {PREFIX}CLIENTID, {PREFIX}CLIENTSECRET och "
                    f"{PREFIX}TENANTID, eller starta lokalt utan inloggning med --anonymous "
                    "(KOMPETENSBOT_ANONYMOUS=1) eller --demo. Servern startade inte.",
                    f"{PREFIX}CLIENTID",
                )
            if self.host not in LOOPBACK_HOSTS:
                raise start_refused(
                    f"utan inloggning (anonymt läge eller demo) lyssnar servern bara på 127.0.0.1, ::1 "
                    f"eller localhost, inte på {self.host}. Servern startade inte.",
                    "--host",
                )
            return
        try:
            registrations = self.registrations
        except RegistrationError as problem:
            raise start_refused(f"{problem.message} Servern startade inte.", problem.setting) from None
        if not registrations:
            raise start_refused(
                f"{source.file or CITY_CONNECTIONS_ENV}: inga registreringar, men inte heller anonymt läge: "
                f"sätt {PREFIX}CLIENTID, …CLIENTSECRET och …TENANTID, eller en tabell per registrering i "
                "filen. Servern startade inte.",
                CITY_CONNECTIONS_ENV if not source.file else "KOMPETENSBOT_REGISTRATIONS_FILE",
            )
        for name, value in (
            ("KOMPETENSBOT_TEAMS_APP_CATALOG_ID", self.teams_app_catalog_id),
            ("KOMPETENSBOT_TEAMS_APP_ID", self.teams_app_id),
        ):
            if value and len(registrations) > 1:
                raise start_refused(
                    f"{name} gäller en stad, och registreringarna är {len(registrations)}: ange appens id "
                    "per stad i registreringsfilen (KOMPETENSBOT_REGISTRATIONS_FILE: teams_app_id, "
                    "teams_app_catalog_id), eller låt bli, så slås det upp med stadens app-id. "
                    "Servern startade inte.",
                    name,
                )
        if self.anonymous_requested or self.demo:
            what = "--demo (KOMPETENSBOT_DEMO)" if self.demo else "--anonymous (KOMPETENSBOT_ANONYMOUS)"
            first = registrations.default.name if registrations.default else DEFAULT
            raise start_refused(
                f"{what} går inte med inloggningsuppgifter ({env_prefix(first)}CLIENTID är satt): "
                "ta bort det ena. Servern startade inte.",
                "--demo" if self.demo else "--anonymous",
            )
        if self.today is not None:
            raise start_refused(
                "--today (KOMPETENSBOT_TODAY) går inte med inloggningsuppgifter: i drift gäller "
                "dagens datum. Servern startade inte.",
                "--today",
            )

    @property
    def mode(self) -> str:
        if not self.anonymous:
            return "credentials"
        return "demo" if self.demo else "anonymous"

    @staticmethod
    def from_env(
        host: str | None = None,
        port: int | None = None,
        demo: bool | None = None,
        today: date | None = None,
        anonymous: bool | None = None,
    ) -> Settings:
        env = os.environ
        return Settings(
            tick_seconds=float(env.get("KOMPETENSBOT_TICK_SECONDS", "60")),
            send_rate=float(env.get("KOMPETENSBOT_SEND_RATE", "30")),
            round_in_flight=int(env.get("KOMPETENSBOT_ROUND_IN_FLIGHT", "1")),
            round_lease_seconds=float(env.get("KOMPETENSBOT_ROUND_LEASE_SECONDS", "300")),
            auto_rounds=env.get("KOMPETENSBOT_AUTO_ROUNDS", "1") not in ("0", "false", "nej"),
            today=today or settings_today(env),
            database_url=database_url(),
            host=host or env.get("KOMPETENSBOT_HOST", "127.0.0.1"),
            port=port or int(env.get("PORT", env.get("KOMPETENSBOT_PORT", "3978"))),
            demo=demo if demo is not None else env.get("KOMPETENSBOT_DEMO", "").lower() in _YES,
            sdk=load_configuration_from_env(dict(env)),
            registration_settings=RegistrationSettings.from_env(env),
            reply_attempts=int(env.get("KOMPETENSBOT_REPLY_ATTEMPTS", "4")),
            reply_timeout=float(env.get("KOMPETENSBOT_REPLY_TIMEOUT", "10")),
            housekeeping_seconds=float(env.get("KOMPETENSBOT_HOUSEKEEPING_SECONDS", "3600")),
            group_sync_seconds=float(env.get("KOMPETENSBOT_GROUP_SYNC_SECONDS", "3600")),
            anonymous_requested=(
                anonymous if anonymous is not None else env.get("KOMPETENSBOT_ANONYMOUS", "").lower() in _YES
            ),
            entra_callers=callers(env.get("KOMPETENSBOT_ENTRA_CALLERS", "")),
            classic_names=tuple(name for name in CLASSIC_NAMES if env.get(name)),
            # limits
            db_timeouts=DatabaseTimeouts.from_env(env),
            health_timeout=float(env.get("KOMPETENSBOT_HEALTH_TIMEOUT", "2")),
            header_timeout=float(env.get("KOMPETENSBOT_HEADER_TIMEOUT", "10")),
            body_timeout=float(env.get("KOMPETENSBOT_BODY_TIMEOUT", "10")),
            shutdown_timeout=float(env.get("KOMPETENSBOT_SHUTDOWN_TIMEOUT", "3")),
            ledger_key=env.get(KEY_VARIABLE, ""),
            # outbound
            service_urls=env.get("KOMPETENSBOT_SERVICE_URLS") or None,
            file_upload_urls=env.get("KOMPETENSBOT_FILE_UPLOAD_URLS") or None,
            # at least once, saved once
            claim_lease_seconds=float(env.get("KOMPETENSBOT_CLAIM_LEASE_SECONDS", "60")),
            # Microsoft Graph
            graph_url=env.get("KOMPETENSBOT_GRAPH_URL", "").strip() or None,
            graph_install=env.get("KOMPETENSBOT_GRAPH_INSTALL", "").lower() in _YES,
            teams_app_catalog_id=env.get("KOMPETENSBOT_TEAMS_APP_CATALOG_ID", "").strip() or None,
            teams_app_id=env.get("KOMPETENSBOT_TEAMS_APP_ID", "").strip() or None,
            graph_rate=float(env.get("KOMPETENSBOT_GRAPH_RATE", "5")),
        )


# --- the ledger's seal -------------------------------------------------------


def check_ledger_key(settings: Settings, engine: Engine) -> None:
    """At start, before any request: with credentials the server needs its own
    KOMPETENSBOT_LEDGER_KEY; the database must be sealed with the process's
    key (a real key takes over from the development key here, from the next
    seal on). Raises StartRefused with the reason in Swedish."""
    if not settings.anonymous:
        problem = key_problem(settings.ledger_key)
        if problem:
            raise start_refused(f"kompetensbot serve startar inte: {problem}", KEY_VARIABLE)
    try:
        adopt_key_in(engine, ledger_key({KEY_VARIABLE: settings.ledger_key}))
    except DomainError as refused:
        raise start_refused(f"kompetensbot serve startar inte: {refused.message}", KEY_VARIABLE) from None


# --- the registrations' cities -------------------------------------------------


def check_registrations(settings: Settings, engine: Engine) -> None:
    """At start, after the schema check: every city a registration is linked to must be a
    city of the database (StartRefused otherwise, in Swedish). A registration whose own
    tenant is linked to no city, or to another, is logged: its city's people are refused
    until `kompetensbot tenants link` links their tenant."""
    from storage.bot_state import city_of_tenant
    from storage.repository import city_names

    registrations = settings.registrations
    if not registrations.linked:
        return
    slugs = [slug for _name, slug in city_names(engine)]
    for registration in registrations:
        if registration.city not in slugs:
            raise start_refused(
                f"{CITY_CONNECTIONS_ENV}: staden {registration.city} (anslutningen {registration.name}) "
                f"finns inte i databasen; städerna är {listed(slugs) or 'inga (läs in en först)'}. "
                "Servern startade inte.",
                CITY_CONNECTIONS_ENV,
            )
        served = city_of_tenant(engine, registration.tenant_id)
        if served != registration.city:
            log.warning(
                "registration %s (%s): its own tenant %s is linked to %s; link the city's tenants with "
                "`kompetensbot --org %s tenants link <tenant id>`",
                registration.name,
                registration.city,
                registration.tenant_id,
                served or "no city",
                registration.city,
            )
