"""The command line as a user sees it: `kompetensbot ...` run in-process
against a fresh SQLite file with the Malmö 2025 example loaded.

Every refusal must exit 2, say what is wrong in one Swedish line on stderr
starting "kompetensbot:", and write nothing. (The PostgreSQL variants live in
the storage and template tests: a per-test schema cannot be carried by
DATABASE_URL, so the command line is tested on SQLite only.)
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.services import Services
from cli import texts
from cli.main import main
from storage.bot_state import city_of_tenant
from storage.db import make_engine
from storage.examples import read_example

EXAMPLE = read_example("malmo-2025")
MEASURES = EXAMPLE["measures"]


def _final_status(measure: dict[str, Any]) -> str:
    """The status a reader should see: the latest follow-up's, else the submitted one."""
    reports = [f for f in EXAMPLE["followups"] if f["measure"] == measure["key"]]
    if reports:
        return max(reports, key=lambda f: f["period"])["status"]
    return str(measure.get("status", "Ej påbörjad"))


def _overdue_titles(as_of: date) -> set[str]:
    return {
        m["title"]
        for m in MEASURES
        if m.get("end") and date.fromisoformat(m["end"]) < as_of and _final_status(m) != "Klar"
    }


# --- running the command line --------------------------------------------------


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Kb = Callable[..., Result]


@pytest.fixture
def kb(capsys: pytest.CaptureFixture[str]) -> Kb:
    """Run `kompetensbot ARGS...` in-process; return exit code, stdout and stderr."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as stop:  # argparse exits on bad command lines
            code = stop.code if isinstance(stop.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kb: Kb) -> str:
    """A fresh, migrated SQLite database that DATABASE_URL points at."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    result = kb("db", "upgrade")
    assert result.code == 0, result.err
    assert "uppgraderad" in result.out
    return url


