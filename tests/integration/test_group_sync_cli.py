"""Roles from Entra groups on the command line (issue 22), as an administrator sees them:
`roles map-group | unmap-group | groups | sync` against the stand-in Microsoft Graph over
HTTP (tests/graph_stand_in.py, KOMPETENSBOT_GRAPH_URL), on SQLite and, with
KOMPETENSBOT_TEST_DATABASE_URL, on PostgreSQL (the test's schema carried to the
command line by the URL's search_path, as tests/integration/test_needs_cli.py does).

What a person notices: someone added to a group can read their committee's money
after the next sync and cannot after leaving it; a role given by hand stays; a group
Graph will not let the bot read (403) changes nobody's roles and `roles groups` says
why and what the administrator does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

import bot.group_sync
import cli.common
from bot.services import Services
from cli.main import main
from core.model import Role
from storage import people
from storage.db import make_engine
from storage.tables import RoleGrantRow, RoleRevocationRow, table
from tests.conftest import PG_URL
from tests.graph_stand_in import GROUPS, GraphStandIn, Tenant
from tests.integration.test_cli import Result, snapshot

ANNA = "aaaaaaaa-0000-4000-8000-000000000001"
PER = "aaaaaaaa-0000-4000-8000-000000000002"
EVA = "aaaaaaaa-0000-4000-8000-000000000003"
HR_FSKN = "6f1d2c3b-4a59-4e68-9d7c-0b1a2f3e4d5c"  # "HR Förskola"
NESTED = "6f1d2c3b-4a59-4e68-9d7c-0b1a2f3e4d5d"  # a group inside HR Förskola
GONE = "6f1d2c3b-4a59-4e68-9d7c-0b1a2f3e4d5e"  # never in the tenant


@pytest.fixture
def tenant() -> Iterator[tuple[Tenant, GraphStandIn]]:
    tenant = Tenant()
    tenant.add_user(ANNA, "Anna Andersson", upn="anna.andersson@malmo.example")
    tenant.add_user(PER, "Per Persson")
    tenant.add_user(EVA, "Eva Ek")
    tenant.add_group(HR_FSKN, "HR Förskola", [ANNA])
    with GraphStandIn(tenant) as graph:
        yield tenant, graph


@pytest.fixture
def city(example_engine: Engine, monkeypatch: pytest.MonkeyPatch, tenant: tuple[Tenant, GraphStandIn]) -> str:
    """DATABASE_URL of the test's database with the Malmö 2025 example, Graph at the
    stand-in, anonymous (no registration), the bot's date 5 June 2025."""
    if example_engine.dialect.name == "sqlite":
        url = f"sqlite:///{example_engine.url.database}"
    else:
        assert PG_URL
        with example_engine.connect() as conn:
            schema = conn.execute(text("select current_schema()")).scalar_one()
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options={quote(f'-csearch_path={schema}')}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("KOMPETENSBOT_TODAY", "2025-06-05")
    monkeypatch.setenv("KOMPETENSBOT_GRAPH_URL", tenant[1].url)
    for name in ("CLIENTID", "CLIENTSECRET", "TENANTID"):
        monkeypatch.delenv(f"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__{name}", raising=False)
    Services(example_engine).grant_role(None, "hr-gsn", Role.HR, "GSN")
    return url


