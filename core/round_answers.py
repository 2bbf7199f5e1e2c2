"""A round's answers as they arrive from a card or a chat: per measure a
status, spend to date, forecast for the year, whether the money can be used
as planned, a note and, for a measure linked to a competence need, how many
people it has reached so far (issue 21; optional). Each answer becomes one
follow-up entry of the round's period; the whole answer is checked before
anything is written.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from core import commands, vocabulary
from core.dates import format_date, format_period
from core.errors import DomainError, InputError, RuleError, RuleViolation
from core.forms import (
    LABEL_REACHED,
    LABEL_SPENT,
    LABEL_STATUS,
    LABEL_USABLE,
    SHOWN,
    SHOWN_REACHED,
    allowed_in,
    parse_followup,
)
from core.ledger import Ledger
from core.limits import MAX_CARD_FIELD
from core.model import FollowUp, Principal, Status
from core.rounds import Round, check_period_open
from core.rules.names import measure_name
from core.text import clean_name

FIELDS = ("status", "spent", "forecast", "usable", "note", "reached")
ANSWERING = ("status", "spent", "forecast", "reached")
"""The fields that make a measure answered when one is filled in (usable has a value on
every card, and a note alone is no answer)."""


def field_name(measure_id: int, name: str) -> str:
    """The card input id of one field of one measure: "m12_spent"."""
    return f"m{measure_id}_{name}"


@dataclass(frozen=True, slots=True)
class Answer:
    measure_id: int
    status: Status
    spent: int
    forecast: int
    usable_as_planned: bool
    note: str
    reached: int | None = None


def _text(values: Mapping[str, Any], measure_id: int, name: str, label: str) -> str:
    value = values.get(field_name(measure_id, name))
    shown = {**SHOWN, "usable": "kan användas som planerat", "note": "kommentar", "reached": SHOWN_REACHED}[
        name
    ]
    if value is None:
        return ""
    if name == "usable" and isinstance(value, bool):  # a toggle: yes or no, as on the follow-up form
        return vocabulary.YES_WORD if value else vocabulary.NO_WORD
    if isinstance(value, bool) or not isinstance(value, str | int):
        labels = {"status": LABEL_STATUS, "usable": LABEL_USABLE, "reached": LABEL_REACHED}
        allowed = allowed_in(labels.get(name, LABEL_SPENT))
        allowed = "Skriv text." if name == "note" else allowed
        raise InputError(
            RuleError("bad_card_value", f"{label}: fältet {shown} ska vara text. {allowed}", name)
        )
    text = str(value).strip()
    if name != "note" and len(text) > MAX_CARD_FIELD:  # the note's own limit: core.forms.read_note
        raise InputError(
            RuleError(
                "card_value_too_long",
                f"{label}: fältet {shown} är för långt ({len(text)} tecken, högst {MAX_CARD_FIELD}).",
                name,
            )
        )
    return text


def measures_in(values: Mapping[str, Any]) -> set[int]:
    """The measure ids a card's values answer for ("m12_spent" → 12)."""
    out = set()
    for key in values:
        if isinstance(key, str) and key.startswith("m") and "_" in key:
            number = key[1:].split("_", 1)[0]
            if number.isdigit() and len(number) < 19:
                out.add(int(number))
    return out


def parse_answers(
    ledger: Ledger,
    measure_ids: tuple[int, ...],
    values: Mapping[str, Any],
    linked: Collection[int] | None = None,
) -> list[Answer]:
    """The answers in a card's values for the measures on the card. A measure
    whose fields are all empty is left unanswered; one with some fields
    filled must have status, spend and forecast. Every problem is reported at
    once, each naming its measure; values for measures not on the card are
    refused. `linked`: the measures linked to a competence need, the only ones
    the card asks how many people they have reached (issue 21): a number of people
    for another is refused (a card never carries one; None: not checked)."""
    errors: list[RuleError] = []
    allowed = {field_name(mid, f) for mid in measure_ids for f in FIELDS}
    foreign = sorted(
        k for k in values if isinstance(k, str) and k.startswith("m") and "_" in k and k not in allowed
    )
    if foreign:
        errors.append(
            RuleError(
                "not_on_card",
                "Svaret gäller insatser som inte finns på ditt uppföljningskort. "
                "Svara bara på kortets egna insatser.",
            )
        )
    answers: list[Answer] = []
    for mid in measure_ids:
        label = measure_name(ledger, mid)
        try:
            texts = {f: _text(values, mid, f, label) for f in FIELDS}
        except DomainError as exc:
            errors.extend(exc.errors)
            continue
        if texts["reached"] and linked is not None and mid not in linked:
            errors.append(
                RuleError(
                    "reached_not_linked",
                    f"{label}: insatsen svarar inte mot något kompetensbehov, så kortet frågar inte hur "
                    "många personer den har nått, och ett antal tas inte emot för den.",
                    "reached",
                )
            )
            continue
        if not any(texts[f] for f in ANSWERING):
            continue
        parsed = parse_followup(texts, measure=label)  # the one follow-up parser, the card's wording
        if parsed.draft is None:
            errors.extend(parsed.errors)
            continue
        d = parsed.draft
        answers.append(Answer(mid, d.status, d.spent, d.forecast, d.usable_as_planned, d.note, d.reached))
    if errors:
        raise InputError(errors)
    if not answers:
        raise InputError(
            RuleError(
                "empty_answer",
                "Svaret är tomt. Fyll i status, utfall hittills och prognos för året för minst en insats.",
            )
        )
    return answers


