"""The bot's Azure bot registrations, one per city (issue 23).

Azure Bot Service creates only single-tenant bots since 31 July 2025, so each city brings its
own registration: an app (client) id with its secret or certificate, in the city's own tenant.
One deployment may serve many cities, each through its own registration.

The credentials are the Agents SDK's own settings, one SDK connection per registration:

    CONNECTIONS__<NAME>__SETTINGS__CLIENTID, …__CLIENTSECRET, …__TENANTID
    (and the SDK's other SETTINGS names: AUTHTYPE, CERTPFXFILE, AUTHORITY, …)

and kompetensbot's own setting links each connection to its city (the city's slug):

    KOMPETENSBOT_CITY_CONNECTIONS=malmo:MALMO,hagersten-liljeholmen:HL

For many cities, `KOMPETENSBOT_REGISTRATIONS_FILE` names a TOML file with one table per
connection (`read_file`): the SDK's SETTINGS names, the city, and the secret by reference
(`CLIENTSECRET_ENV`: an environment variable, `CLIENTSECRET_FILE`: a file such as a mounted
Key Vault secret), never written in the file.

One connection named SERVICE_CONNECTION and no link is the single registration kompetensbot
always had: it belongs to no city in particular and serves under the rules it always did
(bot.teams_bot: a tenant linked to a city, or its own tenant when there is one city). Linked
registrations are strict: a token for a registration is accepted only on an activity whose tenant
is linked to that registration's city (bot.app), and the turn runs as that city.

How the SDK uses them (Agents SDK 1.9): its JWT check accepts a token whose audience is any
connection's client id (AgentAuthConfiguration._jwt_patch_is_valid_aud); a reply's and a
proactive send's token comes from the connection that ConnectionManager.get_token_provider picks
by the claims' audience, given a CONNECTIONSMAP: `connections_map` makes that map here, one
AUDIENCE entry per registration, so the operator never writes it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.inbound_auth import GUID

DEFAULT = "SERVICE_CONNECTION"
"""The SDK's name of the bot's own registration, the one it must always have."""

CITY_CONNECTIONS_ENV = "KOMPETENSBOT_CITY_CONNECTIONS"
REGISTRATIONS_FILE_ENV = "KOMPETENSBOT_REGISTRATIONS_FILE"

SDK_NAMES = frozenset(
    "AUTHTYPE CLIENTID AUTHORITY AUTHORITYENDPOINT TENANTID CLIENTSECRET CERTPFXFILE SENDX5C CONNECTIONNAME "
    "FEDERATEDCLIENTID FEDERATEDTOKENFILE SCOPES AZUREREGION REGIONALAUTHORITY IDPMRESOURCE "
    "ALT_BLUEPRINT_NAME ALTERNATEBLUEPRINTCONNECTIONNAME ANONYMOUS_ALLOWED ISSUERS VALIDATE_ISSUER".split()
)
"""The SETTINGS names the SDK reads (AgentAuthConfiguration, version 1.9); any other is a misspelling."""

_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_YES = ("1", "true", "ja")
_FILE_KEYS = {"city", "teams_app_id", "teams_app_catalog_id"}
_SECRET_REFERENCES = {"CLIENTSECRET_ENV", "CLIENTSECRET_FILE"}
SHOWN = 10
"""How many names a message lists before "…" (the cities of a deployment may be hundreds)."""


class RegistrationError(ValueError):
    """Settings of the registrations that cannot be served: the Swedish message names the
    setting and what is allowed (bot.config turns it into a refused start)."""

    def __init__(self, message: str, setting: str):
        super().__init__(message)
        self.message = message
        self.setting = setting


def listed(names: list[str]) -> str:
    """At most SHOWN names, then how many more."""
    more = len(names) - SHOWN
    return ", ".join(names[:SHOWN]) + (f" och {more} till" if more > 0 else "")


@dataclass(frozen=True, slots=True)
class Registration:
    """One bot registration: its SDK connection's `name`, its app (client) id in lower case,
    its own tenant, and its city's slug (None: the single registration linked to no city).
    `teams_app_id` and `teams_app_catalog_id`: the city's Teams app (the manifest's id, the
    id in the tenant's catalog) for Graph installs, when the registrations file gives them."""

    name: str
    app_id: str
    tenant_id: str
    city: str | None = None
    teams_app_id: str | None = None
    teams_app_catalog_id: str | None = None

    @property
    def bot_id(self) -> str:
        """The bot's id in Teams (a reply's `from`, a reference's `bot`)."""
        return f"28:{self.app_id}"


