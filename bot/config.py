"""Settings from the environment, in one place.

The bot's Azure registration is read the way the SDK's samples read it:
CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID, __CLIENTSECRET and
__TENANTID, through `load_configuration_from_env`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from microsoft_agents.activity import load_configuration_from_env

from storage.db import database_url


@dataclass(frozen=True)
class Settings:
    database_url: str
    host: str = "127.0.0.1"
    port: int = 3978
    demo: bool = False
    sdk: dict[str, Any] = field(default_factory=dict)
    max_body_bytes: int = 256 * 1024
    reply_attempts: int = 4
    reply_timeout: float = 10.0
    # The follow-up round: the tick's period inside serve (0: no tick), the
    # global send rate, sends in flight per process, how long a claim lasts,
    # whether June and December rounds open by themselves, and a fixed
    # "today" for demos and tests (None: the real date).
    tick_seconds: float = 0.0
    send_rate: float = 30.0
    round_in_flight: int = 1
    round_lease_seconds: float = 300.0
    auto_rounds: bool = True
    today: date | None = None
    # How often the server prunes old activity claims (0: never).
    housekeeping_seconds: float = 3600.0
    # Part C (at least once, saved once): how long a turn holds its activity's
    # claim before a retry of it is handled again (storage.bot_state.CLAIM_LEASE).
    claim_lease_seconds: float = 60.0

    @property
    def client_id(self) -> str | None:
        settings = self.sdk.get("CONNECTIONS", {}).get("SERVICE_CONNECTION", {}).get("SETTINGS", {})
        value = settings.get("CLIENTID") or settings.get("CLIENT_ID")
        return str(value) if value else None

    @property
    def anonymous(self) -> bool:
        return self.client_id is None

    @staticmethod
    def from_env(
        host: str | None = None, port: int | None = None, demo: bool | None = None, today: date | None = None
    ) -> Settings:
        env = os.environ
        today_text = env.get("KOMPETENSBOT_TODAY", "")
        return Settings(
            tick_seconds=float(env.get("KOMPETENSBOT_TICK_SECONDS", "60")),
            send_rate=float(env.get("KOMPETENSBOT_SEND_RATE", "30")),
            round_in_flight=int(env.get("KOMPETENSBOT_ROUND_IN_FLIGHT", "1")),
            round_lease_seconds=float(env.get("KOMPETENSBOT_ROUND_LEASE_SECONDS", "300")),
            auto_rounds=env.get("KOMPETENSBOT_AUTO_ROUNDS", "1") not in ("0", "false", "nej"),
            today=today or (date.fromisoformat(today_text) if today_text else None),
            database_url=database_url(),
            host=host or env.get("KOMPETENSBOT_HOST", "127.0.0.1"),
            port=port or int(env.get("PORT", env.get("KOMPETENSBOT_PORT", "3978"))),
            demo=demo if demo is not None else env.get("KOMPETENSBOT_DEMO", "") in ("1", "true", "ja"),
            sdk=load_configuration_from_env(dict(env)),
            reply_attempts=int(env.get("KOMPETENSBOT_REPLY_ATTEMPTS", "4")),
            reply_timeout=float(env.get("KOMPETENSBOT_REPLY_TIMEOUT", "10")),
            housekeeping_seconds=float(env.get("KOMPETENSBOT_HOUSEKEEPING_SECONDS", "3600")),
            # Part C
            claim_lease_seconds=float(env.get("KOMPETENSBOT_CLAIM_LEASE_SECONDS", "60")),
        )
