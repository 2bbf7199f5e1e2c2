"""The read model (storage.read_model: SQL aggregates, folded in incrementally)
gives the same numbers as the core's fold over every row of the ledger: on
the 2025 example, on generated cities (the benchmark's data, appended in
parts so the incremental path is taken), and after any sequence of writes
through the services (hypothesis), on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from bot.services import Services
from core.balances import fund_balance, measure_balance
from core.errors import DomainError
from core.ledger import Ledger
from core.model import Body, Decision, Measure, Status
from core.round_report import round_report
from core.rounds import Round, answered_measures, plan_round
from core.rules import is_overdue, unit_unallocated
from core.rules.followup import reported_on
from storage.examples import read_example
from storage.read_model import ReadModels, read_models, round_ledger
from storage.unit_of_work import UnitOfWork

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench import data as bench_data  # noqa: E402

AS_OF = date(2025, 10, 1)


def full_ledger(engine: Engine, org: str) -> Ledger:
    with UnitOfWork(engine, org) as repo:
        return repo.ledger()


def assert_same_numbers(full: Ledger, summary: Ledger) -> None:
    """Every figure an answer reads is the same from the summary as from the whole ledger."""
    assert summary.units == full.units
    assert summary.measures == full.measures
    assert summary.years == full.years
    for year in full.years:
        assert summary.has_fund(year) == full.has_fund(year)
        assert fund_balance(summary, year) == fund_balance(full, year), year
        for code in full.units:
            assert unit_unallocated(summary, code, year) == unit_unallocated(full, code, year)
    for measure_id, measure in full.measures.items():
        a, b = measure_balance(full, measure_id), measure_balance(summary, measure_id)
        assert (a.allocated, a.spent, a.forecast, a.followup, a.shares, a.reallocations) == (
            b.allocated,
            b.spent,
            b.forecast,
            b.followup,
            b.shares,
            b.reallocations,
        ), measure.title
        assert _granted(a.fundings) == _granted(b.fundings)
        assert summary.current_status(measure_id) == full.current_status(measure_id)
        assert is_overdue(summary, measure, AS_OF) == is_overdue(full, measure, AS_OF)


def assert_same_round(engine: Engine, org: str, period: str) -> None:
    """A round of `period` reads the read model with the period's follow-ups
    (storage.read_model.round_ledger): who answered, what, the statuses and the
    whole report are those of every row."""
    full = full_ledger(engine, org)
    snapshot = read_models(engine).snapshot(engine, org)
    with UnitOfWork(engine, org) as repo:
        view = round_ledger(repo.session.connection(), snapshot, [period])
        grants = repo.grants()
    of_period = [f for f in full.followups if f.period == period]
    assert [f for f in view.followups if f.period == period] == of_period
    assert answered_measures(view, period) == answered_measures(full, period)
    for measure_id in full.measures:
        assert view.latest_followup(measure_id) == full.latest_followup(measure_id)
        assert view.current_status(measure_id) == full.current_status(measure_id)
    round_ = Round(1, plan_round(period))
    # On a day when every follow-up is known: before it, the report leaves out what was
    # reported later, which only every row can (bot.round_services.known_round_ledger).
    known = max([AS_OF, *(reported_on(f) for f in full.followups)])
    assert round_report(round_, view, grants, known) == round_report(round_, full, grants, known)


def _granted(fundings) -> dict[tuple[str, str], int]:
    """What was granted, per unit and decision (the summary sums a measure's
    grants with the same unit and decision into one)."""
    total: dict[tuple[str, str], int] = defaultdict(int)
    for f in fundings:
        total[(f.unit, f.decision.reference)] += f.amount
    return dict(total)


def test_the_example(example_engine: Engine) -> None:
    snapshot = read_models(example_engine).snapshot(example_engine, "malmo")
    full = full_ledger(example_engine, "malmo")
    assert_same_numbers(full, snapshot.ledger)
    assert len(snapshot.ledger.followups) <= len(full.followups)
    for period in sorted({f.period for f in full.followups}):
        assert_same_round(example_engine, "malmo", period)


def test_services_answer_from_the_read_model_as_from_every_row(example_engine: Engine) -> None:
    services = Services(example_engine, org="malmo")
    full = full_ledger(example_engine, "malmo")
    assert services.funds(None, 2025) == fund_balance(full, 2025)
    view = services.measure(None, "Yrkeslärarsatsning", AS_OF)
    assert view.balance.allocated == measure_balance(full, view.measure.id).allocated
    assert services.summary_ledger().measures == full.measures


def _insert(engine: Engine, rows: dict[str, list[tuple[object, ...]]]) -> None:
    with engine.begin() as conn:
        for name, columns in bench_data.TABLES.items():
            if rows.get(name):
                conn.execute(
                    insert(SQLModel.metadata.tables[name]),
                    [dict(zip(columns, r, strict=True)) for r in rows[name]],
                )


def test_generated_cities_appended_in_parts(engine: Engine) -> None:
    """Two of the benchmark's large cities and one at 20x the example's rows:
    half of each city's ledger and follow-ups first, the rest after the read
    model has folded in the first half."""
    example = read_example("malmo-2025")
    plans = [bench_data.large_city(1, example), bench_data.large_city(2, example)]
    grown = bench_data.grown_city(20, example)
    grown.slug, grown.name = "vaxer", "Växer stad"
    plans.append(grown)
    ids = bench_data.Ids()
    models = ReadModels()
    for plan in plans:
        rows = bench_data.city_rows(plan, ids)
        first = {name: list(rs) for name, rs in rows.items()}
        later: dict[str, list[tuple[object, ...]]] = {}
        for name in ("ledger_entries", "followups"):
            half = len(rows[name]) // 2
            first[name], later[name] = rows[name][:half], rows[name][half:]
        _insert(engine, first)
        assert_same_numbers(full_ledger(engine, plan.slug), models.snapshot(engine, plan.slug).ledger)
        _insert(engine, later)
        assert_same_numbers(full_ledger(engine, plan.slug), models.snapshot(engine, plan.slug).ledger)
    # A read model that never saw the first halves agrees too.
    for plan in plans:
        assert_same_numbers(full_ledger(engine, plan.slug), ReadModels().snapshot(engine, plan.slug).ledger)


UNITS = ["FSKN", "GVN", "SBN", "TN", "MN", "KS"]
SHARED = [("FSKN",), ("GVN",), ("SBN", "TN", "MN"), ("GVN", "FSKN")]


def _decision(body: Body, n: int) -> Decision:
    return Decision(body, date(2025, 3, 1 + n % 28), paragraph=str(n))


operations = st.lists(
    st.one_of(
        st.tuples(st.just("allocate"), st.sampled_from(UNITS), st.integers(1, 3_000_000), st.integers(0, 3)),
        st.tuples(
            st.just("measure"), st.integers(0, len(SHARED) - 1), st.integers(1, 900_000), st.integers(0, 3)
        ),
        st.tuples(
            st.just("grant"),
            st.integers(0, 30),
            st.integers(0, 2),
            st.integers(1, 500_000),
            st.integers(0, 3),
        ),
        st.tuples(
            st.just("followup"),
            st.integers(0, 30),
            st.integers(1, 12),
            st.integers(0, 2_000_000),
            st.integers(0, 500_000),
            st.sampled_from(list(Status)),
        ),
        st.tuples(st.just("reallocate"), st.integers(0, 30), st.integers(0, 30), st.integers(1, 400_000)),
    ),
    min_size=1,
    max_size=12,
)


def apply(services: Services, op: tuple[Any, ...]) -> str:
    """Carry out one operation through the services: "ok", or the rules' refusal."""
    ids = sorted(services.summary_ledger().measures)
    try:
        match op:
            case ("allocate", unit, amount, n):
                services.allocate(None, unit, 2025, amount, _decision(Body.KS, n))
            case ("measure", shared, amount, n):
                units = SHARED[shared]
                services.submit_measure(
                    None,
                    Measure(id=0, title=f"Insats {len(ids)}", units=units, year=2025),
                    {units[0]: amount},
                    _decision(Body.COMMITTEE, n),
                )
            case ("grant", index, unit_index, amount, n):
                measure = services.summary_ledger().measures[ids[index % len(ids)]]
                unit = measure.units[unit_index % len(measure.units)]
                services.grant_measure(None, str(measure.id), unit, amount, _decision(Body.COMMITTEE, n))
            case ("followup", index, month, spent, extra, status):
                services.add_followup(
                    None,
                    str(ids[index % len(ids)]),
                    period=f"2025-{month:02d}",
                    status=status,
                    spent=spent,
                    forecast=spent + extra,
                    usable_as_planned=extra > 0,
                )
            case ("reallocate", source, target, amount):
                services.reallocate(
                    None,
                    str(ids[source % len(ids)]),
                    str(ids[target % len(ids)]),
                    amount,
                    _decision(Body.KSAU, amount),
                )
    except DomainError as refused:  # refused by the rules: nothing written
        return refused.message
    return "ok"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_any_writes_through_the_services(example_engine: Engine, ops: list[tuple[Any, ...]]) -> None:
    """Examples run one after another on the same city: the read model folds in
    every write since the previous example, and after every write its numbers
    are those of the whole ledger."""
    services = Services(example_engine, org="malmo")
    models = read_models(example_engine)
    for op in ops:
        apply(services, op)
        assert_same_numbers(
            full_ledger(example_engine, "malmo"), models.snapshot(example_engine, "malmo").ledger
        )
    for period in ("2025-06", "2025-10", "2025-12"):
        assert_same_round(example_engine, "malmo", period)


