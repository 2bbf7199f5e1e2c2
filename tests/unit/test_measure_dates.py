"""Issue 17 item 9 (the measure-dates part): a new measure's dates outside the
year its money is for, or an end date already past, are questioned before
saving (core.rules.measure_dates, a pure rule the chat and the form both ask)."""

from __future__ import annotations

from datetime import date

from core.dates import parse_date
from core.rules.measure_dates import date_questions

TODAY = date(2025, 10, 1)


def test_dates_inside_the_money_year_and_not_past_are_not_questioned() -> None:
    """Issue 17 item 9: an ordinary 2025 measure passes without a question."""
    assert date_questions(date(2025, 9, 1), date(2025, 12, 31), 2025, TODAY) == []
    assert date_questions(None, date(2025, 10, 1), 2025, TODAY) == []  # ending today is not past


def test_a_spring_2026_measure_on_2025_money_is_questioned() -> None:
    """Issue 17 item 9: a Feb–Jun 2026 measure on 2025 money: both dates named."""
    questions = date_questions(date(2026, 2, 1), date(2026, 6, 30), 2025, TODAY)
    assert [q.code for q in questions] == ["date_outside_year", "date_outside_year"]
    assert questions[0].message == (
        "Startdatumet 1 februari 2026 ligger utanför 2025, det år som insatsens pengar gäller "
        "(menade du 1 februari 2025?)."
    )
    assert questions[1].field == "slutdatum" and "30 juni 2026" in questions[1].message


def test_31_12_read_in_the_next_year_is_questioned_with_the_money_year_offered() -> None:
    """Issue 17 item 9: "31/12" typed in January 2026 for a 2025 measure is read as 2026:
    the question offers 31 december 2025 (and that date, passed by then, is questioned too)."""
    january = date(2026, 1, 10)
    end = parse_date("31/12", january)
    [question] = date_questions(None, end, 2025, january)
    assert "Slutdatumet 31 december 2026 ligger utanför 2025" in question.message
    assert "menade du 31 december 2025?" in question.message
    [passed] = date_questions(None, date(2025, 12, 31), 2025, january)
    assert passed.code == "end_passed"


def test_an_end_date_already_past_is_questioned() -> None:
    """Issue 17 item 9: ending 30 June 2025 when the bot's today is 1 October 2025."""
    [question] = date_questions(date(2025, 2, 1), date(2025, 6, 30), 2025, TODAY)
    assert question.code == "end_passed"
    assert question.message == ("Slutdatumet 30 juni 2025 har redan passerat (i dag är det 1 oktober 2025).")


def test_29_february_offered_in_a_year_without_one() -> None:
    [question] = date_questions(date(2024, 2, 29), None, 2025, date(2024, 1, 1))
    assert "menade du 28 februari 2025?" in question.message
