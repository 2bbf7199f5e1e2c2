"""Every `# type: ignore` in our code says why, on its line (issue 18: "every
`# type: ignore` has its reason or goes"). mypy (`ignore-without-code`) makes each
name its error code; this test makes each give its reason after it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "storage", "bot", "dialogs", "cli", "tests", "bench")
BARE = re.compile(r"#\s*type:\s*ignore(\[[^\]]*\])?\s*$")


def test_every_type_ignore_gives_its_reason() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if BARE.search(line)
    ]
    assert not bare, (
        "a # type: ignore without its reason after it (… # type: ignore[code]  # why): " + ", ".join(bare)
    )
