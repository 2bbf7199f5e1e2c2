"""Mapping between the database rows (storage.tables) and the domain's
records (core). The only place that knows both."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.entries import (
    AllocationEndEntry,
    AllocationEntry,
    FundEntry,
    LedgerEntry,
    MeasureFundingEntry,
    ReallocationEntry,
)
from core.model import Category, Decision, FollowUp, Measure, Role, RoleGrant, Status, Unit, parse_body
from core.needs import (
    NeedEntry,
    NeedKind,
    NeedLinkEndedEntry,
    NeedLinkEntry,
    NeedsEntry,
    Period,
    Recruitment,
)
from core.substitutes import Substitution, SubstitutionEnded
from storage.tables import (
    DecisionRow,
    FollowUpRow,
    LedgerEntryRow,
    MeasureRow,
    NeedEntryRow,
    RoleGrantRow,
    SubstitutionRow,
    UnitRow,
    utcnow,
)

SEP = "|"


def aware(at: datetime) -> datetime:
    """SQLite returns naive datetimes; everything stored is UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def utc(at: datetime) -> datetime:
    """A time as it is stored: in UTC. SQLite keeps a time's wall clock and
    drops its offset, so 10:00+02:00 came back as 10:00 UTC there (and as
    08:00 UTC from PostgreSQL): the seal's bytes differed between the two."""
    return at.astimezone(UTC) if at.tzinfo else at


def unit_from_row(row: UnitRow) -> Unit:
    return Unit(row.code, row.name, tuple(a for a in row.aliases.split(SEP) if a))


def decision_from_row(row: DecisionRow) -> Decision:
    return Decision(
        parse_body(row.body), row.decided_on, row.paragraph, row.case_number, row.title, row.delegate
    )


def decision_to_row(org_id: int, decision: Decision) -> DecisionRow:
    return DecisionRow(
        org_id=org_id,
        body=str(decision.body),
        reference=decision.reference,
        decided_on=decision.date,
        paragraph=decision.paragraph,
        case_number=decision.case_number,
        title=decision.title,
        delegate=decision.delegate,
    )


def measure_from_row(row: MeasureRow) -> Measure:
    assert row.id is not None
    return Measure(
        id=row.id,
        title=row.title,
        units=tuple(u for u in row.units.split(SEP) if u),
        year=row.year,
        description=row.description,
        target_group=row.target_group,
        categories=tuple(Category(c) for c in row.categories.split(SEP) if c),
        requested=row.requested,
        cost=row.cost,
        in_base_budget=row.in_base_budget,
        performer=row.performer,
        start_date=row.start_date,
        end_date=row.end_date,
        status=Status(row.status),
        parent_id=row.parent_id,
        kom_kr=row.kom_kr,
        responsible=row.responsible,
        evaluation=row.evaluation,
        created_by=row.created_by,
    )


def measure_to_row(org_id: int, m: Measure) -> MeasureRow:
    return MeasureRow(
        org_id=org_id,
        year=m.year,
        title=m.title,
        units=SEP.join(m.units),
        description=m.description,
        target_group=m.target_group,
        categories=SEP.join(c.value for c in m.categories),
        requested=m.requested,
        cost=m.cost,
        in_base_budget=m.in_base_budget,
        performer=m.performer,
        start_date=m.start_date,
        end_date=m.end_date,
        status=m.status.value,
        parent_id=m.parent_id,
        kom_kr=m.kom_kr,
        responsible=m.responsible,
        evaluation=m.evaluation,
        created_by=m.created_by,
    )


def entry_from_row(row: LedgerEntryRow, decision: Decision) -> LedgerEntry:
    common: dict[str, Any] = {
        "decision": decision,
        "author": row.author,
        "at": aware(row.created_at),
        "seq": row.seq,
        "author_id": row.author_id or "",
    }
    match row.kind:
        case "fund":
            return FundEntry(year=row.year or 0, amount=row.amount or 0, **common)
        case "allocation":
            return AllocationEntry(
                year=row.year or 0,
                unit=row.unit_code or "",
                amount=row.amount or 0,
                recurring=row.recurring,
                **common,
            )
        case "allocation_end":
            return AllocationEndEntry(
                allocation_seq=row.ends_seq or 0, last_year=row.last_year or 0, **common
            )
        case "measure_funding":
            return MeasureFundingEntry(
                year=row.year or 0,
                measure_id=row.measure_id or 0,
                unit=row.unit_code or "",
                amount=row.amount or 0,
                **common,
            )
        case "reallocation":
            return ReallocationEntry(
                year=row.year or 0,
                from_measure=row.measure_id or 0,
                to_measure=row.to_measure_id or 0,
                amount=row.amount or 0,
                **common,
            )
    raise ValueError(f"unknown ledger entry kind {row.kind!r}")


def entry_to_row(org_id: int, seq: int, decision_id: int, e: LedgerEntry) -> LedgerEntryRow:
    row = LedgerEntryRow(
        org_id=org_id,
        seq=seq,
        decision_id=decision_id,
        author=e.author,
        author_id=e.author_id,
        created_at=utc(e.at),
        kind="",
    )
    match e:
        case FundEntry():
            row.kind, row.year, row.amount = "fund", e.year, e.amount
        case AllocationEntry():
            row.kind, row.year, row.amount = "allocation", e.year, e.amount
            row.unit_code, row.recurring = e.unit, e.recurring
        case AllocationEndEntry():
            row.kind, row.ends_seq, row.last_year = "allocation_end", e.allocation_seq, e.last_year
        case MeasureFundingEntry():
            row.kind, row.year, row.amount = "measure_funding", e.year, e.amount
            row.measure_id, row.unit_code = e.measure_id, e.unit
        case ReallocationEntry():
            row.kind, row.year, row.amount = "reallocation", e.year, e.amount
            row.measure_id, row.to_measure_id = e.from_measure, e.to_measure
    return row


