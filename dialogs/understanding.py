"""Understanding free Swedish text: what the user wants (an intent), which
year, and which units and measures they name, ranked by fuzzy matching.

Pure functions over core objects; nothing here knows the SDK or the database.

Matching works on normalised tokens (lower case, punctuation removed) with a
light Swedish stemmer that drops definite, plural and genitive endings, so
"förskolenämnden", "förskolenämnds" and "Förskolenämnd" meet, and so do
"Yrkeslärarsatsningen" and "Yrkeslärarsatsning". Tokens are then compared
with rapidfuzz, which forgives typing errors.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from functools import lru_cache

from rapidfuzz import fuzz, process

from core import vocabulary
from core.lookup import distinctive, names_a_unit
from core.model import Category, Measure, Unit, normalise
from core.needs_report import role_key
from core.text import without_marks
from core.vocabulary import Figure as Figure
from core.vocabulary import Filter as Filter
from core.vocabulary import Intent as Intent  # the kinds of question: core.vocabulary
from core.vocabulary import NeedsAsk as NeedsAsk
from dialogs import grammar


@dataclass(frozen=True, slots=True)
class Candidate:
    """A unit (key: its code) or a measure (key: its id as text) and how well it matched (0–100)."""

    key: str
    label: str
    score: float

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "label": self.label, "score": round(self.score, 1)}

    @staticmethod
    def from_dict(data: dict[str, object]) -> Candidate:
        score = data["score"]
        return Candidate(
            str(data["key"]), str(data["label"]), float(score) if isinstance(score, int | float) else 0.0
        )


@dataclass(frozen=True, slots=True)
class Understanding:
    """What a message asks for.

    Attributes:
      intent: what the user wants.
      year: a year named in the text ("kvar 2025", "i år"), or None.
      units: unit candidates, best first.
      measures: measure candidates, best first.
      rest: the words that named nothing known (for "I cannot find …").
      whole_fund: the text asks for the whole fund ("totalt", "hela staden").
    """

    intent: Intent
    year: int | None = None
    units: tuple[Candidate, ...] = ()
    measures: tuple[Candidate, ...] = ()
    rest: str = ""
    whole_fund: bool = False
    unknown_unit: str = ""
    """A word shaped like a unit's name ("badhusnämnden") that named no unit surely."""
    figure: Figure | None = None
    """The money figure asked for (REMAINING questions): the answer's headline."""
    filter: Filter | None = None
    """What a list of measures is narrowed to (STATUS questions); ENDS with `year`."""
    own: bool = False
    """The person means their own unit(s) without naming one ("vi", "vår", "mina insatser")."""
    together: bool = False
    """The sum of the units named is asked ("tillsammans", "sammanlagt")."""
    unit_codes: tuple[str, ...] = ()
    """Every unit named surely, in the order typed: two or more are each answered."""
    measure_ids: tuple[int, ...] = ()
    """The measures named surely: by id ("status 12"), or a few that fit equally well (each answered)."""
    terms: tuple[str, ...] = ()
    """The words a GLOSSARY question asks about, in base form ("prognos", "utfall")."""
    english: bool = False
    """The message is in English: answered in Swedish with a one-line note."""
    also: Understanding | None = None
    """A second question in the same message, answered after the first."""
    months: tuple[int, int] | None = None
    """For a list of measures that end (filter ENDS): the months of `year` their end date falls in,
    first and last ("slutar i september": (9, 9); "ska vara klara senast i juni": (1, 6))."""
    needs: NeedsAsk | None = None
    """What a NEEDS question asks (issue 21): the uncovered needs, money per role, …"""
    subject: str = ""
    """The words of a NEEDS question that may name a role ("förskollärarna"), as typed and
    cleaned: matched against the roles of the needs the person may read (`match_roles`)."""
    need: str = ""
    """The id of one need a NEEDS question names ("FSKN-3", "B9"), as typed (NeedsAsk.ONE)."""


class Pick(StrEnum):
    ONE = "one"  # one clear match: use it
    ASK = "ask"  # close candidates: ask "Menade du …?"
    NONE = "none"  # nothing matched


@dataclass(frozen=True, slots=True)
class Resolution:
    pick: Pick
    chosen: Candidate | None = None
    options: tuple[Candidate, ...] = field(default=())


# --- thresholds -----------------------------------------------------------

UNIT_SURE = 85.0
"""A unit matching at least this well (and clearly best) is used without asking."""
UNIT_MAYBE = 72.0
"""A unit matching at least this well is offered in "Menade du …?"."""
MEASURE_SURE = 80.0
MEASURE_MAYBE = 66.0
MARGIN = 8.0
"""Candidates within this many points of the best are too close to choose between."""
MAX_OPTIONS = 5


def decide(
    candidates: Sequence[Candidate], *, sure: float, maybe: float, margin: float = MARGIN
) -> Resolution:
    """One clear match → ONE; close candidates (or only a weak one) → ASK; none → NONE."""
    ranked = sorted(candidates, key=lambda c: -c.score)
    if not ranked or ranked[0].score < maybe:
        return Resolution(Pick.NONE)
    top = ranked[0]
    close = [c for c in ranked if c.score >= max(maybe, top.score - margin)][:MAX_OPTIONS]
    exact = top.score >= 100.0 and all(c.score < 100.0 for c in ranked[1:])
    if exact or (top.score >= sure and len(close) == 1):
        return Resolution(Pick.ONE, top, (top,))
    return Resolution(Pick.ASK, None, tuple(close))


def decide_unit(candidates: Sequence[Candidate]) -> Resolution:
    return decide(candidates, sure=UNIT_SURE, maybe=UNIT_MAYBE)


def one_unit(heard: Understanding) -> str | None:
    """The code of the unit a message names surely, or None."""
    resolution = decide_unit(heard.units)
    return resolution.chosen.key if resolution.pick == Pick.ONE and resolution.chosen else None


def decide_measure(candidates: Sequence[Candidate]) -> Resolution:
    return decide(candidates, sure=MEASURE_SURE, maybe=MEASURE_MAYBE)


# --- words ----------------------------------------------------------------

_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_NON_WORD = re.compile(r"[^\w]+")
_YEAR = re.compile(r"\b(20\d{2})\b")

# Longest first; a stem keeps at least four letters.
_SUFFIXES = (
    "arnas",
    "ernas",
    "ornas",
    "arna",
    "erna",
    "orna",
    "ens",
    "ets",
    "nas",
    "en",
    "et",
    "na",
    "er",
    "ar",
    "s",
    "n",
)

STOPWORDS = vocabulary.STOPWORDS  # the words people type: core.vocabulary
WHOLE_FUND_WORDS = vocabulary.WHOLE_FUND_WORDS

