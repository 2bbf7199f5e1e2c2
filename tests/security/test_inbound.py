"""Item 1 (issuer and caller) and the inbound side of item 2 (the token's
serviceurl claim): with credentials, a request is processed only with a token
that is signed, for our client id, in time, and from an issuer we accept;
anything else gets 401 and nothing is processed (no claim, no turn, no reply).

The first tests pin what the Agents SDK (1.9) accepts on its own, so that a
change of version that makes our checks redundant, or weaker, shows here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from microsoft_agents.hosting.core import AgentAuthConfiguration
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator

from bot.inbound_auth import InboundPolicy, Refused, same_service_url
from bot.services import Services
from core.model import Role
from storage.db import make_engine
from tests.http.conftest import _prepare
from tests.http.entra import KID, FakeEntra
from tests.http.harness import BotServer, ThrottlingConnectorStub, activity
from tests.security.inbound_support import (
    CALLER,
    CLIENT_ID,
    MICROSOFT_TENANT,
    OTHER_TENANT,
    TENANT_ID,
    Secured,
    credentials_env,
    forget_keys,
    sdk_accepts,
    secured_bot,
)

EVIL = "https://evil.example/"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        secured_bot(tmp_path_factory.mktemp("inbound"), monkeypatch) as bot,
    ):
        yield bot


# --- what the SDK does on its own ------------------------------------------------------------


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeEntra, JwtTokenValidator]]:
    """The SDK's validator as our server configures it, its key sets from the stand-in."""
    entra = FakeEntra(tmp_path_factory.mktemp("sdk")).start()
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in entra.env().items():
            monkeypatch.setenv(name, value)
        forget_keys()
        config = AgentAuthConfiguration(client_id=CLIENT_ID, tenant_id=TENANT_ID, client_secret="x")
        try:
            yield entra, JwtTokenValidator(config)
        finally:
            entra.stop()
            forget_keys()


def test_the_sdk_alone_accepts_an_evil_issuer_another_tenant_and_a_token_without_expiry(sdk) -> None:
    """Pinned: the SDK's own check lets these through, so ours is what refuses them."""
    entra, validator = sdk
    assert sdk_accepts(validator, entra.token(CLIENT_ID, issuer=EVIL))
    other = f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"
    assert sdk_accepts(validator, entra.token(CLIENT_ID, issuer=other, tid=OTHER_TENANT, azp="stranger"))
    now = int(time.time())
    no_expiry = jwt.encode(
        {"iss": "https://api.botframework.com", "aud": CLIENT_ID, "nbf": now - 10},
        entra.key,
        algorithm="RS256",
        headers={"kid": KID},
    )
    assert sdk_accepts(validator, no_expiry)
    # ... and the refusals it does make, which ours rely on.
    assert not sdk_accepts(validator, entra.token("another-app", issuer=EVIL))
    assert not sdk_accepts(validator, entra.token(CLIENT_ID, lifetime=-600))


def test_the_sdk_with_issuer_checks_on_still_trusts_microsofts_own_tenants(sdk) -> None:
    """Pinned: VALIDATE_ISSUER is not enough: a first-party tenant's token, any caller, passes."""
    entra, _validator = sdk
    config = AgentAuthConfiguration(
        client_id=CLIENT_ID, tenant_id=TENANT_ID, client_secret="x", validate_issuer=True
    )
    strict = JwtTokenValidator(config)
    microsoft = f"https://login.microsoftonline.com/{MICROSOFT_TENANT}/v2.0"
    assert sdk_accepts(strict, entra.token(CLIENT_ID, issuer=microsoft, tid=MICROSOFT_TENANT, azp="any"))
    assert not sdk_accepts(strict, entra.token(CLIENT_ID, issuer=EVIL))


# --- the server: refused means 401 and nothing processed --------------------------------------


