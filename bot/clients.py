"""The SDK's channel service clients with one connection pool for all turns.

The Agents SDK's `RestChannelServiceClientFactory` (1.9, read from its
source) builds a new `aiohttp.ClientSession` for the connector client and
another for the user-token client on every turn, so every reply opens a new
TCP (and, against Teams, TLS) connection. `PooledClientFactory` is the same
factory behind the SDK's own extension point (`CloudAdapter(...,
channel_service_client_factory=...)`) with one change: the per-turn sessions
share one `aiohttp.TCPConnector`, so connections to the channel are kept
alive and reused.

Unchanged: each turn still gets its own connector client and session, with
their own headers; the user-token client (OAuth sign-in of users, which
kompetensbot does not use) is made only when a turn uses it
(`LazyUserTokenClient`); the token is asked for exactly as the SDK asks (the connection
manager's token provider for the same audience and scopes; MSAL caches it
per app and scope until it expires); agentic requests and Copilot Studio's
connector requests take the SDK's own path. Closing a turn's client closes
its session, not the shared pool.

Both factories here (`CheckedClientFactory`, the SDK's own with the check,
and `PooledClientFactory`) refuse a connector client for a service URL that
bot.outbound does not allow (`OutboundRefused`), before a token is asked for
or a session made: every reply goes through one of them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from microsoft_agents.activity import RoleTypes
from microsoft_agents.hosting.core import RestChannelServiceClientFactory, TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity
from microsoft_agents.hosting.core.connector import ConnectorClientBase, UserTokenClientBase
from microsoft_agents.hosting.core.connector.client import UserTokenClient
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from bot.outbound import OutboundPolicy
from bot.registrations import Registrations

log = logging.getLogger("kompetensbot.clients")


def _cache_product_info() -> None:
    """The SDK's clients compute their User-Agent text (`get_product_info`: an
    importlib.metadata lookup of the SDK's version, Python's and the OS's) on
    every construction, i.e. twice a turn; it cannot change while the process
    runs, so it is computed once."""
    from microsoft_agents.hosting.core.connector.client import connector_client, user_token_client

    for client_module in (connector_client, user_token_client):
        original = getattr(client_module, "get_product_info", None)
        if callable(original) and not hasattr(original, "cache_info"):
            client_module.get_product_info = functools.cache(original)  # type: ignore[attr-defined]  # the SDK module's own function, not in its public names


class _NoAnonymousAppIdWarning(logging.Filter):
    """The SDK warns "App ID is not provided" every time it builds a user
    token client without one, i.e. on every anonymous proactive send (and
    every anonymous turn through the SDK's own factory): 2 000 identical lines
    for a round. Said once by the server at start-up instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("App ID is not provided")


_SDK_TOKEN_CLIENT_LOG = "microsoft_agents.hosting.core.connector.client.user_token_client"


def quiet_anonymous_app_id_warning() -> None:
    """Silence the SDK's per-client "App ID is not provided" warning (idempotent)."""
    logger = logging.getLogger(_SDK_TOKEN_CLIENT_LOG)
    if not any(isinstance(f, _NoAnonymousAppIdWarning) for f in logger.filters):
        logger.addFilter(_NoAnonymousAppIdWarning())


class CheckedClientFactory(RestChannelServiceClientFactory):
    """The SDK's factory, refusing connector clients for origins that are not allowed.
    `registrations`: the bot's registrations (bot.registrations), for the proactive sender
    made on this adapter (bot.proactive.registrations_of); None when anonymous."""

    def __init__(
        self, *args: Any, outbound: OutboundPolicy, registrations: Registrations | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.outbound = outbound
        self.registrations = registrations

    @property
    def connections(self) -> Any:
        """The SDK connection manager the tokens come from."""
        return self._connection_manager

    async def create_connector_client(
        self,
        context: TurnContext | None,
        claims_identity: ClaimsIdentity,
        service_url: str,
        audience: str,
        scopes: list[str] | None = None,
        use_anonymous: bool = False,
    ) -> ConnectorClientBase:
        self.outbound.require(service_url)
        return await super().create_connector_client(
            context, claims_identity, service_url, audience, scopes, use_anonymous
        )


class PooledClientFactory(CheckedClientFactory):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connector: aiohttp.TCPConnector | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        _cache_product_info()

    def _session(self, endpoint: str) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._connector is None or self._connector.closed or self._loop is not loop:
            # Made on first use in the running event loop (the server's: one for its
            # life); a pool cannot outlive its loop, so another loop gets its own.
            self._connector = aiohttp.TCPConnector()
            self._loop = loop
        if not endpoint.endswith("/"):
            endpoint += "/"
        return aiohttp.ClientSession(base_url=endpoint, connector=self._connector, connector_owner=False)

    async def create_connector_client(
        self,
        context: TurnContext | None,
        claims_identity: ClaimsIdentity,
        service_url: str,
        audience: str,
        scopes: list[str] | None = None,
        use_anonymous: bool = False,
    ) -> ConnectorClientBase:
        self.outbound.require(service_url)  # before a token is asked for or a session made
        agentic = context.activity.is_agentic_request() if context else False
        recipient = context.activity.recipient if context else None
        connector_user = bool(recipient and recipient.role == RoleTypes.connector_user)
        if agentic or connector_user or not service_url or not audience:
            return await super().create_connector_client(
                context, claims_identity, service_url, audience, scopes, use_anonymous
            )
        provider = (
            self._ANONYMOUS_TOKEN_PROVIDER
            if use_anonymous
            else self._connection_manager.get_token_provider(claims_identity, service_url)
        )
        token = await provider.get_access_token(audience, scopes or claims_identity.get_token_scope())
        return TeamsConnectorClient(endpoint=service_url, token=token, session=self._session(service_url))

    async def create_user_token_client(  # type: ignore[override]  # the SDK says UserTokenClient; callers use the base's methods
        self,
        context: TurnContext,
        claims_identity: ClaimsIdentity,
        use_anonymous: bool = False,
    ) -> UserTokenClientBase:
        if context.activity.is_agentic_request() and not use_anonymous:
            return await super().create_user_token_client(context, claims_identity, use_anonymous)

        async def make() -> UserTokenClient:
            if use_anonymous:
                token = ""
            else:
                endpoint = self._token_service_endpoint
                provider = self._connection_manager.get_token_provider(claims_identity, endpoint)
                token = await provider.get_access_token(
                    self._token_service_audience, claims_identity.get_token_scope()
                )
                if not token:
                    raise ValueError("Failed to obtain token for user token client")
            return UserTokenClient(
                app_id=claims_identity.get_app_id(),
                endpoint=self._token_service_endpoint,
                token=token,
                session=self._session(self._token_service_endpoint),
            )

        return LazyUserTokenClient(make)  # type: ignore[return-value]  # duck-typed: UserTokenClientBase's methods, made lazily

    async def close(self) -> None:
        if self._connector is not None:
            await self._connector.close()
            self._connector = None


class _DeferredOperations:
    """`user_token` or `agent_sign_in` of a LazyUserTokenClient: each operation
    makes the client first (all of them are coroutines)."""

    def __init__(self, owner: LazyUserTokenClient, name: str):
        self._owner = owner
        self._name = name

    def __getattr__(self, operation: str) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            client = await self._owner.client()
            return await getattr(getattr(client, self._name), operation)(*args, **kwargs)

        return call


class LazyUserTokenClient:
    """The SDK's user-token client (OAuth sign-in of users), made when a turn
    first uses it. The SDK's adapter makes one for every turn, with a token
    and an HTTP session of its own, but kompetensbot signs no users in: a
    turn that does not use it costs nothing, and one that does gets the same
    client, asked for its token as the SDK asks."""

    def __init__(self, make: Callable[[], Awaitable[UserTokenClient]]):
        self._make = make
        self._client: UserTokenClient | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> UserTokenClient:
        async with self._lock:
            if self._client is None:
                self._client = await self._make()
            return self._client

    @property
    def agent_sign_in(self) -> Any:
        return _DeferredOperations(self, "agent_sign_in")

    @property
    def user_token(self) -> Any:
        return _DeferredOperations(self, "user_token")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def _deferred(operation: str) -> Callable[..., Awaitable[Any]]:
    async def call(self: LazyUserTokenClient, *args: Any, **kwargs: Any) -> Any:
        return await getattr(await self.client(), operation)(*args, **kwargs)

    call.__name__ = operation
    return call


for _operation in (  # UserTokenClientBase's coroutines, each made to make the client first
    "get_user_token",
    "get_sign_in_resource",
    "sign_out_user",
    "get_token_status",
    "get_aad_tokens",
    "exchange_token",
    "get_token_or_sign_in_resource",
):
    setattr(LazyUserTokenClient, _operation, _deferred(_operation))
