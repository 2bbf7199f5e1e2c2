"""The command line: `kompetensbot`.

Every command prints Swedish. A refused command exits with 2 and says why on
stderr in one line; nothing is written. Without --user the command runs as
the administrator.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError, ProgrammingError

from bot import clock, round_cli
from bot.data_services import ExampleResult, export_bytes, export_rows, import_template, load_example
from bot.services import Services
from core.balances import FundBalance
from core.dates import format_date, parse_date, parse_period
from core.errors import DomainError, InputError, PermissionDenied, RuleError, RuleViolation
from core.model import NOT_GIVEN, Principal, Role, Status, parse_decision
from core.money import format_amount, parse_amount
from core.rounds import PERIOD_CLOSED
from core.rules import years
from core.rules.decision import check_decision_given, decision_missing, ungiven_decisions
from core.rules.followup import IMPLAUSIBLE
from core.template import TemplateError
from core.validation import validate
from core.views import MeasureView
from storage.db import make_engine
from storage.examples import available
from storage.migrate import upgrade
from storage.seal import KEY_VARIABLE, ChainReport, LedgerKey, adopt_key, ledger_key, verify

log = logging.getLogger("kompetensbot")

EXIT_REFUSED = 2
EXIT_FAILED = 1


_ARGPARSE_SWEDISH = (
    (r"argument (\S+): invalid int value: '(.*)'", r"{0} ska vara ett heltal, inte '{1}'"),
    (
        r"argument (\S+): invalid choice: '(.*)' \(choose from (.*)\)",
        r"'{1}' går inte för {0}; välj bland {2}",
    ),
    (r"argument (\S+): expected one argument", r"{0} behöver ett värde"),
    (r"the following arguments are required: (.*)", r"dessa argument saknas: {0}"),
    (r"unrecognized arguments: (.*)", r"okända argument: {0}"),
    (r"argument (\S+): (.*)", r"{0}: {1}"),
)


def swedish_argparse_message(message: str) -> str:
    """argparse's English error, said in Swedish (the values are kept)."""
    for pattern, template in _ARGPARSE_SWEDISH:
        m = re.fullmatch(pattern, message)
        if m:
            return template.format(*m.groups())
    return "kommandot kunde inte tolkas"


