"""`kompetensbot needs` and `need add | link | unlink | history`: the city's competence
needs (issue 21), through bot.needs_services.NeedServices, as the chat reads and writes them."""

from __future__ import annotations

import argparse
import json
import re
from datetime import date
from typing import Any, TextIO

from bot.needs_services import NeedAtRisk, NeedServices
from cli import needs_texts
from cli.common import Commands, default_year, group, handles, options, services_of, today, user_of
from core import forms
from core.dates import parse_date
from core.errors import RuleViolation, echo, input_error
from core.lookup import resolve_unit
from core.needs import WHOLE, NeedEntry, is_stale, read_kind, read_period, read_recruitment
from core.needs_report import LinkedMeasure, NeedsReport, NeedView
from dialogs.understanding import match_roles


def register(commands: Commands) -> None:
    ns = commands.add_parser("needs", help="kompetensbehoven, insatserna som svarar mot dem och pengarna")
    ns.add_argument("--unit", help="en nämnd: kod, namn eller kortnamn")
    ns.add_argument("--uncovered", action="store_true", help="bara behov som ingen insats svarar mot")
    ns.add_argument("--year", type=int, help="året pengar och täckning räknas för")
    ns.add_argument("--role", help="bara en yrkesgrupp, t.ex. förskollärare")
    ns.add_argument(
        "--hard-to-recruit", action="store_true", help="bara yrken med brist och pensionsavgångar"
    )
    ns.add_argument("--json", action="store_true")
    options(ns, as_of=True)
    handles(ns, run_list)

    need = group(commands, "need", "need_command", help="registrera och koppla kompetensbehov")
    add = need.add_parser("add", help="registrera ett behov (samma id igen: en ny bedömning)")
    add.add_argument("--id", required=True, help='behovets korta id, t.ex. "B1"')
    add.add_argument("--unit", required=True, help="nämnd: kod, namn eller kortnamn")
    add.add_argument("--role", required=True, help="yrkesgrupp, t.ex. förskollärare")
    add.add_argument(
        "--kind",
        required=True,
        help="Ersättningsrekrytering, Utökning, Kompetenshöjning, Introduktion, Ledarskap eller Övertalighet",
    )
    add.add_argument("--competence", required=True, help="vilken kompetens som behövs")
    add.add_argument("--area", help='område inom nämnden, t.ex. "Förskola"')
    add.add_argument("--ssyk", help="SSYK-kod, fyra siffror, t.ex. 2343")
    add.add_argument("--people", type=int, help="hur många personer behovet gäller")
    add.add_argument("--retirements", type=int, help="pensionsavgångar inom två år")
    add.add_argument("--recruitment", required=True, help="rekryteringsläge: brist, balans, god eller vet ej")
    add.add_argument("--period", required=True, help='t.ex. "2024-2026" eller "2025"')
    add.add_argument("--source", required=True, help="källan, t.ex. Kompetensförsörjningsplan 2024")
    add.add_argument("--source-date", help="källans datum")
    add.add_argument("--assessed", required=True, help="när behovet bedömdes")
    options(add, as_of=True)
    handles(add, run_add)

    link = need.add_parser("link", help="koppla ett behov till en insats som svarar mot det")
    link.add_argument("--need", required=True, help="behovets id")
    link.add_argument("--measure", required=True, help="insatsens id eller titel")
    link.add_argument("--people", type=int, help="hur många personer insatsen når för behovet")
    link.add_argument(
        "--share", help='behovets andel av insatsens pengar, t.ex. "25 %%" (utan: resten delas lika)'
    )
    link.add_argument("--note", default="", help="kommentar (krävs för övertalighet med dessa medel)")
    options(link)
    handles(link, run_link)

    unlink = need.add_parser("unlink", help="avsluta kopplingen mellan ett behov och en insats")
    unlink.add_argument("--need", required=True, help="behovets id")
    unlink.add_argument("--measure", required=True, help="insatsens id eller titel")
    unlink.add_argument("--note", default="")
    options(unlink)
    handles(unlink, run_unlink)

    history = need.add_parser("history", help="alla bedömningar av ett behov")
    history.add_argument("need", help="behovets id")
    options(history)
    handles(history, run_history)


def _needs(args: argparse.Namespace) -> NeedServices:
    return services_of(args, NeedServices)


def _author(args: argparse.Namespace, city: NeedServices) -> str:
    """The name shown as the entry's author: --user, or the operator ("administratör")."""
    return user_of(args) or city.admin.author


# --- needs ---------------------------------------------------------------------------


