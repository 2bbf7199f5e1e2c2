"""`kompetensbot followup add`: a follow-up for one measure; the group `followup`
also holds the round's commands (cli/commands/rounds.py)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TextIO

from bot.services import Services
from cli import texts
from cli.commands import rounds
from cli.common import Commands, group, handles, options, services, today, user_of
from core import forms
from core.errors import DomainError, RuleError, RuleViolation
from core.lookup import resolve_measure
from core.rounds import PERIOD_CLOSED
from core.rules import years
from core.rules.followup import IMPLAUSIBLE


def register(commands: Commands) -> None:
    followup = group(commands, "followup", "followup_command", help="uppföljning")
    fa = followup.add_parser("add", help="lämna en uppföljning för en insats")
    fa.add_argument("--measure", required=True, help="id eller titel")
    fa.add_argument("--period", required=True, help="t.ex. 2025-06")
    fa.add_argument("--status", required=True)
    fa.add_argument("--spent", required=True, help="utfall hittills, t.ex. 1,2 mkr")
    fa.add_argument("--forecast", required=True, help="prognos för året")
    fa.add_argument(
        "--usable", default="ja", help="kan medlen användas som planerat: ja eller nej (standard: ja)"
    )
    fa.add_argument("--note", default="")
    fa.add_argument(
        "--reached",
        help="hur många personer insatsen nått hittills (för en insats kopplad till ett behov), t.ex. 12",
    )
    fa.add_argument(
        "--confirm-amount",
        action="store_true",
        help="spara även ett utfall eller en prognos över dubbla insatsens medel (beloppet stämmer)",
    )
    fa.add_argument(
        "--after-close",
        action="store_true",
        help="registrera efter att omgången för perioden stängts (kräver --reason; skälet sparas)",
    )
    fa.add_argument("--reason", help="skälet till en registrering efter stängning (med --after-close)")
    options(fa)
    handles(fa, run_add)
    rounds.register(followup)
    rc = followup.add_parser(
        "reach",
        help="vilka av omgångens mottagare som inte kan nås i Teams och varför (före omgången öppnar)",
    )
    rc.add_argument("--period", required=True, help="t.ex. 2025-06")
    rc.add_argument("--json", action="store_true")
    options(rc, as_of=True)
    handles(rc, run_reach)


def run_reach(args: argparse.Namespace, out: TextIO) -> int:
    """`followup reach` (issue 22): from the database, and with Graph installs on, one
    read of Graph per recipient without a conversation (bot.reach.check_with_graph)."""
    import asyncio
    import json
    from datetime import timedelta

    from bot import clock
    from bot.config import Settings
    from bot.reach import GraphReach, ReachReport, ReachServices, check_with_graph
    from cli import reach_texts
    from core.dates import parse_period
    from storage.db import make_engine

    engine = make_engine()
    services = ReachServices(engine, org=args.org, clock=clock.clock_for(clock.settings_today()))
    report, _round_id = services.candidates(user_of(args), parse_period(args.period), today(args))
    settings = Settings.from_env()
    reach = GraphReach.from_settings(engine, settings, lease=timedelta(seconds=settings.round_lease_seconds))
    if reach is not None:

        async def check() -> ReachReport:
            try:
                return await check_with_graph(report, reach, args.org)
            finally:
                await reach.close()

        report = asyncio.run(check())
    if args.json:
        print(json.dumps(reach_texts.reach_json(report), ensure_ascii=False, indent=2), file=out)
    else:
        print("\n".join(reach_texts.reach_lines(report)), file=out)
    return 0


@dataclass(frozen=True)
class FollowupCommand:
    """`followup add` as read: the core's draft (core.forms.FollowUpDraft, the chat's and
    the forms') and what only the command line has: the measure as the user named it
    and the two flags."""

    measure: str
    draft: forms.FollowUpDraft
    period: str
    amount_confirmed: bool
    after_close_reason: str | None


def month_year(args: argparse.Namespace, city: Services) -> int | None:
    """The year a month's name alone ("juni") is of (core.rules.years.month_year, the
    chat's rule); an unknown measure is named by add_followup. None when the period is
    written with its year."""
    if any(c.isdigit() for c in args.period):
        return None
    ledger = city.summary_ledger()
    try:
        measure_id: int | None = resolve_measure(ledger, args.measure).id
    except DomainError:
        measure_id = None
    return years.month_year(ledger, measure_id, today(args))


def followup_command(args: argparse.Namespace, city: Services) -> FollowupCommand:
    """followup add's fields read into a draft by the core's follow-up parser (core.forms,
    the same as the chat's, the form card's and the round card's): every bad field at once."""
    if args.reason is not None and not args.after_close:
        raise DomainError(
            RuleError("reason_without_after_close", texts.REASON_WITHOUT_AFTER_CLOSE, "--reason")
        )
    fields = {
        "period": args.period,
        "status": args.status,
        "spent": args.spent,
        "forecast": args.forecast,
        "usable": args.usable,
        "note": args.note,
        "reached": args.reached,
    }
    draft = forms.parse_followup(fields, year=month_year(args, city)).unwrap()
    assert draft.period is not None  # the parser reads a period unless the form is a round card's
    return FollowupCommand(
        measure=args.measure,
        draft=draft,
        period=draft.period,
        amount_confirmed=args.confirm_amount,
        after_close_reason=(args.reason or "") if args.after_close else None,
    )


def run_add(args: argparse.Namespace, out: TextIO) -> int:
    city = services(args)
    command = followup_command(args, city)
    draft = command.draft
    try:
        followup = city.add_followup(
            user_of(args),
            command.measure,
            period=command.period,
            status=draft.status,
            spent=draft.spent,
            forecast=draft.forecast,
            usable_as_planned=draft.usable_as_planned,
            note=draft.note,
            reached=draft.reached,
            amount_confirmed=command.amount_confirmed,
            after_close_reason=command.after_close_reason,
        )
    except RuleViolation as refused:
        raise with_flag_hint(refused) from None
    print(texts.followup_saved(command.period, followup.seq, after_close=args.after_close), file=out)
    return 0


def with_flag_hint(refused: RuleViolation) -> RuleViolation:
    """A follow-up's refusal with the command line's way past it, where there is one:
    --confirm-amount for an implausible amount, --after-close --reason for a closed period."""
    hints = {IMPLAUSIBLE: texts.IMPLAUSIBLE_HINT, PERIOD_CLOSED: texts.PERIOD_CLOSED_HINT}
    errors = list(refused.errors)
    for code, hint in hints.items():
        last = max((i for i, e in enumerate(errors) if e.code == code), default=None)
        if last is not None:
            errors[last] = RuleError(code, errors[last].message + hint, errors[last].field)
    return RuleViolation(errors)
