"""A follow-up note: the measure, the period, its status, the spend so far, the
forecast for the year (never below the spend), whether the money can be used as
planned, a note and, for a measure linked to a competence need, how many people
it has reached so far (optional: "hoppa över", "vet inte"; issue 21); confirmed,
then saved as a follow-up entry. The same as one Adaptive Card form, validated
field by field on the server."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from microsoft_agents.hosting.core import MessageFactory, TurnContext
from microsoft_agents.hosting.dialogs import (
    DialogTurnResult,
    PromptOptions,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)

from core import forms, vocabulary
from core.errors import AlreadySaved, DomainError, InputError, PermissionDenied
from core.ledger import Ledger
from core.model import FollowUp, Status
from core.permissions import Action, can_any, require
from core.rules import years
from core.rules.followup import (
    check_period_for_measure,
    implausible_amounts,
    is_implausible,
    money_exceeded,
    reached_exceeds,
)
from core.text import person_name
from core.views import MeasureView
from core.vocabulary import Intent
from dialogs import cards, texts
from dialogs.answers import Route, begins
from dialogs.form_flow import CONFIRM, Field, Flow, FormDialog
from dialogs.ports import CityServices
from dialogs.prompts import (
    CHOICE_PROMPT,
    SEARCH,
    YES_NO_PROMPT,
    answer_text,
    choice,
    choice_options,
    choice_validator,
    did_you_mean_options,
    parse_yes_no,
    question,
    refuse,
    search_again,
    text_options,
    yes_no_options,
    yes_no_validator,
)
from dialogs.steps import end_dialog, options_of, validations_of, values_of
from dialogs.submissions import card_id, new_once_key, once_key
from dialogs.turn import Identity, already_saved, call, queries, today_of, who
from dialogs.understanding import Candidate, Pick, Understanding, decide_measure, one_unit

PERIOD_PROMPT = "PeriodPrompt"
STATUS_PROMPT = "StatusPrompt"
SPENT_PROMPT = "SpentPrompt"
FORECAST_PROMPT = "ForecastPrompt"
NOTE_PROMPT = "NotePrompt"
REACHED_PROMPT = "ReachedPrompt"
NOT_ASKED_REACHED = "reached_not_asked"
"""In the values: the measure answers no competence need, so how many it has reached is not asked."""

_AMOUNT_FIELDS = {"utfall": "spent", "prognos": "forecast"}
"""The implausible-amount rule's field (core.rules.followup) → the follow-up's field asked again."""
_STATUSES = frozenset(s.value for s in Status)
"""A stored guess is taken only when it is one (state from another version, or forged, is not)."""

FLOW = Flow(
    fields={
        "measure": Field(0, CHOICE_PROMPT, then=("period", "reached")),
        "period": Field(1, PERIOD_PROMPT),
        "status": Field(2, STATUS_PROMPT),
        "spent": Field(3, SPENT_PROMPT, then=("forecast",)),
        "forecast": Field(4, FORECAST_PROMPT),
        "usable": Field(5, YES_NO_PROMPT),
        "note": Field(6, NOTE_PROMPT),
        "reached": Field(7, REACHED_PROMPT),
    },
    stores={
        1: "measure_id",
        2: "period",
        3: "status",
        4: "spent",
        5: "forecast",
        6: "usable",
        7: "note",
        8: "reached",
    },
    confirm_step=8,
    save_step=10,
    confirm_places=frozenset({8, 9, 10}),
    words=vocabulary.FOLLOWUP_FIELDS,
    names=texts.FOLLOWUP_FIELD_NAMES,
    kept=texts.KEPT_FOLLOWUP,
    what=texts.THE_FOLLOWUP,
    preset={"measure": "measure_preset", "reached": NOT_ASKED_REACHED},
    convert={"measure_id": lambda key: int(cast(int | str, key))},
)
"""The follow-up's fields, for going back and changing them (dialogs.form_flow)."""


