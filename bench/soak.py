"""A soak: `kompetensbot serve` under steady mixed load for minutes, watched
for what a short benchmark cannot show: memory, open files, threads and
database connections that grow, latency that drifts, turns that fail.

    .venv/bin/python bench/soak.py [--database sqlite|postgresql] [--minutes 10]
        [--conversations 12] [--rate 100] [--window 30] [--scenarios remaining,status,submit]

The server (its own process, the round tick and the housekeeping on, as in
production) gets the 2025 example. A third of the conversations ask what is
left, a third ask for a measure's status, a third go through the whole
submit-a-measure dialog again and again (each saving a measure), all paced:
`--rate` turns a second in all, out of step with each other (`--scenarios
remaining,status` leaves the dialog out, and the data does not grow). Every
window prints the turns, p50/p99, failed turns, the server's resident memory, open
file descriptors, threads and (PostgreSQL) connections, and the replies the
connector stand-in received. At the end: each measure the dialogs saved is in
the database once, and the growth of memory from the second window to the
last. Saved as build/bench/soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import data, loadgen  # noqa: E402
from bench.turns import (  # noqa: E402
    PG_DEFAULT,
    SCENARIOS,
    conversations,
    cpu_seconds,
    grant_roles,
    kompetensbot_server,
    python_server,
)

OUT = ROOT / "build" / "bench" / "soak.json"
KINDS = ("remaining", "status", "submit")
STEPS = {
    **SCENARIOS,
    # 10 kr a measure, not the bench's 1 000 kr: the example's unit has money
    # for 1 500 of those, which ten minutes of dialogs use up.
    "submit": [
        replace(step, text="10 kr")
        if step.text == "1 000 kr"
        else replace(step, expect="10 kr")
        if step is SCENARIOS["submit"][-1]
        else step
        for step in SCENARIOS["submit"]
    ],
}


def process_figures(pid: int) -> dict[str, Any]:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {
        "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1),
        "threads": int(fields["Threads"]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "cpu_s": round(cpu_seconds(pid), 2),
    }


def pg_connections(url: str) -> int | None:
    if not url.startswith("postgresql"):
        return None
    import psycopg

    database = url.rsplit("/", 1)[1]
    with psycopg.connect(data._libpq(PG_DEFAULT), autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)).fetchone()
    return int(row[0]) if row else None


def saved_measures(url: str) -> tuple[int, int]:
    """(measures the soak's dialogs saved, distinct titles among them)."""
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT title) FROM measures "
                    "WHERE title LIKE 'Mentorskap för nya chefer %'"
                )
            ).one()
    finally:
        engine.dispose()
    return int(row[0]), int(row[1])


