"""The way back in a dialog that asks for several fields (a measure, a follow-up):
"tillbaka" asks the previous field again, "börja om" starts over, "ändra <fält>"
asks that field again and returns to where the person was (the confirmation,
when they were there), "ändra beloppet till 200 tkr" or "oj fel nämnd, det ska
vara fritidsnämnden" sets the field at once through the same validation as its
question, and "nej" at the confirmation asks what to change instead of throwing
the answers away.

A dialog's waterfall keeps its answers in its values; its step k asks one field
and step k+1 stores the answer (`Flow.stores`). A field is asked again by running
its step with the value its step stores (so nothing changes but the field); while
`EDIT_QUEUE` is in the values, the answer is stored and the next field of the queue
is asked, the last one's step running as usual (issue 19, "Dialogs that trap or lose work").
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from microsoft_agents.activity import ActivityTypes
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.dialogs import (
    DialogContext,
    DialogInstance,
    DialogReason,
    DialogTurnResult,
    DialogTurnStatus,
    PromptOptions,
    WaterfallDialog,
    WaterfallStepContext,
)

from core import vocabulary
from dialogs import texts
from dialogs.cancel_and_help_dialog import CancelAndHelpDialog
from dialogs.prompts import choice, choice_options
from dialogs.steps import begin_dialog, reprompt

EDIT_QUEUE = "edit_queue"
"""In a waterfall's values: the fields still to ask before the flow goes on as usual."""
JUMPED = "jumped"
"""In a waterfall's values: the next step runs as asked (a field asked again), not stored."""
CONFIRM = "confirm"
"""The confirmation, as a place in the flow ("ändra titeln" there returns to it)."""
KEEP_NOW = "kompetensbot.form_flow.keep_now"
"""Turn-state key: the form, waiting at a question, asks to be kept for later and left (the
main dialog keeps it, as one left for another question: "fortsätt" resumes it)."""
SILENT = "kompetensbot.form_flow.silent"
"""Turn-state key: while set to a list, what the dialogs send goes there instead."""


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a flow: the step that asks it, the prompt that waits for it, and
    the fields asked again after it because their answers depend on it."""

    step: int
    prompt: str
    then: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    """Values set before the step runs again (the end date alone: the start is kept)."""


@dataclass(frozen=True, slots=True)
class Flow:
    """A dialog's fields in the order asked, and where the confirmation is."""

    fields: Mapping[str, Field]
    stores: Mapping[int, str]
    """Step → the value it stores from the step before it ("*": a dict of values)."""
    confirm_step: int
    """The step that shows the confirmation (run with the value it stores)."""
    save_step: int
    """The step that takes the confirmation's yes or no ("nej": it asks what to change)."""
    confirm_places: frozenset[int]
    """The steps that wait at or after the confirmation (its yes/no, "what to change")."""
    words: Mapping[str, tuple[str, ...]]
    names: Mapping[str, str]
    what: str
    """The dialog's thing, for "Det svarar jag på när vi är klara med insatsen"."""
    kept: str
    """The dialog left unfinished, for "Du har en påbörjad insats"."""
    convert: Mapping[str, Callable[[object], object]] = field(default_factory=dict)
    """A stored value's type as the steps keep it (a choice's key "12" → the measure id 12)."""
    preset: Mapping[str, str] = field(default_factory=dict)
    """Field → the value that is true when the field was chosen for the person and never
    asked (the only unit, the only measure): "tillbaka" does not go back to it."""

    def order(self) -> list[str]:
        return list(self.fields)

    def known(self, names: object) -> list[str]:
        """The places of a stored list (an edit queue) that this flow has; anything else
        (from another version, or forged) is dropped rather than raising KeyError."""
        if not isinstance(names, list | tuple):
            return []
        return [n for n in names if isinstance(n, str) and (n == CONFIRM or n in self.fields)]

    def field_at(self, index: int) -> str | None:
        if index in self.confirm_places:
            return CONFIRM
        return next((name for name, f in self.fields.items() if f.step == index), None)

    def step_of(self, name: str) -> int:
        return self.confirm_step if name == CONFIRM else self.fields[name].step

    def store(self, index: int, values: dict[str, Any], result: object) -> None:
        key = self.stores.get(index)
        if key == "*" and isinstance(result, dict):
            values.update(result)
        elif key is not None and key != "*":
            try:
                values[key] = (
                    self.convert[key](result) if key in self.convert and result is not None else result
                )
            except (TypeError, ValueError):  # not a value the step stores (forged state): left as it was
                pass

    def change_choices(self) -> list[dict[str, Any]]:
        return [choice(name, self.names[name], self.words.get(name, ())) for name in self.fields]


