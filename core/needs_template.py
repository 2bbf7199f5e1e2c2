"""The template's competence needs (issue 21): the sheet "Behov" (XLSX) or a
CSV file recognised by its headers, and the measure sheet's optional column
"Behov" that names the needs a measure answers. Reading files is storage's
job (storage.templates); this is the pure part, as core.template is for the
measures.

A need row:

    Id; Nämnd; Område; Yrkesgrupp; SSYK; Typ; Kompetens; Antal;
    Pensionsavgångar 2 år; Rekryteringsläge; Period; Källa; Bedömd

`Källa` is the document the need comes from, optionally followed by its date:
"Kompetensförsörjningsplan 2024, 2024-03-12" (an ISO date or "12 mars 2024"
last in the cell, after a comma, a space or in parentheses, is the document's
date). An empty `Rekryteringsläge` is "vet ej".

A measure's `Behov` cell lists need ids separated by ";" (or ","), each
optionally with the need's share of the measure's money and the people it
reaches in parentheses: "B1; B3 (25 %, 12 personer)". An id names a need in
the same file or one the city already has.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from core.dates import format_date, parse_date
from core.errors import DomainError, RuleError, echo, input_error
from core.ledger import Ledger
from core.lookup import resolve_unit
from core.model import normalise
from core.needs import (
    NeedEntry,
    NeedKind,
    NeedLinkEntry,
    Needs,
    Period,
    Recruitment,
    need_key,
    read_kind,
    read_period,
    read_recruitment,
)
from core.rules.needs import check_need
from core.template import PlannedMeasure, RowError, _cell, _CellReader
from core.text import clean_name

NEEDS_SHEET = "Behov"
"""The needs' sheet in an XLSX template."""

LINK_COLUMN = "Behov"
"""The measure sheet's column naming the needs a measure answers."""

NEED_COLUMNS = (
    "Id",
    "Nämnd",
    "Område",
    "Yrkesgrupp",
    "SSYK",
    "Typ",
    "Kompetens",
    "Antal",
    "Pensionsavgångar 2 år",
    "Rekryteringsläge",
    "Period",
    "Källa",
    "Bedömd",
)
NEED_REQUIRED = ("Id", "Nämnd", "Yrkesgrupp", "Typ", "Kompetens", "Period", "Källa", "Bedömd")

_FIELD_COLUMNS = {
    "id": "Id",
    "nämnd": "Nämnd",
    "yrkesgrupp": "Yrkesgrupp",
    "ssyk": "SSYK",
    "typ": "Typ",
    "kompetens": "Kompetens",
    "antal": "Antal",
    "pensionsavgångar": "Pensionsavgångar 2 år",
    "rekryteringsläge": "Rekryteringsläge",
    "period": "Period",
}
"""core.rules.needs' field names → the sheet's columns."""


def is_needs_header(header: Sequence[str]) -> bool:
    """A header of needs, not measures: it has Id and Yrkesgrupp and no Insats."""
    present = {normalise(h) for h in header if h}
    return {"id", "yrkesgrupp"} <= present and "insats" not in present


def check_needs_header(header: Sequence[str], sheet: str = NEEDS_SHEET) -> list[RowError]:
    """The needs sheet's missing and unknown columns (row 1)."""
    present = {normalise(h) for h in header}
    known = {normalise(c) for c in NEED_COLUMNS}
    allowed = ", ".join(NEED_COLUMNS)
    errors = [
        RowError(1, c, f'Kolumnen "{c}" saknas. Behovens kolumner är: {allowed}.', sheet)
        for c in NEED_REQUIRED
        if normalise(c) not in present
    ]
    errors += [
        RowError(1, h, f'Okänd kolumn "{echo(h)}". Behovens kolumner är: {allowed}.', sheet)
        for h in header
        if h and normalise(h) not in known
    ]
    return errors


# --- a need's cells -----------------------------------------------------------------------

_MONTHS = "januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december"
_DATE = rf"\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}} (?:{_MONTHS}) \d{{4}}"
_TRAILING_DATE = re.compile(rf"^(?P<source>.*?)[\s,;:–—-]*\(?(?P<date>{_DATE})\)?$", re.IGNORECASE)