REFUSED = [
    pytest.param(lambda s: s.entra.token(CLIENT_ID, issuer=EVIL, serviceurl=s.stub.url), id="evil issuer"),
    pytest.param(lambda s: s.entra_v2(tenant=OTHER_TENANT, azp="unrelated-app"), id="another tenant v2"),
    pytest.param(lambda s: s.entra_v1(tenant=OTHER_TENANT, appid="unrelated-app"), id="another tenant v1"),
    pytest.param(lambda s: s.entra_v2(tenant=OTHER_TENANT), id="another tenant, a listed caller"),
    pytest.param(lambda s: s.entra_v2(azp="unrelated-app"), id="our tenant, an unlisted caller"),
    pytest.param(lambda s: s.entra_v1(appid="unrelated-app"), id="our tenant v1, an unlisted caller"),
    pytest.param(lambda s: s.entra_v2(tenant=MICROSOFT_TENANT, azp="any"), id="a Microsoft tenant"),
    pytest.param(
        lambda s: s.entra.token(CLIENT_ID, issuer="https://api.botframework.us", serviceurl=s.stub.url),
        id="Bot Framework US Government",
    ),
    pytest.param(
        lambda s: s.entra.token(CLIENT_ID, issuer="https://api.botframework.com/", serviceurl=s.stub.url),
        id="issuer with a slash",
    ),
    pytest.param(lambda s: s.entra.token(CLIENT_ID), id="Bot Framework without serviceurl"),
    pytest.param(
        lambda s: s.bot_framework("https://smba.trafficmanager.net/emea/"), id="serviceurl of Teams"
    ),
    pytest.param(lambda s: s.bot_framework(s.stub.url.replace("127.0.0.1", "localhost")), id="other host"),
    pytest.param(lambda s: s.bot_framework(s.stub.url.replace("http:", "https:")), id="other scheme"),
    pytest.param(lambda s: s.bot_framework(s.stub.url + "other/"), id="other path"),
    pytest.param(lambda s: s.bot_framework(f"http://127.0.0.1:{s.stub.port + 1}/"), id="other port"),
    pytest.param(lambda s: _without_expiry(s), id="no expiry"),
    pytest.param(lambda s: _without_kid(s, "RS256"), id="no kid (a 500 and a traceback before)"),
    pytest.param(lambda s: _without_kid(s, "none"), id="alg none, no kid"),
]


def _without_kid(s: Secured, algorithm: str) -> str:
    claims = {
        "iss": "https://api.botframework.com",
        "aud": CLIENT_ID,
        "serviceurl": s.stub.url,
        "exp": int(time.time()) + 600,
    }
    # No key for alg "none": PyJWT takes "" as None there, and its types allow no None.
    return jwt.encode(claims, s.entra.key if algorithm != "none" else "", algorithm=algorithm)


def _without_expiry(s: Secured) -> str:
    now = int(time.time())
    claims = {
        "iss": "https://api.botframework.com",
        "aud": CLIENT_ID,
        "nbf": now - 10,
        "serviceurl": s.stub.url,
    }
    return jwt.encode(claims, s.entra.key, algorithm="RS256", headers={"kid": KID})


@pytest.mark.parametrize("make", REFUSED)
def test_a_token_we_do_not_accept_gets_401_and_nothing_is_processed(secured: Secured, make) -> None:
    claims_before = secured.claims_written()
    status, sent = secured.post(make(secured))
    assert status == 401
    assert sent == []
    assert secured.claims_written() == claims_before


def test_a_bot_framework_token_pointing_elsewhere_cannot_redirect_the_reply(secured: Secured) -> None:
    """Item 2, inbound: a token issued for Teams' serviceurl, an activity naming another host."""
    token = secured.bot_framework("https://smba.trafficmanager.net/emea/")
    status, sent = secured.post(token, service_url=secured.stub.url)
    assert (status, sent) == (401, [])
    status, sent = secured.post(secured.bot_framework(), service_url="http://127.0.0.1:9/")
    assert (status, sent) == (401, [])


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda s: s.bot_framework(), id="Bot Framework, its serviceurl"),
        pytest.param(
            lambda s: s.bot_framework(s.stub.url.rstrip("/").upper().replace("HTTP:", "http:")),
            id="serviceurl without the slash, host in capitals",
        ),
        pytest.param(lambda s: s.entra_v2(), id="our tenant, a listed caller"),
        pytest.param(lambda s: s.entra_v1(), id="our tenant v1, a listed caller"),
    ],
)
def test_a_token_we_accept_is_answered(secured: Secured, make) -> None:
    """The same request with an acceptable token: the refusals above are about the token."""
    status, sent = secured.post(make(secured))
    assert status == 202
    assert len(sent) == 1


# --- the policy itself, fast ------------------------------------------------------------------


POLICY = InboundPolicy(CLIENT_ID, TENANT_ID, frozenset({CALLER}))


