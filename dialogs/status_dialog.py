"""Activity status: one measure (status, end date, money, latest follow-up and who
wrote it), or a list of measures (a unit's, or all the user may see)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from typing import Any

from microsoft_agents.hosting.core import MessageFactory, TurnContext
from microsoft_agents.hosting.dialogs import (
    DialogTurnResult,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)

from core.errors import DomainError, PermissionDenied
from core.ledger import Ledger
from core.model import Status
from core.permissions import Action, can_any, require, visible_units
from core.views import MeasureView, measure_view
from core.vocabulary import Filter, Intent, yes_no
from dialogs import cards, texts
from dialogs.answers import Route, begins
from dialogs.cancel_and_help_dialog import CancelAndHelpDialog
from dialogs.prompts import (
    CHOICE_PROMPT,
    SEARCH,
    answer_text,
    choice,
    choice_validator,
    did_you_mean_options,
    search_again,
)
from dialogs.steps import end_dialog, options_of, validations_of, values_of
from dialogs.turn import call, my_units, principal_of, queries, today_of, who
from dialogs.understanding import Candidate, Pick, Understanding, decide_measure, decide_unit, one_unit

MAX_LIST = 30
"""Lines in a list reply; the rest are counted ("… och 12 till")."""

ALL = "all"


class StatusDialog(CancelAndHelpDialog):
    """Options (JSON): {"measures": [candidate dicts], "units": [candidate dicts], "rest": str,
    "measure_id": int | None}. The first step settles what is asked about, as
    "m:<id>" (a measure), "u:<code>" (a unit's measures) or "all"; the second answers."""

    def __init__(self) -> None:
        super().__init__(StatusDialog.__name__)
        self.add_dialog(TextPrompt(CHOICE_PROMPT, did_you_mean_validator))
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


async def did_you_mean_validator(prompt_context: PromptValidatorContext) -> bool:
    """The answer to "Menade du …?": one candidate is taken with any yes word as the
    vocabulary reads it (core.vocabulary.yes_no: "japp!", "japp 🙂", "ja tack", "kör"),
    as the yes/no questions take them; else as any choice (dialogs.prompts.choice_validator)."""
    choices = validations_of(prompt_context.options).get("choices", [])
    text = answer_text(prompt_context)
    if len(choices) == 1 and text is not None and yes_no(text) is True:
        prompt_context.recognized.value = choices[0]["key"]
        return True
    return await choice_validator(prompt_context)


def _settle(options: dict[str, Any]) -> tuple[str | None, tuple[str, Any] | None]:
    """What the options say is asked about: (picked, None) when settled ("m:<id>",
    "u:<code>" or ALL); (None, (prefix, resolution)) when the dialog has to ask
    which one; (None, None) when the name is no measure or unit."""
    if options.get(UNDERSTOOD):
        return "q:" + json.dumps(options[UNDERSTOOD], ensure_ascii=False, sort_keys=True), None
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
    if picked.startswith("q:"):
        await answer_understood(turn_context, json.loads(picked[2:]))
    elif picked.startswith("m:"):
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


async def answer_measure(turn_context: TurnContext, measure_id: int, figure: str | None = None) -> None:
    """A measure's status and money; `figure` (a core.vocabulary.Figure's value, asked in a
    money question) is the answer's headline."""
    identity, services = who(turn_context)
    today = today_of(turn_context)
    try:  # may this person see it (the answer is the same for everyone who may)
        await call(
            queries(services, identity.user_id, today).measure, identity.user_id, str(measure_id), today
        )
    except DomainError as refused:
        await turn_context.send_activity(texts.refused(refused.message))
        return
    rendered = partial(_measure_answer, measure_id=measure_id, today=today, figure=figure)
    text, content = await call(
        queries(services, as_of=today).derived, ("measure", measure_id, today, figure), rendered, today
    )
    await turn_context.send_activity(MessageFactory.attachment(cards.attachment(content), text))


def _measure_answer(
    ledger: Ledger, measure_id: int, today: date, figure: str | None = None
) -> tuple[str, dict[str, Any]]:
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
    if figure in texts.FIGURE_LABELS:
        b = view.balance
        who_ = f"{view.measure.title} (id {measure_id})"
        text = texts.figure_headline(str(figure), who_, None, b.allocated, b.spent, b.forecast) + "\n" + text
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


# --- issue 19: what was understood surely, answered without asking --------------------------

UNDERSTOOD = "understood"
"""The options' key of what a question settled surely (`understood_options`)."""

MAX_BRIEF = 5
"""Measures answered each briefly in one reply; more are counted."""


def unit_codes(heard: Understanding) -> list[str]:
    """Every unit named surely: the understanding's, else the one unit its candidates settle."""
    if heard.unit_codes:
        return list(heard.unit_codes)
    code = one_unit(heard)
    return [code] if code else []


_KEEP: dict[str, Callable[[MeasureView, int | None], bool]] = {
    Filter.OVERDUE.value: lambda v, _: v.overdue,
    Filter.NOT_STARTED.value: lambda v, _: v.status == Status.NOT_STARTED,
    Filter.ONGOING.value: lambda v, _: v.status == Status.ONGOING,
    Filter.DONE.value: lambda v, _: v.status == Status.DONE,
    Filter.NOT_COMPLETED.value: lambda v, _: v.status == Status.NOT_COMPLETED,
    Filter.NEEDS_MONEY.value: lambda v, _: v.balance.forecast > v.balance.allocated,
    Filter.ENDS.value: lambda v, year: v.measure.end_date is not None and v.measure.end_date.year == year,
}
"""Which measures a list's filter keeps (the year: the one asked, for ENDS)."""


async def answer_understood(turn_context: TurnContext, data: dict[str, Any]) -> None:
    """What `understood_options` settled: the measures named, or a list."""
    codes = [str(c) for c in data.get("unit_codes") or ()]
    figure = data.get("figure")
    figure = str(figure) if figure in texts.FIGURE_LABELS else None
    if data.get("measure_ids"):
        ids = [int(i) for i in data["measure_ids"]]
        named = [int(i) for i in data.get("named") or () if isinstance(i, int)]
        await answer_measures(turn_context, ids, codes, figure, own=bool(data.get("own")), named=named)
        return
    year = data.get("year")
    months = data.get("months")
    await answer_list(
        turn_context,
        filter_=str(data["filter"]) if data.get("filter") in _KEEP else None,
        codes=codes,
        own=bool(data.get("own")),
        year=int(year) if isinstance(year, int) else None,
        months=_months(months),
    )


def _months(value: Any) -> tuple[int, int] | None:
    """A list's month window from the options, or None (a stored or forged value that is not two months)."""
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in value)
        and value[0] <= value[1]
    ):
        return (value[0], value[1])
    return None


