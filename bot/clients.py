"""The SDK's channel service clients with one connection pool for all turns.

The Agents SDK's `RestChannelServiceClientFactory` (1.9, read from its
source) builds a new `aiohttp.ClientSession` for the connector client and
another for the user-token client on every turn, so every reply opens a new
TCP (and, against Teams, TLS) connection. `PooledClientFactory` is the same
factory behind the SDK's own extension point (`CloudAdapter(...,
channel_service_client_factory=...)`) with one change: the per-turn sessions
share one `aiohttp.TCPConnector`, so connections to the channel are kept
alive and reused.

Unchanged: each turn still gets its own clients and sessions, with their own
headers; the token is asked for exactly as the SDK asks (the connection
manager's token provider for the same audience and scopes; MSAL caches it
per app and scope until it expires); agentic requests and Copilot Studio's
connector requests take the SDK's own path. Closing a turn's client closes
its session, not the shared pool.
"""

from __future__ import annotations

import asyncio
import functools
import logging

import aiohttp
from microsoft_agents.activity import RoleTypes
from microsoft_agents.hosting.core import RestChannelServiceClientFactory, TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from microsoft_agents.hosting.core.connector.client import UserTokenClient
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

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
            client_module.get_product_info = functools.cache(original)  # type: ignore[attr-defined]


class PooledClientFactory(RestChannelServiceClientFactory):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
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

    async def create_user_token_client(
        self,
        context: TurnContext,
        claims_identity: ClaimsIdentity,
        use_anonymous: bool = False,
    ) -> UserTokenClient:
        if use_anonymous:
            token = ""
        elif context.activity.is_agentic_request():
            return await super().create_user_token_client(context, claims_identity, use_anonymous)
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

    async def close(self) -> None:
        if self._connector is not None:
            await self._connector.close()
            self._connector = None
