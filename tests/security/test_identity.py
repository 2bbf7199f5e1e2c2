"""Item 3: who is served. A person is their Entra object id (from.id counts
only in demo mode), only Teams' channel is served, and with credentials only
a tenant linked to a city (or the registration's own, with one city).

Before: a `directline` activity without aadObjectId and with from.id = a
stadskontoret person's object id was answered as that person; activities from
another tenant, or none, were served even after `tenants link`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.testing import TestAdapter
from sqlalchemy.engine import Engine

from bot.outbound import OutboundPolicy
from bot.services import Services
from bot.teams_bot import KompetensBot
from core.model import Role
from dialogs import texts
from dialogs.turn import identity_of
from storage.bot_state import link_tenant
from storage.db import make_engine
from tests.dialogs.conftest import JsonStorage
from tests.http.conftest import database_url  # noqa: F401 - the fixture
from tests.http.harness import ConnectorStub, activity
from tests.http.inprocess import InProcessBot

KSAU = "aad-ksau"  # a stadskontoret person's object id
OWN_TENANT = "99999999-8888-7777-6666-555555555555"
TEST_URL = "https://test.com"  # the TestAdapter's serviceUrl
BALANCE = "kvar"


ADAPTERS: dict[int, TestAdapter] = {}


def teams_bot(engine: Engine, **kwargs: Any) -> KompetensBot:
    """The handler as `serve` builds it with credentials (tenant rule on)."""
    outbound = OutboundPolicy.of(TEST_URL, anonymous=False)
    return KompetensBot(engine, JsonStorage(), outbound=outbound, **kwargs)


def say(bot: KompetensBot, text: str, *, tenant: str | None, channel: str = "msteams", **sender: Any) -> str:
    """One message through the handler; everything it answered, as one string."""
    adapter = ADAPTERS.setdefault(id(bot.engine), TestAdapter())  # one a database: it numbers activities
    body = activity(text, service_url=TEST_URL, tenant_id=tenant or "-")
    body["channelId"] = channel
    if tenant is None:
        body.pop("channelData")
        body["conversation"].pop("tenantId")
    body["from"] = {**body["from"], **sender}
    if "aadObjectId" in body["from"] and body["from"]["aadObjectId"] is None:
        del body["from"]["aadObjectId"]
    asyncio.run(adapter.process_activity(adapter.claims_identity, Activity.model_validate(body), bot.on_turn))
    said = []
    while (sent := adapter.get_next_reply()) is not None:
        if sent.type == ActivityTypes.message:
            said.append(sent.text or "")
    return "\n".join(said)


@pytest.fixture
def ksau(example_engine: Engine) -> Engine:
    Services(example_engine, org="malmo").grant_role(None, KSAU, Role.CITY_OFFICE, None)
    return example_engine


def test_a_directline_activity_with_ksaus_id_in_from_id_is_not_answered(database_url) -> None:  # noqa: F811
    """The attack as observed, against a server: another channel, no object
    id, from.id = KSAU's: nothing is answered (and nothing as KSAU)."""
    engine = make_engine(database_url)
    Services(engine, org="malmo").grant_role(None, KSAU, Role.CITY_OFFICE, None)
    stub = ConnectorStub().start()
    bot = InProcessBot(database_url, demo=False, service_urls=stub.url.rstrip("/")).start()
    try:
        body = activity("saldo GVN", service_url=stub.url, conversation_id="dl-1")
        body["channelId"] = "directline"
        body["from"] = {"id": KSAU, "name": "KSAU"}
        status, _ = bot.post(body)
        assert status in (200, 202)
        teams = activity("saldo GVN", service_url=stub.url, conversation_id="teams-1")
        teams["from"] = {"id": KSAU, "name": "KSAU"}  # msteams, but no object id
        status, _ = bot.post(teams)
        assert status in (200, 202)
    finally:
        bot.stop()
        stub.stop()
        engine.dispose()
    assert stub.texts("dl-1") == []
    assert stub.texts("teams-1") == [texts.NO_OBJECT_ID]


def test_from_id_is_nobody_outside_demo_and_the_object_id_is_who_acts(ksau: Engine) -> None:
    bot = teams_bot(ksau, tenant_rule=False)
    refused = say(bot, "saldo GVN", tenant="tenant-malmo", id=KSAU, aadObjectId=None)
    assert refused == texts.NO_OBJECT_ID
    # A display name or from.id of KSAU's does not make anyone KSAU: the object id decides.
    stranger = say(bot, "saldo GVN", tenant="tenant-malmo", id=KSAU, name="KSAU", aadObjectId="aad-stranger")
    assert BALANCE not in stranger and stranger == texts.no_access("KSAU", "aad-stranger")
    assert BALANCE in say(bot, "saldo GVN", tenant="tenant-malmo", id="29:whatever", aadObjectId=KSAU)
    # Demo mode (everyone is stadskontoret there) may fall back to from.id.
    demo = teams_bot(ksau, demo=True)
    assert BALANCE in say(demo, "saldo GVN", tenant="tenant-malmo", id="29:x", aadObjectId=None)


def test_the_identity_a_turn_acts_as_is_the_object_id(ksau: Engine) -> None:
    """What the dialogs (and the authors of entries) get as the person: the
    object id, never from.id or the display name."""
    seen: list[tuple[str, str]] = []

    class Recorder:
        id = "recorder"

        async def answer_at_once(self, context: TurnContext) -> bool:
            identity = identity_of(context)
            seen.append((identity.user_id, identity.name))
            return True

    bot = teams_bot(ksau, tenant_rule=False, dialog=Recorder())
    say(bot, "hej", tenant="tenant-malmo", id="29:ksau-chat-id", name="Stadsdirektören", aadObjectId=KSAU)
    assert seen == [(KSAU, "Stadsdirektören")]


def test_other_tenants_and_none_are_refused_even_after_tenants_link(ksau: Engine) -> None:
    """With credentials: one city, not linked: only the registration's own
    tenant is served; after `tenants link` of another tenant, that one is
    served and any other still refused, as is an activity with no tenant."""
    bot = teams_bot(ksau, tenant_rule=True, own_tenant=OWN_TENANT)
    assert say(bot, "saldo GVN", tenant="tenant-evil", aadObjectId=KSAU) == texts.TENANT_NOT_LINKED
    assert say(bot, "saldo GVN", tenant=None, aadObjectId=KSAU) == texts.NO_TENANT
    assert BALANCE in say(bot, "saldo GVN", tenant=OWN_TENANT, aadObjectId=KSAU)
    link_tenant(ksau, "tenant-malmo", "malmo")
    assert BALANCE in say(bot, "saldo GVN", tenant="tenant-malmo", aadObjectId=KSAU)
    assert say(bot, "saldo GVN", tenant="tenant-evil", aadObjectId=KSAU) == texts.TENANT_NOT_LINKED
    assert say(bot, "saldo GVN", tenant=None, aadObjectId=KSAU) == texts.NO_TENANT
    # Without a registration tenant there is no fallback at all.
    assert say(teams_bot(ksau, tenant_rule=True), "saldo GVN", tenant=OWN_TENANT, aadObjectId=KSAU) == (
        texts.TENANT_NOT_LINKED
    )