_QUESTIONS = vocabulary.QUESTIONS
_PATTERNS: tuple[tuple[Intent, re.Pattern[str]], ...] = tuple(
    (phrases.kind, re.compile(pattern)) for phrases in _QUESTIONS for pattern in phrases.patterns
)
"""Every kind's patterns, compiled, in the vocabulary's order."""
_WEAK: tuple[tuple[Intent, re.Pattern[str]], ...] = tuple(
    (phrases.kind, re.compile(pattern)) for phrases in _QUESTIONS for pattern in phrases.weak
)
"""Every kind's weak patterns: tried when no pattern matched."""
_ASKS_LIST = re.compile(vocabulary.ASKS_LIST)
_STATEMENT = re.compile(vocabulary.STATEMENT)
_VALUE = re.compile(vocabulary.VALUE)
_YES_NO_USE = re.compile(vocabulary.YES_NO_USE)
_JOINS = re.compile(vocabulary.JOINS)
_LIST = re.compile(vocabulary.LIST_WORDS)
_GLOSSARY_WHOLE = re.compile(vocabulary.GLOSSARY_WHOLE)
_GLOSSARY_PART = re.compile(vocabulary.GLOSSARY_PART)
_OPENERS = vocabulary.OPENERS
_NOT_CITY = vocabulary.NOT_CITY
_ONLY_WORDS = tuple(phrases for phrases in _QUESTIONS if phrases.only)
_YEAR_WORDS = tuple((re.compile(pattern), offset) for pattern, offset in vocabulary.YEAR_WORDS)
_GREETING_WORDS = vocabulary.GREETINGS


def clean(text: str) -> str:
    """Normalised text: mentions removed, lower case, punctuation as spaces."""
    return _clean_short(text) if text and len(text) <= 1000 else _clean(text)


@lru_cache(maxsize=2048)
def _clean_short(text: str) -> str:
    """`_clean` kept for the latest short texts (a message is cleaned several
    times in its turn: for the round's phrases, then for the question)."""
    return _clean(text)


def _clean(text: str) -> str:
    text = normalise(_MENTION.sub(" ", text or ""))
    return " ".join(_NON_WORD.sub(" ", text).replace("_", " ").split())


def tokens(text: str) -> list[str]:
    return clean(text).split()


def stem(token: str) -> str:
    """Drop one Swedish ending (definite, plural, genitive): "nämnden" → "nämnd"."""
    if token.isdigit() or len(token) <= 4:
        return token
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)]
    return token


# --- units ------------------------------------------------------------------


def _own(word_stem: str) -> str:
    """A stem without a generic unit ending ("gymnasienämnd" → "gymnasie"), so that
    names are compared by what sets them apart (core.lookup.distinctive); a word
    that is only generic ("nämnd") stays as it is."""
    return distinctive(word_stem) or word_stem


@lru_cache(maxsize=16384)
def _name_target(name: str) -> tuple[str, str, int] | None:
    """How a unit's name is matched: ("exact", token, 1) for a code or a short
    abbreviation, else ("fuzzy", its stems joined, its number of words)."""
    name_tokens = tokens(name)
    if not name_tokens:
        return None
    if len(name_tokens) == 1 and len(name_tokens[0]) <= 4:
        return ("exact", name_tokens[0], 1)
    own = [_own(stem(t)) for t in name_tokens if distinctive(t)]  # "tekniska nämnden" → "tekniska"
    return ("fuzzy", " ".join(own), len(own)) if own else None


PART_WEIGHT = 0.8
"""A word typed as a unit's name ("skolnämnden") whose own part is a part of a
unit's name ("skol" of "förskole") scores this share of how well it fits:
enough to be asked about, never to be chosen."""


_SMALL_WORDS = frozenset(w for w in vocabulary.STOPWORDS if len(w) <= 3)
"""Small words that neither begin nor end a unit's name."""


class _Windows:
    """The message's runs of 1, 2, … stems, joined, computed once per message."""

    def __init__(self, stems: Sequence[str]):
        self.stems = stems
        self._by_width: dict[int, tuple[list[int], list[str]]] = {}

    def of(self, width: int) -> tuple[list[int], list[str]]:
        found = self._by_width.get(width)
        if found is None:
            starts, joined = [], []
            for i in range(len(self.stems) - width + 1):
                window = self.stems[i : i + width]
                if width == 1 and len(window[0]) <= 3:
                    continue
                if width > 1 and (window[0] in _SMALL_WORDS or window[-1] in _SMALL_WORDS):
                    continue  # "en utbildning" is not "vuxenutbildning"
                starts.append(i)
                joined.append(" ".join(window))
            found = self._by_width[width] = (starts, joined)
        return found


def _unit_match(
    unit: Unit, raw: Sequence[str], stems: Sequence[str], windows: _Windows | None = None
) -> tuple[float, set[int]]:
    """How well the text names the unit, and which token positions named it.

    For each name: a code matches exactly; a longer name is compared (rapidfuzz
    ratio) with every run of as many stems as it has words, one fewer or one
    more, and the first best run wins."""
    windows = windows or _Windows(stems)
    best, where = 0.0, set[int]()
    for name in unit.names():
        target = _name_target(name)
        if target is None:
            continue
        kind, text, size = target
        if kind == "exact":
            hits = {i for i, t in enumerate(raw) if t == text}
            if hits and 100.0 > best:
                best, where = 100.0, hits
            continue
        for width in {size - 1, size, size + 1}:
            if width < 1 or width > len(stems):
                continue
            starts, joined = windows.of(width)
            found = process.extractOne(text, joined, scorer=fuzz.ratio) if joined else None
            if found is not None and found[1] > best:  # the first run with the best score
                best, where = found[1], set(range(starts[found[2]], starts[found[2]] + width))
    return best, where


class _UnitIndex:
    """Every name of a set of units, ready to be matched against a message:
    codes to compare exactly, and the longer names grouped by the run widths
    they are compared with (so one rapidfuzz call scores a run against all of
    them)."""

    def __init__(self, units: tuple[Unit, ...]):
        self.units = units
        self.exact: list[tuple[int, int, str]] = []  # (unit, name, token)
        self.entries: dict[int, list[tuple[int, int, int]]] = {}  # width -> (unit, name, width's place)
        self.targets: dict[int, list[str]] = {}  # width -> the names' stems, as entries
        for u, unit in enumerate(units):
            for n, name in enumerate(unit.names()):
                target = _name_target(name)
                if target is None:
                    continue
                kind, text, size = target
                if kind == "exact":
                    self.exact.append((u, n, text))
                    continue
                for place, width in enumerate({size - 1, size, size + 1}):  # _unit_match's order
                    if width < 1:
                        continue
                    self.entries.setdefault(width, []).append((u, n, place))
                    self.targets.setdefault(width, []).append(text)


@lru_cache(maxsize=64)
def _unit_index(units: tuple[Unit, ...]) -> _UnitIndex:
    return _UnitIndex(units)


def match_units(text: str, units: Iterable[Unit]) -> tuple[list[Candidate], set[int]]:
    """Unit candidates (score ≥ UNIT_MAYBE) best first, and the positions of tokens that
    named a unit surely (so they are not read as part of a measure's title): `_match_units_where`."""
    found, used, _named = _match_units_where(text, tuple(units))
    return found, used


