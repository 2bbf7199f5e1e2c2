"""The committees' template (mall): its columns, and turning its rows into
measures and grants. Reading files is storage's job; this is the pure part.

A file with any bad row imports nothing: every problem is reported with its
row number (as a spreadsheet shows it: the header is row 1), column and reason.
Rows with the same Insats and different Nämnd are one shared measure; a
Nämnd cell may also name several units ("SBN, TN, MN"), whose Beviljat belopp
is then split equally.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from core import forms, limits
from core.dates import format_date, parse_date, parse_start_date
from core.errors import DomainError, RuleError
from core.ledger import Ledger, split_exact
from core.limits import MAX_DESCRIPTION, MAX_EVALUATION, MAX_PERFORMER, MAX_TARGET_GROUP, MAX_TITLE
from core.lookup import find_unit, resolve_unit
from core.model import Category, Measure, Status, normalise
from core.money import format_amount, parse_amount
from core.rules.measure import same_title
from core.text import clean_name, lookalike_key, names_something, visible_text

COLUMNS = (
    "Nämnd",
    "Insats",
    "Beskrivning",
    "Målgrupp",
    "Kategori",
    "Sökt belopp",
    "Beviljat belopp",
    "Utförare",
    "Startdatum",
    "Slutdatum",
    "Status",
    "Kostnad",
    "Uppföljning",
    "Behov",
)
"""The measure sheet's columns; "Behov" (optional) names the needs a measure answers
(core.needs_template: "B1; B3")."""
REQUIRED = ("Nämnd", "Insats")
IN_BASE_BUDGET = "Ingår i grunduppdrag"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem in one cell of a template file."""

    row: int
    column: str
    message: str
    sheet: str | None = None  # the needs' sheet or file ("Behov"); None: the measures'

    def __str__(self) -> str:
        where = f"{self.sheet}, rad" if self.sheet else "Rad"
        return f"{where} {self.row}, kolumn {self.column}: {self.message}"


@dataclass
class PlannedMeasure:
    """A measure read from the template, with the units' grants and its rows."""

    measure: Measure
    grants: dict[str, int] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)
    grant_rows: dict[str, int] = field(default_factory=dict)  # unit → the row of its amount


class TemplateError(DomainError):
    """A template that cannot be imported: carries every row error."""

    def __init__(self, row_errors: Sequence[RowError]):
        self.row_errors = tuple(row_errors)
        super().__init__([RuleError("bad_template", str(e), e.column) for e in row_errors])


def check_header(header: Sequence[str]) -> list[RowError]:
    present = {normalise(h) for h in header}
    missing = [c for c in REQUIRED if normalise(c) not in present]
    known = {normalise(c) for c in COLUMNS} | {"år"}
    unknown = [h for h in header if h and normalise(h) not in known]
    errors = [
        RowError(1, c, f'Kolumnen "{c}" saknas. Mallens kolumner är: {", ".join(COLUMNS)}.') for c in missing
    ]
    errors += [
        RowError(1, h, f'Okänd kolumn "{h}". Mallens kolumner är: {", ".join(COLUMNS)}.') for h in unknown
    ]
    return errors


def _cell(row: Mapping[str, str], column: str) -> str:
    for key, value in row.items():
        if key and normalise(key) == normalise(column):
            return visible_text(value or "").strip()  # no control characters (core.forms.read_text)
    return ""


@dataclass
class _CellReader:
    """Parses one cell of a row; a parse error is recorded, not raised."""

    row: Mapping[str, str]
    index: int
    errors: list[RowError]

    def __call__(self, column: str, parse: Callable[[str], T], default: T | None = None) -> T | None:
        try:
            return parse(_cell(self.row, column))
        except DomainError as problem:
            self.errors.append(RowError(self.index, column, problem.message))
            return default


_LIMITS = (
    ("Beskrivning", MAX_DESCRIPTION),
    ("Målgrupp", MAX_TARGET_GROUP),
    ("Utförare", MAX_PERFORMER),
    ("Uppföljning", MAX_EVALUATION),
)
"""The template's free-text columns and their length limits (Insats: MAX_TITLE)."""


def _too_long(text: str, column: str, limit: int) -> str | None:
    """The forms' refusal of a text over its limit (core.limits.text_too_long), or None."""
    return limits.text_too_long(column, len(text), limit).message if len(text) > limit else None


def _unit_code(ledger: Ledger, part: str, _text: str) -> str:
    return resolve_unit(ledger, part)


def _categories(text: str) -> tuple[Category, ...]:
    return Category.parse_many(text)


def _status(text: str) -> Status:
    return forms.read_status(text) if text else Status.NOT_STARTED


def _optional_amount(text: str) -> int | None:
    if not text or text.strip() in ("0", "-", "0 kr"):
        return None
    return parse_amount(text)


