"""The chat dialogs of kompetensbot (Microsoft 365 Agents SDK dialogs).

The dialogs are imported when first asked for: the services (bot.services)
import dialogs.ports, and the command line, which reaches them through the
services, should not load the SDK's dialogs with them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dialogs.cancel_and_help_dialog import CancelAndHelpDialog
    from dialogs.followup_dialog import FollowUpDialog
    from dialogs.main_dialog import MainDialog
    from dialogs.remaining_funds_dialog import RemainingFundsDialog
    from dialogs.status_dialog import StatusDialog
    from dialogs.submit_measure_dialog import SubmitMeasureDialog

_MODULES = {
    "CancelAndHelpDialog": "dialogs.cancel_and_help_dialog",
    "FollowUpDialog": "dialogs.followup_dialog",
    "MainDialog": "dialogs.main_dialog",
    "RemainingFundsDialog": "dialogs.remaining_funds_dialog",
    "StatusDialog": "dialogs.status_dialog",
    "SubmitMeasureDialog": "dialogs.submit_measure_dialog",
}

__all__ = [
    "CancelAndHelpDialog",
    "FollowUpDialog",
    "MainDialog",
    "RemainingFundsDialog",
    "StatusDialog",
    "SubmitMeasureDialog",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'dialogs' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
