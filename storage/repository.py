"""Reading and appending one organisation's records.

Every query filters by the organisation: nothing of one city is visible to
another. Ledger entries, follow-ups, measures and decisions are only ever
inserted; a
role is taken back by storing its revocation before the grant is deleted.
Each of these rows is sealed in the city's hash chain (storage.seal) in the
same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import TypeVar

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.entries import LedgerEntry
from core.errors import NotFound, RuleError
from core.ledger import Ledger
from core.model import Decision, FollowUp, Measure, Organisation, Principal, RoleGrant, Unit
from core.needs import Needs, NeedsEntry
from core.substitutes import Substitution, SubstitutionEnded, replay
from storage.mapping import (
    SEP,
    aware,
    decision_from_row,
    decision_to_row,
    entry_from_row,
    entry_to_row,
    followup_from_row,
    followup_to_row,
    grant_from_row,
    measure_from_row,
    measure_to_row,
    need_entry_from_row,
    need_entry_to_row,
    substitution_end_to_row,
    substitution_record_from_row,
    substitution_to_row,
    unit_from_row,
)
from storage.seal import ChainReport, LedgerKey, seal, verify
from storage.tables import (
    DecisionRow,
    FollowUpRow,
    LedgerEntryRow,
    MeasureRow,
    NeedEntryRow,
    OrganisationRow,
    ProcessedActivityRow,
    RoleGrantRow,
    RoleRevocationRow,
    SubstitutionRow,
    UnitRow,
)

R = TypeVar("R")


def pick_city(slug: str | None, found: Sequence[R]) -> R:
    """The one rule for which city a command means: the city named by `slug`, or
    the only city there is. `found`: the rows a query found, with `slug` the
    cities of that slug (none or one), without it the first two cities by id.
    Every reader of a city picks it here (`find_organisation` on a session, the
    read model's `freshness` on the driver's cursor), so both refuse alike."""
    if slug:
        if not found:
            raise NotFound(RuleError("unknown_org", f'Staden "{slug}" finns inte i databasen.'))
        return found[0]
    if not found:
        raise NotFound(
            RuleError(
                "no_org",
                "Databasen har ingen stad ännu. Läs in exemplet med "
                '"kompetensbot load-example malmo-2025" eller importera en mall.',
            )
        )
    if len(found) > 1:
        raise NotFound(RuleError("many_orgs", "Databasen har flera städer: ange vilken med --org."))
    return found[0]


def find_organisation(session: Session, slug: str | None) -> OrganisationRow:
    """The city named by slug, or the only city when there is one (`pick_city`)."""
    query = select(OrganisationRow)
    if slug:
        query = query.where(OrganisationRow.slug == slug)
    else:
        query = query.order_by(col(OrganisationRow.id)).limit(2)
    return pick_city(slug, session.exec(query).all())


def city_names(engine: Engine) -> list[tuple[str, str]]:
    """Every city's (name, slug), by slug (the line the server logs when it starts)."""
    with Session(engine) as session:
        query = select(OrganisationRow.name, OrganisationRow.slug).order_by(col(OrganisationRow.slug))
        return [(str(name), str(slug)) for name, slug in session.exec(query).all()]


def create_organisation(session: Session, slug: str, name: str) -> OrganisationRow:
    row = OrganisationRow(slug=slug, name=name)
    session.add(row)
    session.flush()
    return row


