"""The scheduled group sync inside `kompetensbot serve` (issue 22): a real server
process with KOMPETENSBOT_GROUP_SYNC_SECONDS=1 and KOMPETENSBOT_GRAPH_URL at the
stand-in Graph (tests/graph_stand_in.py). A person added to the mapped group can ask
the bot about their committee's money a moment later, without anyone running a
command; removed, they are told they have no role; without Graph, no sync runs."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bot.group_sync import GroupServices
from bot.services import Services
from core.model import Role
from storage.db import make_engine
from tests.graph_stand_in import GraphStandIn, Tenant
from tests.http.harness import running
from tests.http.test_http import ask

ANNA = "aaaaaaaa-0000-4000-8000-000000000001"
PER = "aaaaaaaa-0000-4000-8000-000000000002"
HR_FSKN = "6f1d2c3b-4a59-4e68-9d7c-0b1a2f3e4d5c"
QUESTION = "Hur mycket finns kvar för förskolenämnden?"

pytestmark = pytest.mark.slow  # real server processes, waiting for their schedule


def _grants(url: str) -> set[tuple[str, str, str | None]]:
    engine = make_engine(url)
    try:
        return {(g.user, g.role.value, g.unit) for g in Services(engine).roles(None)}
    finally:
        engine.dispose()


def _until(check: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _map(url: str) -> None:
    engine = make_engine(url)
    try:
        GroupServices(engine).map_group(None, HR_FSKN, Role.HR, "FSKN", "HR Förskola")
    finally:
        engine.dispose()


def test_the_server_syncs_the_groups_on_its_schedule(database_url: str) -> None:
    _map(database_url)
    tenant = Tenant()
    tenant.add_user(ANNA, "Anna Andersson")
    tenant.add_user(PER, "Per Persson")
    tenant.add_group(HR_FSKN, "HR Förskola", [ANNA])
    env = {
        "KOMPETENSBOT_GRAPH_URL": "",
        "KOMPETENSBOT_GROUP_SYNC_SECONDS": "1",
        "KOMPETENSBOT_TODAY": "2025-06-05",
    }
    with GraphStandIn(tenant) as graph:
        env["KOMPETENSBOT_GRAPH_URL"] = graph.url
        with running(database_url, demo=False, env=env) as (server, stub):
            assert _until(lambda: (ANNA, "hr", "FSKN") in _grants(database_url)), server.log.read_text()[
                -3000:
            ]
            answer = " ".join(ask(server, stub, QUESTION, user_id=ANNA, conversation="conv-anna"))
            assert "15 000 000 kr" in answer

            tenant.groups[HR_FSKN].members[:] = [PER]  # Anna leaves, Per joins
            assert _until(lambda: (PER, "hr", "FSKN") in _grants(database_url))
            assert (ANNA, "hr", "FSKN") not in _grants(database_url)
            refused = " ".join(ask(server, stub, QUESTION, user_id=ANNA, conversation="conv-anna"))
            assert "15 000 000 kr" not in refused and "stadskontorets HR-avdelning" in refused
            assert "15 000 000 kr" in " ".join(
                ask(server, stub, QUESTION, user_id=PER, conversation="conv-per")
            )
            assert graph.count("members") >= 2
        log = server.log.read_text()
        assert f"group sync malmo: {PER} (Per Persson) got hr FSKN from group {HR_FSKN}" in log
        assert f"group sync malmo: {ANNA} (Anna Andersson) lost hr FSKN" in log
        assert "Traceback" not in log


def test_without_graph_the_server_does_not_sync(database_url: str) -> None:
    _map(database_url)
    env = {"KOMPETENSBOT_GROUP_SYNC_SECONDS": "1", "KOMPETENSBOT_GRAPH_URL": ""}
    with running(database_url, demo=False, env=env) as (server, _stub):
        time.sleep(2.5)
        assert "group sync off: Microsoft Graph is not configured" in server.log.read_text()
    assert _grants(database_url) == set()
