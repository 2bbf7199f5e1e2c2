"""Tools for tests/security/test_limits.py: a TCP proxy in front of PostgreSQL
that can hang (it keeps every connection open and accepts new ones, but
forwards nothing: a database that stopped answering, as opposed to one that
went away, which tests/http/faults.TcpProxy plays), and a raw client that
sends a request a few bytes at a time."""

from __future__ import annotations

import asyncio
import socket
import time

from tests.http.faults import LoopbackProxy


class HangingProxy(LoopbackProxy):
    """Forwards 127.0.0.1:`port` to `target` until `hang()`; from then on every
    byte either way is held back and every new connection is accepted and left
    waiting, until `resume()`."""

    def __init__(self, target_host: str, target_port: int):
        super().__init__(target_host, target_port)
        self._resumed: asyncio.Event | None = None

    def _on_loop(self) -> None:
        self._resumed = asyncio.Event()
        self._resumed.set()

    def hang(self) -> None:
        assert self._resumed is not None
        self._call(self._resumed.clear)

    def resume(self) -> None:
        assert self._resumed is not None
        self._call(self._resumed.set)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._resumed is not None
        self._live.add(writer)
        await self._resumed.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._live.add(up_writer)

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
