"""The bundled example data sets (JSON files beside this module)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.errors import NotFound, RuleError

FOLDER = Path(__file__).parent / "examples"


def available() -> list[str]:
    return sorted(p.stem for p in FOLDER.glob("*.json"))


def read_example(name: str) -> dict[str, Any]:
    path = FOLDER / f"{name}.json"
    if not path.is_file():
        raise NotFound(
            RuleError(
                "unknown_example",
                f'Exemplet "{name}" finns inte. Tillgängliga exempel: {", ".join(available())}.',
            )
        )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
