"""HR submits a measure: unit, title, description, target group, strategy
categories, start and end date (questioned when outside the money's year or
already past), performer and amount, a summary to confirm, then saved through
the core with a receipt. The same as one Adaptive Card form, pre-filled with
what the chat has settled, whose submission is validated field by field on the
server and then goes to the same summary and confirmation ("nej" gives the form
back, filled in)."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from microsoft_agents.hosting.core import MessageFactory, TurnContext
from microsoft_agents.hosting.dialogs import (
    DialogContext,
    DialogInstance,
    DialogTurnResult,
    DialogTurnStatus,
    PromptOptions,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)

from core import forms, vocabulary
from core.dates import parse_date, parse_start_date
from core.errors import AlreadySaved, DomainError, InputError, PermissionDenied
from core.ledger import Ledger
from core.limits import MAX_DESCRIPTION, MAX_PERFORMER, MAX_TARGET_GROUP
from core.model import Category, Decision, Measure, Principal, Status, Unit, parse_body
from core.money import parse_amount
from core.needs import NeedEntry, NeedKind
from core.permissions import Action, can, require
from core.rules import amount_fits, unit_unallocated, years
from core.rules.measure import end_before_start
from core.rules.measure_dates import date_questions
from core.text import clean_name
from dialogs import cards, prompts, texts
from dialogs.answers import Route, begins
from dialogs.form_flow import KEEP_NOW, Field, Flow, FormDialog
from dialogs.ports import CityServices
from dialogs.prompts import (
    CHOICE_PROMPT,
    YES_NO_PROMPT,
    answer_text,
    choice,
    choice_options,
    choice_validator,
    need_choices,
    refuse,
    text_options,
    yes_no_options,
    yes_no_validator,
)
from dialogs.steps import begin_dialog, end_dialog, options_of, reprompt, validations_of, values_of
from dialogs.submissions import new_once_key, once_key
from dialogs.turn import Identity, already_saved, call, identity_of, needs_of, queries, today_of, who
from dialogs.understanding import Pick, Understanding, decide_unit, match_units, one_unit, parse_categories

TITLE_PROMPT = "TitlePrompt"
DESCRIPTION_PROMPT = "DescriptionPrompt"
TARGET_GROUP_PROMPT = "TargetGroupPrompt"
CATEGORIES_PROMPT = "CategoriesPrompt"
START_DATE_PROMPT = "StartDatePrompt"
END_DATE_PROMPT = "EndDatePrompt"
PERFORMER_PROMPT = "PerformerPrompt"
AMOUNT_PROMPT = "AmountPrompt"
DECISION_PROMPT = "DecisionPrompt"
SKIP = vocabulary.SKIP
CATEGORY_NAMES = [c.value for c in Category]
DATES_DIALOG = "MeasureDatesDialog"
"""The start and end date, and the question when they lie outside the money's year."""
FORM_DIALOG = "MeasureFormDialog"
"""A checked form: the same summary and confirmation as the chat, then saved."""

FLOW = Flow(
    fields={
        "unit": Field(0, CHOICE_PROMPT, then=("amount", "decision", "need")),
        "title": Field(1, TITLE_PROMPT),
        "description": Field(2, DESCRIPTION_PROMPT),
        "target_group": Field(3, TARGET_GROUP_PROMPT),
        "categories": Field(4, CATEGORIES_PROMPT),
        "start_date": Field(5, START_DATE_PROMPT),
        "end_date": Field(5, END_DATE_PROMPT, options={"keep_start": True}),
        "performer": Field(7, PERFORMER_PROMPT),
        "amount": Field(8, AMOUNT_PROMPT),
        "decision": Field(9, DECISION_PROMPT),
        "need": Field(10, CHOICE_PROMPT, options={"need_asked": True}),  # issue 21: optional
    },
    stores={
        1: "unit",
        2: "title",
        3: "description",
        4: "target_group",
        5: "categories",
        6: "*",
        7: "end_date",
        8: "performer",
        9: "amount",
        10: "decision",
        11: "need",
    },
    confirm_step=11,
    save_step=12,
    confirm_places=frozenset({11, 12}),
    words=vocabulary.MEASURE_FIELDS,
    names=texts.MEASURE_FIELD_NAMES,
    kept=texts.KEPT_MEASURE,
    what=texts.THE_MEASURE,
    preset={"unit": "unit_preset", "need": "need_skipped"},
)
"""The measure's fields, for going back and changing them (dialogs.form_flow)."""


