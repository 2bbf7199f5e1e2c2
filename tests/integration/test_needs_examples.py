"""The bundled examples' competence needs (issue 21): Förskolenämnden's in the
Malmö 2025 example (seed 003) and a second city, Hägersten-Liljeholmen (seed
004), with needs and measures but no fund, loaded beside Malmö."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

import bot.data_services
from bot.data_services import load_example
from bot.needs_services import NeedServices
from bot.services import Services
from core.needs import NeedKind, Recruitment, is_stale, money_per_role, uncovered
from storage.bot_state import link_tenant
from storage.examples import available, read_example
from storage.read_model import tenant_freshness
from tests.integration.test_cli import Kb, kb  # noqa: F401  # kb: the fixture, named again below

HL = "hagersten-liljeholmen"
TODAY = date(2025, 6, 5)
PLAYGROUND_TENANT = "6f1c2a3b-0000-4e5f-8a9b-00000000a11e"  # .m365agentsplayground.yml
ROOT = Path(__file__).resolve().parents[2]


def titles(services: Services) -> dict[int, str]:
    return {m.id: m.title for m in services.ledger().measures.values()}


def test_malmo_has_forskolenamndens_needs_linked_to_its_measures(example_engine: Engine) -> None:
    services = NeedServices(example_engine)
    needs = services.all_needs()

    assert [n.key for n in needs.current.values()] == ["FSKN-1", "FSKN-2", "FSKN-3", "FSKN-4"]
    assert {n.unit for n in needs.current.values()} == {"FSKN"}
    by_key = needs.current
    assert (by_key["fskn-1"].role, by_key["fskn-1"].kind) == ("Förskollärare", NeedKind.UPSKILLING)
    assert by_key["fskn-2"].kind == NeedKind.INTRODUCTION
    assert "Trygga barnet" in by_key["fskn-3"].competence and by_key["fskn-3"].role == "Barnskötare"
    assert "kompensatoriska" in by_key["fskn-4"].competence and by_key["fskn-4"].kind == NeedKind.LEADERSHIP
    # the sources as the papers name them: FSKF-2024-4275 of 2024-04-24 (seed 003), FSKN's request (seed 000)
    assert "FSKF-2024-4275" in by_key["fskn-1"].source and by_key["fskn-1"].source_date == date(2024, 4, 24)
    assert by_key["fskn-3"].source_date == date(2025, 2, 5)
    names = titles(services)
    swedish = "Stärka kompetensen i yrkessvenska och i arbetet mot hedersrelaterat våld och förtryck samt "
    assert {(link.need, names[link.measure_id]) for link in needs.links} == {
        ("FSKN-1", "Stärka formell kompetens"),
        ("FSKN-3", swedish + "gällande ”Trygga barnet”"),
    }
    assert "illustrativa" in read_example("malmo-2025")["note"]


def test_malmos_uncovered_needs_and_money_per_role(example_engine: Engine) -> None:
    services = NeedServices(example_engine)
    needs, ledger = services.all_needs(), services.ledger()

    assert [n.key for n in uncovered(needs, ledger, 2025)] == ["FSKN-2", "FSKN-4"]  # shortage first
    money = money_per_role(needs, ledger, 2025)
    assert money.by_role == {"Förskollärare": 6_000_000, "Barnskötare": 3_500_000}
    assert money.unclaimed == 0 and money.total == 9_500_000
    # seed 003's paper is from April 2024: stale only two years on
    assert not is_stale(needs.current["fskn-1"], TODAY)
    assert is_stale(needs.current["fskn-1"], date(2026, 4, 25))


def test_hagersten_liljeholmen_loads_beside_malmo_without_a_fund(example_engine: Engine) -> None:
    malmo = NeedServices(example_engine, org="malmo")
    malmo_before = (len(malmo.ledger().entries), len(malmo.ledger().measures), len(malmo.all_needs().entries))

    result = load_example(example_engine, HL)

    assert result.loaded and (result.measures, result.entries, result.needs, result.links) == (6, 0, 14, 8)
    assert HL in available()
    city = NeedServices(example_engine, org=HL)
    ledger = city.ledger()
    assert list(ledger.units) == ["HLSDN"]
    assert not any(ledger.has_fund(y) for y in ledger.years)
    assert ledger.entries == ()
    needs = city.all_needs()
    assert len(needs.current) == 14
    retiring = {n.role: (n.people, n.retirements) for n in needs.current.values() if n.retirements}
    assert retiring == {"Socialsekreterare": (5, 5), "Biståndshandläggare": (1, 1), "Vårdare": (9, 9)}
    shortage = {n.role for n in needs.current.values() if n.recruitment is Recruitment.SHORTAGE}
    assert {"Socialsekreterare", "Biståndshandläggare", "Förskollärare", "Sjuksköterska", "Arbetsterapeut",
            "Fysioterapeut"} <= shortage  # fmt: skip
    assert needs.current["b6"].kind is NeedKind.SURPLUS and needs.current["b6"].role == "Personlig assistent"
    assert "Spelberoende" in needs.current["b5"].competence
    names = titles(city)
    assert ("B8", "Barnskötare studerar till förskollärare på arbetstid", 35) in {
        (link.need, names[link.measure_id], link.people) for link in needs.links
    }
    # Malmö is as it was; the Hägersten-Liljeholmen measures are not Malmö's
    assert (
        len(malmo.ledger().entries),
        len(malmo.ledger().measures),
        len(malmo.all_needs().entries),
    ) == malmo_before
    assert not set(names.values()) & {m.title for m in malmo.ledger().measures.values()}

    again = load_example(example_engine, HL)

    assert not again.loaded and again.organisation == "Hägersten-Liljeholmen (Stockholms stad)"
    assert len(NeedServices(example_engine, org=HL).all_needs().entries) == len(needs.entries)
    assert len(NeedServices(example_engine, org=HL).ledger().measures) == 6


def test_uncovered_needs_of_hagersten_liljeholmen(example_engine: Engine) -> None:
    load_example(example_engine, HL)
    city = NeedServices(example_engine, org=HL)
    needs, ledger = city.all_needs(), city.ledger()

    # In 2018 (the plan's first year, no fund): the measures run, so their needs are covered;
    # the gambling addiction, the elderly care's shortage roles, the surplus and the new managers are not.
    gaps = uncovered(needs, ledger, 2018)
    assert [n.key for n in gaps] == ["B11", "B12", "B13", "B5", "B6", "B7"]
    assert [n.recruitment for n in gaps][:4] == [Recruitment.SHORTAGE] * 4  # shortage roles first
    assert money_per_role(needs, ledger, 2018).total == 0  # no fund: no money to split
    # The plan's needs were assessed for 2018: stale by now, as the papers are old
    assert all(is_stale(n, TODAY) for n in needs.current.values())
    # the FSKN needs of Malmö are not Hägersten-Liljeholmen's, nor the other way round
    assert "FSKN-1" not in {n.key for n in needs.current.values()}
    assert "B5" not in {n.key for n in NeedServices(example_engine, org="malmo").all_needs().current.values()}


def test_the_playground_tenant_stays_malmos_with_both_cities_loaded(example_engine: Engine) -> None:
    load_example(example_engine, HL)
    link_tenant(example_engine, PLAYGROUND_TENANT, "malmo")  # as `make demo` does

    with example_engine.connect() as conn:
        served = tenant_freshness(conn, PLAYGROUND_TENANT, only_city=True)
        unlinked = tenant_freshness(conn, "some-other-tenant", only_city=True)

    assert served is not None and served.slug == "malmo"
    assert unlinked is None  # two cities: an unlinked tenant is served by neither


# --- the command line with both examples --------------------------------------------------


@pytest.fixture
def both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kb: Kb) -> str:
    url = f"sqlite:///{tmp_path / 'both.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("KOMPETENSBOT_TODAY", TODAY.isoformat())
    for args in (("db", "upgrade"), ("load-example", "malmo-2025")):
        assert kb(*args).code == 0
    return url


def test_load_example_hagersten_liljeholmen_beside_malmo_then_commands_take_org(both: str, kb: Kb) -> None:
    loaded = kb("load-example", HL)
    assert loaded.code == 0, loaded.err
    assert "Hägersten-Liljeholmen" in loaded.out and "14 behov" in loaded.out

    without = kb("funds", "--year", "2025")
    assert without.code == 2 and without.out == ""
    assert "flera städer" in without.err and "--org" in without.err

    malmo = kb("--org", "malmo", "funds", "--year", "2025", "--json")
    assert malmo.code == 0 and malmo.json()["fund"]["total"] == 78_000_000
    measures = kb("--org", HL, "measures", "--year", "2018", "--json")
    assert measures.code == 0, measures.err
    assert len(measures.json()) == 6

    again = kb("load-example", HL)
    assert again.code == 0 and "finns redan" in again.out and "inget ändrades" in again.out

    # "vilka behov saknar insatser?" on the command line: a city without a fund shows no kronor
    # (a city office read "Pengar 2018: 0 kr" as nothing going to its needs)
    uncovered = kb("--org", HL, "needs", "--uncovered", "--year", "2018")
    assert uncovered.code == 0, uncovered.err
    assert "6 av 14 behov (brist först, sedan flest pensionsavgångar)." in uncovered.out
    assert "Staden har ingen fond för 2018" in uncovered.out and " 0 kr" not in uncovered.out
    this_year = kb("--org", HL, "needs", "--year", "2025")
    assert "Inga behov gäller 2025: de som finns gäller 2018–2019. Ange året med --year." in this_year.out


@pytest.mark.skipif(shutil.which("make") is None, reason="make saknas")
def test_make_demo_loads_malmo_alone_and_links_the_playgrounds_tenant_to_it() -> None:
    """With another example in the same database, the demo's commands name Malmö and the
    Playground's tenant (its .m365agentsplayground.yml) stays Malmö's."""
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [" ".join(line.split()) for line in done.stdout.replace("\\\n", " ").splitlines()]
    examples = [line for line in lines if "load-example" in line]
    assert [line.split("load-example ")[1] for line in examples] == ["malmo-2025"]
    config = (ROOT / ".m365agentsplayground.yml").read_text(encoding="utf-8")
    assert f"tenantId: {PLAYGROUND_TENANT}" in config.splitlines()
    assert any(line.endswith(f"kompetensbot --org malmo tenants link {PLAYGROUND_TENANT}") for line in lines)
    assert any("kompetensbot --org malmo funds --year 2025" in line for line in lines)


def test_a_malmo_loaded_before_the_needs_is_told_how_to_get_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kb: Kb
) -> None:
    """Append-only: a city loaded from the example before it had needs keeps what it has;
    load-example says which needs it lacks and how to start afresh."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'old.db'}")
    assert kb("db", "upgrade").code == 0
    old = read_example("malmo-2025")
    old.pop("needs")
    for measure in old["measures"]:
        measure.pop("needs", None)
    with monkeypatch.context() as patch:
        patch.setattr(bot.data_services, "read_example", lambda name: old)
        assert kb("load-example", "malmo-2025").code == 0

    again = kb("load-example", "malmo-2025")

    assert again.code == 0, again.err
    assert "utan exemplets 4 kompetensbehov (FSKN-1, FSKN-2, FSKN-3, FSKN-4)" in again.out
    assert "Inget ändrades" in again.out and "börja om med en ny databas" in again.out
