"""Rule: a new measure's dates lie in the year its money is for, and it does not
end before today. Not a refusal (a measure may run over the turn of the year,
or be registered after it ended): a question put to the person before saving,
which they answer by confirming or changing the dates. The chat asks it at the
dates, the form shows it with the summary to confirm."""

from __future__ import annotations

import calendar
from datetime import date

from core.dates import format_date
from core.errors import RuleError


def _same_day_in(day: date, year: int) -> date:
    """`day` in `year` (29 February becomes the 28th in a year that has none)."""
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def date_questions(start: date | None, end: date | None, year: int, today: date) -> list[RuleError]:
    """Why a new measure's dates deserve a second look before it is saved with
    money for `year` (empty: none). `today` is the bot's today: an end date
    before it has already passed."""
    questions: list[RuleError] = []
    for label, field, day in (("Startdatumet", "startdatum", start), ("Slutdatumet", "slutdatum", end)):
        if day is not None and day.year != year:
            questions.append(
                RuleError(
                    "date_outside_year",
                    f"{label} {format_date(day)} ligger utanför {year}, det år som insatsens pengar "
                    f"gäller (menade du {format_date(_same_day_in(day, year))}?).",
                    field,
                )
            )
    if end is not None and end < today:
        questions.append(
            RuleError(
                "end_passed",
                f"Slutdatumet {format_date(end)} har redan passerat (i dag är det {format_date(today)}).",
                "slutdatum",
            )
        )
    return questions
