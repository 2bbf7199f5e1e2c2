"""A small in-memory ledger builder for the core's tests: every step goes
through the core's commands, as storage would."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from core import commands
from core.ledger import Ledger
from core.model import ADMIN, Body, Decision, FollowUp, Measure, Principal, Status, Unit

AT = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)


def reported_at(period: str) -> datetime:
    """When a follow-up of `period` is reported: AT, or its period's first day
    when that is later (a period that has not begun takes no follow-up)."""
    return max(AT, datetime(int(period[:4]), int(period[5:7]), 1, 12, 0, tzinfo=UTC))


KF = Decision(Body.KF, None, title="Budget 2025")
KS = Decision(Body.KS, date(2025, 3, 5))
KSAU = Decision(Body.KSAU, date(2025, 6, 20), paragraph="5")
NAMND = Decision(Body.COMMITTEE, date(2025, 2, 5), paragraph="5")

UNITS = (
    Unit("FSKN", "Förskolenämnden", ("förskolan", "FSKF")),
    Unit("GVN", "Gymnasie- och vuxenutbildningsnämnden", ("gymnasiet",)),
    Unit("SBN", "Stadsbyggnadsnämnden"),
    Unit("TN", "Tekniska nämnden", ("tekniska",)),
    Unit("MN", "Miljönämnden"),
    Unit("KS", "Kommunstyrelsen"),
)


@dataclass
class Book:
    """A ledger under construction."""

    ledger: Ledger = field(default_factory=lambda: Ledger.build(UNITS))
    who: Principal = ADMIN

    def fund(self, year: int, amount: int) -> Book:
        self.ledger = self.ledger.append(commands.set_fund(self.ledger, self.who, year, amount, KF, AT))
        return self

    def allocate(self, unit: str, amount: int, year: int = 2025, recurring: bool = False) -> Book:
        entry = commands.allocate(self.ledger, self.who, unit, year, amount, KS, AT, recurring)
        self.ledger = self.ledger.append(entry)
        return self

    def measure(self, title: str, *units: str, year: int = 2025, **kw: Any) -> int:
        mid = max(self.ledger.measures, default=0) + 1
        m = Measure(id=mid, title=title, units=units, year=year, **kw)
        self.ledger = self.ledger.add_measure(commands.submit_measure(self.ledger, self.who, m))
        return mid

    def grant(self, measure_id: int, unit: str, amount: int) -> Book:
        entry = commands.grant_measure(self.ledger, self.who, measure_id, unit, amount, NAMND, AT)
        self.ledger = self.ledger.append(entry)
        return self

    def followup(
        self,
        measure_id: int,
        spent: int,
        forecast: int,
        status: Status = Status.ONGOING,
        period: str = "2025-06",
    ) -> Book:
        seq = len(self.ledger.followups) + 1
        f = FollowUp(
            measure_id, period, status, spent, forecast, forecast >= spent, "", "hr", reported_at(period), seq
        )
        # figures as given (a large forecast is a confirmed need, core.rules.followup.implausible_amounts)
        confirmed = commands.report_followup(self.ledger, self.who, f, amount_confirmed=True)
        self.ledger = self.ledger.add_followup(confirmed)
        return self

    def reallocate(self, source: int, target: int, amount: int, decision: Decision = KSAU) -> Book:
        # Recorded on the decision's day (a decision dated after the recording is refused).
        day = decision.date or AT.date()
        at = max(AT, datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
        entry = commands.reallocate(self.ledger, self.who, source, target, amount, decision, at)
        self.ledger = self.ledger.append(entry)
        return self

    def as_user(self, who: Principal) -> Book:
        return replace(self, who=who)


def malmo_small() -> Book:
    """A fund of 10 000 000 kr for 2025 with three units and a shared measure."""
    book = Book().fund(2025, 10_000_000)
    book.allocate("FSKN", 5_000_000).allocate("GVN", 3_000_000)
    book.allocate("SBN", 800_000).allocate("TN", 400_000).allocate("MN", 400_000)
    return book
