"""Substitutes in the database (issue 22): a substitution and its early end are stored,
sealed and replayed; the table refuses every rewrite; the substitute's roles on a day
carry the absent person's unit grants, read and follow up only; a follow-up given for
the absent person keeps whom it was given for."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from core import commands
from core.model import ADMIN, FollowUp, Role, RoleGrant, Status
from core.permissions import Action, can
from core.substitutes import Substitution, SubstitutionEnded
from storage.read_model import grants_of
from storage.unit_of_work import UnitOfWork

AT = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
JUNE_9, JULY_11 = date(2025, 6, 9), date(2025, 7, 11)


def _setup(engine: Engine) -> None:
    with UnitOfWork(engine, write=True) as repo:
        repo.grant(RoleGrant("anna", Role.HR, "FSKN"), "admin")
        repo.grant(RoleGrant("per", Role.CHEF, "GVN"), "admin")
        repo.add_substitution(Substitution("anna", "per", JUNE_9, JULY_11, by="sk", at=AT), "Sara Ek")
        repo.session.commit()


def test_a_substitution_is_stored_sealed_and_ended_early(example_engine: Engine) -> None:
    _setup(example_engine)
    with UnitOfWork(example_engine, write=True) as repo:
        (stored,) = repo.substitutions()
        assert (stored.absent, stored.substitute, stored.first, stored.last, stored.by) == (
            "anna",
            "per",
            JUNE_9,
            JULY_11,
            "sk",
        )
        repo.end_substitution(SubstitutionEnded(stored.seq, date(2025, 6, 20), by="anna", at=AT), "Anna")
        repo.session.commit()
    with UnitOfWork(example_engine) as repo:
        assert [s.ended_on for s in repo.substitutions()] == [date(2025, 6, 20)]
        assert repo.verify_seal().problems == ()


def test_the_substitute_stands_in_on_the_days_of_the_absence_only(example_engine: Engine) -> None:
    _setup(example_engine)
    with example_engine.connect() as conn:
        before = grants_of(conn, _org(example_engine), "per", date(2025, 6, 8))
        during = grants_of(conn, _org(example_engine), "per", JUNE_9)
        anna = grants_of(conn, _org(example_engine), "anna", JUNE_9)
    assert before.stand_in == () and not can(before, Action.READ, ["FSKN"])
    assert during.stand_in == (RoleGrant("anna", Role.HR, "FSKN"),)
    assert can(during, Action.FOLLOW_UP, ["FSKN"]) and not can(during, Action.SUBMIT_MEASURE, ["FSKN"])
    assert anna.stand_in == ()


def test_substitutions_refuse_every_rewrite(example_engine: Engine) -> None:
    _setup(example_engine)
    attacks = ["UPDATE substitutions SET substitute = 'mallory'", "DELETE FROM substitutions"]
    attacks.append(
        "REPLACE INTO substitutions SELECT * FROM substitutions"
        if example_engine.dialect.name == "sqlite"
        else "TRUNCATE substitutions"
    )
    for statement in attacks:
        with pytest.raises(DBAPIError, match="append-only"), example_engine.begin() as conn:
            conn.execute(text(statement))
    with example_engine.begin() as conn:  # the owner switches the guard off and names another substitute
        if example_engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER substitutions_no_update"))
        else:
            conn.execute(text("ALTER TABLE substitutions DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE substitutions SET substitute = 'mallory'"))
    with UnitOfWork(example_engine) as repo:
        (problem,) = repo.verify_seal().problems
        assert "ersättarpost nr 1 (ersättare för anna)" in problem.message


def test_a_followup_keeps_whom_it_was_given_for(example_engine: Engine) -> None:
    with UnitOfWork(example_engine, write=True) as repo:
        measure = next(m.id for m in repo.measures() if "FSKN" in m.units and m.parent_id is None)
        followup = FollowUp(measure, "2025-06", Status.ONGOING, 10_000, 50_000, True, "", "Per Persson", AT)
        followup = replace(followup, author_id="per", for_id="anna", for_name="Anna Andersson")
        repo.add_followup(commands.report_followup(repo.ledger(), ADMIN, followup))
        repo.session.commit()
    with UnitOfWork(example_engine) as repo:
        last = repo.followups()[-1]
        assert (last.author, last.for_id, last.for_name) == ("Per Persson", "anna", "Anna Andersson")
        assert repo.verify_seal().problems == ()


def _org(engine: Engine) -> int:
    with UnitOfWork(engine) as repo:
        return repo.org_id
