"""Competence needs (kompetensbehov) and their links to the measures that
answer them (issue 21).

A need is assessed by an entry (NeedEntry) under a short key the city
chooses ("B1"); a later assessment of the same key supersedes the earlier one,
which stays in the history. A need is linked to a measure by a NeedLinkEntry
and the link is ended by a NeedLinkEndedEntry: nothing is updated or deleted.
`Needs` replays these entries, as core.ledger.Ledger does the money.

What follows from the needs and the ledger is computed here, never stored:
which needs are uncovered in a year (`uncovered`), the money per role
(`money_per_role`) and whether an assessment is stale (`is_stale`). The rules
that refuse an entry are in core.rules.needs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from typing import TypeVar

from core.errors import echo, input_error
from core.ledger import Ledger, split_exact
from core.model import Status
from core.text import name_key, without_marks

WHOLE = 10_000
"""A whole measure's money in basis points: a link's share is 1–10 000 (0,01–100 %)."""

UNCLAIMED = "ej kopplat till behov"
"""How the money of a linked measure that no need claims is shown."""

STALE_YEARS = 2
"""An assessment older than this many years is stale."""


class NeedKind(StrEnum):
    """What kind of need (typ av behov)."""

    REPLACEMENT = "Ersättningsrekrytering"
    EXPANSION = "Utökning"
    UPSKILLING = "Kompetenshöjning"
    INTRODUCTION = "Introduktion"
    LEADERSHIP = "Ledarskap"
    SURPLUS = "Övertalighet"


class Recruitment(StrEnum):
    """The recruitment situation of a role on SKR's scale (rekryteringsläge)."""

    SHORTAGE = "brist"
    BALANCE = "balans"
    GOOD = "god"
    UNKNOWN = "vet ej"


@dataclass(frozen=True, slots=True)
class Period:
    """The years a need covers, both included: 2024–2026, or one year."""

    first: int
    last: int

    @property
    def label(self) -> str:
        """ "2024–2026", or "2025" for one year."""
        return str(self.first) if self.first == self.last else f"{self.first}–{self.last}"

    def covers(self, year: int) -> bool:
        return self.first <= year <= self.last


def need_key(text: str) -> str:
    """A need's key as it is matched: "b1", " B1 " and "B1" are the same need."""
    return name_key(text)


@dataclass(frozen=True, slots=True)
class NeedEntry:
    """One assessment of a need (behovsbedömning).

    Attributes:
      key: the city's short id of the need, e.g. "B1"; a later entry with the
        same key supersedes this one.
      unit: the unit's code, e.g. "FSKN".
      role: the role (yrkesgrupp), e.g. "förskollärare".
      kind: what kind of need.
      competence: what competence is needed, in words.
      recruitment: the recruitment situation on SKR's scale.
      period: the years the need covers.
      source: the document the need comes from, e.g. "Kompetensförsörjningsplan 2024".
      assessed: when the need was assessed.
      area: an area within the unit ("Förskola", "Äldreomsorg"), if any.
      ssyk: the role's SSYK code (4 digits), if any.
      people: how many people the need concerns (≥ 0), if known.
      retirements: how many of them retire within two years (≥ 0, ≤ people), if known.
      source_date: the source document's date, if known.
    """

    key: str
    unit: str
    role: str
    kind: NeedKind
    competence: str
    recruitment: Recruitment
    period: Period
    source: str
    assessed: date
    author: str
    at: datetime
    area: str | None = None
    ssyk: str | None = None
    people: int | None = None
    retirements: int | None = None
    source_date: date | None = None
    seq: int = 0
    author_id: str = ""


@dataclass(frozen=True, slots=True)
class NeedLinkEntry:
    """A link from a need to a measure that answers it.

    A new link between the same need and measure supersedes the active one
    (a changed share or number of people).

    Attributes:
      need: the need's key.
      measure_id: the measure's id.
      people: how many people the measure reaches for this need (≥ 0), if known.
      share: the need's share of the measure's money in basis points
        (1–10 000: 2 500 is 25 %), or None to share the rest equally.
      note: why, where a rule asks for it (a surplus need on this fund's money).
    """

    need: str
    measure_id: int
    author: str
    at: datetime
    people: int | None = None
    share: int | None = None
    note: str = ""
    seq: int = 0
    author_id: str = ""


