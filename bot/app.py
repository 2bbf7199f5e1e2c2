"""The aiohttp application: POST /api/messages through the SDK's CloudAdapter
and its JWT check, GET /healthz that checks the database.

Bad requests never reach the user as a traceback: malformed JSON, a body
that is not an activity, an unknown activity type or a body over the size
limit get a 4xx with a short JSON reason, and the server stays up."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from aiohttp import web
from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_decorator
from microsoft_agents.hosting.core import AgentAuthConfiguration
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.adapter import create_adapter
from bot.config import Settings
from bot.state_storage import SqlStorage
from bot.teams_bot import KompetensBot
from storage.db import make_engine

log = logging.getLogger("kompetensbot.app")

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
    engine = engine or make_engine(settings.database_url)
    storage = SqlStorage(engine)
    adapter, auth_config = create_adapter(settings, storage)
    bot = KompetensBot(engine, storage, demo=settings.demo)
    return BotApp(settings, engine, adapter, auth_config, bot)


def _bad_request(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def create_app(settings: Settings, engine: Engine | None = None) -> web.Application:
    parts = bootstrap(settings, engine)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app["agent_configuration"] = parts.auth_config
    app["kompetensbot"] = parts

    @jwt_authorization_decorator
    async def messages(request: web.Request) -> web.Response:
        try:
            body = await request.json(loads=json.loads)
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            return _bad_request("invalid JSON")
        if not isinstance(body, dict):
            return _bad_request("the body must be a JSON object (an activity)")
        try:
            activity = Activity.model_validate(body)
        except ValidationError as problem:
            log.warning("refused a body that is not an activity (%d invalid fields)", problem.error_count())
            return _bad_request(f"not an activity: {problem.error_count()} invalid fields")
        if not activity.type or activity.type not in KNOWN_TYPES:
            return _bad_request(f"unknown activity type {str(activity.type)[:40]!r}")
        if not activity.conversation or not activity.conversation.id:
            return _bad_request("the activity has no conversation.id")
        response = await parts.adapter.process(request, parts.bot)
        return response or web.Response(status=202)

    async def healthz(_request: web.Request) -> web.Response:
        def check() -> None:
            with parts.engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await asyncio.to_thread(check)
        except Exception as problem:  # noqa: BLE001 - any failure means unhealthy
            log.warning("health check failed: %s", type(problem).__name__)
            return web.json_response({"status": "fel", "database": "svarar inte"}, status=503)
        return web.json_response({"status": "ok", "database": "ok"})

    @web.middleware
    async def no_tracebacks(request: web.Request, handler):  # type: ignore[no-untyped-def]
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.path)
            return web.json_response({"error": "internal error"}, status=500)

    app.middlewares.append(no_tracebacks)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app


def quiet_sdk_logs() -> None:
    """The SDK logs a traceback for every body that is not an activity; we
    refuse those with a 400 and one warning line of our own instead."""
    logging.getLogger("microsoft_agents.activity.activity").setLevel(logging.CRITICAL)


def serve(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_sdk_logs()
    from storage.migrate import upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    if settings.anonymous:
        log.warning(
            "no client id configured (CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID): "
            "running anonymously, for local use only"
        )
    else:
        log.info("client id %s configured: every request needs a valid token", settings.client_id)
    if settings.demo:
        log.warning("demo mode: every user has the stadskontoret role")
    app = create_app(settings, engine)
    web.run_app(app, host=settings.host, port=settings.port, print=None)
