"""A round's reallocation proposals as sent to KSAU, and KSAU's decision on them
(core.proposal_sets), in the database. Rows are only ever inserted: a set is
made once a round (unique round_id), a decision once a set (unique set_id);
the money a decision moves is in ledger_entries, written in the same unit of work.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from core.proposal_sets import ProposalItem, ProposalSet, SetDecision
from storage.mapping import aware, utc
from storage.tables import ProposalDecisionRow, ProposalItemRow, ProposalSetRow, table, utcnow

SEP = "|"

_set = table(ProposalSetRow)
_item = table(ProposalItemRow)
_decision = table(ProposalDecisionRow)


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.split(SEP) if n)


def _joined(numbers: tuple[int, ...]) -> str:
    return SEP.join(str(n) for n in numbers)


def _decision_from_row(row: Any) -> SetDecision:
    return SetDecision(
        reference=row.reference,
        by_user=row.by_user,
        by_name=row.by_name,
        at=aware(row.at),  # SQLite keeps no offset: stored in UTC
        recorded=_numbers(row.recorded),
        refused=tuple((int(n), str(reason)) for n, reason in json.loads(row.refused or "[]")),
        not_ticked=_numbers(row.not_ticked),
        entry_seqs=_numbers(row.entry_seqs),
    )


def _load(conn: Connection, row: Any) -> ProposalSet:
    items = tuple(
        ProposalItem(
            number=r.number,
            year=r.year,
            from_measure=r.from_measure,
            to_measure=r.to_measure,
            amount=int(r.amount),
            same_unit=bool(r.same_unit),
            basis_unused=int(r.basis_unused),
            basis_period=r.basis_period,
            basis_seq=r.basis_seq,
        )
        for r in conn.execute(select(_item).where(_item.c.set_id == row.id).order_by(_item.c.number)).all()
    )
    found = conn.execute(select(_decision).where(_decision.c.set_id == row.id)).first()
    return ProposalSet(
        id=row.id,
        round_id=row.round_id,
        period=row.period,
        year=row.year,
        items=items,
        created_by=row.created_by,
        created_at=aware(row.created_at),
        decision=_decision_from_row(found) if found is not None else None,
    )


class CityProposalSets:
    """One city's proposal sets on a unit of work's connection."""

    def __init__(self, conn: Connection, org_id: int):
        self.conn = conn
        self.org_id = org_id

    def for_round(self, round_id: int) -> ProposalSet | None:
        row = self.conn.execute(
            select(_set).where(_set.c.org_id == self.org_id, _set.c.round_id == round_id)
        ).first()
        return None if row is None else _load(self.conn, row)

    def by_id(self, set_id: int) -> ProposalSet | None:
        """The city's set of that id (None: there is none, or it is another city's)."""
        row = self.conn.execute(select(_set).where(_set.c.org_id == self.org_id, _set.c.id == set_id)).first()
        return None if row is None else _load(self.conn, row)

    def of_year(self, year: int) -> list[ProposalSet]:
        rows = self.conn.execute(
            select(_set).where(_set.c.org_id == self.org_id, _set.c.year == year).order_by(_set.c.id)
        ).all()
        return [_load(self.conn, r) for r in rows]

    def create(
        self, round_id: int, period: str, year: int, items: tuple[ProposalItem, ...], by: str
    ) -> ProposalSet:
        """Store the round's set, or return the one stored already (a second
        process, or a second request, makes none)."""
        try:
            with self.conn.begin_nested():
                new_id = self.conn.execute(
                    insert(_set)
                    .values(
                        org_id=self.org_id,
                        round_id=round_id,
                        period=period,
                        year=year,
                        created_by=by,
                        created_at=utcnow(),
                    )
                    .returning(_set.c.id)
                ).scalar_one()
                if items:
                    self.conn.execute(
                        insert(_item),
                        [
                            {
                                "set_id": new_id,
                                "number": i.number,
                                "year": i.year,
                                "from_measure": i.from_measure,
                                "to_measure": i.to_measure,
                                "amount": i.amount,
                                "same_unit": i.same_unit,
                                "basis_unused": i.basis_unused,
                                "basis_period": i.basis_period,
                                "basis_seq": i.basis_seq,
                            }
                            for i in items
                        ],
                    )
        except IntegrityError:
            pass
        found = self.for_round(round_id)
        assert found is not None
        return found

    def record_decision(self, proposal_set: ProposalSet, decision: SetDecision) -> bool:
        """Store the set's decision; False when one is stored already (nothing written)."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(_decision).values(
                        set_id=proposal_set.id,
                        org_id=self.org_id,
                        reference=decision.reference,
                        by_user=decision.by_user,
                        by_name=decision.by_name,
                        at=utc(decision.at),
                        recorded=_joined(decision.recorded),
                        refused=json.dumps([list(r) for r in decision.refused], ensure_ascii=False),
                        not_ticked=_joined(decision.not_ticked),
                        entry_seqs=_joined(decision.entry_seqs),
                    )
                )
        except IntegrityError:
            return False
        return True