def _match_units_where(text: str, units: tuple[Unit, ...]) -> tuple[list[Candidate], set[int], list[str]]:
    """Unit candidates (score ≥ UNIT_MAYBE) best first, and the positions of tokens that
    named a unit surely (so they are not read as part of a measure's title).

    The same as taking _unit_match for every unit, computed in bulk: a unit's
    score is its best name's, and of equal scores the first in _unit_match's
    order (name, width, position) names the positions; scores under
    UNIT_MAYBE are not computed, as they name no candidate. A word typed as a
    unit's name ("skolnämnden") is also compared with parts of names (PART_WEIGHT)."""
    raw = tokens(text)
    stems = [_own(stem(t)) for t in raw]
    index = _unit_index(units)
    best: dict[int, tuple[float, tuple[int, int, int], set[int]]] = {}

    def offer(u: int, score: float, order: tuple[int, int, int], where: set[int]) -> None:
        current = best.get(u)
        if current is None or score > current[0] or (score == current[0] and order < current[1]):
            best[u] = (score, order, where)

    for u, n, token in index.exact:  # a code, also in the genitive ("hvons")
        hits = {i for i, t in enumerate(raw) if t == token or (len(t) >= 3 and t == token + "s")}
        if hits:
            offer(u, 100.0, (n, -1, -1), hits)
    windows = _Windows(stems)
    for width, targets in index.targets.items():
        if width > len(stems):
            continue
        entries = index.entries[width]
        starts, joined = windows.of(width)
        for start, window in zip(starts, joined, strict=True):
            for _, score, k in process.extract(
                window, targets, scorer=fuzz.ratio, score_cutoff=UNIT_MAYBE, limit=None
            ):
                u, n, place = entries[k]
                offer(u, score, (n, place, start), set(range(start, start + width)))
    for i, word in enumerate(raw):  # "skolnämnden": a part of a name, only when typed as a unit's name
        if not names_a_unit(word) or len(stems[i]) < 4:
            continue
        for width, targets in index.targets.items():
            for k, target in enumerate(targets):
                score = PART_WEIGHT * fuzz.partial_ratio(stems[i], target)
                if score >= UNIT_MAYBE:
                    u, n, _place = index.entries[width][k]
                    offer(u, score, (n, 9, i), {i})
    found: list[Candidate] = []
    used: set[int] = set()
    sure: list[tuple[float, int, str, set[int]]] = []
    for u, (score, _order, where) in best.items():
        unit = index.units[u]
        found.append(Candidate(unit.code, unit.name, score))
        if score >= UNIT_SURE:
            named_words = {raw[i] for i in where if raw[i] not in STOPWORDS}
            where = where | {
                i for i, t in enumerate(raw) if t in named_words
            }  # named again later in the text
            used |= where
            sure.append((score, min(where), unit.code, where))
            after = max(where) + 1  # "tekniska nämnden": the generic word belongs to the name
            if after < len(raw) and not distinctive(raw[after]):
                used.add(after)
    found.sort(key=lambda c: (-c.score, c.key))
    return found, used, _named_units(sure)


def _named_units(sure: Sequence[tuple[float, int, str, set[int]]]) -> list[str]:
    """The units named surely, in the order typed: each unit sure at words no better or
    equal unit claims ("SN och GSN": two; "hälsa vård och omsorg" fitting one unit twice: one;
    two units equally sure at the same words: neither, that is asked)."""
    named: list[tuple[int, str]] = []
    for score, first, code, where in sure:
        rivals = [s for s in sure if s[2] != code and s[3] & where]
        if any(r[0] > score for r in rivals):
            continue
        if any(r[0] == score for r in rivals):
            continue
        named.append((first, code))
    return [code for _, code in sorted(named)]


# --- measures ---------------------------------------------------------------


def _content(words: Iterable[str]) -> list[str]:
    """The stems that may name a measure: no question words, no years, and a number only as a
    part's ("del 1"), not an amount ("omfördela 1 mkr")."""
    found, before = [], ""
    for w in words:
        if w.isdigit() and before != "del":
            before = w
            continue
        if (
            w not in STOPWORDS
            and not w.startswith(vocabulary.STOP_PREFIXES)
            and not _YEAR.fullmatch(w)
            and (len(w) > 2 or w.isdigit())
        ):
            found.append(stem(w))
        before = w
    return found


@lru_cache(maxsize=65536)
def _token_score(query: str, title_token: str) -> float:
    if len(query) <= 2 or len(title_token) <= 2:
        return 100.0 if query == title_token else 0.0
    score = fuzz.ratio(query, title_token)
    if len(query) >= 5 and title_token.startswith(query):
        score = max(score, 95.0)  # "neptuni" of "neptunigymnasium"
    if len(query) >= 6 and len(title_token) >= 6:
        score = max(score, 0.9 * fuzz.partial_ratio(query, title_token))
    return score


@lru_cache(maxsize=65536)
def _same_word(query: str, title_token: str) -> bool:
    if len(query) <= 2 or len(title_token) <= 2:
        return query == title_token
    if len(title_token) >= 5 and title_token in query:
        return True  # "läsinlärningsföreläsningen" names "läsinlärning" and "föreläsning"
    return fuzz.ratio(query, title_token) >= 85


@lru_cache(maxsize=65536)
def _title_stems(title: str) -> tuple[str, ...]:
    """A title's content stems (all its stems when it has no content words)."""
    title_words = tokens(title)
    return tuple(_content(title_words) or [stem(w) for w in title_words])


class _Scorer:
    """measure_score for one query against many titles: each (query word, title
    word) pair and each distinct title is scored once."""

    def __init__(self, query: Sequence[str]):
        self.query = list(query)
        self._token: dict[str, dict[str, float]] = {q: {} for q in self.query}
        self._same: dict[str, dict[str, bool]] = {q: {} for q in self.query}
        self._titles: dict[tuple[str, ...], float] = {}

    def score(self, title: str) -> float:
        query = self.query
        if not query:
            return 0.0
        title_stems = _title_stems(title)
        found = self._titles.get(title_stems)
        if found is not None:
            return found
        if not title_stems:
            found = 0.0
        elif query == list(title_stems):
            found = 100.0
        else:
            recall = 0.0
            for q in query:  # how well each query word is found in the title
                scores = self._token[q]
                best = 0.0
                for t in title_stems:
                    value = scores.get(t)
                    if value is None:
                        value = scores[t] = _token_score(q, t)
                    if value > best:
                        best = value
                recall += best
            covered = 0  # how many title words the query named
            for t in title_stems:
                for q in query:
                    same = self._same[q].get(t)
                    if same is None:
                        same = self._same[q][t] = _same_word(q, t)
                    if same:
                        covered += 1
                        break
            found = 0.85 * (recall / len(query)) + 15.0 * covered / len(title_stems)
        self._titles[title_stems] = found
        return found

    def found(self, title: str) -> int:
        """How many query words the title holds (each found at least fairly well)."""
        title_stems = _title_stems(title)
        return sum(
            1 for q in self.query if title_stems and max(_token_score(q, t) for t in title_stems) >= FOUND
        )

    def recall(self, title: str) -> float:
        """How well every query word is found in the title (0–100), whatever else the title says."""
        title_stems = _title_stems(title)
        if not self.query or not title_stems:
            return 0.0
        return sum(max(_token_score(q, t) for t in title_stems) for q in self.query) / len(self.query)


def measure_score(query: Sequence[str], title: str) -> float:
    """How well content stems `query` name the measure `title` (0–100): mostly how well
    every query word is found in the title, a little how much of the title was named."""
    return _Scorer(query).score(title)


LONG_QUERY = 4
"""A message with this many words that may name a measure is also read a few words at a time."""
WINDOW_COST = 8.0
"""What a measure named by a few words of a long message loses against one named by all of them."""
COMPOUND = 11
"""A query word this long that no title has may be a compound of title words."""


NEAR = 62.0
"""A title none of whose words scores this well against any word of the text scores under
MEASURE_MAYBE (its recall is below NEAR and it covers nothing: 0.85 × 62 < 66), so it is not scored."""