def bare_app_id(bot_or_app_id: str | None) -> str:
    """ "28:<app id>" or "<app id>" as the app id, in lower case ("" for none)."""
    value = (bot_or_app_id or "").strip().lower()
    return value[3:] if value.startswith("28:") else value


@dataclass(frozen=True, slots=True)
class Registrations:
    """Every registration of the deployment (empty: anonymous). Either one registration linked
    to no city, or every one linked to its own city (`registrations_of` allows nothing else)."""

    items: tuple[Registration, ...] = ()

    def __iter__(self) -> Iterator[Registration]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def linked(self) -> bool:
        """Whether the registrations are linked to cities (then each serves only its own)."""
        return any(r.city for r in self.items)

    @property
    def default(self) -> Registration | None:
        """SERVICE_CONNECTION's registration, else the first by name (None: anonymous)."""
        return next((r for r in self.items if r.name == DEFAULT), self.items[0] if self.items else None)

    @property
    def cities(self) -> list[str]:
        return sorted(r.city for r in self.items if r.city)

    def for_city(self, slug: str | None) -> Registration | None:
        """The city's own registration (None: it has none); the single unlinked one serves
        every city."""
        if not self.linked:
            return self.default
        if not slug:  # "the only city", as `--org` left out means
            return self.items[0] if len(self.items) == 1 else None
        return next((r for r in self.items if r.city == slug), None)

    def app_id_for(self, slug: str | None) -> str | None:
        """The app id a city's messages go out as (None: no registration for it, or anonymous).
        For a send budget per (registration, tenant): the registration part of the key."""
        found = self.for_city(slug)
        return found.app_id if found else None

    def for_app_id(self, bot_or_app_id: str | None) -> Registration | None:
        """The registration of an app id, or of a bot id "28:<app id>" (any case)."""
        wanted = bare_app_id(bot_or_app_id)
        return next((r for r in self.items if r.app_id == wanted), None) if wanted else None

    def for_tenant(self, tenant_id: str | None) -> Registration | None:
        """The registration whose own tenant this is, when exactly one's is (a single-tenant
        bot is installed only in its own tenant)."""
        wanted = (tenant_id or "").lower()
        found = [r for r in self.items if wanted and r.tenant_id.lower() == wanted]
        return found[0] if len(found) == 1 else None

    def connections_map(self) -> list[dict[str, str]]:
        """The SDK's CONNECTIONSMAP: a token for a registration's audience from its own
        connection, for any serviceUrl."""
        return [{"AUDIENCE": r.app_id, "CONNECTION": r.name, "SERVICEURL": "*"} for r in self.items]


# --- the settings as read --------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationSettings:
    """What the environment says of the registrations besides the SDK's CONNECTIONS__ names:
    KOMPETENSBOT_CITY_CONNECTIONS as written, and the registrations file as read (its SDK
    connections with the secrets resolved, its links and Teams app ids), or why it could not be
    read. Never raises: `registrations_of` refuses what cannot be served."""

    city_connections: str = ""
    file: str | None = None
    file_connections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)
    file_links: tuple[tuple[str, str], ...] = ()
    file_apps: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)
    problem: RegistrationError | None = None

    @staticmethod
    def from_env(env: Mapping[str, str]) -> RegistrationSettings:
        links = env.get(CITY_CONNECTIONS_ENV, "").strip()
        path = env.get(REGISTRATIONS_FILE_ENV, "").strip() or None
        if path is None:
            return RegistrationSettings(city_connections=links)
        try:
            return read_file(Path(path), env, city_connections=links)
        except RegistrationError as problem:
            return RegistrationSettings(city_connections=links, file=path, problem=problem)


def _file_value(where: str, key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value).strip()
    raise RegistrationError(
        f"{where}{key} ska vara en text, inte {type(value).__name__}.", REGISTRATIONS_FILE_ENV
    )


