"""Import and export of the committees' template (mall) through
bot.data_services, on SQLite and (when configured) PostgreSQL, with the Malmö
2025 example loaded.

The files are written here the way Excel writes them: CSV separated by
semicolons in UTF-8 with a BOM, and XLSX with real date and number cells.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.data_services import (
    export_bytes,
    export_needs_bytes,
    export_rows,
    export_template,
    import_files,
    import_template,
    load_example,
)
from bot.needs_services import NeedServices
from bot.services import Services
from core import commands
from core.entries import LedgerEntry
from core.errors import InputError
from core.ledger import Ledger
from core.model import ADMIN, Body, Category, Decision, Measure, Status, Unit
from core.template import COLUMNS, TemplateError, check_header, parse_rows
from core.views import MeasureView
from storage.db import make_engine
from storage.examples import read_example
from storage.migrate import upgrade
from storage.repository import Repository, create_organisation
from storage.templates import read_template

AS_OF = date(2025, 3, 1)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- writing files like Excel does --------------------------------------------------


def row(**cells: str) -> list[str]:
    """A template row in COLUMNS order; keyword names use _ for spaces."""
    named = {k.replace("_", " "): v for k, v in cells.items()}
    unknown = set(named) - set(COLUMNS)
    assert not unknown, unknown
    return [named.get(c, "") for c in COLUMNS]


def write_csv(path: Path, lines: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(lines)
    return path


def _excel_cell(text: str) -> object:
    """What Excel would store: dates as dates, bare numbers as numbers."""
    if ISO_DATE.fullmatch(text):
        return date.fromisoformat(text)
    if text.isdigit():
        return int(text)
    return text or None


def write_xlsx(path: Path, lines: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(lines[0])
    for line in lines[1:]:
        sheet.append([_excel_cell(c) for c in line])
    book.save(path)
    return path


def write(path: Path, fmt: str, lines: list[list[str]]) -> Path:
    return write_csv(path, lines) if fmt == "csv" else write_xlsx(path, lines)


# --- reading the database -------------------------------------------------------------


def counts(engine: Engine, org: str | None = None) -> tuple[int, int, int]:
    ledger = Services(engine, org=org).ledger()
    return len(ledger.entries), len(ledger.measures), len(ledger.followups)


def views(engine: Engine, org: str | None = None) -> dict[str, MeasureView]:
    # As known at the year's end: the example's June follow-ups count from the day
    # they were reported (issue 17 item 6), after AS_OF.
    found = Services(engine, org=org).measures(None, year=2025, as_of=date(2025, 12, 31))
    return {v.measure.title: v for v in found}


def unallocated(engine: Engine, code: str) -> int:
    unit = Services(engine).funds(None, 2025).unit(code)
    assert unit is not None
    return unit.unallocated


def import_file(engine: Engine, path: Path, org: str | None = None) -> list[Measure]:
    decision = "nämnd 2025-02-05 § 5"  # each row's own committee (issue 17 item 3)
    return import_template(engine, org, None, path, year=2025, as_of=AS_OF, decision_text=decision)


def refused_import(engine: Engine, path: Path) -> TemplateError:
    before = counts(engine)
    with pytest.raises(TemplateError) as refused:
        import_file(engine, path)
    assert counts(engine) == before, "a refused import wrote to the database"
    return refused.value


# --- a good file ---------------------------------------------------------------------

GOOD = [
    list(COLUMNS),
    row(
        Nämnd="GVN",
        Insats="Mentorskap för nya chefer",
        Beskrivning="Erfarna chefer stöttar nya.",
        Målgrupp="Nya chefer",
        Kategori="[Behålla & utveckla]",
        Utförare="HR",
        Startdatum="2025-04-01",
        Slutdatum="2025-12-31",
        Status="Ej påbörjad",
        Kostnad="Ingår i grunduppdrag",
    ),
    row(
        Nämnd="HVON",
        Insats="Introduktion för nya undersköterskor",
        Kategori="[Behålla & utveckla] [Attrahera & rekrytera]",
        Sökt_belopp="600000",
        Beviljat_belopp="500 tkr",
        Utförare="HR och vuxenutbildningen",
        Startdatum="2025-05-01",
        Slutdatum="2025-12-31",
        Status="Pågående",
    ),
    row(
        Nämnd="förskolan",
        Insats="Språkombud i förskolan",
        Kategori="[Behålla & utveckla]",
        Beviljat_belopp="300 tkr",
        Startdatum="2025-04-15",
        Slutdatum="2025-11-30",
    ),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_good_template_imports_measures_and_grants(example_engine: Engine, tmp_path: Path, fmt: str) -> None:
    entries, measures, followups = counts(example_engine)
    free_fskn, free_hvon = unallocated(example_engine, "FSKN"), unallocated(example_engine, "HVON")
    path = write(tmp_path / f"mall.{fmt}", fmt, GOOD)

    created = import_file(example_engine, path)

    assert [m.title for m in created] == [
        "Mentorskap för nya chefer",
        "Introduktion för nya undersköterskor",
        "Språkombud i förskolan",
    ]
    assert counts(example_engine) == (entries + 2, measures + 3, followups)
    found = views(example_engine)

    mentor = found["Mentorskap för nya chefer"]
    assert mentor.measure.units == ("GVN",)
    assert mentor.measure.in_base_budget is True
    assert mentor.measure.cost is None
    assert mentor.measure.categories == (Category.RETAIN,)
    assert mentor.measure.description == "Erfarna chefer stöttar nya."
    assert mentor.measure.target_group == "Nya chefer"
    assert (mentor.measure.start_date, mentor.measure.end_date) == (date(2025, 4, 1), date(2025, 12, 31))
    assert mentor.status == Status.NOT_STARTED
    assert mentor.balance.allocated == 0

    intro = found["Introduktion för nya undersköterskor"]
    assert intro.measure.units == ("HVON",)
    assert intro.measure.categories == (Category.RETAIN, Category.ATTRACT)
    assert intro.measure.requested == 600_000
    assert intro.measure.in_base_budget is False
    assert intro.status == Status.ONGOING
    assert intro.balance.allocated == 500_000
    # "nämnd 2025-02-05 § 5": each row's own committee decided (issue 17 item 3)
    assert intro.balance.fundings[0].decision.reference == f"{intro.measure.units[0]} 2025-02-05 § 5"

    sprak = found["Språkombud i förskolan"]
    assert sprak.measure.units == ("FSKN",)
    assert sprak.measure.year == 2025
    assert sprak.balance.allocated == 300_000
    assert [(s.unit, s.allocated) for s in sprak.balance.shares] == [("FSKN", 300_000)]

    assert unallocated(example_engine, "FSKN") == free_fskn - 300_000 == 1_200_000
    assert unallocated(example_engine, "HVON") == free_hvon - 500_000 == 1_010_000


def test_same_insats_for_two_units_is_one_shared_measure(example_engine: Engine, tmp_path: Path) -> None:
    # Unallocated in the example: KN 120 000, FRN 400 000, SBN 80 000, TN and MN 40 000.
    path = write_csv(
        tmp_path / "delad.csv",
        [
            list(COLUMNS),
            row(
                Nämnd="KN",
                Insats="Gemensam digital introduktion",
                Beviljat_belopp="100 tkr",
                Sökt_belopp="150 tkr",
            ),
            row(
                Nämnd="fritidsnämnden",
                Insats="gemensam digital introduktion",
                Beviljat_belopp="300 tkr",
                Sökt_belopp="350 tkr",
            ),
            row(Nämnd="SBN, TN, MN", Insats="Malmö Lär fördjupning", Beviljat_belopp="60 tkr"),
        ],
    )
    before = counts(example_engine)

    created = import_file(example_engine, path)

    assert len(created) == 2
    assert counts(example_engine)[1] == before[1] + 2
    found = views(example_engine)
    shared = found["Gemensam digital introduktion"]
    assert set(shared.measure.units) == {"KN", "FRN"}
    assert shared.measure.requested == 500_000
    assert shared.balance.allocated == 400_000
    assert {s.unit: s.allocated for s in shared.balance.shares} == {"KN": 100_000, "FRN": 300_000}
    split = found["Malmö Lär fördjupning"]
    assert set(split.measure.units) == {"SBN", "TN", "MN"}
    assert {s.unit: s.allocated for s in split.balance.shares} == {
        "SBN": 20_000,
        "TN": 20_000,
        "MN": 20_000,
    }
    assert unallocated(example_engine, "KN") == 20_000
    assert unallocated(example_engine, "FRN") == 100_000


# --- bad files ---------------------------------------------------------------------------


def test_every_bad_row_is_reported_and_nothing_is_written(example_engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "fel.csv",
        [
            list(COLUMNS),
            row(Nämnd="GVN", Insats="En bra insats", Beviljat_belopp="100 tkr"),  # 2: good
            row(Nämnd="Rymdnämnden", Insats="Okänd nämnd"),  # 3
            row(Nämnd="FSKN", Insats="Oklart belopp", Beviljat_belopp="1,5"),  # 4
            [""] * len(COLUMNS),  # 5: empty
            row(Nämnd="FSKN", Insats="Baklänges", Startdatum="2025-05-01", Slutdatum="2025-04-01"),  # 6
            row(Nämnd="FSKN", Insats="Okänd status", Status="Halvklar"),  # 7
            row(Nämnd="FSKN", Insats="Okänd kategori", Kategori="[Flyga & landa]"),  # 8
            row(Nämnd="FSKN", Insats="För dyr", Beviljat_belopp="2 mkr"),  # 9
            row(Nämnd="FSKN", Beskrivning="Titeln fattas"),  # 10
        ],
    )

    error = refused_import(example_engine, path)

    found = {(e.row, e.column) for e in error.row_errors}
    assert found == {
        (3, "Nämnd"),
        (4, "Beviljat belopp"),
        (6, "Slutdatum"),
        (7, "Status"),
        (8, "Kategori"),
        (9, "Beviljat belopp"),
        (10, "Insats"),
    }
    messages = {e.row: e.message for e in error.row_errors}
    assert "Rymdnämnden" in messages[3]
    assert "saknar enhet" in messages[4]
    assert "ligger före startdatumet" in messages[6]
    assert "Halvklar" in messages[7]
    assert "Flyga & landa" in messages[8]
    assert "Förskolenämnden" in messages[9] and "1 500 000 kr" in messages[9]
    assert "saknar titel" in messages[10]
    assert [e.row for e in error.row_errors] == sorted(e.row for e in error.row_errors)
    assert str(error.row_errors[0]).startswith("Rad 3, kolumn Nämnd: ")
    assert "En bra insats" not in views(example_engine)


def test_grant_error_on_the_second_row_of_a_shared_measure_names_that_row(
    example_engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "delad-fel.csv",
        [
            list(COLUMNS),
            row(Nämnd="KN", Insats="Gemensam insats", Beviljat_belopp="100 tkr"),  # fits KN
            row(Nämnd="FRN", Insats="Gemensam insats", Beviljat_belopp="5 mkr"),  # FRN has 400 tkr
        ],
    )

    error = refused_import(example_engine, path)

    assert [(e.row, e.column) for e in error.row_errors] == [(3, "Beviljat belopp")]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Gymnasie- och vuxenutbildningsnämnden", "GVN"),
        ("Hälsa-, vård- och omsorgsnämnden", "HVON"),
        ("Arbetsmarknads- och socialnämnden", "ASN"),
    ],
    ids=["GVN", "HVON", "ASN"],
)
def test_full_committee_name_in_the_namnd_column(
    example_engine: Engine, tmp_path: Path, name: str, code: str
) -> None:
    path = write_csv(
        tmp_path / "namn.csv",
        [
            list(COLUMNS),
            row(Nämnd=name, Insats="Insats med nämndens fulla namn", Beviljat_belopp="50 tkr"),
        ],
    )

    import_file(example_engine, path)

    assert views(example_engine)["Insats med nämndens fulla namn"].measure.units == (code,)


def test_missing_and_unknown_columns_are_reported(example_engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "kolumner.csv",
        [
            ["Nämnd", "Beskrivning", "Budget"],
            ["FSKN", "Något", "100 tkr"],
        ],
    )

    error = refused_import(example_engine, path)

    by_column = {e.column: e for e in error.row_errors}
    assert set(by_column) == {"Insats", "Budget"}
    assert all(e.row == 1 for e in error.row_errors)
    assert 'Kolumnen "Insats" saknas' in by_column["Insats"].message
    assert 'Okänd kolumn "Budget"' in by_column["Budget"].message


def test_header_only_file_is_refused(example_engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "tom.csv", [list(COLUMNS)])

    error = refused_import(example_engine, path)

    assert "inga insatser" in error.message


def test_unknown_file_format_is_refused_in_swedish(example_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "mall.pdf"
    path.write_bytes(b"%PDF-1.4")
    before = counts(example_engine)

    with pytest.raises(InputError) as refused:
        import_file(example_engine, path)

    assert "mall.pdf" in refused.value.message
    assert "okänt format" in refused.value.message and ".csv" in refused.value.message
    assert counts(example_engine) == before


def test_corrupt_xlsx_is_refused_in_swedish(example_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "trasig.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a workbook")
    before = counts(example_engine)

    with pytest.raises(InputError) as refused:
        import_file(example_engine, path)

    assert "trasig.xlsx" in refused.value.message
    assert "går inte att läsa som Excel-fil" in refused.value.message
    assert counts(example_engine) == before


def test_missing_file_is_refused_in_swedish(example_engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(InputError) as refused:
        import_file(example_engine, tmp_path / "finns-inte.csv")
    assert "finns inte" in refused.value.message


def test_importing_the_same_file_twice_refuses_the_second_time(
    example_engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "mall.csv", GOOD)
    import_file(example_engine, path)

    error = refused_import(example_engine, path)

    assert {(e.row, e.column) for e in error.row_errors} == {(2, "Insats"), (3, "Insats"), (4, "Insats")}
    assert all("finns redan" in e.message for e in error.row_errors)
    assert "Mentorskap för nya chefer" in error.row_errors[0].message


# --- export ----------------------------------------------------------------------------


def test_export_writes_one_row_per_unit_of_a_shared_measure(example_engine: Engine) -> None:
    rows = export_rows(example_engine, None, None, 2025)

    assert len({r["Insats"] for r in rows}) == len(read_example("malmo-2025")["measures"])
    assert all(list(r) == list(COLUMNS) for r in rows)
    malmo_lar = [r for r in rows if r["Insats"] == "Malmö Lär – gemensam samordningsresurs"]
    assert [(r["Nämnd"], r["Beviljat belopp"]) for r in malmo_lar] == [
        ("MN", "200 000 kr"),
        ("SBN", "300 000 kr"),
        ("TN", "200 000 kr"),
    ]
    assert [r["Sökt belopp"] for r in malmo_lar] == ["700 000 kr", "", ""]
    yrkes = next(r for r in rows if r["Insats"] == "Yrkeslärarsatsning")
    assert yrkes["Status"] == "Pågående"  # from the June follow-up
    assert yrkes["Kategori"] == "[Attrahera & rekrytera] [Behålla & utveckla]"
    assert export_rows(example_engine, None, None, 2024) == []


def test_export_csv_bytes_are_excel_friendly(example_engine: Engine) -> None:
    data = export_bytes(export_rows(example_engine, None, None, 2025), "csv")

    assert data.startswith("\ufeff".encode())
    header = data.decode("utf-8-sig").split("\r\n")[0]
    assert header == ";".join(COLUMNS)


Plan = dict[str, tuple[frozenset[str], Status, dict[str, int]]]


def _expected(engine: Engine, org: str | None = None) -> Plan:
    """Per title: units, status and each unit's allocated money."""
    return {
        title: (
            frozenset(v.measure.units),
            v.status,
            {s.unit: s.allocated for s in v.balance.shares if s.allocated},
        )
        for title, v in views(engine, org).items()
    }


