"""`kompetensbot funds`: allocated, spent, forecast and remaining per unit."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from cli import texts
from cli.common import Commands, default_year, handles, options, services, today, user_of
from core.balances import FundBalance


def register(commands: Commands) -> None:
    funds = commands.add_parser("funds", help="tilldelat, utfall, prognos och kvar per nämnd")
    funds.add_argument("--year", type=int)
    funds.add_argument("--unit", help="en nämnd: kod, namn eller kortnamn")
    funds.add_argument("--json", action="store_true")
    options(funds, as_of=True)
    handles(funds, run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    city, as_of = services(args), today(args)
    year = args.year or default_year(city, as_of)
    balance = city.funds(user_of(args), year, args.unit, as_of=as_of)
    if args.json:
        print(json.dumps(funds_json(balance), ensure_ascii=False, indent=2), file=out)
    else:
        print(texts.funds_text(balance, city.city_name()), file=out)
    return 0


def funds_json(balance: FundBalance) -> dict[str, Any]:
    """Two levels, named apart: `fund` is the whole year's fund (of every unit, whoever
    asks), `units_shown` adds up the units listed in `units` (one with --unit, those a
    --user may see)."""
    return {
        "year": balance.year,
        "fund": {
            "decided": balance.decided,
            "total": balance.total if balance.decided else None,
            "transferred_to_units": balance.fund_allocated,
            "not_transferred": balance.unallocated if balance.decided else None,
            "reserved": balance.reserved,
            "decisions": [e.decision.reference for e in balance.fund_entries],
        },
        "units_shown": {
            "count": len(balance.units),
            "allocated": balance.allocated,
            "spent": balance.spent,
            "forecast": balance.forecast,
            "remaining": balance.remaining,
            "remaining_forecast": balance.remaining_forecast,
        },
        "units": [
            {
                "code": u.code,
                "name": u.name,
                "allocated": u.allocated,
                "transferred": u.transferred,
                "reallocated": u.reallocated,
                "earmarked": u.earmarked,
                "unallocated": u.unallocated,
                "spent": u.spent,
                "forecast": u.forecast,
                "remaining": u.remaining,
                "remaining_forecast": u.remaining_forecast,
                "decisions": sorted({a.decision.reference for a in u.allocations}),
            }
            for u in balance.units
        ],
    }
