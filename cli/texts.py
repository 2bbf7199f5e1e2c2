"""What the command line says, in Swedish: its refusals, its confirmations and its
tables and reports (the commands in cli/commands/ compute, this module words it).

The bot's own texts are in dialogs/texts.py; the help texts of the options stay
beside the options they explain (cli/commands/*), as argparse wants them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.data_services import ExampleResult
from core.balances import FundBalance
from core.dates import format_date, format_period
from core.model import NOT_GIVEN
from core.money import format_amount
from core.round_report import RoundReport
from core.rounds import MeasureState, Round
from core.rules.decision import decision_missing
from core.text import visible_text
from core.views import MeasureView
from storage.round_export import GRANTED
from storage.seal import KEY_VARIABLE, ChainReport, LedgerKey

PROGRAM = "kompetensbot"
DESCRIPTION = "Kompetensutvecklingsmedel: regler, liggare och bot."


# --- refusals and failures (cli/main.py) -------------------------------------

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


HELP_POSITIONALS = "argument"
HELP_OPTIONS = "flaggor"
HELP_HELP = "visa den här hjälpen och avsluta"


def swedish_usage(text: str) -> str:
    """argparse's usage line begins "usage: ": in Swedish, the lines under it moved along."""
    english, swedish = "usage: ", "användning: "
    lines = text.split("\n")
    if lines and lines[0].startswith(english):
        indent = " " * (len(swedish) - len(english))
        lines[0] = swedish + lines[0][len(english) :]
        for i in range(1, len(lines)):
            if not lines[i].strip():
                break
            lines[i] = indent + lines[i]
    return "\n".join(lines)


def bad_command(message: str) -> str:
    """argparse's refusal, one line for stderr."""
    reason = swedish_argparse_message(message).rstrip(". ")
    return f"kompetensbot: felaktigt kommando: {reason}. Se --help.\n"


def refused(message: str, who: str | None = None) -> str:
    """A refused command (exit 2); `who` names the --user a permission was refused."""
    return f"kompetensbot: {who + ': ' if who else ''}{message}"


def template_refused(count: int) -> str:
    return f"kompetensbot: filen importerades inte ({count} fel):"


def template_row_error(error: object) -> str:
    return f"  {error}"


NO_TABLES = "kompetensbot: databasen saknar tabeller. Kör först: kompetensbot db upgrade"
OLD_SCHEMA = "kompetensbot: databasen har ett äldre schema än programmet. Kör först: kompetensbot db upgrade"
DATABASE_DOWN = "kompetensbot: databasen svarar inte. Försök igen om en stund."
INTERNAL_ERROR = (
    "kompetensbot: ett internt fel inträffade; inget ändrades. Kör kommandot igen med "
    "KOMPETENSBOT_LOG=DEBUG för att se felet, och skicka det till den som driftar kompetensbot."
)


# --- one-line answers of the commands -----------------------------------------


def database_upgraded(url: str) -> str:
    return f"Databasen är uppgraderad ({url})."


def seal_key_adopted(fingerprint: str) -> str:
    return (
        f"Liggarens sigill förseglas från och med nu med nyckeln i {KEY_VARIABLE} "
        f"(fingeravtryck {fingerprint[:16]})."
    )


DEVELOPMENT_KEY = f"Obs: {KEY_VARIABLE} saknas; liggaren förseglas med utvecklingsnyckeln."


def example_loaded(name: str, result: ExampleResult) -> str:
    needs = f", {result.needs} behov ({result.links} kopplingar till insatser)" if result.needs else ""
    return (
        f"Exemplet {name} är inläst: {result.organisation}, {result.measures} insatser{needs}, "
        f"{result.entries} poster i liggaren."
    )


def example_present(name: str, organisation: str) -> str:
    return f"Exemplet {name} finns redan i databasen ({organisation}); inget ändrades."


def _start_afresh(name: str, what: str) -> str:
    return (
        f"{what}: börja om med en ny databas (ta bort var/kompetensbot.db, eller ange en ny, tom databas "
        "i DATABASE_URL) och kör make demo, eller kompetensbot db upgrade och kompetensbot load-example "
        f"{name}."
    )


def example_without_needs(name: str, result: ExampleResult) -> str:
    """load-example on a city loaded before the example had its competence needs (issue 21)."""
    missing = result.missing_needs
    return (
        f"Exemplet {name} finns redan i databasen ({result.organisation}), men utan exemplets "
        f"{len(missing)} kompetensbehov ({', '.join(missing)}): staden lästes in innan exemplet hade dem. "
        f"Inget ändrades. {_start_afresh(name, 'För behoven')}"
    )


