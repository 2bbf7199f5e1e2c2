"""What the command line says about competence needs (issue 21), in Swedish:
`kompetensbot needs`, `need add | link | unlink | history` and the needs at risk
in `followup status`. (Beside cli/texts.py, as its own module, so the needs'
words stay together.)
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.needs_services import NeedAtRisk
from cli.texts import table
from core.money import format_amount
from core.needs import UNCLAIMED, NeedEntry, NeedLinkEndedEntry, NeedLinkEntry
from core.needs_report import LinkedMeasure, NeedsReport, NeedView

STALE = "inaktuell bedömning"
"""How an assessment older than two years is flagged (core.needs.is_stale)."""


def percent(basis_points: int) -> str:
    """2 500 → "25 %", 1 250 → "12,5 %", 3 333 → "33,33 %"."""
    whole, part = divmod(basis_points, 100)
    return f"{whole} %" if part == 0 else f"{whole},{part:02d}".rstrip("0") + " %"


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def source_line(need: NeedEntry) -> str:
    """ "Kompetensförsörjningsplan 2024 (2024-03-01)", or the source alone without a date."""
    return need.source + (f" ({need.source_date.isoformat()})" if need.source_date else "")


def assessed_text(need: NeedEntry, stale: bool) -> str:
    return need.assessed.isoformat() + (f" ({STALE})" if stale else "")


def _title(m: LinkedMeasure) -> str:
    """A linked measure as the reader may see it: another committee's only by its committee."""
    if not m.visible:
        return f"en insats i {', '.join(m.units)} (som du inte kan läsa)"
    return f'"{m.title}" (id {m.id}, {", ".join(m.units)})'


def linked_line(m: LinkedMeasure, year: int) -> str:
    """One linked measure under its need: status, share, people, money, whether it answers."""
    answers = f"svarar mot behovet {year}" if m.answers else f"svarar inte mot behovet {year}"
    if not m.visible:
        return f"{_title(m)}: {answers}"
    parts = [m.status.value]
    parts.append(f"andel {percent(m.share)}" if m.share is not None else "lika del av resten")
    if m.people is not None:
        parts.append(f"når {m.people} personer")
    if m.reached is not None:
        parts.append(f"{m.reached} nådda hittills")
    parts.append(f"{format_amount(m.money)} {year}")
    return f"{_title(m)}: {', '.join(parts)}; {answers}"


def _heading(report: NeedsReport, city: str, *, uncovered: bool, hard_to_recruit: bool) -> str:
    if uncovered:
        what = f"Behov som ingen insats svarar mot {report.year}"
    elif hard_to_recruit:
        what = f"Svårrekryterade yrken med pensionsavgångar {report.year}"
    else:
        what = f"Kompetensbehov {report.year}"
    return f"{what}, {city} (per {report.today.isoformat()})"


def needs_text(
    report: NeedsReport,
    city: str,
    *,
    uncovered: bool = False,
    hard_to_recruit: bool = False,
    funded: bool = True,
) -> str:
    """`kompetensbot needs`: the table, each need's source, competence and measures, then the
    money per role with what no need claims; in a city without a fund for the year (`funded`
    false) no kronor at all, as if nothing went to a need, but that no money is followed."""
    lines = [_heading(report, city, uncovered=uncovered, hard_to_recruit=hard_to_recruit), ""]
    if not report.needs:
        if not report.total and report.other_years:
            years = ", ".join(p.label for p in report.other_years)
            lines.append(
                f"Inga behov gäller {report.year}: de som finns gäller {years}. Ange året med --year."
            )
        elif not report.total:
            lines.append("Inga behov är registrerade (eller inga som du kan läsa).")
        elif uncovered:
            lines.append(f"Alla behov har en insats som svarar mot dem {report.year}.")
        else:
            lines.append("Inga behov matchar.")
    else:
        lines += [_table(report, funded), ""]
        for view in report.needs:
            lines += _details(view, report.year)
        order = " (brist först, sedan flest pensionsavgångar)" if uncovered or hard_to_recruit else ""
        lines.append(f"{len(report.needs)} av {report.total} behov{order}.")
    if funded:
        lines += ["", *money_lines(report)]
    else:
        lines += [
            "",
            f"Staden har ingen fond för {report.year}: insatsernas pengar följs inte i kompetensbot.",
        ]
    return "\n".join(lines).rstrip()


