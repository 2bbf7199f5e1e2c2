"""Issue 22, "Reach people who never opened the bot": a round of 100 HR leads of whom 40
have never opened the bot (no stored conversation, no app: Teams refuses the bot's
create-conversation for them), against the stand-in Graph and the Teams connector over
the same tenant (tests/graph_stand_in.py), on SQLite and PostgreSQL.

- With the administrator's consent every one of the 100 gets exactly one card: the 40
  get the app installed through Graph, once each, and the card goes into the chat Graph
  names.
- Without consent 60 cards go out and the 40 are recorded unreachable with a reason an
  administrator can act on (`followup status`, `followup reach`).
- A `kompetensbot followup tick` killed mid-install (SIGKILL while Graph holds the
  install's answer): the next tick, after the lease, skips nobody and installs for
  nobody twice."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections import Counter
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.graph import GraphClients
from bot.reach import GraphReach
from bot.round_runner import RoundRunner, TickResult
from cli.main import main as cli_main
from storage import graph_installs
from storage.rounds import find_round
from tests.graph_stand_in import (
    ALL_PERMISSIONS,
    CATALOG,
    GraphStandIn,
    TeamsConnectorStub,
    Tenant,
    stand_ins,
)
from tests.integration.round_population import ORG, PERIOD, Population
from tests.integration.test_round_delivery import (  # noqa: F401 - `database` is a fixture
    OPENS,
    REMINDER,
    cli_env,
    database,
    make_runner,
    populated,
    sends_by_recipient,
    tick_command,
    wait_for,
)

N = 100
WITHOUT_APP = [i for i in range(N) if i % 5 in (1, 3)]  # 40, spread over the units
CONSENT_REASON = (
    "Administratören har inte godkänt behörigheten TeamsAppInstallation.ReadWriteSelfForUser.All för "
    "kompetensbot i Entra ID (Företagsprogram → kompetensbot → Behörigheter → "
    "Bevilja administratörsmedgivande)"
)


def city_with_tenant(engine: Engine, tenant: Tenant, teams: TeamsConnectorStub) -> Population:
    """The example with N HR leads; all in the tenant, those not in WITHOUT_APP with the
    app and the conversation the bot stored when they wrote to it."""
    population = populated(engine, teams.url, N, without_reference=WITHOUT_APP)
    for i, person in enumerate(population.recipients):
        has_app = i not in WITHOUT_APP
        tenant.add_user(
            person,
            f"HR {i:04d}",
            installed=has_app,
            conversation=population.conversation(person) if has_app else None,
        )
    return population


def runner(
    engine: Engine, graph: GraphStandIn, *, catalog_id: str | None = None, **kwargs: Any
) -> RoundRunner:
    clients = GraphClients(None, base_url=graph.url, rate=0, anonymous=True, backoff=0.01)
    reach = GraphReach(engine, clients, catalog_id=catalog_id, app_id=graph.tenant.manifest_id)
    return make_runner(engine, reach=reach, **kwargs)


def tick(r: RoundRunner, as_of: date) -> TickResult:
    async def run() -> TickResult:
        try:
            return await asyncio.wait_for(r.tick(as_of), 120)
        finally:
            assert r.reach is not None
            await r.reach.close()

    return asyncio.run(run())


def without_app(population: Population) -> list[str]:
    return [population.recipients[i] for i in WITHOUT_APP]


def test_with_consent_all_100_get_one_card_and_the_40_one_install_each(database: Any) -> None:
    engine, _url = database
    with stand_ins() as (tenant, graph, teams):
        population = city_with_tenant(engine, tenant, teams)
        graph.fault(r"^POST /users/", status=429, retry_after=0.05)  # Graph's throttling, retried
        graph.fault(r"^POST /users/", status=503, times=2)
        first = tick(runner(engine, graph), OPENS)  # the catalog id looked up by the manifest's id

        assert first.opened == [f"{ORG} {PERIOD}"]
        assert first.installs == Counter({"installed": 40}), first
        assert first.outcomes == Counter({"sent": N}), first
        assert teams.cards_per_user() == Counter({p: 1 for p in population.recipients})
        assert teams.refused == []  # no create-conversation or send to a person without the app
        assert tenant.installs == Counter({p: 1 for p in without_app(population)})
        assert graph.count("catalog") == 1 and graph.count("install") == 40
        rows = sends_by_recipient(engine, "prompt")
        for person in without_app(population):
            row = rows[person]
            assert row.state == "sent" and row.conversation_id == tenant.chat_id(person), row
            assert not row.possibly_repeated
        with engine.connect() as conn:
            round_ = find_round(conn, population.org_id, PERIOD)
            stored = graph_installs.installs(conn, round_.id)
        assert {p: s.state for p, s in stored.items()} == {p: "installed" for p in without_app(population)}
        assert stored[without_app(population)[0]].chat_id == tenant.chat_id(without_app(population)[0])

        # The reminder finds the stored chats: no Graph request, one more card each.
        calls = sum(graph.calls.values())
        second = tick(runner(engine, graph), REMINDER)
        assert second.outcomes == Counter({"sent": N}) and not second.installs
        assert sum(graph.calls.values()) == calls
        assert teams.cards_per_user() == Counter({p: 2 for p in population.recipients})


def test_without_consent_60_cards_and_the_40_reported_with_what_the_administrator_must_do(
    database: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, url = database
    with stand_ins(Tenant(consented=ALL_PERMISSIONS - {"TeamsAppInstallation.ReadWriteSelfForUser.All"})) as (
        tenant,
        graph,
        teams,
    ):
        population = city_with_tenant(engine, tenant, teams)
        result = tick(runner(engine, graph, catalog_id=tenant.catalog_id), OPENS)

        assert result.outcomes == Counter({"sent": 60, "unreachable": 40}), result
        assert result.installs == Counter({"no_consent": 40})
        assert graph.count("install") == 1  # the first 403 said it for everyone
        assert teams.cards_per_user() == Counter({p: 1 for p in population.recipients if tenant.has_app(p)})
        assert tenant.installs == Counter() and teams.refused == []
        rows = sends_by_recipient(engine, "prompt")
        for person in without_app(population):
            assert (rows[person].state, rows[person].reason) == ("unreachable", CONSENT_REASON)

        monkeypatch.setenv("DATABASE_URL", url)
        assert (
            cli_main(["followup", "status", "--period", PERIOD, "--as-of", OPENS.isoformat(), "--json"]) == 0
        )
        unreachable = json.loads(capsys.readouterr().out)["unreachable"]
        assert {u["recipient"]: u["reason"] for u in unreachable} == {
            p: CONSENT_REASON for p in without_app(population)
        }
        assert cli_main(["followup", "status", "--period", PERIOD, "--as-of", OPENS.isoformat()]) == 0
        text = capsys.readouterr().out
        assert f"- {without_app(population)[0]}: onåbar" in text and CONSENT_REASON in text

        # The administrator consents; the reminder installs for the 40 and reaches all 100.
        tenant.consent("TeamsAppInstallation.ReadWriteSelfForUser.All")
        later = tick(runner(engine, graph, catalog_id=tenant.catalog_id), REMINDER)
        assert later.installs == Counter({"installed": 40}) and later.outcomes == Counter({"sent": N})
        assert tenant.installs == Counter({p: 1 for p in without_app(population)})


def test_without_the_catalog_permission_the_reason_names_it_and_the_setting(database: Any) -> None:
    engine, _url = database
    with stand_ins(Tenant(consented=ALL_PERMISSIONS - {CATALOG})) as (tenant, graph, teams):
        population = city_with_tenant(engine, tenant, teams)
        result = tick(runner(engine, graph), OPENS)
        assert result.outcomes == Counter({"sent": 60, "unreachable": 40}), result
        reason = sends_by_recipient(engine, "prompt")[without_app(population)[0]].reason
        assert "AppCatalog.Read.All" in reason and "KOMPETENSBOT_TEAMS_APP_CATALOG_ID" in reason
        assert graph.count("install") == 0 and graph.count("catalog") == 1


def test_a_person_not_in_the_tenant_is_reported_so(database: Any) -> None:
    engine, _url = database
    with stand_ins() as (tenant, graph, teams):
        population = city_with_tenant(engine, tenant, teams)
        gone = without_app(population)[0]
        del tenant.users[gone]
        result = tick(runner(engine, graph, catalog_id=tenant.catalog_id), OPENS)
        assert result.outcomes == Counter({"sent": N - 1, "unreachable": 1}), result
        row = sends_by_recipient(engine, "prompt")[gone]
        assert row.state == "unreachable" and "finns inte i stadens Entra ID" in row.reason


@pytest.mark.slow
@pytest.mark.parametrize("commits_first", [True, False], ids=["installed-before-the-kill", "not-installed"])
def test_a_tick_killed_mid_install_skips_nobody_and_installs_for_nobody_twice(
    database: Any, commits_first: bool
) -> None:
    engine, url = database
    lease = 1.0
    with stand_ins() as (tenant, graph, teams):
        population = city_with_tenant(engine, tenant, teams)
        graph.install_delay = 30.0  # the first install's answer is held: the process is killed waiting
        graph.install_commits_first = commits_first
        env = cli_env(
            url,
            KOMPETENSBOT_GRAPH_INSTALL="1",
            KOMPETENSBOT_GRAPH_URL=graph.url,
            KOMPETENSBOT_TEAMS_APP_CATALOG_ID=tenant.catalog_id,
            KOMPETENSBOT_GRAPH_RATE="1000",
            KOMPETENSBOT_SEND_RATE="500",
            KOMPETENSBOT_ROUND_LEASE_SECONDS=str(lease),
        )
        first = subprocess.Popen(
            tick_command(OPENS), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            wait_for(
                lambda: sum(graph.install_posts.values()) >= 1, timeout=60, what="an install", process=first
            )
        finally:
            first.send_signal(signal.SIGKILL)
            first.communicate(timeout=30)
        killed_at = time.monotonic()
        [victim] = list(graph.install_posts)
        assert victim in without_app(population)
        assert teams.sends() == []  # the installs come before any card
        assert tenant.installs == (Counter({victim: 1}) if commits_first else Counter())
        with engine.connect() as conn:
            round_ = find_round(conn, population.org_id, PERIOD)
            held = graph_installs.installs(conn, round_.id)
        assert {p: s.state for p, s in held.items()} == {victim: "claimed"}

        graph.install_delay = 0.0
        time.sleep(max(0.0, killed_at + lease + 0.1 - time.monotonic()))  # the dead claim's lease runs out
        second = subprocess.run(tick_command(OPENS), env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
        assert "Skickade: 100" in second.stdout, second.stdout

    assert teams.cards_per_user() == Counter({p: 1 for p in population.recipients})  # nobody skipped
    assert tenant.installs == Counter({p: 1 for p in without_app(population)})  # nobody installed twice
    assert graph.install_posts[victim] == 2  # asked again after the lease: a 409 when it was done
    assert [s for s in sends_by_recipient(engine, "prompt").values() if s.possibly_repeated] == []
    with engine.connect() as conn:
        done = graph_installs.installs(conn, round_.id)
    assert done[victim].state == "installed" and done[victim].attempts == 2
    assert done[victim].http_status == (409 if commits_first else 201)


def _reach(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, **env: str) -> Any:
    monkeypatch.setenv("DATABASE_URL", url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    args = ["followup", "reach", "--period", PERIOD, "--as-of", "2025-05-26"]
    assert cli_main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert cli_main(args) == 0
    return report, capsys.readouterr().out


def test_reach_before_the_round_opens_says_who_cannot_be_reached_why_and_what_that_leaves(
    database: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, url = database
    with stand_ins(Tenant(consented={CATALOG})) as (tenant, graph, teams):
        population = city_with_tenant(engine, tenant, teams)
        lacking = without_app(population)

        # Graph installs off: the 40 have no conversation and nothing will install the app.
        off, text = _reach(monkeypatch, capsys, url)
        assert (off["opened"], off["graph_install"], off["recipients"]) == (False, False, N)
        assert {u["recipient"] for u in off["unreachable"]} == set(lacking)
        assert {u["why"] for u in off["unreachable"]} == {"no_conversation"}
        assert "KOMPETENSBOT_GRAPH_INSTALL" in off["unreachable"][0]["reason"]
        first = off["unreachable"][0]
        assert first["measures"] and population.unit_of[first["recipient"]] in first["units"]
        assert set(off["measures_affected"]) == {m for u in off["unreachable"] for m in u["measures"]}
        assert {u["code"] for u in off["units_affected"]} >= {population.unit_of[p] for p in lacking}
        assert "Kan inte nås: 40." in text and "Insatser som blir utan svar om inget görs" in text
        assert graph.requests == []

        # On, without consent: one read of Graph says so for all 40.
        graph_env = {
            "KOMPETENSBOT_GRAPH_INSTALL": "1",
            "KOMPETENSBOT_GRAPH_URL": graph.url,
            "KOMPETENSBOT_TEAMS_APP_CATALOG_ID": tenant.catalog_id,
            "KOMPETENSBOT_GRAPH_RATE": "1000",  # the stand-in needs no pacing (the default 5/s: 16 s here)
        }
        refused, text = _reach(monkeypatch, capsys, url, **graph_env)
        assert refused["consent"] is False and len(refused["unreachable"]) == 40
        assert {u["reason"] for u in refused["unreachable"]} == {CONSENT_REASON}
        assert graph.count("installed_apps") == 2  # one for --json, one for the text
        assert "administratörens medgivande: nej" in text and CONSENT_REASON in text

        # With consent: the 40 are installed when the round opens, but one left the city.
        tenant.consent("TeamsAppInstallation.ReadWriteSelfForUser.All")
        gone = lacking[0]
        del tenant.users[gone]
        ready, text = _reach(monkeypatch, capsys, url, **graph_env)
        assert ready["consent"] is True and ready["reached"] == 60
        assert sorted(ready["to_install"]) == sorted(lacking[1:])
        [left] = ready["unreachable"]
        assert (left["recipient"], left["why"]) == (gone, "not_in_tenant")
        assert "Installeras när omgången öppnar: 39. Kan inte nås: 1." in text
        assert tenant.installs == Counter()  # reach only reads


def test_reach_after_a_send_names_the_blocked_and_those_graph_could_not_install_for(
    database: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, url = database
    with stand_ins(Tenant(consented=ALL_PERMISSIONS - {"TeamsAppInstallation.ReadWriteSelfForUser.All"})) as (
        tenant,
        graph,
        teams,
    ):
        population = city_with_tenant(engine, tenant, teams)
        blocked = next(p for p in population.recipients if tenant.has_app(p))
        tenant.uninstall(blocked)  # the person removed the app: Teams refuses the bot's card
        tick(runner(engine, graph, catalog_id=tenant.catalog_id), OPENS)
        report, text = _reach(monkeypatch, capsys, url)
        why = {u["recipient"]: u["why"] for u in report["unreachable"]}
        assert why == {blocked: "blocked", **{p: "no_consent" for p in without_app(population)}}
        assert report["opened"] is True
        line = next(x for x in text.splitlines() if blocked in x)
        assert "blockerad eller appen borttagen" in line and "BotNotInConversationRoster" in line
