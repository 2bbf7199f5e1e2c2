"""Reading and writing the committees' template (mall) as CSV and XLSX files.

Only the file formats live here; what the columns mean is core.template.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.errors import input_error
from core.model import normalise
from core.needs_template import NEED_COLUMNS, NEEDS_SHEET, is_needs_header
from core.template import COLUMNS
from core.text import FORMULA_STARTS, from_spreadsheet_text, spreadsheet_text, writable_text

Rows = list[dict[str, str]]


def read_template(path: Path) -> tuple[list[str], Rows]:
    """The header and rows of a CSV or XLSX template (every cell as text)."""
    if not path.is_file():
        raise input_error("no_file", f'Filen "{path}" finns inte.', "fil")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".csv", ".txt"):
        return _read_csv(path.read_bytes(), path.name)
    raise input_error(
        "bad_format",
        f'Filen "{path.name}" har ett okänt format. Tillåtna format: .csv och .xlsx.',
        "fil",
    )


@dataclass(frozen=True, slots=True)
class Sheet:
    """One sheet of a template: its header and rows (every cell as text) and what
    to call it in a message (an XLSX sheet's name, or a CSV file's)."""

    name: str
    header: list[str]
    rows: Rows


@dataclass(frozen=True, slots=True)
class TemplateFile:
    """What a template file holds: its measures' sheet and its needs' sheet, either
    perhaps missing (an XLSX without the sheet "Behov"; a CSV file is one or the other)."""

    name: str
    measures: Sheet | None = None
    needs: Sheet | None = None


def read_template_file(path: Path) -> TemplateFile:
    """A template's sheets: an XLSX's sheet named "Behov" holds the needs and its first
    other sheet the measures; a CSV file holds needs when its header says so
    (core.needs_template.is_needs_header), else measures."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm"):
        header, rows = read_template(path)
        sheet = Sheet(path.name, header, rows)
        if is_needs_header(header):
            return TemplateFile(path.name, needs=sheet)
        return TemplateFile(path.name, measures=sheet)
    sheets = _read_xlsx_sheets(path)
    needs = next((s for s in sheets if normalise(s.name) == normalise(NEEDS_SHEET)), None)
    others = [s for s in sheets if s is not needs and (s.header or s.rows)]
    if needs is None and others and is_needs_header(others[0].header):
        return TemplateFile(path.name, needs=others[0])  # a needs-only workbook under another name
    return TemplateFile(path.name, measures=others[0] if others else None, needs=needs)


def _read_csv(data: bytes, name: str) -> tuple[list[str], Rows]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise input_error("bad_encoding", f'Filen "{name}" är inte UTF-8 eller Windows-1252.', "fil")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") >= first.count(",") and ";" in first else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    lines = list(reader)
    if not lines:
        raise input_error("empty_file", f'Filen "{name}" är tom.', "fil")
    header = [h.strip() for h in lines[0]]
    rows = [
        dict(zip(header, [from_spreadsheet_text(c.strip()) for c in line], strict=False))
        for line in lines[1:]
    ]
    return header, rows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()  # an XLSX cell holds the text itself (the quote prefix is a style)


def _open_xlsx(path: Path) -> Any:
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as problem:  # openpyxl raises many kinds for a broken file
        raise input_error(
            "bad_xlsx",
            f'Filen "{path.name}" går inte att läsa som Excel-fil ({type(problem).__name__}).',
            "fil",
        ) from None