def read_source(text: str, reference: date) -> tuple[str, date | None]:
    """A Källa cell: the document and, when the cell ends with one, its date."""
    text = clean_name(text)
    found = _TRAILING_DATE.match(text)
    if found is None:
        if not text:
            raise input_error(
                "need_source_missing",
                "Källa saknas. Skriv dokumentet behovet kommer från, gärna med datum: "
                '"Kompetensförsörjningsplan 2024, 2024-03-12".',
                "källa",
            )
        return text, None
    source = clean_name(found.group("source"))
    if not source:
        raise input_error(
            "need_source_missing",
            f'Källan "{echo(text)}" är bara ett datum. Skriv dokumentets namn före datumet: '
            '"Kompetensförsörjningsplan 2024, 2024-03-12".',
            "källa",
        )
    return source, parse_date(found.group("date"), reference, field="källa")


def source_text(need: NeedEntry) -> str:
    """A need's Källa cell: "document, 2024-03-12" (read back by read_source)."""
    return f"{need.source}, {need.source_date.isoformat()}" if need.source_date else need.source


_COUNT = re.compile(r"[+-]?\d+")


def _count(column: str) -> Callable[[str], int | None]:
    """A parser of a count cell (Antal, Pensionsavgångar 2 år): a whole number or empty."""

    def read(text: str) -> int | None:
        compact = re.sub(r"[\s\u00a0\u202f]+", "", text)
        if not compact:
            return None
        if not _COUNT.fullmatch(compact):
            raise input_error(
                "bad_count",
                f'{column} "{echo(text)}" ska vara ett heltal, till exempel 5, eller lämnas tomt.',
                column,
            )
        return int(compact)

    return read


def _required(column: str, hint: str) -> RuleError:
    return RuleError("missing_cell", f"{column} saknas. {hint}", column)


@dataclass(frozen=True, slots=True)
class PlannedNeed:
    """A need read from the template, with its row (assessed by core.commands.assess_need)."""

    need: NeedEntry
    row: int


def parse_need_rows(
    rows: Sequence[Mapping[str, str]],
    ledger: Ledger,
    reference: date,
    *,
    author: str,
    at: datetime,
    sheet: str = NEEDS_SHEET,
) -> tuple[list[PlannedNeed], list[RowError]]:
    """Rows (column → text) of the needs sheet to needs; every bad cell is named.
    `reference`: today (a need is not assessed after it; dates without a year take its year)."""
    planned: list[PlannedNeed] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows, start=2):
        if not any((v or "").strip() for v in row.values()):
            continue
        row_errors: list[RowError] = []
        attempt = _CellReader(row, index, row_errors)

        def missing(
            column: str, hint: str, index: int = index, row_errors: list[RowError] = row_errors
        ) -> None:
            row_errors.append(RowError(index, column, _required(column, hint).message, sheet))

        key = clean_name(_cell(row, "Id"))
        if not key:
            missing("Id", 'Ge behovet ett kort id, till exempel "B1".')
        elif need_key(key) in seen:
            row_errors.append(
                RowError(
                    index,
                    "Id",
                    f'Behovet "{echo(key)}" står redan på rad {seen[need_key(key)]}. '
                    "Varje behov får stå en gång; ge det här ett eget id.",
                    sheet,
                )
            )
        else:
            seen[need_key(key)] = index
        unit_text = _cell(row, "Nämnd")
        unit = attempt("Nämnd", lambda t: resolve_unit(ledger, t)) if unit_text else None
        if not unit_text:
            missing("Nämnd", "Ange kod, namn eller kortnamn.")
        kind_text = _cell(row, "Typ")
        kind = attempt("Typ", lambda t: read_kind(t, "Typ")) if kind_text else None
        if not kind_text:
            missing(
                "Typ",
                "Tillåtna: Ersättningsrekrytering, Utökning, Kompetenshöjning, Introduktion, "
                "Ledarskap, Övertalighet.",
            )
        recruitment_text = _cell(row, "Rekryteringsläge")
        recruitment = (
            attempt("Rekryteringsläge", lambda t: read_recruitment(t, "Rekryteringsläge"))
            if recruitment_text
            else Recruitment.UNKNOWN
        )
        period_text = _cell(row, "Period")
        period = attempt("Period", lambda t: read_period(t, "Period")) if period_text else None
        if not period_text:
            missing("Period", 'Skriv år eller en följd av år: "2025", "2024–2026".')
        source = attempt("Källa", lambda t: read_source(t, reference))
        assessed_text = _cell(row, "Bedömd")
        assessed = (
            attempt("Bedömd", lambda t: parse_date(t, reference, field="Bedömd")) if assessed_text else None
        )
        if not assessed_text:
            missing("Bedömd", 'Skriv när behovet bedömdes, till exempel "2025-02-05".')
        elif assessed is not None and assessed > reference:
            row_errors.append(
                RowError(
                    index,
                    "Bedömd",
                    f"Bedömd {format_date(assessed)} ligger efter dagens datum ({format_date(reference)}). "
                    "Skriv när behovet bedömdes.",
                    sheet,
                )
            )
        people = attempt("Antal", _count("Antal"))
        retirements = attempt("Pensionsavgångar 2 år", _count("Pensionsavgångar 2 år"))
        row_errors = [_in_sheet(e, sheet) for e in row_errors]
        need = NeedEntry(  # a cell that could not be read stands in by a value the rules accept
            key=key,
            unit=unit or "",
            role=clean_name(_cell(row, "Yrkesgrupp")),
            kind=kind or NeedKind.UPSKILLING,
            competence=clean_name(_cell(row, "Kompetens")),
            recruitment=recruitment or Recruitment.UNKNOWN,
            period=period or Period(reference.year, reference.year),
            source=source[0] if source else "",
            source_date=source[1] if source else None,
            assessed=assessed or reference,
            author=author,
            at=at,
            area=clean_name(_cell(row, "Område")) or None,
            ssyk=clean_name(_cell(row, "SSYK")) or None,
            people=people,
            retirements=retirements,
        )
        named = {e.column for e in row_errors}  # a cell is named once: by what could not be read
        row_errors += [
            e
            for e in (need_row_error(index, r, sheet) for r in check_need(ledger, need))
            if e.column not in named
        ]
        if row_errors:
            errors += row_errors
            continue
        planned.append(PlannedNeed(need, index))
    return planned, errors


