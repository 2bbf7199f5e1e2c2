"""The days of an absence as people write them (issue 22): "16 juni–11 juli", "16/6–11/7",
"2025-06-16 – 2025-07-11", "16–20 juni", "från 16 juni till 11 juli", "mellan 16/6 och 11/7".

A date written without a year is the coming occurrence: on or after today (on 20 December,
"10 januari" is next year's); the last day without a year is the coming one on or after the
first day ("20 december–10 januari" runs over the new year). Dates are read by
core.dates.parse_date (day first, never month/day). Pure: nothing here knows the chat.
"""

from __future__ import annotations

import re
from datetime import date

from core.dates import parse_date
from core.errors import echo, input_error
from core.vocabulary import MONTH_NUMBERS

RANGE_FORMS = 'Skriv till exempel "16 juni–11 juli", "16/6–11/7" eller "2025-06-16–2025-07-11".'
DAY_FORMS = 'Skriv till exempel "16 juni", "16/6" eller "2025-06-16".'

_MONTH = "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True))
DATE = (
    r"\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}[/.]\d{1,2}(?:[/.]\d{4})?"
    rf"|\d{{1,2}}(?::[ae])?\.? ?(?:{_MONTH})\.?(?: \d{{4}})?"
)
"""One date as written in a sentence (core.dates.parse_date reads it): ISO, day/month, day and
a month's name, each with or without its year."""
_SEPARATOR = r"\s*(?:–|—|-|till och med|t\.? ?o\.? ?m\.?|tom|till|och)\s*"
_RANGE = re.compile(
    rf"(?<![\w/.-])(?:(?:från|fr\.? ?o\.? ?m\.?|from|mellan)\s+)?(?:den\s+)?"
    rf"(?P<first>{DATE}|\d{{1,2}}(?::[ae])?){_SEPARATOR}(?:den\s+)?(?P<last>{DATE})(?![\w])",
    re.IGNORECASE,
)
_ONE = re.compile(
    rf"(?<![\w/.-])(?:(?:från|fr\.? ?o\.? ?m\.?|from|den)\s+)?(?P<day>{DATE})(?![\w])", re.IGNORECASE
)
_BARE_DAY = re.compile(r"\d{1,2}(?::[ae])?")
_MONTH_AND_YEAR = re.compile(rf"(?:{_MONTH})\.?(?: \d{{4}})?$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def coming_date(text: str, today: date, *, field: str | None = "datum", after: date | None = None) -> date:
    """A date; one written without a year is the coming occurrence: on or after `after`
    (default: today). InputError (Swedish) for what is no date."""
    since = after or today
    this_year = parse_date(text, today, field=field, year=since.year)
    if this_year >= since:
        return this_year
    next_year = parse_date(text, today, field=field, year=since.year + 1)
    return next_year if next_year != this_year else this_year  # a year written is kept as written


def read_range(text: str, today: date, *, field: str | None = "datum") -> tuple[date, date]:
    """The first and last day of "16 juni–11 juli" and its kinds (see the module); one date
    alone is one day. InputError naming the forms for anything else (nothing but the dates may
    be written: `find_range` finds them in a sentence)."""
    shown = _SPACES.sub(" ", text.strip())
    found = _RANGE.fullmatch(shown) or _ONE.fullmatch(shown)
    if found is None:
        what = f'"{echo(shown)}" är inga datum för frånvaron.' if shown else "Datumen saknas."
        raise input_error("range_invalid", f"{what} {RANGE_FORMS}", field)
    return _dates(found, today, field)


def find_range(text: str, today: date) -> tuple[date, date, tuple[int, int]] | None:
    """The days of an absence written in a sentence ("Jag är ledig 16 juni–11 juli, Per ersätter
    mig"): first, last and where in `text` they were written; None when it names no date.
    InputError when a date it names does not exist ("31/6")."""
    found = _RANGE.search(text) or _ONE.search(text)
    if found is None:
        return None
    first, last = _dates(found, today, None)
    return first, last, found.span()


def _dates(found: re.Match[str], today: date, field: str | None) -> tuple[date, date]:
    groups = found.groupdict()
    if groups.get("day") is not None:
        day = coming_date(groups["day"], today, field=field)
        return day, day
    first_text, last_text = groups["first"], groups["last"]
    if _BARE_DAY.fullmatch(first_text):  # "16–20 juni": the month (and year) are the last day's
        month = _MONTH_AND_YEAR.search(last_text)
        if month is not None:
            first_text = f"{first_text} {month[0]}"
        elif "/" in last_text or "." in last_text:
            first_text = f"{first_text}/{re.split(r'[/.]', last_text, maxsplit=1)[1]}"
        elif m := re.fullmatch(r"(\d{4})-(\d{1,2})-\d{1,2}", last_text):
            first_text = f"{m[1]}-{m[2]}-{first_text.split(':')[0]}"
    if _has_year(last_text, today) and not _has_year(first_text, today):
        # "16 juni–11 juli 2026": the first day is of the last day's year (or the one before it)
        last = parse_date(last_text, today, field=field)
        first = parse_date(first_text, today, field=field, year=last.year)
        if first > last:
            first = parse_date(first_text, today, field=field, year=last.year - 1)
        return first, last
    first = coming_date(first_text, today, field=field)
    last = coming_date(last_text, today, field=field, after=first)
    return first, last


def _has_year(text: str, today: date) -> bool:
    """Whether a date is written with its year (then no default year changes it)."""
    return parse_date(text, today, field=None, year=2001) == parse_date(text, today, field=None, year=2002)
