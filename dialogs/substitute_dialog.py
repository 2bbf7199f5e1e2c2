"""Substitutes during absence from chat (issue 22): every message about a substitute
(Intent.SUBSTITUTE, read by dialogs.substitute_words).

"vem ersätter mig?", "vilka ersättare finns?", "vem ersätter jag?" are answered at once (the
substitutions the person may see, now and coming, each day's substitute once), and so is a
message that lacks who substitutes (how to say it) or names days already over. "Jag är ledig
16 juni–11 juli, Per Persson ersätter mig", and HR's or stadskontoret's "Per ersätter Anna
16/6–11/7", begin this dialog: the days are asked for when missing ("Vilka dagar är Anna
Andersson borta?"), a name that fits several people or one only fairly well is asked about
("Menade du Per Persson?"), everything is checked (the people named, the rules, who may set
whose: bot.substitute_services with `check_only`), then "Per Persson ersätter dig 16 juni–11
juli 2025 … Stämmer det?" and only "ja" saves it. A correction there ("nej vänta, det ska vara
7/7–15/8", "nej, Per istället") is confirmed anew with the new values; a question there is
answered (what the substitute may do, or by the main dialog beside the confirmation) and the
confirmation asked again. "jag är tillbaka" ends the absence going on today; "avsluta min
frånvaro 14/7–1/8" a coming one; confirmed the same way. "nej" or "avbryt" writes nothing.
The absent person and the substitute are told in their 1:1 chats with the bot (unless they
did it themselves), or the one who did it is told they could not be.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, cast

from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.dialogs import (
    ComponentDialog,
    DialogInstance,
    DialogState,
    DialogTurnResult,
    PromptOptions,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)

from core.date_ranges import RANGE_FORMS, find_range
from core.errors import Ambiguous, DomainError, InputError
from core.rules.substitutes import check_not_past
from dialogs import texts
from dialogs.answers import begins
from dialogs.cancel_and_help_dialog import CancelAndHelpDialog
from dialogs.ports import SubstitutesPort, SubstitutesTurnServices
from dialogs.prompts import (
    CHOICE_PROMPT,
    YES_NO_PROMPT,
    answer_text,
    choice,
    choice_validator,
    parse_yes_no,
    question,
    refuse,
    yes_no_options,
)
from dialogs.steps import end_dialog, options_of, validations_of, values_of
from dialogs.substitute_words import ME, Ask, SubstituteRequest, read_correction, read_request
from dialogs.turn import Identity, call, identity_of, services_of, today_of
from dialogs.understanding import Intent, Understanding

DAYS_PROMPT = "SubstituteDaysPrompt"

AnswerBeside = Callable[[TurnContext, Understanding], Awaitable[bool]]

_RIGHTS_QUESTION = re.compile(
    r"\b(?:får|kan|ska|kommer)\s+(?:han|hon|hen|den|dom|dem|\w+)\s+(?:också\s+|då\s+|även\s+)?"
    r"(?:se|läsa|ändra|göra|komma åt|svara|godkänna|följa upp|lägga|skicka|flytta)\b"
    r"|\bvad (?:får|kan) (?:han|hon|hen|\w+) (?:göra|se)\b|\bbehörighet|\brättigheter",
    re.IGNORECASE,
)
"""A question about what the substitute may do ("får han se budgeten för hela FSKN då?")."""


def _turn(context: TurnContext) -> SubstitutesTurnServices:
    return cast(SubstitutesTurnServices, services_of(context))


def _port(context: TurnContext) -> SubstitutesPort:
    return _turn(context).substitutes


def _again(prompt_context: PromptValidatorContext, reason: str = "") -> bool:
    """The confirmation asked again ("Svara ja eller nej: …"), after `reason` when given."""
    again = str(validations_of(prompt_context.options).get("again", ""))
    retry = question(f"{texts.plain(reason)}\n\n{again}".strip() if reason else again, [texts.YES, texts.NO])
    prompt_context.options.retry_prompt = retry
    return False


async def _confirmation(prompt_context: PromptValidatorContext) -> bool:
    """ "ja" is yes; a correction ("nej vänta, det ska vara 7/7–15/8") is confirmed anew; a
    question is answered or the confirmation asked again; any other answer is no (nothing is
    saved)."""
    text = answer_text(prompt_context)
    if text is None:
        return refuse(prompt_context, texts.YES_NO_RETRY)
    validations = validations_of(prompt_context.options)
    answer = parse_yes_no(text)
    if answer is not True and validations.get("ask") == Ask.SET.value:
        corrected = read_correction(text, today_of(prompt_context.context))
        if corrected is not None and corrected.date_problem:
            return _again(prompt_context, corrected.date_problem)
        if corrected is not None:
            prompt_context.recognized.value = {"correct": _dump(corrected)}
            return True
    if answer is None and _RIGHTS_QUESTION.search(text) and validations.get("rights"):
        return _again(prompt_context, str(validations["rights"]))
    if answer is None and "?" in text:
        return _again(prompt_context)
    prompt_context.recognized.value = answer is True
    return True


async def _days(prompt_context: PromptValidatorContext) -> bool:
    """The days of the absence, in any form core.date_ranges reads ("1/7–31/7", "v. 27",
    "hela juli", "från idag till 20/6"); refused naming the forms, or as past."""
    text = answer_text(prompt_context)
    if text is None:
        return refuse(prompt_context, texts.TEXT_ONLY)
    today = today_of(prompt_context.context)
    try:
        found = find_range(text, today)
    except InputError as refused:
        return refuse(prompt_context, refused.message)
    if found is None:
        return refuse(prompt_context, f"Jag hittade inga datum i svaret. {RANGE_FORMS}")
    past = check_not_past(found[1], today)
    if past:
        return refuse(prompt_context, past[0].message)
    prompt_context.recognized.value = {"first": found[0].isoformat(), "last": found[1].isoformat()}
    return True


async def _which_person(prompt_context: PromptValidatorContext) -> bool:
    """ "Menade du Per Persson?": "ja" is that person, "nej" none; of several, one by number or name."""
    text = answer_text(prompt_context)
    choices = validations_of(prompt_context.options).get("choices", [])
    if text is not None and len(choices) == 1 and parse_yes_no(text) is False:
        prompt_context.recognized.value = None
        return True
    return await choice_validator(prompt_context)


def _person(identity: Identity, typed: str | None) -> str:
    return identity.user_id if typed in (ME, None) else typed


def _dump(request: SubstituteRequest) -> dict[str, Any]:
    """A request as the dialog's state keeps it (JSON)."""
    return {
        "ask": request.ask.value,
        "absent": request.absent,
        "substitute": request.substitute,
        "first": request.first.isoformat() if request.first else None,
        "last": request.last.isoformat() if request.last else None,
        "date_problem": request.date_problem,
        "units": list(request.units),
        "question": request.question,
    }


