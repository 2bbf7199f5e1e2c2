"""Bulk data in and out: the bundled example, template import and export.

Every record goes through the same core commands as a single one would, so
the example and an imported file obey every rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from core import commands
from core.balances import measure_balance
from core.entries import LedgerEntry
from core.errors import DomainError, RuleError
from core.ledger import Ledger
from core.model import (
    ADMIN,
    Category,
    Decision,
    FollowUp,
    Measure,
    Principal,
    Status,
    Unit,
    parse_body,
    parse_decision,
)
from core.needs import NeedEntry, NeedKind, NeedLinkEntry, Needs, Recruitment, need_key, read_period
from core.needs_template import (
    LINK_COLUMN,
    check_needs_header,
    links_cell,
    measure_need_refs,
    need_row_error,
    need_rows,
    parse_need_rows,
    same_assessment,
)
from core.permissions import Action, can, can_any
from core.rules.decision import check_decision_given
from core.template import RowError, TemplateError, check_header, measure_rows, parse_rows
from core.text import clean_name
from storage.examples import read_example
from storage.templates import Sheet, TemplateFile, read_template_file, write_csv, write_needs_csv, write_xlsx
from storage.unit_of_work import UnitOfWorkFactory, units_of


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ExampleResult:
    loaded: bool
    organisation: str
    measures: int = 0
    entries: int = 0
    needs: int = 0
    links: int = 0
    outdated: tuple[OutdatedShare, ...] = ()
    """When not loaded: the shares whose stored decision is not the one the
    bundled example cites now (the city holds an older version of it)."""
    missing_needs: tuple[str, ...] = ()
    """When not loaded: the example's needs the stored city lacks (it was loaded
    before the example had them, issue 21)."""


@dataclass(frozen=True, slots=True)
class OutdatedShare:
    """A unit's share of an example measure, stored with another decision."""

    unit: str
    title: str
    stored: tuple[str, ...]  # the references stored ("Nämnd 2025-01-29 § 10")
    expected: str  # the bundled example's ("TN 2025-01-28 § 17")


def _decision(data: dict[str, Any]) -> Decision:
    return Decision(
        body=parse_body(data["body"]),
        date=date.fromisoformat(data["date"]) if data.get("date") else None,
        paragraph=data.get("paragraph"),
        case_number=data.get("case_number"),
        title=data.get("title"),
    )


def share_decision(measure: dict[str, Any], unit: str) -> str:
    """The key of the decision behind a unit's share of an example measure: a
    shared measure names each committee's own ({"TN": "tn-2025-01-28", ...})."""
    decision = measure["decision"]
    return str(decision[unit] if isinstance(decision, dict) else decision)


def outdated_shares(ledger: Ledger, data: dict[str, Any]) -> list[OutdatedShare]:
    """The example's shares that a stored city cites with another decision than
    the bundled example does: it was loaded from an older version (before issue
    17 the committees' decisions read "Nämnd …" and some shares of shared
    measures cited another committee's decision). Append-only: they stay."""
    decisions = {key: _decision(d) for key, d in data.get("decisions", {}).items()}
    by_title = {(m.title, m.year): m for m in ledger.measures.values()}
    found: list[OutdatedShare] = []
    for m in data["measures"]:
        stored = by_title.get((m["title"], m["year"]))
        if stored is None:
            continue
        for unit in m.get("funding", {}):
            expected = decisions[share_decision(m, unit)].reference
            shares = ledger.fundings(m["year"], stored.id)
            refs = sorted({f.decision.reference for f in shares if f.unit == unit})
            if refs and expected not in refs:
                found.append(OutdatedShare(unit, m["title"], tuple(refs), expected))
    return found


def _example_need(n: dict[str, Any], author: str, at: datetime) -> NeedEntry:
    """A need of a bundled example (its JSON's "needs")."""
    return NeedEntry(
        key=n["key"],
        unit=n["unit"],
        role=n["role"],
        kind=NeedKind(n["kind"]),
        competence=n["competence"],
        recruitment=Recruitment(n.get("recruitment", Recruitment.UNKNOWN.value)),
        period=read_period(n["period"]),
        source=n["source"],
        source_date=date.fromisoformat(n["source_date"]) if n.get("source_date") else None,
        assessed=date.fromisoformat(n["assessed"]),
        author=author,
        at=at,
        area=n.get("area"),
        ssyk=n.get("ssyk"),
        people=n.get("people"),
        retirements=n.get("retirements"),
    )


