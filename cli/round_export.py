"""The round's results as a file (`kompetensbot followup export`): XLSX with a sheet per
view (measures, units, missing answers, proposals; storage.round_export, which the
bot's file in the chat shares) or CSV of the measures (the personnel report). Cells
are written through storage.templates, which neutralises formulas."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from cli import texts
from core.errors import input_error
from core.round_report import RoundReport
from storage.round_export import EXPORT_HEADER, LATE_HEADER, export_rows, late_rows, round_xlsx
from storage.templates import csv_cell

__all__ = ["EXPORT_HEADER", "LATE_HEADER", "export_rows", "late_rows", "write_export"]


def write_export(report: RoundReport, path: Path, names: dict[str, str] | None = None) -> None:
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise input_error("bad_export_format", texts.bad_export_format(path.name), "--out")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        rows = export_rows(report, names)
        tmp = path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="", encoding="utf-8-sig") as f:
            writer = csv.writer(f, delimiter=";")
            writer.writerow(EXPORT_HEADER)
            writer.writerows([csv_cell(c) for c in row] for row in rows)
        os.replace(tmp, path)
        return
    tmp = path.with_suffix(".xlsx.tmp")
    tmp.write_bytes(round_xlsx(report, names))
    os.replace(tmp, path)
