"""Tools for tests/security/test_limits.py: a TCP proxy in front of PostgreSQL
that can hang (it keeps every connection open and accepts new ones, but
forwards nothing: a database that stopped answering, as opposed to one that
went away, which tests/http/faults.TcpProxy plays), and a raw client that
sends a request a few bytes at a time."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

from tests.http.harness import free_port


class HangingProxy:
    """Forwards 127.0.0.1:`port` to `target` until `hang()`; from then on every
    byte either way is held back and every new connection is accepted and left
    waiting, until `resume()`."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._hanging = threading.Event()
        self._resumed: asyncio.Event | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._writers: set[asyncio.StreamWriter] = set()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._resumed = asyncio.Event()
        self._resumed.set()
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    def start(self) -> HangingProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def _call(self, fn: Any) -> None:
        async def run() -> None:
            fn()

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def hang(self) -> None:
        assert self._resumed is not None
        self._call(self._resumed.clear)

    def resume(self) -> None:
        assert self._resumed is not None
        self._call(self._resumed.set)

    def stop(self) -> None:
        def drop() -> None:
            for writer in list(self._writers):
                writer.transport.abort()

        self._call(drop)
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._resumed is not None
        self._writers.add(writer)
        await self._resumed.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(up_writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            assert self._resumed is not None
            try:
                while data := await src.read(65536):
                    await self._resumed.wait()
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


def dribble(port: int, head: bytes, trickle: bytes, every: float, for_at_most: float) -> tuple[float, bytes]:
    """Send `head`, then `trickle` one byte each `every` seconds, until the server
    closes the connection or `for_at_most` seconds pass. Returns the seconds until
    the server closed (inf: it never did) and what it answered."""
    answer = b""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=for_at_most) as sock:
        sock.sendall(head)
        sock.settimeout(every)
        for byte in trickle:
            if time.monotonic() - started > for_at_most:
                return float("inf"), answer
            try:
                sock.sendall(bytes([byte]))
            except OSError:  # reset: closed
                return time.monotonic() - started, answer
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return time.monotonic() - started, answer
            if not data:
                return time.monotonic() - started, answer
            answer += data
            # an answer came: read until the server closes
            sock.settimeout(max(0.1, for_at_most - (time.monotonic() - started)))
            try:
                while more := sock.recv(65536):
                    answer += more
            except (TimeoutError, OSError):
                return float("inf"), answer
            return time.monotonic() - started, answer
    return float("inf"), answer


def exchange(port: int, data: bytes, timeout: float = 5) -> bytes:
    """Send `data` as it is and read what the server answers until it closes."""
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        try:
            while more := sock.recv(65536):
                answer += more
        except (TimeoutError, OSError):
            pass
    return answer
