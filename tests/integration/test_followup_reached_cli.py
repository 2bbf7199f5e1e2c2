"""Issue 21 on the command line: `followup add --reached` reads how many people a measure has
reached through the one follow-up parser (refused as the chat and the card refuse it, nothing
written), and `followup status --json` and `followup export` show it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.integration.test_cli import YRKES, Kb, city, kb, loaded_example, refused  # noqa: F401,F811
from tests.integration.test_followup_cli import _add, _latest


def test_followup_add_takes_people_reached_and_refuses_a_bad_number(city: str, kb: Kb) -> None:  # noqa: F811
    line = refused(
        kb,
        city,
        "followup",
        "add",
        "--measure",
        YRKES,
        "--period",
        "2025-09",
        "--status",
        "Pågående",
        "--spent",
        "1 mkr",
        "--forecast",
        "4 mkr",
        "--reached",
        "1,5",
    )
    assert 'Antalet personer som insatsen nått ska vara ett heltal, inte "1,5".' in line
    assert '"12 personer"' in line
    saved = _add(kb, "--reached", "12 personer")
    assert saved.code == 0, saved.err
    assert _latest(city).reached == 12
    assert _add(kb, spent="2 mkr").code == 0  # left out: none given
    assert _latest(city).reached is None


def test_followup_status_and_export_show_people_reached(
    city: str,  # noqa: F811
    kb: Kb,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KOMPETENSBOT_TODAY", "2025-06-10")  # answered inside the round, known by its end
    assert kb("followup", "open", "--period", "2025-06", "--as-of", "2025-05-20").code == 0
    assert _add(kb, "--reached", "37", period="2025-06").code == 0
    status = kb("followup", "status", "--period", "2025-06", "--as-of", "2025-06-30", "--json").json()
    measures = {m["title"]: m for m in status["measures"]}
    assert measures[YRKES]["reached"] == 37
    assert {m["reached"] for t, m in measures.items() if t != YRKES} == {None}
    assert kb("followup", "export", "--period", "2025-06", "--out", str(tmp_path / "r.csv")).code == 0
    with (tmp_path / "r.csv").open(encoding="utf-8-sig") as f:
        rows = {r["Insats"]: r for r in csv.DictReader(f, delimiter=";")}
    assert rows[YRKES]["Personer nådda"] == "37"
    assert {r["Personer nådda"] for t, r in rows.items() if t != YRKES} == {""}