@pytest.fixture(scope="module")
def loaded_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file made once per module by `db upgrade` and `load-example`."""
    path = tmp_path_factory.mktemp("example") / "example.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", f"sqlite:///{path}")
        assert main(["db", "upgrade"]) == 0
        assert main(["load-example", "malmo-2025"]) == 0
    return path


@pytest.fixture
def city(loaded_example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kb: Kb) -> str:
    """A fresh copy of the database with the Malmö 2025 example loaded (its URL)."""
    target = tmp_path / "cli.db"
    source, copy = sqlite3.connect(loaded_example), sqlite3.connect(target)
    try:
        source.backup(copy)  # consistent, write-ahead log included
    finally:
        source.close()
        copy.close()
    url = f"sqlite:///{target}"
    monkeypatch.setenv("DATABASE_URL", url)
    result = kb("db", "upgrade")  # already current: must be a harmless no-op
    assert result.code == 0, result.err
    return url


def snapshot(url: str) -> tuple[int, int, int, tuple[tuple[str, str, str], ...]]:
    """What a refused command must leave untouched: ledger entries, measures,
    follow-ups and role grants."""
    engine = make_engine(url)
    try:
        services = Services(engine)
        ledger = services.ledger()
        grants = tuple(sorted((g.user, g.role.value, g.unit or "") for g in services.roles(None)))
        return len(ledger.entries), len(ledger.measures), len(ledger.followups), grants
    finally:
        engine.dispose()


def refused(kb: Kb, url: str, *args: str) -> str:
    """Run a command that must be refused; return its one stderr line."""
    before = snapshot(url)
    result = kb(*args)
    assert result.code == 2, (result.code, result.out, result.err)
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("kompetensbot: ")
    assert "Traceback" not in result.err
    assert result.out == ""
    assert snapshot(url) == before, "a refused command wrote to the database"
    return lines[0]


def funds(kb: Kb, *args: str) -> dict[str, Any]:
    result = kb("funds", "--year", "2025", "--json", *args)
    assert result.code == 0, result.err
    data: dict[str, Any] = result.json()
    return data


def measures_by_title(kb: Kb, *args: str) -> dict[str, dict[str, Any]]:
    result = kb("measures", "--json", *args)
    assert result.code == 0, result.err
    return {m["title"]: m for m in result.json()}


KSAU_DECISION = "KSAU 2025-06-20 § 5"
VO = "Yrkeslärare i vård och omsorg"  # June follow-up: 900 000 kr will not be used
YRKES = "Yrkeslärarsatsning"


# --- loading the example ---------------------------------------------------------


def test_load_example_twice_second_time_changes_nothing(cli_db: str, kb: Kb) -> None:
    first = kb("load-example", "malmo-2025")
    assert first.code == 0, first.err
    assert "är inläst" in first.out and "Malmö stad" in first.out
    loaded = snapshot(cli_db)
    assert loaded[0] > 0 and loaded[1] == len(MEASURES)

    second = kb("load-example", "malmo-2025")

    assert second.code == 0, second.err
    assert "finns redan" in second.out and "inget ändrades" in second.out
    assert snapshot(cli_db) == loaded


def test_load_unknown_example_is_refused(cli_db: str, kb: Kb) -> None:
    result = kb("load-example", "stockholm-1999")

    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith("kompetensbot: ")
    assert len(result.err.splitlines()) == 1
    assert "stockholm-1999" in result.err and "malmo-2025" in result.err
    still_empty = kb("funds")
    assert still_empty.code == 2 and "ingen stad" in still_empty.err


def test_reading_before_db_upgrade_tells_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kb: Kb
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = kb("funds")
    assert result.code == 1
    assert result.err.startswith("kompetensbot: ")
    assert "db upgrade" in result.err
    assert "Traceback" not in result.err


# --- funds -------------------------------------------------------------------------


def test_funds_json_shows_the_whole_2025_fund(city: str, kb: Kb) -> None:
    data = funds(kb)

    assert data["year"] == 2025
    assert data["fund"]["total"] == 78_000_000
    assert data["units_shown"]["allocated"] == 78_000_000
    assert data["fund"]["not_transferred"] == 0
    units = {u["code"]: u for u in data["units"]}
    assert len(data["units"]) == 14
    assert set(units) == {u["code"] for u in EXAMPLE["units"]}
    assert units["FSKN"]["allocated"] == 15_000_000
    assert units["FSKN"]["remaining"] == 15_000_000
    assert units["FSKN"]["name"] == "Förskolenämnden"
    assert units["KS"]["allocated"] == 1_000_000
    assert units["HVON"]["allocated"] == 15_100_000
    assert sum(u["allocated"] for u in data["units"]) == data["units_shown"]["allocated"]
    assert all(u["decisions"] == ["KS 2025-03-05"] for u in data["units"])


def test_funds_text_table(city: str, kb: Kb) -> None:
    result = kb("funds", "--year", "2025")

    assert result.code == 0, result.err
    assert "Kompetensutvecklingsmedel 2025, Malmö stad" in result.out
    assert "78 000 000 kr" in result.out
    assert "Förskolenämnden" in result.out
    assert "15 000 000 kr" in result.out
    assert "Ej fördelat till nämnder: 0 kr." in result.out


def test_funds_without_year_shows_the_current_fund_year(city: str, kb: Kb) -> None:
    result = kb("funds", "--json", "--as-of", "2025-06-30")
    assert result.code == 0, result.err
    assert result.json()["year"] == 2025


def test_funds_for_one_unit_named_by_alias(city: str, kb: Kb) -> None:
    data = funds(kb, "--unit", "förskolan")

    assert [u["code"] for u in data["units"]] == ["FSKN"]
    assert data["units"][0]["allocated"] == 15_000_000
    assert data["fund"]["total"] == 78_000_000


def test_funds_for_one_unit_keeps_the_funds_unallocated_figure(city: str, kb: Kb) -> None:
    data = funds(kb, "--unit", "FSKN")
    assert data["fund"]["not_transferred"] == 0
    text = kb("funds", "--year", "2025", "--unit", "FSKN")
    assert "Ej fördelat till nämnder: 0 kr." in text.out


def test_funds_json_names_the_funds_level_apart_from_the_units(city: str, kb: Kb) -> None:
    """Issue 17 item 12: `funds --unit MN --json` no longer mixes the fund's total and the
    unit's allocation at its top: `fund` is the whole fund, `units_shown` the units listed."""
    data = funds(kb, "--unit", "MN")
    assert set(data) == {"year", "fund", "units_shown", "units"}
    assert data["fund"] == {
        "decided": True,
        "total": 78_000_000,
        "transferred_to_units": 78_000_000,
        "not_transferred": 0,
        "reserved": 0,
        "decisions": ["KF: Budget 2025, kommunfullmäktige"],
    }
    assert data["units_shown"]["count"] == 1
    assert data["units_shown"]["allocated"] == data["units"][0]["allocated"] == 400_000


def test_funds_for_a_year_without_a_fund(city: str, kb: Kb) -> None:
    """Issue 17 item 9: 2024 has no fund (said so, no table of zeros); 2027 has KS's
    recurring allocation only: reserved, the fund not decided, nothing negative."""
    none = kb("funds", "--year", "2024")
    assert none.code == 0, none.err
    assert "Det finns ingen fond för 2024" in none.out and "Totalt" not in none.out
    reserved = kb("funds", "--year", "2027", "--json")
    fund = reserved.json()["fund"]
    assert (fund["decided"], fund["total"], fund["not_transferred"]) == (False, None, None)
    assert fund["reserved"] == 1_000_000
    text = kb("funds", "--year", "2027").out
    assert "fonden: ej beslutat" in text and "reserverar 1 000 000 kr" in text
    assert "-1 000 000" not in text and "−1 000 000" not in text


