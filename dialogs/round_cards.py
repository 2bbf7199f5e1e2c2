"""The follow-up round's cards (Adaptive Card 1.5): the prompt that lists a
person's measures and asks, per measure, status, spend so far, forecast for
the year, whether the money can be used as planned and a note (and, for a
measure linked to a competence need, which needs it answers and how many
people it has reached so far: issue 21); the reminder
(the same card with a reminder line); the card as it looks once answered;
and the escalation list of who has not answered.

The inputs of measure 12 are "m12_status", "m12_spent", "m12_forecast",
"m12_usable", "m12_note" and, when it is linked to a need, "m12_reached"
(core.round_answers.field_name); the submit
carries {"action": "round_answer", "round_id": N}. What a card submits is
checked again on the server. Titles, unit names, notes and names are
escaped here with texts.plain (TextBlocks and FactSets are Markdown); input
values (a note being edited) are not Markdown and are given as they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes

from core.ledger import Ledger
from core.limits import MAX_NOTE
from core.model import FollowUp, RoleGrant, Status
from core.round_answers import field_name
from core.round_report import RoundReport
from core.rounds import CardNeeds, Round, gets_every_late_list, principal_of
from core.rules.followup import reached_exceeds
from dialogs import texts
from dialogs.cards import (
    MAX_CARD_BYTES,
    Card,
    _choice_set,
    _execute,
    _facts,
    _input_text,
    _refresh,
    _text,
    _title,
    attachment,
    card,
)

ROUND_ANSWER_ACTION = "round_answer"
"""The card's button: an Action.Execute of this verb (an "adaptiveCard/action" invoke), and
for clients without Universal Actions its fallback, an Action.Submit whose data has
{"action": "round_answer"} (a message): both carry the same data and are judged alike."""
ROUND_CARD_VERB = "round_card"
"""The round card's refresh: the card as it is now for the person who opens it (answered:
their saved answers)."""
MEASURES_BUDGET = MAX_CARD_BYTES - 6_000
"""Bytes the measures of one card may take: the rest is for the heading, the
action and the message text around the card."""


def _size(element: dict[str, Any]) -> int:
    return len(json.dumps(element, ensure_ascii=False).encode("utf-8"))


@dataclass(frozen=True, slots=True)
class CardMeasure:
    """One measure as the card shows it, with its current answer if any, and the
    competence needs it answers (none: the card does not ask how many it has reached)."""

    id: int
    title: str
    units: tuple[str, ...]
    allocated: int
    answer: FollowUp | None = None
    needs: CardNeeds | None = None
    for_name: str = ""  # issue 22: the absent person the card's person answers it for

    @property
    def linked(self) -> bool:
        """Linked to at least one competence need: the card asks how many people it has reached."""
        return bool(self.needs)


def _needs_line(m: CardMeasure) -> dict[str, Any]:
    """Which needs the measure answers, in one short line (the needs' names escaped)."""
    assert m.needs is not None
    names = [texts.need_name(n.role, n.kind.value, n.key) for n in m.needs.shown]
    return _text(texts.round_card_needs(names, m.needs.others), isSubtle=True, size="Small", spacing="None")


def _heading(m: CardMeasure) -> str:
    """A measure's title and units on the card (Markdown: both escaped), and whom it is
    answered for when handed over (issue 22)."""
    heading = f"{texts.plain(m.title)} ({texts.plain(', '.join(m.units))})"
    return texts.measure_for(heading, m.for_name) if m.for_name else heading


def prompt_card(
    round_id: int,
    period: str,
    deadline: date,
    measures: Sequence[CardMeasure],
    *,
    reminder: bool = False,
    possibly_repeated: bool = False,
    viewer: str | None = None,
    handover: str = "",
) -> Card:
    """The card a person answers (for `viewer`, their Teams id: a card that refreshes
    itself for them, see round_refresh): all their measures on one card, unanswered
    ones first. A card that would grow past the size a Teams message allows
    (someone answering for dozens of measures with long notes) holds as many
    as fit and says how many are left for the next card ("svara på
    uppföljningen" gives it)."""
    measures = sorted(measures, key=lambda m: m.answer is not None)
    body: list[dict[str, Any]] = [_title(texts.round_card_title(period))]
    if reminder:
        body.append(_text(texts.ROUND_REMINDER_LINE, weight="Bolder", color="Attention"))
    if handover:  # issue 22: the absent person's measures, to who answers for them
        waiting = sum(m.answer is None for m in measures)
        body.append(_text(texts.handover_line(handover, waiting), weight="Bolder"))
    body.append(_text(texts.round_intro(deadline, *_waiting(measures))))
    if possibly_repeated:
        body.append(_text(texts.ROUND_POSSIBLY_REPEATED, isSubtle=True, size="Small"))
    used = shown = 0
    for m in measures:
        a = m.answer
        status = _choice_set(
            field_name(m.id, "status"),
            texts.LABEL_STATUS,
            [(s.value, s.value) for s in Status],
            value=(a.status.value if a else ""),
            placeholder=texts.CHOOSE_STATUS,
        )
        # Status is only required when some other field of the measure is
        # filled in: a measure can be left for later, the server checks.
        status.pop("isRequired", None)
        status.pop("errorMessage", None)
        container_items = [
            _text(_heading(m), weight="Bolder"),
            *([_needs_line(m)] if m.linked else []),
            _facts([(texts.LABEL_ALLOCATED, texts.kr(m.allocated))]),
            status,
            _input_text(
                field_name(m.id, "spent"),
                texts.LABEL_SPENT_LONG,
                placeholder=texts.PLACEHOLDER_AMOUNT,
                value=texts.kr(a.spent) if a else "",
            ),
            _input_text(
                field_name(m.id, "forecast"),
                texts.LABEL_FORECAST_LONG,
                placeholder=texts.PLACEHOLDER_AMOUNT,
                value=texts.kr(a.forecast) if a else "",
            ),
            *(
                [
                    _input_text(
                        field_name(m.id, "reached"),
                        texts.ROUND_REACHED_QUESTION,
                        placeholder=texts.PLACEHOLDER_REACHED,
                        value=str(a.reached) if a is not None and a.reached is not None else "",
                    )
                ]
                if m.linked
                else []
            ),
            _choice_set(
                field_name(m.id, "usable"),
                texts.LABEL_USABLE,
                [(texts.YES, "Ja"), (texts.NO, "Nej")],
                value=(texts.YES if (a is None or a.usable_as_planned) else texts.NO),
            ),
            _input_text(
                field_name(m.id, "note"),
                texts.LABEL_NOTE,
                placeholder=texts.PLACEHOLDER_NOTE,
                value=a.note if a else "",
                multiline=True,
                max_length=MAX_NOTE,
            ),
        ]
        container = {"type": "Container", "separator": True, "spacing": "Medium", "items": container_items}
        size = _size(container)
        if used + size > MEASURES_BUDGET:
            body.append(_text(texts.round_more_measures(len(measures) - shown), weight="Bolder"))
            break
        body.append(container)
        used += size
        shown += 1
    data = {"action": ROUND_ANSWER_ACTION, "round_id": round_id}
    submit = {"type": "Action.Submit", "title": texts.ROUND_SUBMIT_BUTTON, "data": data}
    actions = [_execute(ROUND_ANSWER_ACTION, texts.ROUND_SUBMIT_BUTTON, data, fallback=submit)]
    return card(body, actions, refresh=round_refresh(round_id, viewer, reminder=reminder))


def _waiting(measures: Sequence[CardMeasure]) -> tuple[list[tuple[str, int]], int]:
    """Whose measures on a card wait for an answer, and how many: the person's own ("") first,
    then each absent person's they answer for (issue 22), in the card's order; and how many
    of the card's measures are answered. Every measure counted when all are answered."""
    left = [m for m in measures if m.answer is None]
    counts: dict[str, int] = {"": 0}
    for m in left or measures:
        counts[m.for_name] = counts.get(m.for_name, 0) + 1
    return list(counts.items()), (len(measures) - len(left) if left else 0)


def round_refresh(
    round_id: int | None, viewer: str | None, *, reminder: bool = False
) -> dict[str, Any] | None:
    """The refresh of a round card for `viewer` (their Teams id), or none when either is
    unknown; a reminder stays a reminder while it is unanswered."""
    if round_id is None or not viewer:
        return None
    data: dict[str, Any] = {"action": ROUND_CARD_VERB, "round_id": round_id}
    if reminder:
        data["reminder"] = True
    return _refresh(ROUND_CARD_VERB, data, viewer)


def answered_card(
    period: str,
    deadline: date,
    measures: Sequence[CardMeasure],
    *,
    complete: bool,
    round_id: int | None = None,
    viewer: str | None = None,
    closed: bool = False,
) -> Card:
    """The card after an answer: what was reported, and that it can be changed (`closed`:
    the round is closed, and the card only shows what was reported)."""
    body: list[dict[str, Any]] = [_title(texts.round_card_title(period))]
    if closed:
        line, colour = texts.round_card_closed_line(period), "Default"
    elif complete:
        line, colour = texts.round_answered_line(deadline), "Good"
    else:
        line, colour = texts.round_partly_answered_line(deadline), "Warning"
    body.append(_text(line, weight="Bolder", color=colour))
    used = shown = 0
    for m in measures:
        a = m.answer
        facts = [(texts.LABEL_ALLOCATED, texts.kr(m.allocated))]
        if a is None:
            facts.append((texts.LABEL_STATUS, texts.NOT_ANSWERED))
        else:
            facts += [
                (texts.LABEL_STATUS, a.status.value),
                (texts.LABEL_SPENT, texts.kr(a.spent)),
                (texts.LABEL_FORECAST, texts.kr(a.forecast)),
                (texts.LABEL_USABLE, texts.yes_no(a.usable_as_planned)),
            ]
            if a.reached is not None:
                facts.append((texts.LABEL_REACHED, texts.people(a.reached)))
            if a.note:
                note = a.note if len(a.note) <= 300 else a.note[:299] + "…"
                facts.append((texts.LABEL_NOTE, texts.plain(note)))
            if a.for_name:  # issue 22: "Per Persson för Anna Andersson"
                facts.append((texts.LABEL_GIVEN_BY, texts.given_by(a.author, a.for_name)))
        items = [_text(_heading(m), weight="Bolder"), _facts(facts)]
        people = m.needs.people if m.needs is not None else None
        if (
            a is not None
            and a.reached is not None
            and people is not None
            and reached_exceeds(a.reached, people)
        ):
            # issue 21: kept (a measure may reach others too), but said
            items.append(_text(texts.reached_over_people(a.reached, people), color="Attention", size="Small"))
        container = {"type": "Container", "separator": True, "items": items}
        used += _size(container)
        if used > MEASURES_BUDGET:
            body.append(_text(texts.list_more(len(measures) - shown)))
            break
        body.append(container)
        shown += 1
    return card(body, refresh=round_refresh(round_id, viewer))


ROUND_LATE_PEOPLE_ACTION = "round_late_people"
ESCALATION_BUDGET = MAX_CARD_BYTES - 4_000
"""Bytes one escalation card may take: the rest is for the message text around it."""
OWN_SHOWN = 20  # the recipient's own unanswered measures listed by title, at most


@dataclass(frozen=True, slots=True)
class EscalationLine:
    """One committee with missing answers, as the escalation shows it."""

    code: str
    name: str
    waiting: int  # measures asked about and not answered
    no_recipient: int  # measures nobody could be asked about
    asked: int  # people asked about one of its measures


@dataclass(frozen=True, slots=True)
class EscalationSummary:
    """What the escalation's opening says: distinct measures (a shared one
    counted once) and committees."""

    deadline: date
    missing: int
    waiting: int
    no_recipient: int
    committees: int
    city_wide: bool
    own: tuple[str, ...] = ()  # titles of the recipient's own unanswered measures
    on_behalf: str = ""  # issue 22: the name of the absent HR lead whose list it is


def escalation_card(
    round_id: int,
    period: str,
    summary: EscalationSummary,
    lines: Sequence[EscalationLine],
    *,
    part: int = 1,
    parts: int = 1,
) -> Card:
    """The list of what has no answer, one line per committee, to
    stadskontoret or a committee's HR lead, who is spoken to as "du"; the
    people's names come with "Visa alla" and in the export. Part `part` of
    `parts`: the first part has the opening, the last the button."""
    body: list[dict[str, Any]] = [_title(texts.escalation_title(period))]
    if parts > 1:
        body.append(_text(texts.escalation_part(part, parts), isSubtle=True, size="Small"))
    if part == 1:
        if summary.on_behalf:
            body.append(_text(texts.escalation_for(summary.on_behalf), weight="Bolder"))
        body.append(
            _text(
                texts.escalation_intro(
                    summary.deadline,
                    summary.missing,
                    summary.committees,
                    summary.waiting,
                    summary.no_recipient,
                    city_wide=summary.city_wide,
                    for_name=summary.on_behalf,
                )
            )
        )
        if summary.own:
            shown = summary.own[:OWN_SHOWN]
            own = texts.escalation_own(shown, len(summary.own) - len(shown), summary.on_behalf)
            body.append(_text(own, weight="Bolder"))
        body.append(_text(texts.ESCALATION_COMMITTEES_HEADER, isSubtle=True))
    if lines:
        body.append(_text("\n".join(_line(x) for x in lines)))
    actions = None
    if part == parts:
        body.append(_text(texts.escalation_show_all(summary.city_wide), isSubtle=True))
        actions = [
            {
                "type": "Action.Submit",
                "title": texts.ESCALATION_SHOW_ALL_BUTTON,
                "data": {"action": ROUND_LATE_PEOPLE_ACTION, "round_id": round_id},
            }
        ]
    return card(body, actions)


def _line(x: EscalationLine) -> str:
    return texts.escalation_line(x.name, x.code, x.waiting, x.no_recipient, x.asked)


def escalation_cards(
    round_id: int, period: str, summary: EscalationSummary, lines: Sequence[EscalationLine]
) -> list[Card]:
    """The escalation as one card when every committee fits (290 committees
    with names of ordinary length do), else split into as few parts as fit,
    in order, each at most ESCALATION_BUDGET bytes. Every committee is on
    exactly one part."""
    sizes = [len(json.dumps(_line(x) + "\n", ensure_ascii=False).encode("utf-8")) - 2 for x in lines]
    one = _size(escalation_card(round_id, period, summary, []))
    if one + sum(sizes) <= ESCALATION_BUDGET:
        return [escalation_card(round_id, period, summary, lines)]
    # Room on each part: the budget less the part's own heading (first or
    # later), the button and its line (kept for every part: the last one
    # is only known at the end).
    button = one - _size(escalation_card(round_id, period, summary, [], part=1, parts=2))
    first = _size(escalation_card(round_id, period, summary, [], part=1, parts=99)) + button
    later = _size(escalation_card(round_id, period, summary, [], part=99, parts=999)) + button
    chunks: list[list[EscalationLine]] = [[]]
    used = first
    for line, size in zip(lines, sizes, strict=True):
        if chunks[-1] and used + size > ESCALATION_BUDGET:
            chunks.append([])
            used = later
        chunks[-1].append(line)
        used += size
    return [
        escalation_card(round_id, period, summary, chunk, part=i, parts=len(chunks))
        for i, chunk in enumerate(chunks, start=1)
    ]


def escalation_activities(
    round_: Round,
    report: RoundReport,
    recipient: str,
    grants: Sequence[RoleGrant],
    unit_names: dict[str, str],
    *,
    on_behalf: str = "",
    on_behalf_name: str = "",
) -> list[Activity]:
    """The escalation to one person, from the round's report over the units
    they get the list for: one message, or parts when it would not fit. `on_behalf`
    (issue 22): the absent HR lead whose list this is (their own unanswered measures,
    never stadskontoret's wording), said first."""
    gaps = report.committees
    titles = {m.measure_id: m.title for m in report.measures}
    whose = on_behalf or recipient
    own = tuple(titles.get(m, str(m)) for m in dict(report.late).get(whose, ()))
    summary = EscalationSummary(
        deadline=round_.plan.deadline,
        missing=report.missing,
        waiting=report.waiting,
        no_recipient=report.missing_no_recipient,
        committees=len(gaps),
        city_wide=not on_behalf and gets_every_late_list(principal_of(grants, recipient)),
        own=own,
        on_behalf=on_behalf_name or on_behalf,
    )
    lines = [
        EscalationLine(
            g.unit, unit_names.get(g.unit, g.unit), len(g.not_answered), len(g.no_recipient), len(g.asked)
        )
        for g in gaps
    ]
    text = texts.escalation_text(round_.period)
    contents = escalation_cards(round_.id, round_.period, summary, lines)
    return [card_activity(text, content) for content in contents]


def card_measures(
    ledger: Ledger,
    round_: Round,
    measure_ids: tuple[int, ...],
    needs: Mapping[int, CardNeeds] | None = None,
    for_names: Mapping[int, str] | None = None,
) -> list[CardMeasure]:
    """The card's measures with their answers of the round's period; `needs`: the competence
    needs of those linked to any (core.rounds.card_needs), whose cards ask how many people
    they have reached; `for_names` (issue 22): measure → the absent person it is answered for."""
    needs = needs or {}
    for_names = for_names or {}
    latest = {}
    for f in ledger.followups:
        if f.period == round_.period and f.measure_id in measure_ids:
            latest[f.measure_id] = f
    return [
        CardMeasure(
            id=mid,
            title=ledger.measures[mid].title,
            units=ledger.measures[mid].units,
            allocated=ledger.measure_allocated(mid, round_.plan.year),
            answer=latest.get(mid),
            needs=needs.get(mid),
            for_name=for_names.get(mid, ""),
        )
        for mid in measure_ids
        if mid in ledger.measures
    ]


def card_activity(text: str, content: dict[str, Any], activity_id: str | None = None) -> Activity:
    activity = Activity(type=ActivityTypes.message, text=text, attachments=[attachment(content)])
    if activity_id:
        activity.id = activity_id
    return activity


def card_update(content: dict[str, Any], activity_id: str | None = None) -> Activity:
    """The replacement of a sent card: the card alone, without a text. Teams
    refuses to update a message with an activity it would show as several
    messages (text and card: "Activity resulted into multiple skype
    activities", 400), and so does Agents Playground."""
    activity = Activity(type=ActivityTypes.message, attachments=[attachment(content)])
    if activity_id:
        activity.id = activity_id
    return activity


RECORD_REALLOCATION_ACTION = "record_reallocation"
"""The per-proposal card's submit, before issue 20 (one card for every proposal:
dialogs.proposal_cards). Cards already sent still carry it: they are answered."""