def _example_link(link: str | dict[str, Any], measure_id: int, author: str, at: datetime) -> NeedLinkEntry:
    """A measure's link to a need in a bundled example: the need's key, or
    {"need": key, "share": basis points, "people": n, "note": text}."""
    if isinstance(link, str):
        return NeedLinkEntry(link, measure_id, author, at)
    return NeedLinkEntry(
        link["need"],
        measure_id,
        author,
        at,
        people=link.get("people"),
        share=link.get("share"),
        note=link.get("note", ""),
    )


def load_example(
    engine: Engine,
    name: str,
    clock: Callable[[], datetime] = utcnow,
    *,
    units: UnitOfWorkFactory | None = None,
) -> ExampleResult:
    """Load a bundled example as a new city; a second call changes nothing.
    A city without this money model (no "funds", "allocations" or "decisions")
    has units, needs and measures only. `units`: where to open the unit of work
    (default: over `engine`)."""
    data = read_example(name)
    org_data = data["organisation"]
    # No write lock: a city made in this transaction is seen by nobody else before it commits.
    uow = (units or units_of(engine))(org_data["slug"], create=org_data["name"])
    with uow as repo:
        if not repo.created:
            outdated = outdated_shares(repo.ledger(), data)
            held = repo.needs()
            missing = tuple(n["key"] for n in data.get("needs", ()) if held.get(n["key"]) is None)
            return ExampleResult(
                False, repo.organisation.name, outdated=tuple(outdated), missing_needs=missing
            )
        for u in data["units"]:
            aliases = tuple(clean_name(a) for a in u.get("aliases", ()))
            repo.add_unit(Unit(u["code"], clean_name(u["name"]), aliases))
        ledger = Ledger.build(repo.units())
        needs = Needs.build()
        decisions = {key: _decision(d) for key, d in data.get("decisions", {}).items()}
        now = clock()
        entries = links = 0

        def append(entry: LedgerEntry) -> None:
            nonlocal ledger, entries
            stored = repo.append(entry)
            ledger = ledger.append(stored)
            entries += 1

        for f in data.get("funds", ()):
            append(commands.set_fund(ledger, ADMIN, f["year"], f["amount"], decisions[f["decision"]], now))
        for a in data.get("allocations", ()):
            append(
                commands.allocate(
                    ledger,
                    ADMIN,
                    a["unit"],
                    a["year"],
                    a["amount"],
                    decisions[a["decision"]],
                    now,
                    recurring=a.get("recurring", False),
                )
            )
        for n in data.get("needs", ()):
            need = repo.append_need(
                commands.assess_need(ledger, needs, ADMIN, _example_need(n, ADMIN.author, now))
            )
            needs = needs.append(need)
        ids: dict[str, int] = {}
        for m in data["measures"]:
            measure = commands.submit_measure(
                ledger,
                ADMIN,
                Measure(
                    id=0,
                    title=m["title"],
                    units=tuple(m["units"]),
                    year=m["year"],
                    description=m.get("description", ""),
                    target_group=m.get("target_group", ""),
                    categories=tuple(Category(c) for c in m.get("categories", ())),
                    requested=m.get("requested"),
                    in_base_budget=m.get("in_base_budget", False),
                    performer=m.get("performer", ""),
                    start_date=date.fromisoformat(m["start"]) if m.get("start") else None,
                    end_date=date.fromisoformat(m["end"]) if m.get("end") else None,
                    status=Status(m.get("status", Status.NOT_STARTED.value)),
                    parent_id=ids[m["parent"]] if m.get("parent") else None,
                    kom_kr=m.get("kom_kr", False),
                    created_by=ADMIN.user,
                ),
            )
            stored = repo.add_measure(measure)
            ledger = ledger.add_measure(stored)
            ids[m["key"]] = stored.id
            for unit, amount in m.get("funding", {}).items():
                append(
                    commands.grant_measure(
                        ledger, ADMIN, stored.id, unit, amount, decisions[share_decision(m, unit)], now
                    )
                )
            for wanted in m.get("needs", ()):
                link = _example_link(wanted, stored.id, ADMIN.author, now)
                needs = needs.append(repo.append_need(commands.link_need(ledger, needs, ADMIN, link)))
                links += 1
        for f in data.get("followups", ()):
            followup = FollowUp(
                measure_id=ids[f["measure"]],
                period=f["period"],
                status=Status(f["status"]),
                spent=f["spent"],
                forecast=f["forecast"],
                usable_as_planned=f["usable_as_planned"],
                note=f.get("note", ""),
                author=f.get("author", ADMIN.user),
                at=datetime.fromisoformat(f["at"]) if f.get("at") else now,
            )
            ledger = ledger.add_followup(repo.add_followup(commands.report_followup(ledger, ADMIN, followup)))
        uow.commit()
        return ExampleResult(True, org_data["name"], len(ids), entries, len(data.get("needs", ())), links)