class _TitleIndex:
    """The titles' distinct content stems and which titles hold each, to find the few titles
    worth scoring for a text without scoring every title."""

    def __init__(self, titles: tuple[str, ...]):
        holders: dict[str, set[str]] = {}
        for title in titles:
            for word in _title_stems(title):
                holders.setdefault(word, set()).add(title)
        self.words = frozenset(holders)
        self.acronyms: dict[str, tuple[str, ...]] = {}  # "msb" → the words it stands for in a title
        for title in titles:
            stems = _title_stems(title)
            for width in (2, 3, 4):
                for i in range(len(stems) - width + 1):
                    run = stems[i : i + width]
                    self.acronyms.setdefault("".join(w[0] for w in run), run)
        self._list = sorted(holders)
        self._long = [w for w in self._list if len(w) >= 5]
        self._holders = holders

    @lru_cache(maxsize=4096)  # noqa: B019  # the index lives as long as its catalogue (cached below)
    def _near_word(self, query: str) -> frozenset[str]:
        if len(query) <= 2:
            return frozenset(self._holders.get(query, ()))
        found: set[str] = set()
        for word, _score, _k in process.extract(
            query, self._list, scorer=fuzz.ratio, score_cutoff=NEAR, limit=None
        ):
            found |= self._holders[word]
        if len(query) >= 5:  # a prefix ("neptuni") or a part of a compound (_token_score's partial match)
            for word, _score, _k in process.extract(
                query, self._long, scorer=fuzz.partial_ratio, score_cutoff=NEAR / 0.9, limit=None
            ):
                found |= self._holders[word]
        return frozenset(found)

    def near(self, query: Sequence[str]) -> set[str]:
        """The titles holding a word near some word of the query (or of two joined)."""
        words = list(query) + [a + b for a, b in zip(query, query[1:], strict=False)]
        found: set[str] = set()
        for word in words:
            found |= self._near_word(word)
        return found


@lru_cache(maxsize=8)
def _title_index(titles: tuple[str, ...]) -> _TitleIndex:
    return _TitleIndex(titles)


@lru_cache(maxsize=8)
def _sorted_long(known: frozenset[str]) -> tuple[list[str], str]:
    """The title words sorted (for a prefix by bisection), and those of six letters or more
    joined by a character no word has (a part is inside one of them when it is inside this)."""
    ordered = sorted(known)
    return ordered, "\x00".join(w for w in ordered if len(w) >= 6)


def _part_of_title(part: str, known: frozenset[str]) -> bool:
    """Whether a part of a typed word is a title word, begins one, or (six letters or more) is inside one."""
    if part in known:
        return True
    ordered, long = _sorted_long(known)
    if len(part) >= 5:
        at = bisect_left(ordered, part)
        if at < len(ordered) and ordered[at].startswith(part):
            return True
    return len(part) >= 6 and part in long


@lru_cache(maxsize=4096)
def _compound_parts(word: str, known: frozenset[str]) -> tuple[str, ...]:
    """A long word as the title words it is made of ("projektledarutveckling" →
    "projektledar", "utveckling"), or the word itself when it is a title word or no split fits."""
    if len(word) < COMPOUND or _part_of_title(word, known):
        return (word,)
    for at in range(3, len(word) - 3):
        head, tail = word[:at], word[at:].removeprefix("s") if at > 4 else word[at:]
        if len(tail) < 4 or not _part_of_title(stem(tail), known):
            continue
        if at == 3:
            return (stem(tail),)  # "tvålärarskap": a short first part ("två") says little
        if _part_of_title(head, known):
            return (head, stem(tail))
    return (word,)


def measure_label(measure: Measure) -> str:
    return f"{measure.title} ({', '.join(measure.units)})"


def match_measures(
    text: str,
    measures: Iterable[Measure],
    skip: Set[int] = frozenset(),
) -> list[Candidate]:
    """Measure candidates (score ≥ MEASURE_MAYBE), best first; `skip`: token positions to ignore."""
    measures = tuple(measures)
    query = _content(t for i, t in enumerate(tokens(text)) if i not in skip)
    if not query:  # nothing left to name a measure: every score would be 0
        return []
    index = _title_index(tuple(m.title for m in measures))
    if any(2 <= len(q) <= 4 and q not in index.words and q in index.acronyms for q in query):
        # "MSB-kursen": the initials of a run of a title's words ("Myndigheten för samhällsskydd och
        # beredskap")
        query = [
            w
            for q in query
            for w in (index.acronyms[q] if q not in index.words and q in index.acronyms else (q,))
        ]
    if any(len(q) >= COMPOUND for q in query):
        query = [part for q in query for part in _compound_parts(q, index.words)]
    scorers = [_Scorer(query)]
    if 2 <= len(query) <= 4:  # "undersköterske utbildningen": a compound typed in two words
        scorers += [
            _Scorer([*query[:i], query[i] + query[i + 1], *query[i + 2 :]]) for i in range(len(query) - 1)
        ]
    windows = []
    if len(query) >= LONG_QUERY:  # a long message: the measure is named by a few words of it,
        # a run beginning with a word a title has as it is typed (so the runs are few)
        windows = [
            _Scorer(query[i : i + w])
            for i in range(len(query))
            if query[i] in index.words
            for w in (1, 2, 3)
            if i + w <= len(query)
        ]
    near = index.near(query)
    scores: dict[str, float] = {}
    found = []
    for m in measures:
        if m.title not in near:
            continue  # no word of the title is near a word of the text: it cannot reach MEASURE_MAYBE
        score = scores.get(m.title)
        if score is None:
            score = max(scorer.score(m.title) for scorer in scorers)
            if windows:
                window = max(
                    (w.score(m.title) for w in windows if len(w.query) > 1 or w.score(m.title) >= 92),
                    default=0.0,
                )
                window -= WINDOW_COST
                if window >= MEASURE_SURE:  # only a sure name counts among many other words
                    score = max(score, window)
            scores[m.title] = score
        if score >= MEASURE_MAYBE:
            found.append(Candidate(str(m.id), measure_label(m), score))
    found.sort(key=lambda c: (-c.score, int(c.key)))
    return found[:10]


# --- the whole message --------------------------------------------------------


def _year(text: str, today: date) -> int | None:
    if m := _YEAR.search(text):
        return int(m[1])
    for pattern, offset in _YEAR_WORDS:
        if pattern.search(text):
            return today.year + offset
    return None


def interruption(text: str) -> Intent | None:
    """HELP or CANCEL when the whole message is one of their words ("hjälp", "?", "avbryt",
    "avsluta", "stopp"), else None: what may interrupt a dialog at any step."""
    stripped = (text or "").strip()
    key = clean(stripped)
    for phrases in _QUESTIONS:
        if phrases.interrupts and (key in phrases.whole or stripped in phrases.whole):
            return phrases.kind
    return None


def intent_of(text: str, *, weak: bool = False) -> Intent | None:
    """The intent named by keywords, or None when no keyword matched; `weak`: also by the
    words that ask only when nothing else does ("insatser", "uppföljning")."""
    if (interrupting := interruption(text)) is not None:
        return interrupting
    key = clean(text)
    if grammar.is_english(key.split()):
        key = grammar.as_swedish(key)
    return _intent(key, weak=weak)


MAX_TEXT = 600
"""A message longer than this is understood by its first and last half of it: a question is asked
at the start or the end of a long message, and the time a message takes stays bounded (a chat
message may be 28 000 characters; every word is compared with the catalogue's titles)."""


def _bounded(text: str) -> str:
    if len(text or "") <= MAX_TEXT:
        return text
    half = MAX_TEXT // 2
    return f"{text[:half]} . {text[-half:]}"


