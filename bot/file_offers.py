"""Files in the chat (issue 20): the offers behind Teams' file consent card, the
"fileConsent/invoke" that answers one, and the upload.

An offer (`FileOffers.offer`, asked by dialogs.file_offers) is stored in the bot's
key-value state (storage.bot_state.StateStore) under an opaque random id, with what
file (the year's measures or a round's follow-up, and which year or period), for
whom (the person's object id) and in which city; the consent card carries only the
id. The invoke is trusted for nothing beyond that id: the offer must be the
invoking person's own, in their city, not older than OFFER_LIFETIME, and not used;
taking it is one versioned write, so a second accept (a double click, Teams' retry
after the claim's lease) finds it used and nothing is uploaded twice. The file is
made again at accept time, for the person accepting, with their permissions: the
same bytes as `kompetensbot export --format xlsx` (bot.data_services) or
`kompetensbot followup export` (storage.round_export) for that person.

Where the file goes: only to an upload URL that `UploadPolicy` allows, checked
before anything is sent. Teams gives an upload session on the person's OneDrive for
Business (https://<tenant>-my.sharepoint.com/...), so by default only https on port
443 to a SharePoint host (MICROSOFT_FILE_HOSTS) is allowed, never a host the activity
merely names; KOMPETENSBOT_FILE_UPLOAD_URLS (comma-separated origins, as
KOMPETENSBOT_SERVICE_URLS; http only to loopback) replaces that list, for tests.
The upload is one PUT of the whole file with `Content-Range: bytes 0-(n-1)/n` (what
an upload session takes), without the bot's token (the session URL is its own
authorisation), following no redirect. A failed upload is told in Swedish; the log
names the origin and status only (the URL itself is a credential).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from microsoft_agents.activity import Activity, ActivityTypes, InvokeResponse
from microsoft_agents.hosting.core import TurnContext
from sqlalchemy.engine import Engine

from bot.data_services import export_bytes, export_template
from bot.outbound import Decision, origin_of, parse_origins
from bot.round_services import RoundServices
from bot.services import Services
from core.errors import DomainError, RuleError
from core.rules import years
from dialogs import texts
from dialogs.file_offers import OFFER_KEY, info_card, is_personal
from dialogs.ports import ExportKind, FileOffer
from dialogs.turn import identity_of, services_of
from storage.bot_state import StaleWrite, StateStore
from storage.round_export import round_xlsx

log = logging.getLogger("kompetensbot.files")

UPLOAD_URLS_ENV = "KOMPETENSBOT_FILE_UPLOAD_URLS"

MICROSOFT_FILE_HOSTS = (".sharepoint.com", ".sharepoint.us", ".sharepoint-mil.us")
"""Where Teams' upload sessions are: the person's OneDrive for Business, a SharePoint
host (the public cloud; GCC High; DoD), always https on 443."""

OFFER_LIFETIME = timedelta(days=1)
"""How long an offered file can be accepted."""

UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=10, sock_connect=5)
"""The upload runs before the fileConsent/invoke is answered, and Teams waits 15 s for an
invoke's answer: a slower upload is given up and said (the file is at most a few hundred kB)."""

_KEY = "kompetensbot:file-offer:"
_TOKEN_MAX = 100
XLSX_TYPE = "xlsx"


@dataclass(frozen=True, slots=True)
class UploadPolicy:
    """Which upload URLs a file may be sent to (see the module). `origins`: the listed
    origins (KOMPETENSBOT_FILE_UPLOAD_URLS), or None for Microsoft's file hosts."""

    origins: frozenset[str] | None = None

    @staticmethod
    def of(upload_urls: str | None) -> UploadPolicy:
        """ValueError names an entry that is not an origin (bot.outbound.parse_origins)."""
        if not upload_urls:
            return UploadPolicy()
        try:
            return UploadPolicy(frozenset(parse_origins(upload_urls)))
        except ValueError as problem:
            raise ValueError(str(problem).replace("KOMPETENSBOT_SERVICE_URLS", UPLOAD_URLS_ENV)) from None

    def check(self, url: object) -> Decision:
        origin = origin_of(url)
        if origin is None:
            return Decision(False, "not an http(s) address with a host")
        if self.origins is not None:
            if origin in self.origins:
                return Decision(True, f"{origin} is listed")
            return Decision(False, f"{origin} is not in {UPLOAD_URLS_ENV}")
        host = urlsplit(origin).hostname or ""
        if origin.startswith("https://") and origin.endswith(":443") and host.endswith(MICROSOFT_FILE_HOSTS):
            return Decision(True, f"{origin} is a Microsoft file host")
        hosts = ", ".join(MICROSOFT_FILE_HOSTS)
        return Decision(False, f"{origin} is not https on a Microsoft file host ({hosts})")


