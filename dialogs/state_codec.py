"""Dialog state to JSON and back.

The SDK keeps the dialog stack in conversation state as Python objects
(DialogState, DialogInstance, PromptOptions holding Activity models); its
MemoryStorage stores them by reference and never serialises them. A storage
that writes JSON (ours does, in a database) converts with `dump` before writing
and `load` after reading. Everything else in our state is plain JSON already
(the dialogs keep only ints, strings, bools, lists and dicts); anything that is
not raises TypeError, so a dialog that stores a date or a dataclass fails in
the tests rather than in production.
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity
from microsoft_agents.hosting.dialogs import DialogInstance, DialogState, PromptOptions

TAG = "$kompetensbot"

LAYOUT = 4
"""The dialogs' step layout that a stored dialog stack was saved with. A waterfall
resumes at its stored step index, so a stack saved by a version whose steps were
different would resume at the wrong step: bump LAYOUT whenever a dialog's steps
are added, removed or reordered. 4: issue 21 (the need a new measure answers, asked
after the decision in the measure dialog; how many people a measure linked to a competence
need has reached, in the follow-up dialog); 3: issue 19 (the way back: "what to change?" after
"nej" in the measure and follow-up dialogs, the search again in the main dialog);
2: issue 17 (the decision and the dates in the measure dialog, the implausible-amount
question in the follow-up); 1, unmarked: before it. An older stack is not resumed (OutdatedDialogState)."""


class OutdatedDialogState(DialogState):
    """An empty stack in place of a dialog in progress saved with another LAYOUT
    (before an upgrade): the runner tells the person it was stopped
    (bot.teams_bot.run_dialog) and it is not resumed."""


def dump(value: Any) -> Any:
    """A JSON-serialisable copy of `value`."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        if TAG in value:
            raise TypeError(f"state key {TAG!r} is reserved")
        return {_key(k): dump(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [dump(v) for v in value]
    if isinstance(value, DialogState):
        return {TAG: "DialogState", "layout": LAYOUT, "dialog_stack": [dump(i) for i in value.dialog_stack]}
    if isinstance(value, DialogInstance):
        return {TAG: "DialogInstance", "id": value.id, "state": dump(value.state)}
    if isinstance(value, PromptOptions):
        if value.choices:
            raise TypeError("PromptOptions.choices are not stored; use validations")
        return {
            TAG: "PromptOptions",
            "prompt": dump(value.prompt),
            "retry_prompt": dump(value.retry_prompt),
            "style": int(value.style) if value.style is not None else None,
            "validations": dump(value.validations),
            "number_of_attempts": value.number_of_attempts,
        }
    if isinstance(value, Activity):
        return {TAG: "Activity", "data": value.model_dump(mode="json", by_alias=True, exclude_none=True)}
    raise TypeError(f"{type(value).__name__} cannot be kept in dialog state (JSON only)")


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"state keys must be strings, not {type(key).__name__}")
    return key


def load(value: Any) -> Any:
    """The objects `dump` wrote."""
    if isinstance(value, list):
        return [load(v) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(TAG)
    if kind is None:
        return {k: load(v) for k, v in value.items()}
    if kind == "DialogState":
        if value.get("layout", 1) != LAYOUT:  # saved by a version with other steps: not resumed
            return OutdatedDialogState() if value["dialog_stack"] else DialogState()
        return DialogState(dialog_stack=[load(i) for i in value["dialog_stack"]])
    if kind == "DialogInstance":
        return DialogInstance(id=value["id"], state=load(value["state"]))
    if kind == "PromptOptions":
        return PromptOptions(
            prompt=load(value["prompt"]),
            retry_prompt=load(value["retry_prompt"]),
            style=value["style"],
            validations=load(value["validations"]),
            number_of_attempts=value["number_of_attempts"],
        )
    if kind == "Activity":
        return Activity.model_validate(value["data"])
    raise TypeError(f"unknown state object {kind!r}")