def understand(text: str, units: Iterable[Unit], measures: Iterable[Measure], today: date) -> Understanding:
    """What `text` asks for, with the units and measures it names; a second question in the
    same message ("saldo för GVN? och vilka insatser är försenade?") is `also`."""
    units, measures = tuple(units), list(measures)
    text = _bounded(text)
    parts = grammar.segments(text)
    asking = [(i, _asks(part)) for i, part in enumerate(parts)]
    asking = [(i, kind) for i, kind in asking if kind is not None and kind not in _NO_QUESTION]
    first = _understand_one(text, units, measures, today)
    told = [i for i, part in enumerate(parts) if _is_statement(part)]
    if told and asking and len(told) < len(parts) and first.intent != asking[0][1]:
        # "Jag har fått siffrorna, utfallet är 1,2 miljoner. Hur lämnar jag in det?": the question is asked
        asked = _understand_one(
            " ".join(p for i, p in enumerate(parts) if i not in told), units, measures, today
        )
        first = replace(
            asked,
            units=first.units or asked.units,
            unit_codes=first.unit_codes or asked.unit_codes,
            measure_ids=asked.measure_ids or first.measure_ids,
        )
    if len(asking) < 2 or first.intent in _NO_QUESTION:
        return first
    if first.intent == Intent.GLOSSARY and all(kind in _TERMS_KINDS for _, kind in asking):
        return first  # a glossary question names its terms anywhere ("utfall vs prognos, vad är skillnaden")
    second = next(((i, kind) for i, kind in asking[1:] if kind != asking[0][1]), None)
    if second is None:
        return first
    rest = " ".join(part for i, part in enumerate(parts) if i != second[0])
    main = _understand_one(rest, units, measures, today)
    also = _understand_one(parts[second[0]], units, measures, today)
    if also.intent == main.intent or also.intent in _NO_QUESTION:
        return first
    return replace(  # what the whole message names is the first question's
        main,
        units=first.units or main.units,
        unit_codes=first.unit_codes or main.unit_codes,
        measure_ids=tuple(dict.fromkeys((*(main.measure_ids or first.measure_ids), *also.measure_ids))),
        also=also,
    )


def _asks(part: str) -> Intent | None:
    """The kind a part of a message asks by its strong words (or help's): a part that asks
    only by weak words ("hur ser det ut för oss, hur mycket finns kvar") is no question of its own,
    nor is a statement ("Jag har fått siffrorna från ekonomen, … Hur lämnar jag in det?")."""
    if _is_statement(part):
        return None
    found = intent_of(part)
    if found is None:
        weak = intent_of(part, weak=True)
        if weak == Intent.HELP or (weak == Intent.STATUS and _ASKS_LIST.search(clean(part))):
            return weak  # "vilka insatser har vi?" asks, though by words that are weak in a longer message
    return found


_NO_QUESTION = frozenset({Intent.GREETING, Intent.THANKS, Intent.UNKNOWN, Intent.CANCEL})
"""Kinds that are no question of their own beside another ("hej! saldo gvn")."""
_TERMS_KINDS = frozenset({Intent.GLOSSARY, Intent.REMAINING, Intent.STATUS})
"""Kinds a glossary question's terms look like ("utfall", "prognos", "status"): no second question."""


def _is_statement(part: str) -> bool:
    key = clean(part)
    return "?" not in part and (_STATEMENT.match(key) is not None or _VALUE.match(key) is not None)


def _understand_one(
    text: str, units: tuple[Unit, ...], measures: list[Measure], today: date
) -> Understanding:
    intent = interruption(text)
    if intent is not None:
        return Understanding(intent, english=grammar.is_english(clean(text).split()))
    key = clean(text)
    words = key.split()
    english = grammar.is_english(words)
    if english:
        key = grammar.as_swedish(key)
        words = key.split()
    key = _corrected(key, units, measures)
    words = key.split()
    intent = _intent(key)
    if not words and text.strip():
        intent = Intent.THANKS if any(c in text for c in vocabulary.THANKS_EMOJI) else vocabulary.FALLBACK
    ids = grammar.measure_ids(text, (m.id for m in measures))
    unit_candidates, used, named = _match_units_where(key, units)
    skip = used | _id_positions(words, ids)
    names_measures = intent not in _NO_MEASURE
    measure_candidates = match_measures(key, measures, skip) if not ids and names_measures else []
    unit_pick = decide_unit(unit_candidates)
    if unit_pick.pick == Pick.ONE and unit_pick.chosen is not None and measure_candidates:
        # "Malmö Lär för stadsbyggnad": prefer the named unit's measures.
        code = unit_pick.chosen.key
        mine = {str(m.id) for m in measures if code in m.units}
        if any(c.key in mine for c in measure_candidates):
            measure_candidates = [c for c in measure_candidates if c.key in mine]
    unit_codes = tuple(named)
    if unit_codes and not ids and names_measures:
        whole = _measure_holding(key, measures, used, measure_candidates)
        if whole is not None:  # "yrkeslärare i vård och omsorg": the unit's words are the measure's title
            measure_candidates, unit_codes, used = whole, (), set()
            skip = _id_positions(words, ids)
    if not ids and names_measures:
        query = _content(w for i, w in enumerate(words) if i not in skip)
        ids = _measures_named(
            measure_candidates, query, {m.id: m.title for m in measures}, lone=intent is not None
        )
        several = _several_measures(key, measures, skip)
        if len(several) > len(ids):
            ids = several
    unknown_unit = ""
    if not unit_codes:
        unknown_unit = next((w for i, w in enumerate(words) if i not in used and names_a_unit(w)), "")
    year = _year(key, today)
    whole_fund = grammar.city(key) or any(w in WHOLE_FUND_WORDS for w in words if w not in _NOT_CITY)
    together = len(unit_codes) >= 2 and (grammar.together(key) or "totalt" in words)
    if together:
        whole_fund = False
    if intent is None:
        if ids:
            intent = vocabulary.NAMES_A_MEASURE  # "Chefsutvecklingen på stadskontoret?": the measure wins
        elif unit_codes or unknown_unit or year is not None or ids or _names_maybe(unit_candidates, words):
            intent = vocabulary.NAMES_A_UNIT_OR_YEAR
        else:
            intent = _only_words(words)
    if intent == Intent.REMAINING and ids and _YES_NO_USE.search(key):
        intent = Intent.STATUS  # "är pengarna för språkutbildningarna använda?": how the measure goes
    whole_fund = whole_fund and intent not in _NO_QUESTION and intent != Intent.SUBSTITUTE  # "hela juli"
    needs = grammar.needs_ask(key) if intent == Intent.NEEDS else None
    subject = _subject(words, used) if intent == Intent.NEEDS else ""
    need = _need_id(text, key, intent)
    if need:  # "behov FSKN-3", "FSKN-3", "vilka insatser svarar mot B1?": that need
        intent, needs, subject = Intent.NEEDS, NeedsAsk.ONE, ""
        unit_candidates, unit_codes, ids, measure_candidates = [], (), (), []
    elif (
        intent == Intent.REMAINING
        and not (ids and grammar.figure(key) is not None)  # "hur mycket finns kvar för elevassistenterna"
        and (roles := _roles_asked(words, used)) is not None
    ):
        # "hur mycket pengar går till förskollärare?": the money per role, not a committee's; a
        # figure of a measure the occupation names is the measure's (its title holds the word)
        intent, needs, subject = Intent.NEEDS, NeedsAsk.MONEY, roles
        ids, measure_candidates = (), []
    filter_ = grammar.list_filter(key) if intent in _LISTS and not ids else None
    months = grammar.end_months(key) if filter_ == Filter.ENDS else None
    if months is not None and year is None:
        year = today.year
    return Understanding(
        intent=intent,
        year=year,
        units=tuple(unit_candidates[:MAX_OPTIONS]),
        measures=tuple(measure_candidates[:MAX_OPTIONS]),
        rest=_rest(words, used | skip, intent),
        whole_fund=whole_fund,
        unknown_unit=unknown_unit,
        figure=(grammar.figure(key) or Figure.REMAINING) if intent == Intent.REMAINING else None,
        filter=filter_,
        own=grammar.own(words) and not unit_codes and not whole_fund and intent not in _NO_SCOPE,
        together=together,
        unit_codes=unit_codes,
        measure_ids=ids,
        terms=grammar.terms(key) if intent == Intent.GLOSSARY else (),
        english=english,
        months=months,
        needs=needs,
        subject=subject,
        need=need,
    )


