"""storage.rounds.CityRounds is one city's rounds: a round id of another city
finds nothing and changes nothing through it (as `by_id` already did)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from core.rounds import DueSend, SendKind, plan_round
from storage.rounds import CityRounds
from storage.unit_of_work import UnitOfWork

AT = datetime(2025, 6, 20, 12, tzinfo=UTC)


def _malmo_round_with_a_send(engine: Engine) -> tuple[int, int]:
    """A round of Malmö with one prompt to anna: (round id, send id)."""
    uow = UnitOfWork(engine, "malmo", write=True)
    with uow as repo:
        rounds = CityRounds(repo)
        round_ = rounds.create(plan_round("2025-06"), "stk")
        rounds.enqueue(round_, [DueSend("anna", SendKind.PROMPT, (1,))])
        [send] = rounds.sends(round_.id)
        uow.commit()
    return round_.id, send.id


def test_another_citys_round_id_finds_nothing_and_changes_nothing(example_engine: Engine) -> None:
    round_id, send_id = _malmo_round_with_a_send(example_engine)
    lund = UnitOfWork(example_engine, "lund", write=True, create="Lunds kommun")
    with lund as repo:
        rounds = CityRounds(repo)
        assert rounds.by_id(round_id) is None
        assert rounds.sends(round_id) == []
        assert rounds.sends(round_id, "anna") == []
        assert rounds.recorded_keys(round_id) == set()
        assert rounds.close(round_id, "lund-stk", AT) is False
        rounds.mark_answered([send_id])
        lund.commit()
    with UnitOfWork(example_engine, "malmo") as repo:
        malmo = CityRounds(repo)
        found = malmo.by_id(round_id)
        assert found is not None and found.closed_at is None
        [send] = malmo.sends(round_id)
        assert send.id == send_id and not send.marked_answered
        assert malmo.recorded_keys(round_id) == {("anna", SendKind.PROMPT)}


def test_the_citys_own_round_id_is_closed_and_its_sends_marked(example_engine: Engine) -> None:
    round_id, send_id = _malmo_round_with_a_send(example_engine)
    uow = UnitOfWork(example_engine, "malmo", write=True)
    with uow as repo:
        rounds = CityRounds(repo)
        assert rounds.close(round_id, "stk", AT) is True
        rounds.mark_answered([send_id])
        uow.commit()
    with UnitOfWork(example_engine, "malmo") as repo:
        rounds = CityRounds(repo)
        found = rounds.by_id(round_id)
        assert found is not None and found.closed_at is not None
        assert [s.marked_answered for s in rounds.sends(round_id)] == [True]
