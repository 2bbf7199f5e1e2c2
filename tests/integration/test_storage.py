"""Storage on a real database (SQLite, and PostgreSQL when configured): the
example, replay, append-only history and isolation between cities."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from bot.data_services import load_example
from bot.services import Services
from core.balances import fund_balance
from core.errors import NotFound, PermissionDenied, RuleViolation
from core.ledger import Ledger
from core.model import Body, Decision, Measure, Role, Status, Unit
from core.validation import validate
from storage.repository import Repository, create_organisation
from storage.unit_of_work import UnitOfWork

KSAU = Decision(Body.KSAU, date(2025, 6, 20), paragraph="5")


def counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return tuple(
            s.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("ledger_entries", "measures", "followups")
        )


def test_the_2025_example_gives_78_million_over_13_committees_and_ks(
    example_engine: Engine,
) -> None:
    balance = Services(example_engine).funds(None, 2025)
    assert balance.total == 78_000_000
    assert balance.allocated == 78_000_000
    assert len(balance.units) == 14
    by_code = {u.code: u.allocated for u in balance.units}
    assert by_code["HVON"] == 15_100_000
    assert by_code["FSKN"] == 15_000_000
    assert by_code["KS"] == 1_000_000
    fskn = balance.unit("FSKN")
    assert fskn is not None and fskn.remaining == 15_000_000
    assert all(a.decision.reference == "KS 2025-03-05" for u in balance.units for a in u.allocations)


def test_the_recurring_ks_allocation_reserves_money_in_2026(example_engine: Engine) -> None:
    balance = Services(example_engine).funds(None, 2026)
    assert [(u.code, u.allocated) for u in balance.units] == [("KS", 1_000_000)]


def test_loading_the_example_twice_changes_nothing(example_engine: Engine) -> None:
    before = counts(example_engine)
    assert not load_example(example_engine, "malmo-2025").loaded
    assert counts(example_engine) == before


def test_the_stored_ledger_replays_to_the_same_balances(example_engine: Engine) -> None:
    services = Services(example_engine)
    services.reallocate(None, "Yrkeslärare i vård och omsorg", "Yrkeslärarsatsning", 500_000, KSAU)
    ledger = services.ledger()
    assert validate(ledger) == []
    replayed = Ledger.build(
        ledger.units.values(), ledger.measures.values(), reversed(ledger.entries), ledger.followups
    )
    assert fund_balance(replayed, 2025) == fund_balance(ledger, 2025)


def test_history_cannot_be_rewritten(example_engine: Engine) -> None:
    for statement in (
        "UPDATE ledger_entries SET amount = amount + 1",
        "DELETE FROM ledger_entries",
        "UPDATE followups SET spent = 0",
        "DELETE FROM followups",
    ):
        with pytest.raises(DBAPIError, match="append-only"), example_engine.begin() as conn:
            conn.execute(text(statement))


def test_a_refused_reallocation_writes_nothing(example_engine: Engine) -> None:
    services = Services(example_engine)
    before = counts(example_engine)
    with pytest.raises(RuleViolation):
        services.reallocate(None, "Yrkeslärare i vård och omsorg", "Yrkeslärarsatsning", 900_001, KSAU)
    assert counts(example_engine) == before


def test_a_refused_measure_with_too_much_money_leaves_no_measure_behind(
    example_engine: Engine,
) -> None:
    services = Services(example_engine)
    before = counts(example_engine)
    measure = Measure(id=0, title="För dyr", units=("FSKN",), year=2025)
    nämnd = Decision(Body.COMMITTEE, date(2025, 2, 5))
    with pytest.raises(RuleViolation, match="1 500 000 kr"):
        services.submit_measure(None, measure, {"FSKN": 1_500_001}, nämnd)
    assert counts(example_engine) == before
    stored = services.submit_measure(None, measure, {"FSKN": 1_500_000}, nämnd)
    assert services.measure(None, str(stored.id), date(2025, 6, 1)).balance.allocated == 1_500_000


def test_two_cities_never_see_each_other(example_engine: Engine) -> None:
    with Session(example_engine) as session:
        repo = Repository(session, create_organisation(session, "lund", "Lunds kommun"))
        repo.add_unit(Unit("BUN", "Barn- och skolnämnden"))
        session.commit()
    malmo = Services(example_engine, org="malmo")
    lund = Services(example_engine, org="lund")
    assert lund.ledger().measures == {}
    assert lund.funds(None, 2025).units == ()
    some_malmo_measure = next(iter(malmo.ledger().measures))
    with pytest.raises(NotFound):
        lund.measure(None, str(some_malmo_measure), date(2025, 6, 1))
    with pytest.raises(NotFound):
        lund.funds(None, 2025, "FSKN")
    # With two cities, the default city must be named.
    with pytest.raises(NotFound, match="--org"):
        Services(example_engine).ledger()


def test_roles_are_scoped_to_units(example_engine: Engine) -> None:
    services = Services(example_engine)
    services.grant_role(None, "anna", Role.CHEF, "GVN")
    services.grant_role(None, "karin", Role.KSAU, None)
    as_of = date(2025, 7, 1)
    assert {u.code for u in services.funds("anna", 2025).units} == {"GVN"}
    assert all("GVN" in v.measure.units for v in services.measures("anna", as_of=as_of))
    with pytest.raises(PermissionDenied):
        services.funds("anna", 2025, "FSKN")
    with pytest.raises(PermissionDenied):
        services.reallocate("anna", "Yrkeslärare i vård och omsorg", "Yrkeslärarsatsning", 1, KSAU)
    services.reallocate("karin", "Yrkeslärare i vård och omsorg", "Yrkeslärarsatsning", 1, KSAU)
    services.add_followup(
        "anna",
        "Yrkeslärarsatsning",
        period="2025-09",
        status=Status.ONGOING,
        spent=1_000_000,
        forecast=3_000_000,
        usable_as_planned=True,
    )
    with pytest.raises(PermissionDenied):
        services.add_followup(
            "anna",
            "Stärka formell kompetens",
            period="2025-09",
            status=Status.ONGOING,
            spent=0,
            forecast=0,
            usable_as_planned=True,
        )
    services.revoke_role(None, "anna", Role.CHEF, "GVN")
    with pytest.raises(PermissionDenied):
        services.funds("anna", 2025, "GVN")


def test_the_unit_of_work_rolls_back_unless_committed(example_engine: Engine) -> None:
    before = counts(example_engine)
    with UnitOfWork(example_engine, write=True) as repo:
        repo.add_measure(Measure(id=0, title="Aldrig sparad", units=("GVN",), year=2025))
    assert counts(example_engine) == before


def test_the_migrations_build_the_tables_the_models_describe(engine: Engine) -> None:
    """A column, index or constraint added to storage/tables.py without its
    migration would exist in tests (which could create tables from the
    models) but not in a database that `kompetensbot db upgrade` made."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