def test_add_measure_without_year_takes_the_same_year_as_the_chat(city: str, kb: Kb) -> None:
    """Issue 17 item 9: the README's `add-measure` example (no --year, money of 2025) on a
    day in 2026, a year without a fund, is registered on 2025's money: the year is picked by
    the core's one rule (the chat's), not the calendar year."""
    result = kb(
        "add-measure",
        "--unit",
        "FSKN",
        "--title",
        "Mentorskap för nya chefer",
        "--end",
        "31 december 2025",
        "--amount",
        "1 mkr",
        "--decision",
        "nämnd 2025-02-05 § 5",
        "--as-of",
        "2026-12-05",
    )
    assert result.code == 0, result.err
    assert measures_by_title(kb, "--unit", "FSKN")["Mentorskap för nya chefer"]["year"] == 2025
    shown = kb("funds", "--json", "--as-of", "2026-12-05")
    assert shown.json()["year"] == 2025


def test_add_measure_names_every_bad_field_at_once_with_the_forms_limits(city: str, kb: Kb) -> None:
    """Issue 18 (one place for length limits): add-measure refuses a 201-character title and
    a 4 001-character description as the chat and the form do (the command line took any
    length), and an unreadable amount in the same refusal; nothing is written."""
    line = refused(
        kb,
        city,
        "add-measure",
        "--unit",
        "FSKN",
        "--title",
        "T" * 201,
        "--description",
        "d" * 4001,
        "--amount",
        "många kronor",
        "--decision",
        "nämnd 2025-02-05 § 5",
    )
    assert "201" in line and "200" in line, line
    assert "4 001" in line or "4001" in line, line
    assert "många kronor" in line, line


def test_add_measure_refuses_the_decisions_the_chat_and_the_form_refuse(city: str, kb: Kb) -> None:
    """Review of issue 18: add-measure reads its decision with the core's reader (core.forms),
    as the chat and the form do: a decision dated after today (--as-of) is refused, as is
    another committee's, also without --amount (it was saved unchecked); nothing is written."""
    line = refused(
        kb,
        city,
        "add-measure",
        "--unit",
        "FSKN",
        "--title",
        "Ny förskoleinsats",
        "--amount",
        "1 mkr",
        "--decision",
        "nämnd 2025-04-01 § 5",
        "--as-of",
        "2025-03-01",
    )
    assert "Beslutet FSKN 2025-04-01 § 5 är daterat 1 april 2025, efter i dag (1 mars 2025)" in line, line
    line = refused(
        kb,
        city,
        "add-measure",
        "--unit",
        "FSKN",
        "--title",
        "Ny förskoleinsats",
        "--decision",
        "GSN 2025-02-05 § 5",
    )
    assert "kan inte beviljas genom Grundskolenämndens beslut (GSN 2025-02-05 § 5)" in line, line
    line = refused(
        kb, city, "add-measure", "--unit", "FSKN", "--title", "Ny förskoleinsats", "--amount", "1 mkr"
    )
    assert line.endswith("Ange det med --decision (utan organ: nämnden i --unit).")  # the hint stays


# --- measures ----------------------------------------------------------------------


def test_measures_json_lists_every_measure_with_its_money(city: str, kb: Kb) -> None:
    items = kb("measures", "--json").json()

    assert len(items) == len(MEASURES)
    for item in items:
        assert {"id", "title", "unit", "status", "end_date", "allocated"} <= item.keys()
    by_title = {m["title"]: m for m in items}
    assert by_title[YRKES]["unit"] == "GVN"
    assert by_title[YRKES]["allocated"] == 4_000_000
    assert by_title[YRKES]["status"] == "Pågående"
    assert by_title[YRKES]["end_date"] == "2025-12-31"
    malmo_lar = by_title["Malmö Lär – gemensam samordningsresurs"]
    assert set(malmo_lar["units"]) == {"SBN", "TN", "MN"}
    assert malmo_lar["allocated"] == 700_000
    assert {s["unit"]: s["allocated"] for s in malmo_lar["shares"]} == {
        "SBN": 300_000,
        "TN": 200_000,
        "MN": 200_000,
    }


