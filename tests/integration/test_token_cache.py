"""With a client id configured, the bot does not fetch a token per turn: the
adapter as the server builds it (bot.adapter: the SDK's MSAL connection
manager and our pooled client factory) asks the token endpoint once per app
and scope, reuses the token on every turn's replies until it is about to
expire, and then fetches a new one.

The token endpoint is a local stand-in: MSAL's own HTTP client interface
(`http_client`), answering the authority's metadata and the client
credentials grant and counting what it is asked. The turns go through the
SDK's CloudAdapter (`process_activity`, as after the JWT check) and the
replies to a local connector stand-in, which records their Authorization
header.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

import pytest
from microsoft_agents.activity import Activity, load_configuration_from_env
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity

from bot.adapter import create_adapter
from bot.clients import LazyUserTokenClient, PooledClientFactory
from bot.config import Settings
from tests.http.harness import ThrottlingConnectorStub, activity

CLIENT_ID = "00000000-0000-0000-0000-0000000000a1"
TENANT_ID = "00000000-0000-0000-0000-0000000000b2"
EXPIRES_IN = 3600


class _Response:
    def __init__(self, status: int, body: dict[str, Any]):
        self.status_code = status
        self.text = json.dumps(body)
        self.headers: dict[str, str] = {"Content-Type": "application/json"}

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


class TokenEndpoint:
    """MSAL's http_client: the tenant's OpenID metadata and its token endpoint."""

    def __init__(self) -> None:
        self.token_requests: Counter[str] = Counter()  # scope -> how many tokens were issued
        self.issued = 0

    def get(self, url: str, params: Any = None, headers: Any = None, **_kw: Any) -> _Response:
        base = f"https://login.microsoftonline.com/{TENANT_ID}"
        if "openid-configuration" in url:
            return _Response(
                200,
                {
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "issuer": f"{base}/v2.0",
                },
            )
        return _Response(404, {"error": "not_found"})

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **_kw: Any
    ) -> _Response:
        if not url.endswith("/oauth2/v2.0/token"):
            return _Response(404, {"error": "not_found"})
        form = data if isinstance(data, dict) else {k: v[0] for k, v in parse_qs(data or "").items()}
        assert form.get("grant_type") == "client_credentials"
        assert form.get("client_id") == CLIENT_ID
        self.token_requests[form.get("scope", "")] += 1
        self.issued += 1
        return _Response(
            200, {"token_type": "Bearer", "expires_in": EXPIRES_IN, "access_token": f"token-{self.issued}"}
        )

    def close(self) -> None:
        pass


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> TokenEndpoint:
    from microsoft_agents.authentication.msal import msal_auth

    stand_in = TokenEndpoint()
    # msal ships no types (no py.typed, no stub package): its class is Any here, and
    # msal_auth's import of it is no typed re-export.
    real = msal_auth.ConfidentialClientApplication  # type: ignore[attr-defined]  # msal ships no types

    class Application(real):  # type: ignore[misc, valid-type]  # msal ships no types: a subclass of Any
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, http_client=stand_in, instance_discovery=False, **kwargs)

    monkeypatch.setattr(msal_auth, "ConfidentialClientApplication", Application)
    return stand_in


def test_a_token_is_fetched_once_per_app_and_scope_until_it_expires(
    endpoint: TokenEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": CLIENT_ID,
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "secret",
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": TENANT_ID,
    }
    settings = Settings(database_url="sqlite://", sdk=load_configuration_from_env(env))
    assert not settings.anonymous
    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])

    async def echo(context: TurnContext) -> None:
        await context.send_activity(f"svar på {context.activity.text}")

    with ThrottlingConnectorStub(per_conversation_rate=None, global_rate=None) as connector:
        # With credentials only listed origins get replies (bot.outbound): the stand-in is listed.
        adapter, _ = create_adapter(replace(settings, service_urls=connector.url), storage=None, pooled=True)
        # As the JWT check leaves it for a request from the channel to this bot.
        claims = ClaimsIdentity(
            {"aud": CLIENT_ID, "iss": "https://api.botframework.com", "serviceurl": connector.url},
            authentication_type="Bearer",
        )

        async def turns(count: int, start: int) -> None:
            for n in range(start, start + count):
                incoming = Activity.model_validate(
                    activity(f"fråga {n}", service_url=connector.url, conversation_id="conv-token")
                )
                await adapter.process_activity(claims, incoming, echo)
            factory = adapter._channel_service_client_factory
            assert isinstance(factory, PooledClientFactory)  # pooled=True
            await factory.close()  # the pool lives in this loop

        asyncio.run(turns(20, 0))
        first = dict(endpoint.token_requests)
        # One token per scope (the connector's and the user-token service's), not per turn.
        assert first and all(count == 1 for count in first.values()), first
        assert endpoint.issued == len(first) <= 2
        # Only the connector's: no turn signed a user in, so no user-token client was made.
        assert list(first) == ["https://api.botframework.com/.default"], first
        sent = connector.sends("conv-token")
        assert len(sent) == 20
        assert {s["authorization"] for s in sent} == {sent[0]["authorization"]}
        assert sent[0]["authorization"].startswith("Bearer token-")

        clock[0] += EXPIRES_IN + 60  # past the tokens' expiry: fetched again, once
        asyncio.run(turns(20, 20))
        assert endpoint.issued == 2 * len(first)
        assert all(count == 2 for count in endpoint.token_requests.values()), endpoint.token_requests
        later = connector.sends("conv-token")[20:]
        assert len(later) == 20
        assert {s["authorization"] for s in later} != {sent[0]["authorization"]}
        assert len({s["authorization"] for s in later}) == 1


def test_the_user_token_client_is_made_when_a_turn_uses_it() -> None:
    made: list[str] = []
    calls: list[tuple[str, tuple[Any, ...]]] = []

    class Operations:
        async def get_token(self, *args: Any) -> str:
            calls.append(("user_token.get_token", args))
            return "user-token"

    class Client:
        user_token = Operations()

        async def get_user_token(self, *args: Any) -> str:
            calls.append(("get_user_token", args))
            return "token"

        async def close(self) -> None:
            calls.append(("close", ()))

    async def make() -> Any:
        made.append("client")
        return Client()

    async def turn() -> None:
        unused = LazyUserTokenClient(make)
        await unused.close()
        assert made == [] and calls == []
        used = LazyUserTokenClient(make)
        # get_user_token and its kin are set on the class by a loop (setattr) in bot/clients.py.
        assert await used.get_user_token("user", "connection") == "token"  # type: ignore[attr-defined]  # set by setattr
        assert await used.user_token.get_token("user", "connection") == "user-token"
        await used.close()

    asyncio.run(turn())
    assert made == ["client"]  # once, for both calls
    assert calls == [
        ("get_user_token", ("user", "connection")),
        ("user_token.get_token", ("user", "connection")),
        ("close", ()),
    ]