@dataclass(frozen=True, slots=True)
class NeedLinkEndedEntry:
    """Ends the active link between a need and a measure (the link stays in history)."""

    need: str
    measure_id: int
    author: str
    at: datetime
    note: str = ""
    seq: int = 0
    author_id: str = ""


NeedsEntry = NeedEntry | NeedLinkEntry | NeedLinkEndedEntry


@dataclass(frozen=True)
class Needs:
    """The needs of one organisation: its need and link entries, replayed.

    Attributes:
      entries: every need, link and end-of-link entry, in order (by seq, then time).
    """

    entries: tuple[NeedsEntry, ...] = field(default=())

    @staticmethod
    def build(entries: Iterable[NeedsEntry] = ()) -> Needs:
        return Needs(entries=tuple(sorted(entries, key=lambda e: (e.seq, e.at))))

    def append(self, entry: NeedsEntry) -> Needs:
        """These needs with one more entry (given the next seq)."""
        entry = replace(entry, seq=self.next_seq)
        return replace(self, entries=(*self.entries, entry))

    @property
    def next_seq(self) -> int:
        return max((e.seq for e in self.entries), default=0) + 1

    # --- needs ------------------------------------------------------------

    @cached_property
    def _history(self) -> Mapping[str, tuple[NeedEntry, ...]]:
        found: dict[str, list[NeedEntry]] = defaultdict(list)
        for e in self.entries:
            if isinstance(e, NeedEntry):
                found[need_key(e.key)].append(e)
        return {key: tuple(es) for key, es in found.items()}

    @cached_property
    def current(self) -> Mapping[str, NeedEntry]:
        """The latest assessment of each need, by matched key, in the order the needs were first assessed."""
        return {key: es[-1] for key, es in self._history.items()}

    def get(self, key: str) -> NeedEntry | None:
        return self.current.get(need_key(key))

    def history(self, key: str) -> tuple[NeedEntry, ...]:
        """Every assessment of a need, oldest first (the last is the current one)."""
        return self._history.get(need_key(key), ())

    # --- links ------------------------------------------------------------

    @cached_property
    def _active(self) -> Mapping[tuple[str, int], NeedLinkEntry]:
        active: dict[tuple[str, int], NeedLinkEntry] = {}
        for e in self.entries:
            if isinstance(e, NeedLinkEntry):
                pair = (need_key(e.need), e.measure_id)
                active.pop(pair, None)  # a new link of a pair comes last, as it was made
                active[pair] = e
            elif isinstance(e, NeedLinkEndedEntry):
                active.pop((need_key(e.need), e.measure_id), None)
        return active

    @property
    def links(self) -> tuple[NeedLinkEntry, ...]:
        """The active links, in the order they were made."""
        return tuple(self._active.values())

    def link(self, need: str, measure_id: int) -> NeedLinkEntry | None:
        """The active link between a need and a measure, if any."""
        return self._active.get((need_key(need), measure_id))

    def links_of_measure(self, measure_id: int) -> tuple[NeedLinkEntry, ...]:
        return tuple(link for link in self.links if link.measure_id == measure_id)

    def links_of_need(self, key: str) -> tuple[NeedLinkEntry, ...]:
        wanted = need_key(key)
        return tuple(link for link in self.links if need_key(link.need) == wanted)

    def linked_measures(self) -> tuple[int, ...]:
        """The measures with at least one active link, by id."""
        return tuple(sorted({link.measure_id for link in self.links}))


# --- what follows from the needs and the ledger -----------------------------


def is_stale(need: NeedEntry, today: date) -> bool:
    """An assessment made more than two years before today is stale."""
    try:
        limit = today.replace(year=today.year - STALE_YEARS)
    except ValueError:  # 29 February: two years back has none
        limit = today.replace(year=today.year - STALE_YEARS, day=28)
    return need.assessed < limit


PLANNED_OR_RUNNING = (Status.NOT_STARTED, Status.ONGOING)


def _runs_in(ledger: Ledger, measure_id: int, year: int) -> bool:
    """A measure runs in a year: its dates span the year, or without dates it is of that year."""
    measure = ledger.measures[measure_id]
    if measure.start_date is None and measure.end_date is None:
        return measure.year == year
    first = measure.start_date.year if measure.start_date else None
    last = measure.end_date.year if measure.end_date else None
    return (first is None or first <= year) and (last is None or year <= last)


