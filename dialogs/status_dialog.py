"""Activity status: one measure (status, end date, money, latest follow-up and who
wrote it), or a list of measures (a unit's, or all the user may see)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial
from typing import Any

from microsoft_agents.hosting.core import MessageFactory, TurnContext
from microsoft_agents.hosting.dialogs import (
    DialogTurnResult,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)

from core.errors import DomainError
from core.ledger import Ledger
from core.views import MeasureView, measure_view
from core.vocabulary import Intent
from dialogs import cards, texts
from dialogs.answers import Route, begins
from dialogs.cancel_and_help_dialog import CancelAndHelpDialog
from dialogs.prompts import (
    CHOICE_PROMPT,
    SEARCH,
    choice,
    choice_validator,
    did_you_mean_options,
    search_again,
)
from dialogs.steps import end_dialog, options_of, values_of
from dialogs.turn import call, queries, today_of, who
from dialogs.understanding import Candidate, Pick, Understanding, decide_measure, decide_unit

MAX_LIST = 30
"""Lines in a list reply; the rest are counted ("… och 12 till")."""

ALL = "all"


class StatusDialog(CancelAndHelpDialog):
    """Options (JSON): {"measures": [candidate dicts], "units": [candidate dicts], "rest": str,
    "measure_id": int | None}. The first step settles what is asked about, as
    "m:<id>" (a measure), "u:<code>" (a unit's measures) or "all"; the second answers."""

    def __init__(self) -> None:
        super().__init__(StatusDialog.__name__)
        self.add_dialog(TextPrompt(CHOICE_PROMPT, choice_validator))
        self.add_dialog(WaterfallDialog(WaterfallDialog.__name__, [self.pick_step, self.answer_step]))
        self.initial_dialog_id = WaterfallDialog.__name__  # type: ignore[assignment]  # the SDK declares it None

    async def answer_at_once(self, turn_context: TurnContext, options: dict[str, Any]) -> bool:
        """Answer without beginning the dialog when the options settle what is
        asked about (MainDialog.answer_at_once); False when the dialog has to ask."""
        picked, _ = _settle(options)
        if picked is None:
            return False
        await answer_picked(turn_context, picked)
        return True

    async def pick_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = options_of(step)
        picked, ask = _settle(options)
        if picked is not None:
            return await step.next(picked)
        if ask is not None:
            prefix, resolution = ask
            values_of(step)["asked"] = len(resolution.options)
            choices = [choice(f"{prefix}:{c.key}", c.label) for c in resolution.options]
            return await step.prompt(
                CHOICE_PROMPT,
                did_you_mean_options(choices, allow_none=True),
            )
        await self._unknown(step.context, options["rest"])  # a name that is no measure or unit
        return await end_dialog(step)

    async def answer_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        picked = step.result
        if picked == SEARCH:  # another name typed at "Menade du …?": searched anew
            return await end_dialog(step, search_again(Intent.STATUS, now=True))
        if not picked and values_of(step).get("asked") == 1:  # "nej": the name again
            return await end_dialog(step, search_again(Intent.STATUS))
        if not picked:
            await step.context.send_activity(texts.NO_CHOICE)
        else:
            await answer_picked(step.context, str(picked))
        return await end_dialog(step)

    async def _unknown(self, turn_context: TurnContext, rest: str) -> None:
        identity, services = who(turn_context)
        try:
            views = await call(
                queries(services, identity.user_id, today_of(turn_context)).measures,
                identity.user_id,
                as_of=today_of(turn_context),
            )
        except DomainError as refused:
            await turn_context.send_activity(texts.refused(refused.message))
            return
        labels = [_label(v) for v in views[:MAX_LIST]]
        await turn_context.send_activity(texts.unknown_measure(rest, labels, max(0, len(views) - MAX_LIST)))


def _settle(options: dict[str, Any]) -> tuple[str | None, tuple[str, Any] | None]:
    """What the options say is asked about: (picked, None) when settled ("m:<id>",
    "u:<code>" or ALL); (None, (prefix, resolution)) when the dialog has to ask
    which one; (None, None) when the name is no measure or unit."""
    if options.get("measure_id"):
        return f"m:{int(options['measure_id'])}", None
    measures = [Candidate.from_dict(c) for c in options.get("measures", [])]
    units = [Candidate.from_dict(c) for c in options.get("units", [])]
    for candidates, decide, prefix in ((measures, decide_measure, "m"), (units, decide_unit, "u")):
        resolution = decide(candidates)
        if resolution.pick == Pick.ONE and resolution.chosen is not None:
            return f"{prefix}:{resolution.chosen.key}", None
        if resolution.pick == Pick.ASK:
            return None, (prefix, resolution)
    return (None, None) if options.get("rest") else (ALL, None)


async def answer_picked(turn_context: TurnContext, picked: str) -> None:
    if picked.startswith("m:"):
        await answer_measure(turn_context, int(picked[2:]))
    elif picked.startswith("u:"):
        await answer_unit_measures(turn_context, picked[2:])
    else:
        await answer_my_measures(turn_context)


def _label(view: MeasureView) -> str:
    return f"{view.measure.title} ({', '.join(view.measure.units)})"


def _funding_refs(view: MeasureView) -> list[str]:
    """The decisions behind the measure's money; one made up by kompetensbot
    before issue 17 is NOT_GIVEN ("beslut ej angivet")."""
    return sorted({f.decision.label for f in view.balance.fundings})


def measure_parts(view: MeasureView, ledger: Ledger) -> dict[str, Any]:
    """What both the text and the card say about a measure."""
    m, b = view.measure, view.balance
    return {
        "title": m.title,
        "measure_id": m.id,
        "units": m.units,
        "status": view.status,
        "overdue": view.overdue,
        "end": m.end_date,
        "allocated": b.allocated,
        "spent": b.spent,
        "forecast": b.forecast,
        "funding_refs": _funding_refs(view),
        "shares": [(s.unit, s.allocated) for s in b.shares],
    }


async def answer_measure(turn_context: TurnContext, measure_id: int) -> None:
    identity, services = who(turn_context)
    today = today_of(turn_context)
    try:  # may this person see it (the answer is the same for everyone who may)
        await call(
            queries(services, identity.user_id, today).measure, identity.user_id, str(measure_id), today
        )
    except DomainError as refused:
        await turn_context.send_activity(texts.refused(refused.message))
        return
    rendered = partial(_measure_answer, measure_id=measure_id, today=today)
    text, content = await call(
        queries(services, as_of=today).derived, ("measure", measure_id, today), rendered, today
    )
    await turn_context.send_activity(MessageFactory.attachment(cards.attachment(content), text))


def _measure_answer(ledger: Ledger, measure_id: int, today: date) -> tuple[str, dict[str, Any]]:
    view = measure_view(ledger, ledger.measures[measure_id], today)
    parts = measure_parts(view, ledger)
    parent = ledger.measures.get(view.measure.parent_id) if view.measure.parent_id else None
    reallocations = []
    for e in view.balance.reallocations:
        source, target = ledger.measures.get(e.from_measure), ledger.measures.get(e.to_measure)
        reallocations.append(
            texts.reallocation_source(
                e,
                source.title if source else str(e.from_measure),
                target.title if target else str(e.to_measure),
            )
        )
    followup = view.balance.followup
    text = texts.measure_status(
        **parts, followup=followup, reallocations=reallocations, parent=parent.title if parent else None
    )
    content = cards.measure_card(**parts, followup_text=texts.latest_followup(followup) if followup else None)
    return text, content


async def send_measure_list(
    turn_context: TurnContext, header: str, views: Sequence[MeasureView], as_of: date
) -> None:
    lines = [header]
    lines += [
        texts.measure_line(v.measure.title, v.measure.units, v.status, v.overdue, v.measure.end_date)
        for v in views[:MAX_LIST]
    ]
    if len(views) > MAX_LIST:
        lines.append(texts.list_more(len(views) - MAX_LIST) + " " + texts.NARROW_BY_UNIT)
    await turn_context.send_activity("\n".join(lines))


async def answer_unit_measures(turn_context: TurnContext, code: str) -> None:
    identity, services = who(turn_context)
    today = today_of(turn_context)
    try:
        views = await call(
            queries(services, identity.user_id, today).measures, identity.user_id, unit=code, as_of=today
        )
    except DomainError as refused:
        await turn_context.send_activity(texts.refused(refused.message))
        return
    ledger = await call(queries(services).summary_ledger)
    unit = ledger.units[code]
    await send_measure_list(
        turn_context, texts.unit_measures_header(f"{unit.name} ({code})", len(views)), views, today
    )


async def answer_my_measures(turn_context: TurnContext) -> None:
    identity, services = who(turn_context)
    today = today_of(turn_context)
    try:
        views = await call(queries(services, identity.user_id, today).measures, identity.user_id, as_of=today)
    except DomainError as refused:
        await turn_context.send_activity(texts.refused(refused.message))
        return
    if not views:
        await turn_context.send_activity(texts.NO_MEASURES)
        return
    await send_measure_list(turn_context, texts.my_measures_header(len(views)), views, today)


@begins(Intent.STATUS, StatusDialog)
def status_route(heard: Understanding) -> Route:
    """ "status Yrkeslärarsatsning", "mina insatser": the measures and units named."""
    units = [c.as_dict() for c in heard.units]
    measures = [c.as_dict() for c in heard.measures]
    return StatusDialog.__name__, {"measures": measures, "units": units, "rest": heard.rest}