class FollowUpDialog(FormDialog):
    """Options (JSON): {"measures": [candidate dicts]} (measures named in the request),
    {"unit": code | None} (a unit named: only its measures are offered)."""

    def __init__(self) -> None:
        super().__init__(FollowUpDialog.__name__, FLOW)
        self.add_dialog(TextPrompt(CHOICE_PROMPT, choice_validator))
        self.add_dialog(TextPrompt(PERIOD_PROMPT, self.period_validator))
        self.add_dialog(TextPrompt(STATUS_PROMPT, self.status_validator))
        self.add_dialog(TextPrompt(SPENT_PROMPT, self.spent_validator))
        self.add_dialog(TextPrompt(FORECAST_PROMPT, self.forecast_validator))
        self.add_dialog(TextPrompt(NOTE_PROMPT, self.note_validator))
        self.add_dialog(TextPrompt(REACHED_PROMPT, self.reached_validator))
        self.add_dialog(TextPrompt(YES_NO_PROMPT, yes_no_validator))
        self.add_dialog(
            WaterfallDialog(
                WaterfallDialog.__name__,
                self.steps(
                    [
                        self.measure_step,
                        self.period_step,
                        self.status_step,
                        self.spent_step,
                        self.forecast_step,
                        self.usable_step,
                        self.note_step,
                        self.reached_step,
                        self.plausible_step,
                        self.confirm_step,
                        self.save_step,
                        self.change_to,
                    ]
                ),
            )
        )
        self.initial_dialog_id = WaterfallDialog.__name__  # type: ignore[assignment]  # the SDK declares it None

    # --- steps --------------------------------------------------------------------

    async def measure_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        identity, services = who(step.context)
        today = today_of(step.context)
        views = await followable(services, identity, today)
        if not views:
            await step.context.send_activity(texts.refused(await refusal(services, identity)))
            return await end_dialog(step)
        again = "measure_id" in values_of(step)  # "ändra insats": the question alone
        unit = options_of(step).get("unit")
        if isinstance(unit, str) and any(unit in v.measure.units for v in views):  # the unit's own only
            views = [v for v in views if unit in v.measure.units]
        allowed = {str(v.measure.id): v for v in views}
        labels = [(v.measure.id, _label(v)) for v in views]
        values_of(step)["measure_preset"] = len(views) == 1

        named = [
            Candidate(c.key, _label(allowed[c.key]), c.score)  # an id named has no label of its own
            for c in map(Candidate.from_dict, [] if again else _dicts(options_of(step).get("measures")))
            if c.key in allowed
        ]
        resolution = decide_measure(named)
        if not again:
            ledger = await call(services.ledger)
            chosen = (  # the measure the chat settles at once: the card starts from it
                int(resolution.chosen.key)
                if resolution.pick == Pick.ONE and resolution.chosen is not None
                else (views[0].measure.id if len(views) == 1 else None)
            )
            shown = [chosen] if chosen is not None else [i for i, _ in labels]
            needs = await call(services.linked_needs, identity.user_id, shown)  # issue 21
            form = cards.followup_form(
                labels,
                period=default_period(
                    today,
                    ledger.measures[chosen].year if chosen is not None else years.default_year(ledger, today),
                ),
                measure_id=chosen,
                needs=needs,
                titles={v.measure.id: v.measure.title for v in views},
            )
            await step.context.send_activity(
                MessageFactory.attachment(cards.attachment(form), texts.FOLLOWUP_INTRO)
            )
        ids = [] if again else _ids(options_of(step).get("ids"))
        if ids and not any(str(i) in allowed for i in ids):  # one wording for unknown and not yours
            await step.context.send_activity(texts.no_measure_ids(ids))
        if resolution.pick == Pick.ONE and resolution.chosen is not None:
            await step.context.send_activity(texts.measure_chosen(resolution.chosen.label))
            return await step.next(resolution.chosen.key)
        if resolution.pick == Pick.ASK:
            values_of(step)["asked"] = len(resolution.options)
            choices = [choice(c.key, c.label, [allowed[c.key].measure.title]) for c in resolution.options]
            one = len(choices) == 1  # "nej" to "Menade du X?" is an answer; "ingen" of several is not
            return await step.prompt(CHOICE_PROMPT, did_you_mean_options(choices, allow_none=one))
        if len(views) == 1:
            await step.context.send_activity(texts.measure_chosen(_label(views[0])))
            return await step.next(str(views[0].measure.id))
        choices = [choice(str(v.measure.id), _label(v), [v.measure.title]) for v in views]
        return await step.prompt(CHOICE_PROMPT, choice_options(texts.ASK_MEASURE, choices))

    async def period_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result is None and values_of(step).get("asked") == 1:  # "nej" to "Menade du X?"
            return await end_dialog(step, search_again(Intent.FOLLOW_UP))  # the name again, searched
        if step.result is None:
            await step.context.send_activity(texts.NO_CHOICE)
            return await end_dialog(step)
        if step.result == SEARCH:  # another name typed at "Menade du …?": it is searched
            return await end_dialog(step, search_again(Intent.FOLLOW_UP, now=True))
        picked = int(cast(int | str, step.result))  # a choice's key: the measure id
        values_of(step)["measure_id"] = picked
        identity, services = who(step.context)
        ledger = await call(services.ledger)
        values_of(step)["title"] = ledger.measures[picked].title  # named when it is left unfinished
        needs = await call(services.measure_needs, identity.user_id, picked)  # issue 21
        values_of(step)["needs"] = [texts.need_name(n.role, n.kind.value, n.key) for n in needs.shown]
        values_of(step)["needs_others"] = needs.others
        values_of(step)["needs_people"] = needs.people  # a number reached above it is asked about
        values_of(step)[NOT_ASKED_REACHED] = not needs
        default = default_period(today_of(step.context), ledger.measures[picked].year)
        options = text_options(
            texts.ask_period(default), validations={"default": default, "measure_id": picked}
        )
        options.prompt = question(texts.ask_period(default), [default])
        return await step.prompt(PERIOD_PROMPT, options)

    async def status_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step)["period"] = step.result
        statuses = [s.value for s in Status]
        options = text_options(texts.numbered(texts.ASK_STATUS, statuses))
        options.prompt = question(texts.numbered(texts.ASK_STATUS, statuses), texts.STATUS_BUTTONS)
        return await step.prompt(STATUS_PROMPT, options)

    async def spent_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step)["status"] = step.result
        return await step.prompt(SPENT_PROMPT, text_options(texts.ASK_SPENT))

    async def forecast_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step)["spent"] = step.result
        return await step.prompt(
            FORECAST_PROMPT,
            text_options(texts.ask_forecast(cast(int, step.result)), validations={"spent": step.result}),
        )

    async def usable_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step)["forecast"] = step.result
        return await step.prompt(YES_NO_PROMPT, yes_no_options(texts.ASK_USABLE))

    async def note_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step)["usable"] = step.result
        return await step.prompt(NOTE_PROMPT, text_options(texts.ASK_NOTE))

    async def reached_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Issue 21: how many people a measure linked to a competence need has reached so
        far (optional); a measure that answers no need is not asked."""
        values_of(step)["note"] = step.result
        v = values_of(step)
        if v.get(NOT_ASKED_REACHED, True):
            return await step.next(None)
        names = [n for n in v.get("needs") or () if isinstance(n, str)]
        others = v.get("needs_others")
        asked = texts.ask_reached(names, others if isinstance(others, int) else 0)
        options = text_options(asked)
        options.prompt = question(asked, [texts.SKIP_REACHED_BUTTON])
        return await step.prompt(REACHED_PROMPT, options)

    async def plausible_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Issue 17 item 4: a spend or forecast over twice the measure's money is
        asked about explicitly (the core's rule names the amount and the money); issue 21:
        so is more people reached than the needs the measure answers concern."""
        values_of(step)["reached"] = step.result
        v = values_of(step)
        _, services = who(step.context)
        ledger = await call(services.ledger)
        probe = probe_of(v, services.clock())
        amounts = implausible_amounts(ledger, probe)
        values_of(step)["amount_confirmed"] = bool(amounts)
        problems = [p.message for p in amounts]
        wrong = [_AMOUNT_FIELDS.get(p.field or "", "spent") for p in amounts]
        people = _people(v)
        over = reached_exceeds(probe.reached, people)
        if over and probe.reached is not None and people is not None:
            problems.append(texts.reached_over_people(probe.reached, people))
            wrong.append("reached")
        values_of(step)["implausible"] = wrong
        if not problems:
            return await step.next(True)
        asked = texts.confirm_checked(problems, amount=bool(amounts), reached=over)
        return await step.prompt(YES_NO_PROMPT, yes_no_options(asked))

    async def confirm_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if not step.result:  # "nej, fel belopp": that amount asked again, the other answers kept
            wrong = values_of(step).pop("implausible", None)
            wrong = wrong if isinstance(wrong, list) else []
            reached = ["reached"] if "reached" in wrong else []  # issue 21: the number of people too
            name = next((f for f in ("spent", "forecast") if f in wrong), None)
            if name is None and reached:
                await step.context.send_activity(texts.REACHED_AGAIN)
                return await self.jump(step, "reached", [CONFIRM])
            name = name or "spent"
            await step.context.send_activity(texts.AMOUNT_AGAIN)
            after = [f for f in self.flow.fields[name].then if f != name]
            return await self.jump(step, name, [*after, *reached, CONFIRM])
        values_of(step)["once"] = new_once_key()  # a repeated "ja" to this summary saves once
        v = values_of(step)
        _, services = who(step.context)
        ledger = await call(services.ledger)
        summary = cards.followup_summary(
            heading=texts.FOLLOWUP_SUMMARY_TITLE,
            title=ledger.measures[v["measure_id"]].title,
            period=v["period"],
            status=v["status"],
            spent=v["spent"],
            forecast=v["forecast"],
            usable=v["usable"],
            note=v["note"],
            reached=_reached(v),
            warnings=_warnings(ledger, probe_of(v, services.clock()), _people(v)),
        )
        return await step.prompt(
            YES_NO_PROMPT, yes_no_options(texts.CONFIRM_FOLLOWUP, [cards.attachment(summary)])
        )

    async def save_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        v = values_of(step)
        if not step.result:  # nothing saved, nothing thrown away: what to change
            return await step.prompt(CHOICE_PROMPT, self.change_options_for(v))
        await save(
            step.context,
            measure_id=v["measure_id"],
            period=v["period"],
            status=Status(v["status"]),
            spent=v["spent"],
            forecast=v["forecast"],
            usable=v["usable"],
            note=v["note"],
            once=v.get("once"),
            amount_confirmed=bool(v.get("amount_confirmed")),
            reached=_reached(v),
        )
        return await end_dialog(step)

    def change_options_for(self, values: dict[str, Any]) -> PromptOptions:
        """ "What to change?": every field, but how many people the measure has reached when
        it was not asked (the measure answers no competence need)."""
        if not values.get(NOT_ASKED_REACHED, True):
            return self.change_options()
        names = [n for f, n in self.flow.names.items() if f != "reached"]
        choices = [c for c in self.flow.change_choices() if c["key"] != "reached"]
        options: PromptOptions = choice_options(texts.what_to_change(names), choices, listed=True)
        return options

    # --- validators ------------------------------------------------------------------

    async def period_validator(self, prompt_context: PromptValidatorContext) -> bool:
        text = answer_text(prompt_context)
        if text is None:
            return refuse(prompt_context, texts.TEXT_ONLY)
        default = validations_of(prompt_context.options)["default"]
        try:  # "ja" takes the default; a month alone ("juni") is of the year the default is in
            period = forms.read_period(text, int(default[:4]), default=default)
        except InputError as bad:
            return refuse(prompt_context, bad.message)
        _, services = who(prompt_context.context)
        measure_id = validations_of(prompt_context.options).get("measure_id")
        if measure_id is not None:  # tryout 2 item 8: a period before the measure's year, at once
            ledger = await call(queries(services).summary_ledger)
            if early := check_period_for_measure(ledger, int(measure_id), period):
                return refuse(prompt_context, early[0].message)
        closed = await call(services.period_refusal, period)  # issue 17 item 5: said at once
        if closed is not None:
            return refuse(prompt_context, closed)
        prompt_context.recognized.value = period
        return True

    async def status_validator(self, prompt_context: PromptValidatorContext) -> bool:
        text = answer_text(prompt_context)
        if text is None:
            return refuse(prompt_context, texts.TEXT_ONLY)
        validations = validations_of(prompt_context.options)
        try:
            prompt_context.recognized.value = forms.read_status(
                text, numbered=True
            ).value  # the numbered list
        except InputError as bad:
            if validations.get("guess") in _STATUSES and parse_yes_no(text):  # "ja" to "Menade du Pågående?"
                prompt_context.recognized.value = validations["guess"]
                return True
            guess = forms.status_guess(text)
            validations["guess"] = guess.value if guess is not None else ""
            return refuse(prompt_context, bad.message)
        return True

    async def spent_validator(self, prompt_context: PromptValidatorContext) -> bool:
        text = answer_text(prompt_context)
        if text is None:
            return refuse(prompt_context, texts.TEXT_ONLY)
        try:
            prompt_context.recognized.value = forms.read_amount(text, "utfall", allow_zero=True)
        except InputError as bad:
            return refuse(prompt_context, bad.message)
        return True

    async def forecast_validator(self, prompt_context: PromptValidatorContext) -> bool:
        text = answer_text(prompt_context)
        if text is None:
            return refuse(prompt_context, texts.TEXT_ONLY)
        try:
            forecast = forms.read_amount(text, "prognos", allow_zero=True)
        except InputError as bad:
            return refuse(prompt_context, bad.message)
        spent = int(validations_of(prompt_context.options).get("spent", 0))
        if forecast < spent:
            return refuse(prompt_context, forms.forecast_below_spent(forecast, spent).message)
        prompt_context.recognized.value = forecast
        return True

    async def reached_validator(self, prompt_context: PromptValidatorContext) -> bool:
        text = answer_text(prompt_context)
        if text is None:
            return refuse(prompt_context, texts.TEXT_ONLY)
        try:
            prompt_context.recognized.value = forms.read_reached(text)  # "hoppa över", "vet inte": None
        except InputError as bad:
            return refuse(prompt_context, bad.message)
        return True

    async def note_validator(self, prompt_context: PromptValidatorContext) -> bool:
        text = answer_text(prompt_context)
        if text is None:
            return refuse(prompt_context, texts.TEXT_ONLY)
        try:
            prompt_context.recognized.value = forms.read_note(text)  # "-": none
        except InputError as bad:
            return refuse(prompt_context, bad.message)
        return True

    # --- the form -------------------------------------------------------------------

    @staticmethod
    async def submit_form(turn_context: TurnContext, data: dict[str, Any]) -> bool:
        """Check a submitted follow-up form field by field; save it only when all is well
        (whether it was saved)."""
        identity, services = who(turn_context)
        views = await followable(services, identity, today_of(turn_context))
        if not views:
            await turn_context.send_activity(texts.refused(await refusal(services, identity)))
            return False
        allowed = {v.measure.id for v in views}
        problems: list[str] = []

        measure_id = None
        raw_id = data.get("measure_id")
        if raw_id is None or raw_id == "":
            problems.append(texts.field_missing(texts.LABEL_TITLE))
        elif isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
            problems.append(texts.field_wrong_type(texts.LABEL_TITLE, texts.MEASURE_CHOICE_HINT))
        elif card_id(raw_id) not in allowed:
            problems.append(texts.measure_not_allowed(str(raw_id)[:40]))
        else:
            measure_id = card_id(raw_id)

        ledger = await call(queries(services).summary_ledger)  # the catalogue: no row read again
        parsed = forms.parse_followup(data, year=years.month_year(ledger, measure_id, today_of(turn_context)))
        problems += parsed.messages
        draft = parsed.draft
        if measure_id is not None and draft is not None and draft.reached is not None:
            linked = await call(services.measure_needs, identity.user_id, measure_id)  # issue 21
            if not linked:  # the card asks it for measures linked to a competence need only
                problems.append(texts.reached_not_linked(ledger.measures[measure_id].title))

        if problems or measure_id is None or draft is None or draft.period is None:
            await turn_context.send_activity(texts.form_refused(problems))
            return False
        return await save(
            turn_context,
            measure_id=measure_id,
            period=draft.period,
            status=draft.status,
            spent=draft.spent,
            forecast=draft.forecast,
            usable=draft.usable_as_planned,
            note=draft.note,
            once=once_key(data),
            reached=draft.reached,
        )


