"""Bulk data in and out: the bundled example, template import and export.

Every record goes through the same core commands as a single one would, so
the example and an imported file obey every rule.
"""

from __future__ import annotations

from collections.abc import Callable
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
from core.permissions import Action, can_any
from core.rules.decision import check_decision_given
from core.template import RowError, TemplateError, check_header, measure_rows, parse_rows
from core.text import clean_name
from storage.examples import read_example
from storage.templates import read_template, write_csv, write_xlsx
from storage.unit_of_work import UnitOfWorkFactory, units_of


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ExampleResult:
    loaded: bool
    organisation: str
    measures: int = 0
    entries: int = 0
    outdated: tuple[OutdatedShare, ...] = ()
    """When not loaded: the shares whose stored decision is not the one the
    bundled example cites now (the city holds an older version of it)."""


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
    decisions = {key: _decision(d) for key, d in data["decisions"].items()}
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


def load_example(
    engine: Engine,
    name: str,
    clock: Callable[[], datetime] = utcnow,
    *,
    units: UnitOfWorkFactory | None = None,
) -> ExampleResult:
    """Load a bundled example as a new city; a second call changes nothing.
    `units`: where to open the unit of work (default: over `engine`)."""
    data = read_example(name)
    org_data = data["organisation"]
    # No write lock: a city made in this transaction is seen by nobody else before it commits.
    uow = (units or units_of(engine))(org_data["slug"], create=org_data["name"])
    with uow as repo:
        if not repo.created:
            outdated = outdated_shares(repo.ledger(), data)
            return ExampleResult(False, repo.organisation.name, outdated=tuple(outdated))
        for u in data["units"]:
            aliases = tuple(clean_name(a) for a in u.get("aliases", ()))
            repo.add_unit(Unit(u["code"], clean_name(u["name"]), aliases))
        ledger = Ledger.build(repo.units())
        decisions = {key: _decision(d) for key, d in data["decisions"].items()}
        now = clock()
        entries = 0

        def append(entry: LedgerEntry) -> None:
            nonlocal ledger, entries
            stored = repo.append(entry)
            ledger = ledger.append(stored)
            entries += 1

        for f in data["funds"]:
            append(commands.set_fund(ledger, ADMIN, f["year"], f["amount"], decisions[f["decision"]], now))
        for a in data["allocations"]:
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
        return ExampleResult(True, org_data["name"], len(ids), entries)


def import_template(
    engine: Engine,
    org: str | None,
    user: str | None,
    path: Path,
    *,
    year: int,
    as_of: date,
    decision: Decision | None = None,
    clock: Callable[[], datetime] = utcnow,
    admin: Principal = ADMIN,
    decision_text: str | None = None,
    units: UnitOfWorkFactory | None = None,
) -> list[Measure]:
    """Import every row of a template, or nothing: raise TemplateError with
    every bad row (row number, column, reason). `admin`: who acts when no
    user is named (the command line's operator). The granted amounts need the
    decision behind them (`decision`, or `decision_text` read with each row's
    committee as the body when it names none): nothing is imported without.
    `units`: where to open the unit of work (default: over `engine`); `clock`: the
    time recorded on what is written."""
    header, rows = read_template(path)
    header_errors = check_header(header)
    if header_errors:
        raise TemplateError(header_errors)
    uow = (units or units_of(engine))(org, write=True)
    with uow as repo:
        who = admin if user is None else repo.principal(user)
        ledger = repo.ledger()
        planned, errors = parse_rows(rows, ledger, as_of, year)
        if decision is None and decision_text is None and any(plan.grants for plan in planned):
            if errors:
                raise TemplateError(sorted(dict.fromkeys(errors), key=lambda e: e.row))
            (missing,) = check_decision_given(None, "--decision")  # issue 17 item 3: the core's refusal
            raise DomainError(
                RuleError(
                    missing.code,
                    f"{path.name} beviljar belopp (Beviljat belopp). {missing.message} Ange det med "
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

        created: list[Measure] = []
        now = clock()
        for plan in planned:
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
                    entry = commands.grant_measure(
                        ledger, who, stored.id, unit, amount, decision_for(unit), now
                    )
                except DomainError as refused:
                    grant_row = plan.grant_rows.get(unit, row)
                    errors += [_row_error(grant_row, e, "Beviljat belopp") for e in refused.errors]
                    continue
                ledger = ledger.append(repo.append(entry))
        if errors:  # a duplicate title is found by the parse and by the rule: reported once
            raise TemplateError(sorted(dict.fromkeys(errors), key=lambda e: e.row))
        if not created:
            raise TemplateError([_row_error(2, RuleError("empty", "Filen har inga insatser."))])
        uow.commit()
        return created


def _row_error(row: int, error: RuleError, column: str | None = None) -> RowError:
    names = {
        "belopp": "Beviljat belopp",
        "nämnd": "Nämnd",
        "insats": "Insats",
        "slutdatum": "Slutdatum",
    }
    return RowError(row, column or names.get(error.field or "", error.field or "Insats"), error.message)


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
    with (units or units_of(engine))(org) as repo:
        who = principal or (ADMIN if user is None else repo.principal(user))
        ledger = repo.ledger()
        rows: list[dict[str, str]] = []
        for m in sorted(ledger.measures.values(), key=lambda m: m.id):
            if m.year != year or not can_any(who, Action.READ, m.units):
                continue
            shares = [(s.unit, s.allocated) for s in measure_balance(ledger, m.id).shares]
            rows += measure_rows(m, ledger.current_status(m.id), shares)
        return rows


def export_bytes(rows: list[dict[str, str]], fmt: str) -> bytes:
    if fmt == "csv":
        return write_csv(rows)
    if fmt == "xlsx":
        return write_xlsx(rows)
    raise ValueError(fmt)
