"""Adaptive Cards (schema 1.5) as plain dicts: the funds table, the measure card,
the two forms and their summaries and receipts.

Only well-known element types are used (TextBlock, FactSet, ColumnSet, Column,
Container, Input.Text, Input.Date, Input.ChoiceSet, Action.Submit), so Teams
and every other Adaptive Card host render them. Every Input.* id is unique
within its card. What a form submits is checked again on the server: the
card only makes typing easier. Text that people typed (titles, descriptions,
notes, names) is given to these functions as it is and escaped here
(texts.plain), so it shows as itself, never as a link or formatting; text that
dialogs.texts made (sources, the latest follow-up) is escaped there. Each
form's submit action carries a one-time token ("once"), so one card saves at
most once however often it is sent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from microsoft_agents.activity import Attachment
from microsoft_agents.hosting.core import CardFactory

from core.balances import FundBalance, UnitBalance
from core.dates import format_period
from core.limits import MAX_DECISION, MAX_DESCRIPTION, MAX_NOTE, MAX_PERFORMER, MAX_TARGET_GROUP, MAX_TITLE
from core.model import Category, Status
from core.rounds import CardNeeds
from dialogs import texts

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
MAX_CARD_BYTES = 60_000
"""A card's JSON is kept well below the 80 KB a Teams message may hold (text comes on top)."""
MAX_ROWS = 40
MAX_CHOICES = 100

SUBMIT_MEASURE_ACTION = "submit_measure"
FOLLOWUP_ACTION = "followup"

Card = dict[str, Any]


def card(
    body: list[dict[str, Any]],
    actions: list[dict[str, Any]] | None = None,
    *,
    refresh: dict[str, Any] | None = None,
) -> Card:
    """A card of `body` and `actions`; `refresh` (Universal Actions, see `refresh`) makes
    Teams ask the bot for the card again, for the people it names, whenever it is shown."""
    result: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        result["actions"] = actions
    if refresh:
        result["refresh"] = refresh
    size = len(json.dumps(result, ensure_ascii=False).encode("utf-8"))
    if size > MAX_CARD_BYTES:
        raise ValueError(f"card of {size} bytes is too large")
    return result


class SentCard(dict[str, Any]):
    """A card handed to the SDK to send. The SDK deep-copies every outgoing
    activity (TurnContext.send_activities), attachments and all; a card is
    never changed once built, so its copy is the card itself."""

    def __deepcopy__(self, memo: dict[int, Any]) -> SentCard:
        return self


def attachment(content: Card) -> Attachment:
    return CardFactory.adaptive_card(SentCard(content))


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _title(text: str) -> dict[str, Any]:
    return _text(text, size="Medium", weight="Bolder")