def _table(report: NeedsReport, funded: bool = True) -> str:
    rows = [
        [
            "Id",
            "Nämnd",
            "Område",
            "Yrkesgrupp",
            "Typ",
            "Antal",
            "Pensionsavgångar",
            "Rekryteringsläge",
            "Period",
            f"Pengar {report.year}",
            "Bedömd",
        ]
    ]
    for v in report.needs:
        n = v.need
        rows.append(
            [
                n.key,
                n.unit,
                n.area or "",
                n.role + (f" ({n.ssyk})" if n.ssyk else ""),
                n.kind.value,
                _number(n.people),
                _number(n.retirements),
                n.recruitment.value,
                n.period.label,
                format_amount(v.money) if funded else "–",
                assessed_text(n, v.stale),
            ]
        )
    return table(rows, {5, 6, 9})


def _details(view: NeedView, year: int) -> list[str]:
    n = view.need
    lines = [f"{n.key} {n.role}, {n.unit}: {n.competence}"]
    lines.append(f"  Källa: {source_line(n)}. Bedömd {assessed_text(n, view.stale)}.")
    if view.assessments > 1:
        lines.append(f"  {view.assessments} bedömningar (kompetensbot need history {n.key}).")
    if not view.measures:
        lines.append("  Ingen insats är kopplad till behovet.")
    for m in view.measures:
        lines.append(f"  - {linked_line(m, year)}")
    if view.measures and not view.covered:
        lines.append(f"  Ingen kopplad insats svarar mot behovet {year}.")
    lines.append("")
    return lines


def unlinked_lines(report: NeedsReport) -> list[str]:
    """The money of the measures the reader may see that answer no need at all."""
    amount, count = report.unlinked
    if not count:
        return []
    measures = "1 insats" if count == 1 else f"{count} insatser"
    money = format_amount(amount)
    return [f"Utanför behoven: {money} {report.year} i {measures} som inte svarar mot något behov."]


def money_lines(report: NeedsReport) -> list[str]:
    """The linked measures' money per role in the year, what no need claims, and the sum."""
    if not report.by_role and not report.unclaimed:
        return [f"Inga pengar {report.year} i insatser kopplade till behov.", *unlinked_lines(report)]
    lines = [f"Pengar per yrkesgrupp {report.year} (kopplade insatsers beviljade pengar):"]
    rows = [(role, amount, role in report.shared_roles) for role, amount in report.by_role]
    total = sum(amount for _, amount in report.by_role) + report.unclaimed
    width = max([len(UNCLAIMED), *(len(role) for role, _, _ in rows)])
    money = len(format_amount(total))
    for role, amount, shared in rows:
        line = f"  {role.ljust(width)}  {format_amount(amount).rjust(money)}"
        lines.append(line + ("  (delad insats)" if shared else ""))
    lines.append(f"  {UNCLAIMED.ljust(width)}  {format_amount(report.unclaimed).rjust(money)}")
    lines.append(f"  {'Summa'.ljust(width)}  {format_amount(total).rjust(money)}")
    lines += unlinked_lines(report)
    if report.shared_roles:
        lines.append(
            "Delad insats: pengarna kommer från en insats som också svarar mot en annan yrkesgrupps behov, "
            f'eller som har pengar som inget behov gör anspråk på ("{UNCLAIMED}"). '
            "Andelar som anges vid kopplingen räknas först, resten delas lika."
        )
    return lines


# --- need add | link | unlink | history -----------------------------------------------