def package_unset(names: Sequence[str]) -> str:
    return f"kompetensbot: obs: {', '.join(names)} saknas; paketet har mallens exempelvärden."


def package_written(out: object, app_id: str, bot_id: str) -> str:
    return (
        f"Skrev {out} (app-id {app_id}, bot-id {bot_id}). "
        "Ladda upp den i Teams administrationscenter under Teams-appar → Hantera appar → Ladda upp."
    )


NEEDS_ORG = "Ange staden med --org, t.ex. --org malmo."


def unknown_org(org: str) -> str:
    return f'Staden "{org}" finns inte.'


def tenant_linked(tenant_id: str, org: str) -> str:
    return f"Tenant {tenant_id} betjänas nu av {org}."


def tenant_elsewhere(tenant_id: str, now: str, org: str) -> str:
    return (
        f"Tenant {tenant_id} betjänas redan av {now}; inget ändrades. Ska {org} ta över den "
        f"(och {now}s användare i den tenanten bli {org}s), kör kommandot igen med --move."
    )


def imported(count: int, file_name: str, needs: int = 0, links: int = 0, unchanged: int = 0) -> str:
    if not needs and not links and not unchanged:
        return f"Importerade {count} insatser från {file_name}."
    same = f"; {unchanged} behov var oförändrade och skrevs inte igen" if unchanged else ""
    return (
        f"Importerade {count} insatser, {needs} behov och {links} kopplingar mellan behov och insatser "
        f"från {file_name}{same}."
    )


def rows_written(count: int, out: object) -> str:
    return f"Skrev {count} rader till {out}."


def needs_written(count: int, out: object) -> str:
    return f"Skrev {count} behov till {out}."


def needs_sheet_written(count: int) -> str:
    return f"Behoven ({count}) står på bladet Behov."


def needs_in_own_file(count: int) -> str:
    return (
        f"Obs: {count} behov hör till årets mall. I CSV skrivs de till en egen fil med --needs "
        "(importera den tillsammans med insatsernas fil)."
    )


NEEDS_CSV_ONLY = "--needs gäller CSV (--format csv): i en XLSX-fil står behoven på bladet Behov."


XLSX_NEEDS_OUT = "XLSX skrivs till en fil: ange --out FIL."


def measure_registered(title: str, measure_id: int) -> str:
    return f'Insatsen "{title}" är registrerad med id {measure_id}.'


DECISION_HINT = " Ange det med --decision (utan organ: nämnden i --unit)."
REASON_WITHOUT_AFTER_CLOSE = "--reason gäller bara en registrering efter stängning: ange även --after-close."
IMPLAUSIBLE_HINT = " Stämmer beloppet, kör kommandot igen med --confirm-amount."
PERIOD_CLOSED_HINT = (
    ' En administratör kan registrera den ändå med --after-close --reason "skäl" '
    "(skälet sparas med uppföljningen)."
)


def followup_saved(period: str, seq: int, *, after_close: bool) -> str:
    late = " efter stängning; skälet står först i kommentaren" if after_close else ""
    return f"Uppföljningen för {period} är sparad{late} (nr {seq})."


def allocation_registered(amount: int, unit: str, seq: int) -> str:
    return f"Överföringen på {format_amount(amount)} till {unit} är registrerad (post {seq})."


def fund_registered(year: int) -> str:
    return f"Anslaget för {year} är registrerat."


def reallocation_registered(amount: int, seq: int, reference: str) -> str:
    return f"Omfördelningen på {format_amount(amount)} är registrerad (post {seq}, {reference})."


def role_line(user: str, role: str, unit: str | None) -> str:
    return f"{user}\t{role}\t{unit or 'hela staden'}"


NO_ROLES = "Inga roller är utdelade."


def role_granted(person: str, role: str, unit: str | None, *, new: bool) -> str:
    return f"{person} har {'fått' if new else 'redan'} rollen {role}{' för ' + unit if unit else ''}."


def no_such_grant(person: str, role: str) -> str:
    return f"{person} har inte rollen {role}."


def role_revoked(person: str, role: str) -> str:
    return f"Rollen {role} är borttagen för {person}."


def ledger_valid(entries: int, followups: int) -> str:
    return f"Liggaren stämmer: {entries} poster och {followups} uppföljningar spelades upp utan fel."


def note(message: str) -> str:
    return f"Obs: {message}"


def round_closed(period: str, *, closed: bool) -> str:
    name = format_period(period)
    if closed:
        return f"Uppföljningen {name} är stängd: inga fler utskick eller svar."
    return f"Uppföljningen {name} var redan stängd."


