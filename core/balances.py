"""Balances at fund, unit and measure level, computed by folding the ledger.

Nothing here is stored: the same entries always give the same balances.

- allocated: what was granted (to a unit: transfers ± reallocations; to a
  measure: fundings ± reallocations).
- spent (utfall): the latest follow-up's spend to date.
- forecast (prognos): the latest follow-up's forecast for the year; where no
  follow-up exists yet, the money is assumed to be used as planned, so a
  measure's forecast is its allocation and a unit's includes its unearmarked money
  only as remaining.
- remaining = allocated − spent; remaining_forecast = allocated − forecast.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from core.entries import AllocationEntry, FundEntry, MeasureFundingEntry, ReallocationEntry
from core.ledger import Ledger, split_exact
from core.model import FollowUp


@dataclass(frozen=True, slots=True)
class Share:
    """One unit's part of a (shared) measure's money."""

    unit: str
    allocated: int
    spent: int
    forecast: int

    @property
    def remaining(self) -> int:
        return self.allocated - self.spent


@dataclass(frozen=True, slots=True)
class MeasureBalance:
    """A measure's money in a year, with where each figure comes from.

    Attributes:
      followup: the follow-up the spend and forecast come from (None: none yet).
      fundings: the grants behind `allocated`.
      reallocations: reallocations into or out of the measure.
      shares: each unit's part (one for an unshared measure).
    """

    measure_id: int
    year: int
    allocated: int
    spent: int
    forecast: int
    followup: FollowUp | None
    fundings: tuple[MeasureFundingEntry, ...]
    reallocations: tuple[ReallocationEntry, ...]
    shares: tuple[Share, ...]

    @property
    def remaining(self) -> int:
        return self.allocated - self.spent

    @property
    def remaining_forecast(self) -> int:
        return self.allocated - self.forecast

    @property
    def unused_forecast(self) -> int:
        """Money the latest follow-up forecasts as unused (0 without a follow-up)."""
        if self.followup is None:
            return 0
        return max(0, self.allocated - self.followup.forecast)

    def share(self, unit: str) -> Share | None:
        return next((s for s in self.shares if s.unit == unit), None)


@dataclass(frozen=True, slots=True)
class UnitBalance:
    """A unit's money in a year.

    Attributes:
      transferred: the transfers from the fund (överföringar).
      reallocated: net money moved in (+) or out (−) by reallocations.
      allocated: transferred + reallocated.
      earmarked: what its measures hold (their shares).
      unallocated: allocated − earmarked: free for new measures.
    """

    code: str
    name: str
    year: int
    transferred: int
    reallocated: int
    earmarked: int
    spent: int
    forecast: int
    allocations: tuple[AllocationEntry, ...]
    followups: tuple[FollowUp, ...]

    @property
    def allocated(self) -> int:
        return self.transferred + self.reallocated

    @property
    def unallocated(self) -> int:
        return self.allocated - self.earmarked

    @property
    def remaining(self) -> int:
        return self.allocated - self.spent

    @property
    def remaining_forecast(self) -> int:
        return self.allocated - self.forecast


@dataclass(frozen=True, slots=True)
class FundBalance:
    """A year's fund: its total and what became of it.

    `units` may be a selection (the units a person may see); `allocated`,
    `spent`, `forecast` and `remaining` add up that selection, while `total`
    and `unallocated` always speak of the whole fund.
    """

    year: int
    total: int
    units: tuple[UnitBalance, ...]
    fund_entries: tuple[FundEntry, ...]
    fund_allocated: int = 0

    def only(self, codes: set[str]) -> FundBalance:
        """The same fund, showing only the given units."""
        return replace(self, units=tuple(u for u in self.units if u.code in codes))

    @property
    def allocated(self) -> int:
        return sum(u.allocated for u in self.units)

    @property
    def decided(self) -> bool:
        """Whether the year's fund is decided (an appropriation is recorded). Without
        one, the year's allocations (recurring ones) are reserved by their decisions
        for a fund not yet decided, and nothing is "not transferred" from it."""
        return bool(self.fund_entries)

    @property
    def reserved(self) -> int:
        """What recurring allocations reserve of a fund not yet decided (0 once decided)."""
        return 0 if self.decided else self.fund_allocated

    @property
    def unallocated(self) -> int:
        """Fund money not yet transferred to any unit (of all units); 0 while the
        fund is not decided (see `reserved`), never negative because of it."""
        if not self.decided:
            return 0
        return self.total - self.fund_allocated

    @property
    def spent(self) -> int:
        return sum(u.spent for u in self.units)

    @property
    def forecast(self) -> int:
        return sum(u.forecast for u in self.units)

    @property
    def remaining(self) -> int:
        return self.allocated - self.spent

    @property
    def remaining_forecast(self) -> int:
        return self.allocated - self.forecast

    def unit(self, code: str) -> UnitBalance | None:
        return next((u for u in self.units if u.code == code), None)


def measure_balance(ledger: Ledger, measure_id: int, year: int | None = None) -> MeasureBalance:
    if year is None:
        year = ledger.measures[measure_id].year
    allocated = ledger.measure_allocated(measure_id, year)
    followup = ledger.latest_followup(measure_id, year)
    spent = followup.spent if followup else 0
    forecast = followup.forecast if followup else allocated
    weights = sorted(ledger.shares(measure_id, year).items())
    alloc_parts = split_exact(allocated, weights)
    spent_parts = split_exact(spent, weights)
    forecast_parts = split_exact(forecast, weights)
    shares = tuple(
        Share(unit, alloc_parts[unit], spent_parts[unit], forecast_parts[unit]) for unit, _ in weights
    )
    return MeasureBalance(
        measure_id=measure_id,
        year=year,
        allocated=allocated,
        spent=spent,
        forecast=forecast,
        followup=followup,
        fundings=ledger.fundings(year, measure_id),
        reallocations=tuple(
            e for e in ledger.reallocations(year) if measure_id in (e.from_measure, e.to_measure)
        ),
        shares=shares,
    )


def fund_balance(ledger: Ledger, year: int) -> FundBalance:
    """Every unit's balance for a year, and the fund's total."""
    transferred: dict[str, int] = defaultdict(int)
    allocations: dict[str, list[AllocationEntry]] = defaultdict(list)
    for a in ledger.allocations(year):
        transferred[a.unit] += a.amount
        allocations[a.unit].append(a)

    reallocated: dict[str, int] = defaultdict(int)
    for r in ledger.reallocations(year):
        for unit, part in split_exact(r.amount, sorted(ledger.shares(r.from_measure, year).items())).items():
            reallocated[unit] -= part
        for unit, part in split_exact(r.amount, sorted(ledger.shares(r.to_measure, year).items())).items():
            reallocated[unit] += part

    earmarked: dict[str, int] = defaultdict(int)
    spent: dict[str, int] = defaultdict(int)
    forecast: dict[str, int] = defaultdict(int)
    followups: dict[str, list[FollowUp]] = defaultdict(list)
    for measure_id, measure in ledger.measures.items():
        if measure.year != year and not ledger.fundings(year, measure_id):
            continue
        balance = measure_balance(ledger, measure_id, year)
        for share in balance.shares:
            earmarked[share.unit] += share.allocated
            spent[share.unit] += share.spent
            forecast[share.unit] += share.forecast
            if balance.followup is not None:
                followups[share.unit].append(balance.followup)

    codes = set(transferred) | set(reallocated) | set(earmarked)
    units = []
    for code in sorted(codes, key=lambda c: (-transferred.get(c, 0), c)):
        known = ledger.units.get(code)  # `unit` is a code above
        # Unearmarked money has no follow-up: it is forecast as unused.
        units.append(
            UnitBalance(
                code=code,
                name=known.name if known else code,
                year=year,
                transferred=transferred.get(code, 0),
                reallocated=reallocated.get(code, 0),
                earmarked=earmarked.get(code, 0),
                spent=spent.get(code, 0),
                forecast=forecast.get(code, 0),
                allocations=tuple(allocations.get(code, ())),
                followups=tuple(followups.get(code, ())),
            )
        )
    return FundBalance(
        year=year,
        total=ledger.fund_total(year),
        units=tuple(units),
        fund_entries=ledger.fund_entries(year),
        fund_allocated=sum(u.allocated for u in units),
    )


def unit_balance(ledger: Ledger, code: str, year: int) -> UnitBalance:
    found = fund_balance(ledger, year).unit(code)
    if found is not None:
        return found
    unit = ledger.units[code]
    return UnitBalance(code, unit.name, year, 0, 0, 0, 0, 0, (), ())