_LISTS = frozenset({Intent.STATUS})
_NO_MEASURE = frozenset(
    {
        Intent.ROUND,
        Intent.UNITS,
        Intent.GLOSSARY,
        Intent.HELP,
        Intent.GREETING,
        Intent.THANKS,
        Intent.CANCEL,
        Intent.SUBMIT_MEASURE,
        Intent.NEEDS,
        Intent.SUBSTITUTE,
    }
)
"""Kinds that ask about no measure: their words are not compared with titles ("vilka nämnder saknar
uppföljning" names no measure "… som saknar lärarexamen")."""
_NO_SCOPE = _NO_QUESTION | {Intent.HELP, Intent.GLOSSARY, Intent.UNITS, Intent.SUBSTITUTE}
"""Kinds that are about no unit: "vi" in them is no one's own unit."""


def _names_maybe(candidates: Sequence[Candidate], words: Sequence[str]) -> bool:
    """Whether a message of no question words names a unit weakly enough to be asked about:
    a short message (one or two words) whose best unit fits fairly well ("förskolna")."""
    content = [w for w in words if w not in STOPWORDS]
    return bool(candidates and content) and len(words) <= 2 and candidates[0].score >= UNIT_MAYBE + 4


_KEYWORDS = tuple(sorted(vocabulary.TYPO_KEYWORDS))
_SHORT_KEYWORDS = tuple(sorted(vocabulary.SHORT_KEYWORDS))


def _corrected(key: str, units: tuple[Unit, ...], measures: Sequence[Measure]) -> str:
    """The cleaned text with misspelt question words put right ("uppföljnig", "prognsen",
    "pågånde"): a word of five letters or more that is no known word, no unit's and no
    title's, and fits one question word well."""
    known = _known_words(units, tuple(m.title for m in measures))
    words = key.split()
    changed = False
    for i, word in enumerate(words):
        if len(word) < 3 or word in known or word in STOPWORDS or word in vocabulary.KEYWORD_SET:
            continue
        if any(k in word for k in _KEYWORDS if len(k) >= 5):
            continue  # a compound of a question word ("nyinsats") is no misspelling of it
        found = (
            process.extractOne(word, _SHORT_KEYWORDS, scorer=fuzz.ratio, score_cutoff=85)
            if len(word) <= 6
            else None
        )
        if found is None and len(word) >= 5:
            found = process.extractOne(word, _KEYWORDS, scorer=fuzz.ratio, score_cutoff=84)
        if found is not None:
            words[i] = found[0]
            changed = True
    return " ".join(words) if changed else key


@lru_cache(maxsize=8)
def _known_words(units: tuple[Unit, ...], titles: tuple[str, ...]) -> frozenset[str]:
    found: set[str] = set()
    for unit in units:
        for name in unit.names():
            found.update(tokens(name))
    for title in titles:
        found.update(tokens(title))
    return frozenset(found)


LONE_MEASURE = 72.0
"""A measure that is the only candidate is taken from this score (asked about below it)."""
FOUND = 78.0
"""A query word scoring this well against a title word is found in the title."""
MEASURES_AT_ONCE = 3
"""Measures that fit a name equally well ("Malmö Lär": two) are each answered, up to this many."""
EQUAL = 1.5
"""Titles whose recall of the words is within this many points hold them equally."""
APART = 10.0
"""Titles answered together hold the words this much better than any other candidate."""
RECALL_SURE = 85.0
"""Of close candidates, those holding the words at least this well are answered, not asked about."""


def _measures_named(
    candidates: Sequence[Candidate], query: Sequence[str], titles: dict[int, str], *, lone: bool
) -> tuple[int, ...]:
    """The measures a message names surely: one clear match, or a few whose titles hold the
    words equally well ("Malmö Lär", "konflikthantering"), however long the titles are."""
    resolution = decide_measure(candidates)
    if resolution.pick == Pick.NONE:
        return ()
    scorer = _Scorer(query)
    recall = {c.key: scorer.recall(titles[int(c.key)]) for c in candidates}
    best = max(recall.values())
    equal = [c for c in candidates if recall[c.key] >= best - EQUAL]
    apart = len(equal) == 1 or all(recall[c.key] < best - APART for c in candidates if c not in equal)
    """The few that hold the words equally stand apart from the rest ("status språk" fits more
    titles than those holding "språk" as a word: asked about, not answered as if complete)."""
    if resolution.pick == Pick.ONE and resolution.chosen is not None:
        if best >= 99.0 and 1 < len(equal) <= MEASURES_AT_ONCE and apart:
            return tuple(int(c.key) for c in equal)
        return (int(resolution.chosen.key),)
    if lone and len(candidates) == 1 and candidates[0].score >= LONE_MEASURE:
        return (int(candidates[0].key),)  # the only title near the words: "tvålärarskapet i metodrummen"
    if (
        candidates[0].score >= MEASURE_SURE
        and best >= RECALL_SURE
        and len(equal) <= MEASURES_AT_ONCE
        and apart
    ):
        return tuple(int(c.key) for c in equal)  # close scores, but the words are in these titles only
    found = {c.key: scorer.found(titles[int(c.key)]) for c in candidates}
    most = max(found.values())
    holding = [key for key, count in found.items() if count == most]
    if lone and most >= 2 and len(holding) == 1:
        return (int(holding[0]),)  # the one title holding more of the words than any other
    return ()


def _measure_holding(
    key: str, measures: Sequence[Measure], used: Set[int], found: Sequence[Candidate]
) -> list[Candidate] | None:
    """The candidates of the whole text when a measure named by it holds the words that named a
    unit, and fits clearly better than any measure named without those words; else None."""
    whole = match_measures(key, measures)
    resolution = decide_measure(whole)
    if resolution.pick != Pick.ONE or resolution.chosen is None or resolution.chosen.score < MEASURE_SURE:
        return None
    if found and found[0].score >= resolution.chosen.score:
        return None
    title = set(tokens(next(m.title for m in measures if str(m.id) == resolution.chosen.key)))
    words = key.split()
    if not _content(w for i, w in enumerate(words) if i not in used):
        return None  # only the unit's words: "hur mycket har vård och omsorg fått" asks about the unit
    if not all(words[i] in title for i in used if i < len(words)):
        return None
    return whole


