"""The main dialog: understands free Swedish text and card submissions and routes
them to the dialog or answer they ask for."""

from __future__ import annotations

from typing import Any

from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.dialogs import (
    ComponentDialog,
    DialogContext,
    DialogState,
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)

from dialogs import answers, cards, texts
from dialogs.answers import Begin, Route
from dialogs.cancel_and_help_dialog import CancelAndHelpDialog
from dialogs.followup_dialog import FollowUpDialog
from dialogs.prompts import asks_something_else
from dialogs.steps import begin_dialog, end_dialog
from dialogs.submissions import ACTION_KEY, card_submission
from dialogs.submit_measure_dialog import SubmitMeasureDialog
from dialogs.turn import call, queries, today_of, who
from dialogs.understanding import Intent, Understanding, intent_of, understand


class MainDialog(CancelAndHelpDialog):
    """Begins on every message when no dialog is active; a card submission arriving in
    the middle of a dialog cancels that dialog and is handled on its own. A message
    is answered as its kind of question is registered in dialogs.answers: at once,
    or by beginning a dialog (every dialog a question begins is added here)."""

    def __init__(self) -> None:
        super().__init__(MainDialog.__name__)
        for dialog in answers.dialogs_begun():
            self.add_dialog(dialog())
        self.add_dialog(WaterfallDialog(WaterfallDialog.__name__, [self.route_step, self.final_step]))
        self.initial_dialog_id = WaterfallDialog.__name__  # type: ignore[assignment]  # the SDK declares it None

    async def interrupt(self, inner_dc: DialogContext) -> DialogTurnResult | None:
        if card_submission(inner_dc.context.activity) is not None:
            await inner_dc.cancel_all_dialogs()
            return await begin_dialog(inner_dc, WaterfallDialog.__name__)
        result = await super().interrupt(inner_dc)
        if result is None and _asks_something_else(inner_dc):
            # A new request where a choice or a yes/no was asked: leave the dialog and answer it.
            active = inner_dc.active_dialog
            if active is not None and active.id in answers.saving_dialogs():
                await inner_dc.context.send_activity(texts.LEFT_UNSAVED)
            await inner_dc.cancel_all_dialogs()
            return await begin_dialog(inner_dc, WaterfallDialog.__name__)
        return result

    async def route_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        data = card_submission(step.context.activity)
        if data is not None and data.get(ACTION_KEY) == cards.SUBMIT_MEASURE_ACTION:
            # A measure form goes through the same summary and confirmation as the chat.
            checked = await SubmitMeasureDialog.submit_form(step.context, data)
            if checked is not None:
                return await begin_dialog(step, SubmitMeasureDialog.__name__, {"form": checked})
            return await end_dialog(step)
        if data is not None:
            await self.handle_card(step.context, data)
            return await end_dialog(step)
        heard = await self.hear(step.context)
        started = await self.begin_for(step, heard)
        if started is not None:
            return started
        await self.answer(step.context, heard)
        return await end_dialog(step)

    async def final_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await end_dialog(step)

    async def hear(self, context: TurnContext) -> Understanding:
        _, services = who(context)
        text = context.activity.text or ""
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

    async def handle_card(self, context: TurnContext, data: dict[str, Any]) -> None:
        action = data.get(ACTION_KEY)
        if action == cards.FOLLOWUP_ACTION:
            await FollowUpDialog.submit_form(context, data)
        else:
            await context.send_activity(texts.UNKNOWN_FORM)


_ENGLISH_NOTED = "kompetensbot.english_noted"
"""Turn-state key: the turn has said that the bot answers in Swedish."""


async def _note_english(context: TurnContext, heard: Understanding) -> None:
    """A question in English: say once in the turn, before the answer, that the bot answers in Swedish."""
    if heard.english and not context.turn_state.get(_ENGLISH_NOTED):
        context.turn_state[_ENGLISH_NOTED] = True
        await context.send_activity(texts.ENGLISH_NOTE)


def route(heard: Understanding) -> Route | None:
    """The dialog a message asks for and its options; None when it is answered at once."""
    entry = answers.answer_for(heard.intent)
    return entry.route(heard) if isinstance(entry, Begin) else None


def _resumed_by(intent: Intent, dialog_id: str | None) -> bool:
    """Whether `intent` asks for the saving dialog `dialog_id` (already under way)."""
    entry = answers.answer_for(intent)
    return isinstance(entry, Begin) and entry.saves and entry.dialog_id == dialog_id


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
