"""How many chat messages the bot understands right: the share of each corpus.

    .venv/bin/python bench/understanding.py [--show tuning|heldback] [--corpus FILE …]

Reads the corpora of labelled messages (one JSON object per line: the text, who wrote it,
the intent and every slot it must yield; the keys are described in tests/corpus/README.md):

- tests/corpus/understanding.jsonl: the tuning corpus, which `make test` holds at 100 %
  (tests/dialogs/test_corpus.py); it grows with every message found misread;
- bench/heldback_messages.jsonl: the held-back corpus, written before the grammar by someone
  who had seen only the README and the roles, and never used to tune it.

"Understood right" means the right intent with every slot right (units, own, city,
measures, year, figure, filter, together, terms, english, the second question's intent, and for
a question about competence needs what it asks: `needs`, and the id of the one need it names:
`need`, keys only such rows carry).
Each message is understood on the Malmö 2025 example's units and measures on its date,
5 June 2025. Prints the share per corpus and per intent; `--show` lists the misread ones
of the tuning corpus (or of a corpus given with `--corpus`) with what differed; the held-back
corpus is measured, never shown, so that it stays out of the tuning.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.model import Measure, Unit  # noqa: E402
from core.vocabulary import Intent  # noqa: E402
from dialogs.understanding import Understanding, understand  # noqa: E402
from storage.examples import read_example  # noqa: E402

TUNING = ROOT / "tests" / "corpus" / "understanding.jsonl"
HELDBACK = ROOT / "bench" / "heldback_messages.jsonl"
TODAY = date(2025, 6, 5)
KEYS = (
    "text",
    "role",
    "intent",
    "units",
    "own",
    "city",
    "measures",
    "year",
    "figure",
    "filter",
    "together",
    "terms",
    "english",
    "also",
)


def example() -> tuple[list[Unit], list[Measure]]:
    data = read_example("malmo-2025")
    units = [Unit(u["code"], u["name"], tuple(u.get("aliases", ()))) for u in data["units"]]
    measures = [
        Measure(i, m["title"], tuple(m["units"]), m["year"]) for i, m in enumerate(data["measures"], 1)
    ]
    return units, measures


def read_corpus(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        missing = [k for k in KEYS if k not in row]
        if missing:
            raise ValueError(f"{path.name}:{number}: saknar {', '.join(missing)}")
        rows.append(row)
    return rows


def _intent_label(intent: Intent) -> str:
    return intent.value


def labels(heard: Understanding) -> dict[str, Any]:
    """What the understanding yields, in the corpus's terms."""
    intent = _intent_label(heard.intent)
    filter_ = heard.filter
    return {
        "intent": intent,
        "units": sorted(heard.unit_codes),
        "own": heard.own,
        "city": heard.whole_fund,
        "measures": sorted(heard.measure_ids),
        "year": heard.year,
        "figure": heard.figure.value if heard.figure is not None and intent == "remaining" else None,
        "filter": filter_.value if filter_ is not None and intent == "status" else None,
        "together": heard.together,
        "terms": sorted(heard.terms) if intent == "glossary" else [],
        "english": heard.english,
        "also": _intent_label(heard.also.intent) if heard.also is not None else None,
        "needs": heard.needs.value if heard.needs is not None and intent == "needs" else None,
        "need": (heard.need or None) if intent == "needs" else None,
    }


def expected(row: dict[str, Any]) -> dict[str, Any]:
    """A corpus row's labels, compared as `labels` gives them."""
    intent = row["intent"]
    return {
        "intent": intent,
        "units": sorted(row["units"]),
        "own": bool(row["own"]),
        "city": bool(row["city"]),
        "measures": sorted(row["measures"]),
        "year": row["year"],
        "figure": (row["figure"] or "kvar") if intent == "remaining" else None,
        "filter": row["filter"] if intent == "status" else None,
        "together": bool(row["together"]),
        "terms": sorted(row["terms"]) if intent == "glossary" else [],
        "english": bool(row["english"]),
        "also": row["also"],
        "needs": row.get("needs") if intent == "needs" else None,
        "need": row.get("need") if intent == "needs" else None,
    }


@dataclass(frozen=True, slots=True)
class Miss:
    row: dict[str, Any]
    got: dict[str, Any]
    differs: tuple[str, ...]

    def line(self) -> str:
        want = expected(self.row)
        parts = ", ".join(f"{k}: {self.got[k]!r} ≠ {want[k]!r}" for k in self.differs)
        return f"{self.row['text']!r} ({self.row['role']}): {parts}"


def misses(rows: Iterable[dict[str, Any]], units: Sequence[Unit], measures: Sequence[Measure]) -> list[Miss]:
    found = []
    for row in rows:
        got = labels(understand(row["text"], units, measures, TODAY))
        want = expected(row)
        differs = tuple(k for k in want if got[k] != want[k])
        if differs:
            found.append(Miss(row, got, differs))
    return found


def report(name: str, rows: list[dict[str, Any]], units: list[Unit], measures: list[Measure]) -> list[Miss]:
    started = time.perf_counter()
    missed = misses(rows, units, measures)
    elapsed = time.perf_counter() - started
    right = len(rows) - len(missed)
    print(f"{name}: {right}/{len(rows)} understood right = {100 * right / max(len(rows), 1):.1f} %")
    by_intent = Counter(r["intent"] for r in rows)
    wrong = Counter(m.row["intent"] for m in missed)
    slots = Counter(k for m in missed for k in m.differs)
    print(
        "  per intent: "
        + ", ".join(f"{k} {by_intent[k] - wrong[k]}/{by_intent[k]}" for k in sorted(by_intent))
    )
    if slots:
        print("  what differed: " + ", ".join(f"{k} {n}" for k, n in slots.most_common()))
    print(f"  {1000 * elapsed / max(len(rows), 1):.2f} ms a message (understanding only)")
    return missed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--show", choices=("tuning", "heldback"), help="list the misread messages of a corpus"
    )
    parser.add_argument("--corpus", type=Path, action="append", help="another corpus file (JSONL) to measure")
    args = parser.parse_args(argv)
    units, measures = example()
    corpora = {"tuning": TUNING, "heldback": HELDBACK}
    for extra in args.corpus or ():
        corpora[extra.stem] = extra
    for name, path in corpora.items():
        if not path.exists():
            print(f"{name}: {path} saknas")
            continue
        missed = report(name, read_corpus(path), units, measures)
        if args.show == name and name != "heldback":
            for miss in missed:
                print("   ", miss.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
