"""The days of an absence as people write them (issue 22): "16 juni–11 juli", "16/6–11/7",
"2025-06-16 -- 2025-07-11", "16–20 juni", "från 16 juni till 11 juli", "mellan 16/6 och 11/7",
"fr.o.m. idag t.o.m. 20 juni", a week ("v. 27", "vecka 27–28": Monday of the first to Sunday of
the last, ISO weeks) and a month ("hela juli", "i juli", "juli": its first to its last day).

A period written without a year is the one going on today, else this year's when it has not
ended, else the nearer of this year's and next year's: on 17 June "16/6–11/7" is this year's
(an absence already begun) and so is "1/6–10/6" (over: the rules refuse it as past, it is not
moved to next year); on 20 December "5/1–10/1" is next year's. A year written anywhere in the
range applies to the whole of it ("1/5–10/5 2025"). A last day before the first is kept as
written (the rules refuse it), except over the new year: a first day in November or December
and a last in January or February ("20/12–6/1") runs into the next year. A week or a month
without a year is the coming one (this year's unless it has ended). Dates are read by
core.dates.parse_date (day first, never month/day). Pure: nothing here knows the chat.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date

from core.dates import parse_date
from core.errors import InputError, echo, input_error
from core.vocabulary import MONTH_NUMBERS, MONTHS

RANGE_FORMS = (
    'Skriv till exempel "16 juni–11 juli", "16/6–11/7", "2025-06-16–2025-07-11", "från idag till 20/6", '
    '"v. 27" eller "hela juli".'
)
DAY_FORMS = 'Skriv till exempel "16 juni", "16/6" eller "2025-06-16".'

_MONTH = "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True))
_FULL_MONTH = "|".join(MONTHS)
_DAY_WORD = r"i ?dag|i ?morgon"
DATE = (
    r"\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}[/.]\d{1,2}(?:[/.]\d{4}| \d{4}(?![\d/.-]))?"
    rf"|\d{{1,2}}(?::[ae])?\.? ?(?:{_MONTH})\.?(?: \d{{4}})?"
    rf"|{_DAY_WORD}"
)
"""One date as written in a sentence (core.dates.parse_date reads it): ISO, day/month, day and
a month's name, each with or without its year; "idag", "imorgon"."""
_FROM = r"(?:(?:från och med|från|fr\.? ?o\.? ?m\.?|from|mellan)\s+)?(?:den\s+)?"
_SEPARATOR = r"\s*(?:--|–|—|−|-|till och med|t\.? ?o\.? ?m\.?|tom|till|och)\s*"
_YEAR_AFTER = r"(?:,? (?P<year>\d{4})(?![\d/.-]))?"
_RANGE = re.compile(
    rf"(?<![\w/.-]){_FROM}(?P<first>{DATE}|\d{{1,2}}(?::[ae])?){_SEPARATOR}(?:den\s+)?(?P<last>{DATE})"
    rf"{_YEAR_AFTER}(?![\w])",
    re.IGNORECASE,
)
_WEEK = re.compile(
    r"(?<![\w/.-])(?:under\s+|hela\s+)?(?:v\.?|vecka|veckan|veckorna)\s*(?P<week>\d{1,2})"
    r"(?:\s*(?:--|–|—|-|till|och|t\.? ?o\.? ?m\.?|tom)\s*(?:v\.?\s*|vecka\s*)?(?P<week2>\d{1,2}))?"
    rf"{_YEAR_AFTER}(?![\w/.-])",
    re.IGNORECASE,
)
_WHOLE_MONTH = re.compile(
    rf"(?<![\w/.-])(?<!\d )(?<!\d\. )(?<!:[ae] )(?:(?:hela|i|under|över)\s+)?(?:månaden\s+)?"
    rf"(?P<month>{_FULL_MONTH})(?: (?P<year>\d{{4}}))?(?![\w/.-])",
    re.IGNORECASE,
)
_ONE = re.compile(
    rf"(?<![\w/.-])(?:(?:från och med|från|fr\.? ?o\.? ?m\.?|from|den)\s+)?(?P<day>{DATE})(?![\w])",
    re.IGNORECASE,
)
_FORMS = (_RANGE, _WEEK, _WHOLE_MONTH, _ONE)
_BARE_DAY = re.compile(r"\d{1,2}(?::[ae])?")
_MONTH_AND_YEAR = re.compile(rf"(?:{_MONTH})\.?(?: \d{{4}})?$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_DAY_WORDS = re.compile(rf"{_DAY_WORD}", re.IGNORECASE)
_NEW_YEAR = ((11, 12), (1, 2))
"""A period from November or December to January or February runs over the new year."""


def coming_date(text: str, today: date, *, field: str | None = "datum", after: date | None = None) -> date:
    """One date; without a year the occurrence nearest `after` (default: today): "4 juni" on
    5 June is this year's (past: the caller refuses it), "10 januari" on 20 December next
    year's. InputError (Swedish) for what is no date."""
    since = after or today
    if _has_year(text, today):
        return parse_date(text, today, field=field)

    def in_year(year: int) -> tuple[date, date]:
        day = parse_date(text, today, field=field, year=year)
        return day, day

    return _nearest(in_year, since)[0]


def read_days(
    first_text: str, last_text: str, today: date, *, fields: tuple[str | None, str | None] = ("från", "till")
) -> tuple[date, date]:
    """The first and last day written apart (the command line's --from and --to), by the rules
    of a range written together (see the module)."""
    return _pair(first_text, last_text, None, today, fields)


def read_range(text: str, today: date, *, field: str | None = "datum") -> tuple[date, date]:
    """The first and last day of "16 juni–11 juli" and its kinds (see the module); one date
    alone is one day. InputError naming the forms for anything else (nothing but the dates may
    be written: `find_range` finds them in a sentence)."""
    shown = _SPACES.sub(" ", text.strip()).strip(" .!")
    for form in _FORMS:
        found = form.fullmatch(shown)
        if found is not None:
            return _dates(found, today, field)
    what = f'"{echo(shown)}" är inga datum för frånvaron.' if shown else "Datumen saknas."
    raise input_error("range_invalid", f"{what} {RANGE_FORMS}", field)


def find_range(text: str, today: date) -> tuple[date, date, tuple[int, int]] | None:
    """The days of an absence written in a sentence ("Jag är ledig 16 juni–11 juli, Per ersätter
    mig"): first, last and where in `text` they were written; None when it names no date.
    InputError when a date it names does not exist ("31/6")."""
    for form in _FORMS:
        found = form.search(text)
        if found is not None:
            first, last = _dates(found, today, None)
            return first, last, found.span()
    return None


def _dates(found: re.Match[str], today: date, field: str | None) -> tuple[date, date]:
    groups = found.groupdict()
    if groups.get("day") is not None:
        day = coming_date(groups["day"], today, field=field)
        return day, day
    if groups.get("week") is not None:
        return _weeks(groups, today, field)
    if groups.get("month") is not None:
        return _month(groups, today)
    first_text, last_text = groups["first"], groups["last"]
    if _BARE_DAY.fullmatch(first_text):  # "16–20 juni": the month (and year) are the last day's
        month = _MONTH_AND_YEAR.search(last_text)
        if month is not None:
            first_text = f"{first_text} {month[0]}"
        elif m := re.fullmatch(r"(\d{4})-(\d{1,2})-\d{1,2}", last_text):
            first_text = f"{m[1]}-{m[2]}-{first_text.split(':')[0]}"
        elif "/" in last_text or "." in last_text:
            first_text = f"{first_text}/{re.split(r'[/.]', last_text, maxsplit=1)[1]}"
    return _pair(first_text, last_text, groups.get("year"), today, (field, field))


def _pair(
    first_text: str, last_text: str, year: str | None, today: date, fields: tuple[str | None, str | None]
) -> tuple[date, date]:
    """Two days by the module's rules: a year written on either (or after both) applies to both."""
    first_field, last_field = fields
    if year is not None:  # "1/5–10/5 2025": the year is the whole range's
        first_text, last_text = _with_year(first_text, year), _with_year(last_text, year)
    first_year, last_year = _has_year(first_text, today), _has_year(last_text, today)
    if first_year and last_year:
        first = parse_date(first_text, today, field=first_field)
        return first, parse_date(last_text, today, field=last_field)
    if last_year:  # "16 juni–11 juli 2026"; "20/12–6/1 2026": the first day of the year before
        last = parse_date(last_text, today, field=last_field)
        first = parse_date(first_text, today, field=first_field, year=last.year)
        if first > last and _over_new_year(first, last):
            first = parse_date(first_text, today, field=first_field, year=last.year - 1)
        return first, last
    if first_year:
        first = parse_date(first_text, today, field=first_field)
        return first, _last_of(last_text, first, today, last_field)

    def in_year(y: int) -> tuple[date, date]:
        first = parse_date(first_text, today, field=first_field, year=y)
        return first, _last_of(last_text, first, today, last_field)

    return _nearest(in_year, today)


def _last_of(text: str, first: date, today: date, field: str | None) -> date:
    """The last day written without a year: the first day's year, or the next over the new year."""
    last = parse_date(text, today, field=field, year=first.year)
    if last < first and _over_new_year(first, last):
        return parse_date(text, today, field=field, year=first.year + 1)
    return last


def _over_new_year(first: date, last: date) -> bool:
    return first.month in _NEW_YEAR[0] and last.month in _NEW_YEAR[1]


def _nearest(in_year: Callable[[int], tuple[date, date]], today: date) -> tuple[date, date]:
    """The period going on today (of last year, this year or next), else this year's when it
    has not ended, else the nearer of this year's (over: the rules refuse it) and next year's
    (a tie: next year's). InputError when no year has the days ("29/2")."""
    periods: dict[int, tuple[date, date]] = {}
    problem: InputError | None = None
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            periods[year] = in_year(year)
        except InputError as refused:
            problem = refused
    for period in periods.values():
        if min(period) <= today <= max(period):
            return period
    this, next_ = periods.get(today.year), periods.get(today.year + 1)
    if this is None or next_ is None:
        found = this or next_
        if found is None:
            assert problem is not None
            raise problem
        return found
    if max(this) >= today:
        return this
    return this if (today - max(this)).days < (min(next_) - today).days else next_


def _weeks(groups: dict[str, str | None], today: date, field: str | None) -> tuple[date, date]:
    """ "v. 27", "vecka 27–28": Monday of the first ISO week to Sunday of the last; without a
    year the coming one (this year's unless it has ended)."""
    week = int(groups["week"] or 0)
    week2 = int(groups.get("week2") or week)
    shown = f"v. {week}" if week2 == week else f"v. {week}–{week2}"

    def span(year: int) -> tuple[date, date]:
        try:
            end_year = year + 1 if week2 < week else year
            return date.fromisocalendar(year, week, 1), date.fromisocalendar(end_year, week2, 7)
        except ValueError:
            raise input_error(
                "week_invalid",
                f'Veckan i "{echo(shown)}" finns inte: en vecka är 1–52 (ibland 53). {RANGE_FORMS}',
                field,
            ) from None

    if groups.get("year"):
        return span(int(str(groups["year"])))
    this_year = today.isocalendar().year
    period = span(this_year)
    return period if period[1] >= today else span(this_year + 1)


def _month(groups: dict[str, str | None], today: date) -> tuple[date, date]:
    """ "hela juli", "i juli": its first to its last day; without a year the coming one."""
    month = MONTH_NUMBERS[str(groups["month"]).lower()]

    def span(year: int) -> tuple[date, date]:
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])

    if groups.get("year"):
        return span(int(str(groups["year"])))
    period = span(today.year)
    return period if period[1] >= today else span(today.year + 1)


def _with_year(text: str, year: str) -> str:
    """A date written without a year, with `year` (as parse_date reads it); else as written."""
    if _DAY_WORDS.fullmatch(text.strip()) or re.search(r"\d{4}", text):
        return text
    return f"{text} {year}"


def _has_year(text: str, today: date) -> bool:
    """Whether a date is written with its year, or is a day named from today ("idag")."""
    return parse_date(text, today, field=None, year=2000) == parse_date(text, today, field=None, year=2004)