# --- shared ---------------------------------------------------------------------------


def _reached(values: dict[str, Any]) -> int | None:
    """How many people the measure has reached, as the dialog keeps it (None: not asked,
    skipped; anything else, from old or forged state, is not taken)."""
    value = values.get("reached")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _people(values: dict[str, Any]) -> int | None:
    """How many people the needs of the chosen measure concern (core.rounds.CardNeeds.people),
    as the dialog keeps it (anything else, from old or forged state, is not taken)."""
    value = values.get("needs_people")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def probe_of(values: dict[str, Any], at: datetime) -> FollowUp:
    """The follow-up the dialog's answers make, for the rules to look at before it is saved."""
    return FollowUp(
        values["measure_id"],
        values["period"],
        Status(values["status"]),
        values["spent"],
        values["forecast"],
        values["usable"],
        "",
        "",
        at,
        reached=_reached(values),
    )


def _warnings(ledger: Ledger, followup: FollowUp, people: int | None) -> list[str]:
    """What the summary and the receipt note as unusual but kept: a forecast above the
    measure's money (twice it is asked about first), more people reached than the needs concern."""
    out = []
    if (money := money_exceeded(ledger, followup)) is not None:
        out.append(texts.forecast_over_money(followup.forecast, money))
    if reached_exceeds(followup.reached, people):
        assert followup.reached is not None and people is not None
        out.append(texts.reached_over_people(followup.reached, people))
    return out


