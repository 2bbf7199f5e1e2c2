"""The base of every dialog: "avbryt" cancels and "hjälp" explains, at any step."""

from __future__ import annotations

from microsoft_agents.activity import ActivityTypes, InputHints
from microsoft_agents.hosting.core import MessageFactory
from microsoft_agents.hosting.dialogs import (
    ComponentDialog,
    DialogContext,
    DialogTurnResult,
    DialogTurnStatus,
)

from dialogs import texts
from dialogs.steps import reprompt
from dialogs.understanding import Intent, interruption


class CancelAndHelpDialog(ComponentDialog):
    """A component dialog that listens for "avbryt"/"avsluta"/"stopp" and "hjälp"/"help"/"?"
    before its active step sees the message."""

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        result = await self.interrupt(inner_dc)
        if result is not None:
            return result
        return await super().on_continue_dialog(inner_dc)

    async def interrupt(self, inner_dc: DialogContext) -> DialogTurnResult | None:
        activity = inner_dc.context.activity
        if activity.type != ActivityTypes.message or not activity.text:
            return None
        intent = interruption(activity.text)
        if intent == Intent.CANCEL:
            await inner_dc.context.send_activity(
                MessageFactory.text(texts.CANCELLED, None, InputHints.ignoring_input)
            )
            cancelled: DialogTurnResult = await inner_dc.cancel_all_dialogs()
            return cancelled
        if intent == Intent.HELP:
            await inner_dc.context.send_activity(MessageFactory.text(texts.HELP))
            await reprompt(inner_dc)
            return DialogTurnResult(DialogTurnStatus.Waiting)
        return None
