"""The turn's services as the dialogs see them (dialogs.ports, dialogs.turn,
bot.turn_services): a query the turn can answer from what it has read runs in
place, by the type of what answers it (dialogs.ports.InMemory), and everything
else on a worker thread."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from microsoft_agents.testing import TestAdapter
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.services import Services, TurnView
from bot.teams_bot import KompetensBot
from core.in_memory import IN_PLACE, ReadInPlace
from core.model import Role
from dialogs.ports import CityQueries, CityView, InMemory
from dialogs.turn import call, queries
from storage.read_model import read_models
from tests.dialogs.conftest import JsonStorage
from tests.dialogs.test_teams_bot import converse


def _turn(engine: Engine) -> Services:
    return Services(engine, org="malmo", turn={})


def test_the_view_is_handed_out_only_once_the_turn_has_read_the_city_and_the_person(
    example_engine: Engine,
) -> None:
    Services(example_engine, org="malmo").grant_role(None, "anna", Role.CITY_OFFICE, None)
    services = _turn(example_engine)
    assert services.in_memory("anna") is None  # nothing read yet
    services.principal("anna")  # reads the snapshot and the person
    view = services.in_memory("anna", date(2025, 10, 1))
    assert isinstance(view, CityView) and isinstance(view, InMemory)
    assert view.principal("anna") == services.principal("anna")
    assert view.summary_ledger() is services.summary_ledger()
    with pytest.raises(LookupError):
        view.principal("bertil")  # another person's roles are not read: refused, not read


def test_figures_as_known_on_an_earlier_day_are_not_answered_from_memory(example_engine: Engine) -> None:
    Services(example_engine, org="malmo").grant_role(None, "anna", Role.CITY_OFFICE, None)
    services = _turn(example_engine)
    services.principal("anna")
    # The example's follow-ups are reported 10–18 June: on 5 June they are not known yet.
    assert services.in_memory("anna", date(2025, 6, 5)) is None
    assert isinstance(queries(services, "anna", date(2025, 6, 5)), Services)
    view = services.in_memory("anna", date(2025, 10, 1))
    assert view is not None
    with pytest.raises(LookupError):
        view.funds("anna", 2025, as_of=date(2025, 6, 5))


def test_prime_gives_the_turn_what_the_handler_read(example_engine: Engine) -> None:
    services = _turn(example_engine)
    snapshot = read_models(example_engine).read(example_engine, "malmo", None)[0]
    services.prime(snapshot)
    assert services.in_memory(None) is not None  # the city alone
    assert services.in_memory("anna") is None  # the person is not read yet


def test_a_write_empties_the_turn_so_the_view_is_asked_for_again(example_engine: Engine) -> None:
    Services(example_engine, org="malmo").grant_role(None, "anna", Role.CITY_OFFICE, None)
    services = _turn(example_engine)
    services.principal("anna")
    view = services.in_memory("anna")
    assert view is not None
    services.grant_role(None, "bertil", Role.CHEF, "GVN")
    assert services.in_memory("anna") is None
    with pytest.raises(LookupError):
        view.summary_ledger()


def test_call_runs_in_place_exactly_for_in_memory_methods(
    example_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    Services(example_engine, org="malmo").grant_role(None, "anna", Role.CITY_OFFICE, None)
    services = _turn(example_engine)
    hops: list[str] = []
    real = asyncio.to_thread

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(fn.__qualname__)
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counting)
    asyncio.run(call(queries(services, "anna").principal, "anna"))  # not read yet: on a thread
    assert hops == ["Services.principal"]
    asyncio.run(call(queries(services, "anna").principal, "anna"))  # read: in place
    asyncio.run(call(queries(services).summary_ledger))
    assert hops == ["Services.principal"]
    asyncio.run(call(services.ledger))  # every row: always on a thread
    assert hops == ["Services.principal", "Services.ledger"]


def test_a_question_through_the_teams_handler_hops_threads_once_to_start_the_turn(
    example_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The speed the benchmark measures: a question answered from memory leaves the
    event loop only for the turn's start (claim, city, state, roles)."""
    Services(example_engine, org="malmo").grant_role(None, "user1", Role.CITY_OFFICE, None)
    hops: list[str] = []
    real = asyncio.to_thread

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(fn, "__qualname__", repr(fn)))
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counting)
    bot = KompetensBot(example_engine, JsonStorage(), today=date(2025, 10, 1))
    adapter = TestAdapter()
    for message in ["hej", "saldo GVN", "status", "försenade", "saldo"]:
        hops.clear()
        assert converse(bot, adapter, message)
        assert hops == ["KompetensBot.on_turn.<locals>.start_turn"], message
    # On 5 June the follow-ups reported later do not count: the whole ledger is read, off the loop.
    bot = KompetensBot(example_engine, JsonStorage(), today=date(2025, 6, 5))
    hops.clear()
    assert converse(bot, adapter, "saldo GVN")
    assert "Services.funds" in hops


TODAY = date(2025, 10, 1)

