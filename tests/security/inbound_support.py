"""A bot with credentials, served in this process (tests/http/inprocess.py),
whose SDK fetches its key set and its outgoing tokens from the local stand-in
for Microsoft's sign-in service (tests/http/entra.py) through the environment
(HTTPS_PROXY, SSL_CERT_FILE), as `kompetensbot serve` does: nothing in the
server is patched."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jwt
import pytest
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator
from sqlalchemy import text

from bot.config import Settings
from storage.db import make_engine
from tests.http.conftest import _prepare
from tests.http.entra import FakeEntra
from tests.http.harness import ThrottlingConnectorStub, activity
from tests.http.inprocess import InProcessBot

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TENANT_ID = "99999999-8888-7777-6666-555555555555"
OTHER_TENANT = "12345678-aaaa-bbbb-cccc-1234567890ab"
CALLER = "abcdefab-0000-1111-2222-333344445555"
"""An Entra application listed in KOMPETENSBOT_ENTRA_CALLERS."""
MICROSOFT_TENANT = "d6d49420-f39b-4df7-a1dc-d59a935871db"
"""One of the first-party tenants the SDK always trusts when it checks issuers."""
PREFIX = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"


def credentials_env(entra: FakeEntra, stub_url: str, **extra: str) -> dict[str, str]:
    return {
        PREFIX + "CLIENTID": CLIENT_ID,
        PREFIX + "CLIENTSECRET": "hemligt",
        PREFIX + "TENANTID": TENANT_ID,
        "KOMPETENSBOT_ENTRA_CALLERS": CALLER,
        # The outbound allow-list (bot.outbound): the stand-in lives on loopback.
        "KOMPETENSBOT_SERVICE_URLS": stub_url.rstrip("/"),
        **entra.env(),
        **extra,
    }


def forget_keys() -> None:
    """The SDK caches key sets per address for the process: a stand-in's key is new."""
    JwtTokenValidator._jwk_client_manager._cache.clear()


@dataclasses.dataclass
class Secured:
    bot: InProcessBot
    stub: ThrottlingConnectorStub
    entra: FakeEntra
    database_url: str

    def post(
        self, token: str | None, *, service_url: str | None = None, text_: str = "saldo GVN", **extra: Any
    ) -> tuple[int, list[dict[str, Any]]]:
        """One message with `token`: the status and what reached the channel for it."""
        body = activity(
            text_,
            service_url=service_url or self.stub.url,
            tenant_id=TENANT_ID,
            conversation_id=f"inbound-{uuid.uuid4().hex[:8]}",
            **extra,
        )
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        status, _ = self.bot.post(body, headers=headers)
        return status, [s for s in self.stub.sends() if s["activity"].get("replyToId") == body["id"]]

    def claims_written(self) -> int:
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT COUNT(*) FROM processed_activities")).scalar_one())
        finally:
            engine.dispose()

    def bot_framework(self, service_url: str | None = None, **claims: Any) -> str:
        claims.setdefault("serviceurl", service_url or self.stub.url)
        return self.entra.token(CLIENT_ID, **claims)

    def entra_v2(self, tenant: str = TENANT_ID, azp: str = CALLER, **claims: Any) -> str:
        return self.entra.token(
            CLIENT_ID,
            issuer=f"https://login.microsoftonline.com/{tenant}/v2.0",
            tid=tenant,
            azp=azp,
            ver="2.0",
            **claims,
        )

    def entra_v1(self, tenant: str = TENANT_ID, appid: str = CALLER, **claims: Any) -> str:
        return self.entra.token(
            CLIENT_ID,
            issuer=f"https://sts.windows.net/{tenant}/",
            tid=tenant,
            appid=appid,
            ver="1.0",
            **claims,
        )


def sdk_accepts(validator: JwtTokenValidator, token: str) -> bool:
    """Whether the SDK's own validator, alone, accepts `token`."""
    try:
        asyncio.run(validator.validate_token(token))
    except (jwt.PyJWTError, ValueError):
        return False
    return True


@contextmanager
def serving(url: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessBot]:
    """A bot on the database `url` with the settings `env` (credentials), served in this
    process with the key sets forgotten before and after."""
    for name, value in {**env, "DATABASE_URL": url}.items():
        monkeypatch.setenv(name, value)
    forget_keys()
    bot = InProcessBot(url, demo=False)
    bot.settings = dataclasses.replace(
        Settings.from_env(), tick_seconds=0, reply_attempts=2, reply_timeout=5.0
    )
    bot.start()
    try:
        yield bot
    finally:
        bot.stop()
        forget_keys()


@contextmanager
def secured_bot(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Secured]:
    url = f"sqlite:///{folder / 'bot.db'}"
    _prepare(url)
    entra = FakeEntra(folder).start()
    stub = ThrottlingConnectorStub(per_conversation_rate=None, global_rate=None).start()
    try:
        with serving(url, credentials_env(entra, stub.url), monkeypatch) as bot:
            yield Secured(bot, stub, entra, url)
    finally:
        stub.stop()
        entra.stop()
