"""The round from chat (issue 20): every message about the follow-up round (Intent.ROUND).

Questions are answered at once (dialogs.round_turns.answer_round_question): how the round
is going, per committee; who has not answered (HR its own units, stadskontoret all); its
dates. "påminn de som inte svarat" sends an extra reminder now (RoundServices.remind: at
most one a Swedish day per round). "öppna junirundan" / "stäng rundan" begin this dialog:
a summary of what will happen (the core's dates, how many people and measures) and a
yes/no; only "ja" opens or closes, through the same services as `kompetensbot followup
open|close` (manage_rounds, the core's rules), recorded with the person's id. Anything
else ("nej", another answer) changes nothing; another request is answered instead
(dialogs.main_dialog: a yes/no prompt asked something else).
"""

from __future__ import annotations

import re
from typing import Any

from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.dialogs import (
    DialogTurnResult,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)

from core import vocabulary
from core.errors import DomainError
from core.rounds import Phase, Round, chat_period
from dialogs import grammar, proposal_cards, texts
from dialogs.answers import begins
from dialogs.cancel_and_help_dialog import CancelAndHelpDialog
from dialogs.prompts import YES_NO_PROMPT, answer_text, parse_yes_no, refuse, yes_no_options
from dialogs.round_turns import answer_round_question, named_period, remind_now
from dialogs.steps import end_dialog, values_of
from dialogs.turn import call, identity_of, rounds_of, today_of
from dialogs.understanding import Intent, Understanding, clean, intent_of

OPEN = "open"
CLOSE = "close"
REMIND = "remind"
ASK = "ask"

_QUESTION = re.compile(vocabulary.ROUND_QUESTION_WORDS)
_REMIND = re.compile(vocabulary.ROUND_REMIND)
_CLOSE = re.compile(vocabulary.ROUND_CLOSE)
_OPEN = re.compile(vocabulary.ROUND_OPEN)


def round_action(text: str) -> str:
    """What a ROUND message asks: to open or close a round, an extra reminder, or (a question,
    or a verb inside one: "när öppnar junirundan?") to be told."""
    key = clean(text or "")
    if _QUESTION.search(key):
        return ASK
    if _REMIND.search(key):
        return REMIND
    if _CLOSE.search(key):
        return CLOSE
    if _OPEN.search(key):
        return OPEN
    return ASK


def _round_part(text: str) -> str:
    """The part of a message that asks about the round: in "vad betyder ej svarat? och när är
    sista dag" (a second question, Understanding.also) the dates are asked, not who has not
    answered. The whole message when no part alone reads as a round question."""
    parts = [part for part in grammar.segments(text) if intent_of(part) == Intent.ROUND]
    return " ".join(parts) or text


async def _confirmation(prompt_context: PromptValidatorContext) -> bool:
    """ "ja" is yes; any other answer is no (nothing is done), but a question ("vänta, hur
    många får kort?") is no answer: the confirmation is asked again."""
    text = answer_text(prompt_context)
    answer = parse_yes_no(text) if text is not None else None
    if answer is None and text is not None and "?" in text:
        return refuse(prompt_context, texts.YES_NO_RETRY)
    prompt_context.recognized.value = answer is True
    return True


async def after_round_closed(turn_context: TurnContext, round_: Round) -> None:
    """A round closed from chat: KSAU's proposals card goes out to everyone with the ksau
    role (as `followup close` on the command line does), or the reason none can go is said."""
    await proposal_cards.send_proposals_from_chat(turn_context, round_.period)


class RoundDialog(CancelAndHelpDialog):
    """Options (JSON): {"year": int | None}. Begun only to open or close a round (answer_at_once
    answers everything else): the summary and "ja"/"nej", then the service's answer."""

    def __init__(self) -> None:
        super().__init__(RoundDialog.__name__)
        self.add_dialog(TextPrompt(YES_NO_PROMPT, _confirmation))
        self.add_dialog(WaterfallDialog(WaterfallDialog.__name__, [self.summary_step, self.act_step]))
        self.initial_dialog_id = WaterfallDialog.__name__  # type: ignore[assignment]  # the SDK declares it None

    async def answer_at_once(self, turn_context: TurnContext, options: dict[str, Any]) -> bool:
        """Questions and the extra reminder are answered in the turn; opening and closing need
        the dialog (False)."""
        text = _round_part(turn_context.activity.text or "")
        action = round_action(text)
        if action in (OPEN, CLOSE):
            return False
        if action == REMIND:
            await remind_now(turn_context)
            return True
        await answer_round_question(turn_context, text)
        return True

    async def summary_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        context = step.context
        text = _round_part(context.activity.text or "")
        action = round_action(text)
        if action not in (OPEN, CLOSE):  # a question kept for after a form: answered now
            await self.answer_at_once(context, {})
            return await end_dialog(step)
        identity, services, as_of = identity_of(context), rounds_of(context), today_of(context)
        month, year = named_period(text)
        try:
            if action == OPEN:
                period = chat_period(month, year, as_of)
                opening = await call(services.open_plan, identity.user_id, period, as_of)
                summary = texts.round_open_summary(opening, as_of)
                period = opening.plan.period
            else:
                wanted = chat_period(month, year, as_of) if month else None
                report = await call(services.close_plan, identity.user_id, wanted, as_of)
                summary = texts.round_close_summary(report)
                period = report.round.period
        except DomainError as problem:
            await context.send_activity(texts.refused(problem.message))
            return await end_dialog(step)
        values_of(step).update(action=action, period=period)
        return await step.prompt(YES_NO_PROMPT, yes_no_options(summary))

    async def act_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        context = step.context
        values = values_of(step)
        action, period = values.get("action"), values.get("period")
        if step.result is not True or not isinstance(period, str):
            await context.send_activity(texts.ROUND_NOT_OPENED if action == OPEN else texts.ROUND_NOT_CLOSED)
            return await end_dialog(step)
        identity, services, as_of = identity_of(context), rounds_of(context), today_of(context)
        try:
            if action == OPEN:
                round_ = await call(services.open, identity.user_id, period)
                recorded = 0
                if round_.phase(as_of) == Phase.OPEN:  # the cards, recorded now for the round runner
                    recorded = await call(services.enqueue_due, as_of)
                plan = round_.plan
                await context.send_activity(
                    texts.round_opened_in_chat(plan.period, plan.opens, plan.deadline, recorded, as_of)
                )
            else:
                round_, closed = await call(services.close, identity.user_id, period)
                await context.send_activity(texts.round_closed_in_chat(round_.period, closed=closed))
                if closed:
                    await after_round_closed(context, round_)
        except DomainError as problem:
            await context.send_activity(texts.refused(problem.message))
        return await end_dialog(step)


@begins(Intent.ROUND, RoundDialog)
def round_request(heard: Understanding) -> tuple[str, dict[str, Any]]:
    """ "hur går junirundan?", "vem har inte svarat?", "påminn de som inte svarat" (answered at
    once), "öppna junirundan", "stäng rundan" (the dialog)."""
    return RoundDialog.__name__, {"year": heard.year}