class SwedishParser(argparse.ArgumentParser):
    """argparse that refuses in Swedish, on one line, with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        reason = swedish_argparse_message(message).rstrip(". ")
        self.exit(EXIT_REFUSED, f"kompetensbot: felaktigt kommando: {reason}. Se --help.\n")


def _date(text: str) -> date:
    try:
        return parse_date(text, clock.today(), field="--as-of")
    except InputError as problem:
        raise argparse.ArgumentTypeError(problem.message) from None


def build_parser() -> argparse.ArgumentParser:
    p = SwedishParser(prog="kompetensbot", description="Kompetensutvecklingsmedel: regler, liggare och bot.")
    p.add_argument("--org", help="stadens kortnamn (behövs bara när databasen har flera städer)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=SwedishParser)

    def common(sp: argparse.ArgumentParser, *, as_of: bool = False, user: bool = True) -> None:
        if user:
            sp.add_argument("--user", help="vem som utför kommandot (utan: administratör)")
        if as_of:
            sp.add_argument("--as-of", type=_date, default=None, help="dagens datum, t.ex. 2025-06-30")

    db = sub.add_parser("db", help="databasen")
    db_sub = db.add_subparsers(dest="db_command", required=True, parser_class=SwedishParser)
    db_sub.add_parser("upgrade", help="skapa eller uppgradera tabellerna")

    ex = sub.add_parser("load-example", help="läs in ett exempel, t.ex. malmo-2025")
    ex.add_argument("name", help=f"exemplets namn: {', '.join(available())}")

    imp = sub.add_parser("import", help="importera en mall (CSV eller XLSX)")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--year", type=int, help="år för rader utan datum (standard: senaste år med beslutad fond)"
    )
    imp.add_argument(
        "--decision",
        help='beslutet bakom beviljade belopp, t.ex. "FSKN 2025-02-05 § 5"; "nämnd 2025-02-05 § 5": '
        "varje rads egen nämnd",
    )
    common(imp, as_of=True)

    exp = sub.add_parser("export", help="exportera årets insatser som mall")
    exp.add_argument("--year", type=int, required=True)
    exp.add_argument("--format", choices=["csv", "xlsx", "json"], default="csv")
    exp.add_argument("--out", type=Path, help="fil att skriva (standard: standard ut)")
    common(exp, as_of=True)

    funds = sub.add_parser("funds", help="tilldelat, utfall, prognos och kvar per nämnd")
    funds.add_argument("--year", type=int)
    funds.add_argument("--unit", help="en nämnd: kod, namn eller kortnamn")
    funds.add_argument("--json", action="store_true")
    common(funds, as_of=True)

    ms = sub.add_parser("measures", help="insatserna")
    ms.add_argument("--unit")
    ms.add_argument("--status", help='"Ej påbörjad", "Pågående", "Klar" eller "Ej slutförd"')
    ms.add_argument("--overdue", action="store_true", help="bara försenade insatser")
    ms.add_argument("--year", type=int)
    ms.add_argument("--json", action="store_true")
    common(ms, as_of=True)

    show = sub.add_parser("measure", help="en insats med pengar och källor")
    show.add_argument("measure", help="id eller titel")
    show.add_argument("--json", action="store_true")
    common(show, as_of=True)

    add = sub.add_parser("add-measure", help="lämna in en ny insats")
    add.add_argument("--unit", required=True, action="append", help="nämnd; upprepa för delad insats")
    add.add_argument("--title", required=True)
    add.add_argument("--year", type=int, help="pengarnas år (standard: senaste år med beslutad fond)")
    add.add_argument("--description", default="")
    add.add_argument("--performer", default="")
    add.add_argument("--start")
    add.add_argument("--end")
    add.add_argument("--amount", help="beviljat belopp, t.ex. 300 tkr")
    add.add_argument(
        "--decision", help='beslutet bakom beviljat belopp, t.ex. "FSKN 2025-02-05 § 5" (utan organ: --unit)'
    )
    common(add, as_of=True)

    fu = sub.add_parser("followup", help="uppföljning")
    fu_sub = fu.add_subparsers(dest="followup_command", required=True, parser_class=SwedishParser)
    fa = fu_sub.add_parser("add", help="lämna en uppföljning för en insats")
    fa.add_argument("--measure", required=True, help="id eller titel")
    fa.add_argument("--period", required=True, help="t.ex. 2025-06")
    fa.add_argument("--status", required=True)
    fa.add_argument("--spent", required=True, help="utfall hittills, t.ex. 1,2 mkr")
    fa.add_argument("--forecast", required=True, help="prognos för året")
    fa.add_argument("--usable", choices=["ja", "nej"], default="ja", help="kan medlen användas som planerat")
    fa.add_argument("--note", default="")
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
    common(fa)
    round_cli.add_parsers(fu_sub, common, _date)

    al = sub.add_parser("allocate", help="registrera en överföring från anslaget till en nämnd")
    al.add_argument("--unit", required=True)
    al.add_argument("--year", type=int, required=True)
    al.add_argument("--amount", required=True)
    al.add_argument("--decision", required=True)
    al.add_argument("--recurring", action="store_true", help="fr.o.m. året och framåt")
    common(al)

    fs = sub.add_parser("fund", help="registrera årets anslag")
    fs.add_argument("--year", type=int, required=True)
    fs.add_argument("--amount", required=True)
    fs.add_argument("--decision", required=True)
    common(fs)

    re_ = sub.add_parser("reallocate", help="omfördela outnyttjade medel (KSAU-beslut)")
    re_.add_argument("--from", dest="source", required=True, help="insats: id eller titel")
    re_.add_argument("--to", dest="target", required=True)
    re_.add_argument("--amount", required=True)
    re_.add_argument("--decision", required=True, help='t.ex. "KSAU 2025-06-20 § 5"')
    common(re_)

    roles = sub.add_parser("roles", help="behörigheter")
    roles_sub = roles.add_subparsers(dest="roles_command", required=True, parser_class=SwedishParser)
    for name in ("grant", "revoke"):
        r = roles_sub.add_parser(name)
        r.add_argument("person", help="användarens id (Teams: AAD-objekt-id) eller namn")
        r.add_argument("role", help="chef, hr, stadskontoret eller ksau")
        r.add_argument("--unit", help="nämnd (för chef och hr)")
        common(r)
    rl = roles_sub.add_parser("list")
    rl.add_argument("--json", action="store_true")
    common(rl)

    sv = sub.add_parser("serve", help="starta boten (POST /api/messages, GET /healthz)")
    sv.add_argument("--host", help="adress att lyssna på (standard 127.0.0.1)")
    sv.add_argument("--port", type=int, help="port (standard 3978)")
    sv.add_argument(
        "--anonymous",
        action="store_true",
        help="utan inloggningsuppgifter, bara på 127.0.0.1 (lokalt, t.ex. med Agents Playground)",
    )
    sv.add_argument(
        "--demo", action="store_true", help="demoläge (anonymt): alla användare får rollen stadskontoret"
    )
    sv.add_argument(
        "--today", type=_date, default=None, help="botens datum (bara demo och test), t.ex. 2025-06-02"
    )

    tn = sub.add_parser("tenants", help="koppla en Teams-klient (tenant) till en stad")
    tn_sub = tn.add_subparsers(dest="tenants_command", required=True, parser_class=SwedishParser)
    tl = tn_sub.add_parser("link", help="koppla tenant-id till staden (--org)")
    tl.add_argument("tenant_id")

    v = sub.add_parser("validate", help="spela upp liggaren och kontrollera alla regler")
    v.add_argument("--json", action="store_true")

    pk = sub.add_parser("package", help="skriv Teams-appens paket (zip) att ladda upp")
    pk.add_argument("--app-id", required=True, help="appens id (GUID) från Azure-registreringen")
    pk.add_argument("--bot-id", help="botens id (GUID; standard: samma som --app-id)")
    pk.add_argument("--out", type=Path, default=Path("build/kompetensbot.zip"), help="zip-filen att skriva")
    return p


# --- output -----------------------------------------------------------------


def _table(rows: Sequence[Sequence[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def funds_text(balance: FundBalance, org_name: str) -> str:
    header = [f"Kompetensutvecklingsmedel {balance.year}, {org_name}"]
    for e in balance.fund_entries:
        header.append(f"Anslag: {format_amount(e.amount)} ({e.decision.reference})")
    rows = [["Nämnd", "", "Tilldelat", "Utfall", "Prognos", "Kvar", "Beslut"]]
    for u in balance.units:
        sources = sorted({a.decision.reference for a in u.allocations})
        rows.append(
            [
                u.code,
                u.name,
                format_amount(u.allocated),
                format_amount(u.spent),
                format_amount(u.forecast),
                format_amount(u.remaining),
                ", ".join(sources),
            ]
        )
    rows.append(
        [
            "Totalt",
            "",
            format_amount(balance.allocated),
            format_amount(balance.spent),
            format_amount(balance.forecast),
            format_amount(balance.remaining),
            "",
        ]
    )
    if balance.decided:
        fund_line = (
            f"Anslag totalt: {format_amount(balance.total)}. Ej fördelat till nämnder: "
            f"{format_amount(balance.unallocated)}."
        )
    elif balance.reserved:
        fund_line = (
            f"Inget anslag är beslutat för {balance.year} (fonden: ej beslutat); återkommande "
            f"överföringar reserverar {format_amount(balance.reserved)} av det kommande anslaget."
        )
    else:
        fund_line = (
            f"Det finns ingen fond för {balance.year}: inget anslag är beslutat och inget är "
            "överfört till nämnderna."
        )
        if not balance.units:
            return "\n".join([*header, "", fund_line])
    footer = [
        fund_line,
        "Kvar = tilldelat − utfall. Prognos enligt senaste uppföljning; utan uppföljning "
        "räknas insatsens beviljade belopp.",
    ]
    return "\n".join([*header, "", _table(rows, {2, 3, 4, 5}), "", *footer])


def funds_json(balance: FundBalance) -> dict[str, Any]:
    """Two levels, named apart: `fund` is the whole year's fund (of every unit, whoever
    asks), `units_shown` adds up the units listed in `units` (one with --unit, those a
    --user may see)."""
    return {
        "year": balance.year,
        "fund": {
            "decided": balance.decided,
            "total": balance.total if balance.decided else None,
            "transferred_to_units": balance.fund_allocated,
            "not_transferred": balance.unallocated if balance.decided else None,
            "reserved": balance.reserved,
            "decisions": [e.decision.reference for e in balance.fund_entries],
        },
        "units_shown": {
            "count": len(balance.units),
            "allocated": balance.allocated,
            "spent": balance.spent,
            "forecast": balance.forecast,
            "remaining": balance.remaining,
            "remaining_forecast": balance.remaining_forecast,
        },
        "units": [
            {
                "code": u.code,
                "name": u.name,
                "allocated": u.allocated,
                "transferred": u.transferred,
                "reallocated": u.reallocated,
                "earmarked": u.earmarked,
                "unallocated": u.unallocated,
                "spent": u.spent,
                "forecast": u.forecast,
                "remaining": u.remaining,
                "remaining_forecast": u.remaining_forecast,
                "decisions": sorted({a.decision.reference for a in u.allocations}),
            }
            for u in balance.units
        ],
    }


def measure_json(v: MeasureView) -> dict[str, Any]:
    m, b = v.measure, v.balance
    return {
        "id": m.id,
        "title": m.title,
        "unit": ", ".join(m.units),
        "units": list(m.units),
        "year": m.year,
        "parent_id": m.parent_id,
        "status": v.status.value,
        "start_date": m.start_date.isoformat() if m.start_date else None,
        "end_date": m.end_date.isoformat() if m.end_date else None,
        "overdue": v.overdue,
        "allocated": b.allocated,
        "spent": b.spent,
        "forecast": b.forecast,
        "remaining": b.remaining,
        "remaining_forecast": b.remaining_forecast,
        "shares": [
            {"unit": s.unit, "allocated": s.allocated, "spent": s.spent, "forecast": s.forecast}
            for s in b.shares
        ],
        "performer": m.performer,
        "categories": [c.value for c in m.categories],
        "in_base_budget": m.in_base_budget,
        "kom_kr": m.kom_kr,
        "decisions": sorted({f.decision.reference for f in b.fundings}),
        "decision_missing": decision_missing(b.fundings),
    }


def measures_text(views: Sequence[MeasureView]) -> str:
    if not views:
        return "Inga insatser matchar."
    rows = [["Id", "Insats", "Nämnd", "Status", "Slutdatum", "Beviljat", "Utfall"]]
    for v in views:
        m = v.measure
        title = ("  " if m.parent_id else "") + (m.title if len(m.title) <= 60 else m.title[:57] + "...")
        status = v.status.value + (" (försenad)" if v.overdue else "")
        rows.append(
            [
                str(m.id),
                title,
                ", ".join(m.units),
                status,
                m.end_date.isoformat() if m.end_date else "",
                format_amount(v.balance.allocated),
                format_amount(v.balance.spent),
            ]
        )
    flagged = [decision_missing(v.balance.fundings) for v in views]
    if any(flagged):  # issue 17 item 3: money saved with a decision nobody gave
        rows[0].append("Beslut")
        for row, flag in zip(rows[1:], flagged, strict=True):
            row.append(NOT_GIVEN if flag else "")
    return _table(rows, {0, 5, 6}) + f"\n\n{len(views)} insatser."


def measure_text(v: MeasureView) -> str:
    m, b = v.measure, v.balance
    lines = [f"{m.title} (id {m.id}), {', '.join(m.units)} {m.year}"]
    lines.append(f"Status: {v.status.value}" + (" – försenad" if v.overdue else ""))
    if m.end_date:
        lines.append(f"Slutdatum: {format_date(m.end_date)}")
    lines.append(
        f"Beviljat {format_amount(b.allocated)}, utfall {format_amount(b.spent)}, "
        f"prognos {format_amount(b.forecast)}, kvar {format_amount(b.remaining)}."
    )
    if len(b.shares) > 1:
        lines.append(
            "Delad insats: "
            + "; ".join(
                f"{s.unit} {format_amount(s.allocated)} (utfall {format_amount(s.spent)})" for s in b.shares
            )
        )
    for f in b.fundings:
        if f.decision.invented:
            lines.append(
                f"Källa: {format_amount(f.amount)} från {f.unit}, {NOT_GIVEN} (kompetensbot sparade "
                f'"{f.decision.reference}" utan att någon angav beslutet).'
            )
        else:
            lines.append(f"Källa: {format_amount(f.amount)} från {f.unit}, beslut {f.decision.reference}.")
    for r in b.reallocations:
        sign = "+" if r.to_measure == m.id else "−"
        lines.append(f"Omfördelning {sign}{format_amount(r.amount)}, beslut {r.decision.reference}.")
    if b.followup:
        f = b.followup
        lines.append(
            f"Senaste uppföljning {f.period} av {f.author} "
            f"({f.at.date().isoformat()}): {f.note or 'ingen kommentar'}"
        )
    return "\n".join(lines)


# --- commands ---------------------------------------------------------------


def operator() -> Principal:
    """The administrator at this terminal: "cli:<os user>", shown as "administratör"."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (a bare container)
        login = str(os.getuid()) if hasattr(os, "getuid") else "okänd"
    return Principal(user=f"cli:{login}", is_admin=True, name="administratör")