def _facts(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": t, "value": v} for t, v in pairs]}


def _row(cells: Sequence[str], *, bold: bool = False, separator: bool = False) -> dict[str, Any]:
    columns = []
    for i, cell in enumerate(cells):
        block = _text(cell, horizontalAlignment="Left" if i == 0 else "Right")
        if bold:
            block["weight"] = "Bolder"
        columns.append({"type": "Column", "width": "stretch" if i == 0 else "auto", "items": [block]})
    row: dict[str, Any] = {"type": "ColumnSet", "columns": columns}
    if separator:
        row["separator"] = True
    return row


# --- funds -----------------------------------------------------------------------


def _unit_cells(u: UnitBalance) -> list[str]:
    return [
        f"{texts.plain(u.name)} ({texts.plain(u.code)})",
        texts.kr(u.allocated),
        texts.kr(u.spent),
        texts.kr(u.forecast),
        texts.kr(u.remaining),
    ]


def funds_card(
    balance: FundBalance,
    *,
    title: str,
    sources: Sequence[str] = (),
    whole_fund: bool = False,
    details: Sequence[str] = (),
) -> Card:
    """A table: one row per unit (allocated, spent, forecast, remaining), a total row,
    `details` (texts.unit_details, texts.fund_details: each figure with its decision)
    and the sources of the figures. The card is the whole answer: the message's text
    beside it is one line."""
    header = [
        texts.LABEL_UNIT,
        texts.LABEL_ALLOCATED,
        texts.LABEL_SPENT,
        texts.LABEL_FORECAST,
        texts.LABEL_REMAINING,
    ]
    body: list[dict[str, Any]] = [_title(title), _row(header, bold=True)]
    units = list(balance.units)
    body.extend(_row(_unit_cells(u), separator=i == 0) for i, u in enumerate(units[:MAX_ROWS]))
    if len(units) > MAX_ROWS:
        body.append(_text(texts.list_more(len(units) - MAX_ROWS), isSubtle=True))
    if len(units) > 1:
        total = [
            texts.LABEL_TOTAL,
            texts.kr(sum(u.allocated for u in units)),
            texts.kr(sum(u.spent for u in units)),
            texts.kr(sum(u.forecast for u in units)),
            texts.kr(sum(u.remaining for u in units)),
        ]
        body.append(_row(total, bold=True, separator=True))
    if details:
        body.extend(_text(line, separator=i == 0) for i, line in enumerate(details))
    elif len(units) == 1:
        u = units[0]
        body.append(
            _facts(
                [
                    (texts.LABEL_UNALLOCATED, texts.kr(u.unallocated)),
                    (texts.LABEL_REMAINING_FORECAST, texts.kr(u.remaining_forecast)),
                ]
            )
        )
    if whole_fund and not details:
        fund = texts.kr(balance.total) if balance.decided else texts.FUND_NOT_DECIDED
        body.append(_facts([(texts.LABEL_FUND, fund)]))
    if sources:
        body.append(_text(texts.LABEL_SOURCES, weight="Bolder", separator=True))
        body.extend(_text(s, isSubtle=True, spacing="None") for s in sources[:MAX_ROWS])
    return card(body)


# --- one measure ------------------------------------------------------------------


def measure_card(
    *,
    title: str,
    measure_id: int,
    units: Sequence[str],
    status: Status,
    overdue: bool,
    end: date | None,
    allocated: int,
    spent: int,
    forecast: int,
    funding_refs: Sequence[str],
    shares: Sequence[tuple[str, int]],
    followup_text: str | None,
) -> Card:
    facts = [
        (texts.LABEL_STATUS, texts.status_word(status, overdue)),
        (texts.LABEL_UNITS if len(units) > 1 else texts.LABEL_UNIT, texts.plain(", ".join(units))),
        (texts.LABEL_ID, str(measure_id)),
    ]
    if end:
        facts.append((texts.LABEL_END_DATE, texts.day(end)))
    facts += [
        (texts.LABEL_ALLOCATED, texts.kr(allocated)),
        (texts.LABEL_SPENT, texts.kr(spent)),
        (texts.LABEL_FORECAST, texts.kr(forecast)),
        (texts.LABEL_REMAINING, texts.kr(allocated - spent)),
        (texts.LABEL_REMAINING_FORECAST, texts.kr(allocated - forecast)),
    ]
    if funding_refs:
        facts.append((texts.LABEL_DECISION, texts.decision_fact(funding_refs)))
    body: list[dict[str, Any]] = [_title(texts.plain(title))]
    if overdue:
        body.append(_text(texts.overdue_note(end), color="Attention"))
    body.append(_facts(facts))
    if len(shares) > 1:
        body.append(_text(texts.LABEL_SHARES, weight="Bolder"))
        body.append(_facts([(texts.plain(code), texts.kr(amount)) for code, amount in shares]))
    if followup_text:
        body.append(_text(followup_text, isSubtle=True, separator=True))
    return card(body)


# --- forms ------------------------------------------------------------------------


def _input_text(
    id_: str,
    label: str,
    *,
    placeholder: str = "",
    value: str = "",
    multiline: bool = False,
    max_length: int | None = None,
    required: bool = False,
    missing: str | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "Input.Text", "id": id_, "label": label}
    if placeholder:
        element["placeholder"] = placeholder
    if value:
        element["value"] = value
    if multiline:
        element["isMultiline"] = True
    if max_length:
        element["maxLength"] = max_length
    if required:
        element["isRequired"] = True
        element["errorMessage"] = missing or texts.field_missing(label)
    return element


def _choice_set(
    id_: str, label: str, choices: Sequence[tuple[str, str]], *, value: str = "", placeholder: str = ""
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": id_,
        "label": label,
        "style": "compact",
        "isRequired": True,
        "errorMessage": texts.field_missing(label),
        "choices": [{"title": t, "value": v} for v, t in choices[:MAX_CHOICES]],
    }
    if value:
        element["value"] = value
    if placeholder:
        element["placeholder"] = placeholder
    return element


NO_NEED_VALUE = "inget"
"""The measure form's "no need" choice (issue 21): the measure is linked to none."""


def submit_measure_form(
    units: Sequence[tuple[str, str]],
    *,
    default_unit: str = "",
    values: Mapping[str, str] | None = None,
    needs: Sequence[tuple[str, str]] = (),
) -> Card:
    """The measure form: unit (the user's own), title, description, target group,
    strategy categories, start and end date, performer, amount, and the decision. `default_unit`:
    the unit the chat has settled (none: the person chooses); `values`: what is
    settled of the rest, by input id (dates "YYYY-MM-DD", categories their names
    joined by commas), so that the form starts from it. `needs` (issue 21): the needs the
    measure may answer (id, label), asked optionally after the decision; none: not asked."""
    body = [
        _title(texts.SUBMIT_FORM_TITLE),
        _choice_set(
            "unit",
            texts.LABEL_UNIT,
            [(code, f"{name} ({code})") for code, name in units],
            value=default_unit,
            placeholder=texts.CHOOSE_UNIT,
        ),
        _input_text(
            "title",
            texts.LABEL_TITLE,
            placeholder=texts.PLACEHOLDER_TITLE,
            max_length=MAX_TITLE,
            required=True,
            missing=texts.TITLE_MISSING,  # as the chat and the server say it
        ),
        _input_text(
            "description",
            texts.LABEL_DESCRIPTION,
            placeholder=texts.PLACEHOLDER_DESCRIPTION,
            multiline=True,
            max_length=MAX_DESCRIPTION,
        ),
        _input_text(
            "target_group",
            texts.LABEL_TARGET_GROUP,
            placeholder=texts.PLACEHOLDER_TARGET_GROUP,
            max_length=MAX_TARGET_GROUP,
        ),
        {
            "type": "Input.ChoiceSet",
            "id": "categories",
            "label": texts.LABEL_CATEGORIES,
            "isMultiSelect": True,
            "style": "expanded",
            "choices": [{"title": c.value, "value": c.name} for c in Category],
        },
        {"type": "Input.Date", "id": "start_date", "label": texts.LABEL_START_DATE},
        {
            "type": "Input.Date",
            "id": "end_date",
            "label": texts.LABEL_END_DATE,
            "isRequired": True,
            "errorMessage": texts.field_missing(texts.LABEL_END_DATE),
        },
        _input_text(
            "performer",
            texts.LABEL_PERFORMER,
            placeholder=texts.PLACEHOLDER_PERFORMER,
            max_length=MAX_PERFORMER,
        ),
        _input_text("amount", texts.LABEL_AMOUNT, placeholder=texts.PLACEHOLDER_AMOUNT, required=True),
        _input_text(  # issue 17 item 3: money is granted only by a decision
            "decision",
            texts.LABEL_DECISION,
            placeholder=texts.PLACEHOLDER_DECISION,
            max_length=MAX_DECISION,
            required=True,
        ),
    ]
    if needs:  # issue 21: optional; the server checks that the need is the chosen unit's
        body.append(
            {
                "type": "Input.ChoiceSet",
                "id": "need",
                "label": texts.LABEL_NEED,
                "style": "compact",
                "placeholder": texts.CHOOSE_NEED,
                "value": NO_NEED_VALUE,
                "choices": [
                    *({"title": title, "value": key} for key, title in needs[: MAX_CHOICES - 1]),
                    {"title": texts.NO_NEED, "value": NO_NEED_VALUE},
                ],
            }
        )
    for element in body:
        if values and values.get(element.get("id", "")):
            element["value"] = values[element["id"]]
    actions = [
        {
            "type": "Action.Submit",
            "title": texts.SUBMIT_BUTTON,
            "data": {"action": SUBMIT_MEASURE_ACTION, "once": uuid.uuid4().hex},
        }
    ]
    return card(body, actions)


def followup_form(
    measures: Sequence[tuple[int, str]],
    *,
    period: str,
    measure_id: int | None = None,
    needs: Mapping[int, CardNeeds] | None = None,
    titles: Mapping[int, str] | None = None,
) -> Card:
    """The follow-up form: measure, period, status, spent, forecast, usable, note, and (issue
    21) how many people the measure has reached so far, asked only where it applies. `needs`:
    the competence needs of those of `measures` linked to any (core.rounds.card_needs);
    `titles`: the measures' titles as typed, to name the linked ones. With `measure_id` chosen,
    the field is there only when that measure is linked, under a line naming its needs, as
    on the round card; with the measure still to choose, it is there when any listed measure
    is linked, under a line saying it is for those only and naming them (the server refuses a
    number for a measure that answers no need)."""
    needs = needs or {}
    linked = [i for i, _ in measures if needs.get(i)]
    body = [
        _title(texts.FOLLOWUP_FORM_TITLE),
        _choice_set(
            "measure_id",
            texts.LABEL_TITLE,
            [(str(i), label) for i, label in measures],
            value=str(measure_id) if measure_id else "",
            placeholder=texts.CHOOSE_MEASURE,
        ),
        _input_text(
            "period", texts.LABEL_PERIOD, placeholder=texts.PLACEHOLDER_PERIOD, value=period, required=True
        ),
        _choice_set(
            "status", texts.LABEL_STATUS, [(s.value, s.value) for s in Status], value=Status.ONGOING.value
        ),
        _input_text("spent", texts.LABEL_SPENT_LONG, placeholder=texts.PLACEHOLDER_AMOUNT, required=True),
        _input_text(
            "forecast", texts.LABEL_FORECAST_LONG, placeholder=texts.PLACEHOLDER_AMOUNT, required=True
        ),
        *_reached_field(measure_id, linked, needs, titles or {}),
        _choice_set("usable", texts.LABEL_USABLE, [(texts.YES, "Ja"), (texts.NO, "Nej")], value=texts.YES),
        _input_text(
            "note", texts.LABEL_NOTE, placeholder=texts.PLACEHOLDER_NOTE, multiline=True, max_length=MAX_NOTE
        ),
    ]
    actions = [
        {
            "type": "Action.Submit",
            "title": texts.SAVE_FOLLOWUP_BUTTON,
            "data": {"action": FOLLOWUP_ACTION, "once": uuid.uuid4().hex},
        }
    ]
    return card(body, actions)


def _reached_field(
    measure_id: int | None, linked: Sequence[int], needs: Mapping[int, CardNeeds], titles: Mapping[int, str]
) -> list[dict[str, Any]]:
    """The follow-up form's people-reached field with the line above it (see followup_form),
    or nothing where no measure it may be for is linked to a need."""
    if measure_id is not None and measure_id in linked:
        mine = needs[measure_id]
        names = [texts.need_name(n.role, n.kind.value, n.key) for n in mine.shown]
        line = texts.round_card_needs(names, mine.others)
    elif measure_id is None and linked:
        line = texts.followup_form_reached_hint(
            [(titles.get(i, str(i)), [n.key for n in needs[i].shown]) for i in linked]
        )
    else:
        return []
    return [
        _text(line, isSubtle=True, size="Small"),
        _input_text(
            "reached", texts.ROUND_REACHED_QUESTION, placeholder=texts.PLACEHOLDER_REACHED, max_length=40
        ),
    ]


# --- summaries and receipts ---------------------------------------------------------


def measure_summary(
    *,
    heading: str,
    unit: str,
    title: str,
    description: str,
    end: date,
    amount: int,
    target_group: str = "",
    categories: Sequence[Category] = (),
    start: date | None = None,
    performer: str = "",
    measure_id: int | None = None,
    decision: str | None = None,
    warnings: Sequence[str] = (),
    need: str | None = None,
) -> Card:
    """`warnings`: what to look at again before saving (plain text, escaped here); `need`: the
    need the measure answers (issue 21), as its choice is labelled."""
    facts = []
    if measure_id is not None:
        facts.append((texts.LABEL_ID, str(measure_id)))
    facts += [
        (texts.LABEL_UNIT, texts.plain(unit)),
        (texts.LABEL_TITLE, texts.plain(title)),
        (texts.LABEL_DESCRIPTION, texts.plain(description) or "–"),
        (texts.LABEL_TARGET_GROUP, texts.plain(target_group) or "–"),
        (texts.LABEL_CATEGORIES, texts.categories_text([c.value for c in categories])),
        (texts.LABEL_START_DATE, texts.day(start) if start else "–"),
        (texts.LABEL_END_DATE, texts.day(end)),
        (texts.LABEL_PERFORMER, texts.plain(performer) or "–"),
        (texts.LABEL_AMOUNT, texts.kr(amount)),
    ]
    if decision:
        facts.append((texts.LABEL_DECISION, texts.plain(decision)))
    if need:
        facts.append((texts.LABEL_NEED, texts.plain(need)))
    notes = [_text(f"{texts.LABEL_NOTE_DATES}: {texts.plain(w)}", color="Attention") for w in warnings]
    return card([_title(heading), *notes, _facts(facts)])


def followup_summary(
    *,
    heading: str,
    title: str,
    period: str,
    status: str,
    spent: int,
    forecast: int,
    usable: bool,
    note: str,
    seq: int | None = None,
    author: str | None = None,
    reached: int | None = None,
    warnings: Sequence[str] = (),
) -> Card:
    """A follow-up as the chat confirms it and its receipt; `reached`: how many people the
    measure has reached so far, shown when given (issue 21); `warnings`: what is unusual
    but kept (texts.forecast_over_money, texts.reached_over_people: our words and figures)."""
    facts = [
        (texts.LABEL_TITLE, texts.plain(title)),
        (texts.LABEL_PERIOD, format_period(period)),
        (texts.LABEL_STATUS, texts.plain(status)),
        (texts.LABEL_SPENT_LONG, texts.kr(spent)),
        (texts.LABEL_FORECAST_LONG, texts.kr(forecast)),
        (texts.LABEL_USABLE, texts.yes_no(usable)),
        *([(texts.LABEL_REACHED, texts.people(reached))] if reached is not None else []),
        (texts.LABEL_NOTE, texts.plain(note) or "–"),
    ]
    if seq is not None:
        facts.insert(0, (texts.LABEL_ID, str(seq)))
    notes = [_text(f"{texts.LABEL_NOTE_DATES}: {w}", color="Attention") for w in warnings]
    body = [_title(heading), *notes, _facts(facts)]
    if author:
        body.append(_text(author, isSubtle=True))
    return card(body)


# --- issue 20: Universal Actions (Action.Execute, refresh) ---------------------------------


def _execute(
    verb: str, title: str, data: dict[str, Any], *, fallback: dict[str, Any] | str | None = None
) -> dict[str, Any]:
    """An Action.Execute button (Adaptive Cards 1.4+): Teams sends it as an
    "adaptiveCard/action" invoke (dialogs.card_actions), with `data` and the card's inputs.
    `fallback`: what a client without Universal Actions shows instead (an Action.Submit
    with the same data, or "drop")."""
    action: dict[str, Any] = {"type": "Action.Execute", "verb": verb, "title": title, "data": data}
    if fallback is not None:
        action["fallback"] = fallback
    return action


def _refresh(verb: str, data: dict[str, Any], viewer: str) -> dict[str, Any]:
    """A card's `refresh`: Teams runs the Action.Execute of `verb` by itself when `viewer`
    (the person's Teams id, from.id: "29:…") opens the card, and shows what the bot answers.
    The bot computes that answer for whoever the invoke comes from, never for ids in `data`.
    The action has a title: a client that cannot refresh by itself may offer it as a button
    (a tester's tool listed it as an action titled "None")."""
    action = {"type": "Action.Execute", "verb": verb, "title": texts.REFRESH_BUTTON, "data": data}
    return {"action": action, "userIds": [viewer]}