def followup_from_row(row: FollowUpRow) -> FollowUp:
    return FollowUp(
        measure_id=row.measure_id,
        period=row.period,
        status=Status(row.status),
        spent=row.spent,
        forecast=row.forecast,
        usable_as_planned=row.usable_as_planned,
        note=row.note,
        author=row.author,
        at=aware(row.created_at),
        seq=row.seq,
        author_id=row.author_id or "",
        reached=row.reached,
        for_id=row.for_id or "",
        for_name=row.for_name or "",
    )


def followup_to_row(org_id: int, seq: int, f: FollowUp) -> FollowUpRow:
    return FollowUpRow(
        org_id=org_id,
        seq=seq,
        measure_id=f.measure_id,
        period=f.period,
        status=f.status.value,
        spent=f.spent,
        forecast=f.forecast,
        usable_as_planned=f.usable_as_planned,
        note=f.note,
        author=f.author,
        author_id=f.author_id,
        created_at=utc(f.at),
        reached=f.reached,
        for_id=f.for_id or None,
        for_name=f.for_name or None,
    )


def need_entry_from_row(row: NeedEntryRow) -> NeedsEntry:
    """A stored need entry as the core's record (kind "need", "link" or "unlink")."""
    at, author, author_id = aware(row.created_at), row.author, row.author_id or ""
    if row.kind == "link":
        assert row.measure_id is not None
        return NeedLinkEntry(
            need=row.need_key,
            measure_id=row.measure_id,
            author=author,
            at=at,
            people=row.people,
            share=row.share,
            note=row.note,
            seq=row.seq,
            author_id=author_id,
        )
    if row.kind == "unlink":
        assert row.measure_id is not None
        return NeedLinkEndedEntry(
            need=row.need_key,
            measure_id=row.measure_id,
            author=author,
            at=at,
            note=row.note,
            seq=row.seq,
            author_id=author_id,
        )
    assert row.period_first is not None and row.period_last is not None and row.assessed is not None
    return NeedEntry(
        key=row.need_key,
        unit=row.unit_code or "",
        role=row.role or "",
        kind=NeedKind(row.need_kind or ""),
        competence=row.competence or "",
        recruitment=Recruitment(row.recruitment or Recruitment.UNKNOWN),
        period=Period(row.period_first, row.period_last),
        source=row.source or "",
        assessed=row.assessed,
        author=author,
        at=at,
        area=row.area,
        ssyk=row.ssyk,
        people=row.people,
        retirements=row.retirements,
        source_date=row.source_date,
        seq=row.seq,
        author_id=author_id,
    )


def need_entry_to_row(org_id: int, seq: int, e: NeedsEntry) -> NeedEntryRow:
    row = NeedEntryRow(
        org_id=org_id,
        seq=seq,
        kind="",
        need_key=e.need if not isinstance(e, NeedEntry) else e.key,
        author=e.author,
        author_id=e.author_id,
        created_at=utc(e.at),
    )
    match e:
        case NeedEntry():
            row.kind, row.unit_code, row.area, row.role, row.ssyk = "need", e.unit, e.area, e.role, e.ssyk
            row.need_kind, row.competence, row.recruitment = e.kind.value, e.competence, e.recruitment.value
            row.people, row.retirements = e.people, e.retirements
            row.period_first, row.period_last = e.period.first, e.period.last
            row.source, row.source_date, row.assessed = e.source, e.source_date, e.assessed
        case NeedLinkEntry():
            row.kind, row.measure_id, row.people, row.share, row.note = (
                "link",
                e.measure_id,
                e.people,
                e.share,
                e.note,
            )
        case NeedLinkEndedEntry():
            row.kind, row.measure_id, row.note = "unlink", e.measure_id, e.note
    return row


def grant_from_row(row: RoleGrantRow) -> RoleGrant:
    return RoleGrant(row.user_id, Role(row.role), row.unit_code)


def substitution_record_from_row(row: SubstitutionRow) -> Substitution | SubstitutionEnded:
    """A stored substitution (kind "set") or its early end (kind "end")."""
    at = aware(row.created_at)
    if row.kind == "end":
        assert row.ends is not None and row.ended_on is not None
        return SubstitutionEnded(row.ends, row.ended_on, row.author_id, at, row.seq)
    assert row.first_day is not None and row.last_day is not None
    units = frozenset(u for u in row.units.split("|") if u)
    return Substitution(
        row.absent, row.substitute, row.first_day, row.last_day, units, row.author_id, at, None, row.seq
    )


def substitution_to_row(org_id: int, seq: int, s: Substitution, author: str) -> SubstitutionRow:
    return SubstitutionRow(
        org_id=org_id,
        seq=seq,
        kind="set",
        absent=s.absent,
        substitute=s.substitute,
        first_day=s.first,
        last_day=s.last,
        units="|".join(sorted(s.units)),
        author=author,
        author_id=s.by,
        created_at=utc(s.at) if s.at is not None else utcnow(),
    )


def substitution_end_to_row(org_id: int, seq: int, e: SubstitutionEnded, author: str) -> SubstitutionRow:
    return SubstitutionRow(
        org_id=org_id,
        seq=seq,
        kind="end",
        ends=e.ends,
        ended_on=e.on,
        author=author,
        author_id=e.by,
        created_at=utc(e.at) if e.at is not None else utcnow(),
    )