class SubmitMeasureDialog(FormDialog):
    """Options (JSON): {"unit": code | None} (a unit named in the request), or
    {"form": values} (a form that submit_form has checked: it goes to the summary
    and the confirmation)."""

    def __init__(self) -> None:
        super().__init__(SubmitMeasureDialog.__name__, FLOW)
        self.add_dialog(TextPrompt(CHOICE_PROMPT, choice_validator))
        self.add_dialog(TextPrompt(TITLE_PROMPT, self.title_validator))
        self.add_dialog(TextPrompt(DESCRIPTION_PROMPT, self.description_validator))
        self.add_dialog(TextPrompt(TARGET_GROUP_PROMPT, self.target_group_validator))
        self.add_dialog(TextPrompt(CATEGORIES_PROMPT, self.categories_validator))
        self.add_dialog(TextPrompt(START_DATE_PROMPT, self.start_date_validator))
        self.add_dialog(TextPrompt(END_DATE_PROMPT, self.end_date_validator))
        self.add_dialog(TextPrompt(PERFORMER_PROMPT, self.performer_validator))
        self.add_dialog(TextPrompt(AMOUNT_PROMPT, self.amount_validator))
        self.add_dialog(TextPrompt(DECISION_PROMPT, self.decision_validator))
        self.add_dialog(TextPrompt(YES_NO_PROMPT, yes_no_validator))
        self.add_dialog(
            WaterfallDialog(
                WaterfallDialog.__name__,
                self.steps(
                    [
                        self.unit_step,
                        self.title_step,
                        self.description_step,
                        self.target_group_step,
                        self.categories_step,
                        self.start_date_step,
                        self.end_date_step,
                        self.performer_step,
                        self.amount_step,
                        self.decision_step,
                        self.need_step,
                        self.confirm_step,
                        self.save_step,
                        self.change_to,
                    ]
                ),
            )
        )
        self.add_dialog(
            WaterfallDialog(
                DATES_DIALOG,
                [self.dates_start_step, self.dates_end_step, self.dates_check_step, self.dates_done_step],
            )
        )
        self.add_dialog(
            WaterfallDialog(FORM_DIALOG, [self.form_step, self.confirm_step, self.save_step, self.change_to])
        )
        self.initial_dialog_id = WaterfallDialog.__name__  # type: ignore[assignment]  # the SDK declares it None

    async def on_begin_dialog(self, inner_dc: DialogContext, options: object) -> DialogTurnResult:
        if isinstance(options, dict) and isinstance(options.get("form"), dict):
            return await begin_dialog(inner_dc, FORM_DIALOG, options)
        return await super().on_begin_dialog(inner_dc, options)

    # --- steps --------------------------------------------------------------------

    async def unit_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        identity, services = who(step.context)
        ledger, allowed = await allowed_units(services, identity)
        if not allowed:
            asked = options_of(step).get("unit")
            await step.context.send_activity(texts.refused(await refusal(services, identity, asked)))
            return await end_dialog(step)
        again = "unit" in values_of(step)  # "ändra nämnd": the question alone
        asked = None if again else options_of(step).get("unit")
        unknown = "" if again else options_of(step).get("unknown") or ""  # named, not a unit: never the own
        alone = asked is None and not unknown and len(allowed) == 1
        preset = asked if asked in allowed else allowed[0] if alone else None
        values_of(step)["unit_preset"] = alone  # never asked: nothing to go back to
        # The form starts from what the chat settles: the unit named (or the only
        # one); none chosen for the person when the chat asks which.
        if not again:
            form = cards.submit_measure_form(
                _unit_pairs(ledger, allowed),
                default_unit=preset or "",
                needs=await form_needs(step.context, ledger, allowed),
            )
            await step.context.send_activity(
                MessageFactory.attachment(cards.attachment(form), texts.SUBMIT_INTRO)
            )
        if preset is not None:
            await step.context.send_activity(texts.unit_chosen(_unit_label(ledger.units[preset])))
            return await step.next(preset)
        if isinstance(asked, str) and asked in ledger.units:  # named, not theirs: said, never switched
            said = texts.not_your_unit(
                _unit_label(ledger.units[asked]), [_unit_label(ledger.units[c]) for c in allowed]
            )
            principal = await call(queries(services, identity.user_id).principal, identity.user_id)
            if any(g.unit == asked for g in principal.stand_in):  # issue 22: standing in gives no right
                said += " " + texts.stand_in_no_submit([asked])
            await step.context.send_activity(said)
        elif unknown:
            await step.context.send_activity(
                texts.unit_not_found(unknown, [_unit_label(ledger.units[c]) for c in allowed])
            )
        values_of(step)["unit_asked"] = True  # the answer is echoed: which unit the chat understood
        choices = [
            choice(code, _unit_label(ledger.units[code]), ledger.units[code].names()) for code in allowed
        ]
        return await step.prompt(CHOICE_PROMPT, choice_options(texts.ASK_UNIT, choices))

    async def title_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step)["unit"] = step.result
        unit, year, free = await self.free_money(step)
        if values_of(step).pop("unit_asked", False):
            await step.context.send_activity(texts.unit_chosen(_unit_label(unit)))
        if free <= 0:  # nothing to ask about: the unit has no money left to allocate
            await step.context.send_activity(texts.no_free_money(_unit_label(unit), year))
            return await end_dialog(step)
        values_of(step)["year"] = year  # the dates are checked against it
        return await step.prompt(TITLE_PROMPT, text_options(texts.ASK_TITLE))

    async def description_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step)["title"] = step.result
        return await step.prompt(DESCRIPTION_PROMPT, text_options(texts.ASK_DESCRIPTION))

    async def target_group_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step)["description"] = step.result
        return await step.prompt(TARGET_GROUP_PROMPT, text_options(texts.ASK_TARGET_GROUP))

    async def categories_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step)["target_group"] = step.result
        question = texts.ask_categories(CATEGORY_NAMES)
        return await step.prompt(
            CATEGORIES_PROMPT,
            PromptOptions(
                prompt=prompts.question(question, CATEGORY_NAMES),
                retry_prompt=prompts.question(question, CATEGORY_NAMES),
            ),
        )

    async def start_date_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step)["categories"] = step.result
        dates: dict[str, Any] = {"year": values_of(step)["year"]}
        if values_of(step).pop("keep_start", False):  # "ändra slutdatum": the start stays
            dates["kept_start"] = values_of(step).get("start_date")
        return await begin_dialog(step, DATES_DIALOG, dates)

    async def end_date_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        dates = cast(dict[str, Any], step.result)  # from DATES_DIALOG: start_date, end_date, …
        values_of(step).update(dates)
        return await step.next(dates["end_date"])

    async def performer_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step)["end_date"] = step.result
        return await step.prompt(PERFORMER_PROMPT, text_options(texts.ASK_PERFORMER))

    async def amount_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step)["performer"] = step.result
        unit, year, free = await self.free_money(step)
        values_of(step)["year"] = year
        question = texts.ask_amount(_unit_label(unit), free, year)
        return await step.prompt(
            AMOUNT_PROMPT, text_options(question, validations={"unit": unit.code, "year": year})
        )

    async def decision_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Issue 17 item 3: the decision that grants the money; its body defaults to the unit."""
        values_of(step)["amount"] = step.result
        _, services = who(step.context)
        ledger = await call(queries(services).summary_ledger)
        unit = ledger.units[values_of(step)["unit"]]
        return await step.prompt(
            DECISION_PROMPT,
            text_options(
                texts.ask_decision(_unit_label(unit), unit.code),
                validations={"unit": unit.code, "year": values_of(step).get("year")},
            ),
        )

    async def need_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Issue 21: which of the unit's needs the measure answers, optionally; not asked when the
        unit has none, nor without a decision (nothing is saved then: the confirmation keeps it)."""
        values_of(step)["decision"] = step.result
        asked = values_of(step).pop("need_asked", False)  # "ändra behov", or after a new unit
        if step.result is None:
            return await step.next(None)
        unit = values_of(step)["unit"]
        needs = await unit_needs_offered(step.context, unit)
        offered = [(n.key, texts.need_label(n.key, n.role, n.kind.value)) for n in needs]
        values_of(step)["need_skipped"] = not offered  # never asked: nothing to go back to
        _, services = who(step.context)
        ledger = await call(queries(services).summary_ledger)
        label = _unit_label(ledger.units[unit])
        if not offered:
            if asked:
                await step.context.send_activity(texts.no_unit_needs(label))
            return await step.next(None)
        choices = [choice(key, title, (key,)) for key, title in offered]
        choices.append(choice(cards.NO_NEED_VALUE, texts.NO_NEED, NO_NEED_WORDS))
        options = choice_options(texts.ask_need(label), choices)
        # "förskollärare", "introduktion förskollärare": a need by its role or kind, asked which of several
        validations_of(options)["needs"] = need_choices([(n.key, n.role, n.kind.value) for n in needs])
        return await step.prompt(CHOICE_PROMPT, options)

    async def confirm_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step)["need"] = _need_key(step.result)
        # A repeated "ja" to this summary saves once (a form's own token: one card saves once).
        values_of(step)["once"] = values_of(step).get("once") or new_once_key()
        _, services = who(step.context)
        ledger = await call(queries(services).summary_ledger)
        v = values_of(step)
        decision = decision_from_state(v.get("decision"))
        if decision is None:  # nothing is saved without one: kept, resumed at the decision
            return await self.keep_for_decision(step)
        plan = _plan(v)
        questions = [
            q.message
            for q in date_questions(plan["start"], plan["end"], v["year"], today_of(step.context))
            if not v.get("dates_confirmed")  # the chat asked about them already
        ]
        summary = cards.measure_summary(
            heading=texts.MEASURE_SUMMARY_TITLE,
            unit=_unit_label(ledger.units[v["unit"]]),
            amount=v["amount"],
            decision=decision.reference if decision is not None else None,  # None: the core saved nothing
            warnings=questions,
            need=await need_label_of(step.context, v["unit"], v.get("need")),
            **plan,
        )
        confirm = texts.confirm_measure_despite(questions) if questions else texts.CONFIRM_MEASURE
        return await step.prompt(YES_NO_PROMPT, yes_no_options(confirm, [cards.attachment(summary)]))

    async def save_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if not step.result:  # nothing saved, nothing thrown away: what to change (or the form, filled in)
            return await self.what_to_change(step)
        v = values_of(step)
        await save(
            step.context,
            unit=v["unit"],
            amount=v["amount"],
            year=v["year"],
            once=v.get("once"),
            decision=decision_from_state(v.get("decision")),
            need=_need_key(v.get("need")),
            **_plan(v),
        )
        return await end_dialog(step)

    async def what_to_change(self, step: WaterfallStepContext) -> DialogTurnResult:
        """ "nej" at the confirmation: which field to change, the form filled in beside it."""
        identity, services = who(step.context)
        ledger, allowed = await allowed_units(services, identity)
        options = self.change_options(texts.NOT_SAVED_FORM_BACK)
        if values_of(step)["unit"] in allowed and options.prompt is not None:
            form = cards.submit_measure_form(
                _unit_pairs(ledger, allowed),
                default_unit=values_of(step)["unit"],
                values=_form_values(values_of(step)),
                needs=await form_needs(step.context, ledger, allowed),
            )
            options.prompt.attachments = [cards.attachment(form)]
        return await step.prompt(CHOICE_PROMPT, options)

    async def set_directly(
        self, dc: DialogContext, name: str, value: str, later: list[str]
    ) -> DialogTurnResult:
        """ "oj fel nämnd, det ska vara grundskolan": a unit that is not the person's is said
        as at the start, and nothing changes (tryout item 10: it was silently ignored)."""
        refused = await self.unit_refusal(dc.context, value) if name == "unit" else None
        if refused is None:
            return await super().set_directly(dc, name, value, later)
        await dc.context.send_activity(refused)
        await reprompt(dc)
        return DialogTurnResult(DialogTurnStatus.Waiting)

    @staticmethod
    async def unit_refusal(context: TurnContext, value: str) -> str | None:
        """Why `value` cannot be the measure's unit (one named that is not the person's, or
        none found); None when it may be (the unit question then decides, as typed there)."""
        identity, services = who(context)
        ledger, allowed = await allowed_units(services, identity)
        labels = [_unit_label(ledger.units[code]) for code in allowed]
        candidates, _ = match_units(value, ledger.units.values())
        resolution = decide_unit(candidates)
        if resolution.pick == Pick.ONE and resolution.chosen is not None:
            code = resolution.chosen.key
            if code in ledger.units and code not in allowed:
                return texts.not_your_unit(_unit_label(ledger.units[code]), labels)
            return None
        if resolution.pick == Pick.NONE:
            return texts.unit_not_found(value, labels)
        return None

    def sub_field(self, here: str, sub: DialogInstance) -> str:
        if sub.id == DATES_DIALOG and int(sub.state.get(WaterfallDialog.StepIndex, 0)) >= 1:
            return "end_date"
        return here

    async def keep_for_decision(self, step: WaterfallStepContext) -> DialogTurnResult:
        """ "inget beslut": nothing saved; the measure kept at its decision question ("fortsätt"
        asks it when there is one, the main dialog keeps it: KEEP_NOW), with the form filled in
        with all the person gave (tryout item 7: the chat form ended, only the card was left)."""
        identity, services = who(step.context)
        ledger, allowed = await allowed_units(services, identity)
        if values_of(step)["unit"] not in allowed:
            await step.context.send_activity(texts.NOT_SAVED)
            return await end_dialog(step)
        form = cards.submit_measure_form(
            _unit_pairs(ledger, allowed),
            default_unit=values_of(step)["unit"],
            values=_form_values(values_of(step)),
            needs=await form_needs(step.context, ledger, allowed),
        )
        waiting = await self.ask_quietly(step, "decision")
        await step.context.send_activity(
            MessageFactory.attachment(cards.attachment(form), texts.NO_DECISION_KEPT)
        )
        step.context.turn_state[KEEP_NOW] = True
        return waiting

    # --- the dates (DATES_DIALOG; options {"year": the money's year}) ---------------

    async def dates_start_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if "kept_start" in options_of(step):  # "ändra slutdatum": the end date alone
            return await step.next(options_of(step)["kept_start"])
        again = bool(options_of(step).get("again"))  # after "nej": a date without a year is the money's
        if again:
            await step.context.send_activity(texts.dates_again(int(options_of(step)["year"])))
        year = {"year": int(options_of(step)["year"])} if again else {}
        return await step.prompt(START_DATE_PROMPT, text_options(texts.ASK_START_DATE, validations=year))

    async def dates_end_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step)["start_date"] = step.result
        year = {"year": int(options_of(step)["year"])} if options_of(step).get("again") else {}
        return await step.prompt(
            END_DATE_PROMPT, text_options(texts.ASK_END_DATE, validations={"start": step.result, **year})
        )

    async def dates_check_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Dates outside the money's year, or an end already past: asked before going on."""
        values_of(step)["end_date"] = step.result
        start, end = values_of(step)["start_date"], step.result
        questions = date_questions(
            date.fromisoformat(start) if start else None,
            date.fromisoformat(str(end)),
            int(options_of(step)["year"]),
            today_of(step.context),
        )
        if not questions:
            return await end_dialog(step, {"start_date": start, "end_date": end})
        return await step.prompt(
            YES_NO_PROMPT, yes_no_options(texts.dates_questioned([q.message for q in questions]))
        )

    async def dates_done_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if not step.result:  # "nej": the dates again, read in the money's year (its "menade du")
            return await step.replace_dialog(DATES_DIALOG, {**options_of(step), "again": True})
        v = values_of(step)
        return await end_dialog(
            step, {"start_date": v["start_date"], "end_date": v["end_date"], "dates_confirmed": True}
        )

    # --- a checked form (FORM_DIALOG) --------------------------------------------------

    async def form_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values_of(step).update(options_of(step)["form"])
        return await step.next(values_of(step).get("need"))  # the confirmation stores it

    async def free_money(self, step: WaterfallStepContext) -> tuple[Unit, int, int]:
        """The chosen unit, the fund year and the unit's money not yet allocated to measures."""
        _, services = who(step.context)
        ledger = await call(queries(services).summary_ledger)
        unit = ledger.units[values_of(step)["unit"]]
        year = years.default_year(ledger, today_of(step.context))
        return unit, year, unit_unallocated(ledger, unit.code, year)

    # --- validators ------------------------------------------------------------------

    async def title_validator(self, prompt_context: PromptValidatorContext) -> bool:
        text = answer_text(prompt_context)
        if text is None:
            return refuse(prompt_context, texts.TEXT_ONLY)
        try:
            forms.read_title(text)
        except InputError as bad:
            return refuse(prompt_context, bad.message)
        _, services = who(prompt_context.context)
        ledger = await call(queries(services).summary_ledger)
        # the core's refusal of a title the year already has, said at the question instead of at the end
        taken = forms.title_taken(ledger, text, years.default_year(ledger, today_of(prompt_context.context)))
        if taken:
            return refuse(prompt_context, taken[0].message)
        prompt_context.recognized.value = clean_name(text)
        return True

    async def description_validator(self, prompt_context: PromptValidatorContext) -> bool:
        text = answer_text(prompt_context)
        if text is None:
            return refuse(prompt_context, texts.TEXT_ONLY)
        try:
            prompt_context.recognized.value = forms.read_text(text, texts.LABEL_DESCRIPTION, MAX_DESCRIPTION)
        except InputError as bad:
            return refuse(prompt_context, bad.message)
        return True

    async def target_group_validator(self, prompt_context: PromptValidatorContext) -> bool:
        return _optional_text(prompt_context, texts.LABEL_TARGET_GROUP, MAX_TARGET_GROUP)

    async def performer_validator(self, prompt_context: PromptValidatorContext) -> bool:
        if not _optional_text(prompt_context, texts.LABEL_PERFORMER, MAX_PERFORMER):
            return False
        prompt_context.recognized.value = clean_name(str(prompt_context.recognized.value))  # _optional_text's
        return True

    async def categories_validator(self, prompt_context: PromptValidatorContext) -> bool:
        text = answer_text(prompt_context)
        if text is None:
            return refuse(prompt_context, texts.TEXT_ONLY)
        found = parse_categories(text)
        if found is None:
            return refuse(prompt_context, texts.unknown_categories(text, CATEGORY_NAMES))
        prompt_context.recognized.value = [c.name for c in found]
        return True

    async def start_date_validator(self, prompt_context: PromptValidatorContext) -> bool:
        text = answer_text(prompt_context)
        if text is None:
            return refuse(prompt_context, texts.TEXT_ONLY)
        if text.strip() == SKIP:
            prompt_context.recognized.value = None
            return True
        year = validations_of(prompt_context.options).get("year")
        try:
            start = parse_start_date(text, today_of(prompt_context.context), year=year)
        except InputError as bad:
            return refuse(prompt_context, bad.message)
        prompt_context.recognized.value = start.isoformat()
        return True

    async def end_date_validator(self, prompt_context: PromptValidatorContext) -> bool:
        text = answer_text(prompt_context)
        if text is None:
            return refuse(prompt_context, texts.TEXT_ONLY)
        validations = validations_of(prompt_context.options)
        try:
            end = parse_date(
                text, today_of(prompt_context.context), field="slutdatum", year=validations.get("year")
            )
        except InputError as bad:
            return refuse(prompt_context, bad.message)
        start = validations.get("start")
        if (wrong := end_before_start(date.fromisoformat(start) if start else None, end)) is not None:
            return refuse(prompt_context, wrong.message)
        prompt_context.recognized.value = end.isoformat()
        return True

    async def amount_validator(self, prompt_context: PromptValidatorContext) -> bool:
        text = answer_text(prompt_context)
        if text is None:
            return refuse(prompt_context, texts.TEXT_ONLY)
        try:
            amount = parse_amount(text)
        except InputError as bad:
            return refuse(prompt_context, bad.message)
        validations = validations_of(prompt_context.options)
        _, services = who(prompt_context.context)
        ledger = await call(queries(services).summary_ledger)
        problems = amount_fits(ledger, validations["unit"], int(validations["year"]), amount)
        if problems:
            return refuse(prompt_context, " ".join(e.message for e in problems))
        prompt_context.recognized.value = amount
        return True

    async def decision_validator(self, prompt_context: PromptValidatorContext) -> bool:
        text = answer_text(prompt_context)
        if text is None:
            return refuse(prompt_context, texts.TEXT_ONLY)
        if vocabulary.says_no_decision(text):
            prompt_context.recognized.value = None  # the summary says why nothing is saved
            return True
        _, services = who(prompt_context.context)
        ledger = await call(queries(services).summary_ledger)
        unit = validations_of(prompt_context.options)["unit"]
        year = validations_of(prompt_context.options).get("year")
        try:
            decision = forms.read_decision(ledger, text, unit, today_of(prompt_context.context), year)
        except InputError as bad:
            return refuse(prompt_context, bad.message)
        prompt_context.recognized.value = decision_to_state(decision)
        return True

    # --- the form -------------------------------------------------------------------

    @staticmethod
    async def submit_form(turn_context: TurnContext, data: dict[str, Any]) -> dict[str, Any] | None:
        """Check a submitted measure form field by field. When all is well, the
        measure as the chat collects it (JSON, for {"form": ...}: the summary and
        the confirmation follow); else None, the problems said."""
        identity, services = who(turn_context)
        ledger, allowed = await allowed_units(services, identity)
        if not allowed:
            await turn_context.send_activity(texts.refused(await refusal(services, identity)))
            return None
        once = once_key(data)
        if once is not None and (done := await call(services.once_used, once)) is not None:
            await turn_context.send_activity(await already_saved(turn_context, done))
            return None  # this card was saved before: no summary to confirm again
        today = today_of(turn_context)
        year = years.default_year(ledger, today)
        parsed = forms.parse_measure(data, forms.MeasureContext(ledger, allowed, year, today))
        unit = parsed.draft.unit if parsed.draft is not None else data.get("unit")
        need, wrong = await form_need(
            turn_context, ledger, unit if unit in allowed else None, data.get("need")
        )
        if parsed.draft is None or wrong is not None:  # every problem at once, nothing written
            await turn_context.send_activity(
                texts.form_refused([*parsed.messages, *([wrong] if wrong else [])])
            )
            return None
        m = parsed.draft
        return {
            "need": need,
            "unit": m.unit,
            "title": m.title,
            "description": m.description,
            "target_group": m.target_group,
            "categories": [c.name for c in m.categories],
            "start_date": m.start.isoformat() if m.start else None,
            "end_date": m.end.isoformat(),
            "performer": m.performer,
            "amount": m.amount,
            "year": m.year,
            "once": once,
            "decision": decision_to_state(m.decision),
        }


