"""What a person's text may hold when it becomes a name: the one rule for
titles, unit names, performers and person names, and the one rule for a
spreadsheet cell. Pure: no I/O, nothing of ours imported.

A name is one line of visible text:
- NFC (an "å" typed as a + ring is the same "å");
- no control characters (C0, DEL, C1): a newline or tab becomes a space;
- no bidi controls (U+202A–U+202E, U+2066–U+2069, and the marks U+200E,
  U+200F, U+061C) that reorder what is shown, and no invisible separators
  (U+200B, U+2060, U+FEFF, U+00AD soft hyphen) that make two names look the same;
- ZWJ (U+200D) and ZWNJ (U+200C) are kept: emoji sequences and some scripts need them;
- runs of white space (any Unicode space) become one space, and the ends are trimmed.

Two names are the same name when their clean forms are equal after case
folding (`name_key`): a second "Yrkeslärarsatsning" with a zero-width space
in it is the first one. Where a copy must not pass for a new name (a measure's
title), letters that only look alike count as the same (`lookalike_key`).
"""

from __future__ import annotations

import re
import unicodedata

from core import limits

_INVISIBLE = frozenset(
    "\u200b\u2060\ufeff\u00ad"  # zero-width space, word joiner, BOM, soft hyphen
    "\u202a\u202b\u202c\u202d\u202e"  # bidi embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # bidi isolates
    "\u200e\u200f\u061c"  # bidi marks
)
_KEPT_FORMAT = frozenset("\u200c\u200d")  # ZWNJ and ZWJ
_SPACES = re.compile(r"\s+")


def _character(c: str) -> str:
    if c in _KEPT_FORMAT:
        return c
    if c in _INVISIBLE:
        return ""
    category = unicodedata.category(c)
    if category == "Cc":  # newline, tab, NUL, DEL, C1: a space (white space is folded below)
        return " "
    if category == "Cf":  # other invisible format characters (tags, interlinear marks)
        return ""
    return c


MAX_PERSON_NAME = limits.MAX_PERSON_NAME
"""The longest person's display name shown in a card or a text: a longer one is
cut, with "…" (tryout 2 item 5: a 3 062-character name in a receipt)."""


def clean_name(text: str, limit: int | None = None) -> str:
    """A title, unit name, performer or person name as it is stored and shown:
    one line; with `limit`, at most that many characters ("…" last when cut)."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(_character(c) for c in text)
    text = _SPACES.sub(" ", text).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def person_name(text: str) -> str:
    """A person's display name as shown: one line, at most MAX_PERSON_NAME characters."""
    return clean_name(text, MAX_PERSON_NAME)


def visible_text(text: str) -> str:
    """Free text (a note, a description, a question) as it may be shown: like
    clean_name, but its lines are kept (a tab becomes a space, CR LF a line feed)."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(c if c == "\n" else _character(c) for c in text)


def name_key(text: str) -> str:
    """What two names are compared by: the clean name, case-folded."""
    return clean_name(text).casefold()


# Letters of other scripts drawn like a Latin letter (lower case: compared after
# case folding). A title typed with a Cyrillic "а" reads as the Latin one.
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "ë", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
        "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "ï", "ј": "j", "ԁ": "d",
        "ӏ": "l", "ԛ": "q", "ԝ": "w", "ү": "y", "һ": "h", "ɡ": "g",
        # Greek
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "ϳ": "j", "ζ": "z",
    }
)  # fmt: skip


def lookalike_key(text: str) -> str:
    """What two names are compared by when a copy must not pass for a new one:
    name_key, with compatibility forms folded (NFKC: a full-width "Ａ" is "a")
    and letters of other scripts that look like Latin ones read as those (a
    Cyrillic "а" is "a"). "Stärkа formell kompetens" with a Cyrillic "а" is
    "Stärka formell kompetens"."""
    folded = unicodedata.normalize("NFKC", name_key(text)).casefold()
    latin = unicodedata.normalize("NFC", folded.translate(_LOOKALIKES))
    # Nor does punctuation make a new name: "Stärka formell kompetens." and
    # "Stärka formell-kompetens" are "Stärka formell kompetens" (a stranger's retest).
    words = re.sub(r"[\s\-\u2010-\u2015_/]+", " ", latin)
    return words.strip().rstrip(".,;:!?…").strip()


# --- spreadsheet cells ------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula (OWASP's CSV injection list)."""


def _looks_like_formula(value: str) -> bool:
    """Starts like a formula, after any quotes we may have put in front."""
    return value.lstrip("'").startswith(FORMULA_STARTS)


def spreadsheet_text(value: str) -> str:
    """A CSV text cell that no spreadsheet runs as a formula: text starting with a
    formula character gets a single quote in front ("=HYPERLINK(…)" is written
    "'=HYPERLINK(…)"), as OWASP recommends; so does text that already starts
    with quotes before one ("'=x" is written "''=x"), so that reading it back
    (from_spreadsheet_text) gives every text exactly. Only text: numbers stay numbers."""
    return "'" + value if _looks_like_formula(value) else value


def from_spreadsheet_text(value: str) -> str:
    """The inverse on reading a CSV: the quote that spreadsheet_text added is
    taken away ("'=x" reads "=x", "''=x" reads "'=x"); other text is left alone."""
    if value.startswith("'") and _looks_like_formula(value):
        return value[1:]
    return value


def names_something(title: str) -> bool:
    """Whether a title names anything: a letter or a digit ("-", the answer that skips
    every other field, or "..." is no title)."""
    return any(character.isalnum() for character in title)


_UNWRITABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)  # control characters but tab and line breaks, and the bidi embeddings, overrides and isolates


def writable_text(text: str) -> str:
    """Text as an export writes it: control characters (tab and line breaks kept, so the
    export's formula check sees a leading tab) and bidi overrides removed. A worksheet
    cannot hold a control character, and one stored before the forms removed them
    (core.forms.read_text) would make the whole export fail."""
    return _UNWRITABLE.sub("", text)


_MARKS = str.maketrans("åäöéü", "aaoeu")


def without_marks(text: str) -> str:
    """Swedish letters folded for matching what people type without them ("omfordelning",
    "overtalighet"): å and ä to a, ö to o, é to e, ü to u (lower case)."""
    return text.translate(_MARKS)