def test_measures_filtered_by_unit(city: str, kb: Kb) -> None:
    by_title = measures_by_title(kb, "--unit", "GVN")

    expected = {m["title"] for m in MEASURES if "GVN" in m["units"]}
    assert set(by_title) == expected
    assert all("GVN" in m["units"] for m in by_title.values())


def test_measures_filtered_by_status(city: str, kb: Kb) -> None:
    by_title = measures_by_title(kb, "--status", "Klar")

    expected = {m["title"] for m in MEASURES if _final_status(m) == "Klar"}
    assert expected, "the example has measures reported Klar"
    assert set(by_title) == expected
    assert all(m["status"] == "Klar" for m in by_title.values())


def test_overdue_measures_in_october(city: str, kb: Kb) -> None:
    as_of = date(2025, 10, 1)
    by_title = measures_by_title(kb, "--overdue", "--as-of", as_of.isoformat())

    expected = _overdue_titles(as_of)
    assert expected, "the example has measures that ended in September"
    assert set(by_title) == expected
    for m in by_title.values():
        assert m["overdue"] is True
        assert m["status"] != "Klar"
        assert date.fromisoformat(m["end_date"]) < as_of


def test_nothing_is_overdue_in_march(city: str, kb: Kb) -> None:
    assert measures_by_title(kb, "--overdue", "--as-of", "2025-03-01") == {}
    text = kb("measures", "--overdue", "--as-of", "2025-03-01")
    assert text.code == 0
    assert "Inga insatser matchar." in text.out


def test_measures_text_marks_overdue(city: str, kb: Kb) -> None:
    result = kb("measures", "--overdue", "--as-of", "2025-10-01")
    assert result.code == 0, result.err
    assert "(försenad)" in result.out
    assert f"{len(_overdue_titles(date(2025, 10, 1)))} insatser." in result.out


def test_measure_shows_status_and_money(city: str, kb: Kb) -> None:
    result = kb("measure", YRKES, "--as-of", "2025-06-30")

    assert result.code == 0, result.err
    assert result.out.startswith(f"{YRKES} (id ")
    assert "Status: Pågående" in result.out
    assert "försenad" not in result.out
    assert "Beviljat 4 000 000 kr, utfall 1 350 000 kr, prognos 4 000 000 kr" in result.out
    assert "kvar 2 650 000 kr" in result.out
    assert "Slutdatum: 31 december 2025" in result.out


def test_unknown_measure_is_refused(city: str, kb: Kb) -> None:
    line = refused(kb, city, "measure", "Rymdresa för chefer")
    assert "Rymdresa för chefer" in line


# --- refusals: amounts, units, limits --------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("-5 000 kr", "negativt"),
        ("0 kr", "noll"),
        ("1,5", "saknar enhet"),
        ("abc", "inte ett belopp"),
    ],
)
def test_bad_amount_is_refused(city: str, kb: Kb, amount: str, says: str) -> None:
    line = refused(
        kb,
        city,
        "allocate",
        "--unit",
        "FSKN",
        "--year",
        "2025",
        "--amount",
        amount,
        "--decision",
        "KS 2025-03-05",
    )
    assert says in line
    assert amount in line


@pytest.mark.parametrize("amount", ["-5 000 kr", "0 kr", "1,5", "abc"])
def test_bad_amount_in_new_measure_is_refused(city: str, kb: Kb, amount: str) -> None:
    refused(
        kb,
        city,
        "add-measure",
        "--unit",
        "FSKN",
        "--title",
        "Ny insats",
        "--amount",
        amount,
        "--decision",
        "nämnd 2025-02-05 § 5",
    )


def test_unknown_unit_is_refused(city: str, kb: Kb) -> None:
    line = refused(
        kb,
        city,
        "allocate",
        "--unit",
        "Rymdnämnden",
        "--year",
        "2025",
        "--amount",
        "1 mkr",
        "--decision",
        "KS 2025-03-05",
    )
    assert "Okänd nämnd" in line and "Rymdnämnden" in line


def test_allocation_above_what_is_left_in_the_fund_is_refused(city: str, kb: Kb) -> None:
    line = refused(
        kb,
        city,
        "allocate",
        "--unit",
        "FSKN",
        "--year",
        "2025",
        "--amount",
        "1 kr",
        "--decision",
        "KS 2025-03-05",
    )
    assert "ryms inte i anslaget för 2025" in line
    assert "0 kr av 78 000 000 kr" in line


def test_new_measure_above_the_units_unallocated_money_is_refused(city: str, kb: Kb) -> None:
    line = refused(
        kb,
        city,
        "add-measure",
        "--unit",
        "FSKN",
        "--title",
        "Ny förskoleinsats",
        "--amount",
        "2 mkr",
        "--decision",
        "nämnd 2025-02-05 § 5",
        "--start",
        "2025-04-01",
        "--end",
        "2025-12-31",
    )
    assert "Förskolenämnden" in line and "1 500 000 kr" in line


