"""Tools for the fault suite: a TCP proxy in front of PostgreSQL that can be
cut and restored (or cut at the moment a given SQL statement goes through),
a PostgreSQL schema with the 2025 example, and a few ways to read what the
user saw and what the ledger holds."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import Engine

from bot.services import Services
from tests.conftest import PG_URL
from tests.http.harness import free_port


class LoopbackProxy:
    """A TCP proxy on 127.0.0.1:`port` in a thread of its own, forwarding to
    `target`; subclasses say what a connection does (`_handle`) and keep the
    live streams in `_live`, which `stop()` drops."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._live: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _on_loop(self) -> None:
        """Set-up that needs the proxy's own event loop (run in it, before serving)."""

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._on_loop()
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._call(self._drop_all)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def _call(self, fn: Callable[[], Any]) -> Any:
        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def _drop_all(self) -> None:
        for writer in list(self._live):
            writer.transport.abort()
        self._live.clear()


class TcpProxy(LoopbackProxy):
    """Forwards 127.0.0.1:`port` to `target`. `cut()` drops every live
    connection and refuses new ones until `restore()`; `cut_when(pattern)`
    does the same at the moment a client sends bytes containing `pattern`
    (an SQL statement), before they reach the server."""

    def __init__(self, target_host: str, target_port: int):
        super().__init__(target_host, target_port)
        self.cuts = 0
        self._down = False
        self._trigger: bytes | None = None

    def _go_down(self) -> None:
        self._down = True
        self.cuts += 1
        self._drop_all()

    def cut(self) -> None:
        self._call(self._go_down)

    def cut_when(self, pattern: bytes) -> None:
        self._call(lambda: setattr(self, "_trigger", pattern))

    def restore(self) -> None:
        def up() -> None:
            self._down = False
            self._trigger = None

        self._call(up)

    @property
    def down(self) -> bool:
        return bool(self._call(lambda: self._down))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._down:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._live.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, inspect: bool) -> None:
            try:
                while data := await src.read(65536):
                    if inspect and self._trigger is not None and self._trigger in data:
                        self._trigger = None
                        self._go_down()
                        return
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))
        self._live.discard(writer)
        self._live.discard(up_writer)


def pg_target() -> tuple[str, int]:
    assert PG_URL
    parts = urlsplit(PG_URL)
    return parts.hostname or "127.0.0.1", parts.port or 5432


def through(url: str, port: int) -> str:
    """The same database URL, connecting through a proxy on `port`."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{port}"))


def ledger_counts(engine: Engine) -> tuple[int, int, int]:
    """(entries, measures, follow-ups) of the city: what a write would change."""
    ledger = Services(engine, org="malmo").ledger()
    return len(ledger.entries), len(ledger.measures), len(ledger.followups)


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """Wait until `condition()` holds (an event, not a duration being tested)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