# --- the template: import ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What a template import wrote: its measures, needs and links (all or nothing)."""

    measures: tuple[Measure, ...]
    needs: tuple[NeedEntry, ...] = ()
    links: tuple[NeedLinkEntry, ...] = ()
    unchanged: tuple[str, ...] = ()  # the needs whose row said what they say already: not written again


def _sheets(files: Sequence[TemplateFile]) -> tuple[Sheet | None, Sheet | None]:
    """The one measures' sheet and the one needs' sheet of the files: two of a kind are refused."""
    measures = [(f.name, f.measures) for f in files if f.measures is not None]
    needs = [(f.name, f.needs) for f in files if f.needs is not None]
    for kind, found in (("insatser", measures), ("behov", needs)):
        if len(found) > 1:
            names = " och ".join(name for name, _ in found)
            raise DomainError(
                RuleError(
                    "two_sheets",
                    f"Både {names} har {kind}. Importera en fil med insatser och en med behov "
                    "(eller en XLSX-fil med bladet Behov). Inget importerades.",
                    "fil",
                )
            )
    return (measures[0][1] if measures else None), (needs[0][1] if needs else None)


def import_template(
    engine: Engine,
    org: str | None,
    user: str | None,
    path: Path | Sequence[Path],
    *,
    year: int,
    as_of: date,
    decision: Decision | None = None,
    clock: Callable[[], datetime] = utcnow,
    admin: Principal = ADMIN,
    decision_text: str | None = None,
    units: UnitOfWorkFactory | None = None,
) -> list[Measure]:
    """The measures of `import_files` (which see), as a list."""
    return list(
        import_files(
            engine,
            org,
            user,
            [path] if isinstance(path, Path) else path,
            year=year,
            as_of=as_of,
            decision=decision,
            clock=clock,
            admin=admin,
            decision_text=decision_text,
            units=units,
        ).measures
    )


