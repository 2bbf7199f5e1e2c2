"""The server's limits: how long a client may take to send
a request, /healthz on a database connection of its own with a short timeout,
a stop on SIGTERM within seconds whatever the database does, bodies nested
too deep refused before anything walks them, invoke activities the bot does
not handle answered 200, and a `Server:` header that names no versions.

The database's own timeouts are in storage.db_limits. bot.app calls in here
at a few points (create_app, the messages handler, serve)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web, web_response
from aiohttp.typedefs import Handler, Middleware

from bot.config import Settings
from storage.db import make_engine
from storage.db_limits import DatabaseTimeouts

log = logging.getLogger("kompetensbot.limits")

SERVER_NAME = "kompetensbot"
"""The `Server:` header of every response (aiohttp's default names Python's and its own version)."""

MAX_DEPTH = 64
"""How deep a request body may nest. A Teams activity nests about eight levels
(a card's submitted values a few more); a body nested hundreds deep is refused
before the code walks it (each level a Python frame: 900 levels overflowed
the stack in a 500 with a 155 kB traceback)."""

HealthHandler = Callable[[web.Request], Awaitable[web.Response]]


# --- requests -------------------------------------------------------------------------


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether the parsed JSON `value` nests deeper than `limit` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def body_timeout(seconds: float) -> Middleware:
    """Middleware: a request's body is read here, and must have arrived within
    `seconds` of its headers (a client sending it a byte at a time holds a
    connection and a task for as long as it likes otherwise). Late: 408 and
    the connection is closed at once. The handlers read the body again from
    aiohttp's cache."""

    @web.middleware
    async def read_the_body_in_time(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists and seconds > 0:
            try:
                async with asyncio.timeout(seconds):
                    await request.read()
            except TimeoutError:
                log.warning("%s %s: the body took over %g s", request.method, request.path, seconds)
                response = web.json_response(
                    {"error": f"the request body did not arrive within {seconds:g} s"}, status=408
                )
                response.force_close()
                await response.prepare(request)
                await response.write_eof()
                if request.protocol is not None:
                    request.protocol.force_close()  # now: not after aiohttp's lingering read of the rest
                return response
        return await handler(request)

    return read_the_body_in_time


async def _name_the_server(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER_NAME


# --- /healthz -------------------------------------------------------------------------


class HealthCheck:
    """`SELECT 1` on a connection of its own (an engine of one connection, a thread
    of its own), never the turns' pool or threads, answered within `timeout`
    seconds: 503 when the database does not answer in time, and a check still
    hanging from before is not waited for again."""

    def __init__(self, database_url: str, timeout: float):
        self.timeout = timeout
        limits = DatabaseTimeouts(connect=max(timeout, 1.0), statement=timeout, lock=timeout)
        self.engine = make_engine(database_url, timeouts=limits, pool_size=1)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="kompetensbot-health")
        self._under_way: asyncio.Future[None] | None = None

    def _select_one(self) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    async def database_answers(self) -> bool:
        if self._under_way is not None and not self._under_way.done():
            return False
        loop = asyncio.get_running_loop()
        self._under_way = loop.run_in_executor(self._thread, self._select_one)
        self._under_way.add_done_callback(_seen)  # a late failure is not reported again as a traceback
        try:
            async with asyncio.timeout(self.timeout):
                await asyncio.shield(self._under_way)
        except TimeoutError:
            log.warning("health check: the database did not answer within %g s", self.timeout)
            return False
        except Exception as problem:  # noqa: BLE001 - any failure means unhealthy
            log.warning("health check failed: %s", type(problem).__name__)
            return False
        return True

    async def handle(self, _request: web.Request) -> web.Response:
        if await self.database_answers():
            return web.json_response({"status": "ok", "database": "ok"})
        return web.json_response({"status": "fel", "database": "svarar inte"}, status=503)

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)
        if self._under_way is None or self._under_way.done():
            self.engine.dispose()


def _seen(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


def install(app: web.Application, settings: Settings) -> HealthHandler:
    """The limits on `app`: the body timeout, the `Server:` header, and the
    health check (returned: the handler for GET /healthz), closed with the app."""
    app.middlewares.append(body_timeout(settings.body_timeout))
    app.on_response_prepare.append(_name_the_server)
    health = HealthCheck(settings.database_url, settings.health_timeout)

    async def close_health(_app: web.Application) -> None:
        health.close()

    app.on_cleanup.append(close_health)
    return health.handle


# --- invoke ---------------------------------------------------------------------------

CARD_ACTION_NOT_USED = "Den här knappen används inte. Skriv till mig i chatten i stället."


def unhandled_invoke(name: str | None) -> web.Response:
    """The answer to an invoke activity the bot has no handler for (the SDK's
    501): Teams sends invokes for card actions and other features kompetensbot
    does not use, and shows an error for anything but 200. A Universal Action
    (adaptiveCard/action) gets the message response Teams expects; any other
    kind an empty 200."""
    if name == "adaptiveCard/action":
        return web.json_response(
            {
                "statusCode": 200,
                "type": "application/vnd.microsoft.activity.message",
                "value": CARD_ACTION_NOT_USED,
            }
        )
    return web.Response(status=200)


# --- serving --------------------------------------------------------------------------


def run(app: web.Application, settings: Settings) -> None:
    """web.run_app with the limits: an unfinished request's headers are cut
    after `header_timeout` (aiohttp closes a connection whose next request has
    not begun when its keep-alive timer runs out, and that timer starts when
    the connection opens and again after each response), a stop (SIGTERM,
    Ctrl-C) waits `shutdown_timeout` for the turns under way, then cancels
    them, and the process then ends without waiting for database threads that
    are still blocked (a hanging database cannot hold the stop)."""
    web_response.SERVER_SOFTWARE = SERVER_NAME  # type: ignore[attr-defined] # also aiohttp's own 400s
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        keepalive_timeout=settings.header_timeout,
        shutdown_timeout=settings.shutdown_timeout,
    )
    _exit_now_if_threads_are_blocked()


def _exit_now_if_threads_are_blocked() -> None:
    """Python waits at exit for every thread of an executor (concurrent.futures
    joins them); a thread blocked on the database would hold the process
    until the database answers. Those are left behind: the transaction they
    were in is rolled back by the database when the connection goes."""
    deadline = time.monotonic() + 1.0  # idle workers end as soon as they see the shutdown
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    blocked = [
        t.name
        for t in threading.enumerate()
        if t is not threading.main_thread() and t.is_alive() and not t.daemon
    ]
    if not blocked:
        return
    log.warning("stopping without waiting for %d blocked threads (%s)", len(blocked), ", ".join(blocked))
    logging.shutdown()
    os._exit(0)


__all__ = ["MAX_DEPTH", "HealthCheck", "install", "run", "too_deep", "unhandled_invoke"]
