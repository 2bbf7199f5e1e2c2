"""The round's results as an XLSX workbook (`kompetensbot followup export`, and the
bot's file in the chat): a sheet per view (measures, units, missing answers,
proposals). Cells are written through storage.templates.append_xlsx_row, which
neutralises formulas. The CSV of the measures (cli.round_export) takes the same rows."""

from __future__ import annotations

from typing import Any

from core.round_report import RoundReport
from core.rounds import with_substitute
from storage.templates import append_xlsx_row, xlsx_bytes

GRANTED = "Beviljat till insatser"
"""A committee's money in the round: the sum of its measures' grants (not its allocation)."""

EXPORT_HEADER = (
    "Nämnd",
    "Insats",
    "Id",
    "Tilldelat (kr)",
    "Utfall (kr)",
    "Prognos (kr)",
    "Outnyttjat (kr)",
    "Status",
    "Kan användas som planerat",
    "Svarat",
    "Risk",
    "Kommentar",
    "Rapporterad av",
    "Läge",
    "Tillfrågade",
    "Personer nådda",
)


def _person(person: str, names: dict[str, str]) -> str:
    name = names.get(person)
    return f"{name} ({person})" if name and name != person else person


def export_rows(report: RoundReport, names: dict[str, str] | None = None) -> list[list[Any]]:
    names = names or {}
    rows: list[list[Any]] = []
    for m in report.measures:
        usable = "" if m.usable_as_planned is None else ("Ja" if m.usable_as_planned else "Nej")
        rows.append(
            [
                ", ".join(m.units),
                m.title,
                m.measure_id,
                m.allocated,
                m.spent,
                m.forecast,
                m.unused,
                m.status.value,
                usable,
                "Ja" if m.answered else "Nej",
                ", ".join(m.risks),
                m.note,
                m.given_by,  # issue 22: "Per Persson för Anna Andersson" for a substitute's answer
                m.state.value,
                ", ".join(_person(p, names) for p in m.asked),
                "" if m.reached is None else m.reached,
            ]
        )
    return rows


LATE_HEADER = ("Nämnd", "Kod", "Person", "Id", "Obesvarade insatser")


def late_rows(report: RoundReport, names: dict[str, str] | None = None) -> list[list[Any]]:
    """Who has not answered, per committee: one row per person and committee,
    and one row for the measures that nobody could be asked about."""
    names = names or {}
    titles = {m.measure_id: m.title for m in report.measures}
    unit_names = {u.code: u.name for u in report.units}
    cards = dict(report.late)
    rows: list[list[Any]] = []
    for gap in report.committees:
        unit = unit_names.get(gap.unit, gap.unit)
        for person in gap.late:
            mine = [titles.get(m, str(m)) for m in cards.get(person, ()) if m in gap.not_answered]
            substitute = report.away.get(person, "")  # issue 22: "Anna Andersson (ersättare: Per Persson)"
            shown = with_substitute(names.get(person, ""), names.get(substitute, substitute))
            rows.append([unit, gap.unit, shown, person, "; ".join(mine)])
        if gap.no_recipient:
            rows.append(
                [
                    unit,
                    gap.unit,
                    "(ingen mottagare)",
                    "",
                    "; ".join(titles.get(m, str(m)) for m in gap.no_recipient),
                ]
            )
    return rows


def round_xlsx(report: RoundReport, names: dict[str, str] | None = None) -> bytes:
    """The round's workbook as the bytes of an XLSX file."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.worksheets[0]  # the new workbook's one sheet (wb.active, typed as possibly none)
    ws.title = f"Uppföljning {report.round.period}"
    ws.append(list(EXPORT_HEADER))
    for row in export_rows(report, names):
        append_xlsx_row(ws, row)
    units = wb.create_sheet("Per nämnd")
    units.append(
        ["Nämnd", f"{GRANTED} (kr)", "Utfall (kr)", "Prognos (kr)", "Outnyttjat (kr)", "Insatser", "Svar"]
    )
    for u in report.units:
        append_xlsx_row(units, [u.name, u.allocated, u.spent, u.forecast, u.unused, u.measures, u.answered])
    late = wb.create_sheet("Saknade svar")
    late.append(list(LATE_HEADER))
    for row in late_rows(report, names):
        append_xlsx_row(late, row)
    proposals = wb.create_sheet("Omfördelningsförslag")
    proposals.append(["Från insats (id)", "Till insats (id)", "Belopp (kr)", "Inom samma nämnd"])
    for p in report.proposals:
        proposals.append([p.from_measure, p.to_measure, p.amount, "Ja" if p.same_unit else "Nej"])
    return xlsx_bytes(wb)
