"""Issue 20 through the Bot Framework protocol: a stadskontoret person opens the June round
from chat (the real aiohttp app, an anonymous server with roles, the bot's date 2025-06-05):
the summary with the core's dates, "ja", the round recorded with their object id and its
cards enqueued for the round runner; and the runner then delivers them."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import select

from bot.adapter import create_adapter
from bot.clock import clock_for
from bot.config import Settings
from bot.proactive import Sender
from bot.round_runner import RoundRunner
from bot.round_services import RoundServices
from bot.services import Services
from core.model import Role
from storage.db import make_engine
from storage.rounds import SendState
from storage.tables import FollowUpRoundRow, RoundSendRow, table
from tests.http.harness import ConnectorStub, activity
from tests.http.inprocess import InProcessBot

OFFICE = "aad-stadskontoret-7"
JUNE = date(2025, 6, 5)


def _say(app: InProcessBot, stub: ConnectorStub, text: str, user: str, conversation: str) -> list[str]:
    before = len(stub.texts(conversation))
    status, _ = app.post(
        activity(
            text, service_url=stub.url, user_id=user, name="Stina Stadskontoret", conversation_id=conversation
        )
    )
    assert status in (200, 201, 202), status
    return stub.texts(conversation)[before:]


def test_stadskontoret_opens_the_round_from_chat_and_its_cards_are_enqueued(database_url: str) -> None:
    engine = make_engine(database_url)
    services = Services(engine, org="malmo", clock=clock_for(JUNE))
    services.grant_role(None, OFFICE, Role.CITY_OFFICE, None)
    services.grant_role(None, "aad-hr-fskn", Role.HR, "FSKN")
    stub = ConnectorStub().start()
    app = InProcessBot(database_url, demo=False, anonymous_requested=True, today=JUNE).start()
    try:
        # HR has chatted with the bot once: the runner then reaches her personal chat.
        assert _say(app, stub, "hej", "aad-hr-fskn", "conv-hr")
        [summary] = _say(app, stub, "öppna junirundan", OFFICE, "conv-office")
        assert "Öppna uppföljningen juni 2025?" in summary
        assert "Sista dag: 19 juni 2025" in summary and "Eskalering: 23 juni 2025" in summary
        assert "kort till 1 person" in summary
        with engine.connect() as conn:
            assert conn.execute(select(table(FollowUpRoundRow))).all() == []  # nothing before "ja"

        [done] = _say(app, stub, "ja", OFFICE, "conv-office")
        assert "Uppföljningen juni 2025 är öppnad: 1 kort går ut nu" in done
        with engine.connect() as conn:
            [round_row] = conn.execute(select(table(FollowUpRoundRow))).all()
            sends = conn.execute(select(table(RoundSendRow))).all()
        assert (round_row.period, round_row.created_by) == ("2025-06", OFFICE)  # the person's object id
        assert [(s.recipient, s.kind, s.state) for s in sends] == [
            ("aad-hr-fskn", "prompt", SendState.PENDING)
        ]
        assert not app.errors.records, app.errors.lines()
        # The round runner sends what was enqueued, like every round send: HR's card arrives
        # in her personal chat (the reference stored when she wrote "hej").
        adapter, _auth = create_adapter(Settings(database_url="sqlite://"), storage=None)
        runner = RoundRunner(engine, Sender(adapter, None), auto_open=False)
        result = asyncio.run(asyncio.wait_for(runner.tick(JUNE), 120))
        assert result.outcomes["sent"] == 1, result.outcomes
        [card] = [a for a in stub.activities("conv-hr") if a.get("attachments")]
        assert "juni 2025" in (card.get("text") or "")
        assert RoundServices(engine, org="malmo").sends("2025-06")[0].state == SendState.SENT
    finally:
        app.stop()
        stub.stop()
        engine.dispose()


def test_visa_alla_lists_the_open_june_round_not_the_planned_december(database_url: str) -> None:
    engine = make_engine(database_url)
    Services(engine, org="malmo", clock=clock_for(JUNE)).grant_role(None, OFFICE, Role.CITY_OFFICE, None)
    Services(engine, org="malmo", clock=clock_for(JUNE)).grant_role(None, "aad-hr-fskn", Role.HR, "FSKN")
    rounds = RoundServices(engine, org="malmo", clock=clock_for(JUNE))
    rounds.open(None, "2025-06")
    rounds.enqueue_due(JUNE)
    rounds.open(None, "2025-12")  # planned: it opens in December
    stub = ConnectorStub().start()
    app = InProcessBot(database_url, demo=False, anonymous_requested=True, today=JUNE).start()
    try:
        said = "\n".join(_say(app, stub, "visa alla", OFFICE, "conv-office"))
        assert "Uppföljningen juni 2025: de som inte har svarat" in said and "december" not in said
        assert not app.errors.records, app.errors.lines()
    finally:
        app.stop()
        stub.stop()
        engine.dispose()


def test_a_chef_or_hr_asking_for_the_proposals_is_told_how_reallocation_goes(database_url: str) -> None:
    """A stranger's chef got "Jag förstod inte" for "vilka förslag finns?": the proposals are
    KSAU's card; anyone else is told how a reallocation goes."""
    from dialogs import texts

    engine = make_engine(database_url)
    services = Services(engine, org="malmo", clock=clock_for(JUNE))
    services.grant_role(None, "aad-chef-gvn", Role.CHEF, "GVN")
    services.grant_role(None, "aad-hr-fskn", Role.HR, "FSKN")
    stub = ConnectorStub().start()
    app = InProcessBot(database_url, demo=False, anonymous_requested=True, today=JUNE).start()
    try:
        for user in ("aad-chef-gvn", "aad-hr-fskn"):
            for asked in ("vilka förslag finns?", "vilka forslag finns"):
                assert _say(app, stub, asked, user, f"conv-{user}") == [texts.REALLOCATION_INFO]
    finally:
        app.stop()
        stub.stop()
        engine.dispose()
