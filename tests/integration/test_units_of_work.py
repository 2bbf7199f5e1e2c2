"""The services open their units of work through the factory they are given
(issue 18: the unit of work and the clock come from outside), and which city a
command means is decided by one rule (storage.repository.pick_city)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from bot.round_services import RoundServices
from bot.services import Services
from core.errors import NotFound
from core.model import Status
from storage.read_model import freshness
from storage.repository import pick_city
from storage.unit_of_work import UnitOfWork, units_of

AT = datetime(2025, 6, 12, 9, 0, tzinfo=UTC)


class Counting:
    """A unit-of-work factory that records what it was asked for."""

    def __init__(self, engine: Engine) -> None:
        self.inner = units_of(engine)
        self.asked: list[tuple[str | None, bool]] = []

    def __call__(self, org: str | None, *, write: bool = False, create: str | None = None) -> UnitOfWork:
        self.asked.append((org, write))
        return self.inner(org, write=write, create=create)


def test_services_open_units_of_work_through_the_factory_and_stamp_with_the_clock(
    example_engine: Engine,
) -> None:
    units = Counting(example_engine)
    services = Services(example_engine, org="malmo", units=units, clock=lambda: AT)
    assert services.ledger().measures  # a read: every row
    assert units.asked == [("malmo", False)]
    stored = services.add_followup(
        None,
        "Yrkeslärarsatsning",
        period="2025-06",
        status=Status.ONGOING,
        spent=1,
        forecast=2,
        usable_as_planned=True,
    )
    assert units.asked[-1] == ("malmo", True)
    assert stored.at == AT
    rounds = RoundServices(example_engine, org="malmo", units=units)
    with pytest.raises(NotFound):
        rounds.find("2025-06")
    assert units.asked[-1] == ("malmo", False)


def test_services_without_a_factory_use_their_engine(example_engine: Engine) -> None:
    services = Services(example_engine)
    assert services.units is not None
    assert services.ledger().measures


def test_one_rule_picks_the_city() -> None:
    assert pick_city("malmo", ["row"]) == "row"
    assert pick_city(None, ["only"]) == "only"
    for slug, found, code in (("lund", [], "unknown_org"), (None, [], "no_org"), (None, [1, 2], "many_orgs")):
        with pytest.raises(NotFound) as refused:
            pick_city(slug, found)
        assert refused.value.errors[0].code == code


def test_the_session_and_the_read_model_pick_the_same_city(example_engine: Engine) -> None:
    with UnitOfWork(example_engine) as repo:
        by_session = repo.organisation.slug
    with example_engine.connect() as conn:
        assert freshness(conn, None).slug == by_session == "malmo"
        with pytest.raises(NotFound) as refused:
            freshness(conn, "lund")
    with pytest.raises(NotFound) as also:
        UnitOfWork(example_engine, "lund").__enter__()
    assert refused.value.message == also.value.message


def test_a_unit_of_work_creates_a_city_only_when_asked(engine: Engine) -> None:
    uow = UnitOfWork(engine, "lund", create="Lunds kommun")
    with uow as repo:
        assert repo.created and repo.organisation.name == "Lunds kommun"
        uow.commit()
    with UnitOfWork(engine, "lund", create="Ett annat namn") as repo:
        assert not repo.created and repo.organisation.name == "Lunds kommun"