# --- what a message asks of the flow ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    kind: str
    """"back", "restart" or "change"."""
    field: str | None = None
    value: str | None = None


BACK, RESTART, CHANGE = "back", "restart", "change"
_WORD = re.compile(r"[\wåäöéü]+", re.IGNORECASE)
_FILLERS = frozenset(
    {"oj", "oops", "hoppsan", "förlåt", "nej", "ojdå", "äh", "ah", "jag", "vill", "kan", "du", "vänta"}
)
_SHOULD_BE = re.compile(
    r"[\s,.:;!–-]*(?:" + "|".join(re.escape(p) for p in vocabulary.SHOULD_BE) + r")\b",
    re.IGNORECASE,
)
_REST = re.compile(r"[\s,.:;!?–-]*")


def read_command(text: str, words: Mapping[str, tuple[str, ...]]) -> Command | None:
    """What `text` asks of a flow with the fields `words` names, or None (an answer).

    "ändra <fält>" is a command, with a value only when "till", "ska vara" … follows the
    field's word at once; "fel <fält>" only when nothing else follows, or such a value:
    "Fel prognos förra månaden, nu rättad" is a note, and "ändra beskrivningen, vi går
    över till distans" asks the description again rather than setting it to "distans"."""
    key = vocabulary.key(text)
    if key in vocabulary.BACK:
        return Command(BACK)
    if key in vocabulary.RESTART:
        return Command(RESTART)
    found = list(_WORD.finditer(text))
    while found and found[0].group().lower() in _FILLERS:
        found = found[1:]
    if not found or len(found) > 14:
        return None
    first = found[0].group().lower()
    if first in vocabulary.CHANGE_VERBS:
        if len(found) == 1:
            return Command(CHANGE)
        named = _field_named(found[1:3], words)
        if named is None:
            return None
        name, end = named
        return Command(CHANGE, name, _value(text[end:]))
    if first in vocabulary.WRONG_WORDS and len(found) > 1:
        named = _field_named(found[1:2], words)
        if named is None:
            return None
        name, end = named
        value = _value(text[end:])
        if value is None and _REST.fullmatch(text[end:]) is None:  # more than the field: an answer
            return None
        return Command(CHANGE, name, value)
    return None


def _field_named(
    tokens: Sequence[re.Match[str]], words: Mapping[str, tuple[str, ...]]
) -> tuple[str, int] | None:
    """The field one of the first words names ("ändra [det] beloppet", "ändra slutdatum")
    and where its word ends in the text."""
    for token in tokens:
        word = token.group().lower()
        for name, its_words in words.items():
            if word in its_words:
                return name, token.end()
        if word not in ("det", "den", "min", "mitt", "vår", "vårt", "på", "om"):
            return None
    return None


def _value(rest: str) -> str | None:
    """The new value when "till", "det ska vara" … begins `rest` (what follows the field's
    word), as typed; None when none is given."""
    found = _SHOULD_BE.match(rest)
    if found is None:
        return None
    value = rest[found.end() :].strip(" ,.:;!")
    return value or None


# --- the dialog ------------------------------------------------------------------------