def same_assessment(new: NeedEntry, current: NeedEntry | None) -> bool:
    """A row that says what the need's current assessment says (a template imported
    again): it is not written again."""
    fields = (
        "unit", "area", "role", "ssyk", "kind", "competence", "people", "retirements",
        "recruitment", "period", "source", "source_date", "assessed",
    )  # fmt: skip
    return current is not None and all(getattr(new, f) == getattr(current, f) for f in fields)


def _in_sheet(error: RowError, sheet: str) -> RowError:
    return error if error.sheet == sheet else RowError(error.row, error.column, error.message, sheet)


def need_row_error(row: int, error: RuleError, sheet: str = NEEDS_SHEET) -> RowError:
    """A refusal of a need (core.rules.needs, core.commands.assess_need) as the sheet's cell."""
    column = _FIELD_COLUMNS.get((error.field or "").lower(), error.field or "Nämnd")  # no field: who may
    return RowError(row, column, error.message, sheet)


# --- the measure sheet's Behov column -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NeedRef:
    """A need named in a measure's Behov cell, with the link's share and people if given."""

    key: str
    row: int
    share: int | None = None  # basis points, 2 500 = 25 %
    people: int | None = None


_SHARE = re.compile(r"(\d{1,3}(?:[,.]\d{1,2})?)\s*%")
_PEOPLE = re.compile(r"(\d+)\s*(?:personer|person|pers\.?|st\.?)(?![a-zåäö])", re.IGNORECASE)
_ITEM = re.compile(r"^(?P<key>[^()]*?)\s*(?:\((?P<extra>[^()]*)\))?$")


def _split_items(text: str) -> list[str]:
    """The cell's items, separated by ";", "," or a new line outside parentheses."""
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        if depth == 0 and char in ";,\n":
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _basis_points(text: str) -> int:
    whole, _, part = text.replace(".", ",").partition(",")
    return int(whole) * 100 + int((part + "00")[:2])


