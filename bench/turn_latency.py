"""How long a real turn takes: `kompetensbot serve` in its own process, the
2025 example, real Bot Framework activities over HTTP, replies received by a
local connector stand-in. Sequential turns (one conversation), so the figure
is latency, not throughput; the throughput benchmark is a later issue.

    .venv/bin/python bench/turn_latency.py [--turns 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.data_services import load_example  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.http.harness import activity, running  # noqa: E402

QUESTIONS = {
    "remaining": "Hur mycket finns kvar för förskolenämnden?",
    "status": "status Yrkeslärarsatsning",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    load_example(engine, "malmo-2025")
    results = {}
    with running(url) as (server, stub):
        for name, text in QUESTIONS.items():
            timings = []
            for _ in range(args.turns):
                body = activity(text, service_url=stub.url, conversation_id=f"bench-{name}")
                start = time.perf_counter()
                status, _ = server.post(body)
                timings.append((time.perf_counter() - start) * 1000)
                assert status in (200, 202), status
            timings.sort()
            results[name] = {
                "turns": len(timings),
                "p50_ms": round(statistics.median(timings), 1),
                "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 1),
                "max_ms": round(timings[-1], 1),
            }
    print(f"{'scenario':<12}{'turns':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, r in results.items():
        print(f"{name:<12}{r['turns']:>7}{r['p50_ms']:>9}{r['p99_ms']:>9}{r['max_ms']:>9}")
    out = Path("build/bench/turn_latency.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"database": url.split(":")[0], "results": results}, indent=2))


if __name__ == "__main__":
    main()