def _dicts(value: object) -> list[dict[str, Any]]:
    """The candidate dicts of stored options (anything else dropped: old or forged state)."""
    items = value if isinstance(value, list) else []
    return [c for c in items if isinstance(c, dict) and "key" in c and "label" in c and "score" in c]


def _ids(value: object) -> list[int]:
    items = value if isinstance(value, list) else []
    return [i for i in items if isinstance(i, int) and not isinstance(i, bool)]


def _label(view: MeasureView) -> str:
    return f"{view.measure.title} ({', '.join(view.measure.units)})"


def default_period(today: date, year: int) -> str:
    """This month for a measure of this year; for another year's measure, the month of that
    year nearest today (December of a past year), so the follow-up counts in its year."""
    if year < today.year:
        return f"{year:04d}-12"
    if year > today.year:
        return f"{year:04d}-01"
    return f"{today.year:04d}-{today.month:02d}"


async def followable(services: CityServices, identity: Identity, today: date) -> list[MeasureView]:
    """The measures the user may leave a follow-up for."""
    try:
        views = await call(queries(services, identity.user_id, today).measures, identity.user_id, as_of=today)
    except DomainError:
        return []
    principal = await call(queries(services, identity.user_id).principal, identity.user_id)
    return [v for v in views if can_any(principal, Action.FOLLOW_UP, v.measure.units)]


