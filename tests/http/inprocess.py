"""The bot's aiohttp application (bot.app.create_app) served in this process,
on a real port, from a thread of its own: fast enough to fuzz, and the same
code path as `kompetensbot serve` from the request to the connector."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
import urllib.error
import urllib.request
from typing import Any

from aiohttp import web

from bot.app import create_app, quiet_sdk_logs
from bot.config import Settings
from tests.http.harness import free_port

QUIETED = ("microsoft_agents.activity.activity", "microsoft_agents", "aiohttp.access")


_COLLECTED = "Task was destroyed but it is pending"


class ErrorLog(logging.Handler):
    """Keeps every ERROR record and every record with a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "asyncio" and record.getMessage().startswith(_COLLECTED):
            return  # an earlier test's server loop, stopped and collected now (not this bot's error)
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)

    def lines(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}" for r in self.records]


async def _cancel_the_rest() -> None:
    """Every task still on the server's loop (a connection's handler) cancelled and awaited,
    so none is destroyed pending when the stopped loop is collected."""
    rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


class InProcessBot:
    def __init__(self, database_url: str, *, demo: bool = True, **settings: Any):
        base = Settings(database_url=database_url, demo=demo)
        known = {f.name for f in dataclasses.fields(Settings)}
        extra = {"tick_seconds": 0, "reply_attempts": 2, "reply_timeout": 2.0, **settings}
        self.settings = dataclasses.replace(base, **{k: v for k, v in extra.items() if k in known})
        self.port = free_port()
        self.errors = ErrorLog()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self.app = create_app(self.settings)
        self._runner = web.AppRunner(self.app)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> InProcessBot:
        """Logs as `kompetensbot serve` does (bot.app.quiet_sdk_logs), restored on stop."""
        self._levels = {name: logging.getLogger(name).level for name in QUIETED}
        quiet_sdk_logs()
        logging.getLogger().addHandler(self.errors)
        self._thread.start()
        self._ready.wait(30)
        return self

    def stop(self) -> None:
        logging.getLogger().removeHandler(self.errors)
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)
        future = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        future.result(30)
        asyncio.run_coroutine_threadsafe(_cancel_the_rest(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def post(
        self, body: bytes | Any, headers: dict[str, str] | None = None, *, chunked: bool = False
    ) -> tuple[int, str]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/api/messages",
            data=iter([data]) if chunked else data,
            headers={"Content-Type": "application/json", **(headers or {})},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
