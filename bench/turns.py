"""How fast kompetensbot answers, next to the SDKs' own echo bots.

    .venv/bin/python bench/turns.py [--quick] [--databases sqlite,postgresql]

One command: builds (or reuses) the data, starts every server in a process of
its own (`kompetensbot serve` per database and data size, the Agents SDK echo
bot, the botbuilder 4.17.1 echo bot in build/bench-venv-botbuilder, which it
creates when missing) and the connector stand-in, then drives them from this
process with real Bot Framework activities. Prints a table and saves every
measurement as JSON under build/bench/. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import data, loadgen  # noqa: E402
from bench.loadgen import Conversation, Step  # noqa: E402
from tests.http.harness import free_port, stop_process, wait_until_up  # noqa: E402

BOTBUILDER_VENV = ROOT / "build" / "bench-venv-botbuilder"
BOTBUILDER = ("botbuilder-core==4.17.1", "botbuilder-integration-aiohttp==4.17.1")
OUT = ROOT / "build" / "bench"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"

REMAINING = "Hur mycket finns kvar för förskolenämnden?"
SCENARIOS: dict[str, list[Step]] = {
    "remaining": [Step(REMAINING, "15 000 000 kr")],
    "status": [Step("status Yrkeslärarsatsning", "Yrkeslärarsatsning")],
    "submit": [
        Step("ny insats", "Vilken nämnd"),
        Step("Förskolenämnden", "Vad heter insatsen"),
        Step("Mentorskap för nya chefer {conversation} {n}", "Beskriv insatsen"),
        Step("-", "Vilken målgrupp"),
        Step("Nya chefer", "Vilken strategikategori"),
        Step("2", "När börjar insatsen"),
        Step("1 september 2025", "När ska insatsen vara klar"),
        Step("31 december 2025", "Stämmer datumen ändå?"),  # 2025's money, a day passed by now
        Step("ja", "Vem genomför insatsen"),
        Step("Malmö Lär", "Hur mycket pengar"),
        Step("1 000 kr", "Vilket beslut"),
        Step("FSKN 2025-02-05 § 5", "Vill du spara"),
        Step("ja", "1 000 kr"),
    ],
}
ECHO = [Step(REMAINING, "Echo: ")]
CONCURRENCY = (1, 10)
PACED = (10, 0.1)
"""Besides the closed loops of CONCURRENCY: 10 conversations that each send a
message every 100 ms (100 turns/s offered, about half of what kompetensbot can
take): the latency of a bot that keeps up, where a closed loop measures one that
is saturated (its mean latency is then conversations / throughput: 10
conversations at 200 turns/s wait 50 ms on average whatever the bot does)."""
LOADS = [(count, 0.0) for count in CONCURRENCY] + [PACED]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes ----------------------------------------------------------------------


@dataclass
class Server:
    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    logfile: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        with self.logfile.open("wb") as out:
            self.process = subprocess.Popen(
                self.command, env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
            )
        wait_until_up(self.process, f"{self.url}/healthz", self.logfile, self.name, 60)
        return self

    def stop(self) -> None:
        stop_process(self.process)


def python_server(name: str, script: str, python: Path, logs: Path) -> Server:
    port = free_port()
    return Server(
        name, [str(python), str(ROOT / "bench" / script), "--port", str(port)], {}, port, logs / f"{name}.log"
    )


ROUND_TICK = "0"
"""KOMPETENSBOT_TICK_SECONDS for the servers (--round-tick): the follow-up round's
background tick is not part of a turn, so by default it is off while measuring."""


def kompetensbot_server(name: str, url: str, logs: Path) -> Server:
    port = free_port()
    exe = Path(sys.executable).parent / "kompetensbot"
    env = {"DATABASE_URL": url, "KOMPETENSBOT_TICK_SECONDS": ROUND_TICK, "KOMPETENSBOT_ANONYMOUS": "1"}
    return Server(name, [str(exe), "serve", "--port", str(port)], env, port, logs / f"{name}.log")


def ensure_botbuilder() -> Path:
    python = BOTBUILDER_VENV / "bin" / "python"
    if (
        not python.exists()
        or subprocess.run(
            [str(python), "-c", "import botbuilder.integration.aiohttp"], capture_output=True
        ).returncode
    ):
        log(f"installing botbuilder 4.17.1 into {BOTBUILDER_VENV.relative_to(ROOT)}")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(BOTBUILDER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *BOTBUILDER], check=True)
    return python


# --- data -------------------------------------------------------------------------------


def grant_roles(url: str, users: list[str]) -> None:
    """Every benchmark user holds the stadskontoret role in every city (the bots
    run without demo mode, so each turn looks up the user's roles)."""
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for user in users:
                conn.execute(
                    text(
                        "INSERT INTO role_grants (org_id, user_id, role, unit_code, granted_by, created_at) "
                        "SELECT id, CAST(:user AS VARCHAR(200)), 'stadskontoret', NULL, 'benchmark', "
                        "created_at FROM organisations "
                        "WHERE NOT EXISTS (SELECT 1 FROM role_grants g WHERE g.org_id = organisations.id "
                        "AND g.user_id = CAST(:user AS VARCHAR(200)))"
                    ),
                    {"user": user},
                )
    finally:
        engine.dispose()


def conversations(label: str, count: int, size: str) -> list[Conversation]:
    """`count` conversations, each with a user of its own; on the large data each
    in another city (spread over the 290)."""
    result = []
    for i in range(count):
        if size == "large":
            city = (i * 29) % data.CITIES
            slug = "malmo" if city == 0 else f"stad-{city:03d}"
        else:
            slug = "malmo"
        result.append(Conversation(f"{label}-{i}-{os.urandom(3).hex()}", f"bench-user-{i}", f"tenant-{slug}"))
    return result


USERS = [f"bench-user-{i}" for i in range(max(CONCURRENCY))] + ["bench-verify"]


# --- measuring --------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds() -> float:
    """User and system CPU time so far of every PostgreSQL server process on
    this machine (the connections' backends, the WAL writer, …). A process
    that exits takes its time with it: kompetensbot keeps its connections
    (storage.db.POOL_SIZE), so within a window none of its backends exit."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name))
            except OSError:  # gone meanwhile
                pass
    return total


def measure(
    server: Server,
    stub: Server,
    steps: list[Step],
    count: int,
    size: str,
    label: str,
    seconds: float,
    warmup: float,
    interval: float = 0.0,
    database: str = "-",
) -> dict[str, Any]:
    """One window; besides turns/s and latency, the bot process's CPU time per
    turn (less sensitive than turns/s to other work on a shared machine) and,
    for PostgreSQL, the database server's."""
    convs = conversations(label, count, size)
    before = asyncio.run(loadgen.stats(stub.url + "/"))["replies"]
    assert server.process is not None
    process = server.process
    database_at_start: list[float] = []

    def at_start() -> float:
        if database == "postgresql":
            database_at_start.append(database_cpu_seconds())
        return cpu_seconds(process.pid)

    result = asyncio.run(
        loadgen.run(
            server.url,
            stub.url + "/",
            convs,
            steps,
            seconds=seconds,
            warmup=warmup,
            on_measure=at_start,
            interval=interval,
        )
    )
    cpu = cpu_seconds(process.pid) - (result.cpu_at_start or 0.0)
    after = asyncio.run(loadgen.stats(stub.url + "/"))["replies"]
    summary = result.summary()
    summary["replies"] = after - before
    summary["cpu_ms_per_turn"] = round(cpu * 1000 / result.turns, 2) if result.turns else None
    summary["db_cpu_ms_per_turn"] = (
        round((database_cpu_seconds() - database_at_start[0]) * 1000 / result.turns, 2)
        if database_at_start and result.turns
        else None
    )
    return summary


def verify(server: Server, stub: Server, steps: list[Step], size: str) -> None:
    conversation = conversations(f"verify-{server.name}", 1, size)[0]
    conversation = Conversation(conversation.id, "bench-verify", conversation.tenant)
    problems = asyncio.run(loadgen.verify(server.url, stub.url + "/", conversation, steps))
    if problems:
        raise SystemExit(f"{server.name} does not answer as expected:\n  " + "\n  ".join(problems))


def first_turn_ms(server: Server, stub: Server, size: str) -> float:
    conversation = conversations(f"cold-{server.name}", 1, size)[0]
    conversation = Conversation(conversation.id, "bench-verify", conversation.tenant)
    result = asyncio.run(
        loadgen.run(
            server.url, stub.url + "/", [conversation], SCENARIOS["remaining"][:1], seconds=0.0001, warmup=0
        )
    )
    return round(result.latencies_ms[0], 2) if result.latencies_ms else float("nan")


# --- reporting ----------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def aggregate(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (bot, data, database, scenario, conversations): medians over the
    repetitions with their spread, and the ratio to the Agents SDK echo bot
    measured in the same repetition with as many conversations."""
    echo = {
        (r["rep"], r["conversations"]): r["turns_per_s"]
        for r in runs
        if r["bot"] == "echo-agents-sdk" and not r.get("offered_per_s")
    }
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in runs:
        key = (r["bot"], r["data"], r["database"], r["scenario"], r["conversations"], r.get("offered_per_s"))
        groups.setdefault(key, []).append(r)
    rows = []
    for (bot, size, database, scenario, count, offered), rs in groups.items():
        tps = [r["turns_per_s"] for r in rs]
        ratios = [  # paced: both keep up with what is offered, so no ratio
            r["turns_per_s"] / echo[(r["rep"], count)]
            for r in rs
            if not offered and echo.get((r["rep"], count))
        ]
        rows.append(
            {
                "bot": bot,
                "data": size,
                "database": database,
                "scenario": scenario,
                "conversations": count,
                "offered_per_s": offered,
                "repetitions": len(rs),
                "turns_per_s": round(_median(tps), 1),
                "turns_per_s_min": round(min(tps), 1),
                "turns_per_s_max": round(max(tps), 1),
                "p50_ms": round(_median([r["p50_ms"] for r in rs]), 2),
                "p50_ms_max": round(max(r["p50_ms"] for r in rs), 2),
                "p99_ms": round(_median([r["p99_ms"] for r in rs]), 2),
                "p99_ms_max": round(max(r["p99_ms"] for r in rs), 2),
                "cpu_ms_per_turn": round(_median([r["cpu_ms_per_turn"] or 0 for r in rs]), 2),
                "db_cpu_ms_per_turn": (
                    round(_median([r["db_cpu_ms_per_turn"] for r in rs]), 2)
                    if all(r.get("db_cpu_ms_per_turn") is not None for r in rs)
                    else None
                ),
                "ratio_to_agents_echo": round(_median(ratios), 2) if ratios else None,
                "ratio_min": round(min(ratios), 2) if ratios else None,
                "ratio_max": round(max(ratios), 2) if ratios else None,
                "errors": sum(r["errors"] for r in rs),
            }
        )
    return rows


def _load(count: int, offered_per_s: int | None) -> str:
    """ "10" (a closed loop), or "10@100/s" (paced: 100 turns/s offered)."""
    return f"{count}@{offered_per_s}/s" if offered_per_s else str(count)


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'bot':<17}{'data':<9}{'db':<11}{'scenario':<10}{'conv':>10}{'turns/s':>9}{'(min-max)':>14}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'(max)':>8}{'x echo':>8}{'(min-max)':>12}{'cpu ms':>8}{'db cpu':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        spread = f"{r['turns_per_s_min']:.0f}-{r['turns_per_s_max']:.0f}"
        ratio = f"{r['ratio_to_agents_echo']:.2f}" if r["ratio_to_agents_echo"] is not None else "-"
        ratio_spread = f"{r['ratio_min']:.2f}-{r['ratio_max']:.2f}" if r["ratio_min"] is not None else ""
        lines.append(
            f"{r['bot']:<17}{r['data']:<9}{r['database']:<11}{r['scenario']:<10}"
            f"{_load(r['conversations'], r['offered_per_s']):>10}"
            f"{r['turns_per_s']:>9.1f}{spread:>14}{r['p50_ms']:>8.1f}{r['p99_ms']:>8.1f}{r['p99_ms_max']:>8.1f}"
            f"{ratio:>8}{ratio_spread:>12}{r['cpu_ms_per_turn']:>8.2f}"
            + (f"{r['db_cpu_ms_per_turn']:>8.2f}" if r.get("db_cpu_ms_per_turn") is not None else f"{'-':>8}")
            + (f"  ERRORS {r['errors']}" if r["errors"] else "")
        )
    return "\n".join(lines)


def growth_table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'db':<11}{'factor':>7}{'ledger rows':>12}{'follow-ups':>11}{'scenario':>10}{'turns/s':>9}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'first turn':>11}{'full fold':>10}{'SQL aggr':>10}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['database']:<11}{r['factor']:>6}x{r['ledger_entries']:>12}{r['followups']:>11}{r['scenario']:>10}"
            f"{r['turns_per_s']:>9.1f}{r['p50_ms']:>8.1f}{r['p99_ms']:>8.1f}{r['first_turn_ms']:>9.1f}ms"
            f"{r['full_fold_ms']:>8.1f}ms{r['aggregate_ms']:>8.1f}ms"
        )
    return "\n".join(lines)


# --- the run ---------------------------------------------------------------------------------


def read_paths(url: str) -> dict[str, float]:
    """In this process: the old read path (every row of the city folded in Python)
    against the SQL aggregates the bot now reads, for the 2025 fund (ms, best of 3)."""
    from core.balances import fund_balance
    from storage.db import make_engine
    from storage.read_model import ReadModels
    from storage.unit_of_work import UnitOfWork

    engine = make_engine(url)
    try:

        def full() -> None:  # what every question cost before: all rows, folded in Python
            with UnitOfWork(engine, "malmo") as repo:
                fund_balance(repo.ledger(), 2025)

        def aggregated() -> None:  # a cold read model: SQL aggregates over all rows, then the fold
            fund_balance(ReadModels().snapshot(engine, "malmo").ledger, 2025)

        best: dict[str, float] = {}
        for name, fn in (("full_fold_ms", full), ("aggregate_ms", aggregated)):
            times = []
            for _ in range(3):
                started = time.perf_counter()
                fn()
                times.append((time.perf_counter() - started) * 1000)
            best[name] = round(min(times), 2)
        return best
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short windows, 2 repetitions, growth to 100x")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="example,large")
    parser.add_argument("--scenarios", default="remaining,status,submit")
    parser.add_argument("--repetitions", type=int)
    parser.add_argument("--seconds", type=float, help="measured seconds per window")
    parser.add_argument("--no-growth", action="store_true")
    parser.add_argument("--no-botbuilder", action="store_true")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("KOMPETENSBOT_BENCH_PG", PG_DEFAULT),
        help="a PostgreSQL server (its database is used to create the benchmark's own)",
    )
    parser.add_argument(
        "--round-tick",
        default="0",
        metavar="SECONDS",
        help="the servers' follow-up round tick (KOMPETENSBOT_TICK_SECONDS); default 0: off",
    )
    args = parser.parse_args()
    global ROUND_TICK
    ROUND_TICK = args.round_tick

    reps = args.repetitions or (2 if args.quick else 3)
    seconds = args.seconds or (1.5 if args.quick else 4.0)
    warmup = 0.5 if args.quick else 1.0
    factors = (1, 10, 100) if args.quick else (1, 10, 100, 1000)
    databases = [d for d in args.databases.split(",") if d]
    sizes = [s for s in args.sizes.split(",") if s]
    scenarios = [s for s in args.scenarios.split(",") if s]

    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kbench-", dir=OUT))
    logs = work / "logs"
    logs.mkdir()
    load_before = os.getloadavg()
    started_at = datetime.now(UTC)

    servers: list[Server] = []

    def start(server: Server) -> Server:
        servers.append(server)
        log(f"starting {server.name}")
        return server.start()

    runs: list[dict[str, Any]] = []
    growth: list[dict[str, Any]] = []
    try:
        stub = start(python_server("connector", "connector.py", Path(sys.executable), logs))
        echoes = [start(python_server("echo-agents-sdk", "echo_agents.py", Path(sys.executable), logs))]
        if not args.no_botbuilder:
            echoes.append(
                start(python_server("echo-botbuilder", "echo_botbuilder.py", ensure_botbuilder(), logs))
            )
        ours: list[tuple[Server, str, str]] = []
        for database in databases:
            for size in sizes:
                log(f"preparing {size} data on {database}")
                if size == "example":
                    url = data.example_database(database, work, args.pg_url)
                else:
                    url = data.large_database(database, work, args.pg_url, log)
                grant_roles(url, USERS)
                ours.append(
                    (start(kompetensbot_server(f"kompetensbot-{size}-{database}", url, logs)), size, database)
                )
        for echo in echoes:
            verify(echo, stub, ECHO, "example")
        for server, size, _database in ours:
            for scenario in scenarios:
                verify(server, stub, SCENARIOS[scenario], size)

        def record(
            bot: str, server: Server, size: str, database: str, scenario: str, steps: list[Step], rep: int
        ) -> None:
            for count, interval in LOADS:
                offered = round(count / interval) if interval else None
                summary = measure(
                    server, stub, steps, count, size, f"{scenario}-{rep}", seconds, warmup, interval, database
                )
                runs.append(
                    {
                        "bot": bot,
                        "data": size,
                        "database": database,
                        "scenario": scenario,
                        "conversations": count,
                        "offered_per_s": offered,
                        "rep": rep,
                        **summary,
                    }
                )
                errors = f"  errors {summary['errors']}" if summary["errors"] else ""
                db_cpu = summary["db_cpu_ms_per_turn"]
                log(
                    f"{bot:<16} {size:<8} {database:<10} {scenario:<9} {_load(count, offered):>9}: "
                    f"{summary['turns_per_s']:7.1f} turns/s  p50 {summary['p50_ms']:6.2f} ms  "
                    f"p99 {summary['p99_ms']:6.2f} ms  cpu {summary['cpu_ms_per_turn']} ms/turn"
                    + (f" (database {db_cpu})" if db_cpu is not None else "")
                    + errors
                )

        reads = [s for s in scenarios if s != "submit"]
        for rep in range(reps):
            for echo in echoes:
                record(echo.name, echo, "-", "-", "echo", ECHO, rep)
            for server, size, database in ours:
                for scenario in reads:
                    record("kompetensbot", server, size, database, scenario, SCENARIOS[scenario], rep)
        if "submit" in scenarios:  # it writes: after the questions, so they see the data as generated
            for rep in range(reps):
                for echo in echoes[:1]:
                    record(echo.name, echo, "-", "-", "echo", ECHO, rep + reps)
                for server, size, database in ours:
                    record("kompetensbot", server, size, database, "submit", SCENARIOS["submit"], rep + reps)
        for server, _size, _database in ours:
            server.stop()

        if not args.no_growth:
            for database in databases:
                for factor in factors:
                    url = data.grown_database(database, factor, work, args.pg_url, log)
                    grant_roles(url, USERS)
                    counts = data.counts(url)
                    paths = read_paths(url)
                    server = start(kompetensbot_server(f"kompetensbot-grown-{factor}x-{database}", url, logs))
                    cold = first_turn_ms(server, stub, "example")
                    for scenario in reads:
                        verify(server, stub, SCENARIOS[scenario], "example")
                        summary = measure(
                            server,
                            stub,
                            SCENARIOS[scenario],
                            10,
                            "example",
                            f"grown-{scenario}",
                            seconds,
                            warmup,
                        )
                        growth.append(
                            {
                                "database": database,
                                "factor": factor,
                                "ledger_entries": counts["ledger_entries"],
                                "followups": counts["followups"],
                                "scenario": scenario,
                                "first_turn_ms": cold,
                                **paths,
                                **summary,
                            }
                        )
                        log(
                            f"grown {factor:>4}x {database:<10} {scenario:<9}: {summary['turns_per_s']:7.1f} "
                            f"turns/s p50 {summary['p50_ms']:.2f} ms p99 {summary['p99_ms']:.2f} ms; "
                            "first turn "
                            f"{cold} ms; full fold {paths['full_fold_ms']} ms, SQL aggregates "
                            f"{paths['aggregate_ms']} ms"
                        )
                    server.stop()
    finally:
        for server in reversed(servers):
            server.stop()
        data.drop_working_copies(work, args.pg_url if "postgresql" in databases else None)

    rows = aggregate(runs)
    print()
    print(table(rows))
    if growth:
        print()
        print("How the cost grows (one city, 10 conversations; first turn = cold, right after start):")
        print(growth_table(growth))
    result = {
        "started_at": started_at.isoformat(),
        "command": " ".join(sys.argv),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
        "settings": {"repetitions": reps, "seconds": seconds, "warmup": warmup},
        "summary": rows,
        "growth": growth,
        "runs": runs,
    }
    stamp = started_at.strftime("%Y%m%dT%H%M%S")
    out = OUT / f"turns-{stamp}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    (OUT / "turns-latest.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(
        f"\nsaved {out.relative_to(ROOT)} (and build/bench/turns-latest.json); server logs in "
        f"{logs.relative_to(ROOT)}"
    )


if __name__ == "__main__":
    main()