def round_exported(out: object, measures: int) -> str:
    return f"Skrev {out} ({measures} insatser)."


def round_opened(name: str) -> str:
    return f"Öppnade uppföljningsomgången {name}."


def tick_summary(recorded: int, outcomes: dict[str, int], cards_updated: int) -> str:
    o = outcomes
    return (
        f"Nya utskick att göra: {recorded}. Skickade: {o['sent']}, "
        f"redan besvarade: {o['skipped']}, "
        f"misslyckade: {o['failed']}, onåbara: {o['unreachable']}, försöks igen senare: {o['retry']}, "
        f"kort uppdaterade som besvarade: {cards_updated}."
    )


def tick_elsewhere(count: int) -> str:
    """`followup tick` on PostgreSQL: cities a running server plans (it holds their tick lock)."""
    cities = "stad" if count == 1 else "städer"
    return (
        f"{count} {cities} planeras av en annan process (kompetensbot serve): deras omgångar "
        "öppnas och deras utskick läggs upp där; det som redan är upplagt skickades också härifrån."
    )


def tick_repeated(count: int) -> str:
    return f"Obs: {count} utskick kan ha skickats två gånger (en tidigare körning avbröts mitt i)."


def bad_export_format(file_name: str) -> str:
    return f'Filen "{file_name}" ska sluta på .xlsx eller .csv.'


# --- tables and reports ------------------------------------------------------


def table(rows: Sequence[Sequence[str]], right: set[int]) -> str:
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
    return "\n".join([*header, "", table(rows, {2, 3, 4, 5}), "", *footer])


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
    return table(rows, {0, 5, 6}) + f"\n\n{len(views)} insatser."


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
        latest = b.followup
        lines.append(
            f"Senaste uppföljning {latest.period} av {latest.author} "
            f"({latest.at.date().isoformat()}): {visible_text(latest.note) or 'ingen kommentar'}"
        )
    return "\n".join(lines)


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
        "Liggaren går inte att ändra i efterhand, så inget ändrades. "
        + _start_afresh(name, "För det rättade exemplet")
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


# --- the follow-up round (kompetensbot followup open | status | tick) ---------


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


def send_counts(sends: Sequence[Any]) -> dict[str, dict[str, int]]:
    """The round's sends counted by kind and state (the report's and its JSON's)."""
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
    "proposals": "omfördelningsförslag",
    "handover": "överlämning till ersättare",
}
STATE_NAMES = {
    "pending": "väntar",
    "claimed": "skickas",
    "sent": "skickade",
    "failed": "misslyckade",
    "unreachable": "onåbara",
    "skipped": "behövdes inte",
}

"""A unit's column in the round's report: the sum of its measures' money, not the unit's
allocation (`kompetensbot funds`' "Tilldelat")."""


def report_text(report: RoundReport, sends: Sequence[Any]) -> str:
    kr = format_amount
    r = report.round
    lines = [round_text(r, report.as_of), ""]
    lines.append(
        f"Svar: {report.people_answered}; {sum(m.answered for m in report.measures)} av "
        f"{len(report.measures)} insatser."
    )
    lines += coverage_lines(report)
    for kind, states in send_counts(sends).items():
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
    on_behalf = [m for m in report.measures if m.answered and m.for_name]
    if on_behalf:  # issue 22: answers a substitute gave for someone away
        lines += ["", f"Svar lämnade för någon som är borta ({len(on_behalf)}):"]
        for m in on_behalf:
            lines.append(f"  - {m.title} ({', '.join(m.units)}, id {m.measure_id}): lämnad av {m.given_by}")
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


# --- issue 20: `followup propose` (what was sent: dialogs.texts.proposals_sent, as in chat) ---


def no_proposals_sent(reason: str) -> str:
    """`followup close`: why no proposals went to KSAU with the close."""
    return f"Inga omfördelningsförslag skickades till KSAU: {reason}"


def reminders_recorded(period: str, recipients: int, units: Sequence[str]) -> str:
    """`followup remind`: an extra reminder recorded (issue 20)."""
    where = f" i {', '.join(units)}" if units else ""
    if not recipients:
        return (
            f"Ingen påminnelse: alla som har fått kortet{where} har svarat på uppföljningen "
            f"{format_period(period)}."
        )
    people = "person" if recipients == 1 else "personer"
    return (
        f"En extra påminnelse till {recipients} {people}{where} i uppföljningen {format_period(period)} "
        "skickas med nästa utskick (followup tick, eller serverns)."
    )
