"""Substitutes during absence from chat (issue 22): every message about a substitute
(Intent.SUBSTITUTE, read by dialogs.substitute_words).

"vem ersätter mig?", "vilka ersättare finns?" are answered at once (the substitutions the
person may see, now and coming), and so is a message that lacks who substitutes or the days
(how to say it). "Jag är ledig 16 juni–11 juli, Per Persson ersätter mig", and HR's or
stadskontoret's "Per ersätter Anna 16/6–11/7", begin this dialog: everything is checked first
(the people named, the rules, who may set whose: bot.substitute_services with `check_only`),
then "Per Persson ersätter dig 16 juni–11 juli 2025 … Stämmer det?" and only "ja" saves it.
"jag är tillbaka", "avsluta Annas frånvaro" end an absence from today the same way. Anything
else ("nej", "avbryt", another question) writes nothing. When someone else's substitute was
set or ended, that person is told in their 1:1 chat with the bot, or the one who did it is
told they could not be (SubstitutesTurnServices.tell).
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.dialogs import (
    DialogTurnResult,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)

from core.errors import DomainError
from dialogs import texts
from dialogs.answers import begins
from dialogs.cancel_and_help_dialog import CancelAndHelpDialog
from dialogs.ports import SubstitutesPort, SubstitutesTurnServices
from dialogs.prompts import YES_NO_PROMPT, answer_text, parse_yes_no, refuse, yes_no_options
from dialogs.steps import end_dialog, values_of
from dialogs.substitute_words import ME, Ask, SubstituteRequest, read_request
from dialogs.turn import Identity, call, identity_of, services_of, today_of
from dialogs.understanding import Intent, Understanding


def _turn(context: TurnContext) -> SubstitutesTurnServices:
    return cast(SubstitutesTurnServices, services_of(context))


def _port(context: TurnContext) -> SubstitutesPort:
    return _turn(context).substitutes


async def _confirmation(prompt_context: PromptValidatorContext) -> bool:
    """ "ja" is yes; any other answer is no (nothing is saved), but a question is asked again."""
    text = answer_text(prompt_context)
    answer = parse_yes_no(text) if text is not None else None
    if answer is None and text is not None and "?" in text:
        return refuse(prompt_context, texts.YES_NO_RETRY)
    prompt_context.recognized.value = answer is True
    return True


def _person(identity: Identity, typed: str | None) -> str:
    return identity.user_id if typed in (ME, None) else typed


def _request(context: TurnContext) -> SubstituteRequest:
    return read_request(context.activity.text or "", today_of(context))


async def _tell(context: TurnContext, user_id: str, name: str, notice: str) -> None:
    """Tell the absent person, and the one who acted whether they were told."""
    why = await _turn(context).tell(user_id, notice)
    await context.send_activity(texts.absent_told(name) if why is None else texts.absent_not_told(name, why))


class SubstituteDialog(CancelAndHelpDialog):
    """Options (JSON): {"units": [unit codes named]}. Begun to set or end a substitute (the
    confirmation and "ja"/"nej"); answer_at_once answers the rest."""

    def __init__(self) -> None:
        super().__init__(SubstituteDialog.__name__)
        self.add_dialog(TextPrompt(YES_NO_PROMPT, _confirmation))
        self.add_dialog(WaterfallDialog(WaterfallDialog.__name__, [self.summary_step, self.act_step]))
        self.initial_dialog_id = WaterfallDialog.__name__  # type: ignore[assignment]  # the SDK declares it None

    async def answer_at_once(self, turn_context: TurnContext, options: dict[str, Any]) -> bool:
        """The list, and how to say what is missing, in the turn; setting and ending need the
        confirmation (False)."""
        request = _request(turn_context)
        if request.ask == Ask.LIST:
            await self._list(turn_context)
            return True
        if request.ask == Ask.END:
            return False
        if request.date_problem:
            await turn_context.send_activity(texts.refused(request.date_problem))
            return True
        if request.substitute is None:
            await turn_context.send_activity(
                texts.SUBSTITUTE_WHO if request.first is not None else texts.SUBSTITUTE_HOW
            )
            return True
        if request.first is None:
            await turn_context.send_activity(texts.SUBSTITUTE_WHEN)
            return True
        return False

    async def _list(self, context: TurnContext) -> None:
        identity = identity_of(context)
        try:
            views = await call(_port(context).list_substitutions, identity.user_id, today_of(context))
        except DomainError as refused:
            await context.send_activity(texts.refused(refused.message))
            return
        lines = [
            texts.SubstituteLine(
                v.absent.shown,
                v.substitute.shown,
                v.substitution.first,
                v.substitution.last,
                tuple(sorted(v.substitution.units)),
                v.current,
                v.absent.user_id == identity.user_id,
                v.substitute.user_id == identity.user_id,
            )
            for v in views
        ]
        await context.send_activity(texts.substitutes_list(lines))

    async def summary_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        context = step.context
        request = _request(context)
        if await self.answer_at_once(context, {}):  # a list or a question kept for later: answered now
            return await end_dialog(step)
        identity = identity_of(context)
        options = step.options if isinstance(step.options, dict) else {}
        units = [u for u in options.get("units", []) if isinstance(u, str)]
        port = _port(context)
        try:
            if request.ask == Ask.END:
                ending = await call(
                    port.end_substitutions,
                    identity.user_id,
                    _person(identity, request.absent),
                    today_of(context),
                    check_only=True,
                )
                mine = ending.absent.user_id == identity.user_id
                values_of(step).update(
                    ask=Ask.END.value, absent=ending.absent.user_id, on=ending.on.isoformat()
                )
                question = texts.substitute_end_confirm(
                    None if mine else ending.absent.shown, ending.on, [p.shown for p in ending.substitutes]
                )
            else:
                assert request.first is not None and request.last is not None  # answer_at_once asked for them
                made = await call(
                    port.set_substitution,
                    identity.user_id,
                    _person(identity, request.absent),
                    _person(identity, request.substitute),
                    request.first,
                    request.last,
                    units,
                    check_only=True,
                )
                s = made.substitution
                mine = s.absent == identity.user_id
                values_of(step).update(
                    ask=Ask.SET.value,
                    absent=s.absent,
                    substitute=s.substitute,
                    first=s.first.isoformat(),
                    last=s.last.isoformat(),
                    units=sorted(s.units),
                )
                question = texts.substitute_confirm(
                    made.substitute.shown, None if mine else made.absent.shown, s.first, s.last, s.units
                )
        except DomainError as problem:
            await context.send_activity(texts.refused(problem.message))
            return await end_dialog(step)
        return await step.prompt(YES_NO_PROMPT, yes_no_options(question))

    async def act_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        context = step.context
        values = values_of(step)
        ending = values.get("ask") == Ask.END.value
        if step.result is not True:
            await context.send_activity(texts.SUBSTITUTE_NOT_ENDED if ending else texts.SUBSTITUTE_NOT_SAVED)
            return await end_dialog(step)
        identity = identity_of(context)
        port = _port(context)
        try:
            if ending:
                ended = await call(
                    port.end_substitutions,
                    identity.user_id,
                    str(values["absent"]),
                    date.fromisoformat(str(values["on"])),
                    author=identity.name or None,
                )
                mine = ended.absent.user_id == identity.user_id
                await context.send_activity(
                    texts.substitutes_ended(
                        None if mine else ended.absent.shown, ended.on, [p.shown for p in ended.substitutes]
                    )
                )
                if ended.tell:
                    notice = texts.substitute_notice_ended(identity.name or ended.by.shown, ended.on)
                    await _tell(context, ended.absent.user_id, ended.absent.shown, notice)
                return await end_dialog(step)
            made = await call(
                port.set_substitution,
                identity.user_id,
                str(values["absent"]),
                str(values["substitute"]),
                date.fromisoformat(str(values["first"])),
                date.fromisoformat(str(values["last"])),
                [str(u) for u in values.get("units", [])],
                author=identity.name or None,
            )
        except DomainError as problem:
            await context.send_activity(texts.refused(problem.message))
            return await end_dialog(step)
        s = made.substitution
        mine = s.absent == identity.user_id
        await context.send_activity(
            texts.substitute_saved(
                made.substitute.shown,
                None if mine else made.absent.shown,
                s.first,
                s.last,
                s.units,
                written=made.written,
            )
        )
        if made.tell:
            by = identity.name or made.by.shown
            notice = texts.substitute_notice_set(by, made.substitute.shown, s.first, s.last, s.units)
            await _tell(context, made.absent.user_id, made.absent.shown, notice)
        return await end_dialog(step)


@begins(Intent.SUBSTITUTE, SubstituteDialog)
def substitute_request(heard: Understanding) -> tuple[str, dict[str, Any]]:
    """ "Jag är ledig 16 juni–11 juli, Per Persson ersätter mig", "Per ersätter Anna 16/6–11/7",
    "jag är tillbaka" (the dialog: a confirmation), "vem ersätter mig?" (answered at once)."""
    return SubstituteDialog.__name__, {"units": list(heard.unit_codes)}
