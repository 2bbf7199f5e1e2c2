"""Every length limit on what people type, in one place: the chat, the cards'
maxLength, the forms' parsers (core.forms), the rules, the command line and the
template read them here, so no way in takes a longer text than another.

Lengths are in characters, counted on the text as it is kept (stripped; a title
or a name cleaned by core.text.clean_name).
"""

from __future__ import annotations

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
"""Any one text field a card submits (the round card: status, spend, forecast, usable, note)."""
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
