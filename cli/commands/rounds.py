"""`kompetensbot followup open | tick | status | close | export`: the follow-up
round from the command line (and from cron, for `tick`)."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot import clock
from bot.needs_services import NeedServices
from bot.round_services import RoundServices
from cli import needs_texts, reach_texts, texts
from cli.commands import needs as needs_commands
from cli.common import Commands, as_of_date, handles, options, today, user_of
from cli.round_export import write_export
from core.dates import parse_date, parse_period
from core.errors import DomainError
from core.round_report import RoundReport
from core.rounds import MeasureState
from dialogs.texts import proposals_sent
from storage.db import make_engine

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy import Engine

    from bot.round_runner import RoundRunner, TickResult
    from storage.tick_locks import TickLocks


def register(followup: Commands) -> None:
    """The round's commands, in the group `followup` (cli/commands/followup.py)."""
    op = followup.add_parser("open", help="öppna en uppföljningsomgång (standard: juni, svenska arbetsdagar)")
    op.add_argument("--period", required=True, help="t.ex. 2025-06 eller 2025-12")
    op.add_argument("--opens", help="öppningsdag (standard: första arbetsdagen i månaden)")
    op.add_argument("--deadline", help="sista dag (juni: sista arbetsdagen före midsommarafton)")
    op.add_argument("--reminder-after", type=int, default=5, help="påminnelse efter så många arbetsdagar")
    op.add_argument(
        "--reminder-before", type=int, default=1, help="påminnelse så många arbetsdagar före sista dag"
    )
    op.add_argument("--no-reminders", action="store_true", help="inga påminnelser")
    options(op, as_of=True)
    handles(op, run_open)

    tk = followup.add_parser("tick", help="skicka det som omgångarna ska skicka i dag (för cron)")
    tk.add_argument("--as-of", type=as_of_date, default=None, help="dagens datum, t.ex. 2025-06-10")
    tk.add_argument("--no-auto-open", action="store_true", help="öppna inte juni- och decemberomgångar själv")
    handles(tk, run_tick)

    st = followup.add_parser("status", help="svarsfrekvens, pengar, risker och omfördelningsförslag")
    st.add_argument("--period", required=True)
    st.add_argument("--json", action="store_true")
    options(st, as_of=True)
    handles(st, run_status)

    cl = followup.add_parser("close", help="stäng en omgång: inga fler utskick eller svar")
    cl.add_argument("--period", required=True)
    options(cl)
    handles(cl, run_close)

    pr = followup.add_parser(
        "propose", help="skicka omgångens omfördelningsförslag till KSAU (ett kort var till rollen ksau)"
    )
    pr.add_argument("--period", required=True, help="t.ex. 2025-06")
    options(pr, as_of=True)
    handles(pr, run_propose)
    rm = followup.add_parser(
        "remind", help="en extra påminnelse nu till dem som inte har svarat (högst en per dag och omgång)"
    )
    rm.add_argument("--period", required=True)
    options(rm, as_of=True)
    handles(rm, run_remind)

    ex = followup.add_parser("export", help="omgångens resultat som XLSX eller CSV (personalredovisningen)")
    ex.add_argument("--period", required=True)
    ex.add_argument("--out", type=Path, required=True, help="filen att skriva: .xlsx eller .csv")
    options(ex, as_of=True)
    handles(ex, run_export)


def _rounds(args: argparse.Namespace) -> RoundServices:
    return RoundServices(make_engine(), org=args.org, clock=clock.clock_for(clock.settings_today()))


def run_open(args: argparse.Namespace, out: TextIO) -> int:
    as_of, user = today(args), user_of(args)
    services = _rounds(args)
    round_ = services.open(
        user,
        args.period,
        opens=parse_date(args.opens, as_of, field="--opens") if args.opens else None,
        deadline=parse_date(args.deadline, as_of, field="--deadline") if args.deadline else None,
        reminder_after=None if args.no_reminders else args.reminder_after,
        reminder_before=None if args.no_reminders else args.reminder_before,
    )
    print(texts.round_text(round_, as_of), file=out)
    report = services.report(user, round_.period, max(as_of, round_.plan.opens))
    print("\n".join(["", *texts.coverage_lines(report)]), file=out)
    return 0


def run_close(args: argparse.Namespace, out: TextIO) -> int:
    services = _rounds(args)
    round_, closed = services.close(user_of(args), parse_period(args.period))
    print(texts.round_closed(round_.period, closed=closed), file=out)
    if closed:  # KSAU's proposals go out with the close, as from chat (issue 20)
        try:
            sent = services.send_proposals(user_of(args), round_.period)
        except DomainError as problem:
            print(texts.no_proposals_sent(problem.message), file=out)
        else:
            s = sent.view.proposal_set
            print(proposals_sent(s.period, len(s.items), sent.members, sent.new_sends), file=out)
    return 0


def run_remind(args: argparse.Namespace, out: TextIO) -> int:
    """The chat's "påminn de som inte svarat" (issue 20): the same service and rules; the
    next `followup tick` (or the server's) sends what it records."""
    services = _rounds(args)
    sent = services.remind(user_of(args), today(args), parse_period(args.period))
    print(texts.reminders_recorded(sent.round.period, sent.recipients, sent.units), file=out)
    return 0


