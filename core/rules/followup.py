"""Rule: a follow-up entry reports on an existing measure with sensible figures."""

from __future__ import annotations

import re

from core.errors import RuleError
from core.ledger import Ledger
from core.model import FollowUp
from core.rules.names import measure_name

MAX_NOTE = 4000


def check_followup(ledger: Ledger, followup: FollowUp) -> list[RuleError]:
    errors: list[RuleError] = []
    if followup.measure_id not in ledger.measures:
        return [
            RuleError("unknown_measure", f"Insatsen {followup.measure_id} finns inte.", "insats")
        ]
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", followup.period):
        errors.append(
            RuleError(
                "bad_period",
                f'Perioden "{followup.period}" ska skrivas ÅÅÅÅ-MM, till exempel "2025-06".',
                "period",
            )
        )
    if followup.spent < 0:
        errors.append(RuleError("negative_spent", "Utfallet kan inte vara negativt.", "utfall"))
    if followup.forecast < 0:
        errors.append(RuleError("negative_forecast", "Prognosen kan inte vara negativ.", "prognos"))
    if followup.forecast < followup.spent:
        errors.append(
            RuleError(
                "forecast_below_spent",
                "Prognosen för året kan inte vara lägre än utfallet hittills, eftersom "
                "prognosen omfattar det som redan använts.",
                "prognos",
            )
        )
    if len(followup.note) > MAX_NOTE:
        errors.append(
            RuleError(
                "note_too_long",
                f"Kommentaren är för lång ({len(followup.note)} tecken). Högst {MAX_NOTE} tecken.",
                "kommentar",
            )
        )
    measure = ledger.measures[followup.measure_id]
    if not errors and measure.year and followup.year < measure.year:
        errors.append(
            RuleError(
                "period_before_measure",
                f"Perioden {followup.period} ligger före {measure_name(ledger, measure.id)}s "
                f"år {measure.year}.",
                "period",
            )
        )
    return errors