def read_need_refs(text: str, row: int) -> list[NeedRef]:
    """A Behov cell: "B1; B3 (25 %, 12 personer)". Raises InputError naming what it cannot read."""
    refs: list[NeedRef] = []
    for item in _split_items(text):
        found = _ITEM.match(item)
        key = clean_name(found.group("key")) if found else ""
        if found is None or not key:
            raise input_error(
                "bad_need_ref",
                f'"{echo(item)}" går inte att läsa som behov. Skriv behovens id åtskilda med semikolon, '
                'gärna med andel och antal personer: "B1; B3 (25 %, 12 personer)".',
                LINK_COLUMN,
            )
        extra = found.group("extra") or ""
        share = _SHARE.search(extra)
        people = _PEOPLE.search(extra)
        rest = _PEOPLE.sub("", _SHARE.sub("", extra))
        if re.sub(r"[\s,;]|och", "", rest):
            raise input_error(
                "bad_need_ref",
                f'"{echo(extra.strip())}" efter behovet "{echo(key)}" går inte att läsa. Inom parentes '
                "står behovets andel av insatsens pengar och antalet personer insatsen når: "
                '"(25 %, 12 personer)".',
                LINK_COLUMN,
            )
        refs.append(
            NeedRef(
                key,
                row,
                share=_basis_points(share.group(1)) if share else None,
                people=int(people.group(1)) if people else None,
            )
        )
    return refs


def _percent_text(basis_points: int) -> str:
    whole, part = divmod(basis_points, 100)
    return f"{whole} %" if part == 0 else f"{whole},{part:02d}".rstrip("0") + " %"


def links_cell(links: Iterable[NeedLinkEntry]) -> str:
    """The Behov cell of a measure: its active links, as read_need_refs reads them."""
    items = []
    for link in links:
        extra = [_percent_text(link.share)] if link.share is not None else []
        extra += [f"{link.people} personer"] if link.people is not None else []
        items.append(f"{link.need} ({', '.join(extra)})" if extra else link.need)
    return "; ".join(items)


def measure_need_refs(
    rows: Sequence[Mapping[str, str]],
    plans: Sequence[PlannedMeasure],
    need_lines: Sequence[Mapping[str, str]],
    needs: Needs,
) -> tuple[list[list[NeedRef]], list[RowError]]:
    """The Behov cells of the measure sheet, each planned measure with the needs its
    rows name (every row of a shared measure may name some; a need named twice counts
    once). Every row's cell is read, whatever else its row has: a cell that cannot be
    read, or that names a need neither the needs sheet (`need_lines`: its rows, good or
    bad, whose own errors are named there) nor the city (`needs`) has, is named."""
    in_file: dict[str, str] = {}
    for line in need_lines:
        if key := clean_name(_cell(line, "Id")):
            in_file.setdefault(need_key(key), key)  # as first written
    known = [*in_file.values(), *(n.key for n in needs.current.values() if need_key(n.key) not in in_file)]
    by_row: dict[int, list[NeedRef]] = {}
    errors: list[RowError] = []
    for index, row in enumerate(rows, start=2):
        text = _cell(row, LINK_COLUMN)
        if not text:
            continue
        try:
            by_row[index] = read_need_refs(text, index)
        except DomainError as problem:
            errors.append(RowError(index, LINK_COLUMN, problem.message))
            continue
        errors += [
            RowError(
                index,
                LINK_COLUMN,
                f'Behovet "{echo(ref.key)}" finns varken bland behoven i filen eller bland stadens behov. '
                f"Kända behov: {', '.join(known) or 'inga'}.",
            )
            for ref in by_row[index]
            if need_key(ref.key) not in in_file and needs.get(ref.key) is None
        ]
    found: list[list[NeedRef]] = []
    for plan in plans:
        refs: dict[str, NeedRef] = {}
        for index in plan.rows:
            for ref in by_row.get(index, ()):
                refs.setdefault(need_key(ref.key), ref)
        found.append(list(refs.values()))
    return found, errors


# --- export ------------------------------------------------------------------------------------


def need_rows(needs: Iterable[NeedEntry]) -> list[dict[str, str]]:
    """Needs as rows of the Behov sheet (read back by parse_need_rows)."""
    return [
        {
            "Id": n.key,
            "Nämnd": n.unit,
            "Område": n.area or "",
            "Yrkesgrupp": n.role,
            "SSYK": n.ssyk or "",
            "Typ": n.kind.value,
            "Kompetens": n.competence,
            "Antal": "" if n.people is None else str(n.people),
            "Pensionsavgångar 2 år": "" if n.retirements is None else str(n.retirements),
            "Rekryteringsläge": n.recruitment.value,
            "Period": n.period.label,
            "Källa": source_text(n),
            "Bedömd": n.assessed.isoformat(),
        }
        for n in needs
    ]