def _load(data: object) -> SubstituteRequest | None:
    """A request kept in the dialog's state; None for anything else."""
    if not isinstance(data, dict):
        return None
    try:
        return SubstituteRequest(
            Ask(str(data.get("ask"))),
            _text(data.get("absent")),
            _text(data.get("substitute")),
            _day(data.get("first")),
            _day(data.get("last")),
            str(data.get("date_problem") or ""),
            tuple(str(u) for u in data.get("units") or () if isinstance(u, str)),
            str(data.get("question") or ""),
        )
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _day(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def _merged(before: SubstituteRequest, corrected: SubstituteRequest) -> SubstituteRequest:
    """A request with a correction's days and substitute in place of the ones said before."""
    first = corrected.first or before.first
    last = corrected.last or before.last
    if corrected.last is None and first is not None and (last is None or last < first):
        last = first  # "från 2/7" after the last day: one day
    return SubstituteRequest(
        before.ask,
        corrected.absent if corrected.absent not in (None, ME) else before.absent,
        corrected.substitute if corrected.substitute is not None else before.substitute,
        first,
        last,
        "",
        before.units,
        before.question,
    )


async def _tell(context: TurnContext, user_id: str, name: str, notice: str) -> None:
    """Tell a person (the absent one, the substitute), and the one who acted whether they were told."""
    why = await _turn(context).tell(user_id, notice)
    await context.send_activity(texts.absent_told(name) if why is None else texts.absent_not_told(name, why))


class SubstituteDialog(CancelAndHelpDialog):
    """Options (JSON): {"request": a request kept (a correction, a person chosen)}; without
    it the message is read. Begun to set or end a substitute (the days, "Menade du …?", the
    confirmation and "ja"/"nej"); answer_at_once answers the rest."""

    def __init__(self) -> None:
        super().__init__(SubstituteDialog.__name__)
        self.add_dialog(TextPrompt(YES_NO_PROMPT, _confirmation))
        self.add_dialog(TextPrompt(DAYS_PROMPT, _days))
        self.add_dialog(TextPrompt(CHOICE_PROMPT, _which_person))
        self.add_dialog(
            WaterfallDialog(WaterfallDialog.__name__, [self.days_step, self.summary_step, self.act_step])
        )
        self.initial_dialog_id = WaterfallDialog.__name__  # type: ignore[assignment]  # the SDK declares it None

    async def answer_at_once(self, turn_context: TurnContext, options: dict[str, Any]) -> bool:
        """The list, and how to say what is missing, in the turn; setting and ending need the
        confirmation, and missing days are asked for (False)."""
        request = read_request(turn_context.activity.text or "", today_of(turn_context))
        if request.ask == Ask.LIST:
            await self._list(turn_context, as_substitute=request.substitute == ME)
            return True
        if request.ask == Ask.END:
            return False
        if request.date_problem:
            await turn_context.send_activity(texts.refused(request.date_problem))
            return True
        last = request.last
        past = check_not_past(last, today_of(turn_context)) if last is not None else []
        if (
            past and last is not None and (request.first is None or request.first <= last)
        ):  # "jag var ledig 1/5–10/5"
            await turn_context.send_activity(texts.refused(past[0].message))
            return True
        if request.substitute is None:
            await turn_context.send_activity(
                texts.SUBSTITUTE_WHO if request.first is not None else texts.SUBSTITUTE_HOW
            )
            return True
        return False

    async def beside_confirmation(
        self, context: TurnContext, heard: Understanding, answer_beside: AnswerBeside, top: DialogInstance
    ) -> bool:
        """Another request while this dialog waits for "ja"/"nej" or a choice (the main dialog
        asks): what the substitute may do is answered here, anything else by `answer_beside`
        (or the person is told to ask it after), and the question is asked again; True when
        done. False for the dialog's own answer (a correction: its prompt reads it)."""
        inner = top.state.get(ComponentDialog.persisted_dialog_state)
        stack = inner.dialog_stack if isinstance(inner, DialogState) else []
        prompt = stack[0] if stack else None
        options = prompt.state.get("options") if prompt is not None else None
        validations = validations_of(options)
        text = context.activity.text or ""
        if prompt is not None and prompt.id == YES_NO_PROMPT and validations.get("ask") == Ask.SET.value:
            if read_correction(text, today_of(context)) is not None:
                return False
        if _RIGHTS_QUESTION.search(text) and validations.get("rights"):
            await context.send_activity(str(validations["rights"]))
        elif not await answer_beside(context, heard):
            await context.send_activity(texts.SUBSTITUTE_ASK_LATER)
        again = getattr(options, "retry_prompt", None) or getattr(options, "prompt", None)
        if again is not None:
            await context.send_activity(again)
        return True

    async def _list(self, context: TurnContext, *, as_substitute: bool = False) -> None:
        identity = identity_of(context)
        try:
            views = await call(_port(context).list_substitutions, identity.user_id, today_of(context))
        except DomainError as refused:
            await context.send_activity(texts.refused(refused.message))
            return
        if as_substitute:  # "vem ersätter jag?"
            views = [v for v in views if v.substitute.user_id == identity.user_id]
            if not views:
                await context.send_activity(texts.SUBSTITUTE_NOBODY)
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

    async def days_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """The request (kept, or read from the message); its days asked for when missing."""
        context = step.context
        request = _load(options_of(step).get("request"))
        if request is None:
            if await self.answer_at_once(context, {}):  # a list or what is missing: answered now
                return await end_dialog(step)
            request = read_request(context.activity.text or "", today_of(context))
        values_of(step)["request"] = _dump(request)
        if request.ask != Ask.SET or request.first is not None:
            return await step.next(None)
        identity = identity_of(context)
        name: str | None = None
        if request.absent not in (ME, None):
            try:
                absent = await call(_port(context).person_named, identity.user_id, str(request.absent))
            except Ambiguous as which:
                return await self._which(step, which, "absent")
            except DomainError as problem:
                await context.send_activity(texts.refused(problem.message))
                return await self._done(step, request)
            name = None if absent.user_id == identity.user_id else absent.shown
        ask = texts.substitute_when(name)
        return await step.prompt(DAYS_PROMPT, PromptOptions(prompt=question(ask), retry_prompt=question(ask)))

    async def _which(self, step: WaterfallStepContext, which: Ambiguous, field: str) -> DialogTurnResult:
        """ "Menade du Per Persson (per.persson@malmo.se)?": the person chosen takes the name's place."""
        values_of(step)["choosing"] = field
        choices = [choice(key, label) for key, label in which.choices]
        labels = [label for _, label in which.choices]
        if len(choices) == 1:
            text, actions = texts.did_you_mean(labels, allow_none=False), [texts.YES, texts.NO]
        else:
            text, actions = texts.numbered(texts.which_person(which.typed), labels, allow_none=True), []
        options = PromptOptions(
            prompt=question(text, actions),
            retry_prompt=question(f"{texts.CHOICE_RETRY} {text}", actions),
            validations={"choices": choices, "allow_none": True},
        )
        return await step.prompt(CHOICE_PROMPT, options)

    async def _done(self, step: WaterfallStepContext, request: SubstituteRequest | None) -> DialogTurnResult:
        """The dialog ends; a question asked beside the request is answered after it (main dialog)."""
        later = request.question if request is not None else ""
        return await end_dialog(step, {"later": later} if later else None)

    async def summary_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        context = step.context
        values = values_of(step)
        request = _load(values.get("request"))
        assert request is not None  # days_step kept it
        if isinstance(step.result, dict) and "first" in step.result:  # the days asked for
            asked = SubstituteRequest(
                Ask.SET, None, None, _day(step.result["first"]), _day(step.result["last"])
            )
            request = _merged(request, asked)
            values["request"] = _dump(request)
        identity = identity_of(context)
        port = _port(context)
        try:
            if request.ask == Ask.END:
                days = (request.first, request.last) if request.first and request.last else None
                ending = await call(
                    port.end_substitutions,
                    identity.user_id,
                    _person(identity, request.absent),
                    today_of(context),
                    check_only=True,
                    current_only=days is None,
                    days=days,
                )
                mine = ending.absent.user_id == identity.user_id
                values.update(ask=Ask.END.value, absent=ending.absent.user_id, on=ending.on.isoformat())
                said = texts.substitute_end_confirm(
                    None if mine else ending.absent.shown, ending.on, [p.shown for p in ending.substitutes]
                )
                options = yes_no_options(said)
                options.retry_prompt = question(
                    texts.substitute_end_confirm_again(None if mine else ending.absent.shown, ending.on),
                    [texts.YES, texts.NO],
                )
                options.validations = {"ask": Ask.END.value, "again": options.retry_prompt.text}
                return await step.prompt(YES_NO_PROMPT, options)
            assert request.first is not None and request.last is not None  # days_step asked for them
            made = await call(
                port.set_substitution,
                identity.user_id,
                _person(identity, request.absent),
                _person(identity, request.substitute),
                request.first,
                request.last,
                list(request.units),
                check_only=True,
            )
        except Ambiguous as which:
            field = "substitute" if which.errors[0].field == "ersättare" else "absent"
            return await self._which(step, which, field)
        except DomainError as problem:
            await context.send_activity(texts.refused(problem.message))
            return await self._done(step, request)
        s = made.substitution
        absent = None if s.absent == identity.user_id else made.absent.shown
        values.update(
            ask=Ask.SET.value,
            absent=s.absent,
            substitute=s.substitute,
            first=s.first.isoformat(),
            last=s.last.isoformat(),
            units=sorted(s.units),
        )
        said = texts.substitute_confirm(
            made.substitute.shown,
            absent,
            s.first,
            s.last,
            s.units,
            made.committees,
            made.kept_roles,
            [(r.substitute.shown, r.first, r.last) for r in made.replaces],
            request.question,
        )
        again = texts.substitute_confirm_again(made.substitute.shown, absent, s.first, s.last, s.units)
        options = yes_no_options(said)
        options.retry_prompt = question(again, [texts.YES, texts.NO])
        options.validations = {
            "ask": Ask.SET.value,
            "again": again,
            "rights": texts.substitute_rights(
                made.substitute.shown, absent, made.committees, made.kept_roles
            ),
        }
        return await step.prompt(YES_NO_PROMPT, options)

    async def act_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        context = step.context
        values = values_of(step)
        request = _load(values.get("request"))
        if values.get("choosing") in ("absent", "substitute") and request is not None:
            chosen = step.result
            if not isinstance(chosen, str):  # "nej", "ingen av dessa"
                await context.send_activity(texts.SUBSTITUTE_WHO_AGAIN)
                return await self._done(step, request)
            field = str(values["choosing"])
            kept = _dump(request)
            kept[field] = chosen
            return await step.replace_dialog(WaterfallDialog.__name__, {"request": kept})
        if isinstance(step.result, dict) and request is not None:  # a correction: confirmed anew
            corrected = _load(step.result.get("correct"))
            if corrected is not None:
                return await step.replace_dialog(
                    WaterfallDialog.__name__, {"request": _dump(_merged(request, corrected))}
                )
        ending = values.get("ask") == Ask.END.value
        if step.result is not True:
            await context.send_activity(texts.SUBSTITUTE_NOT_ENDED if ending else texts.SUBSTITUTE_NOT_SAVED)
            return await self._done(step, request)
        identity = identity_of(context)
        port = _port(context)
        try:
            if ending:
                days = (
                    (request.first, request.last)
                    if request is not None and request.first and request.last
                    else None
                )
                ended = await call(
                    port.end_substitutions,
                    identity.user_id,
                    str(values["absent"]),
                    date.fromisoformat(str(values["on"])),
                    author=identity.name or None,
                    current_only=days is None,
                    days=days,
                )
                mine = ended.absent.user_id == identity.user_id
                await context.send_activity(
                    texts.substitutes_ended(
                        None if mine else ended.absent.shown,
                        ended.on,
                        [p.shown for p in ended.substitutes],
                        coming=ended.on > today_of(context),
                    )
                )
                by = identity.name or ended.by.shown
                if ended.tell:
                    notice = texts.substitute_notice_ended(by, ended.on)
                    await _tell(context, ended.absent.user_id, ended.absent.shown, notice)
                for sub in ended.told_substitutes:
                    notice = texts.substitute_notice_removed(
                        by, None if mine else ended.absent.shown, ended.on
                    )
                    await _tell(context, sub.user_id, sub.shown, notice)
                return await self._done(step, request)
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
            return await self._done(step, request)
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
        by = identity.name or made.by.shown
        if made.tell:
            notice = texts.substitute_notice_set(
                by, made.substitute.shown, s.first, s.last, s.units, made.committees, made.kept_roles
            )
            await _tell(context, made.absent.user_id, made.absent.shown, notice)
        if made.tell_substitute:
            notice = texts.substitute_notice_appointed(
                by, None if mine else made.absent.shown, s.first, s.last, s.units, made.committees
            )
            await _tell(context, s.substitute, made.substitute.shown, notice)
        return await self._done(step, request)


@begins(Intent.SUBSTITUTE, SubstituteDialog)
def substitute_request(heard: Understanding) -> tuple[str, dict[str, Any]]:
    """ "Jag är ledig 16 juni–11 juli, Per Persson ersätter mig", "Per ersätter Anna 16/6–11/7",
    "jag är tillbaka" (the dialog: a confirmation), "vem ersätter mig?" (answered at once). The
    units it is limited to are read from the message's own words (dialogs.substitute_words),
    never from a unit named in a question beside it."""
    return SubstituteDialog.__name__, {}