ASKED: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "summary_ledger": ((), {}),
    "principal": (("anna",), {}),
    "funds": (("anna", 2025), {"as_of": TODAY}),
    "measures": (("anna",), {"as_of": TODAY}),
    "measure": (("anna", "1", TODAY), {}),
    "derived": ((("count",), lambda ledger: len(ledger.measures), TODAY), {}),
}
"""One question to every method of a CityView (the city's queries), as a dialog asks it."""


def test_every_method_of_the_view_is_asked_below() -> None:
    assert {name for name in dir(CityQueries) if not name.startswith("_")} == set(ASKED)


def _read_turn(engine: Engine) -> Services:
    """A turn that has read the city and anna, who may read it all."""
    Services(engine, org="malmo").grant_role(None, "anna", Role.CITY_OFFICE, None)
    services = _turn(engine)
    services.principal("anna")
    return services


class _Counted:
    """The pool's checkouts and the thread hops while it is in a `with`."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.engine, self.checkouts, self.hops = engine, 0, list[str]()
        real = asyncio.to_thread

        async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.hops.append(fn.__qualname__)
            return await real(fn, *args, **kwargs)

        monkeypatch.setattr(asyncio, "to_thread", counting)

    def _checkout(self, *_: Any) -> None:
        self.checkouts += 1

    def __enter__(self) -> _Counted:
        event.listen(self.engine, "checkout", self._checkout)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "checkout", self._checkout)


@pytest.mark.parametrize("method", sorted(ASKED))
def test_a_question_answered_from_the_view_takes_no_connection(
    example_engine: Engine, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    services = _read_turn(example_engine)
    args, kwargs = ASKED[method]
    with _Counted(example_engine, monkeypatch) as counted:
        asked = getattr(queries(services, "anna", TODAY), method)
        assert isinstance(asked.__self__, CityView)
        answer = asyncio.run(call(asked, *args, **kwargs))
    assert (counted.checkouts, counted.hops) == (0, [])
    assert answer == getattr(Services(example_engine, org="malmo"), method)(*args, **kwargs)


def test_a_view_method_that_reads_the_database_fails_loudly(
    example_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """core.in_memory: what runs in place on the event loop gets no connection (storage.db)."""
    services = _read_turn(example_engine)

    def summary_ledger(self: TurnView) -> Any:
        return Services(example_engine, org="malmo").ledger()  # every row: the database

    monkeypatch.setattr(TurnView, "summary_ledger", summary_ledger)
    with pytest.raises(ReadInPlace, match=r"summary_ledger runs in place on the event loop"):
        asyncio.run(call(queries(services).summary_ledger))
    assert IN_PLACE.get() is None
    assert asyncio.run(call(services.ledger)).measures  # off the loop it reads as before


def test_a_view_asked_about_another_person_or_day_answers_from_the_database_off_the_loop(
    example_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dialog passes the person and the date twice (to `queries` and to the method):
    when they differ, the question is answered as the services answer it, on a worker
    thread, instead of the turn crashing."""
    Services(example_engine, org="malmo").grant_role(None, "bertil", Role.CHEF, "GVN")
    services = _read_turn(example_engine)
    fresh = Services(example_engine, org="malmo")
    june = date(2025, 6, 5)  # the example's follow-ups are reported later: not known yet
    with _Counted(example_engine, monkeypatch) as counted:
        view = queries(services, "anna", TODAY)
        bertil = asyncio.run(call(view.funds, "bertil", 2025, as_of=TODAY))
        then = asyncio.run(call(view.measures, "anna", as_of=june))
    assert bertil == fresh.funds("bertil", 2025, as_of=TODAY)
    assert then == fresh.measures("anna", as_of=june)
    assert counted.hops == ["Services.funds", "Services.measures"]


def test_a_view_kept_across_a_write_answers_from_the_new_data(example_engine: Engine) -> None:
    services = _read_turn(example_engine)
    view = queries(services, "anna", TODAY)
    services.grant_role(None, "bertil", Role.CHEF, "GVN")  # empties the turn
    assert asyncio.run(call(view.principal, "anna")) == Services(example_engine, org="malmo").principal(
        "anna"
    )


def test_the_snapshot_knows_its_latest_report_day_as_the_core_rule_does(example_engine: Engine) -> None:
    """Every query of a turn asks whether the figures are those known on the bot's date
    (core.rules.followup.reported_after). The snapshot answers it from its latest report
    day, found once (scanning every follow-up at every query cost a sixth of a question's
    CPU on a city with 1 100 follow-ups); it answers as the rule does on every day."""
    from core.rules.followup import reported_after

    snapshot = read_models(example_engine).read(example_engine, "malmo", None)[0]
    days = [date(2025, 6, d) for d in range(1, 31)] + [date(2024, 12, 31), date(2026, 1, 1)]
    assert [snapshot.reported_after(d) for d in days] == [reported_after(snapshot.ledger, d) for d in days]
    assert snapshot.reported_after(date(2025, 6, 5)) and not snapshot.reported_after(date(2025, 6, 30))
