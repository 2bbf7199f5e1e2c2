"""Typed doors to the SDK's dialog machinery: `begin_dialog`, `end_dialog` and
`reprompt_dialog` have no return types in the SDK, and a waterfall step's
`options` and `values` are typed `object`; the dialogs go through these."""

from __future__ import annotations

from typing import Any

from microsoft_agents.hosting.dialogs import (
    DialogContext,
    DialogTurnResult,
    PromptOptions,
    WaterfallStepContext,
)


async def begin_dialog(dc: DialogContext, dialog_id: str, options: object = None) -> DialogTurnResult:
    """`dc.begin_dialog(dialog_id, options)`."""
    result: DialogTurnResult = await dc.begin_dialog(dialog_id, options)
    return result


async def end_dialog(dc: DialogContext, result: object = None) -> DialogTurnResult:
    """`dc.end_dialog(result)`."""
    ended: DialogTurnResult = await dc.end_dialog(result)
    return ended


async def reprompt(dc: DialogContext) -> None:
    """`dc.reprompt_dialog()`."""
    await dc.reprompt_dialog()  # type: ignore[no-untyped-call]  # the SDK leaves it unannotated


def options_of(step: WaterfallStepContext) -> dict[str, Any]:
    """The options the step's dialog was begun with (a dict, or none: {})."""
    options = step.options
    return options if isinstance(options, dict) else {}


def values_of(step: WaterfallStepContext) -> dict[str, Any]:
    """The values the dialog's steps keep (the SDK types them as objects)."""
    return step.values


def validations_of(options: PromptOptions | None) -> dict[str, Any]:
    """A prompt's validations (dialogs.prompts puts a dict there), or {}."""
    validations = options.validations if options is not None else None
    return validations if isinstance(validations, dict) else {}