def _claims(**claims: object) -> dict[str, object]:
    base: dict[str, object] = {
        "aud": CLIENT_ID,
        "exp": time.time() + 600,
        "iss": "https://api.botframework.com",
    }
    return {**base, **claims}


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({}, id="no claims (anonymous identity)"),
        pytest.param(_claims(aud="another-app"), id="another audience"),
        pytest.param(_claims(aud=[CLIENT_ID]), id="audience as a list"),
        pytest.param(_claims(exp=None), id="no expiry"),
        pytest.param(_claims(exp="soon"), id="expiry not a time"),
        pytest.param(_claims(iss=None), id="no issuer"),
        pytest.param(_claims(iss="https://API.botframework.com"), id="issuer spelt otherwise"),
        pytest.param(
            _claims(iss=f"https://login.microsoftonline.com/{TENANT_ID}/v2.0", tid=OTHER_TENANT, azp=CALLER),
            id="our tenant's issuer, another tid",
        ),
        pytest.param(
            _claims(iss=f"https://login.microsoftonline.com/{TENANT_ID}/v2.0", appid=CALLER),
            id="v2 with only appid",
        ),
        pytest.param(
            _claims(iss=f"https://login.microsoftonline.com/{TENANT_ID}/", azp=CALLER),
            id="v1 path on the v2 host",
        ),
    ],
)
def test_claims_we_do_not_accept_are_refused(claims: dict[str, object]) -> None:
    with pytest.raises(Refused):
        POLICY.check_claims(claims)


@pytest.mark.parametrize(
    ("claimed", "activity", "same"),
    [
        ("https://smba.trafficmanager.net/emea/", "https://smba.trafficmanager.net/emea", True),
        ("https://smba.trafficmanager.net/emea/", "https://SMBA.trafficmanager.net:443/emea/", True),
        ("https://smba.trafficmanager.net/emea/", "https://smba.trafficmanager.net/amer/", False),
        ("https://smba.trafficmanager.net/emea/", "http://smba.trafficmanager.net/emea/", False),
        ("https://smba.trafficmanager.net/emea/", "https://smba.trafficmanager.net:8443/emea/", False),
        (
            "https://smba.trafficmanager.net/emea/",
            "https://smba.trafficmanager.net.evil.example/emea/",
            False,
        ),
        (
            "https://smba.trafficmanager.net/emea/",
            "https://evil.example@smba.trafficmanager.net/emea/",
            False,
        ),
        ("https://smba.trafficmanager.net/emea/", "https://smba.trafficmanager.net/emea/?x=1", False),
        ("https://smba.trafficmanager.net/emea/", "https://smba.trafficmanager.net/EMEA/", False),
        ("https://smba.trafficmanager.net/emea/", "ftp://smba.trafficmanager.net/emea/", False),
    ],
)
def test_the_serviceurl_claim_is_compared_by_scheme_host_port_and_path(
    claimed: str, activity: str, same: bool
) -> None:
    assert same_service_url(claimed, activity) is same


def test_an_entra_caller_needs_no_serviceurl_claim() -> None:
    claims = _claims(iss=f"https://sts.windows.net/{TENANT_ID}/", tid=TENANT_ID, appid=CALLER)
    assert POLICY.check_claims(claims) == "entra"
    POLICY.check_service_url(claims, "https://smba.trafficmanager.net/emea/")


def test_no_entra_caller_is_accepted_by_default(tmp_path: Path) -> None:
    policy = InboundPolicy(CLIENT_ID, TENANT_ID)
    with pytest.raises(Refused):
        policy.check_claims(
            _claims(iss=f"https://login.microsoftonline.com/{TENANT_ID}/v2.0", tid=TENANT_ID, azp=CALLER)
        )


# --- a whole server ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_real_server_refuses_an_evil_issuer_and_answers_teams(tmp_path: Path) -> None:
    """`kompetensbot serve` in its own process, as deployed: the same checks run there."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    _prepare(url)
    Services(make_engine(url)).grant_role(None, "aad-user-1", Role.CITY_OFFICE, None)
    entra = FakeEntra(tmp_path).start()
    stub = ThrottlingConnectorStub(per_conversation_rate=None, global_rate=None).start()
    server = BotServer(url, env=credentials_env(entra, stub.url)).start()
    try:
        evil = entra.token(CLIENT_ID, issuer=EVIL, serviceurl=stub.url)
        teams = entra.token(CLIENT_ID, serviceurl=stub.url)
        for token, expected in ((evil, 401), (teams, 202)):
            body = activity("saldo GVN", service_url=stub.url, tenant_id=TENANT_ID)
            status, _ = server.post(body, headers={"Authorization": f"Bearer {token}"})
            sent = [s for s in stub.sends() if s["activity"].get("replyToId") == body["id"]]
            assert (status, len(sent)) == (expected, 0 if expected == 401 else 1)
        assert "refused a request: issuer not accepted" in server.log.read_text()
    finally:
        server.stop()
        stub.stop()
        entra.stop()
