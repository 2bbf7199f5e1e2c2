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
from sqlalchemy.engine import Engine

from bot.services import Services
from bot.teams_bot import KompetensBot
from core.model import Role
from dialogs.ports import CityView, InMemory
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
