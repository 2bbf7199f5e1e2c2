"""The bot's day is Sweden's: a decision taken today is not refused as "after today"
in the first hours of a Swedish day, when UTC still has yesterday."""

from datetime import UTC, date, datetime

from core.calendar import swedish_date


def test_the_first_hours_of_a_swedish_day_are_that_day_not_utcs_yesterday() -> None:
    assert swedish_date(datetime(2025, 6, 4, 22, 30, tzinfo=UTC)) == date(2025, 6, 5)  # 00:30 CEST
    assert swedish_date(datetime(2025, 12, 4, 23, 30, tzinfo=UTC)) == date(2025, 12, 5)  # 00:30 CET
    assert swedish_date(datetime(2025, 12, 4, 22, 30, tzinfo=UTC)) == date(2025, 12, 4)  # 23:30 CET
    assert swedish_date(datetime(2025, 6, 4, 22, 30)) == date(2025, 6, 5)  # no zone: UTC