async def refusal(services: CityServices, identity: Identity) -> str:
    principal = await call(queries(services, identity.user_id).principal, identity.user_id)
    own = sorted({g.unit for g in principal.grants if g.unit})
    try:
        require(principal, Action.FOLLOW_UP, own)
    except PermissionDenied as refused:
        return refused.message
    return texts.NO_FOLLOWUP_MEASURES


async def save(
    turn_context: TurnContext,
    *,
    measure_id: int,
    period: str,
    status: Status,
    spent: int,
    forecast: int,
    usable: bool,
    note: str,
    once: str | None = None,
    amount_confirmed: bool = False,
    reached: int | None = None,
) -> bool:
    """Add the follow-up through the core; send the receipt or the refusal (whether it was saved).
    `once`: the key that keeps a repeated confirmation from saving twice;
    `amount_confirmed`: the person said yes to an implausible amount (the form
    has no such question: there the core refuses it, with the reason)."""
    identity, services = who(turn_context)
    try:
        stored = await call(
            services.add_followup,
            identity.user_id,
            str(measure_id),
            period=period,
            status=status,
            spent=spent,
            forecast=forecast,
            usable_as_planned=usable,
            note=note,
            author=person_name(identity.name) or None,
            once=once,
            amount_confirmed=amount_confirmed,
            reached=reached,
        )
    except AlreadySaved as done:
        await turn_context.send_activity(await already_saved(turn_context, done))
        return False
    except DomainError as refused:
        hint = texts.IMPLAUSIBLE_IN_CARD if is_implausible(list(refused.errors)) else ""
        await turn_context.send_activity(texts.save_failed(refused.message + hint))
        return False
    ledger = await call(services.ledger)
    title = ledger.measures[measure_id].title
    people = None
    if stored.reached is not None:  # issue 21: more reached than the needs concern is noted
        people = (await call(services.measure_needs, identity.user_id, measure_id)).people
    receipt = cards.followup_summary(
        heading=texts.FOLLOWUP_RECEIPT_TITLE,
        title=title,
        period=stored.period,
        status=stored.status.value,
        spent=stored.spent,
        forecast=stored.forecast,
        usable=stored.usable_as_planned,
        note=stored.note,
        reached=stored.reached,
        seq=stored.seq,
        author=texts.reported_by(identity.name or stored.author, stored.for_name),
        warnings=_warnings(ledger, stored, people),
    )
    await turn_context.send_activity(
        MessageFactory.attachment(
            cards.attachment(receipt), texts.followup_saved(title, stored.period, stored.seq)
        )
    )
    return True


@begins(Intent.FOLLOW_UP, FollowUpDialog, saves=True)
def follow_up_route(heard: Understanding) -> Route:
    """ "uppföljning", "följa upp Chefsutveckling", "uppföljning för 12": the measures named,
    an id as sure as a name can be."""
    by_id = [Candidate(str(i), "", 100.0) for i in heard.measure_ids]
    named: dict[str, Candidate] = {}
    for candidate in (*by_id, *heard.measures):  # an id first: it is what was meant
        named.setdefault(candidate.key, candidate)
    return FollowUpDialog.__name__, {
        "measures": [c.as_dict() for c in named.values()],
        "ids": list(heard.measure_ids),
        "unit": one_unit(heard),
    }
