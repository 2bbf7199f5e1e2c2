"""Where the bot may send: the one place that decides.

Every reply and every proactive request goes to a `serviceUrl` that came
with an activity (or was stored from one). The SDK checks none of them on the
way out (its `OutboundHostValidator` looks at the inbound serviceUrl only,
and only by host), so anyone whose activity is let in could name any host,
and the bot would post to it with its own Bot Framework token. Here an
origin (scheme, host and port) is allowed only when it is on our list:

  mode                 allowed origins
  -------------------  ------------------------------------------------------
  with credentials     KOMPETENSBOT_SERVICE_URLS (comma-separated origins), or
                       by default Teams' service hosts (TEAMS_SERVICE_ORIGINS)
  anonymous, no list   any loopback origin: 127.0.0.0/8, ::1, localhost
  anonymous, a list    the listed origins that are loopback ones

A listed origin must be https, or http on a loopback host (as the tests and
the Agents Playground need): anything else stops the server at start.

`OutboundPolicy.check(url)` gives a `Decision` (true when allowed) with the
reason; `OutboundRefused` is raised where a client or a send would be made
for an origin that is not allowed, before any socket is opened.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger("kompetensbot.outbound")

SERVICE_URLS_ENV = "KOMPETENSBOT_SERVICE_URLS"
GRAPH_URL_ENV = "KOMPETENSBOT_GRAPH_URL"

TEAMS_SERVICE_ORIGINS = (
    "https://smba.trafficmanager.net",  # the public cloud
    "https://smba.infra.gcc.teams.microsoft.com",  # US government: GCC
    "https://smba.infra.gov.teams.microsoft.us",  # GCC High
    "https://smba.infra.dod.teams.microsoft.us",  # DoD
)
"""Teams' service hosts (the SDK's TeamsServiceEndpoints, Microsoft's documented
proactive endpoints): where Teams' activities say to answer."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


