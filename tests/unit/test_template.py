"""The committees' template, as the core reads it."""

from __future__ import annotations

from datetime import date

from core.template import parse_rows
from tests.unit.builders import malmo_small


def row(**cells: str) -> dict[str, str]:
    return {"Nämnd": "", "Insats": "", **cells}


def test_the_same_measure_and_unit_twice_is_reported_not_added_up() -> None:
    ledger = malmo_small().ledger
    rows = [
        row(**{"Nämnd": "GVN", "Insats": "Mentorskap", "Beviljat belopp": "1 mkr"}),
        row(**{"Nämnd": "gymnasiet", "Insats": "mentorskap", "Beviljat belopp": "1 mkr"}),
    ]
    planned, errors = parse_rows(rows, ledger, date(2025, 3, 1), 2025)
    assert [(e.row, e.column) for e in errors] == [(3, "Nämnd")]
    assert "rad 2" in errors[0].message
    assert planned[0].grants == {"GVN": 1_000_000}


def test_a_full_committee_name_with_och_is_one_unit() -> None:
    ledger = malmo_small().ledger
    rows = [row(**{"Nämnd": "Gymnasie- och vuxenutbildningsnämnden", "Insats": "X"})]
    planned, errors = parse_rows(rows, ledger, date(2025, 3, 1), 2025)
    assert errors == [] and planned[0].measure.units == ("GVN",)
