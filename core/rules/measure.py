"""Rule: a new measure names existing units, has a title, and ends after it starts."""

from __future__ import annotations

from datetime import date

from core.dates import format_date
from core.errors import RuleError, echo
from core.ledger import Ledger
from core.limits import MAX_TITLE, title_too_long
from core.model import Measure
from core.text import clean_name, lookalike_key


def end_before_start(start: date | None, end: date | None) -> RuleError | None:
    """A measure ends on or after the day it starts."""
    if start is None or end is None or end >= start:
        return None
    return RuleError(
        "end_before_start",
        f"Slutdatumet {format_date(end)} ligger före startdatumet {format_date(start)}. "
        "Slutdatumet måste vara samma dag som eller efter startdatumet.",
        "slutdatum",
    )


def same_title(ledger: Ledger, measure: Measure) -> list[RuleError]:
    """Two measures of a year never share a title: compared as clean names
    with look-alike letters folded (core.text.lookalike_key), so a copy with a
    zero-width space, a bidi mark, a newline, other case or a Cyrillic "а" for
    the Latin "a" is the same title."""
    key = lookalike_key(measure.title)
    for other in ledger.measures.values():
        if other.id != measure.id and other.year == measure.year and lookalike_key(other.title) == key:
            return [
                RuleError(
                    "duplicate_title",
                    f'Insatsen "{echo(other.title)}" för {measure.year} finns redan (id {other.id}). '
                    "Välj en annan titel, eller följ upp den insats som finns.",
                    "insats",
                )
            ]
    return []


def check_measure(ledger: Ledger, measure: Measure) -> list[RuleError]:
    errors: list[RuleError] = []
    if not clean_name(measure.title):
        errors.append(
            RuleError(
                "missing_title",
                "Insatsen måste ha en titel med synliga tecken "
                "(osynliga tecken och radbrytningar räknas inte).",
                "insats",
            )
        )
    elif len(measure.title) > MAX_TITLE:
        errors.append(title_too_long(len(measure.title)))  # the forms' wording (core.limits)
    else:
        errors += same_title(ledger, measure)
    if not measure.units:
        errors.append(RuleError("missing_unit", "Insatsen måste ha minst en nämnd.", "nämnd"))
    for code in measure.units:
        if code not in ledger.units:
            known = ", ".join(sorted(ledger.units))
            errors.append(
                RuleError("unknown_unit", f'Okänd nämnd "{code}". Kända nämnder: {known}.', "nämnd")
            )
    if len(set(measure.units)) != len(measure.units):
        errors.append(RuleError("duplicate_unit", "Samma nämnd står flera gånger.", "nämnd"))
    if (wrong_order := end_before_start(measure.start_date, measure.end_date)) is not None:
        errors.append(wrong_order)
    for value, name in ((measure.requested, "sökt belopp"), (measure.cost, "kostnad")):
        if value is not None and value <= 0:
            errors.append(
                RuleError("amount_not_positive", f"{name.capitalize()} måste vara större än 0 kr.", name)
            )
    if measure.parent_id is not None:
        parent = ledger.measures.get(measure.parent_id)
        if parent is None:
            errors.append(
                RuleError("unknown_parent", f"Huvudinsatsen {measure.parent_id} finns inte.", "del av")
            )
        elif parent.year != measure.year:
            errors.append(
                RuleError(
                    "parent_other_year",
                    f"En delaktivitet måste höra till samma år som sin huvudinsats ({parent.year}).",
                    "år",
                )
            )
    if not 2000 <= measure.year <= 2100:
        errors.append(RuleError("bad_year", f"Året {measure.year} ligger utanför 2000–2100.", "år"))
    return errors
