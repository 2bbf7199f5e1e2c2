"""The corpus of chat messages (tests/corpus/understanding.jsonl): each is understood right,
the right kind of question with every slot right, on the Malmö 2025 example on 5 June 2025.
A message found misread is added there with what it must yield (tests/corpus/README.md);
bench/understanding.py prints the share of this corpus and of the held-back one."""

from __future__ import annotations

from typing import Any

import pytest

from bench.understanding import TODAY, TUNING, example, expected, labels, read_corpus
from dialogs.understanding import understand

ROWS = read_corpus(TUNING)
UNITS, MEASURES = example()


def test_the_corpus_is_large_and_from_every_role() -> None:
    assert len(ROWS) >= 400
    assert {r["role"] for r in ROWS} == {"chef-gvn", "hr-fskn", "hr-gsn", "stadskontoret", "ksau"}
    assert len({r["text"] for r in ROWS}) == len(ROWS), "a message is in the corpus twice"


@pytest.mark.parametrize("row", ROWS, ids=[r["text"][:60] for r in ROWS])
def test_understood_right(row: dict[str, Any]) -> None:
    got = labels(understand(row["text"], UNITS, MEASURES, TODAY))
    want = expected(row)
    assert {k: got[k] for k in want if got[k] != want[k]} == {}, {
        k: want[k] for k in want if got[k] != want[k]
    }
