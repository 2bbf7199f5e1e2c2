"""Finding units and measures by what people type: a code, a name, an alias,
an id or a title. Exact (case- and space-insensitive) matching only; the chat
adds fuzzy matching on top."""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.errors import NotFound, RuleError, echo
from core.ledger import Ledger
from core.model import Measure, Unit, normalise

GENERIC_UNIT_ENDING = re.compile(r"(n[äa]mn?d(en|ens|s)?|förvaltning(en|ens|ar|s)?)$")
"""The endings every committee and office shares ("nämnden", "förvaltningen",
"nämden" mistyped too). Two names that share only such an ending
do not name the same unit."""


def distinctive(text: str) -> str:
    """A unit name's own part, for comparing names: each word without its
    generic ending ("gymnasienämnden" → "gymnasie", "tekniska nämnden" →
    "tekniska"), words that are nothing else left out. A unit is never chosen
    because a typed name shares "nämnden" with it: "gymnasienämnden" is not
    "miljönämnden"."""
    words = []
    for word in text.split():
        own = GENERIC_UNIT_ENDING.sub("", word).rstrip("-")
        if own:
            words.append(own if len(own) >= 3 else word)
    return " ".join(words)


def names_a_unit(word: str) -> bool:
    """Whether a word is shaped like a unit's name: an own part and a generic
    ending ("gymnasienämnden", "badhusförvaltningen"), so that one not found is
    said to be unknown rather than ignored."""
    own = GENERIC_UNIT_ENDING.sub("", word).rstrip("-")
    return own != word and len(own) >= 3


def find_unit(units: Iterable[Unit], text: str) -> Unit | None:
    key = normalise(text)
    for unit in units:
        if any(normalise(name) == key for name in unit.names()):
            return unit
    return None


def resolve_unit(ledger: Ledger, text: str, field: str | None = "nämnd") -> str:
    """The code of the unit named by `text`, or NotFound naming the known units."""
    if text in ledger.units:  # a code as the dialogs pass it
        return text
    unit = find_unit(ledger.units.values(), text)
    if unit is None:
        known = ", ".join(f"{u.code} ({u.name})" for u in sorted(ledger.units.values(), key=lambda u: u.code))
        raise NotFound(
            RuleError(
                "unknown_unit",
                f'Okänd nämnd "{echo(text)}". Ange kod, namn eller känt kortnamn. Kända nämnder: {known}.',
                field,
            )
        )
    return unit.code


def resolve_measure(ledger: Ledger, text: str, field: str | None = "insats") -> Measure:
    """The measure named by its id ("12", "#12") or its exact title."""
    raw = text.strip().lstrip("#")
    if raw.isdigit() and int(raw) in ledger.measures:
        return ledger.measures[int(raw)]
    key = normalise(text)
    hits = [m for m in ledger.measures.values() if normalise(m.title) == key]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        ids = ", ".join(str(m.id) for m in hits)
        raise NotFound(
            RuleError(
                "ambiguous_measure",
                f'Flera insatser heter "{echo(text)}" (id {ids}). Ange insatsens id.',
                field,
            )
        )
    raise NotFound(
        RuleError(
            "unknown_measure",
            f'Hittar ingen insats "{echo(text)}". Ange insatsens id eller exakta titel '
            "(kommandot measures listar dem).",
            field,
        )
    )