# --- shared ---------------------------------------------------------------------------


def _plan(values: dict[str, Any]) -> dict[str, Any]:
    """The measure's plan data as the chat collected it (dialog state: JSON)."""
    return {
        "title": values["title"],
        "description": values["description"],
        "target_group": values.get("target_group") or "",
        "categories": tuple(Category[name] for name in values.get("categories") or ()),
        "start": date.fromisoformat(values["start_date"]) if values.get("start_date") else None,
        "end": date.fromisoformat(values["end_date"]),
        "performer": values.get("performer") or "",
    }


def decision_to_state(decision: Decision) -> dict[str, Any]:
    """A decision as dialog state (JSON)."""
    return {
        "body": str(decision.body),
        "date": decision.date.isoformat() if decision.date else None,
        "paragraph": decision.paragraph,
        "case_number": decision.case_number,
        "delegate": decision.delegate,
    }


def decision_from_state(value: Any) -> Decision | None:
    if not isinstance(value, dict):
        return None
    return Decision(
        parse_body(value["body"]),
        date.fromisoformat(value["date"]) if value.get("date") else None,
        value.get("paragraph"),
        value.get("case_number"),
        delegate=value.get("delegate"),
    )


def _form_values(values: dict[str, Any]) -> dict[str, str]:
    """The measure as given so far (dialog state), as the form's inputs take it."""
    amount = values.get("amount")
    return {
        "title": values.get("title") or "",
        "description": values.get("description") or "",
        "target_group": values.get("target_group") or "",
        "categories": ",".join(values.get("categories") or ()),
        "start_date": values.get("start_date") or "",
        "end_date": values.get("end_date") or "",
        "performer": values.get("performer") or "",
        "amount": texts.kr(amount) if isinstance(amount, int) else "",
        "decision": decision.reference if (decision := decision_from_state(values.get("decision"))) else "",
        "need": values.get("need") or "",
    }


