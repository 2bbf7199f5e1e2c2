"""Tests for core.dates: Swedish dates and periods, day first, and back."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.dates import (
    check_date_range,
    format_date,
    format_period,
    parse_date,
    parse_period,
)
from core.errors import InputError

REF = date(2025, 3, 15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-12-31", date(2025, 12, 31)),
        ("2025-1-5", date(2025, 1, 5)),
        ("20251231", date(2025, 12, 31)),
        ("31 december 2025", date(2025, 12, 31)),
        ("31 December 2025", date(2025, 12, 31)),
        ("31 dec 2025", date(2025, 12, 31)),
        ("31 dec. 2025", date(2025, 12, 31)),
        ("31 december", date(2025, 12, 31)),
        ("31/12", date(2025, 12, 31)),
        ("31/12 2025", date(2025, 12, 31)),
        ("31/12-2025", date(2025, 12, 31)),
        ("31/12/2025", date(2025, 12, 31)),
        ("31.12.2025", date(2025, 12, 31)),
        ("1/2", date(2025, 2, 1)),  # day first, never US month/day
        ("i juni", date(2025, 6, 30)),
        ("juni", date(2025, 6, 30)),
        ("I JUNI", date(2025, 6, 30)),
        ("i juni 2026", date(2026, 6, 30)),
        ("juni 2026", date(2026, 6, 30)),
        ("i februari 2024", date(2024, 2, 29)),
        ("i slutet av februari", date(2025, 2, 28)),
        ("idag", REF),
        ("i dag", REF),
        ("Idag", REF),
        ("imorgon", date(2025, 3, 16)),
        ("i morgon", date(2025, 3, 16)),
        ("i slutet av året", date(2025, 12, 31)),
        ("årsskiftet", date(2025, 12, 31)),
        ("  31\u00a0december  2025 ", date(2025, 12, 31)),
    ],
)
def test_parse_date_accepts_swedish_forms(text: str, expected: date) -> None:
    assert parse_date(text, REF) == expected


@pytest.mark.parametrize(
    ("name", "month"),
    [
        ("jan", 1), ("januari", 1), ("feb", 2), ("februari", 2), ("mar", 3), ("mars", 3),
        ("apr", 4), ("april", 4), ("maj", 5), ("jun", 6), ("juni", 6), ("jul", 7),
        ("juli", 7), ("aug", 8), ("augusti", 8), ("sep", 9), ("sept", 9), ("september", 9),
        ("okt", 10), ("oktober", 10), ("nov", 11), ("november", 11), ("dec", 12),
        ("december", 12),
    ],
)  # fmt: skip
def test_parse_date_knows_month_names_and_abbreviations(name: str, month: int) -> None:
    assert parse_date(f"1 {name} 2026", REF) == date(2026, month, 1)
    assert parse_date(f"1 {name.upper()} 2026", REF) == date(2026, month, 1)


def test_year_end_and_tomorrow_cross_the_year() -> None:
    assert parse_date("imorgon", date(2025, 12, 31)) == date(2026, 1, 1)
    assert parse_date("årsskiftet", date(2026, 1, 1)) == date(2026, 12, 31)


def _refusal(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse_date(text, REF)
    return info.value


@pytest.mark.parametrize(
    ("text", "code", "phrase"),
    [
        ("blaha", "date_invalid", "inte ett datum"),
        ("31 smurf 2025", "date_invalid", "inte ett datum"),
        ("2025-12-31 kl 12", "date_invalid", "inte ett datum"),
        ("31 februari 2025", "date_impossible", "februari 2025 har 28 dagar"),
        ("2025-02-30", "date_impossible", "februari 2025 har 28 dagar"),
        ("29/2 2025", "date_impossible", "februari 2025 har 28 dagar"),
        ("12/31/2025", "date_impossible", "ingen månad 31"),
        ("2025-13-01", "date_impossible", "ingen månad 13"),
        ("0/12", "date_impossible", "december 2025 har 31 dagar"),
        ("1999-12-31", "date_year_out_of_range", "2000–2100"),
        ("2101-01-01", "date_year_out_of_range", "2000–2100"),
        ("juni 1999", "date_year_out_of_range", "2000–2100"),
    ],
)
def test_parse_date_refuses_with_swedish_message(text: str, code: str, phrase: str) -> None:
    error = _refusal(text)
    assert error.code == code
    assert f'"{text}"' in error.message
    assert phrase in error.message
    assert '"31 december 2025"' in error.message
    assert error.errors[0].field == "datum"


@pytest.mark.parametrize("text", ["blaha", "31 februari 2025", "12/31/2025"])
def test_parse_date_refusals_name_all_allowed_forms(text: str) -> None:
    message = _refusal(text).message
    for form in ('"2025-12-31"', '"31 december 2025"', '"31/12"', '"i juni"'):
        assert form in message


@pytest.mark.parametrize("text", ["", "  "])
def test_parse_date_refuses_empty_text(text: str) -> None:
    error = _refusal(text)
    assert error.code == "date_empty"
    assert "saknas" in error.message and '"2025-12-31"' in error.message


def test_parse_date_refuses_a_reference_year_out_of_range() -> None:
    with pytest.raises(InputError) as info:
        parse_date("31/12", date(1999, 6, 1), field="slutdatum")
    assert info.value.code == "date_year_out_of_range"
    assert info.value.errors[0].field == "slutdatum"


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (date(2025, 12, 31), "31 december 2025"),
        (date(2025, 1, 1), "1 januari 2025"),
        (date(2000, 5, 9), "9 maj 2000"),
    ],
)
def test_format_date(d: date, text: str) -> None:
    assert format_date(d) == text


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2025-06", "2025-06"),
        ("2025-6", "2025-06"),
        ("juni 2025", "2025-06"),
        ("Juni 2025", "2025-06"),
        ("jun 2025", "2025-06"),
        ("202506", "2025-06"),
        ("sept 2025", "2025-09"),
        ("2025-12", "2025-12"),
    ],
)
def test_parse_period_accepts(text: str, period: str) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "period_invalid"),
        ("2025", "period_invalid"),
        ("juni", "period_invalid"),
        ("20256", "period_invalid"),
        ("smurf 2025", "period_invalid"),
        ("2025-06-01", "period_invalid"),
        ("2025-13", "period_out_of_range"),
        ("2025-00", "period_out_of_range"),
        ("1999-01", "period_out_of_range"),
    ],
)
def test_parse_period_refuses_with_swedish_message(text: str, code: str) -> None:
    with pytest.raises(InputError) as info:
        parse_period(text)
    assert info.value.code == code
    assert '"2025-06"' in info.value.message and '"juni 2025"' in info.value.message
    if text:
        assert f'"{text}"' in info.value.message


@pytest.mark.parametrize(("period", "text"), [("2025-06", "juni 2025"), ("2026-01", "januari 2026")])
def test_format_period(period: str, text: str) -> None:
    assert format_period(period) == text
    assert parse_period(text) == period


def test_check_date_range_refuses_end_before_start() -> None:
    with pytest.raises(InputError) as info:
        check_date_range(date(2025, 3, 1), date(2025, 1, 1))
    assert info.value.code == "end_before_start"
    assert info.value.message == (
        "Slutdatumet 1 januari 2025 ligger före startdatumet 1 mars 2025. "
        "Slutdatumet måste vara samma dag som eller efter startdatumet."
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2025, 1, 1), date(2025, 1, 1)),
        (date(2025, 1, 1), date(2025, 3, 1)),
        (None, date(2025, 1, 1)),
        (date(2025, 1, 1), None),
        (None, None),
    ],
)
def test_check_date_range_accepts(start: date | None, end: date | None) -> None:
    check_date_range(start, end)


dates_2000_2100 = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@given(dates_2000_2100, dates_2000_2100)
def test_format_date_round_trips(d: date, reference: date) -> None:
    assert parse_date(format_date(d), reference) == d


@given(dates_2000_2100, dates_2000_2100)
def test_iso_and_numeric_dates_round_trip(d: date, reference: date) -> None:
    assert parse_date(d.isoformat(), reference) == d
    assert parse_date(d.strftime("%Y%m%d"), reference) == d
    assert parse_date(f"{d.day}/{d.month} {d.year}", reference) == d
    assert parse_date(f"{d.day}.{d.month}.{d.year}", reference) == d


@given(dates_2000_2100)
def test_periods_round_trip(d: date) -> None:
    period = f"{d.year:04d}-{d.month:02d}"
    assert parse_period(period) == period
    assert parse_period(format_period(period)) == period


@given(st.text(max_size=30), dates_2000_2100)
def test_parse_date_returns_date_or_input_error(text: str, reference: date) -> None:
    try:
        result = parse_date(text, reference)
    except InputError as error:
        assert error.message
    else:
        assert date(2000, 1, 1) <= result <= date(2100, 12, 31)


def test_a_months_name_alone_is_a_period_of_the_year_asked_about() -> None:
    assert parse_period("juni", year=2025) == "2025-06"
    assert parse_period(" Dec. ", year=2024) == "2024-12"
    with pytest.raises(InputError) as refused:
        parse_period("juni")  # no year to take it from
    assert "juni 2025" in refused.value.message  # the message shows the form with a year


def test_a_month_alone_is_the_first_day_of_a_start_and_the_last_of_an_end() -> None:
    """Issue 19: "juni 2025" as a start date was 30 June (a measure starting after it had begun)."""
    from core.dates import parse_start_date

    today = date(2025, 3, 1)
    assert parse_start_date("juni 2025", today) == date(2025, 6, 1)
    assert parse_start_date("i juni", today) == date(2025, 6, 1)
    assert parse_start_date("i slutet av juni", today) == date(2025, 6, 30)
    assert parse_start_date("15 juni", today) == date(2025, 6, 15)
    assert parse_date("juni 2025", today) == date(2025, 6, 30)
    assert (
        parse_date("i början av juni", today)
        == parse_start_date("början av juni 2025", today)
        == date(2025, 6, 1)
    )
    with pytest.raises(InputError, match="första dagen i augusti"):
        parse_start_date("sommaren", today)


@pytest.mark.parametrize(
    ("text", "hint", "not_said"),
    [
        ("2025-13-01", 'skriv år, månad och dag, som i "2025-06-09"', "dagen först"),
        ("20251301", 'skriv år, månad och dag, som i "2025-06-09"', "dagen först"),
        ("1/13", 'skriv dagen först, som i "31/12"', "år, månad och dag"),
    ],
)
def test_a_month_that_does_not_exist_is_explained_in_the_form_it_was_written(
    text: str, hint: str, not_said: str
) -> None:
    """A tester's `--as-of 2025-13-01` was told the day is written first, as in 31/12: for a date
    written year first the hint shows that form."""
    message = _refusal(text).message
    assert hint in message and not_said not in message