def _several_measures(key: str, measures: Sequence[Measure], skip: Set[int]) -> tuple[int, ...]:
    """Measures named one by one ("uppföljning för undersköterskeutbildning och validering",
    "från yrkeslärarsatsningen till valdemarsro"): each part between "och", "till", "från"
    naming one measure surely; () when fewer than two parts do."""
    if not _JOINS.search(key):
        return ()
    words = key.split()
    kept = " ".join("_" if i in skip else w for i, w in enumerate(words))
    found: list[int] = []
    for part in _JOINS.split(kept):
        resolution = decide_measure(match_measures(part.replace("_", " "), measures))
        if resolution.pick == Pick.ONE and resolution.chosen is not None:
            found.append(int(resolution.chosen.key))
    found = list(dict.fromkeys(found))
    return tuple(found) if len(found) >= 2 else ()


def _id_positions(words: Sequence[str], ids: Sequence[int]) -> set[int]:
    wanted = {str(i) for i in ids}
    return {i for i, w in enumerate(words) if w in wanted}


def _intent(key: str, *, weak: bool = True) -> Intent | None:
    """The kind a cleaned text asks by its words, or None."""
    glossary = _GLOSSARY_WHOLE.fullmatch(key) or _GLOSSARY_PART.search(key)
    if glossary and glossary[1] in vocabulary.GLOSSARY_WORDS:
        return Intent.GLOSSARY
    if _OFF_TOPIC.search(key):  # "jag har semester 16/6–11/7, Per ersätter mig" is no question about leave
        return Intent.SUBSTITUTE if _SUBSTITUTE.search(key) else vocabulary.FALLBACK
    if _LIST.search(key) and grammar.list_filter(key) is not None:
        return Intent.STATUS  # "klara insatser hos funktionsstöd": a filtered list
    for intent, pattern in _PATTERNS:
        if pattern.search(key):
            return intent
    for intent, pattern in _WEAK if weak else ():
        if pattern.search(key):
            return intent
    return None


_OFF_TOPIC = re.compile(vocabulary.OFF_TOPIC)
_SUBSTITUTE = re.compile("|".join(vocabulary.SUBSTITUTE_PATTERNS))


def _rest(words: Sequence[str], used: Set[int], intent: Intent) -> str:
    """The words that were expected to name something and named nothing known: after
    an opener ("saldo för badhuset", "status foo"), or the whole of a short message
    ("badhuset"); never the question's own words ("hur mkt har vi kvar")."""
    content = [
        (i, w)
        for i, w in enumerate(words)
        if i not in used
        and w not in STOPWORDS
        and w not in WHOLE_FUND_WORDS
        and w not in vocabulary.OWN_WORDS
        and not _YEAR.fullmatch(w)
        and len(w) >= 3
        and not w.isdigit()
        and w not in _GREETING_WORDS
    ]
    if not content:
        return ""
    if len(words) <= 3:
        return " ".join(w for _, w in content)
    after = {i + 1 for i, w in enumerate(words) if w in _OPENERS} | {
        i + 2 for i, w in enumerate(words) if w in _OPENERS
    }
    return " ".join(w for i, w in content if i in after)


def _only_words(words: Sequence[str]) -> Intent:
    """The kind a message made only of a kind's words asks ("hej hej", "tack så mycket"),
    or the vocabulary's fallback."""
    for phrases in _ONLY_WORDS:
        if (
            words
            and all(w in phrases.only for w in words)
            and (not phrases.lead or any(w.startswith(phrases.lead) for w in words))
        ):
            return phrases.kind
    return vocabulary.FALLBACK


# --- competence needs (issue 21) --------------------------------------------------


def _subject(words: Sequence[str], used: Set[int]) -> str:
    """The words of a NEEDS question that may name a role: not a unit's, not a question
    word, not a year ("hur mycket satsar vi på förskollärarna i år" → "förskollärarna");
    an abbreviation written out ("ssk" → "sjuksköterska")."""
    found = _occupations(words, used)
    spans = {i: (end, base) for i, end, base, short in found if short}
    kept: list[str] = []
    skip_to = 0
    for i, w in enumerate(words):
        if i < skip_to:
            continue
        if i in spans:  # "ssk", "soc sekr": the occupation, written out
            skip_to, base = spans[i]
            kept.append(base)
        elif _content_word(i, w, used):
            kept.append(w)
    return " ".join(kept)


def _content_word(i: int, w: str, used: Set[int]) -> bool:
    """Whether the word at `i` of a needs question may name a role (see `_subject`)."""
    return (
        i not in used
        and w not in STOPWORDS
        and w not in vocabulary.NEEDS_WORDS
        and w not in vocabulary.OWN_WORDS
        and w not in WHOLE_FUND_WORDS
        and not _YEAR.fullmatch(w)
        and not w.isdigit()
        and len(w) >= 3
    )


@lru_cache(maxsize=1)
def _occupation_forms() -> tuple[dict[str, str], dict[str, str], tuple[str, ...]]:
    """Every form of the vocabulary's occupations without marks → the occupation: those of one
    word, those of two, and the one-word forms listed (for typos)."""
    one: dict[str, str] = {}
    two: dict[str, str] = {}
    for occupation in vocabulary.OCCUPATIONS:
        for form in vocabulary.occupation_forms(occupation):
            (two if " " in form else one)[without_marks(form)] = occupation
    return one, two, tuple(one)


OCCUPATION_TYPO = 90.0
"""A word of OCCUPATION_TYPO_LENGTH letters or more that spells an occupation's form this well
(0–100) names it ("socialsekretare", "förskolläarna")."""
OCCUPATION_TYPO_LENGTH = 9


def names_occupation(text: str) -> bool:
    """Whether `text` names an occupation of the vocabulary (core.vocabulary.OCCUPATIONS), in any
    form, abbreviated or with a small typo: "bibliotekarierna" does, "fördelas våra" does not."""
    return bool(_occupations(tokens(text)))


def _occupations(words: Sequence[str], used: Set[int] = frozenset()) -> list[tuple[int, int, str, bool]]:
    """The occupations (core.vocabulary.OCCUPATIONS) a message's words name, in order: (first
    position, position after, the occupation, whether it was abbreviated). Not words a unit's
    name took (`used`), nor the person's own occupation ("jag är chef för GVN")."""
    one, two, listed = _occupation_forms()
    plain = [without_marks(w) for w in words]
    found: list[tuple[int, int, str, bool]] = []
    i = 0
    while i < len(words):
        pair = f"{words[i]} {words[i + 1]}" if i + 1 < len(words) else ""
        own = any(w in vocabulary.NOT_ONES_OWN_ROLE for w in words[max(0, i - 2) : i])
        hit: tuple[int, str, bool] | None = None
        if pair and pair in vocabulary.ROLE_ABBREVIATIONS:
            hit = (2, vocabulary.ROLE_ABBREVIATIONS[pair], True)
        elif pair and f"{plain[i]} {plain[i + 1]}" in two:
            hit = (2, two[f"{plain[i]} {plain[i + 1]}"], False)
        elif words[i] in vocabulary.ROLE_ABBREVIATIONS:
            hit = (1, vocabulary.ROLE_ABBREVIATIONS[words[i]], True)
        elif plain[i] in one:
            hit = (1, one[plain[i]], False)
        elif len(plain[i]) >= OCCUPATION_TYPO_LENGTH and plain[i] not in vocabulary.NEEDS_WORDS:
            close = process.extractOne(plain[i], listed, scorer=fuzz.ratio, score_cutoff=OCCUPATION_TYPO)
            if close is not None:
                hit = (1, one[close[0]], False)
        if hit is None or own or any(j in used for j in range(i, i + hit[0])):
            i += 1
            continue
        found.append((i, i + hit[0], hit[1], hit[2]))
        i += hit[0]
    return found