def _role(typed: str, readable: NeedsReport) -> str:
    """The role `--role` names among the roles of the needs the person may read, forgiving
    plural and definite forms, missing å/ä/ö and small typos as the chat does
    ("förskollärarna", "forskolarare"); refused naming the roles there are."""
    known = list(dict.fromkeys(view.need.role for view in readable.needs))
    found = match_roles(typed, known)
    if not found:
        named = ", ".join(known) or "inga"
        raise input_error(
            "unknown_role",
            f'Ingen yrkesgrupp "{echo(typed)}" bland behoven. Yrkesgrupper: {named}.',
            "--role",
        )
    return found[0]


def run_list(args: argparse.Namespace, out: TextIO) -> int:
    city, as_of = _needs(args), today(args)
    year = args.year or default_year(city, as_of)
    role = _role(args.role, city.report(user_of(args), year, as_of=as_of)) if args.role else None
    report = city.report(
        user_of(args),
        year,
        as_of=as_of,
        unit=args.unit,
        role=role,
        only_uncovered=args.uncovered,
        hard_to_recruit_retiring=args.hard_to_recruit,
    )
    if args.json:
        print(json.dumps(report_json(report), ensure_ascii=False, indent=2), file=out)
    else:
        text = needs_texts.needs_text(
            report,
            city.city_name(),
            uncovered=args.uncovered,
            hard_to_recruit=args.hard_to_recruit,
            funded=city.summary_ledger().has_fund(year),
        )
        print(text, file=out)
    return 0


def report_json(report: NeedsReport) -> dict[str, Any]:
    """`needs --json`: every amount in whole kronor, shares in basis points (2 500 = 25 %)."""
    return {
        "year": report.year,
        "as_of": report.today.isoformat(),
        "shown": len(report.needs),
        "total": report.total,
        "needs": [need_json(v) for v in report.needs],
        "money_per_role": [
            {"role": role, "amount": amount, "shared": role in report.shared_roles}
            for role, amount in report.by_role
        ],
        "unclaimed": report.unclaimed,
        "linked_money": sum(amount for _, amount in report.by_role) + report.unclaimed,
        "unlinked_money": report.unlinked[0],
        "unlinked_measures": report.unlinked[1],
    }


def entry_json(n: NeedEntry) -> dict[str, Any]:
    return {
        "id": n.key,
        "unit": n.unit,
        "area": n.area,
        "role": n.role,
        "ssyk": n.ssyk,
        "kind": n.kind.value,
        "competence": n.competence,
        "people": n.people,
        "retirements": n.retirements,
        "recruitment": n.recruitment.value,
        "period": {"first": n.period.first, "last": n.period.last, "label": n.period.label},
        "source": n.source,
        "source_date": n.source_date.isoformat() if n.source_date else None,
        "assessed": n.assessed.isoformat(),
        "assessed_by": n.author,
    }


def need_json(v: NeedView) -> dict[str, Any]:
    return {
        **entry_json(v.need),
        "stale": v.stale,
        "assessments": v.assessments,
        "covered": v.covered,
        "money": v.money,
        "measures": [linked_json(m) for m in v.measures],
    }


def linked_json(m: LinkedMeasure) -> dict[str, Any]:
    """A linked measure; one of a committee the reader may not read shows only its
    committees and whether it answers the need."""
    if not m.visible:
        return {"visible": False, "units": list(m.units), "answers": m.answers}
    return {
        "visible": True,
        "id": m.id,
        "title": m.title,
        "units": list(m.units),
        "status": m.status.value,
        "money": m.money,
        "share": m.share,
        "people": m.people,
        "reached": m.reached,
        "answers": m.answers,
    }


def at_risk_json(needs: tuple[NeedAtRisk, ...]) -> list[dict[str, Any]]:
    """`followup status --json`'s needs at risk."""
    return [
        {
            "id": item.view.need.key,
            "unit": item.view.need.unit,
            "role": item.view.need.role,
            "recruitment": item.view.need.recruitment.value,
            "retirements": item.view.need.retirements,
            "covered": item.view.covered,
            "measures": [{**linked_json(m), "risk": why} for m, why in item.measures],
        }
        for item in needs
    ]


# --- need add --------------------------------------------------------------------------


