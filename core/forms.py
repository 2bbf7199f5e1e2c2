"""One parser per form: a follow-up and a new measure, from the raw fields as
they arrive (typed text, a card's values, a template's cells), to a draft or
every problem at once.

The chat asks one field at a time and calls the field readers (`read_period`,
`read_status`, `read_amount`, `read_note`, `read_title`, `read_text`, …);
the follow-up form and the round card call `parse_followup`, the measure form
`parse_measure`; the command line and the template read their cells with the
same readers. Every reader raises InputError; the parsers collect every
RuleError and return them together (`Parsed`). The words people type are
core.vocabulary's, the length limits core.limits'.

Two wordings: a form with one follow-up names each field ("Status saknas."); a
card with several measures (the round card: `measure` given) names the measure
first ("Mentorskap: status saknas.").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from core import vocabulary
from core.dates import PERIOD_FORMS, parse_date, parse_period, parse_start_date
from core.errors import DomainError, InputError, RuleError, echo
from core.ledger import Ledger
from core.limits import (
    MAX_DESCRIPTION,
    MAX_NOTE,
    MAX_PERFORMER,
    MAX_REACHED,
    MAX_TARGET_GROUP,
    MAX_TITLE,
    text_too_long,
    title_too_long,
)
from core.model import Category, Decision, Measure, Status, parse_decision
from core.money import format_amount, parse_amount
from core.rules.decision import DECISION_REQUIRED, MISSING_DECISION, check_new_grant_decision
from core.rules.followup import NOTE
from core.rules.measure import end_before_start, same_title
from core.rules.unit_limit import amount_fits
from core.text import clean_name, names_something, visible_text

T = TypeVar("T")

# --- the fields' names, as the forms label them (dialogs.texts uses the same) ------

LABEL_UNIT = "Nämnd"
LABEL_TITLE = "Insats"
LABEL_DESCRIPTION = "Beskrivning"
LABEL_TARGET_GROUP = "Målgrupp"
LABEL_CATEGORIES = "Strategikategori"
LABEL_START_DATE = "Startdatum"
LABEL_END_DATE = "Slutdatum"
LABEL_PERFORMER = "Utförare"
LABEL_AMOUNT = "Belopp"
LABEL_DECISION = "Beslut"
LABEL_PERIOD = "Period"
LABEL_STATUS = "Status"
LABEL_SPENT = "Utfall hittills"
LABEL_FORECAST = "Prognos för året"
LABEL_USABLE = "Kan användas som planerat"
LABEL_NOTE = NOTE  # "Kommentar": core.rules.followup says it too, and cannot import this module
LABEL_REACHED = "Personer nådda hittills"

TITLE_MISSING = "Titeln saknas."


# --- messages (a text over its limit: core.limits.text_too_long, title_too_long) ---------


def field_missing(label: str) -> RuleError:
    return RuleError("missing_field", f"{label} saknas.", label)


def field_wrong_type(label: str, hint: str | None = None) -> RuleError:
    """A field whose value is of the wrong kind (a forged card: a list, a number, a boolean),
    with what the field takes ("Belopp har fel format. Skriv ett belopp …")."""
    return RuleError("bad_field", f"{label} har fel format. {hint or allowed_in(label)}", label)


def allowed_in(label: str) -> str:
    """What a form's field takes, said to the person who sent something else."""
    amount = 'Skriv ett belopp i hela kronor, till exempel "1,5 mkr" eller "300 000 kr".'
    return {
        LABEL_UNIT: "Välj en av dina nämnder i listan.",
        LABEL_CATEGORIES: f"Välj en eller flera av: {', '.join(c.value for c in Category)}.",
        LABEL_START_DATE: 'Skriv ett datum, till exempel "2025-09-01".',
        LABEL_END_DATE: 'Skriv ett datum, till exempel "2025-12-31".',
        LABEL_AMOUNT: amount,
        LABEL_SPENT: amount,
        LABEL_FORECAST: amount,
        LABEL_PERIOD: PERIOD_FORMS,
        LABEL_STATUS: f"Välj en av: {', '.join(s.value for s in Status)}.",
        LABEL_USABLE: 'Svara "ja" eller "nej".',
        LABEL_REACHED: REACHED_ALLOWED,
    }.get(label, "Skriv text.")


