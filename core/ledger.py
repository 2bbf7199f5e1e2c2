"""A ledger snapshot: one organisation's units, measures, entries and
follow-ups, as the rules see them. Everything derived from it (what a year's
fund holds, what a unit was given) is computed here by folding entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Protocol, TypeVar

from core.entries import (
    AllocationEndEntry,
    AllocationEntry,
    FundEntry,
    LedgerEntry,
    MeasureFundingEntry,
    ReallocationEntry,
    entry_sortkey,
)
from core.model import FollowUp, Measure, Status, Unit


def split_exact(amount: int, weights: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Split an amount by integer weights so that the parts add up exactly
    (largest remainder; ties go to the first key in order)."""
    items = list(weights)
    if not items:
        return {}
    total = sum(w for _, w in items)
    if total <= 0:
        items = [(k, 1) for k, _ in items]
        total = len(items)
    parts = {k: amount * w // total for k, w in items}
    rest = amount - sum(parts.values())
    order = sorted(range(len(items)), key=lambda i: (-(amount * items[i][1] % total), i))
    for i in order[:rest]:
        parts[items[i][0]] += 1
    return parts


class _OfAYear(Protocol):
    """An entry of one year (every kind but AllocationEndEntry, which names its last year)."""

    @property
    def year(self) -> int: ...


E = TypeVar("E", bound=_OfAYear)


def _by_year(entries: Iterable[LedgerEntry], kind: type[E]) -> Mapping[int, tuple[E, ...]]:
    """The entries of one kind, by year, in ledger order."""
    found: dict[int, list[E]] = defaultdict(list)
    for e in entries:
        if isinstance(e, kind):
            found[e.year].append(e)
    return {year: tuple(es) for year, es in found.items()}


@dataclass(frozen=True)
class Ledger:
    """The state one organisation's rules are checked against.

    Attributes:
      units: by code.
      measures: by id.
      entries: the money entries, in ledger order.
      followups: the follow-up entries, in the order they were reported.
    """

    units: Mapping[str, Unit]
    measures: Mapping[int, Measure] = field(default_factory=dict)
    entries: tuple[LedgerEntry, ...] = ()
    followups: tuple[FollowUp, ...] = ()

    @staticmethod
    def build(
        units: Iterable[Unit],
        measures: Iterable[Measure] = (),
        entries: Iterable[LedgerEntry] = (),
        followups: Iterable[FollowUp] = (),
    ) -> Ledger:
        return Ledger(
            units={u.code: u for u in units},
            measures={m.id: m for m in measures},
            entries=tuple(sorted(entries, key=entry_sortkey)),
            followups=tuple(sorted(followups, key=lambda f: (f.seq, f.at))),
        )

    def append(self, entry: LedgerEntry) -> Ledger:
        """This ledger with one more entry (given the next seq)."""
        entry = replace(entry, seq=self.next_seq)
        return replace(self, entries=(*self.entries, entry))

    def add_followup(self, followup: FollowUp) -> Ledger:
        return replace(self, followups=(*self.followups, followup))

    def add_measure(self, measure: Measure) -> Ledger:
        return replace(self, measures={**self.measures, measure.id: measure})

    @property
    def next_seq(self) -> int:
        return max((e.seq for e in self.entries), default=0) + 1

    # --- the fund -------------------------------------------------------

    @cached_property
    def years(self) -> tuple[int, ...]:
        found = {e.year for e in self.entries if not isinstance(e, AllocationEndEntry)}
        found |= {m.year for m in self.measures.values()}
        return tuple(sorted(found))

    @cached_property
    def _funds_by_year(self) -> Mapping[int, tuple[FundEntry, ...]]:
        return _by_year(self.entries, FundEntry)

    def fund_entries(self, year: int) -> tuple[FundEntry, ...]:
        return self._funds_by_year.get(year, ())

    def fund_total(self, year: int) -> int:
        return sum(e.amount for e in self.fund_entries(year))

    def has_fund(self, year: int) -> bool:
        return bool(self.fund_entries(year))

    @cached_property
    def allocation_last_years(self) -> Mapping[int, int]:
        """seq of a recurring allocation → the last year it applies to."""
        ends: dict[int, int] = {}
        for e in self.entries:
            if isinstance(e, AllocationEndEntry):
                ends[e.allocation_seq] = min(e.last_year, ends.get(e.allocation_seq, e.last_year))
        return ends

    def allocations(self, year: int) -> tuple[AllocationEntry, ...]:
        """The transfers that apply to a year, recurring ones included."""
        ends = self.allocation_last_years
        return tuple(
            e for e in self.entries if isinstance(e, AllocationEntry) and e.applies_to(year, ends.get(e.seq))
        )

    def allocated_to_units(self, year: int) -> int:
        return sum(e.amount for e in self.allocations(year))

    # --- measures ---------------------------------------------------------

    # Indexes over the entries and follow-ups, built once per ledger (it is
    # immutable): the folds below look up a measure's entries instead of
    # scanning the whole ledger for each measure.

    @cached_property
    def _fundings_by_year(self) -> Mapping[int, tuple[MeasureFundingEntry, ...]]:
        return _by_year(self.entries, MeasureFundingEntry)

    @cached_property
    def _fundings_by_measure(self) -> Mapping[tuple[int, int], tuple[MeasureFundingEntry, ...]]:
        found: dict[tuple[int, int], list[MeasureFundingEntry]] = defaultdict(list)
        for e in self.entries:
            if isinstance(e, MeasureFundingEntry):
                found[(e.year, e.measure_id)].append(e)
        return {key: tuple(es) for key, es in found.items()}

    @cached_property
    def _reallocations(self) -> tuple[ReallocationEntry, ...]:
        return tuple(e for e in self.entries if isinstance(e, ReallocationEntry))

    @cached_property
    def _reallocations_by_year(self) -> Mapping[int, tuple[ReallocationEntry, ...]]:
        found: dict[int, list[ReallocationEntry]] = defaultdict(list)
        for e in self._reallocations:
            found[e.year].append(e)
        return {year: tuple(es) for year, es in found.items()}

    @cached_property
    def _followups_by_measure(self) -> Mapping[int, tuple[FollowUp, ...]]:
        found: dict[int, list[FollowUp]] = defaultdict(list)
        for f in self.followups:
            found[f.measure_id].append(f)
        return {measure_id: tuple(fs) for measure_id, fs in found.items()}

    def fundings(self, year: int, measure_id: int | None = None) -> tuple[MeasureFundingEntry, ...]:
        if measure_id is None:
            return self._fundings_by_year.get(year, ())
        return self._fundings_by_measure.get((year, measure_id), ())

    def reallocations(self, year: int | None = None) -> tuple[ReallocationEntry, ...]:
        if year is None:
            return self._reallocations
        return self._reallocations_by_year.get(year, ())

    def shares(self, measure_id: int, year: int) -> dict[str, int]:
        """Each unit's funding of a measure: its share (weights)."""
        weights: dict[str, int] = defaultdict(int)
        for e in self.fundings(year, measure_id):
            weights[e.unit] += e.amount
        if not weights:
            measure = self.measures.get(measure_id)
            return {u: 1 for u in measure.units} if measure else {}
        return dict(weights)

    def measure_allocated(self, measure_id: int, year: int) -> int:
        funded = sum(e.amount for e in self.fundings(year, measure_id))
        moved = sum(
            (e.amount if e.to_measure == measure_id else 0)
            - (e.amount if e.from_measure == measure_id else 0)
            for e in self.reallocations(year)
        )
        return funded + moved

    def is_decided(self, measure_id: int, year: int) -> bool:
        """A measure is decided for a year when money was granted to it by a decision."""
        return bool(self.fundings(year, measure_id))

    def latest_followup(self, measure_id: int, year: int | None = None) -> FollowUp | None:
        latest: FollowUp | None = None
        for f in self._followups_by_measure.get(measure_id, ()):
            if year is not None and f.year != year:
                continue
            if latest is None or (f.period, f.seq, f.at) >= (latest.period, latest.seq, latest.at):
                latest = f
        return latest

    def current_status(self, measure_id: int) -> Status:
        latest = self.latest_followup(measure_id)
        if latest is not None:
            return latest.status
        return self.measures[measure_id].status

    def children(self, measure_id: int) -> tuple[Measure, ...]:
        return tuple(m for m in self.measures.values() if m.parent_id == measure_id)