def _roles_asked(words: Sequence[str], used: Set[int]) -> str | None:
    """For a money question ("hur mycket pengar går till förskollärare?"): the roles it asks
    about, as Understanding.subject, when its subject is occupations and nothing else ("" for
    roles as such: "… till varje yrkesgrupp"); None when it asks about something else (a
    committee, a measure: "hur mycket finns kvar för Yrkeslärare i vård och omsorg")."""
    found = _occupations(words, used)
    named = {j for start, end, _, _ in found for j in range(start, end)}
    if any(_content_word(i, w, used) for i, w in enumerate(words) if i not in named):
        return None
    if found:
        return " ".join(base if short else " ".join(words[start:end]) for start, end, base, short in found)
    return "" if any(w in vocabulary.ROLE_GROUP_WORDS for w in words) else None


_NEED_ID = re.compile(vocabulary.NEED_ID)
_NEED_ID_ASKS = re.compile(vocabulary.NEED_ID_ASKS)


def _need_id(text: str, key: str, intent: Intent | None) -> str:
    """The id of one need the message asks about, as typed ("FSKN-3"), or "": an id with a
    dash alone ("FSKN-3", "visa behovet med id FSKN-2"), or any id in a needs question or one
    that asks what answers it ("behov B9", "vilka insatser svarar mot FSKN-1?")."""
    found = list(dict.fromkeys(m.group(1) for m in _NEED_ID.finditer(_MENTION.sub(" ", text or ""))))
    if len(found) != 1:
        return ""
    typed = found[0]
    if intent == Intent.NEEDS or _NEED_ID_ASKS.search(key):
        return typed
    parts = set(clean(typed).split())
    alone = all(w in parts or w in vocabulary.NEED_ID_ALONE for w in key.split())
    return typed if "-" in typed and alone else ""


_ROLE_ENDINGS = ("na", "en", "es", "or", "er", "ar", "a", "e", "n", "s")
"""Endings a role's word takes in the plural or definite form ("förskollärarna",
"sjuksköterskor", "arbetsterapeuterna"): dropped until none is left, keeping four letters."""
ROLE_SURE = 85.0
"""A role whose words fit the typed ones this well (0–100, after endings and å/ä/ö) is meant."""
ROLE_MARGIN = 3.0
"""Roles fitting within this many points of the best are all meant (typed two roles, or one
role written two ways)."""


def role_stem(word: str) -> str:
    """A role's word without its endings and marks: "förskollärarna", "Förskollärare" and
    "forskollarare" are all "forskollar"; "socialsekreterare" and "socialsekreterarna" meet."""
    word = without_marks(word.lower())
    changed = True
    while changed:
        changed = False
        for ending in _ROLE_ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 4:
                word = word[: -len(ending)]
                changed = True
                break
    return word


def _role_score(typed: Sequence[str], role: str) -> float:
    """How well some run of the typed words names `role` (its words as many)."""
    wanted = [role_stem(w) for w in tokens(role)]
    if not wanted or len(typed) < len(wanted):
        return 0.0
    target = " ".join(wanted)
    width = len(wanted)
    return max(fuzz.ratio(" ".join(typed[i : i + width]), target) for i in range(len(typed) - width + 1))


def match_roles(subject: str, roles: Iterable[str]) -> list[str]:
    """The roles `subject` names (Understanding.subject), best first: plural and definite
    forms, missing å/ä/ö and small typos forgiven (rapidfuzz); [] when none fits surely."""
    typed = [role_stem(w) for w in tokens(subject)]
    if not typed:
        return []
    scored = [
        (score, role) for role in dict.fromkeys(roles) if (score := _role_score(typed, role)) >= ROLE_SURE
    ]
    if not scored:
        return []
    best = max(score for score, _ in scored)
    return [role for score, role in sorted(scored, key=lambda sr: -sr[0]) if score >= best - ROLE_MARGIN]


KIND_SURE = 85.0
"""A word that spells a kind of need ("introduktion", "kompetenshöjning") this well (0–100) names it."""


def _compact(text: str) -> str:
    return "".join(tokens(text))


def match_needs(text: str, needs: Sequence[tuple[str, str, str]]) -> list[str]:
    """The needs an answer to "Vilket behov svarar insatsen mot?" names, of `needs` (key, role,
    kind): by id ("FSKN-4", "fskn 4"), by role ("förskollärare", "rektor istället": roles matched
    as `match_roles` does, forgiving typos: "forskolarare"), narrowed by a kind's word
    ("introduktion förskollärare"); [] when it names none this way (a number, "inget")."""
    words = [w for w in tokens(text) if w not in vocabulary.NEED_ANSWER_FILLERS]
    if not words or all(w.isdigit() for w in words):
        return []
    runs = set(words) | {a + b for a, b in zip(words, words[1:], strict=False)}
    by_id = [key for key, _, _ in needs if _compact(key) in runs]
    if by_id:
        return list(dict.fromkeys(by_id))
    roles = {role_key(r) for r in match_roles(" ".join(words), [role for _, role, _ in needs])}
    kinds = {
        kind
        for _, _, kind in needs
        for w in words
        if len(w) >= 4
        and (
            fuzz.ratio(without_marks(w), without_marks(kind.lower())) >= KIND_SURE
            or (len(w) >= 5 and without_marks(kind.lower()).startswith(without_marks(w)))
        )
    }
    if not roles and not kinds:
        return []
    return [
        key
        for key, role, kind in needs
        if (not roles or role_key(role) in roles) and (not kinds or kind in kinds)
    ]


# --- strategy categories ------------------------------------------------------


_CATEGORY_AND = re.compile(r"\s*(?:&|\+|/)\s*|\b(?:och|o|samt)\b")


def _category_words(text: str) -> str:
    """The words of a category answer, "och" and its stand-ins ("o", "&", "+", "/", "samt")
    left out: "Behålla o utveckla" is "behålla utveckla"."""
    return " ".join(re.findall(r"[a-zåäöéü0-9]+", _CATEGORY_AND.sub(" ", normalise(text))))


def parse_categories(text: str) -> tuple[Category, ...] | None:
    """The strategy categories an answer names, in Category order: by number
    ("1", "1 och 3", "2, 3"), by name ("Behålla & utveckla", "behålla o utveckla",
    "attrahera + rekrytera") or by a name's first word ("behålla"); () for "-" or "ingen";
    None when it names none of them or a number that is not one."""
    if text.strip() == "-" or normalise(text).strip(" .!") in vocabulary.NO_CATEGORY:
        return ()
    key = _category_words(text)
    if not key:
        return None if text.strip() else ()
    if any(word in vocabulary.MONTH_NUMBERS for word in key.split()) or re.search(r"\d[-/.]\d", text):
        return None  # a date ("1 augusti", "2025-08-01") names no category, though it has a number
    categories = list(Category)
    found: set[Category] = set()
    for number in re.findall(r"\d+", key):
        if not 1 <= int(number) <= len(categories):
            return None
        found.add(categories[int(number) - 1])
    rest = f" {key} "
    # Whole names first, the longest first: "behålla och utveckla" is not "utveckla …", and
    # "utveckla organisation och arbetssätt" is not "behålla och utveckla".
    for category in sorted(categories, key=lambda c: -len(_category_words(c.value))):
        name = f" {_category_words(category.value)} "
        if name in rest:
            found.add(category)
            rest = rest.replace(name, " ")
    words = set(rest.split())
    for category in categories:
        if _category_words(category.value).split()[0] in words:
            found.add(category)
    return tuple(c for c in categories if c in found) or None