@pytest.fixture
def fresh_units(tmp_path: Path) -> list[Unit]:
    """The example's units, read from a fresh SQLite database."""
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        upgrade(engine)
        load_example(engine, "malmo-2025")
        return list(Services(engine).ledger().units.values())
    finally:
        engine.dispose()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_parse_against_a_fresh_city_gives_the_same_plan(
    example_engine: Engine, fresh_units: list[Unit], tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(export_bytes(export_rows(example_engine, None, None, 2025), fmt))

    header, rows = read_template(path)
    assert check_header(header) == []
    planned, errors = parse_rows(rows, Ledger.build(fresh_units), AS_OF, 2025)

    assert errors == []
    parsed = {p.measure.title: (frozenset(p.measure.units), p.measure.status, p.grants) for p in planned}
    assert parsed == _expected(example_engine)


def _add_empty_city(engine: Engine, slug: str) -> None:
    """A second city with the example's units, fund and transfers but no measures."""
    data = read_example("malmo-2025")
    now = datetime(2025, 3, 5, 12, tzinfo=UTC)
    decision = Decision(Body.KS, date(2025, 3, 5), paragraph="7")
    with Session(engine, expire_on_commit=False) as session:
        repo = Repository(session, create_organisation(session, slug, "Nystad"))
        for u in data["units"]:
            repo.add_unit(Unit(u["code"], u["name"], tuple(u.get("aliases", ()))))
        ledger = Ledger.build(repo.units())
        for f in data["funds"]:
            entry: LedgerEntry = commands.set_fund(ledger, ADMIN, f["year"], f["amount"], decision, now)
            ledger = ledger.append(repo.append(entry))
        for a in data["allocations"]:
            entry = commands.allocate(
                ledger,
                ADMIN,
                a["unit"],
                a["year"],
                a["amount"],
                decision,
                now,
                recurring=a.get("recurring", False),
            )
            ledger = ledger.append(repo.append(entry))
        session.commit()


def export_files(engine: Engine, org: str | None, fmt: str, folder: Path, year: int = 2025) -> list[Path]:
    """The year's template as the command line writes it: one XLSX file (the needs on
    its sheet Behov), or the measures' CSV and the needs' CSV (`export --needs`)."""
    template = export_template(engine, org, None, year)
    path = folder / f"export.{fmt}"
    path.write_bytes(export_bytes(template.rows, fmt, template.needs))
    if fmt == "xlsx":
        return [path]
    needs = folder / "export-behov.csv"
    needs.write_bytes(export_needs_bytes(template.needs))
    return [path, needs]


NeedsSeen = tuple[dict[str, tuple[object, ...]], set[tuple[str, str, int | None, int | None]]]


def needs_of(engine: Engine, org: str) -> NeedsSeen:
    """A city's current needs (all but who wrote them and when) and its active links
    (need, measure title, share, people)."""
    found = NeedServices(engine, org=org).all_needs()
    titles = {m.id: m.title for m in Services(engine, org=org).ledger().measures.values()}
    current: dict[str, tuple[object, ...]] = {
        n.key: (
            n.unit,
            n.area,
            n.role,
            n.ssyk,
            n.kind,
            n.competence,
            n.people,
            n.retirements,
            n.recruitment,
            n.period,
            n.source,
            n.source_date,
            n.assessed,
        )  # fmt: skip
        for n in found.current.values()
    }
    links = {(link.need, titles[link.measure_id], link.share, link.people) for link in found.links}
    return current, links


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_into_another_city_gives_the_same_measures_needs_and_links(
    example_engine: Engine, tmp_path: Path, fmt: str
) -> None:
    _add_empty_city(example_engine, "nystad")
    malmo_before = counts(example_engine, "malmo")
    rows = export_rows(example_engine, "malmo", None, 2025)
    paths = export_files(example_engine, "malmo", fmt, tmp_path)

    result = import_files(
        example_engine, "nystad", None, paths, year=2025, as_of=AS_OF, decision_text="nämnd 2025-02-05 § 5"
    )

    assert len(result.measures) == len(read_example("malmo-2025")["measures"])
    assert export_rows(example_engine, "nystad", None, 2025) == rows
    assert _expected(example_engine, "nystad") == _expected(example_engine, "malmo")
    assert counts(example_engine, "malmo") == malmo_before
    fund = Services(example_engine, org="nystad").funds(None, 2025)
    assert (fund.total, fund.allocated) == (78_000_000, 78_000_000)
    # the needs of seed 003 and their links to FSKN's measures came along, every field as stored
    malmo_needs, malmo_links = needs_of(example_engine, "malmo")
    assert [n.key for n in result.needs] == ["FSKN-1", "FSKN-2", "FSKN-3", "FSKN-4"]
    assert len(result.links) == len(malmo_links) == 2
    assert needs_of(example_engine, "nystad") == (malmo_needs, malmo_links)


def test_an_export_writes_a_stored_control_character_as_it_may_be_shown() -> None:
    """An attacker's tryout (issue 18): a note with ESC stored before the forms removed
    control characters made `export --format xlsx` fail with openpyxl's
    IllegalCharacterError (the ledger is append-only: the row stays). Both exports write
    the text without its control characters (a tab kept: the formula check needs it)."""
    from openpyxl import load_workbook

    from storage.templates import write_csv, write_xlsx

    row = {"Nämnd": "FSKN", "Insats": "Mentorskap", "Beskrivning": "a\x1b[31mb\u202ec\x07"}
    book = load_workbook(io.BytesIO(write_xlsx([row])))
    sheet = book.worksheets[0]
    column = [c.value for c in sheet[1]].index("Beskrivning") + 1
    assert sheet.cell(row=2, column=column).value == "a[31mbc"
    assert "\x1b" not in write_csv([row]).decode("utf-8-sig")
