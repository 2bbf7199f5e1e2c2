"""Which year a question or a new measure means when nobody named one, and where a
unit last had money.

One rule for every caller (the chat's funds answers and forms, `kompetensbot funds`,
`add-measure` and `import` without `--year`): the latest year, up to today's, whose fund is
decided (an appropriation is recorded); without any, today's year. A year holding
only recurring allocations (reserved, its fund not yet decided) is not picked: its
money is not yet there to spend or to grant.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from core.balances import fund_balance
from core.ledger import Ledger


def month_year(ledger: Ledger, measure_id: int | None, today: date) -> int:
    """The year a month's name alone ("juni") is of in a follow-up: its measure's (the
    chat's period question offers a period in the measure's year); for a measure the
    ledger does not know, the default year. The chat, the form and the command line ask it."""
    measure = ledger.measures.get(measure_id) if measure_id is not None else None
    return measure.year if measure is not None else default_year(ledger, today)


def default_year(ledger: Ledger, today: date) -> int:
    """The year meant when none is given (see the module)."""
    decided = [y for y in ledger.years if y <= today.year and ledger.has_fund(y)]
    return max(decided) if decided else today.year


def latest_year_with_money(ledger: Ledger, units: Iterable[str], *, besides: int) -> int | None:
    """The latest year other than `besides` in which any of `units` was allocated
    money (transfers, recurring ones included, and reallocations); None if never."""
    codes = set(units)
    years = sorted((y for y in ledger.years if y != besides), reverse=True)
    for year in years:
        if any(u.allocated for u in fund_balance(ledger, year).only(codes).units):
            return year
    return None


def latest_decided_fund_year(ledger: Ledger, besides: int) -> int | None:
    """The year whose fund is named when `besides` has none decided: the latest
    other year with a decided fund before it, else the latest after it (asked
    about 2024, before any fund, 2025's is named); None when no fund is decided."""
    decided = [y for y in ledger.years if y != besides and ledger.has_fund(y)]
    before = [y for y in decided if y < besides]
    return max(before) if before else max(decided, default=None)