def import_files(
    engine: Engine,
    org: str | None,
    user: str | None,
    paths: Sequence[Path],
    *,
    year: int,
    as_of: date,
    decision: Decision | None = None,
    clock: Callable[[], datetime] = utcnow,
    admin: Principal = ADMIN,
    decision_text: str | None = None,
    units: UnitOfWorkFactory | None = None,
) -> ImportResult:
    """Import every row of a template, or nothing: raise TemplateError with
    every bad row (row number, column, reason; a need's row also names its sheet
    or file). The template is one XLSX file (the measures on its first sheet, the
    needs on the sheet "Behov"), or CSV files told apart by their headers (one of
    measures, one of needs, either may be left out). The needs are assessed first
    (core.commands.assess_need), then the measures and their grants, then each
    measure's links to the needs its Behov cell names (core.commands.link_need),
    all in one unit of work. `admin`: who acts when no user is named (the command
    line's operator). The granted amounts need the decision behind them
    (`decision`, or `decision_text` read with each row's committee as the body
    when it names none): nothing is imported without. `units`: where to open the
    unit of work (default: over `engine`); `clock`: the time recorded on what is
    written."""
    measures_sheet, needs_sheet = _sheets([read_template_file(p) for p in paths])
    label = needs_sheet.name if needs_sheet else ""
    header_errors = check_header(measures_sheet.header) if measures_sheet else []
    header_errors += check_needs_header(needs_sheet.header, label) if needs_sheet else []
    if header_errors:
        raise TemplateError(header_errors)
    rows = measures_sheet.rows if measures_sheet else []
    need_lines = needs_sheet.rows if needs_sheet else []
    name = " och ".join(p.name for p in paths)
    uow = (units or units_of(engine))(org, write=True)
    with uow as repo:
        who = admin if user is None else repo.principal(user)
        ledger, needs = repo.ledger(), repo.needs()
        now = clock()
        planned_needs, need_errors = parse_need_rows(
            need_lines, ledger, as_of, author=who.author, at=now, sheet=label
        )
        planned, errors = parse_rows(rows, ledger, as_of, year)
        refs, ref_errors = measure_need_refs(rows, planned, need_lines, needs)
        errors += ref_errors

        def refusal() -> TemplateError:
            # a duplicate title is found by the parse and by the rule: reported once
            return TemplateError(
                sorted(dict.fromkeys(errors), key=lambda e: e.row)
                + sorted(dict.fromkeys(need_errors), key=lambda e: e.row)
            )

        if decision is None and decision_text is None and any(plan.grants for plan in planned):
            if errors or need_errors:
                raise refusal()
            (missing,) = check_decision_given(None, "--decision")  # issue 17 item 3: the core's refusal
            raise DomainError(
                RuleError(
                    missing.code,
                    f"{name} beviljar belopp (Beviljat belopp). {missing.message} Ange det med "
                    '--decision, eller "nämnd 2025-02-05 § 5" för varje rads egen nämnd. Inget importerades.',
                    missing.field,
                )
            )

        given = {  # read once per unit, before anything is written
            unit: parse_decision(decision_text, "--decision", default_body=unit, units=ledger.units.values())
            for plan in planned
            for unit in plan.grants
            if decision is None and decision_text is not None
        }

        def decision_for(unit: str) -> Decision:
            return decision if decision is not None else given[unit]

        assessed: list[NeedEntry] = []
        unchanged: list[str] = []
        for plan_need in planned_needs:
            try:
                entry = commands.assess_need(ledger, needs, who, plan_need.need)
            except DomainError as refused:
                need_errors += [need_row_error(plan_need.row, e, label) for e in refused.errors]
                continue
            if same_assessment(entry, needs.get(entry.key)):
                unchanged.append(entry.key)
                continue
            stored_need = repo.append_need(entry)
            needs = needs.append(stored_need)
            assert isinstance(stored_need, NeedEntry)
            assessed.append(stored_need)
        created: list[Measure] = []
        linked: list[NeedLinkEntry] = []
        for plan, plan_refs in zip(planned, refs, strict=True):
            row = plan.rows[0]
            try:
                measure = commands.submit_measure(ledger, who, plan.measure)
            except DomainError as refused:
                errors += [_row_error(row, e) for e in refused.errors]
                continue
            stored = repo.add_measure(measure)
            ledger = ledger.add_measure(stored)
            created.append(stored)
            for unit, amount in plan.grants.items():
                try:
                    grant = commands.grant_measure(
                        ledger, who, stored.id, unit, amount, decision_for(unit), now
                    )
                except DomainError as refused:
                    grant_row = plan.grant_rows.get(unit, row)
                    errors += [_row_error(grant_row, e, "Beviljat belopp") for e in refused.errors]
                    continue
                ledger = ledger.append(repo.append(grant))
            for ref in plan_refs:
                if needs.get(ref.key) is None:
                    continue  # its own row on the needs sheet is named, or the cell's unknown id
                link = NeedLinkEntry(ref.key, stored.id, who.author, now, people=ref.people, share=ref.share)
                try:
                    link = commands.link_need(ledger, needs, who, link)
                except DomainError as refused:
                    errors += [RowError(ref.row, LINK_COLUMN, _link_refusal(e)) for e in refused.errors]
                    continue
                stored_link = repo.append_need(link)
                needs = needs.append(stored_link)
                assert isinstance(stored_link, NeedLinkEntry)
                linked.append(stored_link)
        if errors or need_errors:
            raise refusal()
        if not created and not assessed and not linked and not unchanged:
            what = "inga insatser eller behov" if needs_sheet else "inga insatser"
            raise TemplateError([_row_error(2, RuleError("empty", f"Filen har {what}."))])
        uow.commit()
        return ImportResult(tuple(created), tuple(assessed), tuple(linked), tuple(unchanged))