def test_new_measure_within_the_units_unallocated_money_is_registered(city: str, kb: Kb) -> None:
    result = kb(
        "add-measure",
        "--unit",
        "förskolan",
        "--title",
        "Ny förskoleinsats",
        "--amount",
        "1 mkr",
        "--decision",
        "nämnd 2025-02-05 § 5",
        "--start",
        "2025-04-01",
        "--end",
        "2025-12-31",
    )

    assert result.code == 0, result.err
    assert 'Insatsen "Ny förskoleinsats" är registrerad med id' in result.out
    new = measures_by_title(kb, "--unit", "FSKN")["Ny förskoleinsats"]
    assert new["allocated"] == 1_000_000
    assert new["units"] == ["FSKN"]
    fskn = funds(kb, "--unit", "FSKN")["units"][0]
    assert fskn["unallocated"] == 500_000
    assert fskn["allocated"] == 15_000_000
    assert kb("validate").code == 0


def test_new_measure_ending_before_it_starts_is_refused(city: str, kb: Kb) -> None:
    line = refused(
        kb,
        city,
        "add-measure",
        "--unit",
        "FSKN",
        "--title",
        "Baklänges",
        "--start",
        "2025-04-01",
        "--end",
        "2025-03-01",
    )
    assert "Slutdatumet 1 mars 2025 ligger före startdatumet 1 april 2025" in line


# --- refusals: reallocation and follow-up ---------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target", "amount", "decision", "says"),
    [
        (VO, YRKES, "500 tkr", "KS 2025-06-20 § 5", "arbetsutskott"),
        (VO, YRKES, "1 mkr", KSAU_DECISION, "900 000 kr"),
        (VO, "Del 2. Handledning för chefer", "500 tkr", KSAU_DECISION, "inga beslutade medel"),
    ],
    ids=["without-ksau-decision", "more-than-unused", "to-measure-without-money"],
)
def test_bad_reallocation_is_refused(
    city: str, kb: Kb, source: str, target: str, amount: str, decision: str, says: str
) -> None:
    line = refused(
        kb,
        city,
        "reallocate",
        "--from",
        source,
        "--to",
        target,
        "--amount",
        amount,
        "--decision",
        decision,
    )
    assert says in line


@pytest.mark.parametrize(
    ("status", "spent", "forecast", "says"),
    [
        ("Pågående", "2 mkr", "1 mkr", "Prognosen"),
        ("Halvklar", "1 mkr", "2 mkr", 'Okänd status "Halvklar"'),
    ],
    ids=["forecast-below-spent", "unknown-status"],
)
def test_bad_followup_is_refused(
    city: str, kb: Kb, status: str, spent: str, forecast: str, says: str
) -> None:
    line = refused(
        kb,
        city,
        "followup",
        "add",
        "--measure",
        YRKES,
        "--period",
        "2025-09",
        "--status",
        status,
        "--spent",
        spent,
        "--forecast",
        forecast,
    )
    assert says in line


# --- permissions -----------------------------------------------------------------------------


def test_user_without_roles_cannot_read_funds(city: str, kb: Kb) -> None:
    line = refused(kb, city, "funds", "--user", "okänd")
    assert "okänd" in line and "behörighet" in line


def test_user_without_roles_cannot_read_measures(city: str, kb: Kb) -> None:
    refused(kb, city, "measures", "--user", "okänd")


def test_chef_reads_only_their_own_unit(city: str, kb: Kb) -> None:
    granted = kb("roles", "grant", "anna", "chef", "--unit", "GVN")
    assert granted.code == 0, granted.err

    line = refused(kb, city, "funds", "--user", "anna", "--unit", "FSKN")
    assert "anna" in line and "FSKN" in line

    own = funds(kb, "--user", "anna", "--unit", "GVN")
    assert [u["code"] for u in own["units"]] == ["GVN"]
    assert own["units"][0]["allocated"] == 9_500_000

    everything_visible = funds(kb, "--user", "anna")
    assert [u["code"] for u in everything_visible["units"]] == ["GVN"]

    assert kb("measure", YRKES, "--user", "anna").code == 0
    refused(kb, city, "measure", "Stärka formell kompetens", "--user", "anna")
    assert all("GVN" in m["units"] for m in measures_by_title(kb, "--user", "anna").values())


