"""The ledger's entries: every change of money is one immutable entry.

Nothing is updated in place or deleted; balances are computed by folding the
entries in order (see core.balances). Each entry carries the decision behind
it, its author and its time. `seq` is the entry's position in its
organisation's ledger, given by storage when it is appended (0 before).
`author` is the name shown for the person who made it; `author_id` is who
they are (the AAD object id in Teams, `--user` or "cli:<os user>" on the
command line); "" for entries stored before author ids were kept, whose
author is then only a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.model import Decision


@dataclass(frozen=True, slots=True)
class FundEntry:
    """Money set aside for a year (anslag till förfogande), e.g. by KF's budget.

    Attributes:
      year: the fund year.
      amount: kronor added to the year's fund (> 0); a year's total is the sum.
    """

    year: int
    amount: int
    decision: Decision
    author: str
    at: datetime
    seq: int = 0
    author_id: str = ""


@dataclass(frozen=True, slots=True)
class AllocationEntry:
    """A transfer (överföring) from the fund to a unit.

    Attributes:
      year: the year, or the first year of a recurring allocation.
      unit: the receiving unit's code.
      amount: kronor per year (> 0).
      recurring: True for "from year Y onwards" (fr.o.m.): it reserves the
        amount in every later year until an AllocationEndEntry ends it.
    """

    year: int
    unit: str
    amount: int
    recurring: bool
    decision: Decision
    author: str
    at: datetime
    seq: int = 0
    author_id: str = ""

    def applies_to(self, year: int, last_year: int | None) -> bool:
        if not self.recurring:
            return year == self.year
        return year >= self.year and (last_year is None or year <= last_year)


@dataclass(frozen=True, slots=True)
class AllocationEndEntry:
    """A later decision that ends a recurring allocation.

    Attributes:
      allocation_seq: the seq of the recurring AllocationEntry it ends.
      last_year: the last year the allocation still applies to.
    """

    allocation_seq: int
    last_year: int
    decision: Decision
    author: str
    at: datetime
    seq: int = 0
    author_id: str = ""


@dataclass(frozen=True, slots=True)
class MeasureFundingEntry:
    """Money of a unit granted to a measure (beviljat belopp).

    A shared measure gets one entry per unit; each unit's part is its share.
    """

    year: int
    measure_id: int
    unit: str
    amount: int
    decision: Decision
    author: str
    at: datetime
    seq: int = 0
    author_id: str = ""


@dataclass(frozen=True, slots=True)
class ReallocationEntry:
    """A reallocation (omfördelning) of unused money from one decided measure
    to another in the same year, by a KSAU decision.
    """

    year: int
    from_measure: int
    to_measure: int
    amount: int
    decision: Decision
    author: str
    at: datetime
    seq: int = 0
    author_id: str = ""


LedgerEntry = FundEntry | AllocationEntry | AllocationEndEntry | MeasureFundingEntry | ReallocationEntry


def entry_sortkey(entry: LedgerEntry) -> tuple[int, datetime]:
    """The deterministic order of a ledger: by sequence number, then time."""
    return (entry.seq, entry.at)


def entry_year(entry: LedgerEntry) -> int | None:
    return None if isinstance(entry, AllocationEndEntry) else entry.year
