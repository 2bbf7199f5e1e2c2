"""One Graph client per bot registration (bot.graph.GraphClients, issue 22): each with
its registration's token, the same client every time; anonymous sends no token; an
address the outbound rules refuse gives no client and says why."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.graph import GraphClients
from tests.graph_stand_in import Tenant, stand_ins


class Connection:
    def __init__(self, name: str) -> None:
        self.name = name
        self.asked: list[tuple[str, list[str]]] = []

    async def get_access_token(self, resource: str, scopes: list[str]) -> str:
        self.asked.append((resource, scopes))
        return f"token-of-{self.name}"


class Connections:
    def __init__(self) -> None:
        self.made: dict[str, Connection] = {}

    def get_connection(self, name: str) -> Connection:
        return self.made.setdefault(name, Connection(name))


def test_each_registration_has_its_own_client_and_token() -> None:
    tenant = Tenant()
    tenant.add_user("u1")
    with stand_ins(tenant) as (_tenant, graph, _teams):
        connections = Connections()
        # With credentials Graph must be https: the stand-in is http, so the rule is
        # checked apart (below) and here the clients are made as for a loopback Graph.
        clients = GraphClients(connections, base_url=graph.url, rate=0, anonymous=False)
        clients.problem = None

        async def run() -> Any:
            malmo = clients.client("SERVICE_CONNECTION")
            lund = clients.client("LUND")
            assert malmo is clients.client("SERVICE_CONNECTION") and malmo is not lund
            assert malmo is not None and lund is not None
            await malmo.get("/users/u1")
            await lund.get("/users/u1")
            await clients.close()

        asyncio.run(run())
        assert [r["authorization"] for r in graph.requests] == [
            "Bearer token-of-SERVICE_CONNECTION",
            "Bearer token-of-LUND",
        ]
        asked = connections.made["LUND"].asked
        assert asked == [("https://graph.microsoft.com", ["https://graph.microsoft.com/.default"])]


def test_anonymous_sends_no_token_and_a_refused_address_gives_no_client() -> None:
    tenant = Tenant()
    tenant.add_user("u1")
    with stand_ins(tenant) as (_tenant, graph, _teams):
        clients = GraphClients(None, base_url=graph.url, rate=0, anonymous=True)
        client = clients.client()
        assert client is not None

        async def run() -> int:
            answer = await client.get("/users/u1")
            await clients.close()
            return answer.status

        assert asyncio.run(run()) == 200
        assert graph.requests[0]["authorization"] is None
    with_credentials = GraphClients(Connections(), base_url="http://127.0.0.1:1/v1.0", anonymous=False)
    assert with_credentials.client() is None and "https" in (with_credentials.problem or "")
    anonymous = GraphClients(None, anonymous=True)  # the real Graph without a token
    assert anonymous.client() is None and "loopback" in (anonymous.problem or "")