def _services(args: argparse.Namespace) -> Services:
    stamp = clock.clock_for(clock.settings_today())  # the settings' date, as the bot's (issue 17 item 6)
    return Services(make_engine(), org=args.org, admin=operator(), clock=stamp)


def _default_year(services: Services, as_of: date) -> int:
    """The year meant without --year: the core's one rule, the same as the chat's."""
    return years.default_year(services.ledger(), as_of)


def _amount(text: str, field: str) -> int:
    return parse_amount(text, field=field)


def run(args: argparse.Namespace) -> int:
    as_of: date = getattr(args, "as_of", None) or clock.today()
    user = getattr(args, "user", None)
    out = sys.stdout
    if args.command == "db":
        engine = make_engine()
        upgrade(engine)
        print(
            f"Databasen är uppgraderad ({engine.url.render_as_string(hide_password=True)}).",
            file=out,
        )
        key = ledger_key()
        if not key.development:
            with engine.begin() as conn:
                if adopt_key(conn, key):
                    print(
                        f"Liggarens sigill förseglas från och med nu med nyckeln i {KEY_VARIABLE} "
                        f"(fingeravtryck {key.fingerprint[:16]}).",
                        file=out,
                    )
        else:
            print(f"Obs: {KEY_VARIABLE} saknas; liggaren förseglas med utvecklingsnyckeln.", file=out)
        return 0
    if args.command == "load-example":
        result = load_example(make_engine(), args.name)
        if result.loaded:
            print(
                f"Exemplet {args.name} är inläst: {result.organisation}, {result.measures} insatser, "
                f"{result.entries} poster i liggaren.",
                file=out,
            )
        elif result.outdated:
            print(outdated_example_text(args.name, result), file=out)
        else:
            print(
                f"Exemplet {args.name} finns redan i databasen ({result.organisation}); inget ändrades.",
                file=out,
            )
        return 0
    if args.command == "serve":
        from bot.app import serve
        from bot.config import Settings

        settings = Settings.from_env(
            host=args.host,
            port=args.port,
            demo=args.demo or None,
            today=args.today,
            anonymous=args.anonymous or None,
        )
        serve(settings)
        return 0
    if args.command == "package":
        from bot.package import unset_settings, write_package

        manifest = write_package(args.out, args.app_id, args.bot_id)
        if unset := unset_settings():
            names = ", ".join(unset)
            print(f"kompetensbot: obs: {names} saknas; paketet har mallens exempelvärden.", file=sys.stderr)
        print(
            f"Skrev {args.out} (app-id {manifest['id']}, bot-id {manifest['bots'][0]['botId']}). "
            "Ladda upp den i Teams administrationscenter under Teams-appar → Hantera appar → Ladda upp.",
            file=out,
        )
        return 0
    if args.command == "tenants":
        from storage.bot_state import link_tenant

        if not args.org:
            raise DomainError(RuleError("needs_org", "Ange staden med --org, t.ex. --org malmo.", "--org"))
        try:
            link_tenant(make_engine(), args.tenant_id.strip(), args.org)
        except LookupError:
            raise DomainError(RuleError("unknown_org", f'Staden "{args.org}" finns inte.', "--org")) from None
        print(f"Tenant {args.tenant_id} betjänas nu av {args.org}.", file=out)
        return 0
    services = _services(args)
    if args.command == "import":
        created = import_template(
            services.engine,
            args.org,
            user,
            args.file,
            year=args.year or _default_year(services, as_of),
            as_of=as_of,
            decision_text=args.decision,
            admin=services.admin,
            clock=services.clock,
        )
        print(f"Importerade {len(created)} insatser från {args.file.name}.", file=out)
        return 0
    if args.command == "export":
        rows = export_rows(services.engine, args.org, user, args.year)
        if args.format == "json":
            views = services.measures(user, year=args.year, as_of=as_of)
            data = json.dumps([measure_json(v) for v in views], ensure_ascii=False, indent=2).encode()
        else:
            data = export_bytes(rows, args.format)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_bytes(data)
            print(f"Skrev {len(rows)} rader till {args.out}.", file=sys.stderr)
        elif args.format == "xlsx":
            raise DomainError(RuleError("needs_out", "XLSX skrivs till en fil: ange --out FIL.", "--out"))
        else:
            sys.stdout.buffer.write(data)
        return 0
    if args.command == "funds":
        year = args.year or _default_year(services, as_of)
        balance = services.funds(user, year, args.unit, as_of=as_of)
        if args.json:
            print(json.dumps(funds_json(balance), ensure_ascii=False, indent=2), file=out)
        else:
            org = services._read(None, lambda repo, ledger, who: repo.organisation.name)
            print(funds_text(balance, org), file=out)
        return 0
    if args.command == "measures":
        status = Status.parse(args.status) if args.status else None
        views = services.measures(
            user, unit=args.unit, status=status, overdue=args.overdue, year=args.year, as_of=as_of
        )
        if args.json:
            print(json.dumps([measure_json(v) for v in views], ensure_ascii=False, indent=2), file=out)
        else:
            print(measures_text(views), file=out)
        return 0
    if args.command == "measure":
        view = services.measure(user, args.measure, as_of)
        print(
            json.dumps(measure_json(view), ensure_ascii=False, indent=2) if args.json else measure_text(view),
            file=out,
        )
        return 0
    if args.command == "add-measure":
        from core.model import Measure

        ledger = services.ledger()
        from core.lookup import resolve_unit

        units = tuple(dict.fromkeys(resolve_unit(ledger, u) for u in args.unit))
        start = parse_date(args.start, as_of, field="--start") if args.start else None
        end = parse_date(args.end, as_of, field="--end") if args.end else None
        amount = _amount(args.amount, "--amount") if args.amount else None
        # Issue 17 item 3: the decision behind the money, its body the unit when not named
        # ("nämnd 2025-02-05 § 5" with --unit FSKN is "FSKN 2025-02-05 § 5").
        decision = (
            parse_decision(
                args.decision,
                "--decision",
                default_body=units[0] if len(units) == 1 else None,
                units=ledger.units.values(),
            )
            if args.decision
            else None
        )
        if amount and decision is None:  # the core's refusal, with the command line's way to give it
            (missing,) = check_decision_given(None, "--decision")
            hint = " Ange det med --decision (utan organ: nämnden i --unit)."
            raise RuleViolation(RuleError(missing.code, missing.message + hint, missing.field))
        from core.ledger import split_exact

        grants = split_exact(amount, [(u, 1) for u in units]) if amount else {}
        measure = services.submit_measure(
            user,
            Measure(
                id=0,
                title=args.title.strip(),
                units=units,
                year=args.year or _default_year(services, as_of),
                description=args.description,
                performer=args.performer,
                start_date=start,
                end_date=end,
            ),
            grants,
            decision,
        )
        print(f'Insatsen "{measure.title}" är registrerad med id {measure.id}.', file=out)
        return 0
    if args.command == "followup" and args.followup_command in round_cli.COMMANDS:
        return round_cli.run(args, out)
    if args.command == "followup":
        period = parse_period(args.period)
        if args.reason is not None and not args.after_close:
            raise DomainError(
                RuleError(
                    "reason_without_after_close",
                    "--reason gäller bara en registrering efter stängning: ange även --after-close.",
                    "--reason",
                )
            )
        try:
            followup = services.add_followup(
                user,
                args.measure,
                period=period,
                status=Status.parse(args.status),
                spent=_zero_or_amount(args.spent, "--spent"),
                forecast=_zero_or_amount(args.forecast, "--forecast"),
                usable_as_planned=args.usable == "ja",
                note=args.note,
                amount_confirmed=args.confirm_amount,
                after_close_reason=(args.reason or "") if args.after_close else None,
            )
        except RuleViolation as refused:
            raise _with_flag_hint(refused) from None
        late = " efter stängning; skälet står först i kommentaren" if args.after_close else ""
        print(f"Uppföljningen för {period} är sparad{late} (nr {followup.seq}).", file=out)
        return 0
    if args.command == "allocate":
        entry = services.allocate(
            user,
            args.unit,
            args.year,
            _amount(args.amount, "--amount"),
            parse_decision(args.decision),
            recurring=args.recurring,
        )
        print(
            f"Överföringen på {format_amount(entry.amount)} till {entry.unit} "
            f"är registrerad (post {entry.seq}).",
            file=out,
        )
        return 0
    if args.command == "fund":
        services.set_fund(user, args.year, _amount(args.amount, "--amount"), parse_decision(args.decision))
        print(f"Anslaget för {args.year} är registrerat.", file=out)
        return 0
    if args.command == "reallocate":
        entry = services.reallocate(
            user,
            args.source,
            args.target,
            _amount(args.amount, "--amount"),
            parse_decision(args.decision),
        )
        print(
            f"Omfördelningen på {format_amount(entry.amount)} är registrerad (post {entry.seq}, "
            f"{entry.decision.reference}).",
            file=out,
        )
        return 0
    if args.command == "roles":
        if args.roles_command == "list":
            grants = services.roles(user)
            if args.json:
                print(
                    json.dumps(
                        [{"user": g.user, "role": g.role.value, "unit": g.unit} for g in grants],
                        ensure_ascii=False,
                        indent=2,
                    ),
                    file=out,
                )
            else:
                for g in grants:
                    print(f"{g.user}\t{g.role.value}\t{g.unit or 'hela staden'}", file=out)
                if not grants:
                    print("Inga roller är utdelade.", file=out)
            return 0
        role = Role.parse(args.role)
        if args.roles_command == "grant":
            new = services.grant_role(user, args.person, role, args.unit)
            print(
                f"{args.person} har {'fått' if new else 'redan'} rollen {role.value}"
                f"{' för ' + args.unit if args.unit else ''}.",
                file=out,
            )
        else:
            n = services.revoke_role(user, args.person, role, args.unit)
            if n == 0:
                raise DomainError(RuleError("no_such_grant", f"{args.person} har inte rollen {role.value}."))
            print(f"Rollen {role.value} är borttagen för {args.person}.", file=out)
        return 0
    if args.command == "validate":
        ledger = services.ledger()
        errors = validate(ledger)
        ungiven = ungiven_decisions(ledger)
        org_id = services._read(None, lambda repo, ledger, who: repo.org_id)
        key = ledger_key()
        with services.engine.connect() as conn:
            chain = verify(conn, org_id, key)
        seal_lines = seal_text(chain, key)
        broken = bool(chain.problems) or chain.unverifiable
        if args.json:
            print(
                json.dumps(
                    {
                        "entries": len(ledger.entries),
                        "errors": [e.message for e in errors],
                        "decisions_not_given": [
                            {
                                "measure": u.measure.id,
                                "unit": u.unit,
                                "amount": u.amount,
                                "stored": u.stored_as,
                            }
                            for u in ungiven
                        ],
                        "seal": {
                            "org": chain.slug,
                            "length": chain.length,
                            "head": chain.head,
                            "ok": not broken,
                            "development_key": chain.development or key.development,
                            "problems": [
                                {"kind": p.kind, "id": p.row_id, "seq": p.seq, "message": p.message}
                                for p in chain.problems
                            ],
                            "text": seal_lines,
                        },
                    },
                    ensure_ascii=False,
                ),
                file=out,
            )
        else:
            if errors:
                for e in errors:
                    print(e.message, file=out)
            elif not broken:
                print(
                    f"Liggaren stämmer: {len(ledger.entries)} poster och {len(ledger.followups)} "
                    "uppföljningar spelades upp utan fel.",
                    file=out,
                )
            for u in ungiven:
                print(f"Obs: {u.message}", file=out)
            for line in seal_lines:
                print(line, file=out)
        return 1 if errors or broken else 0
    raise AssertionError(args.command)


