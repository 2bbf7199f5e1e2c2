"""Racing writers can never overdraw a fund, a unit or a measure's unused
money: proven with threads on separate connections (PostgreSQL when
configured, and SQLite)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.services import Services
from core.balances import fund_balance, measure_balance
from core.errors import RuleViolation
from core.model import Body, Decision, Measure, Unit
from core.validation import validate
from storage.repository import Repository, create_organisation

KF = Decision(Body.KF, date(2024, 11, 27))
KS = Decision(Body.KS, date(2025, 3, 5))
KSAU = Decision(Body.KSAU, date(2025, 6, 20), paragraph="5")
NÄMND = Decision(Body.COMMITTEE, date(2025, 2, 5))


def race(n: int, action: Callable[[int], object]) -> tuple[int, int]:
    """Run `action` in n threads released at the same instant; (accepted, refused)."""
    barrier = threading.Barrier(n)
    results: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            action(i)
            outcome = "ok"
        except RuleViolation:
            outcome = "refused"
        except Exception as problem:  # noqa: BLE001 - recorded and failed below
            outcome = f"error: {problem!r}"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not [r for r in results if r.startswith("error")], results
    return results.count("ok"), results.count("refused")


def city(engine: Engine) -> Services:
    with Session(engine) as session:
        repo = Repository(session, create_organisation(session, "test", "Teststad"))
        for code in ("A", "B", "C"):
            repo.add_unit(Unit(code, f"Nämnd {code}"))
        session.commit()
    services = Services(engine)
    services.set_fund(None, 2025, 1_000_000, KF)
    return services


def test_racing_allocations_never_overdraw_the_fund(engine: Engine) -> None:
    services = city(engine)
    accepted, refused = race(8, lambda i: services.allocate(None, "ABC"[i % 3], 2025, 300_000, KS))
    assert (accepted, refused) == (3, 5)
    balance = fund_balance(services.ledger(), 2025)
    assert balance.allocated == 900_000 <= balance.total
    assert validate(services.ledger()) == []


def test_racing_grants_never_overdraw_a_unit(engine: Engine) -> None:
    services = city(engine)
    services.allocate(None, "A", 2025, 500_000, KS)
    measures = [
        services.submit_measure(None, Measure(id=0, title=f"Insats {i}", units=("A",), year=2025))
        for i in range(6)
    ]
    accepted, _ = race(6, lambda i: services.grant_measure(None, str(measures[i].id), "A", 200_000, NÄMND))
    assert accepted == 2
    assert validate(services.ledger()) == []


def test_racing_reallocations_move_the_unused_money_once(engine: Engine) -> None:
    services = city(engine)
    services.allocate(None, "A", 2025, 500_000, KS)
    services.allocate(None, "B", 2025, 500_000, KS)
    source = services.submit_measure(
        None, Measure(id=0, title="Källa", units=("A",), year=2025), {"A": 500_000}, NÄMND
    )
    targets = [
        services.submit_measure(
            None, Measure(id=0, title=f"Mål {i}", units=("B",), year=2025), {"B": 100_000}, NÄMND
        )
        for i in range(4)
    ]
    from core.model import Status

    services.add_followup(
        None,
        str(source.id),
        period="2025-06",
        status=Status.ONGOING,
        spent=50_000,
        forecast=200_000,
        usable_as_planned=False,
    )  # 300 000 unused
    accepted, refused = race(
        4, lambda i: services.reallocate(None, str(source.id), str(targets[i].id), 200_000, KSAU)
    )
    assert (accepted, refused) == (1, 3)
    ledger = services.ledger()
    assert measure_balance(ledger, source.id).allocated == 300_000
    assert fund_balance(ledger, 2025).allocated == 1_000_000
    assert validate(ledger) == []
