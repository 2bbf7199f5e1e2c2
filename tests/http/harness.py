"""A real server over real HTTP: `kompetensbot serve` in its own process, and
a local stand-in for the channel's connector service that records the bot's
replies (what Teams would show)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiohttp import web


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ConnectorStub:
    """Records every activity the bot sends, per conversation."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def _record(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            self.received.append(body)
        return web.json_response({"id": str(uuid.uuid4())})

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._record)
        app.router.add_route("PUT", "/{tail:.*}", self._record)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> ConnectorStub:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    def texts(self, conversation_id: str | None = None) -> list[str]:
        with self._lock:
            return [
                a.get("text") or ""
                for a in self.received
                if a.get("type") == "message"
                and (conversation_id is None or (a.get("conversation") or {}).get("id") == conversation_id)
            ]

    def activities(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                a for a in self.received
                if conversation_id is None or (a.get("conversation") or {}).get("id") == conversation_id
            ]


class BotServer:
    """`kompetensbot serve` as a child process."""

    def __init__(self, database_url: str, *, demo: bool = True, env: dict[str, str] | None = None):
        self.port = free_port()
        self.database_url = database_url
        self.demo = demo
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"kompetensbot-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BotServer:
        exe = Path(sys.executable).parent / "kompetensbot"
        args = [str(exe), "serve", "--port", str(self.port)] + (["--demo"] if self.demo else [])
        env = {**os.environ, "DATABASE_URL": self.database_url, **self.env}
        env = {k: v for k, v in env.items() if v is not None}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()}")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def post(self, body: bytes | dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, str]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/api/messages",
            data=data,
            headers={"Content-Type": "application/json", **(headers or {})},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


def activity(
    text: str | None,
    *,
    service_url: str,
    conversation_id: str = "conv-1",
    user_id: str = "aad-user-1",
    name: str = "Anna Andersson",
    tenant_id: str = "tenant-malmo",
    activity_type: str = "message",
    value: dict[str, Any] | None = None,
    activity_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Bot Framework activity as Teams sends it."""
    body: dict[str, Any] = {
        "type": activity_type,
        "id": activity_id or str(uuid.uuid4()),
        "timestamp": "2025-06-10T10:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": f"29:{user_id}", "name": name, "aadObjectId": user_id},
        "conversation": {"id": conversation_id, "conversationType": "personal", "tenantId": tenant_id},
        "recipient": {"id": "28:kompetensbot", "name": "kompetensbot"},
        "channelData": {"tenant": {"id": tenant_id}},
        "locale": "sv-SE",
        **extra,
    }
    if text is not None:
        body["text"] = text
    if value is not None:
        body["value"] = value
    return body


@contextmanager
def running(database_url: str, **kwargs: Any) -> Iterator[tuple[BotServer, ConnectorStub]]:
    stub = ConnectorStub().start()
    server = BotServer(database_url, **kwargs).start()
    try:
        yield server, stub
    finally:
        server.stop()
        stub.stop()