def yes_no_field(label: str) -> RuleError:
    return RuleError("bad_usable", f'{label}: svara "ja" eller "nej".', label)


def forecast_below_spent(forecast: int, spent: int) -> RuleError:
    return RuleError(
        "forecast_below_spent",
        f"Prognosen {format_amount(forecast)} är lägre än utfallet hittills, {format_amount(spent)}. "
        f"Prognosen för året omfattar det som redan använts och måste vara minst {format_amount(spent)}.",
        "prognos",
    )


def unknown_category_value(value: str, names: Sequence[str]) -> RuleError:
    message = f'Okänd strategikategori "{echo(value)}". Tillåtna: {", ".join(names)}.'
    return RuleError("unknown_category", message, "kategori")


def unknown_unit_value(text: str, allowed: Sequence[str]) -> RuleError:
    """A unit code or name that no unit has; "another alphabet" when it has letters that are
    not Latin (a Cyrillic "С" in "FSKN" looks the same)."""
    lookalike = any(c.isalpha() and "LATIN" not in unicodedata.name(c, "") for c in text)
    message = f'Okänd nämnd "{echo(text)}"' + (
        " (den har bokstäver från ett annat alfabet, skriv med vanliga bokstäver)." if lookalike else "."
    )
    if allowed:
        message += f" Du kan lämna in insatser för: {', '.join(allowed)}."
    return RuleError("unknown_unit", message, "nämnd")


def unit_not_allowed(text: str, allowed: Sequence[str]) -> RuleError:
    message = (
        f'Du kan inte lämna in insatser för "{echo(text)}". Du kan lämna in för: {", ".join(allowed)}.'
        if allowed
        else f'Du kan inte lämna in insatser för "{echo(text)}".'
    )
    return RuleError("unit_not_allowed", message, "nämnd")


# --- the result -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Parsed(Generic[T]):
    """A parsed form: the draft, or every problem found (never both)."""

    draft: T | None
    errors: tuple[RuleError, ...] = ()

    @property
    def ok(self) -> bool:
        return self.draft is not None and not self.errors

    @property
    def messages(self) -> list[str]:
        return [e.message for e in self.errors]

    def unwrap(self) -> T:
        """The draft; InputError with every problem when there is none."""
        if self.draft is None or self.errors:
            raise InputError(self.errors or (RuleError("empty_form", "Formuläret är tomt."),))
        return self.draft


class Collect:
    """Runs readers over fields, keeping every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[RuleError] = []

    def __call__(self, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except DomainError as problem:
            self.errors.extend(problem.errors)
            return None


def _text_value(value: object, label: str, *, required: bool) -> str | None:
    """A field that is text: None when blank (InputError when required), InputError
    when it is not text at all (a forged card: a list, a number)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InputError(field_missing(label))
        return None
    if not isinstance(value, str):
        raise InputError(field_wrong_type(label))
    return value