def outdated_example_text(name: str, result: ExampleResult) -> str:
    """load-example on a city that holds an older version of the example (issue 17 item 7)."""
    shares = result.outdated
    wrong = [s for s in shares if not any(_unnamed(r, s.unit) == s.expected for r in s.stored)]
    lines = [
        f"Exemplet {name} finns redan i databasen ({result.organisation}), men i en äldre version: "
        f"{len(shares)} andelar hänvisar till andra beslut än exemplet gör nu."
    ]
    if wrong:
        first = wrong[0]
        lines.append(
            f"- {len(wrong)} andelar av gemensamma insatser hänvisar till en annan nämnds beslut, "
            f'till exempel {first.unit}:s andel av "{first.title}": "{", ".join(first.stored)}", '
            f'rätt är "{first.expected}".'
        )
    unnamed = next((s for s in shares if any(r.startswith("Nämnd ") for r in s.stored)), None)
    if unnamed is not None:
        lines.append(
            f'- Nämndernas beslut saknar nämndens namn ("{unnamed.stored[0]}" i stället för '
            f'"{_unnamed(unnamed.stored[0], unnamed.unit)}").'
        )
    lines.append(
        "Liggaren går inte att ändra i efterhand, så inget ändrades. För det rättade exemplet: börja om "
        "med en ny databas (ta bort var/kompetensbot.db, eller ange en ny, tom databas i DATABASE_URL) "
        f"och kör make demo, eller kompetensbot db upgrade och kompetensbot load-example {name}."
    )
    return "\n".join(lines)


