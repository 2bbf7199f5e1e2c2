"""Roles from Entra groups under the README's two database roles (issue 22): the
application role that runs `serve` cannot grant roles, so its scheduled sync grants
nothing and says, in one log line, to run `kompetensbot roles sync` as the owner; the
owner's sync grants and seals as usual."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.config import Settings
from bot.graph import GraphClient
from bot.group_sync import NO_PRIVILEGE, CitySyncs, GroupServices, sync_groups
from bot.services import Services
from core.model import Role
from storage.seal import verify
from tests.graph_stand_in import GraphStandIn, Tenant
from tests.security.test_db_roles import Roles, roles  # noqa: F401  # the README's roles, as a fixture
from tests.unit.test_group_sync import G1

ANNA = "aaaaaaaa-0000-4000-8000-000000000001"
pytestmark = pytest.mark.postgres


def test_the_application_role_cannot_sync_the_owner_can(
    roles: Roles, caplog: pytest.LogCaptureFixture
) -> None:  # noqa: F811
    GroupServices(roles.owner, org="malmo").map_group(None, G1, Role.HR, "FSKN")
    tenant = Tenant()
    tenant.add_user(ANNA, "Anna Andersson")
    tenant.add_group(G1, "HR Förskola", [ANNA])
    with GraphStandIn(tenant) as graph:
        settings = Settings(database_url="", anonymous_requested=True)
        with caplog.at_level(logging.ERROR, logger="kompetensbot.group_sync"):
            done = asyncio.run(CitySyncs(roles.app, settings, graph=lambda: _client(graph.url)).run())
        assert done == [] and NO_PRIVILEGE in caplog.text
        assert Services(roles.owner, org="malmo").roles(None) == []

        async def as_owner() -> None:
            graph_client = _client(graph.url)
            try:
                await sync_groups(GroupServices(roles.owner, org="malmo"), graph_client)
            finally:
                await graph_client.close()

        asyncio.run(as_owner())
    assert [(g.user, g.role, g.unit) for g in Services(roles.owner, org="malmo").roles(None)] == [
        (ANNA, Role.HR, "FSKN")
    ]
    with roles.owner.connect() as conn:
        assert verify(conn, 1).problems == ()


def _client(url: str) -> GraphClient:
    async def no_token() -> str:
        return ""

    return GraphClient(no_token, base_url=url, rate=0)
