"""`make demo` serves the 2025 example on its own date with no automatic
rounds (issue 17, "Also"), and the README says so."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from bot.app import start_line
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _serve_line(*overrides: str) -> str:
    """The command `make demo` would run to start the bot (make -n: nothing runs)."""
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", "demo", *overrides],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    joined = done.stdout.replace("\\\n", " ")
    [line] = [line for line in joined.splitlines() if "kompetensbot serve" in line]
    return " ".join(line.split())


@pytest.mark.skipif(shutil.which("make") is None, reason="make saknas")
def test_make_demo_takes_the_examples_date_and_opens_no_round_unless_asked() -> None:
    """Issue 17, Also: the demo gives the README's answers on any day: the example's
    date 2025-06-05, automatic rounds off; both can be asked for otherwise."""
    line = _serve_line()
    assert line.startswith("KOMPETENSBOT_AUTO_ROUNDS=0 ")
    assert "serve --demo --today 2025-06-05" in line
    asked = _serve_line("KOMPETENSBOT_AUTO_ROUNDS=1", "DEMO_TODAY=", "SERVE_ARGS=--port 4000")
    assert asked.startswith("KOMPETENSBOT_AUTO_ROUNDS=1 ") and "--today" not in asked
    assert asked.endswith("serve --demo --port 4000")
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "The demo takes the example's own date, 5 June 2025 (`--today 2025-06-05`" in readme
    assert "`make demo KOMPETENSBOT_AUTO_ROUNDS=1` turns automatic rounds on" in readme


def test_the_start_line_says_the_date_and_whether_rounds_open_by_themselves() -> None:
    """Issue 17, Also: what `make demo` prints when the bot starts."""
    demo = Settings(database_url="sqlite://", demo=True, today=date(2025, 6, 5), auto_rounds=False)
    line = start_line(demo, ["Malmö stad (malmo)"])
    assert "today 2025-06-05, automatic rounds off" in line
    real = Settings(database_url="sqlite://", demo=True)
    assert "today the real date, automatic rounds on" in start_line(real, [])
