"""Rule: a follow-up entry reports on an existing measure with sensible figures."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date

from core.dates import format_period
from core.errors import RuleError
from core.ledger import Ledger, split_exact
from core.limits import MAX_NOTE, text_too_long
from core.model import FollowUp, Status
from core.money import format_amount as kr
from core.rules.names import measure_name

NOTE = "Kommentar"
"""The note's label in a refusal: core.forms.LABEL_NOTE (which is this; the forms import
the rules, so the rules cannot import the forms)."""


def check_followup(ledger: Ledger, followup: FollowUp) -> list[RuleError]:
    errors: list[RuleError] = []
    if followup.measure_id not in ledger.measures:
        return [RuleError("unknown_measure", f"Insatsen {followup.measure_id} finns inte.", "insats")]
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
    if followup.reached is not None and followup.reached < 0:
        errors.append(
            RuleError(
                "negative_reached",
                "Antalet personer som insatsen nått kan inte vara negativt. Skriv 0 eller fler.",
                "nådda",
            )
        )
    if followup.reached and followup.status == Status.NOT_STARTED:
        errors.append(
            RuleError(
                "reached_not_started",
                f"En insats som inte har påbörjats kan inte ha nått några personer ({followup.reached}). "
                "Ange status Pågående eller Klar, eller lämna antalet tomt eller 0.",
                "nådda",
            )
        )
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
        errors.append(text_too_long(NOTE, len(followup.note), MAX_NOTE))  # the forms' wording
    if not errors:
        errors += check_period_for_measure(ledger, followup.measure_id, followup.period)
    return errors


def check_period_for_measure(ledger: Ledger, measure_id: int, period: str) -> list[RuleError]:
    """A follow-up's period ("YYYY-MM") is not before its measure's year: the chat
    asks it at the period step (tryout 2 item 8), the write checks it again."""
    measure = ledger.measures.get(measure_id)
    if measure is not None and measure.year and int(period[:4]) < measure.year:
        return [
            RuleError(
                "period_before_measure",
                f"Perioden {period} ligger före insatsens år: "
                f"{measure_name(ledger, measure.id)} gäller {measure.year}.",
                "period",
            )
        ]
    return []


# --- Tryout finding A: no follow-up of a period that has not begun ---------------

PERIOD_NOT_BEGUN = "period_not_begun"


def check_period_begun(period: str, today: date) -> list[RuleError]:
    """The rule: a follow-up reports on a month ("YYYY-MM") that has begun by
    the bot's today; a later month has nothing to report yet. (A malformed
    period is check_followup's to name.)"""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        return []
    begins = date(int(period[:4]), int(period[5:7]), 1)
    if begins <= today:
        return []
    latest = f"{today.year:04d}-{today.month:02d}"
    return [
        RuleError(
            PERIOD_NOT_BEGUN,
            f"Perioden {period} ({format_period(period)}) har inte börjat än, så det finns inget att "
            f"följa upp. Ange en period som har börjat: {latest} eller tidigare.",
            "period",
        )
    ]


# --- Issue 17 item 4: implausible amounts ---------------------------------------

IMPLAUSIBLE_FACTOR = 2
"""Spend or forecast over this many times the measure's money (a unit's share of
a shared measure) is implausible: it needs an explicit confirmation."""

IMPLAUSIBLE = "implausible_amount"


def measure_money(ledger: Ledger, measure_id: int, year: int) -> dict[str, int]:
    """The measure's money in `year`, per unit (one unit: one share): what it was
    granted and moved to it. A part without money of its own (a sub-measure)
    is measured against its parent's money. Empty when there is no money to
    compare with."""
    measure = ledger.measures.get(measure_id)
    while measure is not None:
        money = ledger.measure_allocated(measure.id, year)
        if money > 0:
            weights = sorted(ledger.shares(measure.id, year).items())
            return split_exact(money, weights)
        measure = ledger.measures.get(measure.parent_id) if measure.parent_id else None
    return {}


