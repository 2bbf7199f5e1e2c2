"""Substitutes during absence (ersättare, issue 22): who answers for whom on a day.

A substitution names the absent person, the substitute, the first and last day
(both included) and, optionally, the units it is limited to; it is recorded with
who made it and when, and may be ended early (from `ended_on` on it no longer
applies). Nothing is updated: a later substitution of the same person for the
same days is a new record, and the latest made applies.

`answerer` is the one rule for who answers for a person on a day, for a unit's
measures: the person when not away; else their substitute when the substitute is
not away too; never a chain (a substitute who is away is not followed to their
own substitute, so there is no loop either) but the unit's other HR role holders,
then stadskontoret, the first of them who is not away. A substitute gains no
rights of their own: what they may do for the absent person is the absent
person's reading and following up of those measures (core.permissions decides
the rest).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from core.model import Role, RoleGrant


@dataclass(frozen=True, slots=True)
class Substitution:
    """One person's absence and who answers for them.

    Attributes:
      absent: the absent person's user id.
      substitute: the substitute's user id.
      first, last: the days of the absence, both included.
      units: the unit codes the substitution is limited to; empty: every unit.
      by: who recorded it (user id); at: when.
      ended_on: the day from which it no longer applies (ended early), if ended.
      seq: its order number when stored (0 before).
    """

    absent: str
    substitute: str
    first: date
    last: date
    units: frozenset[str] = frozenset()
    by: str = ""
    at: datetime | None = None
    ended_on: date | None = None
    seq: int = 0

    def applies(self, on: date, unit: str | None = None) -> bool:
        """It applies on `on` (within its days and not ended), for `unit` (None: any unit it covers)."""
        if not self.first <= on <= self.last:
            return False
        if self.ended_on is not None and on >= self.ended_on:
            return False
        return unit is None or not self.units or unit in self.units


def current(
    substitutions: Iterable[Substitution], person: str, on: date, unit: str | None = None
) -> Substitution | None:
    """The substitution that applies to `person` on `on` for `unit`: the latest made of those
    that apply (by seq, then as given), or None when the person is not away."""
    found = [s for s in substitutions if s.absent == person and s.applies(on, unit)]
    if not found:
        return None
    return max(enumerate(found), key=lambda pair: (pair[1].seq, pair[0]))[1]  # a tie: the later given


def is_away(substitutions: Iterable[Substitution], person: str, on: date, unit: str | None = None) -> bool:
    return current(substitutions, person, on, unit) is not None


class Why(StrEnum):
    """Why the answerer answers."""

    SELF = "själv"
    SUBSTITUTE = "ersättare"
    UNIT_HR = "nämndens HR"
    CITY_OFFICE = "stadskontoret"
    NOBODY = "ingen"


@dataclass(frozen=True, slots=True)
class Answerer:
    """Who answers for `person` on a day: `user` (None: nobody can), and why."""

    person: str
    user: str | None
    why: Why

    @property
    def on_behalf(self) -> bool:
        """Someone else answers for the person ("lämnad av Per Persson för Anna Andersson")."""
        return self.user is not None and self.user != self.person


def answerer(
    substitutions: Sequence[Substitution],
    person: str,
    on: date,
    unit: str | None,
    *,
    unit_hr: Sequence[str] = (),
    city_office: Sequence[str] = (),
) -> Answerer:
    """Who answers for `person` on `on`, for `unit`'s measures (see the module): the person,
    their substitute, the first of `unit_hr` (the unit's HR role holders, in a stable order)
    who is neither the person nor away, then the first of `city_office` not away; nobody when
    all of them are away."""
    away = current(substitutions, person, on, unit)
    if away is None:
        return Answerer(person, person, Why.SELF)
    if away.substitute != person and not is_away(substitutions, away.substitute, on, unit):
        return Answerer(person, away.substitute, Why.SUBSTITUTE)
    for why, holders in ((Why.UNIT_HR, unit_hr), (Why.CITY_OFFICE, city_office)):
        for user in holders:
            if user != person and not is_away(substitutions, user, on, unit):
                return Answerer(person, user, why)
    return Answerer(person, None, Why.NOBODY)


STAND_IN_ROLES = frozenset({Role.CHEF, Role.HR})
"""The roles a substitute stands in for: a person's unit roles. Stadskontoret's
and KSAU's city-wide roles are never passed on (a substitute gains no KSAU rights)."""


def stand_in_grants(
    substitutions: Sequence[Substitution], grants: Iterable[RoleGrant], user: str, on: date
) -> tuple[RoleGrant, ...]:
    """The absent people's unit grants (chef, hr) that `user` answers for on `on` as their
    substitute (Principal.stand_in): for each such grant, the absent person's substitution for
    its unit names `user`, and `user` is not away themselves for that unit. Not passed on
    further (no chains): a grant `user` holds as a stand-in is not among `grants`."""
    mine = [s for s in substitutions if s.substitute == user]
    if not mine:
        return ()
    out: list[RoleGrant] = []
    for g in grants:
        if g.user == user or g.role not in STAND_IN_ROLES or g.unit is None:
            continue
        away = current(substitutions, g.user, on, g.unit)
        if away is not None and away.substitute == user and not is_away(substitutions, user, on, g.unit):
            out.append(g)
    return tuple(out)


def last_day(s: Substitution) -> date:
    """The last day a substitution applies: its last, or the day before it was ended from."""
    return s.last if s.ended_on is None else min(s.last, s.ended_on - timedelta(days=1))


def effective(substitutions: Sequence[Substitution], person: str, since: date) -> list[Substitution]:
    """`person`'s substitutes on `since` and after, each day's once: the substitutions that apply
    as `current` decides (the latest made wins, for the units it covers), cut to the days each
    applies and joined where one substitute runs on (from its first day, before `since` too);
    one substitute who covers some units by one substitution and all by another is shown once,
    for all. Each keeps its latest record's seq, by and at; in the order of their days."""
    mine = [(i, s) for i, s in enumerate(substitutions) if s.absent == person and last_day(s) >= s.first]
    if not mine:
        return []
    edges = sorted({d for _, s in mine for d in (s.first, last_day(s) + timedelta(days=1))})
    out: list[Substitution] = []
    for start, stop in zip(edges, edges[1:], strict=False):
        on = [(i, s) for i, s in mine if s.first <= start <= last_day(s)]
        on.sort(key=lambda pair: (pair[1].seq, pair[0]), reverse=True)
        whom: dict[str, tuple[Substitution, frozenset[str] | None]] = {}  # None: every unit
        covered: set[str] = set()
        for _, s in on:
            if not s.units:
                units: frozenset[str] | None = None
            else:
                left = s.units - covered
                if not left:
                    continue
                units = frozenset(left)
            latest, before = whom.get(s.substitute, (s, frozenset()))
            merged = None if units is None or before is None else before | units
            whom[s.substitute] = (latest, merged)
            if units is None:
                break
            covered |= s.units
        for latest, units in whom.values():
            part = replace(latest, first=start, last=stop - timedelta(days=1), units=units or frozenset())
            part = replace(part, ended_on=None)
            joined = next(
                (
                    k
                    for k, o in enumerate(out)
                    if o.substitute == part.substitute
                    and o.units == part.units
                    and o.last + timedelta(days=1) == part.first
                ),
                None,
            )
            if joined is None:
                out.append(part)
            else:
                newer = part if part.seq >= out[joined].seq else out[joined]
                out[joined] = replace(newer, first=out[joined].first, last=part.last)
    return sorted((s for s in out if s.last >= since), key=lambda s: (s.first, s.seq))


@dataclass(frozen=True, slots=True)
class SubstitutionEnded:
    """A stored substitution (by its seq) ended early: from `on` it no longer applies."""

    ends: int
    on: date
    by: str = ""
    at: datetime | None = None
    seq: int = 0


def replay(records: Iterable[Substitution | SubstitutionEnded]) -> list[Substitution]:
    """The city's substitutions from its stored records, in the order stored: each with
    the earliest day it was ended from, if it was ended."""
    made: dict[int, Substitution] = {}
    for r in records:
        if isinstance(r, Substitution):
            made[r.seq] = r
        elif r.ends in made:
            s = made[r.ends]
            on = r.on if s.ended_on is None else min(s.ended_on, r.on)
            made[r.ends] = Substitution(
                s.absent, s.substitute, s.first, s.last, s.units, s.by, s.at, on, s.seq
            )
    return [made[k] for k in sorted(made)]