def _sheet_lines(sheet: Any) -> tuple[list[str], Rows]:
    lines = [[_text(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    if not lines:
        return [], []
    header = lines[0]
    while header and not header[-1]:
        header = header[:-1]
    return header, [dict(zip(header, line, strict=False)) for line in lines[1:]]


def _read_xlsx(path: Path) -> tuple[list[str], Rows]:
    book = _open_xlsx(path)
    header, rows = _sheet_lines(book.worksheets[0])
    book.close()
    if not header and not rows:
        raise input_error("empty_file", f'Filen "{path.name}" är tom.', "fil")
    return header, rows


def _read_xlsx_sheets(path: Path) -> list[Sheet]:
    book = _open_xlsx(path)
    sheets = [Sheet(ws.title, *_sheet_lines(ws)) for ws in book.worksheets]
    book.close()
    if not any(s.header or s.rows for s in sheets):
        raise input_error("empty_file", f'Filen "{path.name}" är tom.', "fil")
    return sheets


# --- writing: every export goes through csv_cell or append_xlsx_row -----------------


def csv_cell(value: object) -> object:
    """A CSV cell that no spreadsheet runs as a formula: text starting with
    = + - @ tab or carriage return gets a leading quote (core.text.spreadsheet_text);
    numbers are left as numbers, so a negative amount stays -5, not '-5. A control
    character stored before the forms removed them is not written (core.text.writable_text)."""
    return spreadsheet_text(writable_text(value)) if isinstance(value, str) else value


def append_xlsx_row(sheet: Any, values: Sequence[object]) -> None:
    """Append a row in which every text is a text cell (type "s"), never a
    formula: openpyxl would otherwise store "=HYPERLINK(…)" as a live formula.
    Text that starts like a formula also gets Excel's quote prefix (the "'"
    a person types before "=" to mean text; it is not part of the value), so
    it stays text when someone edits the cell. Numbers stay numbers. A control
    character is not written (core.text.writable_text): a worksheet cannot hold one."""
    sheet.append([None] * len(values))
    row = sheet.max_row
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=column)
        if isinstance(value, str):
            value = writable_text(value)
            cell.value = value
            cell.data_type = "s"
            if value.startswith(FORMULA_STARTS):
                cell.quotePrefix = True
        else:
            cell.value = value


def _csv(rows: Sequence[dict[str, str]], columns: Sequence[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({c: csv_cell(row.get(c, "")) for c in columns} for row in rows)
    return out.getvalue().encode("utf-8-sig")


def write_csv(rows: Sequence[dict[str, str]]) -> bytes:
    """The measures' CSV (core.template.COLUMNS, the Behov column included)."""
    return _csv(rows, COLUMNS)


def write_needs_csv(needs: Sequence[dict[str, str]]) -> bytes:
    """The needs' CSV (core.needs_template.NEED_COLUMNS): imported beside the measures'
    file, recognised by its header."""
    return _csv(needs, NEED_COLUMNS)


def _fill_sheet(sheet: Any, columns: Sequence[str], rows: Sequence[dict[str, str]]) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_xlsx_row(sheet, [row.get(c, "") for c in columns])
    for number, column in enumerate(sheet.columns, start=1):
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[get_column_letter(number)].width = min(max(width + 2, 10), 60)


def write_xlsx(
    rows: Sequence[dict[str, str]], title: str = "Insatser", needs: Sequence[dict[str, str]] | None = None
) -> bytes:
    """The measures' sheet and, when `needs` is given (even empty), the sheet "Behov"
    beside it, so that the workbook imports as it was exported."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    _fill_sheet(sheet, COLUMNS, rows)
    if needs is not None:
        _fill_sheet(book.create_sheet(NEEDS_SHEET), NEED_COLUMNS, needs)
    return xlsx_bytes(book)


FILE_TIME = datetime(2025, 1, 1)
"""The created and modified times every workbook is written with: openpyxl's save stamps the
time of saving, so the file offered in Teams (its size announced) and the one uploaded a moment
later differed by a byte or two."""


def xlsx_bytes(book: Any) -> bytes:
    """A workbook as the bytes of an XLSX file, the same for the same content."""
    from zipfile import ZIP_DEFLATED, ZipFile

    from openpyxl.writer.excel import ExcelWriter

    book.properties.created = book.properties.modified = FILE_TIME
    out = io.BytesIO()
    with ZipFile(out, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).save()
    return out.getvalue()
