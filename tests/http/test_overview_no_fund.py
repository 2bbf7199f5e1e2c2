"""A stranger's finding on the overview (issue 21), through the Bot Framework protocol: for the
city office of Hägersten-Liljeholmen (the second example, no fund, loaded beside Malmö, its own
Teams tenant) "översikt" showed an action titled "None" (the card's refresh, untitled) and
"Alla insatser 0 / Pågående 0" while the city has six ongoing measures of 2018 without money."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from bot.data_services import load_example
from bot.services import Services
from core.model import Role
from dialogs import texts
from storage.bot_state import link_tenant
from storage.db import make_engine
from tests.http.conftest import database_url  # noqa: F401 - the fixture
from tests.http.harness import ConnectorStub, activity
from tests.http.inprocess import InProcessBot
from tests.manifest.test_cards_schema import assert_valid

HL = "hagersten-liljeholmen"
TENANT = "tenant-hagersten-liljeholmen"
CITY = "aad-hl-city-office"


@pytest.fixture
def bot(database_url: str) -> Iterator[tuple[InProcessBot, ConnectorStub]]:  # noqa: F811
    engine = make_engine(database_url)
    load_example(engine, HL)
    link_tenant(engine, TENANT, HL)
    Services(engine, org=HL).grant_role(None, CITY, Role.CITY_OFFICE, None)
    engine.dispose()
    stub = ConnectorStub().start()
    app = InProcessBot(database_url, demo=False, today=date(2025, 6, 5), service_urls=stub.url.rstrip("/"))
    app.start()
    try:
        yield app, stub
    finally:
        app.stop()
        stub.stop()


def _overview(app: InProcessBot, stub: ConnectorStub) -> dict[str, Any]:
    conversation = f"personal-{CITY}-{uuid.uuid4().hex[:6]}"
    status, _ = app.post(
        activity(
            "översikt",
            service_url=stub.url,
            conversation_id=conversation,
            user_id=CITY,
            name="Hanna Stadsdel",
            tenant_id=TENANT,
        )
    )
    assert status in (200, 202)
    [message] = [m for m in stub.activities(conversation) if m.get("attachments")]
    assert message["text"] == texts.OVERVIEW_TEXT
    content: dict[str, Any] = message["attachments"][0]["content"]
    return content


def _refreshed(app: InProcessBot, stub: ConnectorStub, action: dict[str, Any]) -> dict[str, Any]:
    """The card as Teams gets it when the refresh runs (an "adaptiveCard/action" invoke)."""
    body = activity(
        None,
        service_url=stub.url,
        conversation_id=f"personal-{CITY}",
        user_id=CITY,
        name="Hanna Stadsdel",
        tenant_id=TENANT,
        activity_type="invoke",
        value={"action": action, "trigger": "automatic"},
    )
    body["name"] = "adaptiveCard/action"
    status, answer = app.post(body)
    assert status == 200, answer
    found: dict[str, Any] = json.loads(answer)
    assert found["type"] == "application/vnd.microsoft.card.adaptive", found
    card: dict[str, Any] = found["value"]  # the invoke response's card
    return card


def _walk(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for k, value in node.items():
            yield k, value
            yield from _walk(value, k)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, key)


def test_the_overview_of_a_city_without_a_fund_counts_its_measures_and_shows_no_none(bot) -> None:
    app, stub = bot
    content = _overview(app, stub)
    assert_valid(content, "the overview of Hägersten-Liljeholmen")
    for card in (content, _refreshed(app, stub, content["refresh"]["action"])):
        # every action, the refresh included, has a title; no text anywhere is "None"
        actions = [
            v for k, v in _walk(card) if isinstance(v, dict) and str(v.get("type")).startswith("Action.")
        ]
        assert actions and all(a.get("title") == "Uppdatera" for a in actions), actions
        assert not [
            (k, v) for k, v in _walk(card) if isinstance(v, str) and "None" in v.split() and k != "spacing"
        ]
        shown = [v for k, v in _walk(card) if k == "text"]
        assert shown[0] == "Översikt: Hägersten-Liljeholmen (Stockholms stad)"
        assert texts.overview_no_fund(2025) in shown and texts.OVERVIEW_MONEY not in shown
        facts = {f["title"]: f["value"] for k, v in _walk(card) if k == "facts" for f in v}
        assert (facts["Pågående"], facts[texts.OVERVIEW_ALL_MEASURES], facts["Klar"]) == ("6", "6", "0")
