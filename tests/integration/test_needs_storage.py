"""Competence needs in the database (issue 21): an assessment, a link and its end
are stored, sealed and replayed; the table refuses every rewrite; a follow-up's
people reached is kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from core import commands
from core.errors import PermissionDenied
from core.model import ADMIN, FollowUp, Principal, Role, RoleGrant, Status
from core.needs import NeedEntry, NeedKind, NeedLinkEndedEntry, NeedLinkEntry, NeedsEntry, Period, Recruitment
from storage.unit_of_work import UnitOfWork

AT = datetime(2025, 5, 2, 9, 0, tzinfo=UTC)


def need(key: str = "B1", unit: str = "FSKN", **changes: object) -> NeedEntry:
    values: dict[str, object] = dict(
        key=key,
        unit=unit,
        role="förskollärare",
        kind=NeedKind.UPSKILLING,
        competence="Formell behörighet för förskollärare",
        recruitment=Recruitment.SHORTAGE,
        period=Period(2024, 2026),
        source="Förskolenämndens kompetensväxlingsmodell",
        assessed=date(2023, 11, 1),
        author="Stadskontoret",
        at=AT,
        area="Förskola",
        ssyk="2343",
        people=120,
        retirements=14,
    )
    values.update(changes)
    return NeedEntry(**values)  # type: ignore[arg-type]  # the test's defaults, overridden by keyword


def _key_of(entry: NeedsEntry) -> str:
    return entry.key if isinstance(entry, NeedEntry) else entry.need


def measure_of(engine: Engine, unit: str) -> int:
    with UnitOfWork(engine) as repo:
        return next(m.id for m in repo.measures() if unit in m.units)


def test_a_need_a_link_and_its_end_are_stored_sealed_and_replayed(example_engine: Engine) -> None:
    measure = measure_of(example_engine, "FSKN")
    with UnitOfWork(example_engine, write=True) as repo:
        ledger, needs = repo.ledger(), repo.needs()
        stored = repo.append_need(commands.assess_need(ledger, needs, ADMIN, need()))
        needs = needs.append(stored)
        link = commands.link_need(
            ledger, needs, ADMIN, NeedLinkEntry("b1", measure, "Stadskontoret", AT, people=40, share=2_500)
        )
        needs = needs.append(repo.append_need(link))
        repo.session.commit()
    with UnitOfWork(example_engine) as repo:
        needs = repo.needs()
        assert needs.get("B1") == stored
        (active,) = needs.links_of_need("B1")
        assert (active.need, active.measure_id, active.people, active.share) == ("B1", measure, 40, 2_500)
        assert repo.verify_seal().problems == ()
    with UnitOfWork(example_engine, write=True) as repo:
        needs = repo.needs()
        end = commands.end_need_link(needs, ADMIN, NeedLinkEndedEntry("B1", measure, "Stadskontoret", AT))
        repo.append_need(end)
        repo.session.commit()
    with UnitOfWork(example_engine) as repo:
        needs = repo.needs()
        assert needs.links_of_need("B1") == ()
        kinds = [type(e).__name__ for e in needs.entries if _key_of(e) == "B1"]  # the example has its own
        assert kinds == ["NeedEntry", "NeedLinkEntry", "NeedLinkEndedEntry"]
        assert repo.verify_seal().problems == ()


def test_hr_of_another_committee_cannot_assess_a_need(example_engine: Engine) -> None:
    hr_gsn = Principal("hr-gsn", (RoleGrant("hr-gsn", Role.HR, "GSN"),))
    with UnitOfWork(example_engine) as repo, pytest.raises(PermissionDenied, match="FSKN"):
        commands.assess_need(repo.ledger(), repo.needs(), hr_gsn, need())


def test_need_entries_refuse_every_rewrite_and_a_change_behind_them_is_named(example_engine: Engine) -> None:
    with UnitOfWork(example_engine, write=True) as repo:
        repo.append_need(commands.assess_need(repo.ledger(), repo.needs(), ADMIN, need()))
        repo.session.commit()
    attacks = ["UPDATE need_entries SET retirements = 0", "DELETE FROM need_entries"]
    if example_engine.dialect.name == "sqlite":
        attacks.append("REPLACE INTO need_entries SELECT * FROM need_entries")
    else:
        attacks.append("TRUNCATE need_entries")
    for statement in attacks:
        with pytest.raises(DBAPIError, match="append-only"), example_engine.begin() as conn:
            conn.execute(text(statement))
    with example_engine.begin() as conn:  # the owner switches the guard off and changes a row
        if example_engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER need_entries_no_update"))
        else:
            conn.execute(text("ALTER TABLE need_entries DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE need_entries SET retirements = 0 WHERE need_key = 'B1'"))
    with UnitOfWork(example_engine) as repo:
        (problem,) = repo.verify_seal().problems
        last = len(repo.needs().entries)  # B1, after the example's FSKN needs and links
        assert f"behovspost nr {last} (behov B1)" in problem.message


def test_a_followup_keeps_the_people_reached(example_engine: Engine) -> None:
    measure = measure_of(example_engine, "FSKN")
    with UnitOfWork(example_engine, write=True) as repo:
        at = datetime(2025, 6, 5, 9, 0, tzinfo=UTC)
        followup = FollowUp(measure, "2025-06", Status.ONGOING, 10_000, 50_000, True, "", "HR", at)
        followup = replace(followup, reached=37)
        repo.add_followup(commands.report_followup(repo.ledger(), ADMIN, followup))
        repo.session.commit()
    with UnitOfWork(example_engine) as repo:
        assert repo.followups()[-1].reached == 37
        assert repo.verify_seal().problems == ()