def test_only_ksau_can_reallocate(city: str, kb: Kb) -> None:
    assert kb("roles", "grant", "sara", "stadskontoret").code == 0
    assert kb("roles", "grant", "karl", "ksau").code == 0
    args = ("reallocate", "--from", VO, "--to", YRKES, "--amount", "500 tkr", "--decision", KSAU_DECISION)

    line = refused(kb, city, *args, "--user", "sara")
    assert "sara" in line and "omfördelningar" in line

    result = kb(*args, "--user", "karl")
    assert result.code == 0, result.err
    assert "Omfördelningen på 500 000 kr är registrerad" in result.out


def test_chef_role_without_unit_is_refused(city: str, kb: Kb) -> None:
    line = refused(kb, city, "roles", "grant", "x", "chef")
    assert "--unit" in line


def test_chef_cannot_grant_roles(city: str, kb: Kb) -> None:
    assert kb("roles", "grant", "anna", "chef", "--unit", "GVN").code == 0
    refused(kb, city, "roles", "grant", "anna", "stadskontoret", "--user", "anna")


# --- changes that succeed -------------------------------------------------------------------


def test_valid_reallocation_moves_money_between_measures_only(city: str, kb: Kb) -> None:
    before_funds = funds(kb)
    before = measures_by_title(kb)

    result = kb(
        "reallocate",
        "--from",
        VO,
        "--to",
        YRKES,
        "--amount",
        "500 tkr",
        "--decision",
        KSAU_DECISION,
    )

    assert result.code == 0, result.err
    assert "Omfördelningen på 500 000 kr är registrerad" in result.out
    assert KSAU_DECISION in result.out
    after_funds = funds(kb)
    after = measures_by_title(kb)
    assert after_funds["fund"]["total"] == before_funds["fund"]["total"] == 78_000_000
    assert after_funds["units_shown"]["allocated"] == before_funds["units_shown"]["allocated"] == 78_000_000
    assert after[VO]["allocated"] == before[VO]["allocated"] - 500_000 == 2_500_000
    assert after[YRKES]["allocated"] == before[YRKES]["allocated"] + 500_000 == 4_500_000
    others = {t: m["allocated"] for t, m in after.items() if t not in (VO, YRKES)}
    assert others == {t: m["allocated"] for t, m in before.items() if t not in (VO, YRKES)}
    shown = kb("measure", YRKES)
    assert "Omfördelning +500 000 kr, beslut KSAU 2025-06-20 § 5." in shown.out
    validated = kb("validate")
    assert validated.code == 0, validated.out
    assert "Liggaren stämmer" in validated.out


def test_reallocated_money_cannot_be_reallocated_again(city: str, kb: Kb) -> None:
    args = ("reallocate", "--from", VO, "--to", YRKES, "--decision", KSAU_DECISION, "--amount")
    assert kb(*args, "500 tkr").code == 0

    line = refused(kb, city, *args, "500 tkr")
    assert "400 000 kr" in line  # 900 000 unused, 500 000 already moved


def test_reallocation_between_units_moves_their_allocation(city: str, kb: Kb) -> None:
    # SN's June follow-up says 780 000 kr of "språk och digital mognad" will not be used.
    source = "Kompetenshöjande insatser inom språk och digital mognad"
    before = {u["code"]: u for u in funds(kb)["units"]}

    result = kb(
        "reallocate",
        "--from",
        source,
        "--to",
        YRKES,
        "--amount",
        "700 tkr",
        "--decision",
        KSAU_DECISION,
    )

    assert result.code == 0, result.err
    data = funds(kb)
    after = {u["code"]: u for u in data["units"]}
    assert data["fund"]["total"] == 78_000_000 and data["units_shown"]["allocated"] == 78_000_000
    assert after["SN"]["allocated"] == before["SN"]["allocated"] - 700_000
    assert after["GVN"]["allocated"] == before["GVN"]["allocated"] + 700_000
    assert after["SN"]["reallocated"] == -700_000
    assert after["GVN"]["reallocated"] == 700_000
    assert kb("validate").code == 0


def test_followup_then_measure_shows_the_new_figures(city: str, kb: Kb) -> None:
    title = "Tidiga signaler på ohälsa"
    result = kb(
        "followup",
        "add",
        "--measure",
        title,
        "--period",
        "2025-09",
        "--status",
        "Klar",
        "--spent",
        "240 tkr",
        "--forecast",
        "240 tkr",
        "--note",
        "Föreläsningen är publicerad.",
    )

    assert result.code == 0, result.err
    assert "Uppföljningen för 2025-09 är sparad" in result.out
    shown = kb("measure", title)
    assert "Status: Klar" in shown.out
    assert "Beviljat 250 000 kr, utfall 240 000 kr, prognos 240 000 kr, kvar 10 000 kr." in shown.out
    assert "Föreläsningen är publicerad." in shown.out
    data = kb("measure", title, "--json").json()
    assert (data["status"], data["spent"], data["forecast"], data["remaining"]) == (
        "Klar",
        240_000,
        240_000,
        10_000,
    )
    assert title in measures_by_title(kb, "--status", "Klar")


