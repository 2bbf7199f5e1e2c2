"""The aiohttp application: POST /api/messages through the SDK's CloudAdapter
and its JWT check, GET /healthz that checks the database.

Bad requests never reach the user as a traceback: malformed JSON, a body
that is not an activity, an unknown activity type or a body over the size
limit get a 4xx with a short JSON reason, and the server stays up."""

from __future__ import annotations

import asyncio
import fcntl
import gc
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler
from microsoft_agents.activity import Activity, ActivityTypes, DeliveryModes
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.aiohttp.jwt_authorization_middleware import _extract_bearer_token
from microsoft_agents.hosting.core import AgentAuthConfiguration
from microsoft_agents.hosting.core.authorization.jwt import _authorize_request
from microsoft_agents.hosting.core.http import HttpResponse
from pydantic import ValidationError
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot import http_limits
from bot.adapter import create_adapter, token_configurations
from bot.clients import CheckedClientFactory, PooledClientFactory
from bot.config import Settings, check_ledger_key, check_registrations, start_refused
from bot.conversation_state import tenant_of, tenants_named
from bot.file_offers import UploadPolicy
from bot.inbound_auth import InboundPolicy, Refused, audience_of
from bot.outbound import OutboundPolicy, report_stored_references
from bot.replies import ReplyRetries
from bot.state_storage import SqlStorage
from bot.teams_bot import KompetensBot
from storage.bot_state import CLAIMS_KEPT, city_of_tenant, prune_claims
from storage.db import POOL_SIZE, make_engine, normalise_url
from storage.repository import city_names

log = logging.getLogger("kompetensbot.app")

DATABASE_THREADS = POOL_SIZE
"""The threads that run the turns' database work (asyncio.to_thread): as many
as the pool keeps connections (storage.db.POOL_SIZE). Python's default,
cores + 4, depends on the machine; on this two-core one its six were already
more than SQLAlchemy's default pool of five."""

FINISH_ON_STOP = 1.0
"""Seconds a stop waits to write the claims of the turns that just finished."""

KNOWN_TYPES = {t.value if hasattr(t, "value") else str(t) for t in ActivityTypes}


@dataclass
class BotApp:
    """Everything the server is made of, assembled once (bootstrap)."""

    settings: Settings
    engine: Engine
    adapter: CloudAdapter
    auth_config: AgentAuthConfiguration
    bot: KompetensBot


def bootstrap(settings: Settings, engine: Engine | None = None) -> BotApp:
    engine = engine or make_engine(settings.database_url, timeouts=settings.db_timeouts)
    storage = SqlStorage(engine)
    adapter, auth_config = create_adapter(settings, storage, pooled=True)
    replies = ReplyRetries(attempts=settings.reply_attempts, timeout=settings.reply_timeout)
    bot = KompetensBot(
        engine,
        storage,
        demo=settings.demo,
        replies=replies,
        today=settings.today,
        outbound=OutboundPolicy.from_settings(settings),
        tenant_rule=not settings.anonymous,
        # Registrations per city serve only tenants linked to their city (bot.registrations).
        own_tenant=None if not settings.anonymous and settings.registrations.linked else settings.tenant_id,
        app_id=settings.client_id,
        claim_lease=timedelta(seconds=settings.claim_lease_seconds),
        uploads=UploadPolicy.of(settings.file_upload_urls),
    )
    return BotApp(settings, engine, adapter, auth_config, bot)


_NO_CONNECTOR = {DeliveryModes.expect_replies, DeliveryModes.stream}
"""Delivery modes whose replies come back in the HTTP response, not through serviceUrl."""