def need_entry(args: argparse.Namespace, city: NeedServices, as_of: date) -> NeedEntry:
    """need add's fields read with the core's readers (core.needs, core.dates): every
    bad field named at once; the rules (core.rules.needs) check the rest when it is saved."""
    collect = forms.Collect()
    unit = collect(lambda: resolve_unit(city.summary_ledger(), args.unit))
    kind = collect(lambda: read_kind(args.kind, "--kind"))
    recruitment = collect(lambda: read_recruitment(args.recruitment, "--recruitment"))
    period = collect(lambda: read_period(args.period, "--period"))
    assessed = collect(lambda: parse_date(args.assessed, as_of, field="--assessed"))
    source_date = (
        collect(lambda: parse_date(args.source_date, as_of, field="--source-date"))
        if args.source_date
        else None
    )
    if collect.errors or not unit or not kind or not recruitment or not period or not assessed:
        raise RuleViolation(collect.errors)
    return NeedEntry(
        key=args.id,
        unit=unit,
        role=args.role,
        kind=kind,
        competence=args.competence,
        recruitment=recruitment,
        period=period,
        source=args.source,
        assessed=assessed,
        author=_author(args, city),
        at=city.clock(),
        area=args.area,
        ssyk=args.ssyk.strip() if args.ssyk and args.ssyk.strip() else None,
        people=args.people,
        retirements=args.retirements,
        source_date=source_date,
    )


def run_add(args: argparse.Namespace, out: TextIO) -> int:
    city, as_of = _needs(args), today(args)
    before = city.all_needs().next_seq
    stored = city.assess(user_of(args), need_entry(args, city, as_of))
    assessments = len(city.all_needs().history(stored.key))
    if stored.seq < before:  # the need said this already: nothing written
        print(needs_texts.need_unchanged(stored, assessments), file=out)
        return 0
    print(needs_texts.need_saved(stored, assessments, is_stale(stored, as_of)), file=out)
    return 0


# --- need link | unlink | history ------------------------------------------------------

_SHARE = re.compile(r"([+-]?)(\d+)(?:[,.](\d+))?\s*(?:%|procent)?", re.IGNORECASE)
SHARE_HELP = 'Skriv behovets andel av insatsens pengar i procent, över 0 och högst 100: "25 %", "12,5 %".'


def read_share(text: str) -> int:
    """A link's share in basis points: "25 %", "25%", "25", "12,5 %" (2 500, 2 500, 2 500,
    1 250); refused in Swedish when it is no number, has more than two decimals, is 0 or
    less, or more than 100 %."""
    found = _SHARE.fullmatch(text.replace("\u00a0", " ").strip())
    if found is None:
        raise input_error("bad_share", f'Andelen "{echo(text)}" är inget tal. {SHARE_HELP}', "--share")
    sign, whole, decimals = found.group(1), found.group(2), found.group(3) or ""
    if len(decimals) > 2:
        raise input_error(
            "bad_share", f'Andelen "{echo(text)}" har fler än två decimaler. {SHARE_HELP}', "--share"
        )
    basis_points = int(whole) * 100 + int(decimals.ljust(2, "0"))
    if sign == "-" or basis_points <= 0:
        raise input_error("bad_share", f'Andelen "{echo(text)}" är inte över 0 %. {SHARE_HELP}', "--share")
    if basis_points > WHOLE:
        raise input_error(
            "bad_share",
            f'Andelen "{echo(text)}" är mer än 100 % av insatsens pengar. {SHARE_HELP}',
            "--share",
        )
    return basis_points


def run_link(args: argparse.Namespace, out: TextIO) -> int:
    city = _needs(args)
    share = read_share(args.share) if args.share is not None else None
    before = city.all_needs()
    stored = city.link(
        user_of(args),
        args.need,
        args.measure,
        author=_author(args, city),
        people=args.people,
        share=share,
        note=args.note,
    )
    title = city.summary_ledger().measures[stored.measure_id].title
    replaced = before.link(stored.need, stored.measure_id) is not None
    print(needs_texts.link_saved(stored, title, replaced=replaced), file=out)
    return 0


def run_unlink(args: argparse.Namespace, out: TextIO) -> int:
    city = _needs(args)
    ended = city.unlink(user_of(args), args.need, args.measure, author=_author(args, city), note=args.note)
    title = city.summary_ledger().measures[ended.measure_id].title
    print(needs_texts.link_ended(ended.need, title, ended.measure_id), file=out)
    return 0


def run_history(args: argparse.Namespace, out: TextIO) -> int:
    city = _needs(args)
    print(needs_texts.history_text(city.history(user_of(args), args.need)), file=out)
    print("\n".join(needs_texts.link_history_lines(city.link_history(user_of(args), args.need))), file=out)
    return 0