def answers_to_followups(
    ledger: Ledger,
    who: Principal,
    round_: Round,
    answers: list[Answer],
    *,
    author: str,
    at: datetime,
    as_of: date,
    on_behalf: Mapping[int, tuple[str, str]] | None = None,
) -> list[FollowUp]:
    """Follow-up entries for the answers, each checked by the core's rules;
    refused as a whole when the round does not take answers on `as_of`
    (a closed round: by the same rule as every follow-up, core.rounds.check_period_open).
    `on_behalf` (issue 22): measure → (id, name) of the absent person the author answers it
    for as their substitute (or as who answers for them): kept in the entry's for_id and
    for_name ("lämnad av Per Persson för Anna Andersson"). Whether the author may follow the
    measure up is the core's permission all the same (a substitute's stand-in grants)."""
    on_behalf = on_behalf or {}
    closed = check_period_open((round_,), round_.period)
    if closed:
        raise RuleViolation(closed)
    if not round_.takes_answers(as_of):
        raise RuleViolation(not_taking_answers(round_, as_of))
    out: list[FollowUp] = []
    errors: list[RuleError] = []
    for a in answers:
        followup = FollowUp(
            a.measure_id,
            round_.period,
            a.status,
            a.spent,
            a.forecast,
            a.usable_as_planned,
            a.note,
            author,
            at,
            reached=a.reached,
        )
        if a.measure_id in on_behalf and on_behalf[a.measure_id][0] != who.user:
            absent, name = on_behalf[a.measure_id]
            followup = replace(followup, for_id=absent, for_name=clean_name(name, 200) or absent)
        try:
            out.append(commands.report_followup(ledger, who, followup, rounds=(round_,)))
        except DomainError as exc:
            label = measure_name(ledger, a.measure_id)
            errors.extend(RuleError(e.code, f"{label}: {e.message}", e.field) for e in exc.errors)
    if errors:
        raise RuleViolation(errors)
    return out


def not_taking_answers(round_: Round, as_of: date) -> RuleError:
    """Why a round that does not take answers on `as_of` refuses one: not open yet (when it
    opens, and until when answers are taken), or past its deadline (a late answer is
    stadskontoret's to register)."""
    plan = round_.plan
    if as_of < plan.opens:
        return RuleError(
            "round_not_open",
            f"Uppföljningen {format_period(round_.period)} har inte öppnat än. Den öppnar "
            f"{format_date(plan.opens)}, och svar kan lämnas och ändras från då till och med "
            f"{format_date(plan.deadline)}.",
        )
    return RuleError(
        "round_not_open",
        f"Uppföljningen {format_period(round_.period)} stängde för svar {format_date(plan.deadline)}. "
        "Svar kan lämnas och ändras från öppningsdagen till och med sista dag; kontakta "
        "stadskontoret om du behöver lämna ett sent svar.",
    )


# --- issue 20: an answer saved once, however often the card is sent --------------------------------

NOTHING_CHANGED = "nothing_changed"


def changed_answers(ledger: Ledger, round_: Round, answers: list[Answer]) -> list[Answer]:
    """The answers that differ from the measure's latest follow-up of the round's period (status,
    spend, forecast, usable as planned, note, people reached): a card shows the saved answers filled in, so it
    carries them again, and the same card sent twice (a double click, a retry) is the same
    answer. Refused (NOTHING_CHANGED, nothing to write) when there were answers and every one
    is the saved one. Checked in the write, under the city's write lock: of two identical
    answers at once the second sees the first."""
    latest: dict[int, FollowUp] = {}
    for f in ledger.followups:
        if f.period == round_.period:
            latest[f.measure_id] = f
    changed = []
    for a in answers:
        saved = latest.get(a.measure_id)
        same = saved is not None and (
            saved.status,
            saved.spent,
            saved.forecast,
            saved.usable_as_planned,
            saved.note,
            saved.reached,
        ) == (a.status, a.spent, a.forecast, a.usable_as_planned, a.note, a.reached)
        if not same:
            changed.append(a)
    if answers and not changed:
        raise RuleViolation(
            RuleError(
                NOTHING_CHANGED,
                "Inget är ändrat: svaren på kortet är redan sparade. Ändra ett svar och skicka igen, "
                "eller fyll i en insats som saknar svar.",
            )
        )
    return changed
