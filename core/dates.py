"""Dates and periods in Swedish: parsing what users type and formatting for messages.

Numeric dates are always read day first ("31/12"), never US month/day. A date without a
year takes the reference date's year; a month alone means the last day of that month.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from core.errors import InputError, echo, input_error
from core.vocabulary import MONTH_NUMBERS as _MONTH_NUMBERS
from core.vocabulary import MONTHS, TODAY, TOMORROW, YEAR_END

MIN_YEAR, MAX_YEAR = 2000, 2100

DATE_FORMS = (
    'Skriv till exempel "2025-12-31", "31 december 2025", "31/12" eller "i juni" (sista dagen i juni).'
)
START_DATE_FORMS = (
    'Skriv till exempel "2025-08-01", "1 augusti 2025", "1/8" eller "i augusti" (första dagen i augusti).'
)
PERIOD_FORMS = 'Skriv till exempel "2025-06" eller "juni 2025".'

_SPACES = re.compile(r"[\s\u00a0\u2007\u2009\u202f]+")
_DOT_AFTER_LETTER = re.compile(r"(?<=[a-zåäö])\.")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DAY_MONTH = re.compile(r"(\d{1,2})[/.](\d{1,2})(?:(?:[/.-] ?| )(\d{4}))?")
_DAY_MONTH_NAME = re.compile(r"(\d{1,2})(?::[ae])? ?([a-zåäö]+)(?: (\d{4}))?")
_MONTH_NAME = re.compile(r"(?:i )?(?:(slutet|början) av )?([a-zåäö]+)(?: (\d{4}))?")
_PERIOD_NUMERIC = re.compile(r"(\d{4})(?:-(\d{1,2})|(\d{2}))")
_PERIOD_NAME = re.compile(r"([a-zåäö]+) (\d{4})")

_TODAY, _TOMORROW, _YEAR_END = TODAY, TOMORROW, YEAR_END  # core.vocabulary


def parse_date(
    text: str,
    reference: date,
    *,
    field: str | None = "datum",
    year: int | None = None,
    first_day: bool = False,
) -> date:
    """Parse a Swedish date ("2025-12-31", "31 december", "31/12", "i juni", "idag").

    `reference` (usually today) gives the year when none is written and the meaning of
    "idag", "imorgon" and "årsskiftet"; `year`, when given, is the year of a date
    written without one instead (and of "årsskiftet"). A month alone ("juni 2025") is
    its last day (an end date), or with `first_day` its first (a start date:
    parse_start_date). Raises InputError for anything else.
    """
    forms = START_DATE_FORMS if first_day else DATE_FORMS
    default_year = reference.year if year is None else year
    shown = text.strip()
    s = _DOT_AFTER_LETTER.sub("", _SPACES.sub(" ", shown).lower())
    if not s:
        raise input_error("date_empty", f"Datumet saknas. {forms}", field)
    if s in _TODAY:
        return reference
    if s in _TOMORROW:
        return reference + timedelta(days=1)
    if s in _YEAR_END:
        return date(default_year, 12, 31)

    if m := _ISO.fullmatch(s) or _COMPACT.fullmatch(s):
        return _make_date(int(m[1]), int(m[2]), int(m[3]), shown, field, year_first=True)
    if m := _DAY_MONTH.fullmatch(s):
        year = int(m[3]) if m[3] else default_year
        return _make_date(year, int(m[2]), int(m[1]), shown, field)
    if (m := _DAY_MONTH_NAME.fullmatch(s)) and m[2] in _MONTH_NUMBERS:
        year = int(m[3]) if m[3] else default_year
        return _make_date(year, _MONTH_NUMBERS[m[2]], int(m[1]), shown, field)
    if (m := _MONTH_NAME.fullmatch(s)) and m[2] in _MONTH_NUMBERS:
        year = int(m[3]) if m[3] else default_year
        month = _MONTH_NUMBERS[m[2]]
        _check_year(year, shown, field)
        if m[1] == "början" or (first_day and m[1] != "slutet"):  # "i början av juni", a start month
            return date(year, month, 1)
        return date(year, month, calendar.monthrange(year, month)[1])
    raise input_error("date_invalid", f'"{echo(shown)}" är inte ett datum. {forms}', field)


def parse_start_date(
    text: str, reference: date, *, field: str | None = "startdatum", year: int | None = None
) -> date:
    """A start date: as parse_date, but a month alone ("juni 2025", "i juni") is its first
    day ("i slutet av juni" stays the last; "i början av juni" is the first for any date)."""
    return parse_date(text, reference, field=field, year=year, first_day=True)


_WRITTEN_DATE = re.compile(
    r"(?<![\w/.-])(\d{1,2}(?::[ae])?\.? ?[a-zåäö]+\.?|\d{1,2}[/.]\d{1,2}(?:[/.-] ?| ))\s*(\d{4})(?![\w-])",
    re.IGNORECASE,
)


def iso_dates(text: str) -> str:
    """`text` with each date written the Swedish way with its year ("5 februari
    2025", "5:e feb. 2025", "5/2 2025", "5.2.2025") as parse_date reads it, in
    ISO form ("2025-02-05"); anything else, and a day that does not exist, is
    left as written. For references that hold a date among other words (a
    decision: "Förskolenämnden 5 februari 2025 § 5")."""

    def iso(m: re.Match[str]) -> str:
        try:
            return parse_date(m[0], date(int(m[2]), 1, 1)).isoformat()
        except InputError:
            return m[0]

    return _WRITTEN_DATE.sub(iso, text)


def _check_year(year: int, shown: str, field: str | None) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise input_error(
            "date_year_out_of_range",
            f'Året {year} i "{echo(shown)}" ligger utanför {MIN_YEAR}–{MAX_YEAR}. '
            f'Ange ett år mellan {MIN_YEAR} och {MAX_YEAR}, till exempel "31 december 2025".',
            field,
        )


def _make_date(
    year: int, month: int, day: int, shown: str, field: str | None, *, year_first: bool = False
) -> date:
    """The date, or InputError naming why it does not exist (`year_first`: written year, month,
    day, as "2025-13-01": the hint shows that form, not the day-first "31/12")."""
    _check_year(year, shown, field)
    if not 1 <= month <= 12:
        order = f'år, månad och dag, som i "{year}-06-09"' if year_first else 'dagen först, som i "31/12"'
        raise input_error(
            "date_impossible",
            f'Datumet "{echo(shown)}" finns inte: det finns ingen månad {month}. '
            f"Månaden ska vara 1–12; skriv {order}. {DATE_FORMS}",
            field,
        )
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise input_error(
            "date_impossible",
            f'Datumet "{echo(shown)}" finns inte: {MONTHS[month - 1]} {year} har {days} dagar. {DATE_FORMS}',
            field,
        )
    return date(year, month, day)


def format_date(d: date) -> str:
    """A date in Swedish: "31 december 2025"."""
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def parse_period(text: str, *, field: str | None = "period", year: int | None = None) -> str:
    """Parse a month ("2025-06", "2025-6", "202506", "juni 2025", "jun 2025") to "YYYY-MM";
    with `year` (the year the question is about), a month's name alone ("juni") too."""
    shown = text.strip()
    s = _DOT_AFTER_LETTER.sub("", _SPACES.sub(" ", shown).lower())
    default_year, year, month = year, None, None
    if m := _PERIOD_NUMERIC.fullmatch(s):
        year, month = int(m[1]), int(m[2] or m[3])
    elif (m := _PERIOD_NAME.fullmatch(s)) and m[1] in _MONTH_NUMBERS:
        year, month = int(m[2]), _MONTH_NUMBERS[m[1]]
    elif default_year is not None and s in _MONTH_NUMBERS:
        year, month = default_year, _MONTH_NUMBERS[s]
    if year is None or month is None:
        raise input_error(
            "period_invalid",
            (f'"{echo(shown)}" är inte en period (en månad).' if s else "Perioden saknas.")
            + f" {PERIOD_FORMS}",
            field,
        )
    if not 1 <= month <= 12 or not MIN_YEAR <= year <= MAX_YEAR:
        raise input_error(
            "period_out_of_range",
            f'Perioden "{echo(shown)}" finns inte: månaden ska vara 1–12 och året '
            f"{MIN_YEAR}–{MAX_YEAR}. {PERIOD_FORMS}",
            field,
        )
    return f"{year:04d}-{month:02d}"


def format_period(period: str) -> str:
    """A period "2025-06" in Swedish: "juni 2025"."""
    year, month = parse_period(period).split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def check_date_range(start: date | None, end: date | None) -> None:
    """Raise InputError ("end_before_start") when both dates are given and end is before start."""
    if start is not None and end is not None and end < start:
        raise input_error(
            "end_before_start",
            f"Slutdatumet {format_date(end)} ligger före startdatumet {format_date(start)}. "
            "Slutdatumet måste vara samma dag som eller efter startdatumet.",
            "slutdatum",
        )