@dataclass(frozen=True, slots=True)
class Offer:
    """A stored offer: what file for whom."""

    kind: ExportKind
    user: str
    org: str
    year: int | None
    period: str | None

    def as_data(self, offered_at: datetime, state: str) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "user": self.user,
            "org": self.org,
            "year": self.year,
            "period": self.period,
            "offered_at": offered_at.isoformat(),
            "state": state,
        }


class Taken:
    """Why an offer could not be taken."""

    UNKNOWN = "unknown"  # no such offer, another person's or city's, or expired
    USED = "used"  # accepted or declined already


class FileOffers:
    """One turn's file offers (dialogs.ports.FileOffersPort), over the turn's services."""

    def __init__(self, engine: Engine, city: Services, rounds: RoundServices):
        self.engine = engine
        self.city = city
        self.rounds = rounds
        self.store = StateStore(engine)

    # --- the file -------------------------------------------------------------------------------

    def _round_period(self, year: int | None, month: int | None, as_of: date) -> str:
        """The round of the month and/or year named (the latest that fits), else the round every
        question about the round means (RoundServices.current)."""
        periods = self.rounds.periods()
        if not periods:
            raise DomainError(RuleError("no_round", texts.FILE_NO_ROUND))
        if month is None and year is None:
            current = self.rounds.current(as_of)
            if current is not None:
                return current.period
        fits = [
            p
            for p in periods
            if (month is None or int(p[5:7]) == month) and (year is None or int(p[:4]) == year)
        ]
        if not fits:  # a month or year named that no round has: said, never another round's file
            raise DomainError(RuleError("no_round", texts.no_round_for(year, month)))
        return fits[-1]

    def build(self, offer: Offer, as_of: date) -> tuple[str, bytes, str]:
        """The file's name, bytes and description, made for `offer.user` with their permissions."""
        if offer.kind is ExportKind.ROUND:
            assert offer.period is not None
            report = self.rounds.report(offer.user, offer.period, as_of)
            data = round_xlsx(report, self.rounds.display_names())
            return f"uppfoljning-{offer.period}.xlsx", data, texts.round_file_description(offer.period)
        assert offer.year is not None
        principal = self.city.principal(offer.user)  # demo-aware: everyone is stadskontoret there
        template = export_template(self.engine, self.city.org, offer.user, offer.year, principal=principal)
        rows = template.rows
        if not rows:
            raise DomainError(RuleError("nothing_to_export", texts.no_measures_to_export(offer.year)))
        return (
            f"insatser-{offer.year}.xlsx",
            export_bytes(rows, XLSX_TYPE, template.needs),  # the needs on the sheet "Behov"
            texts.measures_file_description(offer.year),
        )

    # --- the offer --------------------------------------------------------------------------------

    def offer(
        self, user: str, kind: ExportKind, year: int | None, month: int | None, as_of: date
    ) -> FileOffer:
        org = self.city.org or ""
        if kind is ExportKind.ROUND:
            wanted = Offer(kind, user, org, None, self._round_period(year, month, as_of))
        else:
            wanted = Offer(kind, user, org, year or years.default_year(self.city.ledger(), as_of), None)
        name, data, description = self.build(wanted, as_of)
        token = secrets.token_urlsafe(24)
        self.store.write(_KEY + token, wanted.as_data(datetime.now(UTC), "offered"), None)
        return FileOffer(token, name, len(data), description)

    def take(self, token: object, user: str, state: str) -> Offer | str:
        """The offer `token` names, marked `state` ("accepted", "declined") once and for all;
        or why not (Taken.UNKNOWN, Taken.USED). Another person's offer is not touched."""
        if not isinstance(token, str) or not token or len(token) > _TOKEN_MAX:
            return Taken.UNKNOWN
        key = _KEY + token
        item = self.store.read([key]).get(key)
        if item is None:
            return Taken.UNKNOWN
        data = item.data
        try:
            kind = ExportKind(data["kind"])
            offer = Offer(kind, data["user"], data["org"], data.get("year"), data.get("period"))
            offered_at = datetime.fromisoformat(data["offered_at"])
        except (KeyError, ValueError, TypeError):
            return Taken.UNKNOWN
        if offer.user != user or offer.org != (self.city.org or ""):
            return Taken.UNKNOWN
        if data.get("state") != "offered":
            return Taken.USED
        if datetime.now(UTC) - offered_at > OFFER_LIFETIME:
            return Taken.UNKNOWN
        try:
            self.store.write(key, offer.as_data(offered_at, state), item.version)
        except StaleWrite:  # taken by another turn in between
            return Taken.USED
        return offer