def _number_or_text(value: object, label: str) -> str:
    """A required amount: text or a whole number (never a boolean or a float)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(field_missing(label))
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(field_wrong_type(label))
    return str(value)


# --- field readers (the chat asks one at a time) ------------------------------------


def read_text(text: str, label: str, limit: int) -> str:
    """An optional free text as it may be shown (core.text.visible_text: no control or
    bidi-override characters, lines kept): stripped, "" for "-", refused when longer than `limit`."""
    value = visible_text(text).strip()
    value = "" if value == vocabulary.SKIP else value
    if len(value) > limit:
        raise InputError(text_too_long(label, len(value), limit))
    return value


def read_note(text: str) -> str:
    return read_text(text, LABEL_NOTE, MAX_NOTE)


def read_title(text: str) -> str:
    """A title as kept: a clean name (core.text.clean_name) that names something
    (core.text.names_something: "-" is no title) and is not too long."""
    title = clean_name(text)
    if not names_something(title):
        raise InputError(RuleError("title_missing", TITLE_MISSING, "titel"))
    if len(title) > MAX_TITLE:
        raise InputError(title_too_long(len(title)))
    return title


def read_period(text: str, year: int | None = None, *, default: str | None = None) -> str:
    """A follow-up's period ("2025-06", "juni 2025"; with `year`, "juni" alone);
    with `default`, the words that take it ("ja", "denna månad", core.vocabulary.THIS_PERIOD)."""
    if default is not None and text.strip().lower() in vocabulary.THIS_PERIOD:
        return default
    return parse_period(text, year=year)


def read_status(text: str, field: str | None = "status", *, numbered: bool = False) -> Status:
    """A status by its name or one of its words; with `numbered` (the chat, which
    shows the statuses as a numbered list) also by its number in the list (1–4).
    Forms, cards and the template have no such list: there a digit is no status."""
    raw = text.strip()
    statuses = list(Status)
    if numbered and raw.isdigit() and 1 <= int(raw) <= len(statuses):
        return statuses[int(raw) - 1]
    try:
        return Status.parse(raw, field)
    except InputError as unknown:
        guess = status_guess(raw)
        if guess is None:
            raise
        allowed = ", ".join(s.value for s in Status)
        raise InputError(
            RuleError(
                "unknown_status",
                f'Okänd status "{echo(raw)}". Menade du {guess.value}? Skriv den status du menar: {allowed}.',
                unknown.errors[0].field,
            )
        ) from None


STATUS_GUESS = 80.0
"""How close (rapidfuzz's ratio, 0–100) a misspelt status must be to a status's word to be offered."""


def status_guess(text: str) -> Status | None:
    """The status a misspelt word most likely means ("pågånde" → Pågående, "avslutadd" → Klar),
    or None when no status word is close (core.vocabulary.STATUS_WORDS)."""
    typed = " ".join(text.casefold().replace("_", " ").replace("-", " ").split())
    if not typed or typed.isdigit():
        return None
    words = {**vocabulary.STATUS_WORDS, **vocabulary.STATUS_MORE_WORDS}
    best = process.extractOne(typed, list(words), scorer=fuzz.ratio, score_cutoff=STATUS_GUESS)
    return Status(words[best[0]]) if best is not None else None


def read_amount(text: str, field: str | None = "belopp", *, allow_zero: bool = False) -> int:
    return parse_amount(text, field=field, allow_zero=allow_zero)


REACHED_ALLOWED = (
    'Skriv antalet personer med siffror, 0 eller fler, till exempel "12" eller "12 personer"; '
    'vet du inte, lämna det tomt eller skriv "vet inte".'
)
"""What the question how many people a measure has reached takes, said with every refusal."""
_REACHED = re.compile(
    r"([0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+|[0-9]+)"
    r"(?:\s*(?:" + "|".join(re.escape(w) for w in vocabulary.PEOPLE_WORDS) + r"))?",
    re.IGNORECASE,
)


def read_reached(value: object, field: str | None = "nådda") -> int | None:
    """How many people a measure has reached so far (a follow-up's `reached`, asked for a
    measure linked to a competence need): a whole number, 0 or more, as typed ("12",
    "12 personer", " 12 ", "1 200") or a card's number; None when left empty or said not to
    be known (core.vocabulary.NOT_KNOWN: "vet inte", "hoppa över", "-"). Refused, naming
    what is allowed: a negative number, a part of one ("1,5"), words ("tolv"), more than
    core.limits.MAX_REACHED, anything else (a forged card's list or boolean)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(field_wrong_type(LABEL_REACHED))
    if isinstance(value, int):
        number, shown = value, str(value)[:40]
    else:
        typed = " ".join(value.split())
        if not typed or typed.lower().strip(".!") in vocabulary.NOT_KNOWN:
            return None
        shown = typed if len(typed) <= 40 else typed[:40] + "…"
        negative = re.fullmatch(r"[-−–]\s*[0-9][0-9 ,.]*(?:\s*\w+)?\.?", shown)
        found = _REACHED.fullmatch(typed.rstrip(".")) if len(typed) <= 200 else None
        if negative is not None:
            number = -1
        elif found is None:
            raise InputError(
                RuleError(
                    "bad_reached",
                    f'Antalet personer som insatsen nått ska vara ett heltal, inte "{echo(shown)}". '
                    + REACHED_ALLOWED,
                    field,
                )
            )
        else:
            number = int(re.sub(r"[^0-9]", "", found.group(1)))
    if number < 0:
        raise InputError(
            RuleError(
                "negative_reached",
                f'Antalet personer som insatsen nått kan inte vara negativt ("{echo(shown)}"). '
                + REACHED_ALLOWED,
                field,
            )
        )
    if number > MAX_REACHED:
        raise InputError(
            RuleError(
                "reached_too_large",
                f"Antalet personer som insatsen nått, {echo(shown)}, är fler än någon svensk kommun har "
                f"anställda: högst {MAX_REACHED:_} personer.".replace("_", " "),
                field,
            )
        )
    return number


def read_usable(value: object) -> bool | None:
    """Yes or no from a card, a cell or a typed answer (core.vocabulary); None otherwise."""
    return vocabulary.card_yes_no(value)


# --- the follow-up -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FollowUpDraft:
    """A follow-up as a form gives it, before the rules and the ledger see it.
    `period` is None on a card whose period is its round's."""

    period: str | None
    status: Status
    spent: int
    forecast: int
    usable_as_planned: bool
    note: str
    reached: int | None = None
    """How many people the measure has reached so far, when given (issue 21)."""


SHOWN = {"status": "status", "spent": "utfall hittills", "forecast": "prognos för året"}
"""The round card's names of its required fields, as its refusals say them."""
SHOWN_REACHED = "personer nådda hittills"
"""The round card's name of its optional people-reached field, as its refusals say it."""


def parse_followup(
    fields: Mapping[str, object], *, year: int | None = None, measure: str | None = None
) -> Parsed[FollowUpDraft]:
    """A follow-up from its fields "period", "status", "spent", "forecast",
    "usable", "note" and "reached" (text; an amount and reached may be a whole
    number, usable a boolean; reached, how many people the measure has reached
    so far, may be left out: `read_reached`). `year`: the year a month's name
    alone ("juni") is of.

    `measure`: the measure's name on a card with several measures (the round
    card): the period is the round's (not read), usable may be left out (yes),
    every message names the measure first, and a forecast below the spend is
    left to the rule (core.rules.followup), which the round asks after it has
    checked that it takes answers."""
    collect = Collect()
    card = measure is not None
    where = f"{measure}: " if card else ""

    def named(errors: Sequence[RuleError], prefix: str) -> list[RuleError]:
        return [RuleError(e.code, f"{prefix}{e.message}", e.field) for e in errors]

    period = None
    if not card:
        period = collect(
            lambda: parse_period(
                _text_value(fields.get("period"), LABEL_PERIOD, required=True) or "", year=year
            )
        )

    def status() -> Status:
        if card:
            text = str(fields.get("status") or "").strip()
            if not text:
                raise InputError(RuleError("missing_field", f"{where}status saknas.", "status"))
            try:
                return read_status(text, f"{measure}: status")
            except DomainError as bad:
                raise InputError(named(bad.errors, where)) from None
        return read_status(_text_value(fields.get("status"), LABEL_STATUS, required=True) or "")

    def amount(key: str, label: str, field: str) -> Callable[[], int]:
        def read() -> int:
            if card:
                text = str(fields.get(key) or "").strip()
                if not text:
                    raise InputError(RuleError("missing_field", f"{where}{SHOWN[key]} saknas.", key))
                try:
                    return read_amount(text, f"{measure}: {field}", allow_zero=True)
                except DomainError as bad:
                    raise InputError(named(bad.errors, f"{measure}, {SHOWN[key]}: ")) from None
            return read_amount(_number_or_text(fields.get(key), label), field, allow_zero=True)

        return read

    status_value = collect(status)
    spent = collect(amount("spent", LABEL_SPENT, "utfall"))
    forecast = collect(amount("forecast", LABEL_FORECAST, "prognos"))
    if not card and spent is not None and forecast is not None and forecast < spent:
        # The round card leaves this to the rule (core.rules.followup.check_followup), which
        # answers after the round's own checks, so a closed round says it is closed first.
        collect.errors.append(forecast_below_spent(forecast, spent))

    raw_usable = fields.get("usable")
    usable = read_usable(raw_usable)
    if usable is None and card and (raw_usable is None or not str(raw_usable).strip()):
        usable = True  # the round card: left empty is "ja"
    elif usable is None and card:
        collect.errors.append(
            RuleError(
                "bad_usable",
                f'{measure}: svara "ja" eller "nej" på om medlen kan användas som planerat, '
                f'inte "{echo(str(raw_usable))}".',
                measure,
            )
        )
    elif usable is None:
        collect.errors.append(yes_no_field(LABEL_USABLE))

    def note_of(text: str) -> str:
        try:
            return read_note(text)  # "-" is no note on every form and card, as in the chat
        except DomainError as bad:
            raise InputError(named(bad.errors, where)) from None

    raw_note = fields.get("note")
    note: str | None = ""
    if raw_note is not None and not isinstance(raw_note, str):
        collect.errors.append(field_wrong_type(LABEL_NOTE))
    elif isinstance(raw_note, str):
        note = collect(lambda: note_of(raw_note))

    def reached_of() -> int | None:
        try:
            return read_reached(fields.get("reached"))
        except DomainError as bad:
            raise InputError(named(bad.errors, f"{measure}, {SHOWN_REACHED}: " if card else "")) from None

    reached = collect(reached_of)

    complete = None not in (status_value, spent, forecast, usable, note) and (card or period is not None)
    if collect.errors or not complete:
        return Parsed(None, tuple(collect.errors))
    assert status_value is not None and spent is not None and forecast is not None
    assert usable is not None and note is not None
    return Parsed(FollowUpDraft(period, status_value, spent, forecast, usable, note, reached))


# --- the measure ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeasureDraft:
    """A new measure as a form gives it, checked against the ledger: its unit (a
    code the person may submit for), clean title, texts, categories, dates,
    performer, the amount asked of the unit's money, and the decision granting it."""

    unit: str
    title: str
    description: str
    target_group: str
    categories: tuple[Category, ...]
    start: date | None
    end: date
    performer: str
    amount: int
    year: int
    decision: Decision


@dataclass(frozen=True, slots=True)
class MeasureContext:
    """What a new measure is checked against: the ledger, the units the person may
    submit for (codes), the money's year and today (the bot's date)."""

    ledger: Ledger
    allowed: Sequence[str]
    year: int
    today: date


def read_unit(context: MeasureContext, text: str) -> str:
    """A unit the person may submit for, by code or name (any case: "fskn" is FSKN)."""
    key = text.strip().casefold()
    found = next(
        (u for u in context.ledger.units.values() if key in (u.code.casefold(), u.name.casefold())), None
    )
    if found is None:
        raise InputError(unknown_unit_value(text, context.allowed))
    if found.code not in context.allowed:
        raise InputError(unit_not_allowed(text, context.allowed))
    return found.code


def title_taken(ledger: Ledger, title: str, year: int) -> list[RuleError]:
    """The core's refusal when the year already has a measure of this title."""
    return same_title(ledger, Measure(id=0, title=clean_name(title), units=(), year=year))


def read_decision(ledger: Ledger, text: str, unit: str, today: date, year: int | None = None) -> Decision:
    """The decision typed for a unit's new money (its body defaults to the unit),
    refused when unreadable, another committee's or not yet taken (and, with the
    money's `year`, implausible for it)."""
    return read_shared_decision(ledger, text, (unit,), today, year)


def read_shared_decision(
    ledger: Ledger,
    text: str,
    units: Sequence[str],
    today: date,
    year: int | None = None,
    field: str | None = "beslut",
) -> Decision:
    """read_decision for a new measure's money shared by `units` (the command line's
    add-measure takes several): each unit's share is checked, and the body defaults to
    the unit only when there is one. Each problem is named once."""
    default_body = units[0] if len(units) == 1 else None
    decision = parse_decision(text, field, default_body=default_body, units=ledger.units.values())
    problems = [p for unit in units for p in check_new_grant_decision(ledger, decision, unit, today, year)]
    if problems:
        raise InputError(list(dict.fromkeys(problems)))
    return decision


def read_card_categories(value: object) -> tuple[Category, ...]:
    """A card's multi-select: Category names joined by commas (anything else is forged)."""
    if value is None or value == "":
        return ()
    if not isinstance(value, str):
        raise InputError(field_wrong_type(LABEL_CATEGORIES))
    names = [c.value for c in Category]
    found: list[Category] = []
    for part in value.split(","):
        category = Category.__members__.get(part.strip())
        if category is None:
            raise InputError(unknown_category_value(part.strip()[:60], names))
        if category not in found:
            found.append(category)
    return tuple(c for c in Category if c in found)


def parse_measure(fields: Mapping[str, object], context: MeasureContext) -> Parsed[MeasureDraft]:
    """A new measure from the form's fields "unit", "title", "description",
    "target_group", "categories", "start_date", "end_date", "performer", "amount"
    and "decision", checked against `context`: every problem at once."""
    collect = Collect()

    def optional(key: str, label: str, limit: int) -> str:
        value = _text_value(fields.get(key), label, required=False)
        return read_text(value, label, limit) if value is not None else ""

    unit_text = collect(lambda: _text_value(fields.get("unit"), LABEL_UNIT, required=True))
    unit = collect(lambda: read_unit(context, unit_text)) if unit_text is not None else None

    def title_value() -> str | None:
        value = fields.get("title")
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InputError(RuleError("title_missing", TITLE_MISSING, "titel"))  # as the chat says it
        return _text_value(value, LABEL_TITLE, required=True)

    title_text = collect(title_value)
    title = None
    if title_text is not None:
        title = collect(lambda: read_title(title_text))
        if title is not None and (taken := title_taken(context.ledger, title, context.year)):
            collect.errors.append(taken[0])
            title = None
    description = collect(lambda: optional("description", LABEL_DESCRIPTION, MAX_DESCRIPTION))
    target_group = collect(lambda: optional("target_group", LABEL_TARGET_GROUP, MAX_TARGET_GROUP))
    performer = collect(lambda: optional("performer", LABEL_PERFORMER, MAX_PERFORMER))
    categories = collect(lambda: read_card_categories(fields.get("categories")))
    start_text = collect(lambda: _text_value(fields.get("start_date"), LABEL_START_DATE, required=False))
    start = collect(lambda: parse_start_date(start_text, context.today)) if start_text else None
    end_text = collect(lambda: _text_value(fields.get("end_date"), LABEL_END_DATE, required=True))
    end = collect(lambda: parse_date(end_text, context.today, field="slutdatum")) if end_text else None
    if (wrong := end_before_start(start, end)) is not None:
        collect.errors.append(wrong)
    amount = collect(lambda: read_amount(_number_or_text(fields.get("amount"), LABEL_AMOUNT)))
    if (
        unit is not None
        and amount is not None
        and (over := amount_fits(context.ledger, unit, context.year, amount))
    ):
        collect.errors.extend(over)
        amount = None
    decision = None  # issue 17 item 3: no measure is saved without its decision
    raw_decision = fields.get("decision")
    decision_text = raw_decision if isinstance(raw_decision, str) and raw_decision.strip() else None
    if decision_text is None or vocabulary.says_no_decision(decision_text):
        collect.errors.append(RuleError(MISSING_DECISION, DECISION_REQUIRED, "beslut"))
    elif unit is not None:
        decision = collect(
            lambda: read_decision(context.ledger, decision_text, unit, context.today, context.year)
        )
    if collect.errors:
        return Parsed(None, tuple(collect.errors))
    if None in (unit, title, description, target_group, performer, categories, end, amount, decision):
        return Parsed(None, tuple(collect.errors))
    assert unit is not None and title is not None and end is not None and amount is not None
    assert description is not None and target_group is not None and performer is not None
    assert categories is not None and decision is not None
    return Parsed(
        MeasureDraft(
            unit=unit,
            title=title,
            description=description,
            target_group=target_group,
            categories=categories,
            start=start,
            end=end,
            performer=clean_name(performer),
            amount=amount,
            year=context.year,
            decision=decision,
        )
    )
