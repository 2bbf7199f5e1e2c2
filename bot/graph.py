"""Microsoft Graph, as kompetensbot uses it (issue 22): one client per bot registration.

Each city brings its own bot registration (an Entra app in its own tenant), so a
Graph client belongs to a registration: its token is the registration's
application token for Graph (client credentials, `https://graph.microsoft.com/.default`),
asked for through the SDK's MSAL connection of that registration and cached by MSAL.

What the client does for every caller:
- sends only to its base URL's origin (`KOMPETENSBOT_GRAPH_URL`, by default
  https://graph.microsoft.com/v1.0): a `@odata.nextLink` to another origin is
  not followed, so the token never leaves for a host we did not choose;
- paces its requests (`rate` a second, per client) and retries a 429 or a 5xx
  (after its Retry-After, else an exponential backoff with jitter) up to
  `attempts` times; every other answer is returned as it came, for the caller to
  read (a 403 for missing consent, a 404, a 409 "already installed");
- never raises for an HTTP status: a connection error or a timeout is a
  `GraphResponse` with status 0 and the reason, so one person's failure is a
  reason recorded for that person, not a failed round.

The permissions each use needs, and the administrator's consent, are in the
README ("Microsoft Graph: consent and permissions").
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.registrations import DEFAULT, Registrations

log = logging.getLogger("kompetensbot.graph")

GRAPH_URL = "https://graph.microsoft.com/v1.0"
GRAPH_URL_ENV = "KOMPETENSBOT_GRAPH_URL"
GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_SCOPES = ("https://graph.microsoft.com/.default",)

TokenSource = Callable[[], Awaitable[str]]
"""The registration's application token for Graph ("" sends no Authorization header:
the stand-in Graph service of the tests and an anonymous development server)."""


@dataclass(frozen=True, slots=True)
class GraphResponse:
    """One answer from Graph: `status` (0: no answer, see `reason`), the JSON body
    (empty when there was none or it was not JSON), and Retry-After in seconds if given."""

    status: int
    body: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error_code(self) -> str:
        """Graph's error code ("Forbidden", "Authorization_RequestDenied", …), or ""."""
        error = self.body.get("error")
        return str(error.get("code", "")) if isinstance(error, Mapping) else ""

    @property
    def error_message(self) -> str:
        error = self.body.get("error")
        return str(error.get("message", "")) if isinstance(error, Mapping) else ""


def _retryable(status: int) -> bool:
    return status == 0 or status == 429 or status >= 500


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