def _unnamed(reference: str, unit: str) -> str:
    """ "Nämnd 2025-01-28 § 17" as its committee's own: "TN 2025-01-28 § 17"."""
    return unit + reference[len("Nämnd") :] if reference.startswith("Nämnd ") else reference


def seal_text(chain: ChainReport, key: LedgerKey) -> list[str]:
    """What validate says about a city's seal, in Swedish."""
    lines: list[str] = []
    if chain.unverifiable:
        lines.append(
            f"Sigillet för {chain.slug} kan inte kontrolleras: delar av det är förseglade med en "
            f"annan nyckel än den i {KEY_VARIABLE} här. Kör validate med samma nyckel som servern."
        )
    elif chain.problems:
        first = chain.problems[0]
        where = f"sigill nr {first.seq}" if first.seq is not None else "utanför kedjan"
        lines.append(f"Sigillet bryts för {chain.slug} vid {where}: {first.message}.")
        for more in chain.problems[1:]:
            lines.append(f"Dessutom: {more.message}.")
    else:
        lines.append(f"Sigillet stämmer för {chain.slug}: {chain.length} rader förseglade.")
    lines.append(
        f"Kedjans huvud för {chain.slug}: nr {chain.length} {chain.head or '(tom)'} "
        "(spara det utanför databasen och jämför nästa gång)."
    )
    if key.development:
        lines.append(
            f"Obs: {KEY_VARIABLE} saknas, så utvecklingsnyckeln används. Den kan alla läsa: "
            "sigillet visar misstag men skyddar inte mot den som kan skriva i databasen. "
            "Sätt en egen nyckel i drift."
        )
    elif chain.development:
        lines.append(
            "Obs: de första raderna är förseglade med utvecklingsnyckeln (innan en egen nyckel "
            "sattes): för dem skyddar sigillet inte mot den som kan skriva i databasen."
        )
    return lines