def _link_refusal(error: RuleError) -> str:
    """A link's refusal as the Behov cell's: a surplus need's note cannot be written in the template."""
    if error.code == "surplus_needs_note":
        return (
            f"{error.message} Mallen har ingen plats för kommentaren: koppla behovet i chatten "
            "eller på kommandoraden."
        )
    return error.message


def _row_error(row: int, error: RuleError, column: str | None = None) -> RowError:
    names = {
        "belopp": "Beviljat belopp",
        "nämnd": "Nämnd",
        "insats": "Insats",
        "slutdatum": "Slutdatum",
    }
    return RowError(row, column or names.get(error.field or "", error.field or "Insats"), error.message)


# --- the template: export ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateExport:
    """A year's template as a person may read it: the measures' rows (with the Behov
    column) and the needs' rows (the sheet "Behov", or the needs' CSV)."""

    rows: list[dict[str, str]]
    needs: list[dict[str, str]]


def export_template(
    engine: Engine,
    org: str | None,
    user: str | None,
    year: int,
    *,
    units: UnitOfWorkFactory | None = None,
    principal: Principal | None = None,
) -> TemplateExport:
    """The template of `year` that `user` may read (None: the administrator);
    `principal`: who acts, when the caller knows (the bot's demo mode). The measures
    are the year's; the needs are those whose period covers the year and those
    linked to one of the year's measures, of the units the person may read. A
    measure's Behov cell names its linked needs that the person may read, so the
    export imports into an empty city with the same needs and links."""
    with (units or units_of(engine))(org) as repo:
        who = principal or (ADMIN if user is None else repo.principal(user))
        ledger, needs = repo.ledger(), repo.needs()

        def readable(key: str) -> NeedEntry | None:
            need = needs.get(key)
            return need if need is not None and can(who, Action.READ, [need.unit]) else None

        rows: list[dict[str, str]] = []
        linked: set[str] = set()
        for m in sorted(ledger.measures.values(), key=lambda m: m.id):
            if m.year != year or not can_any(who, Action.READ, m.units):
                continue
            shares = [(s.unit, s.allocated) for s in measure_balance(ledger, m.id).shares]
            links = [link for link in needs.links_of_measure(m.id) if readable(link.need)]
            linked |= {need_key(link.need) for link in links}
            rows += measure_rows(m, ledger.current_status(m.id), shares, links_cell(links))
        wanted = [
            n
            for n in needs.current.values()
            if readable(n.key) and (n.period.covers(year) or need_key(n.key) in linked)
        ]
        return TemplateExport(rows, need_rows(wanted))


def export_rows(
    engine: Engine,
    org: str | None,
    user: str | None,
    year: int,
    *,
    units: UnitOfWorkFactory | None = None,
    principal: Principal | None = None,
) -> list[dict[str, str]]:
    """The template's rows of `year`'s measures that `user` may read (None: the
    administrator); `principal`: who acts, when the caller knows (the bot's demo mode)."""
    return export_template(engine, org, user, year, units=units, principal=principal).rows


def export_bytes(rows: list[dict[str, str]], fmt: str, needs: list[dict[str, str]] | None = None) -> bytes:
    """The measures' file; an XLSX file has the needs' sheet "Behov" too when `needs` is given."""
    if fmt == "csv":
        return write_csv(rows)
    if fmt == "xlsx":
        return write_xlsx(rows, needs=needs)
    raise ValueError(fmt)


def export_needs_bytes(needs: list[dict[str, str]]) -> bytes:
    """The needs' CSV, imported beside the measures' CSV (recognised by its header)."""
    return write_needs_csv(needs)
