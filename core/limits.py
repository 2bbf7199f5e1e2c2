"""Every length limit on what people type, in one place: the chat, the cards'
maxLength, the forms' parsers (core.forms), the rules, the command line and the
template read them here, so no way in takes a longer text than another; and the
one wording of a text over its limit (`text_too_long`, `title_too_long`), here
rather than in core.forms because the rules (core.rules), which core.forms
imports, say it too.

Lengths are in characters, counted on the text as it is kept (stripped; a title
or a name cleaned by core.text.clean_name).
"""

from __future__ import annotations

from core.errors import RuleError

MAX_TITLE = 200
"""A measure's title."""
MAX_DESCRIPTION = 4000
"""A measure's description."""
MAX_TARGET_GROUP = 500
"""A measure's target group."""
MAX_PERFORMER = 200
"""Who carries a measure out."""
MAX_NOTE = 4000
"""A follow-up's note (kommentar)."""
MAX_CARD_FIELD = 4000
"""Any one text field a card submits (the round card: status, spend, forecast, usable; its
note has MAX_NOTE, said as every form says it)."""
MAX_EVALUATION = 4000
"""The template's Uppföljning column."""

MAX_DECISION = 300
"""A decision's whole citation (core.model.MAX_REFERENCE)."""
MAX_BODY = 16
"""A deciding body's code in a decision."""
MAX_PARAGRAPH = 32
"""A decision's paragraph."""
MAX_CASE_NUMBER = 64
"""A decision's case number."""
MAX_DELEGATE = 200
"""Who decided on delegation."""

MAX_PERSON_NAME = 80
"""A person's display name as shown."""

MAX_REACHED = 100_000
"""How many people a measure may say it has reached (a follow-up's `reached`): more than any
Swedish municipality employs (Stockholm stad, the largest, has about 50 000), so a typing slip
("1000000") is refused rather than kept; well inside the database's integer. Only the readers
(core.forms.read_reached) refuse more: a follow-up stored before the limit replays as it is."""


def text_too_long(label: str, length: int, limit: int) -> RuleError:
    """A text over its limit, named by its field's label ("Kommentar är för lång (4001 tecken).
    Högst 4000 tecken."): every way in says it so (core.forms, the rules, the template)."""
    return RuleError("text_too_long", f"{label} är för lång ({length} tecken). Högst {limit} tecken.", label)


def title_too_long(length: int, limit: int = MAX_TITLE) -> RuleError:
    """A measure's title over its limit (field "insats", the template's Insats column)."""
    return RuleError(
        "title_too_long", f"Titeln är för lång ({length} tecken). Högst {limit} tecken.", "insats"
    )
