"""The Graph stand-in answers as Graph does, through the bot's own GraphClient, and
the connector over the same tenant refuses the bot where Teams would (issue 22)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

from bot.graph import GraphClient
from tests.graph_stand_in import CATALOG, GROUPS, INSTALL, USERS, Tenant, stand_ins


def _client(url: str) -> GraphClient:
    async def no_token() -> str:
        return ""

    return GraphClient(no_token, base_url=url, rate=0, backoff=0.01)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_install_then_chat_then_the_connector_accepts() -> None:
    tenant = Tenant()
    tenant.add_user("u1", "Anna Andersson")
    with stand_ins(tenant) as (tenant, graph, teams):
        create = {"members": [{"id": "u1"}], "tenantId": "tenant-malmo"}
        status, body = _post(f"{teams.url}v3/conversations", create)
        assert status == 403 and body["error"]["code"] == "BotNotInConversationRoster"

        async def steps() -> list[Any]:
            client = _client(graph.url)
            bind = {"teamsApp@odata.bind": f"{graph.url}/appCatalogs/teamsApps/{tenant.catalog_id}"}
            first = await client.request("POST", "/users/u1/teamwork/installedApps", body=bind)
            again = await client.request("POST", "/users/u1/teamwork/installedApps", body=bind)
            nobody = await client.request("POST", "/users/nobody/teamwork/installedApps", body=bind)
            apps = await client.get(
                "/users/u1/teamwork/installedApps",
                {"$expand": "teamsAppDefinition", "$filter": f"teamsApp/id eq '{tenant.catalog_id}'"},
            )
            installation = apps.body["value"][0]["id"]
            chat = await client.get(f"/users/u1/teamwork/installedApps/{installation}/chat")
            catalog = await client.get(
                "/appCatalogs/teamsApps", {"$filter": f"externalId eq '{tenant.manifest_id}'"}
            )
            await client.close()
            return [first, again, nobody, apps, chat, catalog]

        first, again, nobody, apps, chat, catalog = _run(steps())
        assert (first.status, again.status, nobody.status) == (201, 409, 404)
        assert again.error_code == "Conflict"
        assert apps.body["value"][0]["teamsAppDefinition"]["teamsAppId"] == tenant.catalog_id
        assert chat.body["id"] == tenant.chat_id("u1") and chat.body["id"].endswith("@unq.gbl.spaces")
        assert catalog.body["value"][0]["id"] == tenant.catalog_id
        assert tenant.installs["u1"] == 1 and graph.install_posts["u1"] == 2

        status, _ = _post(f"{teams.url}v3/conversations/{chat.body['id']}/activities", {"type": "message"})
        assert status == 201
        status, created = _post(f"{teams.url}v3/conversations", create)
        assert status == 201
        assert teams.cards_per_user() == {"u1": 1}
        tenant.uninstall("u1")
        status, body = _post(f"{teams.url}v3/conversations/{created['id']}/activities", {"type": "message"})
        assert status == 403 and body["error"]["code"] == "BotNotInConversationRoster"


def test_without_consent_graph_says_which_permission_is_missing() -> None:
    tenant = Tenant(consented=())
    tenant.add_user("u1")
    tenant.add_group("g1", "HR FSKN", ["u1"])
    with stand_ins(tenant) as (tenant, graph, _teams):

        async def steps() -> list[Any]:
            client = _client(graph.url)
            bind = {"teamsApp@odata.bind": f"{graph.url}/appCatalogs/teamsApps/{tenant.catalog_id}"}
            out = [
                await client.request("POST", "/users/u1/teamwork/installedApps", body=bind),
                await client.get("/appCatalogs/teamsApps"),
                await client.get("/groups/g1/transitiveMembers"),
                await client.request(
                    "GET",
                    "/users",
                    params={"$search": '"displayName:u"'},
                    headers={"ConsistencyLevel": "eventual"},
                ),
            ]
            await client.close()
            return out

        answers = _run(steps())
        assert [a.status for a in answers] == [403, 403, 403, 403]
        for answer, permission in zip(answers, (INSTALL, CATALOG, GROUPS, USERS), strict=True):
            assert permission in answer.error_message
        assert tenant.installs == {}


def test_group_members_come_in_pages_with_nested_groups_once() -> None:
    tenant = Tenant(page_size=3)
    for i in range(7):
        tenant.add_user(f"u{i}", f"Person {i}")
    tenant.add_group("inner", "Inner", ["u5", "u6", "u0"])
    tenant.add_group("outer", "HR GSN", ["u0", "u1", "u2", "u3", "u4", "inner"])
    with stand_ins(tenant) as (_tenant, graph, _teams):

        async def steps() -> tuple[Any, Any, Any, Any]:
            client = _client(graph.url)
            items, last = await client.pages("/groups/outer/transitiveMembers")
            missing = await client.get("/groups/nope/transitiveMembers")
            searched = await client.request(
                "GET",
                "/users",
                params={"$search": '"displayName:Person 5"'},
                headers={"ConsistencyLevel": "eventual"},
            )
            await client.close()
            return items, last, missing, searched

        items, last, missing, searched = _run(steps())
        assert last.ok and graph.count("members") == 4  # 8 entries, 3 a page; and the missing group
        users = [i["id"] for i in items if i["@odata.type"] == "#microsoft.graph.user"]
        assert users == ["u0", "u1", "u2", "u3", "u4", "u5", "u6"]
        assert {"id": "inner", "displayName": "Inner", "@odata.type": "#microsoft.graph.group"} in items
        assert all(
            set(i) >= {"id", "displayName", "userPrincipalName", "mail"} for i in items if i["id"] in users
        )
        assert missing.status == 404 and missing.error_code == "Request_ResourceNotFound"
        assert [u["id"] for u in searched.body["value"]] == ["u5"]


def test_faults_are_retried_by_the_client() -> None:
    tenant = Tenant()
    tenant.add_user("u1")
    with stand_ins(tenant) as (tenant, graph, _teams):
        graph.fault(r"^POST /users/u1/", status=429, retry_after=0.05)
        graph.fault(r"^POST /users/u1/", status=503)

        async def steps() -> Any:
            client = _client(graph.url)
            bind = {"teamsApp@odata.bind": f"x/appCatalogs/teamsApps/{tenant.catalog_id}"}
            answer = await client.request("POST", "/users/u1/teamwork/installedApps", body=bind)
            await client.close()
            return answer

        assert _run(steps()).status == 201
        assert graph.count("fault") == 2 and graph.count("install") == 1
        assert [r["status"] for r in graph.requests] == [429, 503, 201]
        assert tenant.installs["u1"] == 1