class GraphClient:
    """Microsoft Graph for one bot registration (see the module)."""

    def __init__(
        self,
        token: TokenSource,
        *,
        base_url: str = GRAPH_URL,
        rate: float = 10.0,
        attempts: int = 4,
        timeout: float = 30.0,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.token = token
        self.base_url = base_url.rstrip("/")
        self.rate = rate
        self.attempts = max(1, attempts)
        self.timeout = timeout
        self.backoff = backoff
        self.max_wait = max_wait
        self._session = session
        self._own_session = session is None
        self._next_slot = 0.0
        self._pace = asyncio.Lock()

    def url(self, path: str) -> str:
        """The full address of a Graph path ("/users/x") under the base URL."""
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def allowed(self, url: str) -> bool:
        """Only the base URL's origin gets the token."""
        return _origin(url) == _origin(self.base_url)

    async def _session_of(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._own_session = True
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def _paced(self) -> None:
        if self.rate <= 0:
            return
        async with self._pace:
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + 1.0 / self.rate
        if wait > 0:
            await asyncio.sleep(wait)

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> GraphResponse:
        """One Graph request, paced and retried on 429 and 5xx (see the module)."""
        url = self.url(path)
        if not self.allowed(url):
            return GraphResponse(0, reason=f"adressen {url[:120]} är inte Microsoft Graphs: inget skickades")
        answer = GraphResponse(0, reason="ingen begäran gjordes")
        for attempt in range(1, self.attempts + 1):
            await self._paced()
            answer = await self._once(method, url, body, params, headers)
            if not _retryable(answer.status) or attempt == self.attempts:
                return answer
            wait = answer.retry_after
            if wait is None:
                wait = self.backoff * 2 ** (attempt - 1) * (0.5 + random.random() / 2)
            log.info("graph %s %s answered %s: again in %.1f s", method, path, answer.status, wait)
            await asyncio.sleep(min(wait, self.max_wait))
        return answer

    async def _once(
        self,
        method: str,
        url: str,
        body: Mapping[str, Any] | None,
        params: Mapping[str, str] | None,
        extra: Mapping[str, str] | None,
    ) -> GraphResponse:
        try:
            token = await self.token()
        except Exception as problem:  # MSAL's and the network's errors alike: a reason, not a crash
            log.warning("no Graph token: %s", problem)
            return GraphResponse(0, reason=f"ingen åtkomsttoken för Microsoft Graph: {problem}"[:300])
        headers = {"Accept": "application/json", **(extra or {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        session = await self._session_of()
        try:
            async with session.request(
                method, url, json=body, params=params, headers=headers, allow_redirects=False
            ) as response:
                text = await response.text()
                try:
                    parsed = json.loads(text) if text else {}
                except ValueError:
                    parsed = {}
                return GraphResponse(
                    response.status,
                    parsed if isinstance(parsed, dict) else {"value": parsed},
                    response.reason or "",
                    _retry_after(response.headers),
                )
        except (TimeoutError, aiohttp.ClientError) as problem:
            return GraphResponse(0, reason=f"Microsoft Graph svarade inte: {type(problem).__name__}")

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> GraphResponse:
        return await self.request("GET", path, params=params)

    async def pages(
        self, path: str, params: Mapping[str, str] | None = None, *, limit: int = 1000
    ) -> tuple[list[Mapping[str, Any]], GraphResponse]:
        """Every item of a collection, following `@odata.nextLink` on Graph's own origin (at
        most `limit` pages), and the last answer (not ok: the items are incomplete)."""
        items: list[Mapping[str, Any]] = []
        answer = await self.get(path, params)
        for _ in range(limit):
            if not answer.ok:
                return items, answer
            value = answer.body.get("value", [])
            items.extend(v for v in value if isinstance(v, Mapping))
            link = answer.body.get("@odata.nextLink")
            if not isinstance(link, str) or not link:
                return items, answer
            if not self.allowed(link):
                log.warning("graph nextLink to another origin not followed: %s", link[:120])
                return items, GraphResponse(0, reason="Microsoft Graph pekade vidare till en annan adress")
            answer = await self.get(link)
        return items, answer


def token_of(connection: Any) -> TokenSource:
    """A registration's application token for Graph through its SDK connection (an
    MSAL connection's `get_access_token`; the anonymous provider gives "")."""

    async def token() -> str:
        found = await connection.get_access_token(GRAPH_RESOURCE, list(GRAPH_SCOPES))
        return str(found or "")

    return token


DEFAULT_REGISTRATION = DEFAULT
"""The SDK's name of the bot's own registration (CONNECTIONS__SERVICE_CONNECTION__…)."""

NO_REGISTRATION = "staden har ingen egen registrering av boten (KOMPETENSBOT_CITY_CONNECTIONS)"


class GraphClients:
    """One `GraphClient` per bot registration, made on first use from the SDK connection
    of that name in the connection manager (bot.adapter.connection_manager): each city
    brings its own registration, and a client holds its registration's token source and
    its own pace. Anonymous (development, the tests' stand-in): no token is asked for.

    `problem`: why no client may be made (a base URL the outbound rules refuse:
    bot.outbound.graph_url_problem), in Swedish; `client` then gives None.

    `registrations` (bot.registrations): `for_city` gives a city's own registration's client
    (the single registration linked to no city serves every city)."""

    def __init__(
        self,
        connections: Any,
        *,
        base_url: str = GRAPH_URL,
        rate: float = 5.0,
        anonymous: bool = False,
        registrations: Registrations | None = None,
        **options: Any,
    ) -> None:
        from bot.outbound import graph_url_problem

        self.connections = connections
        self.base_url = base_url
        self.rate = rate
        self.anonymous = anonymous
        self.registrations = registrations or Registrations()
        self.options = options
        self.problem = graph_url_problem(base_url, anonymous=anonymous)
        self._clients: dict[str, GraphClient] = {}

    @staticmethod
    def from_settings(settings: Any, connections: Any = None) -> GraphClients:
        """From bot.config.Settings: KOMPETENSBOT_GRAPH_URL, KOMPETENSBOT_GRAPH_RATE and the
        registration's connection manager (made here when not given)."""
        if connections is None:
            from bot.adapter import connection_manager

            connections, _ = connection_manager(settings)
        return GraphClients(
            connections,
            base_url=settings.graph_url or GRAPH_URL,
            rate=settings.graph_rate,
            anonymous=settings.anonymous,
            registrations=None if settings.anonymous else settings.registrations,
        )

    def client(self, registration: str = DEFAULT_REGISTRATION) -> GraphClient | None:
        """The registration's client (the same one every time), or None (see `problem`)."""
        if self.problem:
            return None
        if registration not in self._clients:
            self._clients[registration] = GraphClient(
                self._token(registration), base_url=self.base_url, rate=self.rate, **self.options
            )
        return self._clients[registration]

    def registration_of(self, city: str | None) -> str | None:
        """The name of the registration a city's Graph requests go as (None: the city has none
        of its own among registrations per city). Anonymous: the default name, no token."""
        if self.anonymous or not self.registrations.linked:
            return DEFAULT_REGISTRATION
        found = self.registrations.for_city(city)
        return found.name if found else None

    def for_city(self, city: str | None) -> GraphClient | None:
        """The city's own registration's client (the same one every time), or None: see
        `problem`, or `why_not(city)`."""
        name = self.registration_of(city)
        return self.client(name) if name is not None else None

    def why_not(self, city: str | None) -> str:
        """Why `for_city(city)` gives no client, in Swedish."""
        return self.problem or ("" if self.registration_of(city) is not None else NO_REGISTRATION)

    def _token(self, registration: str) -> TokenSource:
        if self.anonymous:

            async def none() -> str:
                return ""

            return none
        return token_of(self.connections.get_connection(registration))

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