def implausible_amounts(ledger: Ledger, followup: FollowUp) -> list[RuleError]:
    """The rule: a follow-up whose spend or forecast is more than twice the
    measure's money (for a shared measure: more than twice a unit's share,
    counting the unit's part of the figure as the ledger splits it) is
    implausible. Each error names the amount and the money it was compared
    with. Callers ask for a confirmation (chat), refuse (cards) or need a flag
    (command line); see core.commands.report_followup."""
    if followup.measure_id not in ledger.measures:
        return []
    money = measure_money(ledger, followup.measure_id, followup.year)
    if not money:
        return []
    total = sum(money.values())
    name = measure_name(ledger, followup.measure_id)
    weights = sorted(money.items())
    errors: list[RuleError] = []
    figures = (("Utfallet", "utfall", followup.spent), ("Prognosen", "prognos", followup.forecast))
    for label, field, amount in figures:
        parts = split_exact(amount, weights)
        over = [u for u, share in weights if parts[u] > IMPLAUSIBLE_FACTOR * share]
        if not over:
            continue
        if len(money) == 1:
            message = f"{label} {kr(amount)} är mer än dubbelt så mycket som medlen för {name}, {kr(total)}."
        else:
            unit = over[0]
            message = (
                f"{label} {kr(amount)} är mer än dubbelt så mycket som medlen för {name}: "
                f"{unit}:s andel är {kr(money[unit])} av {kr(total)}, men {unit}:s del av "
                f"{label.lower()} blir {kr(parts[unit])}."
            )
        errors.append(RuleError(IMPLAUSIBLE, message, field))
    return errors


def money_exceeded(ledger: Ledger, followup: FollowUp) -> int | None:
    """The measure's money in the follow-up's year (all its units' shares together) when the
    forecast is more than it, else None (and None without money to compare with: a city
    without a fund). Below `implausible_amounts`' twice the money nobody is asked, but the
    summary and the receipt say it (a stranger's 7 000 000 kr forecast on 6 000 000 kr
    passed without a word)."""
    if followup.measure_id not in ledger.measures:
        return None
    money = sum(measure_money(ledger, followup.measure_id, followup.year).values())
    return money if money and followup.forecast > money else None


def reached_exceeds(reached: int | None, people: int | None) -> bool:
    """Whether a measure says it has reached more people than the competence needs it answers
    concern (`people`: core.rounds.CardNeeds.people, None when not known): asked about in the
    chat, noted on the cards; never refused (a measure may reach others too)."""
    return reached is not None and people is not None and reached > people


def is_implausible(errors: list[RuleError]) -> bool:
    """Whether a refusal is (only) the implausible-amount rule's."""
    return bool(errors) and all(e.code == IMPLAUSIBLE for e in errors)


# --- Issue 17 item 6: figures "hittills" on a day ----------------------------------


def reported_on(followup: FollowUp) -> date:
    """The day a follow-up was reported (its time stamp's date, UTC)."""
    at = followup.at
    return (at.astimezone(UTC) if at.tzinfo is not None else at).date()


def last_reported(ledger: Ledger) -> date | None:
    """The day the ledger's latest follow-up was reported (None without follow-ups)."""
    return max((reported_on(f) for f in ledger.followups), default=None)


def reported_after(ledger: Ledger, day: date) -> bool:
    """Whether the ledger holds a follow-up reported after `day`."""
    return any(reported_on(f) > day for f in ledger.followups)


def known_on(ledger: Ledger, day: date) -> Ledger:
    """The rule for figures "hittills" (spent, forecast, status) on `day`: only
    the follow-ups reported on or before that day count. With the bot's date
    set to 2025-06-05, the June follow-ups reported 10-18 June are not yet
    spent."""
    if not reported_after(ledger, day):
        return ledger
    return replace(ledger, followups=tuple(f for f in ledger.followups if reported_on(f) <= day))
