"""Item 2: replies and proactive sends go only to allowed origins (bot.outbound).

Before: an activity (with a valid token) naming any serviceUrl made the bot
POST its reply there with its own Bot Framework token, and replaced the
person's stored reference, so the next June card went there too. Every test
here reaches only loopback: the "foreign" host is a trap on 127.0.0.2 that
counts the connections it gets, and aiohttp's connector is watched for any
connection attempt at all."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import aiohttp
import pytest
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import (
    AccessTokenProviderBase,
    AgentAuthConfiguration,
    ClaimsIdentity,
    ConnectionManager,
    TurnContext,
)

from bot.adapter import create_adapter
from bot.clients import PooledClientFactory
from bot.config import Settings
from bot.outbound import OutboundPolicy, OutboundRefused, report_stored_references
from bot.proactive import Sender
from storage.bot_state import save_conversation_reference
from storage.db import make_engine
from tests.http.conftest import database_url  # noqa: F401 - the fixture
from tests.http.harness import ConnectorStub, ThrottlingConnectorStub, activity
from tests.http.inprocess import InProcessBot
from tests.security.outbound_support import Trap, stored_references

TEAMS = "https://smba.trafficmanager.net/emea/"


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every connection aiohttp's connector opens (host:port), in any thread of this process."""
    opened: list[str] = []
    original = aiohttp.TCPConnector._create_connection

    async def watched(self: aiohttp.TCPConnector, req: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(f"{req.host}:{req.port}")
        return await original(self, req, *args, **kwargs)

    monkeypatch.setattr(aiohttp.TCPConnector, "_create_connection", watched)
    return opened


def reference(service_url: str, conversation_id: str = "a:anna", user_id: str = "aad-anna") -> dict[str, Any]:
    incoming = Activity.model_validate(
        activity("hej", service_url=service_url, conversation_id=conversation_id, user_id=user_id)
    )
    return incoming.get_conversation_reference().model_dump(mode="json", by_alias=True, exclude_none=True)


# --- the policy ---------------------------------------------------------------------------


def test_lookalike_service_urls_are_not_teams() -> None:
    """Hosts an attacker registers to look like Teams' get nothing; Teams' own do."""
    policy = OutboundPolicy.of(None, anonymous=False)
    url: str | None  # the lookalikes below include no URL at all
    for url in (
        TEAMS,
        "https://smba.infra.gcc.teams.microsoft.com/teams",
        "https://SMBA.trafficmanager.net:443/",
    ):
        assert policy.check(url), url
    for url in (
        "https://smba.trafficmanager.net.evil.example/emea/",
        "https://smba.trafficmanager.net@evil.example/emea/",
        "https://evil.example/smba.trafficmanager.net/",
        "http://smba.trafficmanager.net/emea/",  # plain http
        "https://smba.trafficmanager.net:8443/emea/",  # another port
        "http://127.0.0.1:3978/",  # loopback is not listed by default
        "http://169.254.169.254/latest/meta-data/",
        "https://smba.trafficmanager.net./emea/",  # a trailing dot: another name to DNS
        "file:///etc/passwd",
        "",
        None,
    ):
        assert not policy.check(url), url
    # Anonymous: loopback only, whatever the list says.
    anonymous = OutboundPolicy.of("https://smba.trafficmanager.net,http://127.0.0.1:4000", anonymous=True)
    assert not anonymous.check(TEAMS)
    assert anonymous.check("http://127.0.0.1:4000/x") and not anonymous.check("http://127.0.0.1:4001/")
    assert OutboundPolicy.of(None, anonymous=True).check("http://[::1]:9/")
    # "localhost." is not in /etc/hosts: it is asked of DNS, which may answer anything.
    assert not OutboundPolicy.of(None, anonymous=True).check("http://localhost.:9/")
    with pytest.raises(ValueError, match="plain http"):
        OutboundPolicy.of("http://teams.example", anonymous=False)
    with pytest.raises(ValueError, match="not an origin"):
        OutboundPolicy.of("https://smba.trafficmanager.net/emea/", anonymous=False)


# --- replies ------------------------------------------------------------------------------


class SpyTokens:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def get_access_token(
        self, resource_url: str, scopes: list[str], force_refresh: bool = False
    ) -> str:  # noqa: E501
        self.asked.append(resource_url)
        return "the-bots-own-token"


def test_a_reply_client_for_a_foreign_service_url_gets_no_token_and_no_socket(connections) -> None:
    """With credentials: the connector client for a reply to a host off the list
    is refused before the bot's token is asked for or a connection made."""
    tokens = SpyTokens()
    manager = ConnectionManager(
        # cast: the spy has only get_access_token, all this path may ask for (any other call fails the test)
        provider_factory=lambda _config: cast(AccessTokenProviderBase, tokens),
        connections_configurations={"SERVICE_CONNECTION": AgentAuthConfiguration(client_id="app-123")},
    )
    with Trap() as trap:
        factory = PooledClientFactory(manager, outbound=OutboundPolicy.of(None, anonymous=False))
        claims = ClaimsIdentity({"aud": "app-123", "serviceurl": trap.url}, "Bearer")

        async def make() -> None:
            await factory.create_connector_client(None, claims, trap.url, "https://api.botframework.com")

        with pytest.raises(OutboundRefused):
            asyncio.run(make())
    assert tokens.asked == [] and connections == [] and trap.accepted == 0


def test_an_activity_naming_a_foreign_service_url_is_answered_nowhere(database_url, connections) -> None:  # noqa: F811
    """Anonymous server (the list holds the channel's stand-in): an activity
    whose serviceUrl is the trap, or Teams itself, gets 403; nothing is
    processed, nothing sent anywhere, and the person's stored reference
    stays the one that came from the channel."""
    stub = ConnectorStub().start()
    bot = InProcessBot(database_url, demo=True, service_urls=stub.url.rstrip("/")).start()
    engine = make_engine(database_url)
    try:
        with Trap() as trap:
            status, _ = bot.post(activity("saldo GVN", service_url=stub.url, conversation_id="a:anna"))
            assert status == 202 and stub.texts("a:anna")
            replies_before = len(stub.received)
            for foreign in (trap.url, TEAMS, "http://localhost:9/"):
                status, body = bot.post(activity("saldo GVN", service_url=foreign, conversation_id="a:anna"))
                assert status == 403 and "serviceUrl" in body, (foreign, status, body)
            assert trap.accepted == 0
        assert len(stub.received) == replies_before
        assert {c.split(":")[0] for c in connections} == {"127.0.0.1"}  # only the listed stand-in
        [stored] = [r for r in stored_references(engine) if r["conversation"] == "a:anna"]
        assert stored["serviceUrl"] == stub.url
    finally:
        engine.dispose()
        bot.stop()
        stub.stop()


def test_a_turn_never_stores_a_reference_whose_origin_is_not_allowed(example_engine) -> None:
    """Past the HTTP check (the handler called directly): the turn stops at once,
    so no reference is written and nothing is answered."""
    from bot.teams_bot import KompetensBot
    from tests.dialogs.conftest import JsonStorage

    teams_only = OutboundPolicy.of(None, anonymous=False)
    bot = KompetensBot(example_engine, JsonStorage(), demo=True, outbound=teams_only)
    sent: list[Any] = []

    class Context:
        def __init__(self, incoming: Activity) -> None:
            self.activity = incoming
            self.adapter = None
            self.turn_state: dict[str, Any] = {}

        async def send_activity(self, *args: Any) -> None:
            sent.append(args)

        def on_send_activities(self, handler: Any) -> None:
            pass

    incoming = Activity.model_validate(activity("saldo GVN", service_url="https://evil.example/"))
    # cast: a stand-in with only what on_turn uses before it refuses the service URL
    asyncio.run(bot.on_turn(cast(TurnContext, Context(incoming))))
    assert sent == [] and stored_references(example_engine) == []


# --- proactive sends ----------------------------------------------------------------------


def test_june_cards_to_a_stored_reference_off_the_list_are_refused_before_a_socket(connections) -> None:
    """A reference stored (before the upgrade) with a foreign serviceUrl: the
    round's send, an update and a create-conversation there are permanent
    failures, no connection made; a listed one is delivered."""
    adapter, _ = create_adapter(Settings(database_url="sqlite://"), storage=None)  # anonymous
    with Trap() as trap, ThrottlingConnectorStub(per_conversation_rate=None, global_rate=None) as stub:
        sender = Sender(adapter, None, outbound=OutboundPolicy.of(stub.url.rstrip("/"), anonymous=True))

        async def scenario() -> tuple[Any, ...]:
            sent = await sender.send(reference(trap.url), "Dags för uppföljning")
            updated = await sender.update(reference(trap.url), "1", "Besvarat")
            created = await sender.create_conversation_result(trap.url, "tenant-malmo", "29:anna")
            fine = await sender.send(reference(stub.url), "Dags för uppföljning")
            return sent, updated, created, fine

        sent, updated, created, fine = asyncio.run(scenario())
        assert trap.accepted == 0
    for refused in (sent, updated, created):
        assert not refused.ok and refused.permanent and "not allowed" in refused.reason, refused
    assert fine.ok and len(stub.sends()) == 1
    assert {c.split(":")[0] for c in connections} == {"127.0.0.1"}


def test_the_sdks_own_proactive_path_is_refused_too(connections) -> None:
    """continue_conversation on the adapter (not through our Sender) with a
    serviceUrl off the list: the adapter's client factory refuses it."""
    listed = Settings(database_url="sqlite://", service_urls="http://127.0.0.1:9")
    adapter, _ = create_adapter(listed, storage=None)
    with Trap() as trap:
        continuation = Activity.model_validate(
            activity(None, service_url=trap.url, activity_type="event", name="ContinueConversation")
        )

        async def go() -> None:
            await adapter.continue_conversation_with_claims(
                ClaimsIdentity({}, "anonymous"), continuation, lambda ctx: ctx.send_activity("hej")
            )

        with pytest.raises(OutboundRefused):
            asyncio.run(go())
        assert trap.accepted == 0 and connections == []


# --- start-up ----------------------------------------------------------------------------


def test_start_up_names_the_stored_references_that_are_not_allowed(example_engine, caplog) -> None:
    """References stored before the upgrade (or by an attacker then) are
    reported at start: how many and which, so an operator can look."""
    for i, url in enumerate(["https://evil.example/", "http://10.0.0.5:8080/", TEAMS]):
        save_conversation_reference(
            example_engine,
            org_id=None,
            tenant_id="tenant-malmo",
            user_id=f"aad-{i}",
            conversation_id=f"a:{i}",
            conversation_type="personal",
            reference=reference(url, f"a:{i}", f"aad-{i}"),
        )
    with caplog.at_level(logging.INFO, logger="kompetensbot.outbound"):
        count = report_stored_references(example_engine, OutboundPolicy.of(None, anonymous=False))
    assert count == 2
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert line.startswith("2 stored conversation reference(s)") and "https://evil.example:443" in line
    assert "http://10.0.0.5:8080" in line


# --- the attack as observed: a real server with credentials and a valid token -------------------


CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TENANT_ID = "99999999-8888-7777-6666-555555555555"


@pytest.mark.slow
def test_with_a_valid_token_a_foreign_service_url_gets_no_reply_and_no_bot_token(tmp_path) -> None:
    """`kompetensbot serve` with credentials, the channel's stand-in listed: a
    correctly signed Bot Framework token whose serviceurl claim and activity
    both name the trap get 403; the trap gets no connection, the bot fetches
    no outgoing token, the stored reference stays, and the start-up log named
    the reference that was stored off the list before the upgrade."""
    from storage.bot_state import link_tenant
    from tests.http.conftest import _prepare
    from tests.http.entra import FakeEntra
    from tests.http.harness import BotServer

    url = f"sqlite:///{tmp_path / 'bot.db'}"
    _prepare(url)
    engine = make_engine(url)
    link_tenant(engine, "tenant-malmo", "malmo")
    save_conversation_reference(
        engine,
        org_id=None,
        tenant_id="tenant-malmo",
        user_id="aad-old",
        conversation_id="a:old",
        conversation_type="personal",
        reference=reference("https://evil.example/", "a:old", "aad-old"),
    )
    entra = FakeEntra(tmp_path).start()
    stub = ThrottlingConnectorStub(per_conversation_rate=None, global_rate=None).start()
    env = {
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": CLIENT_ID,
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "hemligt",
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": TENANT_ID,
        "KOMPETENSBOT_SERVICE_URLS": stub.url,
        **entra.env(),
    }
    server = BotServer(url, demo=False, env=env).start()
    try:
        with Trap() as trap:
            honest = activity("hej", service_url=stub.url, conversation_id="a:anna", user_id="aad-anna")
            token = entra.token(CLIENT_ID, serviceurl=stub.url)
            assert server.post(honest, {"Authorization": f"Bearer {token}"})[0] == 202
            tokens_before = entra.issued()
            forged = activity("saldo GVN", service_url=trap.url, conversation_id="a:anna", user_id="aad-anna")
            token = entra.token(CLIENT_ID, serviceurl=trap.url)
            status, body = server.post(forged, {"Authorization": f"Bearer {token}"})
            assert status == 403 and "serviceUrl" in body
            assert trap.accepted == 0
        assert entra.issued() == tokens_before  # no token of the bot's was fetched for it
        stored = {r["conversation"]: r["serviceUrl"] for r in stored_references(engine)}
        assert stored["a:anna"] == stub.url
        log = server.log.read_text()
        assert "1 stored conversation reference(s)" in log and "https://evil.example:443" in log
        assert "Traceback" not in log
    finally:
        server.stop()
        stub.stop()
        entra.stop()
        engine.dispose()