def _optional_text(prompt_context: PromptValidatorContext, label: str, limit: int) -> bool:
    """A free text that may be skipped with "-" (the result is then "")."""
    text = answer_text(prompt_context)
    if text is None:
        return refuse(prompt_context, texts.TEXT_ONLY)
    try:
        prompt_context.recognized.value = forms.read_text(text, label, limit)  # "-": none
    except InputError as bad:
        return refuse(prompt_context, bad.message)
    return True


def _unit_label(unit: Unit) -> str:
    return f"{unit.name} ({unit.code})"


def _unit_pairs(ledger: Ledger, codes: list[str]) -> list[tuple[str, str]]:
    return [(code, ledger.units[code].name) for code in codes]


async def allowed_units(services: CityServices, identity: Identity) -> tuple[Ledger, list[str]]:
    """The ledger, and the units the user may submit measures for."""
    ledger = await call(queries(services).summary_ledger)
    principal = await call(queries(services, identity.user_id).principal, identity.user_id)
    allowed = [code for code in sorted(ledger.units) if can(principal, Action.SUBMIT_MEASURE, [code])]
    return ledger, allowed


async def refusal(services: CityServices, identity: Identity, asked: object = None) -> str:
    """The core's Swedish refusal for a user who may not submit measures: for the committee
    they asked about (`asked`, a unit code; else their own), and for a substitute standing in
    there, that standing in gives no right to submit (issue 22)."""
    principal: Principal = await call(queries(services, identity.user_id).principal, identity.user_id)
    own = (
        [asked] if isinstance(asked, str) and asked else sorted({g.unit for g in principal.grants if g.unit})
    )
    try:
        require(principal, Action.SUBMIT_MEASURE, own)
    except PermissionDenied as refused:
        standing = sorted({g.unit for g in principal.stand_in if g.unit in own})
        return refused.message + (" " + texts.stand_in_no_submit(standing) if standing else "")
    return texts.unit_not_allowed("", [])


