"""Issue 21 through the Bot Framework protocol (the real aiohttp app in this process): the round
runner delivers HR's June card, which asks how many people the measure linked to a competence
need has reached and names the need; HR answers from the card (Action.Execute) with a number,
stored with the follow-up and shown on the answered card; a negative number is refused with
nothing written."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from bot.adapter import create_adapter
from bot.clock import clock_for
from bot.config import Settings
from bot.needs_services import NeedServices
from bot.proactive import Sender
from bot.round_runner import RoundRunner
from bot.round_services import RoundServices
from bot.services import Services
from core.model import Role
from core.needs import NeedEntry, NeedKind, Period, Recruitment
from storage.db import make_engine
from tests.http.harness import ConnectorStub, activity
from tests.http.inprocess import InProcessBot

JUNE = date(2025, 6, 5)
HR = "aad-hr-fskn"


def _post(app: InProcessBot, body: dict[str, Any]) -> Any:
    status, answer = app.post(body)
    assert status in (200, 201, 202), (status, answer)
    return json.loads(answer) if answer else None


def _invoke(app: InProcessBot, stub: ConnectorStub, data: dict[str, Any]) -> Any:
    body = activity(
        None,
        service_url=stub.url,
        user_id=HR,
        name="Hanna Hr",
        conversation_id="conv-hr",
        activity_type="invoke",
        activity_id=str(uuid.uuid4()),
        value={
            "action": {"type": "Action.Execute", "verb": "round_answer", "data": data},
            "trigger": "manual",
        },
    )
    body["name"] = "adaptiveCard/action"
    return _post(app, body)


def _inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input."):
                found[node["id"]] = node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def test_the_delivered_card_asks_people_reached_and_the_answer_is_stored(database_url: str) -> None:
    engine = make_engine(database_url)
    services = Services(engine, org="malmo", clock=clock_for(JUNE))
    services.grant_role(None, HR, Role.HR, "FSKN")
    rounds = RoundServices(engine, org="malmo", clock=clock_for(JUNE))
    rounds.open(None, "2025-06")
    needs = NeedServices(engine, org="malmo", clock=clock_for(JUNE))
    # Two of HR's measures the example links to no need (it links two of FSKN's to FSKN-1, FSKN-3).
    card_ids = rounds.my_card(HR, JUNE).measure_ids
    linked, unlinked = [mid for mid in card_ids if not needs.all_needs().links_of_measure(mid)][:2]
    needs.assess(
        None,
        NeedEntry(
            "B1",
            "FSKN",
            "förskollärare",
            NeedKind.INTRODUCTION,
            "Introduktion av nya förskollärare",
            Recruitment.SHORTAGE,
            Period(2024, 2026),
            "Kompetensförsörjningsplan 2024",
            date(2024, 3, 1),
            "Stadskontoret",
            datetime(2025, 5, 2, 9, tzinfo=UTC),
        ),
    )
    needs.link(None, "B1", str(linked), author="Stadskontoret")
    stub = ConnectorStub().start()
    app = InProcessBot(database_url, demo=False, anonymous_requested=True, today=JUNE).start()
    try:
        # HR has chatted with the bot once: the runner then reaches her personal chat.
        _post(app, activity("hej", service_url=stub.url, user_id=HR, conversation_id="conv-hr"))
        adapter, _auth = create_adapter(Settings(database_url="sqlite://"), storage=None)
        runner = RoundRunner(engine, Sender(adapter, None), auto_open=False)
        result = asyncio.run(asyncio.wait_for(runner.tick(JUNE), 120))
        assert result.outcomes["sent"] == 1, result.outcomes
        [sent] = [a for a in stub.activities("conv-hr") if a.get("attachments")]
        card = sent["attachments"][0]["content"]
        inputs = _inputs(card)
        assert inputs[f"m{linked}_reached"]["label"] == "Hur många personer har insatsen nått hittills?"
        assert f"m{unlinked}_reached" not in inputs
        assert "Svarar mot behov: förskollärare, introduktion (B1)." in json.dumps(card, ensure_ascii=False)

        round_id = rounds.find("2025-06").id
        answer = {
            "round_id": round_id,
            f"m{linked}_status": "Pågående",
            f"m{linked}_spent": "1 000 kr",
            f"m{linked}_forecast": "2 000 kr",
            f"m{linked}_usable": "ja",
        }

        def june() -> list[Any]:  # the linked measure's June follow-ups (the example's too)
            return [
                f for f in services.ledger().followups if f.period == "2025-06" and f.measure_id == linked
            ]

        before = june()
        refused = _invoke(app, stub, answer | {f"m{linked}_reached": "-3"})
        assert refused["type"] == "application/vnd.microsoft.activity.message"
        assert "Svaret sparades inte" in refused["value"] and "kan inte vara negativt" in refused["value"]
        assert june() == before

        saved = _invoke(app, stub, answer | {f"m{linked}_reached": "12 personer"})
        assert saved["type"] == "application/vnd.microsoft.card.adaptive"  # the answered card
        shown = json.dumps(saved["value"], ensure_ascii=False)
        assert '"title": "Personer nådda hittills", "value": "12 personer"' in shown
        [followup] = june()[len(before) :]
        assert (followup.spent, followup.reached) == (1_000, 12)
        report = rounds.report(None, "2025-06", JUNE)
        assert next(m for m in report.measures if m.measure_id == linked).reached == 12
        assert not app.errors.records, app.errors.lines()
    finally:
        app.stop()
        stub.stop()
        engine.dispose()
