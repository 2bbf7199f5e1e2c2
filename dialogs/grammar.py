"""The slots of a question, read from its cleaned text by the vocabulary's patterns: the
money figure asked for, a list's filter, one's own units, the whole city, a sum, measures
named by id, glossary terms, English, and where a second question begins.

Pure functions over text (dialogs.understanding composes them with the matching of units
and measures); every word and pattern is in core.vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from core import vocabulary
from core.vocabulary import Figure, Filter, NeedsAsk

_FIGURES = tuple((figure, re.compile(pattern)) for figure, pattern in vocabulary.FIGURE_WORDS)
_FILTERS = tuple((filter_, re.compile(pattern)) for filter_, pattern in vocabulary.FILTER_WORDS)
_CITY = re.compile(vocabulary.CITY_PATTERN)
_COMPARES = re.compile(vocabulary.COMPARES)
_BARE_ID = re.compile(vocabulary.BARE_ID, re.IGNORECASE)
_OWN = re.compile(vocabulary.OWN_PATTERN)
_TOGETHER = re.compile(vocabulary.TOGETHER_PATTERN)
_MEASURE_ID = re.compile(vocabulary.MEASURE_ID_PATTERN, re.IGNORECASE)
_MORE_IDS = re.compile(r"\s*(?:,|och|&|samt|\+)\s*(\d{1,4})\b")
_ENGLISH = tuple((re.compile(pattern), words) for pattern, words in vocabulary.ENGLISH_PHRASES)
_SECOND = re.compile(vocabulary.SECOND_QUESTION, re.IGNORECASE)
_GLOSSARY = sorted(vocabulary.GLOSSARY_WORDS.items(), key=lambda item: -len(item[0]))
_NEEDS_ASKS = tuple((asked, re.compile(pattern)) for asked, pattern in vocabulary.NEEDS_ASK_WORDS)


def figure(key: str) -> Figure | None:
    """The money figure the cleaned text asks for, or None when it names none."""
    for found, pattern in _FIGURES:
        if pattern.search(key):
            return found
    return None


def needs_ask(key: str) -> NeedsAsk:
    """What a question about competence needs asks (issue 21): the needs without measures,
    the money per role, the hard-to-recruit roles with retirements, else the needs of a role
    or a unit."""
    for asked, pattern in _NEEDS_ASKS:
        if pattern.search(key):
            return asked
    return NeedsAsk.LIST


def list_filter(key: str) -> Filter | None:
    """What a list of measures is narrowed to, or None."""
    for found, pattern in _FILTERS:
        if pattern.search(key):
            return found
    return None


_MONTH = "|".join(sorted(vocabulary.MONTH_NUMBERS, key=len, reverse=True))
_BY_MONTH = re.compile(rf"{vocabulary.END_BY}(?P<month>{_MONTH})\b")
_IN_MONTH = re.compile(rf"{vocabulary.END_IN}(?P<month>{_MONTH})\b")


def end_months(key: str) -> tuple[int, int] | None:
    """The months a list's end dates fall in: "senast i juni", "före oktober" (up to the month
    before), "i september"; None when no month is named."""
    if found := _BY_MONTH.search(key):
        month = vocabulary.MONTH_NUMBERS[found["month"]]
        day = int(found["day"]) if found["day"] else None
        last = month - 1 if found["by"].strip() in ("före", "innan") and day in (None, 1) else month
        return (1, max(last, 1))
    if found := _IN_MONTH.search(key):
        month = vocabulary.MONTH_NUMBERS[found["month"]]
        return (month, month)
    return None


def own(words: Sequence[str]) -> bool:
    """Whether the words mean the person's own unit(s) ("vi", "vår", "mina", "min nämnd"; not
    the spring: "klara i vår")."""
    if _OWN.search(" ".join(words)):
        return True
    return any(
        w in vocabulary.OWN_WORDS and not (w == "vår" and i and words[i - 1] in vocabulary.NOT_OWN_AFTER)
        for i, w in enumerate(words)
    )


def city(key: str) -> bool:
    return _CITY.search(key) is not None


def together(key: str) -> bool:
    return _TOGETHER.search(key) is not None


def measure_ids(text: str, known: Iterable[int]) -> tuple[int, ...]:
    """The measures named by id in the raw text: "status 12", "insats 47", "#12" (kept when no
    measure has it, so that the answer says so), and "status på 39", "andel av 42" when one has it."""
    ids = set(known)
    text = text or ""
    found = []
    for match in [*_MEASURE_ID.finditer(text), *_BARE_ID.finditer(text)]:
        said = [int(match[1])]
        at = match.end()
        while more := _MORE_IDS.match(text, at):  # "13 och 14"
            said.append(int(more[1]))
            at = more.end()
        found += said if match.re is _MEASURE_ID else [i for i in said if i in ids]
    return tuple(dict.fromkeys(found))


def terms(key: str) -> tuple[str, ...]:
    """The glossary's base terms a cleaned text names, in the order named; the first only, unless
    it compares ("skillnaden mellan utfall och prognos"): "prognos i uppföljningen" asks about prognos."""
    padded = f" {key} "
    found: list[tuple[int, str]] = []
    for word, term in _GLOSSARY:
        at = padded.find(f" {word} ")
        if at >= 0 and term not in (t for _, t in found):
            found.append((at, term))
            padded = padded.replace(f" {word} ", " " + "_" * len(word) + " ")
    ordered = tuple(term for _, term in sorted(found))
    return ordered if _COMPARES.search(key) else ordered[:1]


def is_english(words: Sequence[str]) -> bool:
    """Whether a message is written in English: most of its words are English, at least two,
    or it is only words that are English alone ("thanks", "help")."""
    english = sum(1 for w in words if w in vocabulary.ENGLISH_WORDS)
    if words and english == len(words) and not any(w in vocabulary.SWEDISH_TOO for w in words):
        return True
    return english >= 2 and english * 2 > len(words)


@lru_cache(maxsize=1024)
def as_swedish(key: str) -> str:
    """An English cleaned text with its question words and names in Swedish."""
    for pattern, words in _ENGLISH:
        key = pattern.sub(words, key)
    return " ".join(key.split())


def segments(text: str) -> list[str]:
    """The message's parts where a second question may begin (sentences, "… och hur …")."""
    return [part for part in _SECOND.split(text or "") if part and part.strip()]
