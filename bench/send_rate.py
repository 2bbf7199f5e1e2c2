"""The follow-up round's sending rate: a June round to 2 000 people, sent by
the round runner (bot/round_runner.py, the same code as `kompetensbot
followup tick`) through the proactive sender, against the local stand-in for
the Teams connector service that enforces the limits with 429 + Retry-After
(tests/http/harness.py: ThrottlingConnectorStub, here in a process of its
own, as the real service would be). The figure is the rate of messages the
stand-in accepted, as a share of the rate it allows (the tenant's limit: every
person is in one tenant and gets one card, so the 7/s per conversation never
binds). Goal: 90 %.

`--rate` is the budget per tenant (KOMPETENSBOT_SEND_RATE) and the stand-in's
limit. On PostgreSQL the sender books every send's slot in the database's
shared send budget (bot.tenant_budget: what several processes share), so the
figure includes that booking, one statement a send; on SQLite it waits for its
own bucket, as one process there always does. One process either way: several
processes and tenants are another benchmark's.

    .venv/bin/python bench/send_rate.py [--recipients 2000] [--rate 30]
        [--in-flight 1] [--scenarios clean,503,429+503] [--database-url URL]

Scenarios: `clean` (no injected faults), `503` (every 20th request that
passes the limits answered 503), `429+503` (the first send to 2 % of the
people answered 429 with Retry-After 1 s, and the 503s). Every scenario
checks that each person got exactly one card. Writes build/bench/send_rate.json.
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
import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from bot.adapter import create_adapter  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.proactive import Sender  # noqa: E402
from bot.round_runner import RoundRunner  # noqa: E402
from bot.round_services import RoundServices  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.http.connector_process import ConnectorProcess  # noqa: E402
from tests.integration.round_population import ORG, PERIOD, conversation_name, populate, recipient_name  # noqa: E402

OPENS = date(2025, 6, 2)
OUT = Path(__file__).resolve().parent.parent / "build" / "bench" / "send_rate.json"
SCENARIOS = {
    "clean": {"fail_every": 0, "throttled_share": 0.0},
    "503": {"fail_every": 20, "throttled_share": 0.0},
    "429+503": {"fail_every": 20, "throttled_share": 0.02},
}


# --- one scenario -------------------------------------------------------------------


def fresh_database(url: str | None) -> tuple[str, Any]:
    """A migrated empty database, and how to drop it."""
    if url and url.startswith("postgres"):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in url else "?"

        def drop() -> None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

        return f"{url}{separator}options=-csearch_path%3D{schema}", drop
    folder = tempfile.mkdtemp(prefix="send-rate-")
    return f"sqlite:///{folder}/bench.db", lambda: None


def run_scenario(name: str, args: argparse.Namespace) -> dict[str, Any]:
    spec = SCENARIOS[name]
    n = args.recipients
    step = int(1 / spec["throttled_share"]) if spec["throttled_share"] else 0
    throttled = [recipient_name(i) for i in range(3, n, step)] if step else []
    stub = ConnectorProcess(
        per_conversation_rate=7,
        global_rate=args.rate,  # the same limit the sender is configured for
        retry_after=1,
        fail_every=spec["fail_every"],
        script={conversation_name(r): [(429, {"Retry-After": "1"})] for r in throttled},
    )
    url, drop = fresh_database(args.database_url)
    engine = make_engine(url)
    try:
        upgrade(engine)
        population = populate(engine, stub.url, n)
        RoundServices(engine, org=ORG).open(None, PERIOD)
        adapter, _auth = create_adapter(Settings(database_url=url), storage=None)
        sender = Sender(adapter, None, global_rate=args.rate, database=engine)  # shared on PostgreSQL
        runner = RoundRunner(engine, sender, in_flight=args.in_flight)
        cpu, wall = time.process_time(), time.perf_counter()
        result = asyncio.run(runner.tick(OPENS))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        sends = [(a["time"], a["conversation_id"]) for a in stub.call("send_log")]
        answers = [(t, status) for t, _method, _path, status in stub.call("answer_log")]
        max_in_window = stub.call("max_in_window")
    finally:
        stub.stop()
        engine.dispose()
        drop()
    per_conversation = Counter(c for _t, c in sends)
    expected = {population.conversation(r) for r in population.recipients}
    exactly_once = set(per_conversation) == expected and set(per_conversation.values()) == {1}
    times = sorted(t for t, _c in sends)
    window = times[-1] - times[0]
    rate = (len(times) - 1) / window if window > 0 else 0.0
    in_window = [s for t, s in answers if times[0] <= t <= times[-1]]
    statuses = Counter(s for _t, s in answers)
    return {
        "scenario": name,
        "recipients": n,
        "in_flight": args.in_flight,
        "allowed_per_s": args.rate,
        "delivered": len(sends),
        "exactly_once": exactly_once,
        "outcomes": dict(result.outcomes),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "send_window_s": round(window, 2),
        "delivered_per_s": round(rate, 2),
        "share_of_allowed": round(rate / args.rate, 4),
        "requests_per_s": round((len(in_window) - 1) / window, 2) if window > 0 else 0.0,
        "tick_s": round(wall, 2),
        "cpu_ms_per_send": round(1000 * cpu / max(1, len(sends)), 2),
        "max_accepted_in_1s": max_in_window,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument(
        "--rate",
        type=float,
        default=30.0,
        help="the send budget per tenant and the stand-in's limit (default 30/s)",
    )
    parser.add_argument("--in-flight", type=int, default=1)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--database-url", help="default: a fresh SQLite file; PostgreSQL: a fresh schema")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    logging.disable(logging.ERROR)  # the SDK logs one ERROR line per refused request
    results = []
    for name in args.scenarios.split(","):
        print(f"{name}: {args.recipients} recipients at {args.rate:g}/s ...", file=sys.stderr, flush=True)
        results.append(run_scenario(name.strip(), args))
    header = (
        f"{'scenario':<9}{'sent':>6}{'once':>6}{'429':>5}{'503':>5}{'window s':>10}"
        f"{'sent/s':>8}{'allowed':>9}{'share':>7}{'req/s':>7}{'tick s':>8}{'cpu ms':>8}"
    )
    print(header)
    for r in results:
        print(
            f"{r['scenario']:<9}{r['delivered']:>6}{'yes' if r['exactly_once'] else 'NO':>6}"
            f"{r['statuses'].get('429', 0):>5}{r['statuses'].get('503', 0):>5}{r['send_window_s']:>10.1f}"
            f"{r['delivered_per_s']:>8.2f}{r['allowed_per_s']:>9g}{r['share_of_allowed']:>7.1%}"
            f"{r['requests_per_s']:>7.2f}{r['tick_s']:>8.1f}{r['cpu_ms_per_send']:>8.2f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "send_rate",
        "database": "postgresql" if (args.database_url or "").startswith("postgres") else "sqlite",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()},
        "goal_share": 0.9,
        "results": results,
    }
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"saved {args.out}")
    if not all(r["exactly_once"] for r in results):
        sys.exit("some recipient did not get exactly one card")


if __name__ == "__main__":
    main()
