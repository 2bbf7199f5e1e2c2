"""`kompetensbot followup open | tick | status | close | export`: the
follow-up round from the command line (and from cron, for `tick`)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

from bot import clock
from bot.round_services import RoundServices
from core.dates import format_date, format_period, parse_date, parse_period
from core.errors import input_error
from core.money import format_amount
from core.round_report import RoundReport
from core.rounds import MeasureState, Round
from storage.db import make_engine
from storage.templates import append_xlsx_row, csv_cell

COMMANDS = ("open", "tick", "status", "close", "export")


def add_parsers(fu_sub: Any, common: Callable[..., None], as_of_type: Callable[[str], date]) -> None:
    op = fu_sub.add_parser("open", help="öppna en uppföljningsomgång (standard: juni, svenska arbetsdagar)")
    op.add_argument("--period", required=True, help="t.ex. 2025-06 eller 2025-12")
    op.add_argument("--opens", help="öppningsdag (standard: första arbetsdagen i månaden)")
    op.add_argument("--deadline", help="sista dag (juni: sista arbetsdagen före midsommarafton)")
    op.add_argument("--reminder-after", type=int, default=5, help="påminnelse efter så många arbetsdagar")
    op.add_argument(
        "--reminder-before", type=int, default=1, help="påminnelse så många arbetsdagar före sista dag"
    )
    op.add_argument("--no-reminders", action="store_true", help="inga påminnelser")
    common(op, as_of=True)

    tk = fu_sub.add_parser("tick", help="skicka det som omgångarna ska skicka i dag (för cron)")
    tk.add_argument("--as-of", type=as_of_type, default=None, help="dagens datum, t.ex. 2025-06-10")
    tk.add_argument("--no-auto-open", action="store_true", help="öppna inte juni- och decemberomgångar själv")

    st = fu_sub.add_parser("status", help="svarsfrekvens, pengar, risker och omfördelningsförslag")
    st.add_argument("--period", required=True)
    st.add_argument("--json", action="store_true")
    common(st, as_of=True)

    cl = fu_sub.add_parser("close", help="stäng en omgång: inga fler utskick eller svar")
    cl.add_argument("--period", required=True)
    common(cl)

    ex = fu_sub.add_parser("export", help="omgångens resultat som XLSX eller CSV (personalredovisningen)")
    ex.add_argument("--period", required=True)
    ex.add_argument("--out", type=Path, required=True, help="filen att skriva: .xlsx eller .csv")
    common(ex, as_of=True)


def run(args: argparse.Namespace, out: TextIO) -> int:
    as_of: date = getattr(args, "as_of", None) or clock.today()
    user = getattr(args, "user", None)
    engine = make_engine()
    services = RoundServices(engine, org=args.org, clock=clock.clock_for(clock.settings_today()))
    command = args.followup_command
    if command == "open":
        round_ = services.open(
            user,
            args.period,
            opens=parse_date(args.opens, as_of, field="--opens") if args.opens else None,
            deadline=parse_date(args.deadline, as_of, field="--deadline") if args.deadline else None,
            reminder_after=None if args.no_reminders else args.reminder_after,
            reminder_before=None if args.no_reminders else args.reminder_before,
        )
        print(round_text(round_, as_of), file=out)
        report = services.report(user, round_.period, max(as_of, round_.plan.opens))
        print("\n".join(["", *coverage_lines(report)]), file=out)
        return 0
    if command == "close":
        round_, closed = services.close(user, parse_period(args.period))
        if closed:
            name = format_period(round_.period)
            print(f"Uppföljningen {name} är stängd: inga fler utskick eller svar.", file=out)
        else:
            print(f"Uppföljningen {format_period(round_.period)} var redan stängd.", file=out)
        return 0
    if command == "status":
        report = services.report(user, parse_period(args.period), as_of)
        sends = services.sends(parse_period(args.period))
        if args.json:
            print(json.dumps(report_json(report, sends), ensure_ascii=False, indent=2), file=out)
        else:
            print(report_text(report, sends), file=out)
        return 0
    if command == "export":
        report = services.report(user, parse_period(args.period), as_of)
        write_export(report, args.out, services.display_names())
        print(f"Skrev {args.out} ({len(report.measures)} insatser).", file=out)
        return 0
    if command == "tick":
        result = asyncio.run(_tick(engine, as_of, auto_open=not args.no_auto_open))
        for opened in result.opened:
            print(f"Öppnade uppföljningsomgången {opened}.", file=out)
            slug, period = opened.rsplit(" ", 1)
            report = RoundServices(engine, org=slug).report(None, period, as_of)
            print("\n".join(coverage_lines(report)), file=out)
        o = result.outcomes
        print(
            f"Nya utskick att göra: {result.recorded}. Skickade: {o['sent']}, "
            f"redan besvarade: {o['skipped']}, "
            f"misslyckade: {o['failed']}, onåbara: {o['unreachable']}, försöks igen senare: {o['retry']}, "
            f"kort uppdaterade som besvarade: {result.cards_updated}.",
            file=out,
        )
        if result.possibly_repeated:
            print(
                f"Obs: {result.possibly_repeated} utskick kan ha skickats två gånger "
                "(en tidigare körning avbröts mitt i).",
                file=out,
            )
        return 0
    raise input_error("unknown_command", f"Okänt kommando {command}.")


async def _tick(engine: Any, as_of: date, *, auto_open: bool) -> Any:
    from bot.adapter import create_adapter
    from bot.config import Settings
    from bot.proactive import Sender
    from bot.round_runner import RoundRunner

    settings = Settings.from_env()
    adapter, _ = create_adapter(settings, storage=None)
    sender = Sender(adapter, settings.client_id, global_rate=settings.send_rate)
    runner = RoundRunner(
        engine,
        sender,
        auto_open=auto_open,
        in_flight=settings.round_in_flight,
        lease=timedelta(seconds=settings.round_lease_seconds),
    )
    return await runner.tick(as_of)


# --- output -----------------------------------------------------------------


def round_text(round_: Round, as_of: date) -> str:
    p = round_.plan
    reminders = ", ".join(format_date(d) for d in p.reminders) or "inga"
    return "\n".join(
        [
            f"Uppföljningen {format_period(p.period)} ({p.period}): {round_.phase(as_of).value}.",
            f"  Öppnar:        {format_date(p.opens)}",
            f"  Sista dag:     {format_date(p.deadline)}",
            f"  Påminnelser:   {reminders}",
            f"  Eskalering:    {format_date(p.escalate_on)}",
        ]
    )


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def coverage_lines(report: RoundReport) -> list[str]:
    """Every measure of the round accounted for (issue 17 item 13): answered,
    asked and not answered, or with nobody to ask, and the units of those."""
    total = len(report.measures)
    answered = report.count(MeasureState.ANSWERED)
    waiting = report.count(MeasureState.NOT_ANSWERED)
    nobody = report.count(MeasureState.NO_RECIPIENT)
    lines = [
        f"Insatser i omgången: {total} ({answered} besvarade, {waiting} tillfrågade utan svar, "
        f"{nobody} utan mottagare och utan svar).",
    ]
    without = report.no_recipient
    if not without:
        lines.append(f"Alla {total} insatser har någon att fråga (ansvarig eller nämndens HR).")
        return lines
    units = report.no_recipient_units
    done = report.no_recipient_answered  # the same basis as the chat's (dialogs.texts.round_status)
    lines.append(
        f"Ingen mottagare för {len(without)} av {total} insatser"
        + (f" (varav {done} redan besvarade)" if done else "")
        + f", i {_count(len(units), 'nämnd', 'nämnder')}"
        + ": ingen ansvarig och ingen med rollen hr för nämnden, så inget kort skickas för dem."
    )
    names = {u.code: u.name for u in report.units}
    for code, n in sorted(units.items(), key=lambda item: (names.get(item[0], item[0]).casefold(), item[0])):
        lines.append(f"  - {names.get(code, code)} ({code}): {_count(n, 'insats', 'insatser')}")
    if sum(units.values()) > len(without):
        lines.append("  (En gemensam insats räknas i var och en av sina nämnder.)")
    lines.append(
        "  Ge nämndens HR rollen: kompetensbot roles grant <AAD-objekt-id> hr --unit KOD "
        "(eller ange en ansvarig för insatsen)."
    )
    return lines


def _send_counts(sends: Sequence[Any]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for s in sends:
        counts.setdefault(s.kind.value, {}).setdefault(s.state, 0)
        counts[s.kind.value][s.state] += 1
    return counts


KIND_NAMES = {
    "prompt": "kort",
    "reminder-1": "påminnelse 1",
    "reminder-2": "påminnelse 2",
    "reminder-3": "påminnelse 3",
    "escalation": "eskalering",
}
STATE_NAMES = {
    "pending": "väntar",
    "claimed": "skickas",
    "sent": "skickade",
    "failed": "misslyckade",
    "unreachable": "onåbara",
    "skipped": "behövdes inte",
}


def report_text(report: RoundReport, sends: Sequence[Any]) -> str:
    kr = format_amount
    r = report.round
    lines = [round_text(r, report.as_of), ""]
    lines.append(
        f"Svar: {report.people_answered}; {sum(m.answered for m in report.measures)} av "
        f"{len(report.measures)} insatser."
    )
    lines += coverage_lines(report)
    for kind, states in _send_counts(sends).items():
        parts = ", ".join(f"{STATE_NAMES.get(s, s)} {n}" for s, n in sorted(states.items()))
        lines.append(f"  Utskick {KIND_NAMES.get(kind, kind)}: {parts}")
    problems = [s for s in sends if s.state in ("failed", "unreachable")]
    for s in problems[:20]:
        lines.append(f"  - {s.recipient}: {STATE_NAMES[s.state]} ({s.reason})")
    repeated = [s for s in sends if s.possibly_repeated]
    if repeated:
        lines.append(f"  {len(repeated)} utskick kan ha skickats två gånger (avbruten körning).")
    lines += ["", "Per nämnd:"]
    header = ("Nämnd", GRANTED, "Utfall", "Prognos", "Outnyttjat", "Svar")
    rows = [header] + [
        (u.name, kr(u.allocated), kr(u.spent), kr(u.forecast), kr(u.unused), f"{u.answered}/{u.measures}")
        for u in report.units
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        lines.append(
            "  " + "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row))
        )
    lines.append(f"  Outnyttjat enligt prognoserna: {kr(report.unused)}")
    lines.append(
        f"  {GRANTED}: summan av nämndens insatser i omgången (nämndens tilldelning: kompetensbot funds)."
    )
    lines += ["", f"Insatser med risk ({len(report.at_risk)}):"]
    for m in report.at_risk:
        lines.append(f"  - {m.title} ({', '.join(m.units)}, id {m.measure_id}): {', '.join(m.risks)}")
    titles = {m.measure_id: m.title for m in report.measures}
    lines += ["", f"Förslag till omfördelning ({len(report.proposals)}):"]
    for p in report.proposals:
        lines.append(
            f"  - {kr(p.amount)} från {titles.get(p.from_measure, p.from_measure)} (id {p.from_measure}) "
            f"till {titles.get(p.to_measure, p.to_measure)} (id {p.to_measure})"
            + (" inom samma nämnd" if p.same_unit else "")
        )
    if report.proposals:
        lines.append(
            "  KSAU beslutar med: kompetensbot reallocate --from ID --to ID --amount BELOPP "
            '--decision "KSAU ÅÅÅÅ-MM-DD § N"'
        )
    return "\n".join(lines)


def report_json(report: RoundReport, sends: Sequence[Any]) -> dict[str, Any]:
    p = report.round.plan
    return {
        "period": p.period,
        "phase": report.round.phase(report.as_of).value,
        "as_of": report.as_of.isoformat(),
        "opens": p.opens.isoformat(),
        "deadline": p.deadline.isoformat(),
        "reminders": [d.isoformat() for d in p.reminders],
        "escalate_on": p.escalate_on.isoformat(),
        "recipients": report.recipients,
        "answered_recipients": report.answered_recipients,
        "response_rate": round(report.response_rate, 4),
        "sends": _send_counts(sends),
        "possibly_repeated": sum(s.possibly_repeated for s in sends),
        "unreachable": [
            {"recipient": s.recipient, "kind": s.kind.value, "state": s.state, "reason": s.reason}
            for s in sends
            if s.state in ("failed", "unreachable")
        ],
        "units": [
            {
                "code": u.code,
                "name": u.name,
                "granted_to_measures": u.allocated,
                "spent": u.spent,
                "forecast": u.forecast,
                "unused": u.unused,
                "measures": u.measures,
                "answered": u.answered,
            }
            for u in report.units
        ],
        "unused": report.unused,
        "measures_answered": report.count(MeasureState.ANSWERED),
        "measures_not_answered": report.count(MeasureState.NOT_ANSWERED),
        "measures_no_recipient": report.count(MeasureState.NO_RECIPIENT),
        "no_recipient": {
            "measures": len(report.no_recipient),
            "answered": sum(m.answered for m in report.no_recipient),
            "units": [{"code": code, "measures": n} for code, n in report.no_recipient_units.items()],
        },
        "committees": [
            {
                "code": g.unit,
                "not_answered": len(g.not_answered),
                "no_recipient": len(g.no_recipient),
                "asked": len(g.asked),
                "late": len(g.late),
            }
            for g in report.committees
        ],
        "measures": [
            {
                "id": m.measure_id,
                "title": m.title,
                "units": list(m.units),
                "allocated": m.allocated,
                "spent": m.spent,
                "forecast": m.forecast,
                "answered": m.answered,
                "status": m.status.value,
                "usable_as_planned": m.usable_as_planned,
                "risks": list(m.risks),
                "state": m.state.value,
                "asked": list(m.asked),
            }
            for m in report.measures
        ],
        "late": [{"recipient": person, "measures": list(mids)} for person, mids in report.late],
        "proposals": [
            {"from": x.from_measure, "to": x.to_measure, "amount": x.amount, "same_unit": x.same_unit}
            for x in report.proposals
        ],
    }


GRANTED = "Beviljat till insatser"
"""A unit's column in the round's report: the sum of its measures' money, not the unit's
allocation (`kompetensbot funds`' "Tilldelat")."""

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
                m.author,
                m.state.value,
                ", ".join(_person(p, names) for p in m.asked),
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
            rows.append([unit, gap.unit, names.get(person, ""), person, "; ".join(mine)])
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


def write_export(report: RoundReport, path: Path, names: dict[str, str] | None = None) -> None:
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise input_error("bad_export_format", f'Filen "{path.name}" ska sluta på .xlsx eller .csv.', "--out")
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = export_rows(report, names)
    if suffix == ".csv":
        tmp = path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="", encoding="utf-8-sig") as f:
            writer = csv.writer(f, delimiter=";")
            writer.writerow(EXPORT_HEADER)
            writer.writerows([csv_cell(c) for c in row] for row in rows)
        os.replace(tmp, path)
        return
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = f"Uppföljning {report.round.period}"
    ws.append(list(EXPORT_HEADER))
    for row in rows:
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
    tmp = path.with_suffix(".xlsx.tmp")
    wb.save(tmp)
    os.replace(tmp, path)
