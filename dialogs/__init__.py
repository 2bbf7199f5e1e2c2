"""The chat dialogs of kompetensbot (Microsoft 365 Agents SDK dialogs)."""

from dialogs.cancel_and_help_dialog import CancelAndHelpDialog
from dialogs.followup_dialog import FollowUpDialog
from dialogs.main_dialog import MainDialog
from dialogs.remaining_funds_dialog import RemainingFundsDialog
from dialogs.status_dialog import StatusDialog
from dialogs.submit_measure_dialog import SubmitMeasureDialog

__all__ = [
    "CancelAndHelpDialog",
    "FollowUpDialog",
    "MainDialog",
    "RemainingFundsDialog",
    "StatusDialog",
    "SubmitMeasureDialog",
]