async def save(
    turn_context: TurnContext,
    *,
    unit: str,
    title: str,
    description: str,
    target_group: str,
    categories: tuple[Category, ...],
    start: date | None,
    end: date,
    performer: str,
    amount: int,
    year: int,
    once: str | None = None,
    decision: Decision | None = None,
    need: str | None = None,
) -> None:
    """Submit the measure with its grant through the core; send the receipt or the refusal.
    `once`: the key that keeps a repeated confirmation from saving twice. `decision`:
    the one the person gave; without one the core saves nothing (issue 17 item 3). `need`:
    the id of the unit's need it answers, linked in the same write (issue 21)."""
    identity, services = who(turn_context)
    measure = Measure(
        id=0,
        title=title,
        units=(unit,),
        year=year,
        description=description,
        target_group=target_group,
        categories=categories,
        requested=amount,
        performer=performer,
        start_date=start,
        end_date=end,
        status=Status.NOT_STARTED,
        responsible=identity.user_id,
    )
    try:
        stored = await call(
            services.submit_measure,
            identity.user_id,
            measure,
            {unit: amount},
            decision,
            identity.name or None,
            once,
            needs=(need,) if need else (),
        )
    except AlreadySaved as done:
        await turn_context.send_activity(await already_saved(turn_context, done))
        return
    except DomainError as refused:
        await turn_context.send_activity(texts.save_failed(refused.message))
        return
    ledger = await call(queries(services).summary_ledger)
    unit_label = _unit_label(ledger.units[unit])
    linked = await need_label_of(turn_context, unit, need)
    receipt = cards.measure_summary(
        heading=texts.MEASURE_RECEIPT_TITLE,
        unit=unit_label,
        title=stored.title,
        description=stored.description,
        target_group=stored.target_group,
        categories=stored.categories,
        start=stored.start_date,
        end=end,
        performer=stored.performer,
        amount=amount,
        measure_id=stored.id,
        decision=decision.reference if decision is not None else None,  # None: the core saved nothing
        need=linked,
    )
    saved = texts.measure_saved(stored.id, stored.title, unit_label, amount)
    if linked:
        saved = f"{saved} {texts.measure_linked(linked)}"
    await turn_context.send_activity(MessageFactory.attachment(cards.attachment(receipt), saved))