def covers(ledger: Ledger, measure_id: int, year: int) -> bool:
    """Whether a linked measure answers its need in a year.

    With a fund for the year: the measure is planned or running (its latest
    follow-up's status, else its own), has money that year, and its latest
    follow-up of the year does not forecast 0 kr. In a city without a fund
    for the year: it is planned or running and runs that year."""
    if measure_id not in ledger.measures:
        return False
    if ledger.current_status(measure_id) not in PLANNED_OR_RUNNING:
        return False  # Klar, or reported "Ej slutförd"
    if not ledger.has_fund(year):
        return _runs_in(ledger, measure_id, year)
    if ledger.measure_allocated(measure_id, year) <= 0:
        return False
    latest = ledger.latest_followup(measure_id, year)
    return latest is None or latest.forecast > 0


_RECRUITMENT_ORDER = {r: i for i, r in enumerate(Recruitment)}


def uncovered(needs: Needs, ledger: Ledger, year: int) -> tuple[NeedEntry, ...]:
    """The current needs of a year (their period covers it) that no linked measure
    answers in that year (see `covers`): shortage roles first (SKR's scale in order),
    then the most retirements, then by key."""
    found = [
        need
        for need in needs.current.values()
        if need.period.covers(year)
        and not any(covers(ledger, link.measure_id, year) for link in needs.links_of_need(need.key))
    ]
    return tuple(
        sorted(
            found,
            key=lambda n: (_RECRUITMENT_ORDER[n.recruitment], -(n.retirements or 0), need_key(n.key)),
        )
    )


@dataclass(frozen=True, slots=True)
class RoleMoney:
    """The linked measures' granted money in a year, split over the needs.

    Attributes:
      year: the year.
      by_measure: each linked measure's money (its allocation that year, > 0).
      by_need: each need's part, summed over its measures, by the need's key.
      by_role: each role's part (the needs of a role summed; roles matched
        regardless of case and spaces, named as first written).
      unclaimed: what no need claims (shown as UNCLAIMED).
      shared_roles: roles whose money comes from a measure that also answers
        another role's need, or leaves money unclaimed.
    """

    year: int
    by_measure: Mapping[int, int]
    by_need: Mapping[str, int]
    by_role: Mapping[str, int]
    unclaimed: int
    shared_roles: frozenset[str]

    @property
    def total(self) -> int:
        """The linked measures' money: by_role and unclaimed add up to it exactly."""
        return sum(self.by_measure.values())


def split_measure(money: int, links: Iterable[NeedLinkEntry]) -> tuple[dict[str, int], int]:
    """One measure's money over its linked needs: the needs with a share get
    share × money first, the rest is split equally over the needs without one;
    with no such need the rest is unclaimed. Whole kronor, adding up exactly
    (core.ledger.split_exact). Returns (need key as linked → kronor, unclaimed).

    Shares above 100 % in all (refused by core.rules.needs, but replayed as
    stored) split the whole money in proportion to the shares; the needs
    without a share then get 0 kr."""
    links = list(links)
    shared = [(f"s:{link.need}", link.share) for link in links if link.share is not None]
    equal = sorted((link.need for link in links if link.share is None), key=need_key)
    claimed = sum(share for _, share in shared)
    if claimed > WHOLE:
        over = {key[2:]: part for key, part in split_exact(money, shared).items()}
        return {**over, **dict.fromkeys(equal, 0)}, 0
    parts = split_exact(money, [*shared, ("rest", WHOLE - claimed)])
    rest = parts.pop("rest")
    by_need = {key[2:]: part for key, part in parts.items()}
    if not equal:
        return by_need, rest
    by_need.update(split_exact(rest, [(need, 1) for need in equal]))
    return by_need, 0