class FormDialog(CancelAndHelpDialog):
    """A dialog whose main waterfall (id WaterfallDialog.__name__) asks the fields of
    `flow`. A subclass wraps its steps with `steps(...)` and adds the prompt
    `CHOICE_PROMPT` (the "what to change?" question is a choice)."""

    def __init__(self, dialog_id: str, flow: Flow):
        super().__init__(dialog_id)
        self.flow = flow

    def steps(
        self, steps: Sequence[Callable[[WaterfallStepContext], Awaitable[DialogTurnResult]]]
    ) -> list[Callable[[WaterfallStepContext], Awaitable[DialogTurnResult]]]:
        """The waterfall's steps, each taking part in going back and changing fields."""
        return [self._wrapped(index, original) for index, original in enumerate(steps)]

    def _wrapped(
        self, index: int, original: Callable[[WaterfallStepContext], Awaitable[DialogTurnResult]]
    ) -> Callable[[WaterfallStepContext], Awaitable[DialogTurnResult]]:
        async def step(step_context: WaterfallStepContext) -> DialogTurnResult:
            values: dict[str, Any] = step_context.values
            options = step_context.options if isinstance(step_context.options, dict) else {}
            if index == 0 and isinstance(options.get("restore"), dict) and not values:
                values.update(options["restore"])  # from a checked form: its answers, then the field
                places = self.flow.known([options.get("goto"), *self.flow.known(options.get("queue"))])
                if places:
                    return await self.jump(step_context, places[0], places[1:])
            if values.pop(JUMPED, False) or EDIT_QUEUE not in values:
                return await original(step_context)
            self.flow.store(index, values, step_context.result)
            queue = self.flow.known(values.pop(EDIT_QUEUE))
            if not queue:  # an empty or unknown queue (old or forged state): on as usual
                return await original(step_context)
            return await self.jump(step_context, queue[0], queue[1:])

        step.__name__ = getattr(original, "__name__", f"step{index}")
        return step

    # --- moving in the flow ------------------------------------------------------------

    async def jump(self, dc: DialogContext, name: str, queue: Sequence[str] = ()) -> DialogTurnResult:
        """Ask the field `name` again (CONFIRM: show the confirmation), then the fields
        of `queue`, and then go on as usual from the last of them."""
        while len(dc.stack) > 1:  # the prompt and any sub-dialog of the field asked now
            dc.stack.pop(0)
        bottom = dc.stack[0]
        if bottom.id != WaterfallDialog.__name__:  # another waterfall (a checked form): the main one
            values = dict(bottom.state.get(WaterfallDialog.PersistedValues) or {})
            values.pop(EDIT_QUEUE, None)
            dc.stack.clear()
            restore = {"restore": values, "goto": name, "queue": list(queue), "unit": values.get("unit")}
            return await begin_dialog(dc, WaterfallDialog.__name__, restore)
        values = bottom.state[WaterfallDialog.PersistedValues]
        values.pop(EDIT_QUEUE, None)
        if queue:
            values[EDIT_QUEUE] = list(queue)
        values[JUMPED] = True
        index = self.flow.step_of(name)
        if name != CONFIRM:
            values.update(self.flow.fields[name].options)
        stored = self.flow.stores.get(index)
        result = values.get(stored) if stored and stored != "*" else None
        waterfall = await dc.find_dialog(WaterfallDialog.__name__)
        assert isinstance(waterfall, WaterfallDialog)
        ran: DialogTurnResult = await waterfall.run_step(dc, index, DialogReason.NextCalled, result)
        return ran

    def where(self, dc: DialogContext) -> tuple[str | None, list[str]]:
        """The field the dialog waits for (CONFIRM at the confirmation) and the queue."""
        bottom = dc.stack[-1] if dc.stack else None
        if bottom is None:
            return None, []
        index = bottom.state.get(WaterfallDialog.StepIndex, 0)
        values = bottom.state.get(WaterfallDialog.PersistedValues) or {}
        if bottom.id != WaterfallDialog.__name__:
            return CONFIRM, []
        here = self.flow.field_at(int(index))
        sub = dc.stack[-2] if len(dc.stack) > 2 else None  # a sub-dialog's own questions (the dates)
        if here is not None and sub is not None and sub.id != WaterfallDialog.__name__:
            here = self.sub_field(here, sub)
        return here, self.flow.known(values.get(EDIT_QUEUE))

    def sub_field(self, here: str, sub: DialogInstance) -> str:
        """The field a sub-dialog waits for (its subclass knows: the end date of the dates)."""
        return here

    async def interrupt(self, inner_dc: DialogContext) -> DialogTurnResult | None:
        result = await super().interrupt(inner_dc)
        if result is not None:
            return result
        activity = inner_dc.context.activity
        if activity.type != ActivityTypes.message or not activity.text:
            return None
        command = read_command(activity.text, self.flow.words)
        if command is None:
            return None
        if command.kind == RESTART:
            return await self.restart(inner_dc)
        here, queue = self.where(inner_dc)
        if here is None:
            return None
        if command.kind == BACK:
            return await self.back(inner_dc, here, queue)
        if command.field is None:  # "ändra": which?
            return await self.ask_what_to_change(inner_dc, here)
        if command.field == here:  # "ändra beloppet till 200 tkr" at the amount's own question
            if command.value is None:
                await reprompt(inner_dc)
                return DialogTurnResult(DialogTurnStatus.Waiting)
            return await _answer_with(inner_dc, command.value)  # the same validation as typed alone
        order = self.flow.order()
        if here != CONFIRM and (here not in order or order.index(command.field) > order.index(here)):
            await inner_dc.context.send_activity(texts.NOT_ASKED_YET)  # nothing to change yet
            await reprompt(inner_dc)
            return DialogTurnResult(DialogTurnStatus.Waiting)
        after = [f for f in (*self.flow.fields[command.field].then, *queue) if f != command.field]
        back_to = here if here not in after and here != command.field else None
        later = [*after, *([back_to] if back_to else [])] or [CONFIRM]
        if command.value is None:
            return await self.jump(inner_dc, command.field, later)
        return await self.set_directly(inner_dc, command.field, command.value, later)

    async def back(self, dc: DialogContext, here: str, queue: list[str]) -> DialogTurnResult:
        order = self.flow.order()
        earlier = order if here == CONFIRM else order[: order.index(here)] if here in order else []
        # the nearest field before that is asked at all (one not asked is stepped over)
        before = next((f for f in reversed(earlier) if self.can_ask(dc, f)), None)
        if before is None:
            await dc.context.send_activity(texts.NOTHING_TO_GO_BACK_TO)
            await reprompt(dc)
            return DialogTurnResult(DialogTurnStatus.Waiting)
        same_step = here != CONFIRM and self.flow.fields[before].step == self.flow.fields[here].step
        then = [] if same_step else [here]  # the start date again: its dialog asks the end date itself
        return await self.jump(dc, before, [*then, *[f for f in queue if f != here]])

    def can_ask(self, dc: DialogContext, name: str) -> bool:
        """Whether the field is asked at all (a unit or measure chosen for the person is not)."""
        values = dc.stack[-1].state.get(WaterfallDialog.PersistedValues) or {} if dc.stack else {}
        preset = self.flow.preset.get(name)
        return not (preset is not None and values.get(preset))

    async def restart(self, dc: DialogContext) -> DialogTurnResult:
        bottom = dc.stack[-1] if dc.stack else None
        options = bottom.state.get(WaterfallDialog.PersistedOptions) if bottom is not None else None
        options = dict(options) if isinstance(options, dict) else {}
        if "form" in options or "restore" in options:
            options = {"unit": (options.get("form") or options.get("restore") or {}).get("unit")}
        dc.stack.clear()
        await dc.context.send_activity(texts.RESTARTED)
        return await begin_dialog(dc, WaterfallDialog.__name__, options)

    async def ask_what_to_change(self, dc: DialogContext, here: str) -> DialogTurnResult:
        """ "ändra" alone: at the confirmation, the question what to change (as after "nej");
        elsewhere, the fields named and the question asked again."""
        if here != CONFIRM:
            await dc.context.send_activity(texts.what_to_change(list(self.flow.names.values())))
            await reprompt(dc)
            return DialogTurnResult(DialogTurnStatus.Waiting)
        while len(dc.stack) > 1:
            dc.stack.pop(0)
        if dc.stack[0].id != WaterfallDialog.__name__:
            return await self.jump(dc, CONFIRM)
        dc.stack[0].state[WaterfallDialog.PersistedValues][JUMPED] = True
        waterfall = await dc.find_dialog(WaterfallDialog.__name__)
        assert isinstance(waterfall, WaterfallDialog)
        ran: DialogTurnResult = await waterfall.run_step(
            dc, self.flow.save_step, DialogReason.NextCalled, False
        )
        return ran

    def change_options(self, question: str | None = None) -> PromptOptions:
        """The question "what to change?" (a choice of the fields, by name)."""
        question = question or texts.what_to_change(list(self.flow.names.values()))
        options: PromptOptions = choice_options(question, self.flow.change_choices(), listed=True)
        return options

    async def change_to(self, step: WaterfallStepContext) -> DialogTurnResult:
        """The answer to "what to change?": that field, then the confirmation again."""
        name = str(step.result)
        if name not in self.flow.fields:  # a choice this flow does not have (old or forged state)
            return await self.ask_what_to_change(step, CONFIRM)
        after = [f for f in self.flow.fields[name].then if f != name]
        return await self.jump(step, name, [*after, CONFIRM])

    async def ask_quietly(self, dc: DialogContext, name: str) -> DialogTurnResult:
        """The field `name` asked again without a word said: the form waits at its question
        (to be kept for later, KEEP_NOW, and resumed there)."""
        quiet: list[Any] = []
        _silence(dc.context)
        dc.context.turn_state[SILENT] = quiet
        try:
            return await self.jump(dc, name)
        finally:
            dc.context.turn_state.pop(SILENT, None)

    async def set_directly(
        self, dc: DialogContext, name: str, value: str, later: list[str]
    ) -> DialogTurnResult:
        """The field asked again without a word said, then `value` given as its answer:
        the same validation as the question (a refusal says why and asks it)."""
        context = dc.context
        quiet: list[Any] = []
        _silence(context)
        context.turn_state[SILENT] = quiet
        try:
            result = await self.jump(dc, name, later)
        finally:
            context.turn_state.pop(SILENT, None)
        waiting = _waiting_prompt_id(dc)
        if result.status != DialogTurnStatus.Waiting or waiting != self.flow.fields[name].prompt:
            for activity in quiet:  # the question was not asked (the field was settled): said as it was
                await context.send_activity(activity)
            return result
        return await _answer_with(dc, value)


async def _answer_with(dc: DialogContext, value: str) -> DialogTurnResult:
    """`value` given to the waiting prompt as if it were the message."""
    activity = dc.context.activity
    typed = activity.text
    activity.text = value
    try:
        fed: DialogTurnResult = await dc.continue_dialog()  # type: ignore[no-untyped-call]  # unannotated in the SDK
    finally:
        activity.text = typed
    return fed


def _waiting_prompt_id(dc: DialogContext) -> str | None:
    """The id of the prompt that waits, down the stack of `dc`'s top dialog."""
    return dc.stack[0].id if dc.stack else None


def _silence(context: TurnContext) -> None:
    """Once per turn: while SILENT is set, what is sent is kept there instead."""
    if context.turn_state.get(SILENT + ".on"):
        return
    context.turn_state[SILENT + ".on"] = True

    async def hold(_context: TurnContext, activities: list[Any], next_send: Any) -> Any:
        quiet = _context.turn_state.get(SILENT)
        if isinstance(quiet, list):
            quiet.extend(activities)
            return []
        return await next_send()

    context.on_send_activities(hold)
