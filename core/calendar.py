"""Swedish working days (arbetsdagar): the calendar the follow-up rounds count in.

A working day is a weekday that is not a Swedish public holiday (the
`holidays` package's Sweden, without its Sundays-as-holidays option) and not
one of the three eves that Swedish workplaces keep free: midsommarafton (the
Friday before Midsummer Day), julafton (24 December) and nyårsafton
(31 December).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

SWEDISH_TIME = ZoneInfo("Europe/Stockholm")


def swedish_date(at: datetime) -> date:
    """The date in Sweden at the moment `at` (a time without zone is UTC): a decision
    taken today, or a day's limit, is counted by the Swedish calendar, not by UTC's,
    which is still yesterday for the first one or two hours of a Swedish day."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(SWEDISH_TIME).date()


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("SE", years=year, include_sundays=False).keys())


def midsummer_eve(year: int) -> date:
    """Midsommarafton: the Friday between 19 and 25 June."""
    june19 = date(year, 6, 19)
    return june19 + timedelta(days=(4 - june19.weekday()) % 7)


@lru_cache(maxsize=64)
def non_working_days(year: int) -> frozenset[date]:
    """Public holidays and the three eves of `year` (weekends not included)."""
    eves = {midsummer_eve(year), date(year, 12, 24), date(year, 12, 31)}
    return _public_holidays(year) | eves


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in non_working_days(day.year)


def next_working_day(day: date) -> date:
    """The first working day on or after `day`."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def previous_working_day(day: date) -> date:
    """The last working day on or before `day`."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def add_working_days(day: date, count: int) -> date:
    """The working day `count` working days after (count < 0: before) `day`."""
    step = timedelta(days=1 if count >= 0 else -1)
    remaining = abs(count)
    while remaining:
        day += step
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 if end <= start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


def first_working_day_of_month(year: int, month: int) -> date:
    return next_working_day(date(year, month, 1))
