"""Settings from the environment, in one place.

The bot's Azure registration is read the way the SDK's samples read it:
CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID, __CLIENTSECRET and
__TENANTID, through `load_configuration_from_env`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
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

    @property
    def client_id(self) -> str | None:
        settings = self.sdk.get("CONNECTIONS", {}).get("SERVICE_CONNECTION", {}).get("SETTINGS", {})
        value = settings.get("CLIENTID") or settings.get("CLIENT_ID")
        return str(value) if value else None

    @property
    def anonymous(self) -> bool:
        return self.client_id is None

    @staticmethod
    def from_env(host: str | None = None, port: int | None = None, demo: bool | None = None) -> Settings:
        env = os.environ
        return Settings(
            database_url=database_url(),
            host=host or env.get("KOMPETENSBOT_HOST", "127.0.0.1"),
            port=port or int(env.get("PORT", env.get("KOMPETENSBOT_PORT", "3978"))),
            demo=demo if demo is not None else env.get("KOMPETENSBOT_DEMO", "") in ("1", "true", "ja"),
            sdk=load_configuration_from_env(dict(env)),
        )
