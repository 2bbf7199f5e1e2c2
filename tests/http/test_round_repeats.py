"""Issue 20, the round's card answered twice, through the Bot Framework protocol (the real
aiohttp app in this process, tests/http/inprocess.py): the same answer sent six times at
once (six invokes, each its own activity id, as a double click and Teams' retries make
them) is one follow-up; the same answer again later is "nothing changed"; and an invoke
Teams repeats with the same activity id (after a slow answer) is answered as received,
not as a button the bot does not use, with nothing written."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from bot.clock import clock_for
from bot.round_services import RoundServices
from bot.services import Services
from core.model import Role
from dialogs import texts
from storage.db import make_engine
from tests.http.harness import ConnectorStub, activity
from tests.http.inprocess import InProcessBot

JUNE = date(2025, 6, 5)
HR = "aad-hr-gsn"


def _invoke(app: InProcessBot, stub: ConnectorStub, data: dict[str, Any], activity_id: str) -> Any:
    body = activity(
        None,
        service_url=stub.url,
        user_id=HR,
        name="Hanna Hr",
        conversation_id="c-hr",
        activity_type="invoke",
        activity_id=activity_id,
        value={
            "action": {"type": "Action.Execute", "verb": "round_answer", "data": data},
            "trigger": "manual",
        },
    )
    body["name"] = "adaptiveCard/action"
    status, answer = app.post(body)
    assert status == 200, answer
    return json.loads(answer)


def _june(database_url: str) -> tuple[Any, int]:
    """The June round open, its cards recorded; the first measure on HR's card."""
    engine = make_engine(database_url)
    Services(engine, org="malmo", clock=clock_for(JUNE)).grant_role(None, HR, Role.HR, "GSN")
    rounds = RoundServices(engine, org="malmo", clock=clock_for(JUNE))
    rounds.open(None, "2025-06")
    rounds.enqueue_due(JUNE)
    return engine, rounds.my_card(HR, JUNE).measure_ids[0]


def _answer(round_id: int, m: int) -> dict[str, Any]:
    return {
        "round_id": round_id,
        f"m{m}_status": "Pågående",
        f"m{m}_spent": "1 000 kr",
        f"m{m}_forecast": "2 000 kr",
        f"m{m}_usable": "ja",
        f"m{m}_note": "race",
    }


def _followups(engine: Any, m: int) -> int:
    ledger = Services(engine, org="malmo").ledger()
    return sum(1 for f in ledger.followups if f.measure_id == m and f.period == "2025-06")


def test_the_same_answer_six_times_at_once_is_saved_once(database_url: str) -> None:
    engine, m = _june(database_url)
    round_id = RoundServices(engine, org="malmo").find("2025-06").id
    stub = ConnectorStub().start()
    app = InProcessBot(database_url, demo=False, anonymous_requested=True, today=JUNE).start()
    try:
        data = _answer(round_id, m)
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda _: _invoke(app, stub, data, str(uuid.uuid4())), range(6)))
        assert _followups(engine, m) == 1, answers
        said = [a["value"] for a in answers if a["type"] == "application/vnd.microsoft.activity.message"]
        assert said.count(texts.ROUND_NOTHING_CHANGED) == 5, said
        # Sent again later (another click), it is still "nothing changed", nothing written.
        again = _invoke(app, stub, data, str(uuid.uuid4()))
        assert again["value"] == texts.ROUND_NOTHING_CHANGED
        assert _followups(engine, m) == 1
        assert not app.errors.records, app.errors.lines()
    finally:
        app.stop()
        stub.stop()
        engine.dispose()


def test_an_invoke_repeated_with_the_same_id_is_answered_as_received(database_url: str) -> None:
    engine, m = _june(database_url)
    round_id = RoundServices(engine, org="malmo").find("2025-06").id
    stub = ConnectorStub().start()
    app = InProcessBot(database_url, demo=False, anonymous_requested=True, today=JUNE).start()
    try:
        same = str(uuid.uuid4())
        first = _invoke(app, stub, _answer(round_id, m), same)
        assert first["type"] == "application/vnd.microsoft.card.adaptive"  # saved: the card answered
        before = len(stub.received)
        repeated = _invoke(app, stub, _answer(round_id, m), same)
        assert repeated == {
            "statusCode": 200,
            "type": "application/vnd.microsoft.activity.message",
            "value": texts.CARD_ACTION_REPEATED,
        }
        assert "redan" in texts.CARD_ACTION_REPEATED and "används inte" not in texts.CARD_ACTION_REPEATED
        assert len(stub.received) == before and _followups(engine, m) == 1
        # A file consent card's answer repeated: 200 with no body, nothing sent.
        consent = activity(
            None,
            service_url=stub.url,
            user_id=HR,
            conversation_id="c-hr",
            activity_type="invoke",
            activity_id=same + "-file",
            value={"type": "fileUpload", "action": "decline", "context": {"offer": "x"}},
        )
        consent["name"] = "fileConsent/invoke"
        app.post(consent)
        sent = len(stub.received)
        assert app.post(consent) == (200, "")
        assert len(stub.received) == sent
        assert not app.errors.records, app.errors.lines()
    finally:
        app.stop()
        stub.stop()
        engine.dispose()