@pytest.fixture
def kb(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """`kompetensbot ARGS...` in-process; the engines a command makes are disposed after it."""
    made: list[Engine] = []

    def engine(url: str | None = None, **kwargs: Any) -> Engine:
        made.append(make_engine(url, **kwargs))
        return made[-1]

    monkeypatch.setattr(cli.common, "make_engine", engine)

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        finally:
            while made:
                made.pop().dispose()
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    yield run


def ok(kb: Any, *args: str) -> Result:
    result = kb(*args)
    assert result.code == 0, (result.out, result.err)
    assert result.err == ""
    return result


def refused(kb: Any, url: str, *args: str) -> str:
    before = snapshot(url), _mappings(kb)
    result = kb(*args)
    assert result.code == 2, (result.code, result.out, result.err)
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kompetensbot: "), result.err
    assert "Traceback" not in result.err and result.out == ""
    assert (snapshot(url), _mappings(kb)) == before, "a refused command wrote to the database"
    return lines[0]


def _mappings(kb: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(kb, "roles", "groups", "--json").json()
    return found


def grants(kb: Any) -> set[tuple[str, str, str | None]]:
    return {(g["user"], g["role"], g["unit"]) for g in ok(kb, "roles", "list", "--json").json()}


def can_read_fskn(kb: Any, user: str) -> bool:
    """What the person notices: `funds --unit FSKN --user <them>` answers, or is refused."""
    result = kb("funds", "--unit", "FSKN", "--json", "--user", user)
    assert result.code in (0, 2), result.err
    return result.code == 0


def sync(kb: Any) -> dict[str, Any]:
    data: dict[str, Any] = ok(kb, "roles", "sync", "--json").json()
    return data


def _stored(url: str, table: Any, **where: str) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            query = select(table)
            for name, value in where.items():
                query = query.where(getattr(table.c, name) == value)
            return list(conn.execute(query).all())
    finally:
        engine.dispose()


def test_added_to_the_group_gets_the_role_at_the_next_sync_and_loses_it_when_removed(
    city: str, kb: Any, tenant: tuple[Tenant, GraphStandIn]
) -> None:
    tenants, graph = tenant
    mapped = ok(kb, "roles", "map-group", HR_FSKN, "hr", "--unit", "förskolenämnden", "--name", "HR Förskola")
    assert "ger nu rollen hr för FSKN" in mapped.out and "nästa synk" in mapped.out
    assert not can_read_fskn(kb, ANNA)  # mapped, not synced: nothing yet
    assert graph.count("members") == 0

    shown = ok(kb, "roles", "sync")
    assert f'Anna Andersson ({ANNA}) fick rollen hr för FSKN (grupp "HR Förskola" ({HR_FSKN})).' in shown.out
    assert "Synken läste 1 grupp: 1 roller tillagda, 0 borttagna." in shown.out
    assert can_read_fskn(kb, ANNA)
    assert (ANNA, "hr", "FSKN") in grants(kb)
    row = _stored(city, table(RoleGrantRow), user_id=ANNA)[0]
    assert row.granted_by == f"entra-grupp:{HR_FSKN}"

    tenants.groups[HR_FSKN].members.append(PER)  # Per joins in Entra
    assert not can_read_fskn(kb, PER)
    again = sync(kb)
    assert [(a["user"], a["name"], a["role"], a["unit"]) for a in again["added"]] == [
        (PER, "Per Persson", "hr", "FSKN")
    ]
    assert again["revoked"] == [] and again["failed"] == []
    assert can_read_fskn(kb, PER)

    status = _mappings(kb)[0]
    assert status["members"] == 2 and status["error"] is None and status["synced_at"]
    [_header, row] = ok(kb, "roles", "groups").out.splitlines()
    assert row.endswith("\t2")  # the column Medlemmar

    tenants.groups[HR_FSKN].members.remove(ANNA)  # Anna leaves the group
    lost = ok(kb, "roles", "sync")
    assert f"Anna Andersson ({ANNA}) förlorade rollen hr för FSKN" in lost.out
    assert not can_read_fskn(kb, ANNA)
    assert can_read_fskn(kb, PER)
    revocation = _stored(city, table(RoleRevocationRow), user_id=ANNA)
    assert [(r.role, r.unit_code, r.revoked_by) for r in revocation] == [("hr", "FSKN", "entra-synk")]
    quiet = sync(kb)
    assert quiet["added"] == [] and quiet["revoked"] == []  # nothing more to do
    assert ok(kb, "validate").code == 0  # every grant and revocation sealed


def test_a_hand_made_grant_stays(city: str, kb: Any, tenant: tuple[Tenant, GraphStandIn]) -> None:
    tenants, _graph = tenant
    ok(kb, "roles", "grant", PER, "hr", "--unit", "FSKN")
    tenants.groups[HR_FSKN].members.append(PER)
    ok(kb, "roles", "map-group", HR_FSKN, "hr", "--unit", "FSKN")
    first = sync(kb)
    assert [a["user"] for a in first["added"]] == [ANNA]  # Per holds it already, by hand
    hand = _stored(city, table(RoleGrantRow), user_id=PER)
    assert [r.granted_by[:4] for r in hand] == ["cli:"]

    tenants.groups[HR_FSKN].members.remove(PER)
    after = sync(kb)
    assert after["revoked"] == []
    assert can_read_fskn(kb, PER)
    assert (PER, "hr", "FSKN") in grants(kb)


def test_a_403_changes_nothing_and_roles_groups_shows_why(
    city: str, kb: Any, tenant: tuple[Tenant, GraphStandIn]
) -> None:
    tenants, graph = tenant
    ok(kb, "roles", "map-group", HR_FSKN, "hr", "--unit", "FSKN", "--name", "HR Förskola")
    sync(kb)
    assert can_read_fskn(kb, ANNA)

    tenants.revoke(GROUPS)  # the consent taken away
    tenants.groups[HR_FSKN].members[:] = [PER]  # and the group changed meanwhile
    before = grants(kb)
    failed = kb("roles", "sync")
    assert failed.code == 1, failed.err
    assert "GroupMember.Read.All" in failed.out and "Bevilja administratörsmedgivande" in failed.out
    assert "Synken läste 0 av 1 grupp: inga ändringar." in failed.out
    assert grants(kb) == before
    assert can_read_fskn(kb, ANNA) and not can_read_fskn(kb, PER)

    listed = ok(kb, "roles", "groups").out.splitlines()
    assert listed[0] == "Grupp-id\tNamn\tRoll\tNämnd\tSenast synkad\tMedlemmar"  # what each column is
    assert listed[1].startswith(f"{HR_FSKN}\tHR Förskola\thr\tFSKN\t2025-") and listed[1].endswith("\t1")
    assert listed[2].startswith("  Fel vid synken ") and "GroupMember.Read.All" in listed[2]
    assert "403" in _mappings(kb)[0]["error"]

    tenants.consent(GROUPS)  # the administrator consents again
    healed = sync(kb)
    assert [a["user"] for a in healed["added"]] == [PER] and [r["user"] for r in healed["revoked"]] == [ANNA]
    assert _mappings(kb)[0]["error"] is None
    assert graph.count("members") == 3


def test_a_deleted_group_changes_nothing_for_its_roles(city: str, kb: Any) -> None:
    ok(kb, "roles", "map-group", GONE, "chef", "--unit", "GSN")
    ok(kb, "roles", "map-group", HR_FSKN, "hr", "--unit", "FSKN")
    result = kb("roles", "sync", "--json")
    assert result.code == 1
    report = json.loads(result.out)
    assert [a["user"] for a in report["added"]] == [ANNA]  # the other group is read all the same
    assert report["failed"][0]["group"] == GONE and "finns inte i Entra ID" in report["failed"][0]["error"]
    by_group = {m["group_id"]: m for m in _mappings(kb)}
    assert "roles unmap-group" in by_group[GONE]["error"] and by_group[HR_FSKN]["error"] is None


def test_nested_groups_and_pages(
    city: str, kb: Any, tenant: tuple[Tenant, GraphStandIn], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Members of a group inside the mapped group count (transitive), the nested group
    itself gets nothing, and every page is read (2 a page here; Graph's largest is 999)."""
    tenants, graph = tenant
    monkeypatch.setattr(bot.group_sync, "PAGE_SIZE", "2")
    extra = [f"bbbbbbbb-0000-4000-8000-00000000000{i}" for i in range(5)]
    for i, user in enumerate(extra):
        tenants.add_user(user, f"Person {i}")
    tenants.add_group(NESTED, "HR Förskola Syd", [PER, *extra])
    tenants.groups[HR_FSKN].members.append(NESTED)
    ok(kb, "roles", "map-group", HR_FSKN, "hr", "--unit", "FSKN")
    report = sync(kb)
    assert {a["user"] for a in report["added"]} == {ANNA, PER, *extra}
    assert graph.count("members") == 4  # 7 users, 2 a page
    assert NESTED not in {g[0] for g in grants(kb)}


def test_a_group_mapped_to_two_units(city: str, kb: Any, tenant: tuple[Tenant, GraphStandIn]) -> None:
    tenants, _graph = tenant
    ok(kb, "roles", "map-group", HR_FSKN, "hr", "--unit", "FSKN")
    ok(kb, "roles", "map-group", HR_FSKN, "hr", "--unit", "GSN")
    sync(kb)
    assert {(ANNA, "hr", "FSKN"), (ANNA, "hr", "GSN")} <= grants(kb)
    assert graph_reads(tenant) == 1  # one read serves both mappings
    ok(kb, "roles", "unmap-group", HR_FSKN, "hr", "--unit", "GSN")
    report = sync(kb)
    assert [(r["user"], r["unit"]) for r in report["revoked"]] == [(ANNA, "GSN")]
    assert (ANNA, "hr", "FSKN") in grants(kb)


def graph_reads(tenant: tuple[Tenant, GraphStandIn]) -> int:
    return tenant[1].count("members")


def test_members_names_are_remembered(city: str, kb: Any) -> None:
    ok(kb, "roles", "map-group", HR_FSKN, "hr", "--unit", "FSKN")
    sync(kb)
    engine = make_engine(city)
    try:
        with engine.connect() as conn:
            org = conn.execute(select(text("id")).select_from(text("organisations"))).scalar_one()
            anna = people.by_address(conn, org, "Anna.Andersson@malmo.example")
    finally:
        engine.dispose()
    assert anna is not None and anna.user_id == ANNA and anna.name == "Anna Andersson"


def test_refusals(city: str, kb: Any, tenant: tuple[Tenant, GraphStandIn]) -> None:
    _tenants, graph = tenant
    assert "inget objekt-id i Entra ID" in refused(
        kb, city, "roles", "map-group", "HR Förskola", "hr", "--unit", "FSKN"
    )
    assert "ange vilken med --unit" in refused(kb, city, "roles", "map-group", HR_FSKN, "hr")
    assert "ange vilken med --unit" in refused(kb, city, "roles", "unmap-group", HR_FSKN, "hr")
    assert "tar ingen nämnd" in refused(kb, city, "roles", "map-group", HR_FSKN, "ksau", "--unit", "FSKN")
    unknown = refused(kb, city, "roles", "map-group", HR_FSKN, "hr", "--unit", "Nämnden för allt")
    assert "Okänd nämnd" in unknown and "FSKN (Förskolenämnden)" in unknown
    assert "Okänd roll" in refused(kb, city, "roles", "map-group", HR_FSKN, "rektor")
    who = refused(kb, city, "roles", "map-group", HR_FSKN, "hr", "--unit", "GSN", "--user", "hr-gsn")
    assert "behörighet" in who
    ok(kb, "roles", "map-group", HR_FSKN, "hr", "--unit", "FSKN")
    assert "inte kopplad till rollen hr för GSN" in refused(
        kb, city, "roles", "unmap-group", HR_FSKN, "hr", "--unit", "GSN"
    )
    assert "behörighet" in refused(kb, city, "roles", "sync", "--user", "hr-gsn")
    assert "behörighet" in refused(kb, city, "roles", "groups", "--user", "hr-gsn")
    assert graph.count("members") == 0  # a refused sync asks Graph nothing


def test_without_graph_a_sync_is_refused(city: str, kb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOMPETENSBOT_GRAPH_URL")
    ok(kb, "roles", "map-group", HR_FSKN, "hr", "--unit", "FSKN")
    line = refused(kb, city, "roles", "sync")
    assert "Microsoft Graph är inte inställt" in line and "GroupMember.Read.All" in line


def test_without_graph_mapping_a_group_says_what_a_sync_needs(
    city: str, kb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester mapped a group with Graph not configured and was told the members get the role at
    the next sync, which never came: the answer says Graph must be configured first, and where."""
    monkeypatch.delenv("KOMPETENSBOT_GRAPH_URL")
    said = ok(kb, "roles", "map-group", HR_FSKN, "hr", "--unit", "FSKN").out
    assert "Gruppen " + HR_FSKN + " ger nu rollen hr för FSKN." in said
    assert "Microsoft Graph är inte inställt, så ingen synk kan läsa gruppen" in said
    assert "GroupMember.Read.All" in said and '"Microsoft Graph: samtycke och behörigheter"' in said
    assert "Medlemmarna får rollen vid nästa synk (kompetensbot roles sync, eller" not in said
    monkeypatch.setenv("KOMPETENSBOT_GRAPH_URL", "http://127.0.0.1:9")
    configured = ok(kb, "roles", "map-group", GONE, "hr", "--unit", "FSKN").out
    assert "Medlemmarna får rollen vid nästa synk" in configured and "inte inställt" not in configured


def test_a_refused_sync_with_json_answers_json(city: str, kb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOMPETENSBOT_GRAPH_URL")
    result = kb("roles", "sync", "--json")
    assert result.code == 2
    found = json.loads(result.out)
    assert found["code"] == "graph_not_configured" and "Microsoft Graph är inte inställt" in found["error"]
    denied = kb("roles", "sync", "--json", "--user", "hr-gsn")
    assert denied.code == 2 and "behörighet" in json.loads(denied.out)["error"]