# --- issue 21: the need a measure answers --------------------------------------------------------

NO_NEED_WORDS = ("inget", "ingen", "inget behov", "hoppa över", "hoppa", "skippa", "-", "nej", "inga")
"""Answers to "Vilket behov svarar insatsen mot?" that choose none."""


def _need_key(value: object) -> str | None:
    """A need's id as a step or the form gives it; None for none ("inget") or anything else."""
    return value if isinstance(value, str) and value and value != cards.NO_NEED_VALUE else None


async def unit_needs_offered(context: TurnContext, unit: str) -> list[NeedEntry]:
    """The needs of `unit` a new measure may answer: the unit's current needs the person may read
    (NeedServices.unit_needs), but not a surplus need (Övertalighet), whose link to this fund's
    money needs a note the form does not ask (core.rules.needs)."""
    identity = identity_of(context)
    try:
        found = await call(needs_of(context).unit_needs, identity.user_id, unit)
    except DomainError:  # the unit is not the person's to read: nothing to offer
        return []
    return [n for n in found if n.kind != NeedKind.SURPLUS]


async def unit_need_choices(context: TurnContext, unit: str) -> list[tuple[str, str]]:
    """The needs of `unit` a new measure may answer (unit_needs_offered), as choices (id, label)."""
    return [
        (n.key, texts.need_label(n.key, n.role, n.kind.value))
        for n in await unit_needs_offered(context, unit)
    ]