def test_followup_with_zero_spent(city: str, kb: Kb) -> None:
    result = kb(
        "followup",
        "add",
        "--measure",
        "Stärka formell kompetens",
        "--period",
        "2025-06",
        "--status",
        "Ej påbörjad",
        "--spent",
        "0",
        "--forecast",
        "6 mkr",
        "--usable",
        "ja",
    )
    assert result.code == 0, result.err
    data = kb("measure", "Stärka formell kompetens", "--json").json()
    assert (data["spent"], data["forecast"]) == (0, 6_000_000)


# --- import and export through the command line --------------------------------------------


def test_export_json_lists_the_years_measures(city: str, kb: Kb) -> None:
    result = kb("export", "--year", "2025", "--format", "json")

    assert result.code == 0, result.err
    items = result.json()
    assert {m["title"] for m in items} == {m["title"] for m in MEASURES}
    by_title = {m["title"]: m for m in items}
    assert by_title[YRKES]["allocated"] == 4_000_000
    assert by_title[YRKES]["year"] == 2025


def test_export_csv_to_file(city: str, kb: Kb, tmp_path: Path) -> None:
    out = tmp_path / "ut" / "mall.csv"
    result = kb("export", "--year", "2025", "--format", "csv", "--out", str(out))

    assert result.code == 0, result.err
    data = out.read_bytes()
    assert data.startswith("\ufeff".encode())  # a BOM, so that Excel reads UTF-8
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Nämnd;Insats;")
    assert YRKES in text


def test_export_xlsx_needs_a_file(city: str, kb: Kb) -> None:
    line = refused(kb, city, "export", "--year", "2025", "--format", "xlsx")
    assert "--out" in line


def test_import_a_template_through_the_command_line(city: str, kb: Kb, tmp_path: Path) -> None:
    path = tmp_path / "gvn.csv"
    path.write_text(
        "Nämnd;Insats;Beviljat belopp;Startdatum;Slutdatum;Status\r\n"
        "gymnasiet;Handledarutbildning för APL;200 tkr;2025-04-01;2025-12-31;Ej påbörjad\r\n",
        encoding="utf-8-sig",
    )

    result = kb("import", str(path), "--as-of", "2025-03-01", "--decision", "nämnd 2025-01-31 § 5")

    assert result.code == 0, result.err
    assert "Importerade 1 insatser från gvn.csv." in result.out
    shown = kb("measure", "Handledarutbildning för APL", "--json").json()
    assert (shown["units"], shown["allocated"], shown["year"]) == (["GVN"], 200_000, 2025)


def test_import_without_year_takes_the_same_year_as_the_chat(city: str, kb: Kb, tmp_path: Path) -> None:
    """Review finding 11 (issue 17 item 9): `import` without --year on a day in 2026, a year
    without a fund, puts an undated row on 2025's money, as add-measure and the chat do
    (core.rules.years.default_year), not on the calendar year."""
    path = tmp_path / "gvn.csv"
    path.write_text(
        "Nämnd;Insats;Beviljat belopp;Status\r\nGVN;Handledarutbildning för APL;200 tkr;Ej påbörjad\r\n",
        encoding="utf-8-sig",
    )
    result = kb("import", str(path), "--as-of", "2026-12-05", "--decision", "nämnd 2025-01-31 § 5")
    assert result.code == 0, result.err
    assert measures_by_title(kb, "--unit", "GVN")["Handledarutbildning för APL"]["year"] == 2025


def test_import_with_bad_rows_lists_them_and_writes_nothing(city: str, kb: Kb, tmp_path: Path) -> None:
    path = tmp_path / "fel.csv"
    path.write_text(
        "Nämnd;Insats;Beviljat belopp\r\n"
        "GVN;Bra insats;100 tkr\r\n"
        "Rymdnämnden;Dålig insats;100 tkr\r\n"
        "GVN;Annan insats;1,5\r\n",
        encoding="utf-8-sig",
    )
    before = snapshot(city)

    result = kb("import", str(path), "--as-of", "2025-03-01")

    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith("kompetensbot: filen importerades inte (2 fel):")
    assert "Rad 3, kolumn Nämnd" in result.err
    assert "Rad 4, kolumn Beviljat belopp" in result.err
    assert "Traceback" not in result.err
    assert snapshot(city) == before