def run_status(args: argparse.Namespace, out: TextIO) -> int:
    services = _rounds(args)
    report = services.report(user_of(args), parse_period(args.period), today(args))
    sends = services.sends(parse_period(args.period))
    # Issue 21: the needs whose linked measures no longer answer them in the round's year.
    needs = NeedServices(services.engine, org=services.org, clock=services.clock)
    year = report.round.plan.year
    at_risk = needs.at_risk(user_of(args), year, report.as_of)
    if args.json:
        print(
            json.dumps(
                {**report_json(report, sends), "needs_at_risk": needs_commands.at_risk_json(at_risk)},
                ensure_ascii=False,
                indent=2,
            ),
            file=out,
        )
    else:
        lines = [texts.report_text(report, sends), "", *needs_texts.at_risk_lines(at_risk, year)]
        print("\n".join(lines), file=out)
    return 0


def run_export(args: argparse.Namespace, out: TextIO) -> int:
    services = _rounds(args)
    report = services.report(user_of(args), parse_period(args.period), today(args))
    write_export(report, args.out, services.display_names())
    print(texts.round_exported(args.out, len(report.measures)), file=out)
    return 0


def run_propose(args: argparse.Namespace, out: TextIO) -> int:
    """The round's proposals to everyone with the ksau role (RoundServices.send_proposals),
    then sent at once like a tick sends (the rounds' send protocol)."""
    services = _rounds(args)
    sent = services.send_proposals(user_of(args), parse_period(args.period))
    s = sent.view.proposal_set
    print(proposals_sent(s.period, len(s.items), sent.members, sent.new_sends), file=out)
    result = asyncio.run(_drain(make_engine(), today(args)))
    print(texts.tick_summary(0, result.outcomes, result.cards_updated), file=out)
    return 0


def run_tick(args: argparse.Namespace, out: TextIO) -> int:
    as_of = today(args)
    engine = make_engine()
    result = asyncio.run(_tick(engine, as_of, auto_open=not args.no_auto_open))
    for opened in result.opened:
        print(texts.round_opened(opened), file=out)
        slug, period = opened.rsplit(" ", 1)
        report = RoundServices(engine, org=slug).report(None, period, as_of)
        print("\n".join(texts.coverage_lines(report)), file=out)
    print(texts.tick_summary(result.recorded, result.outcomes, result.cards_updated), file=out)
    if result.elsewhere:
        print(texts.tick_elsewhere(result.elsewhere), file=out)
    if result.installs:
        print(reach_texts.tick_installs(result.installs), file=out)
    if result.possibly_repeated:
        print(texts.tick_repeated(result.possibly_repeated), file=out)
    return 0


def _runner(engine: Engine, *, auto_open: bool, locks: TickLocks | None = None) -> RoundRunner:
    """The round runner as the server makes it, from the settings (the connector, the
    rate: the tenant's send budget shared with the servers on PostgreSQL)."""
    from bot.adapter import create_adapter
    from bot.config import Settings
    from bot.proactive import Sender
    from bot.reach import GraphReach
    from bot.round_runner import RoundRunner

    settings = Settings.from_env()
    adapter, _ = create_adapter(settings, storage=None)
    sender = Sender(adapter, settings.client_id, global_rate=settings.send_rate, database=engine)
    lease = timedelta(seconds=settings.round_lease_seconds)
    return RoundRunner(
        engine,
        sender,
        auto_open=auto_open,
        in_flight=settings.round_in_flight,
        lease=lease,
        reach=GraphReach.from_settings(engine, settings, lease=lease),
        locks=locks,
    )


async def _drain(engine: Engine, as_of: date) -> TickResult:
    """Send what is recorded now (`followup propose`): no round opened by the way."""
    runner = _runner(engine, auto_open=False)
    try:
        return await runner.drain(as_of)
    finally:
        if runner.reach is not None:
            await runner.reach.close()


async def _tick(engine: Engine, as_of: date, *, auto_open: bool) -> TickResult:
    """One tick; on PostgreSQL it plans only the cities whose tick lock it gets (a running
    server keeps those it plans: storage.tick_locks), held for this run, and sends with
    everyone."""
    from storage.tick_locks import TickLocks

    locks = TickLocks(engine) if engine.dialect.name == "postgresql" else None
    runner = _runner(engine, auto_open=auto_open, locks=locks)
    try:
        return await runner.tick(as_of)
    finally:
        if locks is not None:
            locks.release()
        if runner.reach is not None:
            await runner.reach.close()


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
        # issue 22: of the recipients, those asked for someone away (counted, answered or not, above)
        "substitutes": list(report.substitutes),
        "response_rate": round(report.response_rate, 4),
        "sends": texts.send_counts(sends),
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
                "reached": m.reached,
                # issue 22: who gave the answer, and the absent person it was given for (null: for themselves)
                "given_by": m.author or None,
                "given_by_id": m.author_id or None,
                "given_for": m.for_name or None,
                "given_for_id": m.for_id or None,
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
