"""With a client id configured: every request needs a valid token (missing,
expired, wrongly signed, wrong-audience and other bad tokens get 401 and no
answer), and the bot's own outgoing token is fetched once per app and scope
until it expires, not once per turn.

A real `kompetensbot serve` process with the SDK's own JWT validator and MSAL,
against a local stand-in for Microsoft's sign-in service (tests/http/entra.py:
a CONNECT proxy and a certificate authority of the test's own, nothing in the
server patched)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.services import Services
from core.model import Role
from storage.bot_state import link_tenant
from storage.db import make_engine
from tests.http.conftest import _prepare
from tests.http.entra import KID, FakeEntra
from tests.http.harness import BotServer, ThrottlingConnectorStub, activity

pytestmark = pytest.mark.slow

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TENANT_ID = "99999999-8888-7777-6666-555555555555"
SCOPE = "https://api.botframework.com/.default"


@pytest.fixture(scope="module")
def secured(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[BotServer, ThrottlingConnectorStub, FakeEntra]]:
    folder = tmp_path_factory.mktemp("auth")
    url = f"sqlite:///{folder / 'bot.db'}"
    _prepare(url)
    # With credentials there is no demo mode: the person asking has a role of their own.
    Services(make_engine(url)).grant_role(None, "aad-user-1", Role.CITY_OFFICE, None)
    entra = FakeEntra(folder).start()
    stub = ThrottlingConnectorStub(per_conversation_rate=None, global_rate=None).start()
    env = {
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": CLIENT_ID,
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "hemligt",
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": TENANT_ID,
        "KOMPETENSBOT_SERVICE_URLS": stub.url,  # with credentials only listed origins get replies
        **entra.env(),
    }
    link_tenant(make_engine(url), "tenant-malmo", "malmo")  # the activities' tenant (harness.activity)
    server = BotServer(url, env=env).start()
    try:
        yield server, stub, entra
        assert "Traceback" not in server.log.read_text()
    finally:
        server.stop()
        stub.stop()
        entra.stop()


def turn(
    server: BotServer,
    stub: ThrottlingConnectorStub,
    token: str | None,
    text: str = "saldo GVN",
    conversation: str = "auth-1",
) -> tuple[int, list[dict[str, Any]]]:
    """One message with `token` as its bearer token: the status, and what reached the channel."""
    body = activity(text, service_url=stub.url, conversation_id=conversation, tenant_id=TENANT_ID)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    status, _ = server.post(body, headers=headers)
    return status, [s for s in stub.sends() if s["activity"].get("replyToId") == body["id"]]


def test_the_outgoing_token_is_fetched_once_per_scope_until_it_expires(secured) -> None:
    server, stub, entra = secured
    token = entra.token(CLIENT_ID, serviceurl=stub.url)

    # A token that MSAL counts as expired (under its 5 minutes of margin) is fetched again.
    entra.expires_in = 120
    for _ in range(2):
        status, sent = turn(server, stub, token)
        assert status == 202 and sent, status
    short_lived = entra.issued()
    assert short_lived >= 2, entra.token_requests  # at least once per turn: each time it had expired
    assert {r.get("scope") for r in entra.token_requests} == {SCOPE}
    assert {r.get("client_id") for r in entra.token_requests} == {CLIENT_ID}

    # A token valid for an hour is fetched once, then reused by every turn.
    entra.expires_in = 3600
    status, sent = turn(server, stub, token)
    assert status == 202 and sent
    assert entra.issued() == short_lived + 1
    used = sent[0]["authorization"]
    assert used == f"Bearer outgoing-token-{short_lived + 1}"
    for i in range(5):
        status, sent = turn(server, stub, token, conversation=f"auth-many-{i}")
        assert status == 202 and [s["authorization"] for s in sent] == [used]
    assert entra.issued() == short_lived + 1
    assert entra.unexpected == []
    assert set(entra.tunnels) <= {"login.microsoftonline.com", "login.botframework.com"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256_with_public_key(entra: FakeEntra, url: str) -> str:
    """The classic algorithm-confusion forgery: HMAC keyed with the (public) RSA key."""
    public = entra.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": KID}).encode())
    claims = {
        "aud": CLIENT_ID,
        "iss": "https://api.botframework.com",
        "exp": int(time.time()) + 600,
        "serviceurl": url,
    }
    body = _b64(json.dumps(claims).encode())
    signature = hmac.new(public, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def _other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda e, url: None, id="missing"),
        pytest.param(lambda e, url: "not-a-token", id="garbage"),
        pytest.param(lambda e, url: e.token(CLIENT_ID, serviceurl=url, lifetime=-600), id="expired"),
        pytest.param(lambda e, url: e.token(CLIENT_ID, serviceurl=url, key=_other_key()), id="wrong key"),
        pytest.param(lambda e, url: e.token("another-app", serviceurl=url), id="wrong audience"),
        pytest.param(lambda e, url: e.token(CLIENT_ID, serviceurl=url, kid="unknown-key"), id="unknown key"),
        pytest.param(
            lambda e, url: jwt.encode(
                {"aud": CLIENT_ID, "iss": "https://api.botframework.com"},
                "",  # no key for alg "none": PyJWT takes "" as None there, and its types allow no None
                algorithm="none",
                headers={"kid": KID},
            ),
            id="unsigned",
        ),
        pytest.param(lambda e, url: _hs256_with_public_key(e, url), id="HS256 keyed with the public key"),
    ],
)
def test_a_request_without_a_valid_token_gets_401_and_no_answer(secured, make) -> None:
    server, stub, entra = secured
    status, sent = turn(server, stub, make(entra, stub.url), conversation="auth-refused")
    assert status == 401
    assert sent == []


def test_a_valid_token_is_answered(secured) -> None:
    """The same request with a good token: the refusals above are about the token."""
    server, stub, entra = secured
    status, sent = turn(server, stub, entra.token(CLIENT_ID, serviceurl=stub.url), conversation="auth-ok")
    assert status == 202
    assert "9 500 000 kr" in sent[0]["activity"]["text"]


def test_the_key_set_is_fetched_from_the_stand_in(secured) -> None:
    """What made the validator's decisions: the key set at the address the SDK builds itself."""
    _server, _stub, entra = secured
    assert "login.botframework.com" in entra.tunnels