async def window(
    server_url: str, stub_url: str, groups: dict[str, Any], seconds: float, interval: float
) -> dict[str, Any]:
    """One window of every group at once; the groups' iterations carry on
    from where the last window left them (new measure titles each time)."""
    runs = await asyncio.gather(
        *(
            loadgen.run(
                server_url,
                stub_url,
                convs,
                STEPS[kind],
                seconds=seconds,
                warmup=0,
                interval=interval,
                first_iteration=groups[kind]["iteration"],
            )
            for kind, convs in ((k, g["conversations"]) for k, g in groups.items())
        )
    )
    figures: dict[str, Any] = {}
    latencies: list[float] = []
    for (kind, group), result in zip(groups.items(), runs, strict=True):
        group["iteration"] = result.next_iteration
        figures[f"{kind}_turns"] = result.turns
        latencies += result.latencies_ms
        figures.setdefault("failed", 0)
        figures["failed"] += result.errors
    ordered = loadgen.Result(len(latencies), seconds, latencies)
    figures.update(
        turns=len(latencies),
        turns_per_s=round(len(latencies) / seconds, 1),
        p50_ms=round(ordered.percentile(50), 1),
        p99_ms=round(ordered.percentile(99), 1),
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--conversations", type=int, default=12)
    parser.add_argument("--rate", type=float, default=100.0, help="turns a second offered, in all")
    parser.add_argument("--window", type=float, default=30.0, help="seconds per reported window")
    parser.add_argument("--scenarios", default=",".join(KINDS), help="the conversations' kinds, equal shares")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.scenarios.split(",") if k.strip() in KINDS]

    interval = args.conversations / args.rate
    per_kind = max(1, args.conversations // len(kinds))
    with tempfile.TemporaryDirectory(prefix="kbench-soak-") as folder:
        work = Path(folder)
        url = data.example_database(args.database, work, PG_DEFAULT)
        users = [f"soak-user-{i}" for i in range(per_kind * len(kinds))]
        grant_roles(url, users)
        stub = python_server("connector", "connector.py", Path(sys.executable), work).start()
        server = kompetensbot_server("kompetensbot", url, work)
        server.env.update(KOMPETENSBOT_TICK_SECONDS="5")  # the round tick on, every 5 s
        server.start()
        rows: list[dict[str, Any]] = []
        try:
            groups = {  # every conversation with a person of its own
                kind: {
                    "conversations": [
                        loadgen.Conversation(c.id, users[offset * per_kind + i], c.tenant)
                        for i, c in enumerate(conversations(f"soak-{kind}", per_kind, "example"))
                    ],
                    "iteration": 0,
                }
                for offset, kind in enumerate(kinds)
            }
            stub_url = stub.url + "/"
            started = time.monotonic()
            print(
                f"{'min':>5}{'turns':>7}{'turns/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'failed':>7}{'replies':>9}"
                f"{'rss MB':>8}{'fds':>5}{'thr':>5}{'pg conn':>8}",
                flush=True,
            )
            while time.monotonic() - started < args.minutes * 60:
                before = asyncio.run(loadgen.stats(stub_url))["replies"]
                figures = asyncio.run(window(server.url, stub_url, groups, args.window, interval))
                assert server.process is not None
                figures.update(process_figures(server.process.pid))
                figures["pg_connections"] = pg_connections(url)
                figures["replies"] = asyncio.run(loadgen.stats(stub_url))["replies"] - before
                figures["minute"] = round((time.monotonic() - started) / 60, 1)
                rows.append(figures)
                print(
                    f"{figures['minute']:>5}{figures['turns']:>7}{figures['turns_per_s']:>9}"
                    f"{figures['p50_ms']:>8}{figures['p99_ms']:>8}{figures['failed']:>7}{figures['replies']:>9}"
                    f"{figures['rss_mb']:>8}{figures['fds']:>5}{figures['threads']:>5}"
                    f"{figures['pg_connections'] if figures['pg_connections'] is not None else '-':>8}",
                    flush=True,
                )
            saved, distinct = saved_measures(url)
        finally:
            server.stop()
            stub.stop()
            data.drop_working_copies(work, PG_DEFAULT if args.database == "postgresql" else None)

    steady = rows[1:] or rows
    growth = steady[-1]["rss_mb"] - steady[0]["rss_mb"]
    minutes = max(steady[-1]["minute"] - steady[0]["minute"], 1e-9)
    summary = {
        "turns": sum(r["turns"] for r in rows),
        "failed": sum(r["failed"] for r in rows),
        "measures_saved": saved,
        "measures_saved_twice": saved - distinct,
        "rss_mb_first": steady[0]["rss_mb"],
        "rss_mb_last": steady[-1]["rss_mb"],
        "rss_mb_per_minute": round(growth / minutes, 2),
        "fds_max": max(r["fds"] for r in rows),
        "threads_max": max(r["threads"] for r in rows),
        "p99_ms_median": statistics.median(r["p99_ms"] for r in rows),
    }
    print(
        f"\n{summary['turns']} turns, {summary['failed']} failed; {saved} measures saved by the dialogs, "
        f"{summary['measures_saved_twice']} twice; memory {summary['rss_mb_first']} -> "
        f"{summary['rss_mb_last']} MB from the second window to the last "
        f"({summary['rss_mb_per_minute']} MB a minute)"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "soak",
        "settings": vars(args),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()},
        "windows": rows,
        "summary": summary,
    }
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"saved {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
