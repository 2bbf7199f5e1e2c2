"""The days of an absence as people write them (core.date_ranges, issue 22): a date without a
year is the coming occurrence, a last day without one the coming one after the first."""

from __future__ import annotations

from datetime import date

import pytest

from core.date_ranges import coming_date, find_range, read_range
from core.errors import InputError

JUNE_5 = date(2025, 6, 5)


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("16 juni", JUNE_5, date(2025, 6, 16)),
        ("16/6", JUNE_5, date(2025, 6, 16)),
        ("2025-06-16", JUNE_5, date(2025, 6, 16)),
        ("5 juni", JUNE_5, date(2025, 6, 5)),  # today is on or after today
        ("4 juni", JUNE_5, date(2026, 6, 4)),  # passed this year: next year's
        ("10 januari", date(2025, 12, 20), date(2026, 1, 10)),
        ("2025-01-10", date(2025, 12, 20), date(2025, 1, 10)),  # a year written is kept
        ("4 juni 2025", JUNE_5, date(2025, 6, 4)),
    ],
)
def test_a_date_without_a_year_is_the_coming_one(text: str, today: date, expected: date) -> None:
    assert coming_date(text, today) == expected


@pytest.mark.parametrize(
    ("text", "today", "first", "last"),
    [
        ("16 juni–11 juli", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("16/6–11/7", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("16/6-11/7", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("2025-06-16–2025-07-11", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("2025-06-16 - 2025-07-11", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("16 juni till 11 juli", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("från 16 juni till 11 juli", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("mellan 16/6 och 11/7", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("16 juni t.o.m. 11 juli", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("16–20 juni", JUNE_5, date(2025, 6, 16), date(2025, 6, 20)),
        ("16-20/6", JUNE_5, date(2025, 6, 16), date(2025, 6, 20)),
        ("20 december–10 januari", JUNE_5, date(2025, 12, 20), date(2026, 1, 10)),
        ("16 juni–11 juli 2026", JUNE_5, date(2026, 6, 16), date(2026, 7, 11)),
        ("1 maj–11 juli", JUNE_5, date(2026, 5, 1), date(2026, 7, 11)),  # May has passed
        ("16 juni", JUNE_5, date(2025, 6, 16), date(2025, 6, 16)),  # one day
        ("16:e Juni – 11:e Juli", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
    ],
)
def test_the_days_of_an_absence(text: str, today: date, first: date, last: date) -> None:
    assert read_range(text, today) == (first, last)


@pytest.mark.parametrize("text", ["", "i sommar", "16 juni 11 juli", "nästa vecka"])
def test_what_is_no_range_is_refused_naming_the_forms(text: str) -> None:
    with pytest.raises(InputError) as refused:
        read_range(text, JUNE_5, field="--from")
    assert "16 juni–11 juli" in refused.value.message and refused.value.errors[0].field == "--from"


def test_a_date_that_does_not_exist_is_refused() -> None:
    with pytest.raises(InputError) as refused:
        read_range("31/6–11/7", JUNE_5)
    assert "finns inte" in refused.value.message


def test_the_days_are_found_in_a_sentence() -> None:
    text = "Jag är ledig 16 juni–11 juli, Per Persson ersätter mig"
    found = find_range(text, JUNE_5)
    assert found is not None
    first, last, (start, end) = found
    assert (first, last) == (date(2025, 6, 16), date(2025, 7, 11))
    assert text[start:end] == "16 juni–11 juli"
    other = find_range("Per ersätter Anna 16/6–11/7", JUNE_5)
    assert other is not None and other[:2] == (date(2025, 6, 16), date(2025, 7, 11))
    assert find_range("vem ersätter mig?", JUNE_5) is None