async def form_needs(context: TurnContext, ledger: Ledger, units: list[str]) -> list[tuple[str, str]]:
    """The needs the form offers: each unit's (unit_need_choices), labelled with the unit when the
    person may choose among several."""
    found: list[tuple[str, str]] = []
    for unit in units:
        for key, label in await unit_need_choices(context, unit):
            found.append((key, f"{label} ({unit})" if len(units) > 1 else label))
    return found


async def need_label_of(context: TurnContext, unit: str, need: object) -> str | None:
    """The chosen need as the summary and the receipt show it; None for none."""
    key = _need_key(need)
    if key is None:
        return None
    return dict(await unit_need_choices(context, unit)).get(key, key)


async def form_need(
    context: TurnContext, ledger: Ledger, unit: object, value: object
) -> tuple[str | None, str | None]:
    """The need a submitted form chose, checked against the chosen unit's (a forged id, or
    another committee's need, is refused): (its id or None, the problem or None)."""
    if value is None or (isinstance(value, str) and value.strip() in ("", cards.NO_NEED_VALUE)):
        return None, None
    if not isinstance(unit, str) or unit not in ledger.units:
        return None, None  # the unit's own problem is said; the need is checked with a unit
    offered = await unit_need_choices(context, unit)
    keys = [key for key, _ in offered]
    if isinstance(value, str) and value in keys:
        return value, None
    shown = value if isinstance(value, str) else str(value)
    return None, texts.need_not_offered(shown, _unit_label(ledger.units[unit]), keys)


@begins(vocabulary.Intent.SUBMIT_MEASURE, SubmitMeasureDialog, saves=True)
def submit_measure_route(heard: Understanding) -> Route:
    """ "ny insats", "ny insats för GVN": the unit named, or the word that looked like one."""
    return SubmitMeasureDialog.__name__, {"unit": one_unit(heard), "unknown": heard.unknown_unit}
