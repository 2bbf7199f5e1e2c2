"""The main dialog: understands free Swedish text and card submissions and routes
them to the dialog or answer they ask for."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.dialogs import (
    ComponentDialog,
    DialogContext,
    DialogInstance,
    DialogState,
    DialogTurnResult,
    DialogTurnStatus,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)

from core import vocabulary
from dialogs import answers, cards, state_codec, texts
from dialogs.answers import Begin, Route
from dialogs.cancel_and_help_dialog import CancelAndHelpDialog
from dialogs.followup_dialog import FollowUpDialog
from dialogs.form_flow import KEEP_NOW, FormDialog, read_command
from dialogs.prompts import CHOICE_PROMPT, TEXT_PROMPT, YES_NO_PROMPT, asks_something_else, text_options
from dialogs.round_dialog import RoundDialog
from dialogs.steps import begin_dialog, end_dialog, options_of, reprompt, values_of
from dialogs.submissions import ACTION_KEY, card_submission
from dialogs.submit_measure_dialog import SubmitMeasureDialog
from dialogs.turn import call, queries, services_of, today_of, who
from dialogs.understanding import Intent, Understanding, intent_of, understand

KEPT = "KeptDialog"
"""The conversation-state property (the person's own: bot.conversation_state) that keeps a
dialog left unfinished for another question, for KEPT_FOR."""
KEPT_FOR = timedelta(days=1)
_TAKE = "kompetensbot.main.kept"
"""Turn-state key: what the runner found the message does with the kept dialog ("resume", "drop")."""
_LEFT_FOR_CARD = "kompetensbot.main.left_for_card"
"""Turn-state key: the form under way when a card came (a copy of its instance, its dialog,
the question kept for after it), kept or replaced once the card is answered (left_for_card)."""
_EXPIRED = "kompetensbot.main.kept_expired"
"""Turn-state key: a kept dialog was dropped in this turn because KEPT_FOR had passed."""


class MainDialog(CancelAndHelpDialog):
    """Begins on every message when no dialog is active; a card submission arriving in
    the middle of a dialog cancels that dialog and is handled on its own (a form under
    way is kept to resume, unless the card is that form and it was taken). A message
    is answered as its kind of question is registered in dialogs.answers: at once,
    or by beginning a dialog (every dialog a question begins is added here)."""

    def __init__(self) -> None:
        super().__init__(MainDialog.__name__)
        for dialog in answers.dialogs_begun():
            self.add_dialog(dialog())
        self.add_dialog(TextPrompt(TEXT_PROMPT))
        self.add_dialog(
            WaterfallDialog(WaterfallDialog.__name__, [self.route_step, self.final_step, self.search_step])
        )
        self.initial_dialog_id = WaterfallDialog.__name__  # type: ignore[assignment]  # the SDK declares it None

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        result = await super().on_continue_dialog(inner_dc)
        if not inner_dc.context.turn_state.pop(KEEP_NOW, False) or result.status != DialogTurnStatus.Waiting:
            return result
        top = inner_dc.active_dialog  # a form waiting at a question, asking to be kept ("inget beslut")
        child = await self.find_dialog(top.id) if top is not None else None
        if top is None or not await self.keep(inner_dc.context, top, child, _later(inner_dc)):
            return result  # nowhere to keep it: it waits here
        await inner_dc.cancel_all_dialogs()
        return DialogTurnResult(DialogTurnStatus.Complete)

    async def interrupt(self, inner_dc: DialogContext) -> DialogTurnResult | None:
        later = _later(inner_dc)
        if card_submission(inner_dc.context.activity) is not None:
            # The form under way is kept unless the card takes its place (route_turn decides).
            top = inner_dc.active_dialog
            child = await self.find_dialog(top.id) if top is not None else None
            if top is not None and isinstance(child, FormDialog):
                copy = state_codec.load(state_codec.dump(top))  # before cancelling: as it was
                inner_dc.context.turn_state[_LEFT_FOR_CARD] = (copy, child, later)
            else:
                await _not_answered(inner_dc.context, later)
            await inner_dc.cancel_all_dialogs()
            return await begin_dialog(inner_dc, WaterfallDialog.__name__, {"kept": False})
        result = await super().interrupt(inner_dc)
        top = inner_dc.active_dialog
        if result is not None and not inner_dc.stack:  # "avbryt": the question kept is not lost unsaid
            await _not_answered(inner_dc.context, later)
        if result is not None or top is None:
            return result
        text = inner_dc.context.activity.text or ""
        child = await self.find_dialog(top.id)
        if isinstance(child, FormDialog) and vocabulary.key(text) in vocabulary.RESUME:
            # "fortsätt" in a form: the form is right here, never the answer to its question
            await inner_dc.context.send_activity(texts.still_doing(child.flow.what))
            await reprompt(inner_dc)
            return DialogTurnResult(DialogTurnStatus.Waiting)
        if isinstance(child, FormDialog) and read_command(text, child.flow.words) is not None:
            return None  # "tillbaka", "ändra beloppet": the dialog's own
        beside = getattr(child, "beside_confirmation", None)
        if beside is not None and _asks_something_else(inner_dc):
            # A question while a substitute is confirmed (issue 22): answered beside it and the
            # confirmation asked again, never left silently; a correction is the dialog's own.
            if await beside(inner_dc.context, await self.hear(inner_dc.context), self.answer_beside, top):
                return DialogTurnResult(DialogTurnStatus.Waiting)
            return None
        if top.id == RoundDialog.__name__ and _asks_something_else(inner_dc):
            # "hur många har svarat?", "vad betyder prognos?" while opening or closing a round
            # waits for ja/nej: answered, and the confirmation asked again (leaving it, a later
            # "ja" did nothing). A request that needs a dialog of its own ends it, said.
            if await self.answer_beside(inner_dc.context, await self.hear(inner_dc.context)):
                await reprompt(inner_dc)
                return DialogTurnResult(DialogTurnStatus.Waiting)
            await inner_dc.context.send_activity(texts.ROUND_CONFIRMATION_LEFT)
        if isinstance(child, FormDialog) and _asks_something_else(inner_dc):
            heard = await self.hear(inner_dc.context)
            if heard.intent in vocabulary.ANSWERED_BESIDE_A_FORM and await self.answer_beside(
                inner_dc.context, heard
            ):
                # "vilka behov saknar insatser?" at a form's choice or confirmation (issue 21): answered,
                # and the form's question asked again; it is not left to be resumed with "fortsätt".
                leaf = _waiting_prompt(top)
                if leaf is not None:
                    await _ask_again(inner_dc.context, leaf)
                else:
                    await reprompt(inner_dc)
                return DialogTurnResult(DialogTurnStatus.Waiting)
        if _asks_something_else(inner_dc):
            # A new request where a choice or a yes/no was asked: leave the dialog and answer it.
            kept = await self.keep(inner_dc.context, top, child, later)
            if not kept and top.id in answers.saving_dialogs():
                await inner_dc.context.send_activity(texts.LEFT_UNSAVED)
            if not kept:
                await _not_answered(inner_dc.context, later)
            await inner_dc.cancel_all_dialogs()
            return await begin_dialog(inner_dc, WaterfallDialog.__name__, {"kept": kept})
        leaf = _waiting_prompt(top)
        if (
            isinstance(child, FormDialog)
            and leaf is not None
            and leaf.id not in (CHOICE_PROMPT, YES_NO_PROMPT)
        ):
            if intent_of(text) is None:
                return None
            heard = await self.hear(inner_dc.context)
            if not _a_request(text, heard):
                return None
            if not await self.answer_inside(inner_dc.context, heard, top.id or "", child):
                inner_dc.stack[-1].state[WaterfallDialog.PersistedValues]["later"] = text  # final_step's
            await _ask_again(inner_dc.context, leaf)  # nothing stored: the field asked again
            return DialogTurnResult(DialogTurnStatus.Waiting)
        return None

    async def answer_inside(
        self, context: TurnContext, heard: Understanding, top: str, child: FormDialog
    ) -> bool:
        """A question typed in a free-text field: answered now when it can be (True), else
        said that it is answered when the dialog under way ends (False: final_step does)."""
        entry = answers.answer_for(heard.intent)
        if isinstance(entry, Begin) and entry.dialog_id == top:
            await context.send_activity(texts.ALREADY_DOING)
            return True
        if await self.answer_beside(context, heard):
            return True
        await context.send_activity(texts.answer_after(child.flow.what))
        return False

    async def answer_beside(self, context: TurnContext, heard: Understanding) -> bool:
        """Answer a question asked while a dialog waits, without leaving it, when it can be
        answered at once (a quick answer, or a dialog's answer_at_once); whether it was."""
        entry = answers.answer_for(heard.intent)
        if not isinstance(entry, Begin):
            await self.answer(context, heard)
            return True
        dialog_id, options = entry.route(heard)
        at_once = getattr(await self.find_dialog(dialog_id), "answer_at_once", None)
        return at_once is not None and bool(await at_once(context, options))

    async def keep(
        self, context: TurnContext, top: DialogInstance, child: object, later: str | None = None
    ) -> bool:
        """Keep a dialog left for another question in the person's state (KEPT, for
        KEPT_FOR), when something was answered in it; whether it was kept. One is kept:
        one kept before is replaced, and the person told so. A question asked in the form
        for after it (`later`) is kept with it, answered when the resumed form ends."""
        state = _conversation(context)
        if state is None or not isinstance(child, FormDialog):
            return False
        values = _values(top)
        if "title" not in values and "measure_id" not in values:  # nothing answered worth keeping
            return False
        before = kept_dialog(context)
        if before is not None:
            await context.send_activity(texts.kept_replaced(before["what"], _title(before)))
        copy = state_codec.load(state_codec.dump(top))  # as stored: nothing shared with the stack
        state[KEPT] = {
            "dialog": DialogState(dialog_stack=[copy]),
            "at": services_of(context).clock().isoformat(),
            "what": child.flow.kept,
            "title": values.get("title") if isinstance(values.get("title"), str) else None,
            "offered": False,
            "later": later,
        }
        return True

    async def left_for_card(self, step: WaterfallStepContext, taken: str | None) -> None:
        """A form under way when a card came (interrupt): replaced when the card is that form
        and it was taken (`taken`: the dialog it took the place of), else kept to resume
        (issue 19 tryout items 5, 6: it was dropped unsaid)."""
        left = step.context.turn_state.pop(_LEFT_FOR_CARD, None)
        if not isinstance(left, tuple) or len(left) != 3 or not isinstance(left[0], DialogInstance):
            return
        top: DialogInstance = left[0]
        child: object = left[1]
        later: str | None = left[2] if isinstance(left[2], str) else None
        kept = taken != top.id and await self.keep(step.context, top, child, later)
        if not kept:
            await _not_answered(step.context, later)
        options_of(step)["kept"] = kept  # offered after the card's answer (offer)

    async def route_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        take = step.context.turn_state.pop(_TAKE, None)
        if take == "resume":
            return await self.resume(step)
        if take == "drop":
            _conversation(step.context).pop(KEPT, None)  # type: ignore[union-attr]  # the runner found it
            await step.context.send_activity(texts.KEPT_DROPPED)
            return await end_dialog(step)
        return await self.route_turn(step)

    async def resume(self, step: WaterfallStepContext) -> DialogTurnResult:
        """ "fortsätt": the dialog left unfinished, where it was, with its answers."""
        state = _conversation(step.context)
        record = kept_dialog(step.context)
        if state is not None:
            state.pop(KEPT, None)
        stack = record["dialog"] if record is not None else None
        top = stack.dialog_stack[0] if isinstance(stack, DialogState) and stack.dialog_stack else None
        if top is None or not isinstance(await self.find_dialog(top.id or ""), FormDialog):
            expired = step.context.turn_state.get(_EXPIRED)  # none, from before an update, or not ours
            await step.context.send_activity(texts.KEPT_EXPIRED if expired else texts.NOTHING_TO_RESUME)
            return await end_dialog(step)
        if record is not None and isinstance(record.get("later"), str):
            values_of(step)["later"] = record["later"]  # answered when the form ends (final_step)
        step.stack.insert(0, top)
        await step.context.send_activity(texts.RESUMED)
        await reprompt(step)
        return DialogTurnResult(DialogTurnStatus.Waiting)

    async def offer(self, step: WaterfallStepContext) -> None:
        """After the question that left a dialog unfinished: the way back to it."""
        if not options_of(step).get("kept"):
            return
        record = kept_dialog(step.context)
        if record is not None:
            record["offered"] = True  # "ja" to the next message resumes it
            await step.context.send_activity(texts.kept_offer(record["what"], _title(record)))

    async def route_turn(self, step: WaterfallStepContext) -> DialogTurnResult:
        question = options_of(step).get("question")  # asked in a form, answered after it
        data = None if question else card_submission(step.context.activity)
        if data is not None and data.get(ACTION_KEY) == cards.SUBMIT_MEASURE_ACTION:
            # A measure form goes through the same summary and confirmation as the chat.
            checked = await SubmitMeasureDialog.submit_form(step.context, data)
            taken = SubmitMeasureDialog.__name__ if checked is not None else None
            await self.left_for_card(step, taken)
            if checked is not None:  # the form left for it is offered when this one ends (final_step)
                return await begin_dialog(step, SubmitMeasureDialog.__name__, {"form": checked})
            await self.offer(step)
            return await end_dialog(step)
        if data is not None:
            saved = await self.handle_card(step.context, data)
            await self.left_for_card(step, FollowUpDialog.__name__ if saved else None)
            await self.offer(step)
            return await end_dialog(step)
        heard = await self.hear_text(step.context, question) if question else await self.hear(step.context)
        kind = _intent_named(options_of(step).get("heard_as"))  # stored: checked, a bad one ignored
        if kind is not None and intent_of(step.context.activity.text or "") is None:  # a name typed
            heard = replace(heard, intent=kind)  # searched as asked
        started = await self.begin_for(step, heard)
        if started is not None:
            return started
        await self.answer(step.context, heard)
        await self.offer(step)
        return await end_dialog(step)

    async def final_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        ended = step.result
        if isinstance(ended, dict) and ended.get("search_again"):  # "Menade du …?" answered otherwise
            kind = str(ended["search_again"])
            if ended.get("now"):  # another name: the message is searched (not a question kept for later)
                return await step.replace_dialog(WaterfallDialog.__name__, _search_as(step, kind))
            values_of(step)["heard_as"] = kind  # "nej": the name again, searched next
            return await step.prompt(TEXT_PROMPT, text_options(texts.SEARCH_AGAIN))
        later = values_of(step).get("later")
        if isinstance(ended, dict) and isinstance(ended.get("later"), str):  # asked beside a request
            later = ended["later"]
        if isinstance(later, str):  # a question asked in the form: answered now that it ended
            return await step.replace_dialog(WaterfallDialog.__name__, {"question": later})
        await self.offer(step)
        return await end_dialog(step)

    async def search_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """The name typed after "Okej, skriv namnet igen.": a new search of the same kind."""
        kind = values_of(step).get("heard_as")
        return await step.replace_dialog(WaterfallDialog.__name__, _search_as(step, kind))

    async def hear(self, context: TurnContext) -> Understanding:
        return await self.hear_text(context, context.activity.text or "")

    async def hear_text(self, context: TurnContext, text: str) -> Understanding:
        """What `text` asks (the turn's message, or a question kept for later)."""
        _, services = who(context)
        today = today_of(context)
        return await call(
            queries(services).derived,
            ("understand", text, today),
            lambda ledger: understand(text, ledger.units.values(), ledger.measures.values(), today),
        )

    async def begin_for(self, step: WaterfallStepContext, heard: Understanding) -> DialogTurnResult | None:
        """Begin the dialog the message asks for; None when it is answered at once."""
        routed = route(heard)
        return await begin_dialog(step, *routed) if routed is not None else None

    async def answer_at_once(self, context: TurnContext) -> bool:
        """Answer a message in this turn, without beginning a dialog, when nothing
        needs asking: a question that names what it is about (or asks about
        one's own), a list, a greeting, a card submission. The answer is the
        one the dialogs give; False when a dialog has to begin (the turn then
        runs the dialogs). Called only when no dialog is active (the runner,
        bot.teams_bot.run_dialog): the dialog machinery (its state, its stack,
        two dialogs begun and ended) is not worth running for a one-turn answer."""
        data = card_submission(context.activity)
        if data is not None and data.get(ACTION_KEY) == cards.SUBMIT_MEASURE_ACTION:
            return False  # checked in the dialogs: a good form begins its confirmation (route_step)
        if data is not None:
            await self.handle_card(context, data)
            return True
        heard = await self.hear(context)
        await _note_english(context, heard)
        routed = route(heard)
        if routed is None:
            await self.answer(context, heard)
            return True
        dialog_id, options = routed
        answer = getattr(await self.find_dialog(dialog_id), "answer_at_once", None)
        if answer is None or not await answer(context, options):
            return False
        await self.answer_also(context, heard)
        return True

    async def answer(self, context: TurnContext, heard: Understanding) -> None:
        """Answer at once a question whose registered answer is not a dialog (and a second
        question in the same message, `answer_also`)."""
        entry = answers.answer_for(heard.intent)
        if isinstance(entry, Begin):  # route() sends these to their dialog
            raise ValueError(f"{heard.intent.name} begins {entry.dialog_id}: it is not answered at once")
        await _note_english(context, heard)
        await entry.send(context, heard)
        await self.answer_also(context, heard)

    async def answer_also(self, context: TurnContext, heard: Understanding) -> None:
        """The second question of a message whose first is answered: answered too when it is
        answered at once, else offered (it would begin a dialog: the person asks it again)."""
        second = heard.also
        if second is None:
            return
        routed = route(second)
        if routed is None:
            await self.answer(context, second)
            return
        dialog_id, options = routed
        answer = getattr(await self.find_dialog(dialog_id), "answer_at_once", None)
        if answer is not None and await answer(context, options):
            await self.answer_also(context, second)
            return
        subject = texts.ALSO_SUBJECTS.get(second.intent.value, texts.ALSO_SUBJECT_OTHER)
        await context.send_activity(texts.also_offer(subject))

    async def handle_card(self, context: TurnContext, data: dict[str, Any]) -> bool:
        """Answer a card submission; whether it saved what it carried."""
        action = data.get(ACTION_KEY)
        if action == cards.FOLLOWUP_ACTION:
            return await FollowUpDialog.submit_form(context, data)
        await context.send_activity(texts.UNKNOWN_FORM)
        return False


_ENGLISH_NOTED = "kompetensbot.english_noted"
"""Turn-state key: the turn has said that the bot answers in Swedish."""


async def _note_english(context: TurnContext, heard: Understanding) -> None:
    """A question in English: say once in the turn, before the answer, that the bot answers in Swedish."""
    if heard.english and not context.turn_state.get(_ENGLISH_NOTED):
        context.turn_state[_ENGLISH_NOTED] = True
        await context.send_activity(texts.ENGLISH_NOTE)


def _intent_named(value: object) -> Intent | None:
    """The kind of question a stored value names; None for none, or one this version does not know."""
    try:
        return Intent(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _search_as(step: WaterfallStepContext, kind: object) -> dict[str, Any]:
    """The options of a new search of the name just typed, as `kind`: only that and whether a
    dialog was kept. Never the question that began the waterfall ({"question": …}, one asked
    in a form): route_turn would hear it again and ask the same "Menade du …?" forever."""
    return {"heard_as": kind, "kept": bool(options_of(step).get("kept"))}


def route(heard: Understanding) -> Route | None:
    """The dialog a message asks for and its options; None when it is answered at once."""
    entry = answers.answer_for(heard.intent)
    return entry.route(heard) if isinstance(entry, Begin) else None


def _resumed_by(intent: Intent, dialog_id: str | None) -> bool:
    """Whether `intent` asks for the saving dialog `dialog_id` (already under way)."""
    entry = answers.answer_for(intent)
    return isinstance(entry, Begin) and entry.saves and entry.dialog_id == dialog_id


def _conversation(context: TurnContext) -> dict[str, Any] | None:
    """The conversation state the runner loaded for this turn (the person's own)."""
    cached = context.turn_state.get("ConversationState")
    state = getattr(cached, "state", None)
    return state if isinstance(state, dict) else None


def _values(top: DialogInstance) -> dict[str, Any]:
    """The answers a component dialog's main waterfall keeps."""
    inner = top.state.get(ComponentDialog.persisted_dialog_state)
    if not isinstance(inner, DialogState) or not inner.dialog_stack:
        return {}
    values = inner.dialog_stack[-1].state.get(WaterfallDialog.PersistedValues)
    return values if isinstance(values, dict) else {}


def kept_dialog(context: TurnContext) -> dict[str, Any] | None:
    """The dialog the person left unfinished, kept for KEPT_FOR; None (and dropped) after it,
    or when the record is not one `keep` writes (from an older version, or forged)."""
    state = _conversation(context)
    if state is None or KEPT not in state:
        return None
    record = state[KEPT]
    at = _when(record.get("at")) if isinstance(record, dict) else None
    well_formed = (
        isinstance(record, dict)
        and at is not None
        and isinstance(record.get("what"), str)
        and isinstance(record.get("dialog"), DialogState)
    )
    if not well_formed or at is None:
        state.pop(KEPT, None)
        return None
    try:
        expired = services_of(context).clock() - at > KEPT_FOR
    except TypeError:  # a time without its zone: not one keep() wrote
        expired = True
    if expired:
        state.pop(KEPT, None)
        context.turn_state[_EXPIRED] = True
        return None
    return record  # type: ignore[no-any-return]  # checked above: a dict


def _when(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _title(record: dict[str, Any]) -> str | None:
    title = record.get("title")
    return title if isinstance(title, str) else None


def _later(dc: DialogContext) -> str | None:
    """A question asked in a form, kept to be answered when the form ends (in the main
    waterfall's values: final_step's)."""
    bottom = dc.stack[-1] if dc.stack else None
    values = bottom.state.get(WaterfallDialog.PersistedValues) if bottom is not None else None
    later = values.get("later") if isinstance(values, dict) else None
    return later if isinstance(later, str) else None


async def _not_answered(context: TurnContext, later: str | None) -> None:
    """The form a question was kept for is gone: said rather than the question silently lost."""
    if later:
        await context.send_activity(texts.question_not_answered(later))


def takes_over(context: TurnContext) -> bool:
    """Whether a message, while no dialog is active, is about the kept dialog: "fortsätt"
    (or "ja" right after the offer) resumes it, "avbryt" drops it. Called by the runner
    (bot.teams_bot.run_dialog) before a message is answered at once; the route step does it."""
    text = context.activity.text or ""
    record = kept_dialog(context)
    offered = bool(record.pop("offered", False)) if record is not None else False  # once: right after
    if vocabulary.key(text) in vocabulary.RESUME or (offered and vocabulary.yes_no(text) is True):
        context.turn_state[_TAKE] = "resume"
        return True
    if record is not None and vocabulary.key(text) in vocabulary.CANCEL:
        context.turn_state[_TAKE] = "drop"
        return True
    return False


def _a_request(text: str, heard: Understanding) -> bool:
    """Whether a message typed in a free-text field is clearly a question or a request
    rather than the field's value: a question mark with a known kind, or a message that
    begins like a request (core.vocabulary.COMMAND_LEADS) and asks a kind that starts
    something (a balance only with a unit named). "Mentorskap för nya chefer" is a title."""
    kind = intent_of(text)
    if kind is None or kind in vocabulary.NEVER_IN_A_FORM:
        return False
    if text.strip().endswith("?"):
        return True
    key = vocabulary.key(text)
    names_money = kind == vocabulary.BALANCE_IN_A_FORM and (
        bool(heard.units) or heard.whole_fund or heard.own
    )
    if any(key == lead or key.startswith(lead + " ") for lead in vocabulary.QUESTION_LEADS):
        return names_money or kind in vocabulary.ANSWERED_BESIDE_A_FORM
    if not any(key == lead or key.startswith(lead + " ") for lead in vocabulary.COMMAND_LEADS):
        return False
    return names_money or kind in vocabulary.STARTS_IN_A_FORM


def _waiting_prompt(top: DialogInstance) -> DialogInstance | None:
    """The innermost instance of `top`'s stored stacks: the prompt that waits."""
    instance = top
    while True:
        inner = instance.state.get(ComponentDialog.persisted_dialog_state)
        if not isinstance(inner, DialogState) or not inner.dialog_stack:
            return instance if instance is not top else None
        instance = inner.dialog_stack[0]


async def _ask_again(context: TurnContext, prompt: DialogInstance) -> None:
    """The waiting prompt's question again, led in: "… Och vad heter insatsen?"."""
    options = prompt.state.get("options")
    question = getattr(options, "prompt", None)
    if question is None or not question.text:
        return
    again = question.model_copy(deep=True)
    again.text = texts.ask_again(question.text)
    await context.send_activity(again)


def _asks_something_else(dc: DialogContext) -> bool:
    """Whether the message is a new request while the innermost dialog, a prompt
    with a few answers, waits (dialogs.prompts.asks_something_else); not when it
    asks for the saving dialog already under way ("uppföljning" while a follow-up
    is being given): that goes on where it is rather than starting over."""
    text = dc.context.activity.text or ""
    intent = intent_of(text)  # keywords only: most answers name none, and nothing more is done
    top = dc.active_dialog
    if intent is None or top is None or _resumed_by(intent, top.id):
        return False
    instance = top
    while True:  # down the components' stored stacks to the waiting prompt
        inner = instance.state.get(ComponentDialog.persisted_dialog_state)
        if not isinstance(inner, DialogState) or not inner.dialog_stack:
            break
        instance = inner.dialog_stack[0]
    return asks_something_else(instance.id or "", instance.state.get("options"), text, intent)