class EveryRowServices(Services):
    """Writes as they were before they used the read model: each one checks the
    rules against every row of the city's ledger."""

    def _write(self, user, fn, once=None):
        uow = UnitOfWork(self.engine, self.org, write=True)
        with uow as repo:
            result = fn(repo, repo.ledger(), self._principal(repo, user))
            uow.commit()
            return result


_TWINS: dict[int, Engine] = {}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_writes_decide_as_against_every_row(
    example_engine: Engine, tmp_path: Path, ops: list[tuple[Any, ...]]
) -> None:
    """The rules say yes or no to a write checked against the read model exactly as
    they do against every row: the same operations on two copies of the city, one
    written the old way, are accepted and refused alike and leave the same ledger."""
    twin = _TWINS.get(id(example_engine))
    if twin is None:
        from bot.data_services import load_example
        from storage.db import make_engine
        from storage.migrate import upgrade

        twin = _TWINS[id(example_engine)] = make_engine(f"sqlite:///{tmp_path / 'every-row.db'}")
        upgrade(twin)
        load_example(twin, "malmo-2025")
    ours, old_way = Services(example_engine, org="malmo"), EveryRowServices(twin, org="malmo")
    for op in ops:
        assert apply(ours, op) == apply(old_way, op), op
    assert figures(full_ledger(example_engine, "malmo")) == figures(full_ledger(twin, "malmo"))


def figures(ledger: Ledger) -> dict[str, object]:
    """A ledger's money and statuses (not the times its rows were written, nor the
    measures' ids: PostgreSQL spends an id on a refused insert, SQLite does not)."""
    found: dict[str, object] = {"measures": sorted((m.title, m.units) for m in ledger.measures.values())}
    for year in ledger.years:
        fund = fund_balance(ledger, year)
        found[f"fund {year}"] = (fund.total, fund.allocated, fund.spent, fund.forecast)
        for u in fund.units:
            found[f"{u.code} {year}"] = (u.transferred, u.reallocated, u.earmarked, u.spent, u.forecast)
    for measure_id, measure in ledger.measures.items():
        b = measure_balance(ledger, measure_id)
        found[f"measure {measure.title}"] = (
            b.allocated,
            b.spent,
            b.forecast,
            b.shares,
            ledger.current_status(measure_id),
        )
    return found
