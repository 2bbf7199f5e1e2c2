"""What the follow-up round's tick costs while a round is open, on the large
data (290 cities, bench/data.py): the tick runs every minute inside
`kompetensbot serve`, on the same process and GIL as the turns.

    .venv/bin/python bench/round_tick.py [--databases sqlite,postgresql] [--ticks 3]

A RoundRunner (the same code as the server's tick and `kompetensbot followup
tick`) ticks on the June round's first day, 2025-06-02: the first tick opens
the round in every city that has money that year; the ones after it find
nothing changed. Then one city gets a new HR role holder, and the next tick
works that city's sends out again (the generated follow-ups already answer
June, so nobody is owed a card and no send goes out: what is measured is
the tick's own work). Prints wall and CPU seconds per tick and saves them as
build/bench/round_tick.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import data  # noqa: E402
from bench.turns import PG_DEFAULT  # noqa: E402
from bot.adapter import create_adapter  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.proactive import Sender  # noqa: E402
from bot.round_runner import RoundRunner  # noqa: E402
from bot.services import Services  # noqa: E402
from core.model import Role  # noqa: E402
from storage.db import make_engine  # noqa: E402

OPENS = date(2025, 6, 2)
OUT = ROOT / "build" / "bench" / "round_tick.json"


def measure(database: str, ticks: int, work: Path, pg_base: str) -> list[dict[str, Any]]:
    url = data.large_database(database, work, pg_base)
    engine = make_engine(url)
    adapter, _auth = create_adapter(Settings(database_url="sqlite://"), storage=None)
    runner = RoundRunner(engine, Sender(adapter, None, global_rate=1000))
    rows = []

    def tick(label: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        result = asyncio.run(runner.tick(OPENS))
        rows.append(
            {
                "database": database,
                "tick": label,
                "opened": len(result.opened),
                "recorded": result.recorded,
                "wall_s": round(time.perf_counter() - wall, 3),
                "cpu_s": round(time.process_time() - cpu, 3),
            }
        )
        print(
            f"{database:<11}{label:<28}{rows[-1]['opened']:>7}{result.recorded:>9}"
            f"{rows[-1]['wall_s']:>9.2f}{rows[-1]['cpu_s']:>8.2f}",
            flush=True,
        )

    try:
        tick("first (opens the rounds)")
        for i in range(1, ticks):
            tick(f"{i + 1}: nothing changed")
        Services(engine, org="malmo").grant_role(None, "bench-hr-lead", Role.HR, "FSKN")
        tick("a grant in one city")
    finally:
        engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--ticks", type=int, default=3, help="ticks before the new HR lead")
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    print(f"{'db':<11}{'tick':<28}{'opened':>7}{'recorded':>9}{'wall s':>9}{'cpu s':>8}")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kbench-tick-") as folder:
        work = Path(folder)
        try:
            for database in args.databases.split(","):
                rows += measure(database.strip(), args.ticks, work, args.pg_url)
        finally:
            data.drop_working_copies(work, args.pg_url if "postgresql" in args.databases else None)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "round_tick",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()},
        "results": rows,
    }
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"saved {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