async def answer_measures(
    turn_context: TurnContext,
    ids: Sequence[int],
    codes: Sequence[str],
    figure: str | None,
    *,
    own: bool = False,
    named: Sequence[int] = (),
) -> None:
    """The measures named: one → its answer (a unit named that shares it: the unit's share);
    a few → each briefly. A unit named (or one's own, `own`) picks, of the measures, those
    it runs. Only those the person may read count: an id typed of a measure they may not
    read is one that does not exist; a measure `named` by its name is refused as the
    status dialog refuses a name (the person knows the name, the refusal says whose it is)."""
    identity, services = who(turn_context)
    today = today_of(turn_context)
    ledger = await call(queries(services).summary_ledger)
    if own and not codes:
        mine = await my_units(turn_context)
        if mine is None:
            return
        codes = mine
    try:
        principal = await principal_of(turn_context)
        if not principal.grants:
            require(principal, Action.READ)  # no role at all: said so (an admin may read anything)
    except DomainError as refused:
        await turn_context.send_activity(texts.refused(refused.message))
        return
    # Only what the person may read counts: an id of another unit's measure is answered as
    # one that does not exist, and never counted (review item 7).
    known = [
        i
        for i in dict.fromkeys(ids)
        if i in ledger.measures and can_any(principal, Action.READ, ledger.measures[i].units)
    ]
    inside = [i for i in known if any(c in ledger.measures[i].units for c in codes)]
    known = inside or known
    if not known:
        by_name = next((i for i in named if i in ids and i in ledger.measures), None)
        if by_name is not None:
            await answer_measure(turn_context, by_name)  # refused, with the units whose it is
        else:
            await turn_context.send_activity(texts.no_measure_ids(ids))
        return
    if len(known) == 1:
        measure = ledger.measures[known[0]]
        unit = next((c for c in codes if c in measure.units), None)
        if unit is not None and len(measure.units) > 1:
            await answer_share(turn_context, measure.id, unit, figure)
        else:
            await answer_measure(turn_context, measure.id, figure)
        return
    lines: list[str] = []
    for measure_id in known[:MAX_BRIEF]:
        try:  # readable, as checked above; the service checks again
            view = await call(
                queries(services, identity.user_id, today).measure, identity.user_id, str(measure_id), today
            )
        except DomainError:
            continue
        m, b = view.measure, view.balance
        parent = ledger.measures.get(m.parent_id) if m.parent_id else None
        if parent is not None and not (b.allocated or b.spent or b.forecast):  # its money is the parent's
            lines.append(
                texts.sub_measure_brief(
                    m.title, m.units, m.id, view.status, view.overdue, parent.title, parent.id
                )
            )
            continue
        lines.append(
            texts.measure_brief(
                m.title, m.units, m.id, view.status, view.overdue, figure, b.allocated, b.spent, b.forecast
            )
        )
    header = texts.measures_brief_header(len(lines))
    if len(known) > MAX_BRIEF:
        lines.append(texts.list_more(len(known) - MAX_BRIEF))
    await turn_context.send_activity("\n".join([header, *lines]))