class Repository:
    """One city's data, read and appended within one session."""

    def __init__(self, session: Session, org: OrganisationRow, *, created: bool = False):
        assert org.id is not None
        self.session = session
        self.created = created
        """Whether the city was created in this unit of work (UnitOfWork's `create`)."""
        self.org_id: int = org.id
        self.organisation = Organisation(org.id, org.name, org.slug)

    # --- reading --------------------------------------------------------

    def units(self) -> list[Unit]:
        rows = self.session.exec(
            select(UnitRow).where(UnitRow.org_id == self.org_id).order_by(col(UnitRow.id))
        ).all()
        return [unit_from_row(r) for r in rows]

    def measures(self) -> list[Measure]:
        rows = self.session.exec(
            select(MeasureRow).where(MeasureRow.org_id == self.org_id).order_by(col(MeasureRow.id))
        ).all()
        return [measure_from_row(r) for r in rows]

    def decisions(self) -> dict[int, Decision]:
        rows = self.session.exec(select(DecisionRow).where(DecisionRow.org_id == self.org_id)).all()
        return {r.id: decision_from_row(r) for r in rows if r.id is not None}

    def entries(self) -> list[LedgerEntry]:
        decisions = self.decisions()
        rows = self.session.exec(
            select(LedgerEntryRow)
            .where(LedgerEntryRow.org_id == self.org_id)
            .order_by(col(LedgerEntryRow.seq))
        ).all()
        return [entry_from_row(r, decisions[r.decision_id]) for r in rows]

    def followups(self) -> list[FollowUp]:
        rows = self.session.exec(
            select(FollowUpRow).where(FollowUpRow.org_id == self.org_id).order_by(col(FollowUpRow.seq))
        ).all()
        return [followup_from_row(r) for r in rows]

    def ledger(self) -> Ledger:
        """The full ledger: every entry and every follow-up, in order. What replays,
        `kompetensbot validate` and a listing of every entry need; the read model's
        summary ledger (storage.read_model.SummaryLedger) answers questions and
        checks writes."""
        return Ledger.build(self.units(), self.measures(), self.entries(), self.followups())

    def needs(self) -> Needs:
        """The city's competence needs and their links, replayed (core.needs.Needs)."""
        rows = self.session.exec(
            select(NeedEntryRow).where(NeedEntryRow.org_id == self.org_id).order_by(col(NeedEntryRow.seq))
        ).all()
        return Needs.build(need_entry_from_row(r) for r in rows)

    def grants(self, user: str | None = None) -> list[RoleGrant]:
        query = select(RoleGrantRow).where(RoleGrantRow.org_id == self.org_id)
        if user is not None:
            query = query.where(RoleGrantRow.user_id == user)
        rows = self.session.exec(query.order_by(col(RoleGrantRow.user_id), col(RoleGrantRow.id))).all()
        return [grant_from_row(r) for r in rows]

    def principal(self, user: str) -> Principal:
        return Principal(user=user, grants=tuple(self.grants(user)))

    def principal_on(self, user: str, on: date) -> Principal:
        """The person with what they stand in for on `on` as a substitute (issue 22)."""
        from storage.read_model import grants_of  # the read model builds on this module

        return grants_of(self.session.connection(), self.org_id, user, on)

    def verify_seal(self, key: LedgerKey | None = None) -> ChainReport:
        """The city's hash chain checked row by row (storage.seal.verify)."""
        return verify(self.session.connection(), self.org_id, key)

    # --- appending --------------------------------------------------------

    def _seal(self, kind: str, row_id: int | None) -> None:
        assert row_id is not None
        seal(self.session.connection(), self.org_id, kind, row_id)

    def add_unit(self, unit: Unit) -> None:
        self.session.add(
            UnitRow(org_id=self.org_id, code=unit.code, name=unit.name, aliases=SEP.join(unit.aliases))
        )
        self.session.flush()

    def decision_id(self, decision: Decision) -> int:
        """The stored decision with this citation, stored now if new."""
        row = self.session.exec(
            select(DecisionRow).where(
                DecisionRow.org_id == self.org_id,
                DecisionRow.body == str(decision.body),
                DecisionRow.reference == decision.reference,
            )
        ).first()
        if row is None:
            row = decision_to_row(self.org_id, decision)
            self.session.add(row)
            self.session.flush()
            self._seal("decision", row.id)
        assert row.id is not None
        return row.id

    def _next_seq(
        self, table: type[LedgerEntryRow] | type[FollowUpRow] | type[NeedEntryRow] | type[SubstitutionRow]
    ) -> int:
        current = self.session.exec(select(func.max(table.seq)).where(table.org_id == self.org_id)).one()
        return (current or 0) + 1

    def append(self, entry: LedgerEntry) -> LedgerEntry:
        seq = self._next_seq(LedgerEntryRow)
        row = entry_to_row(self.org_id, seq, self.decision_id(entry.decision), entry)
        self.session.add(row)
        self.session.flush()
        self._seal("ledger", row.id)
        return replace(entry, seq=seq)

    def add_measure(self, measure: Measure) -> Measure:
        row = measure_to_row(self.org_id, measure)
        self.session.add(row)
        self.session.flush()
        self._seal("measure", row.id)
        assert row.id is not None
        return replace(measure, id=row.id)

    def add_followup(self, followup: FollowUp) -> FollowUp:
        seq = self._next_seq(FollowUpRow)
        row = followup_to_row(self.org_id, seq, followup)
        self.session.add(row)
        self.session.flush()
        self._seal("followup", row.id)
        return replace(followup, seq=seq)

    def append_need(self, entry: NeedsEntry) -> NeedsEntry:
        """Store a need assessment, link or end of a link (checked by core.commands), sealed."""
        seq = self._next_seq(NeedEntryRow)
        row = need_entry_to_row(self.org_id, seq, entry)
        self.session.add(row)
        self.session.flush()
        self._seal("need", row.id)
        return replace(entry, seq=seq)

    def substitutions(self) -> list[Substitution]:
        """The city's substitutions as stored (issue 22), each with its early end if ended."""
        rows = self.session.exec(
            select(SubstitutionRow)
            .where(SubstitutionRow.org_id == self.org_id)
            .order_by(col(SubstitutionRow.seq))
        ).all()
        return replay(substitution_record_from_row(r) for r in rows)

    def add_substitution(self, substitution: Substitution, author: str) -> Substitution:
        """Store a substitution (checked by core.rules.substitutes), sealed; `author` is the
        name shown of who made it (its `by` is their id)."""
        seq = self._next_seq(SubstitutionRow)
        row = substitution_to_row(self.org_id, seq, substitution, author)
        self.session.add(row)
        self.session.flush()
        self._seal("substitution", row.id)
        return replace(substitution, seq=seq, at=aware(row.created_at))

    def end_substitution(self, ended: SubstitutionEnded, author: str) -> SubstitutionEnded:
        """Store the early end of the substitution of seq `ended.ends`, sealed."""
        seq = self._next_seq(SubstitutionRow)
        row = substitution_end_to_row(self.org_id, seq, ended, author)
        self.session.add(row)
        self.session.flush()
        self._seal("substitution", row.id)
        return replace(ended, seq=seq, at=aware(row.created_at))

    def grant(self, grant: RoleGrant, by: str) -> bool:
        """Store a grant; False when the person already holds it."""
        existing = self.session.exec(
            select(RoleGrantRow).where(
                RoleGrantRow.org_id == self.org_id,
                RoleGrantRow.user_id == grant.user,
                RoleGrantRow.role == grant.role.value,
                RoleGrantRow.unit_code == grant.unit
                if grant.unit is not None
                else col(RoleGrantRow.unit_code).is_(None),
            )
        ).first()
        if existing is not None:
            return False
        row = RoleGrantRow(
            org_id=self.org_id,
            user_id=grant.user,
            role=grant.role.value,
            unit_code=grant.unit,
            granted_by=by,
        )
        self.session.add(row)
        self.session.flush()
        self._seal("grant", row.id)
        return True

    def revoke(self, grant: RoleGrant, by: str = "") -> int:
        """Take a role back (for one unit, or every unit when grant.unit is
        None): its revocation is stored and sealed, then the grant deleted."""
        query = select(RoleGrantRow).where(
            RoleGrantRow.org_id == self.org_id,
            RoleGrantRow.user_id == grant.user,
            RoleGrantRow.role == grant.role.value,
        )
        if grant.unit is not None:
            query = query.where(RoleGrantRow.unit_code == grant.unit)
        rows = self.session.exec(query.order_by(col(RoleGrantRow.id))).all()
        for row in rows:
            assert row.id is not None
            revocation = RoleRevocationRow(
                org_id=self.org_id,
                grant_id=row.id,
                user_id=row.user_id,
                role=row.role,
                unit_code=row.unit_code,
                granted_by=row.granted_by,
                granted_at=row.created_at,
                revoked_by=by,
            )
            self.session.add(revocation)
            self.session.flush()
            self._seal("revoke", revocation.id)
            self.session.delete(row)
            self.session.flush()
        return len(rows)

    # --- one-time keys ------------------------------------------------------

    def once_seen(self, key: str) -> ProcessedActivityRow | None:
        """The stored claim of a write's one-time key (storage.bot_state.claim_key), or None."""
        return self.session.get(ProcessedActivityRow, key)

    def claim_once(self, key: str) -> ProcessedActivityRow:
        """Store a write's one-time key in this unit of work; what the write saved
        goes into the returned row's `saved` before the commit."""
        claim = ProcessedActivityRow(key=key, once=True)
        self.session.add(claim)
        return claim