def _with_flag_hint(refused: RuleViolation) -> RuleViolation:
    """A follow-up's refusal with the command line's way past it, where there is one:
    --confirm-amount for an implausible amount, --after-close --reason for a closed period."""
    hints = {
        IMPLAUSIBLE: " Stämmer beloppet, kör kommandot igen med --confirm-amount.",
        PERIOD_CLOSED: ' En administratör kan registrera den ändå med --after-close --reason "skäl" '
        "(skälet sparas med uppföljningen).",
    }
    errors = list(refused.errors)
    for code, hint in hints.items():
        last = max((i for i, e in enumerate(errors) if e.code == code), default=None)
        if last is not None:
            errors[last] = RuleError(code, errors[last].message + hint, errors[last].field)
    return RuleViolation(errors)


def _zero_or_amount(text: str, field: str) -> int:
    return parse_amount(text, field=field, allow_zero=True)


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """The process's logging, set once: lines with a UTC timestamp, the root
    logger at KOMPETENSBOT_LOG (WARNING by default; `serve` keeps its own
    loggers at INFO, see bot.app.serve)."""
    handler = logging.StreamHandler()
    formatter = logging.Formatter(LOG_FORMAT, "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logging.basicConfig(level=os.environ.get("KOMPETENSBOT_LOG", "WARNING").upper(), handlers=[handler])


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except BrokenPipeError:  # the reader went away (| head): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except TemplateError as problem:
        print(
            f"kompetensbot: filen importerades inte ({len(problem.row_errors)} fel):",
            file=sys.stderr,
        )
        for e in problem.row_errors:
            print(f"  {e}", file=sys.stderr)
        return EXIT_REFUSED
    except PermissionDenied as problem:  # the command line acts as --user: name who was refused
        who = getattr(args, "user", None)
        print(f"kompetensbot: {who + ': ' if who else ''}{problem.message}", file=sys.stderr)
        return EXIT_REFUSED
    except DomainError as problem:
        print(f"kompetensbot: {problem.message}", file=sys.stderr)
        return EXIT_REFUSED
    except (OperationalError, ProgrammingError) as problem:
        text = str(problem.orig if hasattr(problem, "orig") else problem).lower()
        if "no such table" in text or "does not exist" in text and "relation" in text:
            print(
                "kompetensbot: databasen saknar tabeller. Kör först: kompetensbot db upgrade",
                file=sys.stderr,
            )
        elif "no such column" in text or "column" in text and "does not exist" in text:
            print(  # a database from before the last upgrade of the program
                "kompetensbot: databasen har ett äldre schema än programmet. "
                "Kör först: kompetensbot db upgrade",
                file=sys.stderr,
            )
        else:
            log.debug("database error", exc_info=True)
            print("kompetensbot: databasen svarar inte. Försök igen om en stund.", file=sys.stderr)
        return EXIT_FAILED
    except Exception:
        log.exception("internal error")
        print("kompetensbot: ett internt fel inträffade; inget ändrades. Se loggen.", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