async def answer_share(turn_context: TurnContext, measure_id: int, unit: str, figure: str | None) -> None:
    """A unit's share of a shared measure (the ledger splits its money by the units' grants,
    core.balances.measure_balance), for those who may read the unit."""
    identity, services = who(turn_context)
    today = today_of(turn_context)
    try:
        view = await call(
            queries(services, identity.user_id, today).measure, identity.user_id, str(measure_id), today
        )
        require(await principal_of(turn_context), Action.READ, [unit])
    except DomainError as refused:
        await turn_context.send_activity(texts.refused(refused.message))
        return
    share = view.balance.share(unit)
    if share is None:
        await answer_measure(turn_context, measure_id, figure)
        return
    ledger = await call(queries(services).summary_ledger)
    m, b = view.measure, view.balance
    await turn_context.send_activity(
        texts.share_answer(
            figure=figure,
            unit_name=ledger.units[unit].name if unit in ledger.units else unit,
            code=unit,
            title=m.title,
            measure_id=m.id,
            units=m.units,
            share=share,
            allocated=b.allocated,
            spent=b.spent,
            forecast=b.forecast,
            shares=[(s.unit, s.allocated) for s in b.shares],
            funding_refs=_funding_refs(view),
        )
    )


async def answer_list(
    turn_context: TurnContext,
    *,
    filter_: str | None,
    codes: Sequence[str],
    own: bool,
    year: int | None,
    months: tuple[int, int] | None = None,
) -> None:
    """The measures of the units named (or one's own units, or all one may see), narrowed
    by the filter; an empty list says so with the filter in words."""
    identity, services = who(turn_context)
    today = today_of(turn_context)
    asked = queries(services, identity.user_id, today)
    views: list[MeasureView] = []
    if own and not codes:
        mine = await my_units(turn_context)
        if mine is None:
            return
        codes = mine
    hidden: list[str] = []  # units named that the person may not read: said, the others answered
    try:
        if codes:
            seen: set[int] = set()
            shown: list[str] = []
            refusal = ""
            for code in codes:
                try:
                    found = await call(asked.measures, identity.user_id, unit=code, as_of=today)
                except PermissionDenied as refused:
                    hidden.append(code)
                    refusal = refusal or refused.message
                    continue
                shown.append(code)
                for view in found:
                    if view.measure.id not in seen:
                        seen.add(view.measure.id)
                        views.append(view)
            if not shown:
                await turn_context.send_activity(texts.refused(refusal))
                return
            codes = shown
        else:
            views = await call(asked.measures, identity.user_id, as_of=today)
        ledger = await call(queries(services).summary_ledger)
        visible = visible_units(await principal_of(turn_context), ledger.units) if hidden else []
    except DomainError as refused:
        await turn_context.send_activity(texts.refused(refused.message))
        return
    if filter_ == Filter.ENDS.value:
        year = year or today.year
    elif year is not None:
        views = [v for v in views if v.measure.year == year]
    if filter_ is not None:
        keep = _KEEP[filter_]
        views = [v for v in views if keep(v, year)]
    if filter_ == Filter.ENDS.value and months is not None:
        first, last = months
        views = [
            v for v in views if v.measure.end_date is not None and first <= v.measure.end_date.month <= last
        ]
    where = ", ".join(codes) or None  # a list names its units by code ("Försenade insatser för GSN")
    if (
        filter_ is None and len(codes) == 1
    ):  # a unit's measures: by name ("Insatser för Fritidsnämnden (FRN)")
        unit = ledger.units.get(codes[0])
        where = f"{unit.name} ({unit.code})" if unit is not None else codes[0]
    if filter_ == Filter.OVERDUE.value:
        header, empty = texts.overdue_header(today, len(views), where), texts.no_overdue(today, where)
    elif filter_ == Filter.NOT_STARTED.value:
        header, empty = texts.not_started_header(len(views), where), texts.no_not_started(where)
    elif filter_ is not None:
        header = texts.filtered_header(filter_, len(views), where, year, months)
        empty = texts.no_filtered(filter_, where, year, months)
    elif where is not None:
        header, empty = texts.unit_measures_header(where, len(views)), texts.no_unit_measures(where)
    else:
        header, empty = texts.my_measures_header(len(views)), texts.NO_MEASURES
    if hidden:
        note = texts.units_measures_not_visible(hidden, visible)
        header, empty = f"{note}\n{header}", f"{note}\n{empty}"
    if not views:
        await turn_context.send_activity(empty)
        return
    await send_measure_list(turn_context, header, views, today)