def money_per_role(needs: Needs, ledger: Ledger, year: int) -> RoleMoney:
    """The money of each role in a year: every linked measure's allocation that
    year (core.ledger.Ledger.measure_allocated) split over its active links by
    `split_measure`, summed per need and per role."""
    by_measure: dict[int, int] = {}
    by_need: dict[str, int] = defaultdict(int)
    by_role: dict[str, int] = defaultdict(int)
    role_names: dict[str, str] = {}
    unclaimed = 0
    shared: set[str] = set()
    for measure_id in needs.linked_measures():
        money = ledger.measure_allocated(measure_id, year) if measure_id in ledger.measures else 0
        if money <= 0:
            continue
        by_measure[measure_id] = money
        links = [link for link in needs.links_of_measure(measure_id) if needs.get(link.need)]
        parts, rest = split_measure(money, links)
        unclaimed += rest
        roles_here: set[str] = set()
        for key, part in parts.items():
            need = needs.get(key)
            if need is None:  # only links to needs that exist are split
                continue
            role = role_names.setdefault(name_key(need.role), need.role.strip())
            by_need[need.key] += part
            by_role[role] += part
            roles_here.add(role)
        if len(roles_here) > 1 or rest:
            shared |= roles_here
    return RoleMoney(
        year=year,
        by_measure=by_measure,
        by_need=dict(by_need),
        by_role=dict(by_role),
        unclaimed=unclaimed,
        shared_roles=frozenset(shared),
    )


# --- reading what people write: the template's cells, the command line, the chat ------------

_KIND_WORDS: dict[str, NeedKind] = {
    "ersattningsrekrytering": NeedKind.REPLACEMENT,
    "ersattning": NeedKind.REPLACEMENT,
    "utokning": NeedKind.EXPANSION,
    "kompetenshojning": NeedKind.UPSKILLING,
    "introduktion": NeedKind.INTRODUCTION,
    "ledarskap": NeedKind.LEADERSHIP,
    "overtalighet": NeedKind.SURPLUS,
    "overtaliga": NeedKind.SURPLUS,
}
_RECRUITMENT_WORDS: dict[str, Recruitment] = {
    "brist": Recruitment.SHORTAGE,
    "balans": Recruitment.BALANCE,
    "god": Recruitment.GOOD,
    "god tillgang": Recruitment.GOOD,
    "vet ej": Recruitment.UNKNOWN,
    "vet inte": Recruitment.UNKNOWN,
    "okant": Recruitment.UNKNOWN,
}
_PERIOD = re.compile(r"(\d{4})(?:\s*(?:–|-|—|till|/)\s*(\d{4}))?")
E = TypeVar("E", bound=StrEnum)
FIRST_YEAR, LAST_YEAR = 2000, 2100
"""The years a need's period may name."""


def _word(text: str) -> str:
    return " ".join(without_marks(name_key(text)).split())


def _read(
    words: Mapping[str, E], allowed: Iterable[StrEnum], text: str, code: str, what: str, field: str | None
) -> E:
    """One of `words` by what was written, case and å/ä/ö aside; else refused naming `allowed`."""
    found = words.get(_word(text))
    if found is None:
        named = ", ".join(a.value for a in allowed)
        raise input_error(code, f'{what} "{echo(text)}". Tillåtna: {named}.', field)
    return found


def read_kind(text: str, field: str | None = "typ") -> NeedKind:
    """A need's kind by its name ("kompetenshöjning", "Overtalighet")."""
    return _read(_KIND_WORDS, NeedKind, text, "unknown_need_kind", "Okänd typ av behov", field)


def read_recruitment(text: str, field: str | None = "rekryteringsläge") -> Recruitment:
    """A recruitment situation on SKR's scale ("brist", "balans", "god", "vet ej")."""
    return _read(
        _RECRUITMENT_WORDS, Recruitment, text, "unknown_recruitment", "Okänt rekryteringsläge", field
    )


def read_period(text: str, field: str | None = "period") -> Period:
    """A need's period: "2024–2026" (also "2024-2026", "2024 till 2026", "2024/2026") or one year."""
    found = _PERIOD.fullmatch(text.strip())
    if found is None:
        raise input_error(
            "bad_need_period",
            f'Perioden "{echo(text)}" går inte att läsa. Skriv år eller en följd av år: "2025", "2024–2026".',
            field,
        )
    first = int(found.group(1))
    last = int(found.group(2) or first)
    if not FIRST_YEAR <= first <= last <= LAST_YEAR:
        raise input_error(
            "bad_need_period",
            f'Perioden "{echo(text)}" ska gå framåt i tiden, mellan {FIRST_YEAR} och {LAST_YEAR}: '
            'till exempel "2024–2026".',
            field,
        )
    return Period(first, last)