def _secret(where: str, table: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    """CLIENTSECRET_ENV's variable or CLIENTSECRET_FILE's content (None: neither given)."""
    by_env = table.get("CLIENTSECRET_ENV")
    by_file = table.get("CLIENTSECRET_FILE")
    if by_env is not None and by_file is not None:
        raise RegistrationError(
            f"{where}CLIENTSECRET_ENV och CLIENTSECRET_FILE är båda satta: ange hemligheten på ett sätt.",
            REGISTRATIONS_FILE_ENV,
        )
    if by_env is not None:
        name = _file_value(where, "CLIENTSECRET_ENV", by_env)
        value = env.get(name, "").strip()
        if not value:
            raise RegistrationError(
                f"{where}CLIENTSECRET_ENV pekar på miljövariabeln {name}, som inte är satt.",
                REGISTRATIONS_FILE_ENV,
            )
        return value
    if by_file is not None:
        name = _file_value(where, "CLIENTSECRET_FILE", by_file)
        try:
            value = Path(name).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as problem:
            raise RegistrationError(
                f"{where}CLIENTSECRET_FILE: filen {name} kan inte läsas ({type(problem).__name__}).",
                REGISTRATIONS_FILE_ENV,
            ) from None
        if not value:
            raise RegistrationError(f"{where}CLIENTSECRET_FILE: filen {name} är tom.", REGISTRATIONS_FILE_ENV)
        return value
    return None


def read_file(path: Path, env: Mapping[str, str], *, city_connections: str = "") -> RegistrationSettings:
    """The registrations file (TOML): one table per SDK connection, named as the connection,
    with `city` (the city's slug), the SDK's SETTINGS names (CLIENTID, TENANTID, AUTHTYPE,
    CERTPFXFILE, …), the secret by reference (CLIENTSECRET_ENV or CLIENTSECRET_FILE; a
    CLIENTSECRET written in the file is refused) and optionally `teams_app_id` and
    `teams_app_catalog_id`. RegistrationError when it cannot be read or says something else."""
    shown = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as problem:
        raise RegistrationError(
            f"{REGISTRATIONS_FILE_ENV}: filen {shown} kan inte läsas ({type(problem).__name__}).",
            REGISTRATIONS_FILE_ENV,
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as problem:
        raise RegistrationError(
            f"{REGISTRATIONS_FILE_ENV}: {shown} är inte giltig TOML ({str(problem).splitlines()[0][:120]}).",
            REGISTRATIONS_FILE_ENV,
        ) from None
    connections: dict[str, dict[str, Any]] = {}
    links: list[tuple[str, str]] = []
    apps: dict[str, tuple[str | None, str | None]] = {}
    for name, table in data.items():
        where = f"{shown}: [{name}] "
        if not isinstance(table, dict):
            raise RegistrationError(
                f"{shown}: {name} ska vara en tabell ([{name}]) med en registrerings inställningar.",
                REGISTRATIONS_FILE_ENV,
            )
        if not _NAME.match(name):
            raise RegistrationError(
                f"{shown}: [{name}] är inget giltigt namn på en anslutning (bokstäverna A–Z, siffror och _).",
                REGISTRATIONS_FILE_ENV,
            )
        if "CLIENTSECRET" in table:
            raise RegistrationError(
                f"{where}CLIENTSECRET står i filen: skriv aldrig hemligheten där, utan "
                'CLIENTSECRET_ENV = "VARIABEL" (en miljövariabel) eller CLIENTSECRET_FILE = "/sökväg".',
                REGISTRATIONS_FILE_ENV,
            )
        unknown = sorted(k for k in table if k not in SDK_NAMES | _FILE_KEYS | _SECRET_REFERENCES)
        if unknown:
            raise RegistrationError(
                f"{where}okänt namn: {', '.join(unknown)} (tillåtet: city, teams_app_id, "
                "teams_app_catalog_id, CLIENTSECRET_ENV, CLIENTSECRET_FILE och SDK:ns namn som "
                "CLIENTID och TENANTID).",
                REGISTRATIONS_FILE_ENV,
            )
        settings = {k: _file_value(where, k, v) for k, v in table.items() if k in SDK_NAMES}
        secret = _secret(where, table, env)
        if secret is not None:
            settings["CLIENTSECRET"] = secret
        connections[name] = {"SETTINGS": settings}
        if "city" in table:
            links.append((_file_value(where, "city", table["city"]), name))
        app = table.get("teams_app_id")
        catalog = table.get("teams_app_catalog_id")
        if app is not None or catalog is not None:
            apps[name] = (
                _file_value(where, "teams_app_id", app) if app is not None else None,
                _file_value(where, "teams_app_catalog_id", catalog) if catalog is not None else None,
            )
    return RegistrationSettings(
        city_connections=city_connections,
        file=shown,
        file_connections=connections,
        file_links=tuple(links),
        file_apps=apps,
    )


# --- checked -----------------------------------------------------------------------------


def env_prefix(name: str) -> str:
    return f"CONNECTIONS__{name}__SETTINGS__"


def set_settings(section: object) -> dict[str, Any]:
    """A connection's SETTINGS that are set (the SDK's names)."""
    settings = section.get("SETTINGS", {}) if isinstance(section, dict) else {}
    if not isinstance(settings, dict):
        return {}
    return {k: v for k, v in settings.items() if v not in (None, "")}


def check_connection(where: str, settings: Mapping[str, Any], setting: str | None = None) -> None:
    """One connection's credentials: complete, spelt as the SDK reads them, tied to one
    tenant, never anonymous. `where` prefixes each name in the message (the environment
    variable's prefix, or the file and table); `setting`: the setting to name (default: the
    variable)."""

    def refuse(message: str, key: str) -> RegistrationError:
        return RegistrationError(message, setting or where + key)

    unknown = sorted(k for k in settings if k not in SDK_NAMES)
    hint = f" (okänt namn: {', '.join(where + k for k in unknown)})" if unknown else ""
    auth_type = str(settings.get("AUTHTYPE") or "ClientSecret")
    secret = ["CLIENTSECRET"] if auth_type.lower() == "clientsecret" else []
    for key in ["CLIENTID", "TENANTID", *secret]:
        if not settings.get(key):
            raise refuse(f"{where}{key} saknas{hint}.", key)
    client = str(settings.get("CLIENTID") or "")
    if not GUID.match(client.strip()):
        raise refuse(
            f"{where}CLIENTID ska vara bottens app-id (klient-id) från Azure, ett GUID som "
            f"00000000-0000-0000-0000-000000000000, inte {client[:40]!r}.",
            "CLIENTID",
        )
    tenant = str(settings.get("TENANTID") or "")
    if not GUID.match(tenant):
        raise refuse(
            f"{where}TENANTID ska vara stadens tenant-id (ett GUID), inte {tenant[:40]!r}: "
            "common, organizations och consumers tar emot andra organisationer.",
            "TENANTID",
        )
    if str(settings.get("ANONYMOUS_ALLOWED", "")).lower() in _YES:
        raise refuse(
            f"{where}ANONYMOUS_ALLOWED går inte med inloggningsuppgifter: varje anrop ska ha en token.",
            "ANONYMOUS_ALLOWED",
        )
    authority = str(settings.get("AUTHORITY") or "")
    if authority and authority.rstrip("/").rsplit("/", 1)[-1].lower() != tenant.lower():
        raise refuse(f"{where}AUTHORITY ska sluta med samma tenant-id som {where}TENANTID.", "AUTHORITY")


def parse_links(text: str) -> list[tuple[str, str]]:
    """KOMPETENSBOT_CITY_CONNECTIONS: "stad:ANSLUTNING" pairs, separated by commas or spaces."""
    pairs: list[tuple[str, str]] = []
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        city, _, name = part.partition(":")
        if not city or not name:
            raise RegistrationError(
                f"{CITY_CONNECTIONS_ENV}: {part[:60]!r} ska vara stad:ANSLUTNING, till exempel "
                "malmo:MALMO,hagersten-liljeholmen:HL.",
                CITY_CONNECTIONS_ENV,
            )
        pairs.append((city.strip(), name.strip()))
    return pairs


def registrations_of(
    env_connections: Mapping[str, Any], source: RegistrationSettings, *, connections_map_set: bool = False
) -> Registrations:
    """The registrations the settings describe, checked: RegistrationError (a Swedish message
    naming the setting) for credentials that are incomplete or misspelt, a connection named
    twice, a link to a connection that does not exist, a city or an app id twice, a connection
    without a city when there are several, or CONNECTIONSMAP set by hand beside several.
    `env_connections`: the SDK's CONNECTIONS from the environment (load_configuration_from_env)."""
    if source.problem is not None:
        raise source.problem
    where: dict[str, str] = {}
    found: dict[str, dict[str, Any]] = {}
    for name, section in env_connections.items():
        settings = set_settings(section)
        if settings:
            found[name], where[name] = settings, env_prefix(name)
    for name, section in source.file_connections.items():
        if name in found:
            raise RegistrationError(
                f"anslutningen {name} finns både i miljön ({env_prefix(name)}…) och i {source.file}: "
                "ange den på ett ställe.",
                REGISTRATIONS_FILE_ENV,
            )
        found[name], where[name] = set_settings(section), f"{source.file}: [{name}] "
    for name, settings in found.items():
        in_file = name in source.file_connections
        check_connection(where[name], settings, REGISTRATIONS_FILE_ENV if in_file else None)
    links = parse_links(source.city_connections)
    for city, name in source.file_links:
        if any(n == name for _c, n in links):
            raise RegistrationError(
                f"anslutningen {name} kopplas till en stad både i {CITY_CONNECTIONS_ENV} och i "
                f"{source.file}: ange staden på ett ställe.",
                CITY_CONNECTIONS_ENV,
            )
        links.append((city, name))
    city_of: dict[str, str] = {}
    for city, name in links:
        setting = CITY_CONNECTIONS_ENV if name not in source.file_connections else REGISTRATIONS_FILE_ENV
        if not SLUG.match(city):
            raise RegistrationError(
                f"{setting}: {city[:40]!r} är ingen stads förkortning (små bokstäver, siffror och -, "
                "som i kompetensbot --org).",
                setting,
            )
        if name not in found:
            raise RegistrationError(
                f"{CITY_CONNECTIONS_ENV}: anslutningen {name} (för {city}) finns inte: sätt "
                f"{env_prefix(name)}CLIENTID, …CLIENTSECRET och …TENANTID"
                + (f", eller lägg [{name}] i {source.file}" if source.file else "")
                + ".",
                CITY_CONNECTIONS_ENV,
            )
        if name in city_of:
            raise RegistrationError(
                f"{setting}: anslutningen {name} är kopplad till två städer ({city_of[name]} och {city}): "
                "varje stad har sin egen registrering.",
                setting,
            )
        if city in city_of.values():
            other = next(n for n, c in city_of.items() if c == city)
            raise RegistrationError(
                f"{setting}: staden {city} har två registreringar ({other} och {name}): en per stad.",
                setting,
            )
        city_of[name] = city
    if len(found) > 1 or city_of:
        unlinked = sorted(n for n in found if n not in city_of)
        if unlinked:
            raise RegistrationError(
                f"{'anslutningen' if len(unlinked) == 1 else 'anslutningarna'} {listed(unlinked)} har "
                f"ingen stad: med flera registreringar hör varje till en stad (sätt {CITY_CONNECTIONS_ENV}="
                f'stad:{unlinked[0]},… eller city = "…" i registreringsfilen).',
                CITY_CONNECTIONS_ENV,
            )
        if connections_map_set:
            raise RegistrationError(
                "CONNECTIONSMAP sätts inte för hand med registreringar per stad: kompetensbot gör den "
                "själv, en AUDIENCE per registrering. Ta bort CONNECTIONSMAP__….",
                "CONNECTIONSMAP",
            )
    by_app: dict[str, str] = {}
    items: list[Registration] = []
    for name in sorted(found):
        settings = found[name]
        app_id = str(settings["CLIENTID"]).strip().lower()
        if app_id in by_app:
            raise RegistrationError(
                f"app-id {app_id} finns i två anslutningar ({by_app[app_id]} och {name}): varje stad har "
                "sin egen registrering med ett eget app-id.",
                where[name] + "CLIENTID",
            )
        by_app[app_id] = name
        teams_app, catalog = source.file_apps.get(name, (None, None))
        items.append(
            Registration(
                name, app_id, str(settings["TENANTID"]).strip(), city_of.get(name), teams_app, catalog
            )
        )
    return Registrations(tuple(items))
