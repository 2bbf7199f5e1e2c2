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
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache

from rapidfuzz import fuzz, process

from core import vocabulary
from core.lookup import distinctive, names_a_unit
from core.model import Category, Measure, Unit, normalise
from core.vocabulary import Figure as Figure
from core.vocabulary import Filter as Filter
from core.vocabulary import Intent as Intent  # the kinds of question: core.vocabulary


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
    named a unit surely (so they are not read as part of a measure's title).

    The same as taking _unit_match for every unit, computed in bulk: a unit's
    score is its best name's, and of equal scores the first in _unit_match's
    order (name, width, position) names the positions; scores under
    UNIT_MAYBE are not computed, as they name no candidate. A word typed as a
    unit's name ("skolnämnden") is also compared with parts of names (PART_WEIGHT)."""
    raw = tokens(text)
    stems = [_own(stem(t)) for t in raw]
    index = _unit_index(tuple(units))
    best: dict[int, tuple[float, tuple[int, int, int], set[int]]] = {}

    def offer(u: int, score: float, order: tuple[int, int, int], where: set[int]) -> None:
        current = best.get(u)
        if current is None or score > current[0] or (score == current[0] and order < current[1]):
            best[u] = (score, order, where)

    for u, n, token in index.exact:
        hits = {i for i, t in enumerate(raw) if t == token}
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
    for u, (score, _order, where) in best.items():
        unit = index.units[u]
        found.append(Candidate(unit.code, unit.name, score))
        if score >= UNIT_SURE:
            used |= where
            after = max(where) + 1  # "tekniska nämnden": the generic word belongs to the name
            if after < len(raw) and not distinctive(raw[after]):
                used.add(after)
    found.sort(key=lambda c: (-c.score, c.key))
    return found, used


# --- measures ---------------------------------------------------------------


def _content(words: Iterable[str]) -> list[str]:
    return [stem(w) for w in words if w not in STOPWORDS and not _YEAR.fullmatch(w)]


def _token_score(query: str, title_token: str) -> float:
    if len(query) <= 2 or len(title_token) <= 2:
        return 100.0 if query == title_token else 0.0
    score = fuzz.ratio(query, title_token)
    if len(query) >= 6 and len(title_token) >= 6:
        score = max(score, 0.9 * fuzz.partial_ratio(query, title_token))
    return score


def _same_word(query: str, title_token: str) -> bool:
    if len(query) <= 2 or len(title_token) <= 2:
        return query == title_token
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


def measure_score(query: Sequence[str], title: str) -> float:
    """How well content stems `query` name the measure `title` (0–100): mostly how well
    every query word is found in the title, a little how much of the title was named."""
    return _Scorer(query).score(title)


def measure_label(measure: Measure) -> str:
    return f"{measure.title} ({', '.join(measure.units)})"


def match_measures(
    text: str,
    measures: Iterable[Measure],
    skip: Set[int] = frozenset(),
) -> list[Candidate]:
    """Measure candidates (score ≥ MEASURE_MAYBE), best first; `skip`: token positions to ignore."""
    query = _content(t for i, t in enumerate(tokens(text)) if i not in skip)
    if not query:  # nothing left to name a measure: every score would be 0
        return []
    scorer = _Scorer(query)
    scores: dict[str, float] = {}
    found = []
    for m in measures:
        score = scores.get(m.title)
        if score is None:
            score = scores[m.title] = scorer.score(m.title)
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


def intent_of(text: str) -> Intent | None:
    """The intent named by keywords, or None when no keyword matched."""
    if (interrupting := interruption(text)) is not None:
        return interrupting
    key = clean(text)
    for intent, pattern in _PATTERNS:
        if pattern.search(key):
            return intent
    return None


def understand(text: str, units: Iterable[Unit], measures: Iterable[Measure], today: date) -> Understanding:
    """What `text` asks for, with the units and measures it names."""
    key = clean(text)
    intent = intent_of(text)
    if intent in (Intent.HELP, Intent.CANCEL):
        return Understanding(intent)
    words = key.split()
    measures = list(measures)
    unit_candidates, used = match_units(text, units)
    measure_candidates = match_measures(text, measures, used)
    unit_pick = decide_unit(unit_candidates)
    if unit_pick.pick == Pick.ONE and unit_pick.chosen is not None and measure_candidates:
        # "Malmö Lär för stadsbyggnad": prefer the named unit's measures.
        code = unit_pick.chosen.key
        own = {str(m.id) for m in measures if code in m.units}
        if any(c.key in own for c in measure_candidates):
            measure_candidates = [c for c in measure_candidates if c.key in own]
    unknown_unit = ""
    if unit_pick.pick != Pick.ONE:
        raw = tokens(text)
        unknown_unit = next((w for i, w in enumerate(raw) if i not in used and names_a_unit(w)), "")
    year = _year(key, today)
    whole_fund = any(w in WHOLE_FUND_WORDS for w in words)
    rest = " ".join(
        w
        for i, w in enumerate(words)
        if i not in used
        and w not in STOPWORDS
        and w not in WHOLE_FUND_WORDS
        and not _YEAR.fullmatch(w)
        and len(w) >= 3
        and not w.isdigit()
        and not (intent is None and w in _GREETING_WORDS)
    )
    if intent is None:
        if decide_measure(measure_candidates).pick != Pick.NONE and not unit_candidates:
            intent = vocabulary.NAMES_A_MEASURE
        elif unit_candidates or year is not None:
            intent = vocabulary.NAMES_A_UNIT_OR_YEAR
        else:
            intent = _only_words(words)
    return Understanding(
        intent=intent,
        year=year,
        units=tuple(unit_candidates[:MAX_OPTIONS]),
        measures=tuple(measure_candidates[:MAX_OPTIONS]),
        rest=rest,
        whole_fund=whole_fund,
        unknown_unit=unknown_unit,
    )


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
