"""A June round sent by several `kompetensbot serve` processes on one PostgreSQL
database (issue 23): the send rate per Teams tenant against the budget
(KOMPETENSBOT_SEND_RATE, per tenant), the 429s, the CPU per send, and the
round's tick of every city.

    .venv/bin/python bench/multi_process.py [--scenarios two-tenants,killed,290-cities]
        [--recipients 1000] [--processes 3] [--per-city 10] [--pg-url URL]

The servers (tests/http/bot_fleet.py) run `kompetensbot serve --anonymous` with
KOMPETENSBOT_TODAY on the June round's first day, so their own tick opens the
round; the connector stand-in (tests/http/harness.py: ThrottlingConnectorStub,
in a process of its own) enforces Teams' limits, 50 requests a second per app
and tenant and 7 per conversation, with 429 + Retry-After beyond them, and
records every card it accepts with its tenant and the time.

- `two-tenants`: Malmö and Lund (the 2025 example each, two tenants); once the
  servers are up and have opened the round, `--recipients` new HR recipients in
  each city, owed their card at the next tick. Sends a second per tenant over
  that tenant's send window (first to last card), as a share of the budget
  (goal: at least 90 %), and in total; 429s; the most cards a tenant got in any
  one second; everyone exactly once; the servers' CPU seconds (/proc) during
  the round per card sent; how the cards were spread over the processes.
- `killed`: the same servers, `--recipients` more in each city; when a third of
  them have their card, one process is SIGKILLed. The rates before and after,
  how many cards were sent twice (at most the killed process's in flight,
  taken again after the lease, `--lease-seconds`) and whether they say so.
- `290-cities`: the large data (bench/data.py: 290 cities, each its own tenant
  tenant-<slug>, 14 units, 560 measures), in which two measures of one unit per
  city lack their June answer, and `--per-city` HR recipients in that unit
  per city; fresh servers open the 290 rounds and send. Each tenant's budget
  is not the limit here (a handful of cards per tenant): what the rate is
  bound by is the processes themselves (one send in flight each,
  KOMPETENSBOT_ROUND_IN_FLIGHT, on this machine's two cores).

In every scenario the `ticked city <slug>` lines (logger kompetensbot.rounds)
of all the servers are counted in `--quiet-periods` tick periods after the
round: each city should be ticked once per period (not once per process), and
each process's passes over its cities are timed (first to last line of a
pass). Writes build/bench/multi_process.json; the servers' logs are under
build/bench/multi_process-logs/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, text  # noqa: E402

from bench import data  # noqa: E402
from bench.turns import PG_DEFAULT  # noqa: E402
from storage.db import make_engine  # noqa: E402
from tests.http.bot_fleet import (  # noqa: E402
    CITIES,
    FleetServer,
    add_recipients,
    fresh_database,
    load_cities,
    owner_of_port,
    start_fleet,
    stop_fleet,
    tick_lines,
    wait_until_open,
    wait_until_sent,
)
from tests.http.connector_process import ConnectorProcess  # noqa: E402
from tests.http.harness import most_in_window  # noqa: E402
from tests.integration.round_population import populate  # noqa: E402

OPENS = "2025-06-02"  # the June round's first day
OUT = ROOT / "build" / "bench" / "multi_process.json"
LOGS = ROOT / "build" / "bench" / "multi_process-logs"
GOAL = 0.9
DEFAULT_BUDGET = 30.0  # KOMPETENSBOT_SEND_RATE's default, per tenant


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- what was measured ----------------------------------------------------------------------


def rate(times: list[float]) -> float:
    span = max(times) - min(times) if len(times) > 1 else 0.0
    return (len(times) - 1) / span if span > 0 else 0.0


def per_tenant(sends: list[dict[str, Any]], budget: float) -> dict[str, dict[str, Any]]:
    times: dict[str, list[float]] = defaultdict(list)
    for a in sends:
        times[a["tenant"]].append(a["time"])
    return {
        tenant: {
            "sent": len(ts),
            "window_s": round(max(ts) - min(ts), 2),
            "per_s": round(rate(ts), 2),
            "share_of_budget": round(rate(ts) / budget, 4),
            "most_in_1s": most_in_window(ts),
        }
        for tenant, ts in sorted(times.items())
    }


def totals(sends: list[dict[str, Any]]) -> dict[str, Any]:
    times = [a["time"] for a in sends]
    return {
        "sent": len(times),
        "window_s": round(max(times) - min(times), 2) if times else 0.0,
        "per_s": round(rate(times), 2) if times else 0.0,
    }


def spread(sends: list[dict[str, Any]], servers: list[FleetServer]) -> dict[str, int]:
    """Cards per server, by the client port each came from (a killed server's: "killed")."""
    owners: dict[int | None, str] = {}
    counts: Counter[str] = Counter()
    for a in sends:
        port = a["peer"]
        if port not in owners:
            owner = owner_of_port(port, servers) if port else None
            owners[port] = f"server {owner.number}" if owner else "killed or closed"
        counts[owners[port]] += 1
    return dict(sorted(counts.items()))


def cpu(servers: list[FleetServer]) -> float:
    return sum(s.cpu_seconds() for s in servers)


def ticks(
    servers: list[FleetServer], cities: list[str], start: float, periods: int, tick: float
) -> dict[str, Any]:
    """Each city's `ticked city` lines in `periods` tick periods from `start`,
    and each server's passes (lines less than half a period apart)."""
    end = start + periods * tick
    lines = [line for line in tick_lines(servers) if start < line[0] <= end]
    per_city = Counter(city for _at, _n, city in lines)
    counts = [per_city.get(c, 0) for c in cities]
    passes: list[tuple[int, float, int]] = []  # (server, seconds, cities)
    for server in servers:
        mine = [at for at, n, _city in lines if n == server.number]
        first = previous = None
        size = 0
        for at in mine + [float("inf")]:
            if previous is not None and at - previous > tick / 2:
                assert first is not None
                passes.append((server.number, previous - first, size))
                first, size = None, 0
            if at == float("inf"):
                break
            first = at if first is None else first
            previous = at
            size += 1
    return {
        "periods": periods,
        "tick_s": tick,
        "lines": len(lines),
        "per_city_min": min(counts) if counts else 0,
        "per_city_median": statistics.median(counts) if counts else 0,
        "per_city_max": max(counts) if counts else 0,
        "cities_never_ticked": sum(1 for n in counts if n == 0),
        "cities_ticked_more_than_once_per_period": sum(1 for n in counts if n > periods + 1),
        "lines_per_server": dict(sorted(Counter(f"server {n}" for _at, n, _c in lines).items())),
        "pass_s_median": round(statistics.median(p[1] for p in passes), 3) if passes else None,
        "pass_s_max": round(max(p[1] for p in passes), 3) if passes else None,
        "cities_per_pass_median": statistics.median(p[2] for p in passes) if passes else None,
    }


def exactly_once(sends: list[dict[str, Any]], expected: set[str]) -> dict[str, Any]:
    counts = Counter(a["conversation_id"] for a in sends)
    twice = sorted(c for c, n in counts.items() if n > 1)
    return {
        "missing": len(expected - set(counts)),
        "more_than_once": len(twice),
        "more_than_once_marked": sum(
            1 for c in twice if any(a["repeat_marked"] for a in sends if a["conversation_id"] == c)
        ),
        "exactly_once": not twice and set(counts) == expected,
    }


# --- the scenarios --------------------------------------------------------------------------


def server_env(args: argparse.Namespace, tick: float) -> dict[str, str]:
    env = {
        "KOMPETENSBOT_TODAY": OPENS,
        "KOMPETENSBOT_TICK_SECONDS": f"{tick:g}",
        "KOMPETENSBOT_AUTO_ROUNDS": "1",
        "KOMPETENSBOT_ROUND_LEASE_SECONDS": f"{args.lease_seconds:g}",
    }
    if args.rate is not None:
        env["KOMPETENSBOT_SEND_RATE"] = f"{args.rate:g}"
    if args.in_flight is not None:
        env["KOMPETENSBOT_ROUND_IN_FLIGHT"] = str(args.in_flight)
    return env


def wave(
    name: str,
    args: argparse.Namespace,
    url: str,
    stub: ConnectorProcess,
    servers: list[FleetServer],
    number: int,
    kill_after: float | None = None,
) -> dict[str, Any]:
    """`args.recipients` new recipients per city, sent by the running servers."""
    budget = args.rate or DEFAULT_BUDGET
    before = len(stub.call("throttled_log"))
    started = time.monotonic()
    populations = add_recipients(url, stub.url, args.recipients, wave=number)
    expected = {p.conversation(r) for p in populations.values() for r in p.recipients}
    recipients = [r for p in populations.values() for r in p.recipients]
    cpu_before = cpu(servers)
    killed: FleetServer | None = None
    if kill_after is not None:
        while killed is None:
            sent = sum(1 for a in stub.call("send_log") if a["conversation_id"] in expected)
            if sent >= kill_after * len(expected):
                killed = servers[0]
                killed.kill()
                say(f"  killed server 0 after {sent} cards")
            elif time.monotonic() - started > 600:
                raise RuntimeError("the wave did not get going")
            time.sleep(0.05)
    done = wait_until_sent(url, recipients, servers, timeout=1800)
    cpu_after = cpu(servers)
    sends = [a for a in stub.call("send_log") if a["conversation_id"] in expected]
    result: dict[str, Any] = {
        "scenario": name,
        "processes": len(servers),
        "recipients": len(expected),
        "budget_per_tenant_per_s": budget,
        "per_tenant": per_tenant(sends, budget),
        "total": totals(sends),
        "throttled_429": len(stub.call("throttled_log")) - before,
        "delivery": exactly_once(sends, expected),
        "round_s": round(done - started, 2),
        "cpu_s": round(cpu_after - cpu_before, 2),
        "cpu_ms_per_send": round(1000 * (cpu_after - cpu_before) / max(1, len(sends)), 2),
        "cards_per_process": spread(sends, servers),
    }
    if killed is not None:
        assert killed.killed_at is not None
        cut = killed.killed_at
        # The killed process's claimed sends wait for the lease; then another process
        # takes them over (marked possibly repeated in round_sends).
        over = taken_over(url, recipients)
        later = {a["conversation_id"] for a in sends if a["conversation_id"].removeprefix("a:1on1-") in over}
        result["killed"] = {
            "server": killed.number,
            "before": per_tenant([a for a in sends if a["time"] <= cut], budget),
            "after_without_taken_over": per_tenant(
                [a for a in sends if a["time"] > cut and a["conversation_id"] not in later], budget
            ),
            "lease_s": args.lease_seconds,
            "taken_over_after_lease": len(over),
            "taken_over_cards_s_after_kill": sorted(
                round(a["time"] - cut, 2) for a in sends if a["conversation_id"] in later and a["time"] > cut
            ),
        }
    cities = [slug for slug, *_ in CITIES]
    say(f"  sent; watching {args.quiet_periods} tick periods")
    time.sleep(args.quiet_periods * args.tick_seconds + 0.5)
    result["ticks"] = ticks(
        [s for s in servers if s is not killed], cities, done, args.quiet_periods, args.tick_seconds
    )
    return result


def taken_over(url: str, recipients: list[str]) -> set[str]:
    """Those of `recipients` whose send another process took over after a lease."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT recipient FROM round_sends WHERE possibly_repeated AND recipient IN :r"
                ).bindparams(bindparam("r", expanding=True)),
                {"r": recipients},
            ).all()
        return {r[0] for r in rows}
    finally:
        engine.dispose()


def two_tenants(args: argparse.Namespace, scenarios: list[str]) -> list[dict[str, Any]]:
    results = []
    with (
        ConnectorProcess(per_conversation_rate=7, global_rate=None, tenant_rate=args.tenant_limit) as stub,
        fresh_database(args.pg_url, prefix="kmulti") as url,
    ):
        load_cities(url)
        servers = start_fleet(args.processes, url, server_env(args, args.tick_seconds), LOGS / "two-tenants")
        try:
            wait_until_open(url, len(CITIES), servers)
            if "two-tenants" in scenarios:
                say(f"two-tenants: {args.recipients} recipients in each of {len(CITIES)} tenants ...")
                results.append(wave("two-tenants", args, url, stub, servers, 0))
            if "killed" in scenarios:
                say(f"killed: {args.recipients} more in each tenant, one process killed at a third ...")
                results.append(wave("killed", args, url, stub, servers, 1, kill_after=1 / 3))
        finally:
            stop_fleet(servers)
    return results


DELETE_JUNE_ANSWERS = text(
    """
    WITH first_unit AS (SELECT org_id, min(code) AS code FROM units GROUP BY org_id),
    candidates AS (
        SELECT m.id, m.org_id, row_number() OVER (PARTITION BY m.org_id ORDER BY m.id) AS n
        FROM measures m JOIN first_unit u ON u.org_id = m.org_id AND m.units = u.code
        WHERE m.year = 2025
          AND EXISTS (SELECT 1 FROM ledger_entries e WHERE e.measure_id = m.id AND e.amount > 0)
          AND EXISTS (SELECT 1 FROM followups f WHERE f.measure_id = m.id AND f.period = '2025-06')
    )
    DELETE FROM followups
    WHERE period = '2025-06' AND measure_id IN (SELECT id FROM candidates WHERE n <= :measures)
    """
)
FIRST_UNITS = text(
    "SELECT o.slug, min(u.code), t.tenant_id FROM organisations o JOIN units u ON u.org_id = o.id "
    "JOIN tenants t ON t.org_id = o.id GROUP BY o.id, o.slug, t.tenant_id ORDER BY o.id"
)


def large(args: argparse.Namespace) -> dict[str, Any]:
    """The 290-city round (see the module)."""
    with tempfile.TemporaryDirectory(prefix="kbench-multi-") as folder:
        say("290-cities: the large data (generated once, about a minute) ...")
        url = data.large_database("postgresql", Path(folder), args.pg_url, log=say)
        try:
            with ConnectorProcess(
                per_conversation_rate=7, global_rate=None, tenant_rate=args.tenant_limit
            ) as stub:
                return _large_round(args, url, stub)
        finally:
            data.drop_working_copies(Path(folder), args.pg_url)


def _large_round(args: argparse.Namespace, url: str, stub: ConnectorProcess) -> dict[str, Any]:
    engine = make_engine(url, pool_size=2)
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # the append-only triggers
            deleted = conn.execute(DELETE_JUNE_ANSWERS, {"measures": 2}).rowcount
            cities = [tuple(r) for r in conn.execute(FIRST_UNITS).all()]
        expected: set[str] = set()
        for number, (slug, unit, tenant) in enumerate(cities):
            population = populate(
                engine,
                f"{stub.url}{tenant}/",
                args.per_city,
                load=False,
                first=100_000 + 1_000 * number,
                org=slug,
                tenant=tenant,
                units=[unit],
            )
            expected |= {population.conversation(r) for r in population.recipients}
    finally:
        engine.dispose()
    say(f"  {len(cities)} cities, {deleted} June answers taken away, {len(expected)} recipients")
    tick = args.large_tick_seconds
    servers = start_fleet(args.processes, url, server_env(args, tick), LOGS / "290-cities")
    try:
        started = time.monotonic()
        cpu_before = cpu(servers)
        wait_until_open(url, len(cities), servers, timeout=1800)
        opened = time.monotonic()
        cpu_opened = cpu(servers)
        say(f"  {len(cities)} rounds open after {opened - started:.1f} s; sending ...")
        recipients = [c.removeprefix("a:1on1-") for c in expected]
        done = wait_until_sent(url, recipients, servers, timeout=3600)
        cpu_after = cpu(servers)
        sends = stub.call("send_log")
        card_spread = spread(sends, servers)
        say(f"  sent; watching {args.quiet_periods} tick periods of {tick:g} s")
        cpu_quiet = cpu(servers)
        time.sleep(args.quiet_periods * tick + 0.5)
        cpu_quiet = cpu(servers) - cpu_quiet
        tenants = per_tenant(sends, args.rate or DEFAULT_BUDGET)
        return {
            "scenario": "290-cities",
            "processes": len(servers),
            "cities": len(cities),
            "recipients": len(expected),
            "budget_per_tenant_per_s": args.rate or DEFAULT_BUDGET,
            "total": totals(sends),
            "most_in_1s_any_tenant": max(t["most_in_1s"] for t in tenants.values()),
            "throttled_429": len(stub.call("throttled_log")),
            "delivery": exactly_once(sends, expected),
            "rounds_open_s": round(opened - started, 2),
            "round_s": round(done - started, 2),
            "cpu_s": round(cpu_after - cpu_before, 2),
            "cpu_ms_per_send_with_opening": round(1000 * (cpu_after - cpu_before) / max(1, len(sends)), 2),
            "cpu_s_until_open": round(cpu_opened - cpu_before, 2),
            # after the last round opened (sends under way already count as opening)
            "cpu_ms_per_send_after_open": round(1000 * (cpu_after - cpu_opened) / max(1, len(sends)), 2),
            "cards_per_process": card_spread,
            "ticks": ticks(servers, [c[0] for c in cities], done, args.quiet_periods, tick),
            "quiet_cpu_s_per_period": round(cpu_quiet / args.quiet_periods, 3),
        }
    finally:
        stop_fleet(servers)


# --- the report -----------------------------------------------------------------------------


def show(results: list[dict[str, Any]]) -> None:
    print(
        f"{'scenario':<12}{'tenant':<15}{'sent':>6}{'window s':>10}{'sent/s':>8}"
        f"{'budget':>8}{'share':>8}{'max 1s':>8}"
    )
    for r in results:
        for tenant, t in r.get("per_tenant", {}).items():
            print(
                f"{r['scenario']:<12}{tenant:<15}{t['sent']:>6}{t['window_s']:>10.1f}{t['per_s']:>8.1f}"
                f"{r['budget_per_tenant_per_s']:>8g}{t['share_of_budget']:>8.1%}{t['most_in_1s']:>8}"
            )
        total = r["total"]
        print(
            f"{r['scenario']:<12}{'all':<15}{total['sent']:>6}{total['window_s']:>10.1f}{total['per_s']:>8.1f}"
        )
        d = r["delivery"]
        cpu_ms = r.get("cpu_ms_per_send", r.get("cpu_ms_per_send_with_opening"))
        t = r["ticks"]
        print(
            f"    429: {r['throttled_429']}; exactly once: {'yes' if d['exactly_once'] else 'no'} "
            f"(missing {d['missing']}, twice {d['more_than_once']}, "
            f"of them marked {d['more_than_once_marked']}); "
            f"CPU {cpu_ms} ms a card; cards per process {r['cards_per_process']}"
        )
        print(
            f"    ticks in {t['periods']} periods of {t['tick_s']:g} s: per city {t['per_city_min']}–"
            f"{t['per_city_max']} (median {t['per_city_median']}), never {t['cities_never_ticked']}, "
            f"too often {t['cities_ticked_more_than_once_per_period']}; pass {t['pass_s_median']} s "
            f"(max {t['pass_s_max']}), {t['cities_per_pass_median']} cities a pass"
        )
        if "killed" in r:
            k = r["killed"]
            before = {name: v["per_s"] for name, v in k["before"].items()}
            after = {name: v["per_s"] for name, v in k["after_without_taken_over"].items()}
            print(
                f"    killed server {k['server']}: sent/s before {before}, after {after}; "
                f"{k['taken_over_after_lease']} sends taken over after the {k['lease_s']:g} s lease, "
                f"their cards {k['taken_over_cards_s_after_kill']} s after the kill"
            )
        if r["scenario"] == "290-cities":
            print(
                f"    {r['cities']} rounds open after {r['rounds_open_s']} s, "
                f"all sent after {r['round_s']} s; CPU until open {r['cpu_s_until_open']} s, "
                f"after it {r['cpu_ms_per_send_after_open']} ms a card; "
                f"most cards to one tenant in 1 s: {r['most_in_1s_any_tenant']}; "
                f"fleet CPU per quiet tick period: {r['quiet_cpu_s_per_period']} s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default="two-tenants,killed,290-cities")
    parser.add_argument("--recipients", type=int, default=1000, help="per city and wave (at most 1000)")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--rate", type=float, help="KOMPETENSBOT_SEND_RATE (default: the bot's own, 30/s)")
    parser.add_argument(
        "--tenant-limit", type=float, default=50.0, help="the stand-in's limit per app and tenant"
    )
    parser.add_argument(
        "--in-flight", type=int, help="KOMPETENSBOT_ROUND_IN_FLIGHT (default: the bot's own, 1)"
    )
    parser.add_argument("--tick-seconds", type=float, default=2.0)
    parser.add_argument(
        "--large-tick-seconds", type=float, default=10.0, help="the tick period for 290 cities"
    )
    parser.add_argument("--quiet-periods", type=int, default=3, help="tick periods watched after a round")
    parser.add_argument("--lease-seconds", type=float, default=10.0, help="KOMPETENSBOT_ROUND_LEASE_SECONDS")
    parser.add_argument("--per-city", type=int, default=10, help="recipients per city in 290-cities")
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    scenarios = [s.strip() for s in args.scenarios.split(",")]
    load = os.getloadavg()
    results: list[dict[str, Any]] = []
    if {"two-tenants", "killed"} & set(scenarios):
        results += two_tenants(args, scenarios)
    if "290-cities" in scenarios:
        results.append(large(args))
    show(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "multi_process",
        "database": "postgresql",
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_before": load,
            "load_after": os.getloadavg(),
        },
        "goal_share_of_budget": GOAL,
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "results": results,
    }
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"saved {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