def _http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
"""How NUL and UTF-16 surrogates arrive in JSON: as \\u escapes (raw they are not valid JSON)."""
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _without_unstorable(value: Any) -> Any:
    """The body without NUL characters and unpaired surrogates: no Teams client sends
    them, PostgreSQL text cannot hold NUL, and a lone surrogate cannot be encoded as
    UTF-8. Everything else is kept as it came."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("", value)
    if isinstance(value, list):
        return [_without_unstorable(v) for v in value]
    if isinstance(value, dict):
        return {_without_unstorable(k): _without_unstorable(v) for k, v in value.items()}
    return value


class _ReadRequest:
    """The request as the SDK's HttpRequestProtocol, with the body that was read,
    checked and cleaned here (so it is parsed once, and the SDK sees the clean one)."""

    def __init__(self, request: web.Request, body: dict[str, Any]):
        self._request = request
        self._body = body

    @property
    def method(self) -> str:
        return self._request.method

    @property
    def headers(self) -> Any:
        return self._request.headers

    async def json(self) -> dict[str, Any]:
        return self._body

    def get_claims_identity(self) -> Any:
        return self._request.get("claims_identity")

    def get_path_param(self, name: str) -> str:
        return self._request.match_info[name]


ID_LIMITS = {"conversation.id": 400, "from.id": 200, "from.aadObjectId": 200, "tenant id": 100}
"""The longest ids kept: the state keys, references and roles are stored by them
(Teams' own are far shorter); a longer one is refused, not cut, so two cannot become one."""


def _too_long_id(activity: Activity) -> str | None:
    sender = activity.from_property
    ids = {
        "conversation.id": activity.conversation.id if activity.conversation else None,
        "from.id": sender.id if sender else None,
        "from.aadObjectId": sender.aad_object_id if sender else None,
        "tenant id": tenant_of(activity),
    }
    for name, value in ids.items():
        if isinstance(value, str) and len(value) > ID_LIMITS[name]:
            return f"{name} is longer than {ID_LIMITS[name]} characters"
    return None


def _bad_request(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def inbound_policy(settings: Settings) -> InboundPolicy | None:
    """Our checks on top of the SDK's token check (bot.inbound_auth); None in anonymous mode."""
    if settings.anonymous:
        return None
    first, *others = settings.registrations
    return InboundPolicy(
        first.app_id,
        first.tenant_id,
        settings.entra_callers,
        tuple((r.app_id, r.tenant_id) for r in others),
    )


def _unauthorized(reason: str) -> web.Response:
    log.warning("refused a request: %s", reason)
    return web.json_response({"error": "Invalid token or authentication failed."}, status=401)


def _authorizer(
    default: AgentAuthConfiguration, by_app: dict[str, AgentAuthConfiguration]
) -> Callable[
    [Callable[[web.Request], Awaitable[web.Response]]], Callable[[web.Request], Awaitable[web.Response]]
]:
    """The SDK's JWT check (its aiohttp middleware's steps: the bearer token as it reads it,
    then `_authorize_request`) around a handler, with the configuration of the registration the
    token names as its audience (`by_app`, bot.adapter.token_configurations; else `default`).
    The SDK's validator accepts an audience of any registration whatever it is given, but
    builds an Entra token's key-set address from the tenant of the configuration it is given
    (jwt_token_validator._build_jwks_uri): given its own registration's, each token is checked
    against its own tenant's keys. A token it cannot even read (no `kid`, `alg: none`: a
    KeyError inside the SDK) is refused with 401 like any other, not a 500; errors of the
    handler itself go on as they are."""

    def decorate(
        handler: Callable[[web.Request], Awaitable[web.Response]],
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def wrapper(request: web.Request) -> web.Response:
            header = request.headers.get("Authorization")
            config = default
            if header is not None:
                token = _extract_bearer_token(header)
                if token is None:
                    return _unauthorized("a malformed Authorization header")
                config = by_app.get((audience_of(token) or "").lower(), default)
                header = f"Bearer {token}"
            try:
                checked = await _authorize_request(header, config)
            except Exception as problem:  # noqa: BLE001 - the SDK's errors reading the token
                return _unauthorized(f"a token that could not be read ({type(problem).__name__})")
            if isinstance(checked, HttpResponse):  # the SDK has logged why
                return web.json_response(checked.body, status=checked.status_code)
            request["claims_identity"] = checked
            return await handler(request)

        return wrapper

    return decorate


async def _city_refusal(
    settings: Settings, engine: Engine, claims: Any, activity: Activity
) -> web.Response | None:
    """With registrations per city: a 401 unless the activity's tenant is linked to the city
    of the registration the token is for (the turn then runs as that city: bot.teams_bot finds
    it by the same link)."""
    if settings.anonymous or not settings.registrations.linked:
        return None
    registration = settings.registrations.for_app_id(claims.get("aud") if claims else None)
    if registration is None:  # the policy refused it already; never served without one
        return _unauthorized("the token is for no registration")
    tenant = tenant_of(activity)
    city = await asyncio.to_thread(city_of_tenant, engine, tenant)
    if city != registration.city:
        return _unauthorized(
            f"a token for {registration.city}'s registration ({registration.name}) on an activity "
            f"of tenant {tenant!r} ({'city ' + city if city else 'linked to no city'})"
        )
    return None


_UNSERVED_ROLES = ("agenticappinstance", "agenticuser", "connectoruser")
"""Recipient roles the SDK turns into other token flows (an agent identity's, a user's
federated credential, Copilot Studio's client): a Teams bot is never addressed so, and
an activity's body must not choose whose token the bot asks for."""


def _recipient_refusal(settings: Settings, claims: Any, activity: Activity) -> web.Response | None:
    """The activity's recipient must be this bot as the token says (issue 23): refused (400)
    when its two tenant fields disagree, or with a recipient role that would make the SDK ask
    for another app's or a user's token; and with credentials (401) when it names another
    registration's bot than the token's audience (the stored reference's bot decides which
    registration later cards go as)."""
    in_data, in_conversation = tenants_named(activity)
    if in_data and in_conversation and in_data.lower() != in_conversation.lower():
        # served as one tenant, stored (and later sent and budgeted) as the other's
        return _bad_request("channelData.tenant.id and conversation.tenantId name different tenants")
    recipient = activity.recipient
    role = str(getattr(recipient, "role", None) or "").lower()
    if role in _UNSERVED_ROLES:
        return _bad_request(f"recipient role {role!r} is not served")
    if settings.anonymous or recipient is None:
        return None
    addressed = settings.registrations.for_app_id(recipient.id)
    token_for = settings.registrations.for_app_id(claims.get("aud") if claims else None)
    if addressed is not None and addressed is not token_for:
        return _unauthorized(f"the activity is addressed to another registration's bot ({addressed.name})")
    return None


def _not_from_a_channel(request: web.Request, settings: Settings) -> web.Response | None:
    """Activities come as JSON from a channel's server, never from a web page: a
    body of another type is refused (415; a page can send text/plain to a local
    server without asking), and anonymously, where no token stands in the way, so
    is a request that a browser marks as coming from a page (Origin, Sec-Fetch-Site)."""
    if request.content_type != "application/json":
        return _bad_request("the body must be application/json (an activity)", status=415)
    if settings.anonymous:
        fetch_site = request.headers.get("Sec-Fetch-Site", "none").lower()
        if request.headers.get("Origin") or fetch_site not in ("none", "same-origin"):
            log.warning("refused a request from a web page (Origin %s)", request.headers.get("Origin"))
            return _bad_request("requests from web pages are not served", status=403)
    return None


def create_app(settings: Settings, engine: Engine | None = None) -> web.Application:
    parts = bootstrap(settings, engine)
    policy = inbound_policy(settings)
    factory = getattr(parts.adapter, "_channel_service_client_factory", None)
    by_app = (
        token_configurations(settings, factory.connections)
        if isinstance(factory, CheckedClientFactory)
        else {}
    )
    authorized = _authorizer(parts.auth_config, by_app)
    # The policy bootstrap gave the bot (typed optional on KompetensBot).
    outbound = parts.bot.outbound or OutboundPolicy.from_settings(settings)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app["agent_configuration"] = parts.auth_config
    app["kompetensbot"] = parts

    @authorized
    async def messages(request: web.Request) -> web.Response:
        # The SDK has checked the signature, the audience and the times; the
        # issuer, tenant and caller are ours to check, before the body is read.
        claims = getattr(request.get("claims_identity"), "claims", None)
        if policy is not None:
            try:
                policy.check_claims(claims)
            except Refused as refusal:
                return _unauthorized(str(refusal))
        if not_a_channel := _not_from_a_channel(request, settings):
            return not_a_channel
        try:
            raw = await request.read()
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError, RecursionError):
            return _bad_request("invalid JSON")
        if not isinstance(body, dict):
            return _bad_request("the body must be a JSON object (an activity)")
        if http_limits.too_deep(body):
            return _bad_request(f"the JSON is nested deeper than {http_limits.MAX_DEPTH} levels")
        if _UNSTORABLE_ESCAPE.search(raw):
            body = _without_unstorable(body)
        try:
            activity = Activity.model_validate(body)
        except ValidationError as problem:
            log.warning("refused a body that is not an activity (%d invalid fields)", problem.error_count())
            return _bad_request(f"not an activity: {problem.error_count()} invalid fields")
        except (TypeError, ValueError) as problem:  # the SDK's own checks (an empty channelId: TypeError)
            log.warning("refused a body that is not an activity (%s)", str(problem).splitlines()[0][:80])
            return _bad_request("not an activity: " + str(problem).splitlines()[0][:80])
        if not activity.type or activity.type not in KNOWN_TYPES:
            return _bad_request(f"unknown activity type {str(activity.type)[:40]!r}")
        if not activity.conversation or not activity.conversation.id:
            return _bad_request("the activity has no conversation.id")
        if too_long := _too_long_id(activity):
            return _bad_request(too_long)
        if not str(activity.channel_id or ""):
            return _bad_request("the activity has no channelId")
        if not activity.from_property or not activity.from_property.id:
            return _bad_request("the activity has no from.id")
        if not activity.recipient or not activity.recipient.id:
            return _bad_request("the activity has no recipient.id (the bot)")
        if not_this_bot := _recipient_refusal(settings, claims, activity):
            return not_this_bot
        if activity.delivery_mode not in _NO_CONNECTOR and not _http_url(activity.service_url):
            return _bad_request("the activity has no serviceUrl (an http or https address) to answer to")
        if policy is not None:
            try:
                policy.check_service_url(claims, activity.service_url)
            except Refused as refusal:
                return _unauthorized(str(refusal))
            if other_city := await _city_refusal(settings, parts.engine, claims, activity):
                return other_city
        if activity.service_url and not (where := outbound.check(activity.service_url)):
            # bot.outbound: nothing is processed, stored or sent; 403, as Teams does not retry a 4xx.
            log.warning("refused activity %s: serviceUrl not allowed: %s", activity.id, where.reason)
            return _bad_request("serviceUrl not allowed", status=403)
        result = await parts.adapter.process_request(_ReadRequest(request, body), parts.bot)
        if activity.type == ActivityTypes.invoke and result.status_code == 501:
            return http_limits.unhandled_invoke(activity.name)
        if result.body is not None:
            return web.json_response(result.body, status=result.status_code, headers=result.headers)
        return web.Response(
            status=result.status_code, headers=result.headers, content_type=result.content_type
        )

    @web.middleware
    async def no_tracebacks(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.path)
            return web.json_response({"error": "internal error"}, status=500)

    async def close_clients(_app: web.Application) -> None:
        factory = getattr(parts.adapter, "_channel_service_client_factory", None)
        if isinstance(factory, PooledClientFactory):
            await factory.close()

    async def finish_claims(_app: web.Application) -> None:
        """The last finished turns' claims, written as the server stops; at most
        FINISH_ON_STOP seconds, so a database that hangs cannot hold up a stop (such a
        claim's lease runs out, and a retry is kept from saving twice by its write's key)."""
        try:
            await asyncio.wait_for(parts.bot.finisher.drain(), FINISH_ON_STOP)
        except (TimeoutError, SQLAlchemyError) as problem:
            log.warning("finished turns' claims not written at stop: %s", type(problem).__name__)

    async def claims_at_stop(_app: web.Application) -> AsyncIterator[None]:
        yield
        await finish_claims(_app)

    # Cleanup contexts end in reverse order: the claims are written (on the database
    # threads) after the turns under way have ended and before those threads stop. (As an
    # on_cleanup handler it ran after them: a write still queued was cancelled with the
    # threads, and its CancelledError ended the stop itself.)
    app.cleanup_ctx.append(_database_threads)
    app.cleanup_ctx.append(claims_at_stop)
    app.on_cleanup.append(close_clients)
    app.middlewares.append(no_tracebacks)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", http_limits.install(app, settings))
    if settings.tick_seconds > 0:
        _round_ticker(app, parts)
    if settings.housekeeping_seconds > 0:
        app.cleanup_ctx.append(_housekeeping(parts))
    if settings.group_sync_seconds > 0:
        _group_sync(app, parts)
    return app


async def _database_threads(_app: web.Application) -> AsyncIterator[None]:
    """The event loop's default executor, for asyncio.to_thread: DATABASE_THREADS threads.
    At the stop it is shut down without waiting and an empty one takes its place:
    the loop's own shutdown (run_app's shutdown_default_executor) waits for every
    thread of its executor, and one blocked on a hanging database would hold the
    stop until the statement timeout cut it (bot.http_limits.run ends the process
    without them)."""
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix="kompetensbot-db")
    loop.set_default_executor(executor)
    yield
    executor.shutdown(wait=False, cancel_futures=True)
    loop.set_default_executor(ThreadPoolExecutor(1, thread_name_prefix="kompetensbot-stopping"))


Job = Callable[[], Awaitable[None]]
CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def _every(
    seconds: float,
    first_after: float,
    make_job: Callable[[], Job],
    what: str,
    before_cancel: Job | None = None,
) -> CleanupContext:
    """A cleanup context that, while the app serves, runs the job made by
    `make_job` (in the running loop) every `seconds`, first after
    `first_after`; a failed run is logged and the next one tries again.
    At the stop `before_cancel` runs (if any), then a run under way is cancelled."""

    async def periodic(_app: web.Application) -> AsyncIterator[None]:
        job = make_job()

        async def loop() -> None:
            await asyncio.sleep(first_after)
            while True:
                try:
                    await job()
                except asyncio.CancelledError:
                    raise
                except SQLAlchemyError as problem:  # the database is down or slow: one line, no traceback
                    log.error("%s failed (%s); trying again at the next run", what, type(problem).__name__)
                except Exception:  # noqa: BLE001 - the next run tries again
                    log.exception("%s failed; trying again at the next run", what)
                await asyncio.sleep(seconds)

        task = asyncio.create_task(loop())
        yield
        if before_cancel is not None:
            await before_cancel()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    return periodic


def _round_ticker(app: web.Application, parts: BotApp) -> None:
    """The follow-up round's periodic tick inside the server (see bot.round_runner).

    On PostgreSQL the sends take slots of the tenant's send budget shared by every
    process (bot.tenant_budget), and a city is planned by the one process holding its
    tick lock (storage.tick_locks); every process sends. At a stop (SIGTERM) the runner
    claims nothing more and gives back at once the sends it holds whose request has not
    begun (an on_shutdown handler: before the server waits for its turns), lets the
    requests under way finish within KOMPETENSBOT_SHUTDOWN_TIMEOUT, then gives its
    cities' locks up."""
    from bot.proactive import Sender
    from bot.reach import GraphReach
    from bot.round_runner import RoundRunner
    from storage.tick_locks import TickLocks

    settings = parts.settings
    engine = parts.engine
    locks = TickLocks(engine) if engine.dialect.name == "postgresql" else None
    runners: list[RoundRunner] = []  # made in the running loop, with the tick
    stop_at: list[float] = []

    def make_tick() -> Job:
        sender = Sender(parts.adapter, settings.client_id, global_rate=settings.send_rate, database=engine)
        lease = timedelta(seconds=settings.round_lease_seconds)
        runner = RoundRunner(
            engine,
            sender,
            auto_open=settings.auto_rounds,
            in_flight=settings.round_in_flight,
            lease=lease,
            reach=GraphReach.from_settings(engine, settings, lease=lease),
            locks=locks,
        )
        runners.append(runner)

        async def tick() -> None:
            result = await runner.tick(settings.today or date.today())
            if result.recorded or result.outcomes or result.opened:
                log.info(
                    "round tick: %d recorded, %s, %d cards marked answered",
                    result.recorded,
                    dict(result.outcomes),
                    result.cards_updated,
                )

        return tick

    async def stop_claiming(_app: web.Application) -> None:
        stop_at.append(asyncio.get_running_loop().time())
        for runner in runners:
            try:
                await runner.stop()
            except SQLAlchemyError as problem:  # the claims are left to their lease
                log.warning("claimed sends not given back at the stop: %s", type(problem).__name__)

    async def finish() -> None:
        if stop_at:  # the requests under way: within the stop's time, counted from its start
            left = stop_at[0] + settings.shutdown_timeout - asyncio.get_running_loop().time()
            for runner in runners:
                await runner.finish_sends(left)
        if locks is not None:
            locks.release()

    app.on_shutdown.append(stop_claiming)
    app.cleanup_ctx.append(
        _every(settings.tick_seconds, min(5.0, settings.tick_seconds), make_tick, "round tick", finish)
    )


def _housekeeping(parts: BotApp) -> CleanupContext:
    """Prunes the activity claims older than storage.bot_state.CLAIMS_KEPT, every
    `housekeeping_seconds` (first a minute after the start, off the turns' way)."""
    seconds = parts.settings.housekeeping_seconds

    async def prune() -> None:
        pruned = await asyncio.to_thread(prune_claims, parts.engine, datetime.now(UTC))
        if pruned:
            log.info("pruned %d activity claims older than %s", pruned, CLAIMS_KEPT)

    return _every(seconds, min(60.0, seconds), lambda: prune, "pruning old activity claims")


def _group_sync(app: web.Application, parts: BotApp) -> None:
    """Roles from Entra groups: every city's mapped groups read from Microsoft Graph and
    applied every `group_sync_seconds` (bot.group_sync), first after at most a minute;
    only when Graph is configured."""
    from bot.group_sync import CitySyncs, graph_configured

    settings = parts.settings
    if not graph_configured(settings):
        log.info("group sync off: Microsoft Graph is not configured (credentials or KOMPETENSBOT_GRAPH_URL)")
        return
    syncs = CitySyncs(parts.engine, settings)

    async def sync() -> None:
        await syncs.run()

    seconds = settings.group_sync_seconds
    app.cleanup_ctx.append(_every(seconds, min(60.0, seconds), lambda: sync, "group sync"))


def settle_memory() -> None:
    """Everything made so far (the modules, the SDK's and pydantic's models,
    SQLAlchemy's metadata, the app) lives as long as the process. Python's
    cyclic garbage collector would walk those objects on every full
    collection; frozen, they are left out of its scans (gc.freeze). They are
    still freed by reference counting if they ever go. What it bought:
    bench/README.md, "Speed tricks"."""
    gc.collect()
    gc.freeze()


def quiet_sdk_logs() -> None:
    """The SDK logs a traceback for every body that is not an activity; we
    refuse those with a 400 and one warning line of our own instead."""
    logging.getLogger("microsoft_agents.activity.activity").setLevel(logging.CRITICAL)
    # The SDK logs several INFO lines every turn (token, clients, each send) and
    # aiohttp one access line per request (their cost: bench/README.md,
    # "Speed tricks"). Their warnings and errors are still logged;
    # KOMPETENSBOT_SDK_LOG_LEVEL=INFO brings the rest back.
    level = os.environ.get("KOMPETENSBOT_SDK_LOG_LEVEL", "WARNING").upper()
    logging.getLogger("microsoft_agents").setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(level)


def check_schema(engine: Engine) -> None:
    """StartRefused unless the database has the newest schema: `serve` does not
    migrate (it may run as a role that cannot change the schema)."""
    from storage.migrate import current, head

    have, want = current(engine), head()
    if have != want:
        found = f"version {have}" if have else "inga tabeller"
        raise start_refused(
            f"databasens schema är inte det senaste ({found}, senaste {want}): kör först "
            "kompetensbot db upgrade. Servern startade inte.",
            "DATABASE_URL",
        )


def cities(engine: Engine) -> list[str]:
    return [f"{name} ({slug})" for name, slug in city_names(engine)]


def start_line(settings: Settings, served: list[str]) -> str:
    """The one line that says how this server runs (logged with a timestamp)."""
    app_id = settings.client_id or "none"
    tenant = f", tenant {settings.tenant_id}" if settings.tenant_id and not settings.anonymous else ""
    if not settings.anonymous and settings.registrations.linked:
        linked = [f"{r.city} (app id {r.app_id})" for r in settings.registrations]
        shown = ", ".join(linked[:5]) + (f" and {len(linked) - 5} more" if len(linked) > 5 else "")
        app_id, tenant = f"per city, {len(linked)} registrations: {shown}", ""
    what = {
        "credentials": "every request needs a valid token",
        "anonymous": "no tokens checked, for local use only",
        "demo": "no tokens checked, every user has the stadskontoret role, for local use only",
    }[settings.mode]
    today = settings.today.isoformat() if settings.today else "the real date"
    rounds = "on" if settings.auto_rounds else "off (KOMPETENSBOT_AUTO_ROUNDS=1 turns them on)"
    return (
        f"kompetensbot serving on {settings.host}:{settings.port}: mode {settings.mode} ({what}), "
        f"today {today}, automatic rounds {rounds}, "
        f"app id {app_id}{tenant}, cities: {', '.join(served) or 'none (load one first)'}"
    )


SERVE_LOCK_SUFFIX = ".serve-lock"


def only_server_on(database_url: str) -> IO[bytes] | None:
    """SQLite serves one process: an exclusive lock (flock) on a file beside the
    database (`<file>.serve-lock`), held while the server serves: the caller closes the
    returned file when it stops (and the system releases the lock when the process ends,
    however it ends). A second `serve` on the same file is refused
    with StartRefused naming the file. Not taken by `followup tick` and the other
    commands: a tick from cron beside a running server stays allowed (the round's
    unique keys and claims keep each send once). None (no lock) for PostgreSQL, where
    several servers share the work (bot.round_runner), and for an in-memory database."""
    url = make_url(normalise_url(database_url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    database = Path(url.database)
    lock = database.with_name(database.name + SERVE_LOCK_SUFFIX)
    handle = lock.open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise start_refused(
            f"en annan kompetensbot serve använder redan SQLite-databasen {database} (låsfilen {lock} "
            "är låst). SQLite tar en server åt gången: stoppa den andra servern, eller kör flera "
            "servrar mot PostgreSQL (DATABASE_URL=postgresql://…). Servern startade inte.",
            "DATABASE_URL",
        ) from None
    return handle


def serve(settings: Settings) -> None:
    """Starts the server, or raises StartRefused (settings, schema, a second server on
    one SQLite file) before serving anything."""
    settings.check_serve()
    lock = only_server_on(settings.database_url)
    try:
        _serve(settings)
    finally:
        if lock is not None:
            lock.close()  # the lock goes with the file: another server may start on it now


def _serve(settings: Settings) -> None:
    # The command line set the root logger once (cli.main.configure_logging, WARNING
    # by default); the server's own lines are INFO, the SDK's stay at WARNING.
    logging.getLogger("kompetensbot").setLevel(os.environ.get("KOMPETENSBOT_LOG", "INFO").upper())
    quiet_sdk_logs()
    engine = make_engine(settings.database_url)
    check_schema(engine)
    check_ledger_key(settings, engine)  # the ledger's seal: needs the newest schema
    check_registrations(settings, engine)  # the registrations' cities are the database's
    line = start_line(settings, cities(engine))
    if settings.anonymous:
        log.warning(line)
    else:
        log.info(line)
    report_stored_references(engine, OutboundPolicy.from_settings(settings))
    app = create_app(settings, engine)
    settle_memory()
    http_limits.run(app, settings)