# --- bad command lines ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("funds", "--year", "abc"),
        ("flyga",),
        ("allocate", "--unit", "FSKN"),
        ("measures", "--as-of", "2025-13-01"),
        ("export", "--year", "2025", "--format", "pdf"),
    ],
    ids=["year-not-a-number", "unknown-command", "missing-arguments", "bad-date", "bad-choice"],
)
def test_bad_command_line_exits_2_in_swedish(city: str, kb: Kb, args: tuple[str, ...]) -> None:
    before = snapshot(city)
    result = kb(*args)

    assert result.code == 2
    assert result.err.startswith("kompetensbot: felaktigt kommando:")
    assert "Se --help." in result.err
    assert "Traceback" not in result.err
    assert len(result.err.splitlines()) == 1
    assert snapshot(city) == before


@pytest.mark.parametrize(
    "args",
    [("funds", "--year", "abc"), ("allocate", "--unit", "FSKN")],
    ids=["invalid-int", "required-arguments"],
)
def test_bad_command_line_message_has_no_english(city: str, kb: Kb, args: tuple[str, ...]) -> None:
    err = kb(*args).err.lower()
    for english in ("invalid", "required", "the following", "choose from", "unrecognized"):
        assert english not in err, err


# --- the installed entry point -------------------------------------------------------------


def test_installed_console_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "kompetensbot"
    assert script.is_file(), f"the console script is not installed at {script}"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'script.db'}"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    upgraded = run("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    loaded = run("load-example", "malmo-2025")
    assert loaded.returncode == 0, loaded.stderr
    assert "är inläst" in loaded.stdout
    shown = run("funds", "--year", "2025", "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert (data["fund"]["total"], data["units_shown"]["allocated"], len(data["units"])) == (
        78_000_000,
        78_000_000,
        14,
    )
    refused_run = run("funds", "--user", "okänd")
    assert refused_run.returncode == 2
    assert refused_run.stderr.startswith("kompetensbot: ")
    assert "Traceback" not in refused_run.stderr


@pytest.mark.parametrize("command", [(), ("followup",), ("followup", "add"), ("roles", "grant"), ("funds",)])
def test_the_help_of_a_command_is_in_swedish(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every user-facing word Swedish: argparse's own "usage:", "options:", "positional
    arguments:" and -h's "show this help message and exit" are translated (a stranger's
    tryout of issue 18 found them in English)."""
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith("användning: kompetensbot"), shown
    assert "visa den här hjälpen och avsluta" in shown
    for english in ("usage:", "options:", "positional arguments", "show this help"):
        assert english not in shown, english


def test_an_internal_error_shows_one_swedish_line_and_no_traceback(
    city: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An attacker's tryout (issue 18): an export that failed inside openpyxl printed a
    full English traceback under the Swedish line. The person sees one line (exit 1);
    KOMPETENSBOT_LOG=DEBUG shows the traceback to whoever runs kompetensbot."""

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("a bug")

    monkeypatch.setattr(texts, "funds_text", broken)
    assert main(["funds", "--year", "2025"]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [texts.INTERNAL_ERROR], err
    assert "Traceback" not in err and "a bug" not in err


def test_a_tenant_of_another_city_is_moved_only_when_asked(cli_db: str, kb: Kb) -> None:
    """An operator's find: `tenants link` moved a tenant from one city to another without a
    word (its people became the other city's), and an upper-case id was a second link."""
    for example in ("malmo-2025", "hagersten-liljeholmen"):
        assert kb("load-example", example).code == 0
    tenant = "6E2B8D4F-0000-4000-8000-00000000AB12"
    linked = kb("--org", "hagersten-liljeholmen", "tenants", "link", tenant)
    assert linked.code == 0 and tenant.lower() in linked.out, linked.err
    refusal = kb("--org", "malmo", "tenants", "link", tenant)
    assert refusal.code == 2 and "betjänas redan av hagersten-liljeholmen; inget ändrades" in refusal.err
    assert "--move" in refusal.err
    engine = make_engine(cli_db)
    try:
        assert city_of_tenant(engine, tenant.lower()) == "hagersten-liljeholmen"
        moved = kb("--org", "malmo", "tenants", "link", tenant.lower(), "--move")
        assert moved.code == 0, moved.err
        assert city_of_tenant(engine, tenant.lower()) == "malmo"
        with engine.connect() as conn:
            assert (
                conn.execute(
                    text("SELECT COUNT(*) FROM tenants WHERE lower(tenant_id) = :t"), {"t": tenant.lower()}
                ).scalar_one()
                == 1
            )
    finally:
        engine.dispose()
