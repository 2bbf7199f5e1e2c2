"""The words people type, in one place: yes and no, "none of them", statuses,
months and periods, "skip", "no decision", and the chat's small words (help,
cancel, greetings, thanks). Every form reads its words here, so the chat, the
follow-up form, the round card, the command line and the template agree: "japp"
is yes and "juni" is a month everywhere.

Pure data and tiny lookups; no parsing of whole forms (core.forms does that).
Keys are compared after `key()`: the clean name, case-folded, with the end
punctuation a person adds (" .!") stripped.
"""

from __future__ import annotations

from core.text import name_key


def key(text: str) -> str:
    """A typed word as the vocabulary compares it: clean, case-folded, no end " .!"."""
    return name_key(text).strip(" .!")


# --- yes / no ----------------------------------------------------------------------

YES = frozenset(
    {
        "ja",
        "j",
        "jo",
        "japp",
        "jepp",
        "jajamen",
        "ja tack",
        "visst",
        "absolut",
        "ok",
        "okej",
        "stämmer",
        "spara",
        "yes",
        "y",
    }
)
"""What means yes (the chat's set, with "jepp", "jo", "ja tack" and "visst")."""

NO = frozenset({"nej", "n", "nä", "nää", "nej tack", "nix", "inte", "no", "nope"})
"""What means no (the chat's set, with "nej tack" and "nix")."""

CARD_TRUE = frozenset({"true", "1"})
CARD_FALSE = frozenset({"false", "0"})
"""A card's toggle as a client sends it ("true"/"false"), and a spreadsheet's 1/0:
accepted where a value comes from a card or a file, not from a typed chat answer."""


def yes_no(text: str) -> bool | None:
    """True for a yes word, False for a no word, None for anything else."""
    word = key(text)
    if word in YES:
        return True
    if word in NO:
        return False
    return None


def card_yes_no(value: object) -> bool | None:
    """A yes/no field from a card or a file: a boolean, "true"/"false"/"1"/"0",
    or any yes or no word; None when it is none of them."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    word = key(value)
    if word in CARD_TRUE:
        return True
    if word in CARD_FALSE:
        return False
    return yes_no(value)


NONE = frozenset({"ingen", "inget", "inga", "ingen av dem", "ingen av dessa", "ingen av de", "nej"})
"""'None of them', as an answer to a choice that allows it."""

SKIP = "-"
"""Typed for an optional free text (a description, a note): nothing."""

NO_DECISION = ("-", "inget", "inget beslut", "ingen", "saknas", "finns inte", "vet inte", "nej")
"""Answers to "which decision?" that say there is none."""


def says_no_decision(text: str) -> bool:
    """Whether an answer to the decision question says there is none: "inget beslut",
    "Inget beslut.", "saknas!" (case, spaces and end punctuation aside)."""
    return " ".join(text.lower().split()).strip(".!? ") in NO_DECISION


# --- statuses ----------------------------------------------------------------------

STATUS_WORDS: dict[str, str] = {
    "ej påbörjad": "Ej påbörjad",
    "ej påbörjat": "Ej påbörjad",
    "inte påbörjad": "Ej påbörjad",
    "ej startad": "Ej påbörjad",
    "not started": "Ej påbörjad",
    "pågående": "Pågående",
    "pågår": "Pågående",
    "påbörjad": "Pågående",
    "ongoing": "Pågående",
    "klar": "Klar",
    "klart": "Klar",
    "avslutad": "Klar",
    "genomförd": "Klar",
    "done": "Klar",
    "ej slutförd": "Ej slutförd",
    "inte slutförd": "Ej slutförd",
    "ej slutfört": "Ej slutförd",
    "not completed": "Ej slutförd",
}
"""A status's words (normalised, "_" and "-" as spaces) → its value (core.model.Status);
the English names are the Status members' names."""


def status_value(text: str) -> str | None:
    """The status value a text names, or None."""
    word = name_key(text).replace("_", " ").replace("-", " ")
    return STATUS_WORDS.get(word)


# --- months and periods ------------------------------------------------------------

MONTHS = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)  # fmt: skip
"""Swedish month names, January first."""

MONTH_NUMBERS: dict[str, int] = {
    **{name: i for i, name in enumerate(MONTHS, 1)},
    **{name[:3]: i for i, name in enumerate(MONTHS, 1)},
    "sept": 9,
}
"""A month's name or abbreviation ("juni", "jun", "sept") → its number."""

THIS_PERIOD = frozenset({"", "ok", "okej", "ja", "denna", "den här", "nu", "denna månad"})
"""Answers to "which period?" that take the period offered."""

TODAY = frozenset({"idag", "i dag"})
TOMORROW = frozenset({"imorgon", "i morgon"})
YEAR_END = frozenset({"i slutet av året", "slutet av året", "årsskiftet", "vid årsskiftet"})


# --- the chat's small words (dialogs.understanding) ----------------------------------

CANCEL = frozenset({"avbryt", "avsluta", "stopp", "stop", "cancel", "sluta", "glöm det"})
HELP = frozenset(
    {
        "hjälp",
        "help",
        "?",
        "hjälp mig",
        "vad kan du",
        "vad kan du göra",
        "vad kan jag fråga",
        "vad kan jag fråga om",
        "vad kan jag göra",
        "meny",
        "kommandon",
        "instruktioner",
    }
)
GREETINGS = frozenset("hej hejsan hallå tjena tja hello hi hey god morgon dag kväll eftermiddag".split())
THANKS = frozenset("tack tackar tusen stort så mycket snällt för hjälpen det bra toppen".split())