class OutboundRefused(Exception):
    """A request to an origin that is not allowed: nothing was sent."""

    def __init__(self, url: object, reason: str):
        super().__init__(f"not sending to {_shown(url)}: {reason}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether an address may be sent to, and why (or why not)."""

    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok


def _shown(url: object) -> str:
    text = str(url)
    return text if len(text) <= 120 else text[:119] + "…"


def origin_of(url: object) -> str | None:
    """ "scheme://host:port" of an http(s) address (port always written, host
    lower-case), or None when it is not one (no host, user info, another
    scheme, an unreadable port)."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None or parts.password is not None:
        return None
    if host.endswith("."):  # "localhost." is no loopback name: it is asked of DNS
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS[scheme]}"


def is_loopback(url: object) -> bool:
    origin = origin_of(url)
    if origin is None:
        return False
    host = urlsplit(origin).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_origins(text: str | Iterable[str]) -> tuple[str, ...]:
    """The listed origins, normalised; ValueError names an entry that is not an
    origin (a path, another scheme, plain http to a host that is not loopback)."""
    entries = [e.strip() for e in text.split(",")] if isinstance(text, str) else [e.strip() for e in text]
    origins = []
    for entry in filter(None, entries):
        origin = origin_of(entry)
        path = urlsplit(entry).path if origin else ""
        if origin is None or path not in ("", "/") or urlsplit(entry).query or urlsplit(entry).fragment:
            raise ValueError(f"{SERVICE_URLS_ENV}: {entry!r} is not an origin (https://host[:port])")
        if origin.startswith("http:") and not is_loopback(origin):
            raise ValueError(f"{SERVICE_URLS_ENV}: {entry!r} is plain http to a host that is not loopback")
        origins.append(origin)
    return tuple(origins)


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """The allowed origins (see the module's table).

    Attributes:
      origins: the listed origins, normalised (origin_of).
      anonymous: no credentials: only loopback origins.
      listed: the origins were set (KOMPETENSBOT_SERVICE_URLS), not the default.
    """

    origins: frozenset[str]
    anonymous: bool = False
    listed: bool = False

    @staticmethod
    def of(service_urls: str | Iterable[str] | None, *, anonymous: bool) -> OutboundPolicy:
        parsed = parse_origins(service_urls) if service_urls is not None else ()
        listed = bool(parsed)
        origins = parsed if listed else parse_origins(TEAMS_SERVICE_ORIGINS)
        return OutboundPolicy(frozenset(origins), anonymous=anonymous, listed=listed)

    @staticmethod
    def from_env(*, anonymous: bool, env: dict[str, str] | None = None) -> OutboundPolicy:
        value = (env if env is not None else os.environ).get(SERVICE_URLS_ENV)
        return OutboundPolicy.of(value, anonymous=anonymous)

    @staticmethod
    def from_settings(settings: Any) -> OutboundPolicy:
        return OutboundPolicy.of(getattr(settings, "service_urls", None), anonymous=settings.anonymous)

    def check(self, url: object) -> Decision:
        origin = origin_of(url)
        if origin is None:
            return Decision(False, f"{_shown(url)!r} is not an http(s) address with a host")
        if self.anonymous:
            if not is_loopback(origin):
                return Decision(False, f"{origin} is not loopback, and the bot runs anonymously")
            if self.listed and origin not in self.origins:
                return Decision(False, f"{origin} is not in {SERVICE_URLS_ENV}")
            return Decision(True, f"{origin} is loopback" + (" and listed" if self.listed else ""))
        if origin not in self.origins:
            where = SERVICE_URLS_ENV if self.listed else f"Teams' service hosts (set {SERVICE_URLS_ENV})"
            return Decision(False, f"{origin} is not in {where}")
        return Decision(True, f"{origin} is listed")

    def require(self, url: object) -> None:
        """OutboundRefused (logged) unless `url` is allowed."""
        decision = self.check(url)
        if not decision:
            log.warning("refused to send to %s: %s", _shown(url), decision.reason)
            raise OutboundRefused(url, decision.reason)

    def describe(self) -> str:
        if self.anonymous:
            return "loopback only" + (f" ({', '.join(sorted(self.origins))})" if self.listed else "")
        return ", ".join(sorted(self.origins))


def graph_url_problem(url: str, *, anonymous: bool) -> str | None:
    """Why Microsoft Graph's base URL (KOMPETENSBOT_GRAPH_URL) may not be used, in
    Swedish, or None: the registration's token goes there, so with credentials it must be
    https (https://graph.microsoft.com/v1.0, a national cloud's Graph); without
    credentials (the tests' stand-in, a development server) only a loopback address,
    as for KOMPETENSBOT_SERVICE_URLS."""
    origin = origin_of(url)
    if origin is None or urlsplit(url.strip()).query or urlsplit(url.strip()).fragment:
        return f"{_shown(url)!r} är ingen http(s)-adress med värd, t.ex. https://graph.microsoft.com/v1.0"
    if anonymous:
        if not is_loopback(origin):
            return f"{origin} är inte en loopback-adress, och boten körs utan inloggningsuppgifter"
        return None
    if not origin.startswith("https:"):
        return f"{origin} är inte https: registreringens token skickas dit"
    return None


def allowed(service_url: object, policy: OutboundPolicy) -> Decision:
    """`policy.check(service_url)`: may the bot send to this address?"""
    return policy.check(service_url)


def report_stored_references(engine: Any, policy: OutboundPolicy, *, examples: int = 3) -> int:
    """Log (one WARNING line: the count and a few examples) the stored
    conversation references whose origin is not allowed: nothing is sent to
    them (bot.proactive refuses each send), and a person's next message from
    Teams replaces theirs. Returns the count."""
    from storage.bot_state import stored_service_urls

    refused: list[str] = []
    count = 0
    for conversation_id, _user_id, url in stored_service_urls(engine):
        if not policy.check(url):
            count += 1
            if len(refused) < examples:
                refused.append(f"{_shown(conversation_id)} -> {origin_of(url) or _shown(url)!s}")
    if count:
        log.warning(
            "%d stored conversation reference(s) name a serviceUrl that is not allowed (%s); "
            "nothing is sent to them: e.g. %s",
            count,
            policy.describe(),
            "; ".join(refused),
        )
    else:
        log.info("every stored conversation reference names an allowed serviceUrl (%s)", policy.describe())
    return count