async def upload(url: str, data: bytes) -> str | None:
    """PUT the whole file to an upload session; None when it was stored, else why not."""
    headers = {"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}", "Content-Length": str(len(data))}
    try:
        async with (
            aiohttp.ClientSession(timeout=UPLOAD_TIMEOUT) as session,
            session.put(url, data=data, headers=headers, allow_redirects=False) as response,
        ):
            await response.read()
            return None if response.status in (200, 201) else f"status {response.status}"
    except (aiohttp.ClientError, TimeoutError) as problem:
        return type(problem).__name__


async def handle_file_consent(turn_context: TurnContext, uploads: UploadPolicy) -> InvokeResponse:
    """A "fileConsent/invoke": accept (upload the file, then its info card) or decline.
    Always answered with 200; what happened is told in the chat."""
    try:
        await _answer(turn_context, uploads)
    except DomainError as refused:
        await turn_context.send_activity(texts.refused(refused.message))
    return InvokeResponse(status=200)


def _strings(info: object, *names: str) -> list[str] | None:
    if not isinstance(info, dict):
        return None
    found = [info.get(name) for name in names]
    strings = [v for v in found if isinstance(v, str) and v]
    return strings if len(strings) == len(names) else None


async def _answer(turn_context: TurnContext, uploads: UploadPolicy) -> None:
    if not is_personal(turn_context):
        await turn_context.send_activity(texts.FILE_ONLY_PERSONAL)
        return
    value = turn_context.activity.value
    value = value if isinstance(value, dict) else {}
    context = value.get("context")
    token = context.get(OFFER_KEY) if isinstance(context, dict) else None
    action = value.get("action")
    identity = identity_of(turn_context)
    services = services_of(turn_context)
    files: FileOffers = services.files  # type: ignore[attr-defined]  # bot.turn_services.BotTurnServices, set by this bot
    if action == "decline":
        taken = await asyncio.to_thread(files.take, token, identity.user_id, "declined")
        await turn_context.send_activity(_taken_text(taken) or texts.FILE_DECLINED)
        return
    if action != "accept":
        await turn_context.send_activity(texts.FILE_OFFER_UNKNOWN)
        return
    info = _strings(value.get("uploadInfo"), "uploadUrl", "contentUrl", "name", "uniqueId")
    if info is None:
        log.warning("file consent accepted without an uploadInfo: nothing uploaded")
        await turn_context.send_activity(texts.FILE_UPLOAD_FAILED)
        return
    upload_url, content_url, name, unique_id = info
    for url in (upload_url, content_url):
        decision = uploads.check(url)
        if not decision:
            log.warning("file upload refused: %s; nothing uploaded", decision.reason)
            await turn_context.send_activity(texts.FILE_UPLOAD_FAILED)
            return
    taken = await asyncio.to_thread(files.take, token, identity.user_id, "accepted")
    if not isinstance(taken, Offer):
        await turn_context.send_activity(_taken_text(taken))
        return
    _, data, _ = await asyncio.to_thread(files.build, taken, services.today)
    problem = await upload(upload_url, data)
    if problem is not None:
        log.warning("file upload to %s failed: %s", origin_of(upload_url), problem)
        await turn_context.send_activity(texts.FILE_UPLOAD_FAILED)
        return
    file_type = value["uploadInfo"].get("fileType")
    kind = file_type if isinstance(file_type, str) and file_type else XLSX_TYPE
    card: Any = info_card(name, content_url, unique_id, kind)
    await turn_context.send_activity(
        Activity(type=ActivityTypes.message, text=texts.FILE_SENT, attachments=[card])
    )


def _taken_text(taken: Offer | str) -> str:
    if isinstance(taken, Offer):
        return ""
    return texts.FILE_OFFER_USED if taken == Taken.USED else texts.FILE_OFFER_UNKNOWN