def understood_options(heard: Understanding, figure: str | None = None) -> dict[str, Any] | None:
    """What a STATUS question (or a money question about measures, with `figure`) settled
    surely, as the dialog's options: the measures named, a list with its filter, the
    measures of units named or of one's own; None when the dialog has to look further."""
    codes = unit_codes(heard)
    if heard.measure_ids:
        by_name = {c.key for c in heard.measures}  # the rest were typed as ids ("status 42")
        found: dict[str, Any] = {
            "measure_ids": list(heard.measure_ids),
            "named": [i for i in heard.measure_ids if str(i) in by_name],
            "unit_codes": codes,
            "own": heard.own,
        }
        return {UNDERSTOOD: found | ({"figure": figure} if figure else {})}
    if figure is not None:
        return None
    if heard.filter is not None:
        return {
            UNDERSTOOD: {
                "filter": heard.filter.value,
                "unit_codes": codes,
                "own": heard.own,
                "year": heard.year,
                "months": list(heard.months) if heard.months else None,
            }
        }
    if decide_measure(heard.measures).pick != Pick.NONE:
        return None  # a measure perhaps named: the dialog asks which (or answers it)
    if heard.unit_codes or (heard.own and not heard.units):
        return {UNDERSTOOD: {"unit_codes": codes, "own": heard.own, "year": heard.year}}
    return None


@begins(Intent.STATUS, StatusDialog)
def status_route(heard: Understanding) -> Route:
    """ "status Yrkeslärarsatsning", "mina insatser", "vilka insatser är klara?": what was
    understood surely (understood_options), else the measures and units named."""
    settled = understood_options(heard)
    if settled is not None:
        return StatusDialog.__name__, settled
    units = [c.as_dict() for c in heard.units]
    measures = [c.as_dict() for c in heard.measures]
    return StatusDialog.__name__, {"measures": measures, "units": units, "rest": heard.rest}