def parse_rows(
    rows: Sequence[Mapping[str, str]], ledger: Ledger, reference: date, default_year: int
) -> tuple[list[PlannedMeasure], list[RowError]]:
    """Rows (column → text) to planned measures; every bad cell is reported."""
    planned: dict[tuple[str, int], PlannedMeasure] = {}
    errors: list[RowError] = []
    for index, row in enumerate(rows, start=2):
        if not any((v or "").strip() for v in row.values()):
            continue
        row_errors: list[RowError] = []
        attempt = _CellReader(row, index, row_errors)
        title = clean_name(_cell(row, "Insats"))
        if not names_something(title):  # "-" is no title (core.forms.read_title)
            row_errors.append(
                RowError(index, "Insats", "Insatsen saknar titel (osynliga tecken räknas inte).")
            )
        if title and len(title) > MAX_TITLE:
            row_errors.append(RowError(index, "Insats", limits.title_too_long(len(title)).message))
        for column, limit in _LIMITS:  # the same limits as the chat and the forms (core.limits)
            if too_long := _too_long(_cell(row, column), column, limit):
                row_errors.append(RowError(index, column, too_long))
        unit_text = _cell(row, "Nämnd")
        units: list[str] = []
        if not unit_text:
            row_errors.append(RowError(index, "Nämnd", "Nämnd saknas. Ange kod, namn eller kortnamn."))
        whole = find_unit(ledger.units.values(), unit_text) if unit_text else None
        parts = [whole.code] if whole else re.split(r"\s*(?:,|;|/|\boch\b)\s*", unit_text)
        for part in parts:
            if part:
                code = attempt("Nämnd", functools.partial(_unit_code, ledger, part))
                if code and code not in units:
                    units.append(code)
        categories = attempt("Kategori", _categories) or ()
        requested = attempt("Sökt belopp", _optional_amount)
        granted = attempt("Beviljat belopp", _optional_amount)
        start = attempt("Startdatum", lambda t: parse_start_date(t, reference) if t else None)
        end = attempt("Slutdatum", lambda t: parse_date(t, reference) if t else None)
        status = attempt("Status", _status) or Status.NOT_STARTED
        cost_text = _cell(row, "Kostnad")
        in_base = normalise(cost_text) == normalise(IN_BASE_BUDGET)
        cost = None if in_base else attempt("Kostnad", _optional_amount)
        year_text = _cell(row, "År")
        year = default_year
        if year_text:
            if re.fullmatch(r"\d{4}", year_text):
                year = int(year_text)
            else:
                row_errors.append(RowError(index, "År", f'Året "{year_text}" ska skrivas som ÅÅÅÅ.'))
        elif start is not None:
            year = start.year
        if start and end and end < start:
            row_errors.append(
                RowError(
                    index,
                    "Slutdatum",
                    f"Slutdatumet {format_date(end)} ligger före startdatumet {format_date(start)}.",
                )
            )
        if row_errors:
            errors += row_errors
            continue
        key = (lookalike_key(title), year)
        existing = planned.get(key)
        if existing is None:
            measure = Measure(
                id=0,
                title=title,
                units=tuple(units),
                year=year,
                description=_cell(row, "Beskrivning"),
                target_group=_cell(row, "Målgrupp"),
                categories=categories,
                requested=requested,
                cost=cost,
                in_base_budget=in_base,
                performer=clean_name(_cell(row, "Utförare")),
                start_date=start,
                end_date=end,
                status=status,
                evaluation=_cell(row, "Uppföljning"),
            )
            existing = planned[key] = PlannedMeasure(measure)
        else:
            repeated = [u for u in units if u in existing.grant_rows or u in existing.measure.units]
            if repeated:
                errors.append(
                    RowError(
                        index,
                        "Nämnd",
                        f'Insatsen "{title}" för {", ".join(repeated)} står redan på rad '
                        f"{existing.rows[0]}. Varje nämnd får stå en gång per insats.",
                    )
                )
                continue
            merged = tuple(dict.fromkeys((*existing.measure.units, *units)))
            existing.measure = _replace_units(existing.measure, merged, requested)
        existing.rows.append(index)
        if granted:
            for unit, part in split_exact(granted, [(u, 1) for u in units]).items():
                existing.grants[unit] = existing.grants.get(unit, 0) + part
                existing.grant_rows.setdefault(unit, index)
    for plan in planned.values():
        errors += [RowError(plan.rows[0], "Insats", e.message) for e in same_title(ledger, plan.measure)]
    return list(planned.values()), errors


def _replace_units(m: Measure, units: tuple[str, ...], requested: int | None) -> Measure:
    from dataclasses import replace

    total = (m.requested or 0) + (requested or 0)
    return replace(m, units=units, requested=total or None)


def measure_rows(
    m: Measure, status: Status, shares: Sequence[tuple[str, int]], needs: str = ""
) -> list[dict[str, str]]:
    """A measure as template rows (for export). A shared measure is one row per
    unit with that unit's part, so that importing the file gives the same shares.
    `needs`: its Behov cell (core.needs_template.links_cell), on the first row."""
    parts = list(shares) or [(", ".join(m.units), 0)]
    rows = []
    for i, (unit, allocated) in enumerate(parts):
        rows.append(
            {
                "Nämnd": unit,
                "Insats": m.title,
                "Beskrivning": m.description,
                "Målgrupp": m.target_group,
                "Kategori": " ".join(f"[{c.value}]" for c in m.categories),
                "Sökt belopp": format_amount(m.requested) if m.requested and i == 0 else "",
                "Beviljat belopp": format_amount(allocated) if allocated else "",
                "Utförare": m.performer,
                "Startdatum": m.start_date.isoformat() if m.start_date else "",
                "Slutdatum": m.end_date.isoformat() if m.end_date else "",
                "Status": status.value,
                "Kostnad": IN_BASE_BUDGET if m.in_base_budget else (format_amount(m.cost) if m.cost else ""),
                "Uppföljning": m.evaluation,
                "Behov": needs if i == 0 else "",
            }
        )
    return rows