def need_unchanged(need: NeedEntry, assessments: int) -> str:
    times = "1 bedömning" if assessments == 1 else f"{assessments} bedömningar"
    return (
        f"Behovet {need.key} ({need.role}, {need.unit}, {need.period.label}) är oförändrat: den nya "
        f"bedömningen säger detsamma som den senaste, så inget sparades ({times})."
    )


def need_saved(need: NeedEntry, assessments: int, stale: bool) -> str:
    what = f"Behovet {need.key} ({need.role}, {need.unit}, {need.period.label})"
    if assessments > 1:
        text = (
            f"{what} är sparat: ny bedömning av {need.key}, den tidigare finns kvar i historiken "
            f"({assessments} bedömningar)."
        )
    else:
        text = f"{what} är registrerat, bedömt {need.assessed.isoformat()}."
    if stale:
        text += f" Obs: bedömningen är mer än två år gammal ({STALE})."
    return text


def link_saved(link: NeedLinkEntry, title: str, *, replaced: bool) -> str:
    parts = [f"andel {percent(link.share)}" if link.share is not None else "utan andel (resten delas lika)"]
    if link.people is not None:
        parts.append(f"når {link.people} personer")
    text = (
        f'Behovet {link.need} är kopplat till insatsen "{title}" (id {link.measure_id}), {", ".join(parts)}.'
    )
    if replaced:
        text += " Kopplingen ersätter den tidigare, som finns kvar i historiken."
    return text


def link_ended(need: str, title: str, measure_id: int) -> str:
    return (
        f'Kopplingen mellan behovet {need} och insatsen "{title}" (id {measure_id}) är avslutad; '
        "den finns kvar i historiken."
    )


def link_history_lines(links: Sequence[tuple[NeedLinkEntry | NeedLinkEndedEntry, str]]) -> list[str]:
    """`need history`: every link of the need and every end of one, as made."""
    if not links:
        return ["", "Kopplingar: inga."]
    lines = ["", "Kopplingar till insatser:"]
    for entry, measure in links:
        when = f"{entry.at.date().isoformat()} av {entry.author}"
        if isinstance(entry, NeedLinkEntry):
            parts = [f"andel {percent(entry.share)}" if entry.share is not None else "resten delas lika"]
            if entry.people is not None:
                parts.append(f"når {entry.people} personer")
            lines.append(f"  {when}: kopplat till {measure}, {', '.join(parts)}")
        else:
            lines.append(f"  {when}: kopplingen till {measure} avslutad")
        if entry.note:
            lines.append(f"    Kommentar: {entry.note}")
    return lines


def history_text(entries: Sequence[NeedEntry]) -> str:
    last = entries[-1]
    count = "1 bedömning" if len(entries) == 1 else f"{len(entries)} bedömningar, den senaste gäller"
    lines = [f"Behovet {last.key} ({last.role}, {last.unit}): {count}.", ""]
    rows = [
        [
            "Bedömd",
            "Typ",
            "Antal",
            "Pensionsavgångar",
            "Rekryteringsläge",
            "Period",
            "Källa",
            "Registrerad av",
        ]
    ]
    for e in entries:
        rows.append(
            [
                e.assessed.isoformat(),
                e.kind.value,
                _number(e.people),
                _number(e.retirements),
                e.recruitment.value,
                e.period.label,
                source_line(e),
                f"{e.author} {e.at.date().isoformat()}",
            ]
        )
    return "\n".join([*lines, table(rows, {2, 3})])


# --- followup status -------------------------------------------------------------------


def at_risk_lines(needs: Sequence[NeedAtRisk], year: int) -> list[str]:
    """`followup status`: the needs whose linked measures no longer answer them."""
    lines = [f"Behov vars insatser är i fara {year} ({len(needs)}):"]
    for item in needs:
        n = item.view.need
        state = (
            "täcks ännu av en annan insats" if item.view.covered else "ingen insats svarar längre mot behovet"
        )
        lines.append(f"  - {n.key} {n.role} ({n.unit}, {n.recruitment.value}): {state}")
        for m, why in item.measures:
            lines.append(f"      {_title(m)}: {why}")
    return lines
