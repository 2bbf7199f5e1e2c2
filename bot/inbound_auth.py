"""Who may send us an activity: the checks the Agents SDK leaves out.

The SDK's JWT check (jwt_authorization_decorator, JwtTokenValidator 1.9)
verifies the signature (RS256, against the key set its issuer names), the
audience (any configured client id) and, when the token has them, the times.
It checks the issuer only when a connection opts in (VALIDATE_ISSUER), and
even then it trusts Microsoft's first-party tenants; it never compares the
token's `serviceurl` claim with the activity. So every request it lets
through is checked here as well, before the body is read or the turn runs:

- audience: exactly the client id of one of our registrations (bot.registrations);
  time: `exp` present (and `nbf` when given);
- issuer `https://api.botframework.com` (Teams' traffic through the Bot
  Framework channel): accepted, and the activity's serviceUrl must then equal
  the token's `serviceurl` claim (check_service_url);
- an Entra issuer (`https://login.microsoftonline.com/<tid>/v2.0`,
  `https://sts.windows.net/<tid>/`): only the own tenant of the registration the
  token is for, and only for a caller (`azp`, v1: `appid`) listed in
  KOMPETENSBOT_ENTRA_CALLERS;
- any other issuer: refused.

With registrations linked to cities, bot.app then checks that the activity's tenant
is linked to the city of the registration the token is for.

A refusal is a 401 with a short reason; nothing of the request is processed.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt

log = logging.getLogger("kompetensbot.auth")

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_ENTRA_V2 = re.compile(r"^https://login\.microsoftonline\.com/([^/]+)/v2\.0$", re.IGNORECASE)
_ENTRA_V1 = re.compile(r"^https://sts\.windows\.net/([^/]+)/$", re.IGNORECASE)


class Refused(Exception):
    """The request's token is not one we accept; the reason is for the log and the 401."""


@dataclass(frozen=True)
class InboundPolicy:
    """`client_id` and `tenant_id`: a registration whose tokens are accepted; `others`: the
    further registrations' (client id, own tenant) when there are several."""

    client_id: str
    tenant_id: str
    entra_callers: frozenset[str] = frozenset()
    others: tuple[tuple[str, str], ...] = ()

    def tenant_of_app(self, app_id: str) -> str | None:
        """The own tenant of the registration of `app_id` (any case), or None: not ours."""
        wanted = app_id.lower()
        for client, tenant in ((self.client_id, self.tenant_id), *self.others):
            if client.lower() == wanted:
                return tenant
        return None

    def check_claims(self, claims: Mapping[str, Any] | None, now: float | None = None) -> str:
        """The token's issuer kind ("botframework" or "entra") when its claims are
        acceptable; Refused otherwise. `claims` are the SDK-verified ones."""
        if not claims:
            raise Refused("no verified token")
        aud = claims.get("aud")
        own_tenant = self.tenant_of_app(aud) if isinstance(aud, str) else None
        if own_tenant is None:
            raise Refused("the token is not for this bot")
        now = time.time() if now is None else now
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise Refused("the token has no expiry")
        nbf = claims.get("nbf")
        if nbf is not None and (not isinstance(nbf, int | float) or isinstance(nbf, bool)):
            raise Refused("the token's not-before time is not a time")
        # The SDK has already compared both with 300 s of leeway; this only makes
        # sure they were there to compare.
        issuer = claims.get("iss")
        if not isinstance(issuer, str):
            raise Refused("the token has no issuer")
        if issuer == BOT_FRAMEWORK_ISSUER:
            return "botframework"
        v2 = _ENTRA_V2.match(issuer)
        match = v2 or _ENTRA_V1.match(issuer)
        if not match:
            raise Refused("issuer not accepted")
        tenant = match.group(1).lower()
        tid = claims.get("tid")
        if tenant != own_tenant.lower() or (tid is not None and str(tid).lower() != tenant):
            raise Refused("a token from another tenant")
        caller = claims.get("azp") if v2 else claims.get("appid")
        if not isinstance(caller, str) or caller.lower() not in self.entra_callers:
            raise Refused("a caller that is not listed in KOMPETENSBOT_ENTRA_CALLERS")
        return "entra"

    def check_service_url(self, claims: Mapping[str, Any] | None, service_url: object) -> None:
        """A Bot Framework token names the serviceUrl it was issued for: the
        activity's must be the same address. Entra callers carry no such claim."""
        if not claims or claims.get("iss") != BOT_FRAMEWORK_ISSUER:
            return
        claimed = claims.get("serviceurl")
        if not isinstance(claimed, str) or not isinstance(service_url, str):
            raise Refused("the token names no serviceurl")
        if not same_service_url(claimed, service_url):
            raise Refused("the activity's serviceUrl is not the one in the token")


def _parts(url: str) -> tuple[str, str, int | None, str] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    if parts.query or parts.fragment:
        return None
    default = {"http": 80, "https": 443}[scheme]
    return scheme, parts.hostname.lower(), port or default, parts.path.rstrip("/")


def same_service_url(a: str, b: str) -> bool:
    """Same scheme, host (any case), port (the scheme's default when none is
    written) and path (a trailing slash aside)."""
    first, second = _parts(a), _parts(b)
    return first is not None and first == second


def audience_of(token: str) -> str | None:
    """The `aud` of a token, read without checking anything (None when it cannot be read):
    only to choose which registration's configuration the SDK checks the token with."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    aud = claims.get("aud") if isinstance(claims, dict) else None
    return aud if isinstance(aud, str) else None


def callers(text: str) -> frozenset[str]:
    """KOMPETENSBOT_ENTRA_CALLERS: client ids separated by commas or spaces."""
    return frozenset(part.lower() for part in re.split(r"[,\s]+", text) if part)
