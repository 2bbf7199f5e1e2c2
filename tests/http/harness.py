"""A real server over real HTTP: `kompetensbot serve` in its own process, and
a local stand-in for the channel's connector service that records the bot's
replies (what Teams would show)."""

from __future__ import annotations

import asyncio
import base64
import email.utils
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


def wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path, name: str, timeout: float) -> None:
    """Wait until `url` answers 200; RuntimeError with the end of the log when the
    process exits first or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text(errors='replace')[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not start: {log.read_text(errors='replace')[-4000:]}")


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, and SIGKILL when it has not ended within 10 s."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


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
                a
                for a in self.received
                if conversation_id is None or (a.get("conversation") or {}).get("id") == conversation_id
            ]


def _app_in_token(authorization: str) -> str | None:
    """The app id a bearer token was issued to (appid, azp or aud), read without
    checking the token (the stand-in trusts its callers); None without one."""
    token = authorization.removeprefix("Bearer ").strip()
    parts = token.split(".")
    if not authorization.startswith("Bearer ") or len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    for name in ("appid", "azp", "aud"):
        if isinstance(claims, dict) and isinstance(claims.get(name), str) and claims[name]:
            return str(claims[name])
    return None


def _marked_as_repeat(body: dict[str, Any]) -> bool:
    """Whether a round's card says it may have been sent twice (dialogs.round_cards)."""
    from dialogs.texts import ROUND_POSSIBLY_REPEATED

    return ROUND_POSSIBLY_REPEATED in json.dumps(body, ensure_ascii=False)


CREDENTIALS = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"
TEST_LEDGER_KEY = "tests-ledger-key-0123456789abcdef0123456789abcdef"


class BotServer:
    """`kompetensbot serve` as a child process, on a database that is already
    migrated (serve does not migrate). `demo`: None = demo unless `env` has
    credentials; without credentials and demo the server runs with
    KOMPETENSBOT_ANONYMOUS=1 (serve needs the mode asked for explicitly)."""

    def __init__(self, database_url: str, *, demo: bool | None = None, env: dict[str, str] | None = None):
        self.port = free_port()
        self.database_url = database_url
        self.env = dict(env or {})
        credentials = bool(self.env.get(CREDENTIALS) or os.environ.get(CREDENTIALS))
        self.demo = not credentials if demo is None else demo
        if not credentials and not self.demo:
            self.env.setdefault("KOMPETENSBOT_ANONYMOUS", "1")
        self.process: subprocess.Popen[bytes] | None = None
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"kompetensbot-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BotServer:
        exe = Path(sys.executable).parent / "kompetensbot"
        args = [str(exe), "serve", "--port", str(self.port)] + (["--demo"] if self.demo else [])
        env = {**os.environ, "DATABASE_URL": self.database_url, **self.env}
        if env.get("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"):
            env.setdefault("KOMPETENSBOT_LEDGER_KEY", TEST_LEDGER_KEY)  # serve needs one with credentials
        env = {k: v for k, v in env.items() if v is not None}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_until_up(self.process, f"{self.url}/healthz", self.log, "the server", 30)
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        stop_process(self.process)

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
    value: object = None,  # a card's values; any JSON value, when a test sends a bad one
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


class ThrottlingConnectorStub:
    """A stand-in for the Teams connector service that enforces rate limits
    the way Teams answers them, for the proactive sender's tests.

    - At most `per_conversation_rate` accepted sends/updates per conversation
      and `global_rate` accepted requests overall in any `window` seconds
      (sliding, half-open); beyond that it answers 429 with a Retry-After of
      `retry_after` seconds (or an HTTP date when `retry_after_date`; no header
      when None). A rate of None is not enforced, only measured.
    - Every `fail_every`-th request that passed the limits gets a 503.
    - `statuses`: conversation id -> status answered to every request there
      (403 for a bot that is blocked, 404 for a conversation that is gone);
      `create_statuses`: the same per member id for create-conversation.
    - `script`: conversation id -> the answers to its next requests, in
      order, before any other rule: `(status, headers)` to answer with, or
      `("hang", seconds)` to accept the request but answer only after that
      long (a send that is carried out but whose answer comes too late).
    - `tenant_rate`: at most this many accepted requests in any `window` per
      (app, tenant), as Teams limits each app in each tenant (50/s), on top
      of `global_rate` (None for several tenants: no limit across them). The
      tenant of a request is the first part of its path when the
      conversation reference's serviceUrl has one (Teams' serviceUrls carry
      the tenant, https://smba.trafficmanager.net/emea/<tenant-id>/: give
      each tenant's references `url + "<tenant>/"`), else the body's
      conversation.tenantId (channelData.tenant.id); the app is the bearer
      token's appid (azp, aud) when there is a token, else the activity's
      from.id without "28:", else "anonymous".
    - `answer_late`: conversation id -> seconds: the first send there that
      passes the limits is carried out (recorded as accepted at once) but
      answered only after that long, so the bot's process can be killed
      while the send is in flight.
    Only accepted requests count against the limits. Everything accepted is
    in `accepted` (with arrival time, method, conversation, body, the
    Authorization header, tenant, app, the client's port and whether the
    card says it may be a repeat: `repeat_marked`); every answer is in
    `answers`, every 429 also in `throttled` as (time, app, tenant,
    conversation id); `arrivals` holds (time, method, conversation id) of
    every request as it arrives, before any rule (a hanging request is there
    at once); `peers` holds the client ports seen, i.e. the TCP connections
    the bot opened."""

    def __init__(
        self,
        *,
        per_conversation_rate: float | None = 7,
        global_rate: float | None = 50,
        window: float = 1.0,
        fail_every: int = 0,
        retry_after: float | None = 1,
        retry_after_date: bool = False,
        statuses: dict[str, int] | None = None,
        create_statuses: dict[str, int] | None = None,
        script: dict[str, list[tuple[Any, Any]]] | None = None,
        tenant_rate: float | None = None,
        answer_late: dict[str, float] | None = None,
    ) -> None:
        self.port = free_port()
        self.per_conversation_rate = per_conversation_rate
        self.global_rate = global_rate
        self.tenant_rate = tenant_rate
        self.answer_late = dict(answer_late or {})
        self.window = window
        self.fail_every = fail_every
        self.retry_after = retry_after
        self.retry_after_date = retry_after_date
        self.statuses = dict(statuses or {})
        self.create_statuses = dict(create_statuses or {})
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.accepted: list[dict[str, Any]] = []
        self.answers: list[tuple[float, str, str, int]] = []
        self.arrivals: list[tuple[float, str, str | None]] = []
        self.peers: set[tuple[str, int]] = set()
        self.throttled: list[tuple[float, str, str, str | None]] = []
        self._passed = 0
        self._conversation_times: dict[str, list[float]] = {}
        self._global_times: list[float] = []
        self._tenant_times: dict[tuple[str, str], list[float]] = {}
        self._activities: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    # -- the server ---------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("POST", "/v3/conversations", self._create)
        app.router.add_route("POST", "/v3/conversations/{conversation}/activities", self._send)
        app.router.add_route("POST", "/v3/conversations/{conversation}/activities/{activity}", self._send)
        app.router.add_route("PUT", "/v3/conversations/{conversation}/activities/{activity}", self._update)
        # The same under a tenant's path (a serviceUrl such as .../emea/<tenant-id>/)
        app.router.add_route("POST", "/{tenant}/v3/conversations", self._create)
        app.router.add_route("POST", "/{tenant}/v3/conversations/{conversation}/activities", self._send)
        app.router.add_route(
            "POST", "/{tenant}/v3/conversations/{conversation}/activities/{activity}", self._send
        )
        app.router.add_route(
            "PUT", "/{tenant}/v3/conversations/{conversation}/activities/{activity}", self._update
        )
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> ThrottlingConnectorStub:
        self._thread.start()
        if not self._ready.wait(10):  # e.g. the port was taken in the meantime
            raise RuntimeError(f"the connector stand-in did not start on port {self.port}")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    def __enter__(self) -> ThrottlingConnectorStub:
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.stop()

    def _answer(
        self,
        request: web.Request,
        status: int,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        with self._lock:
            self.answers.append((time.monotonic(), request.method, request.path, status))
        return web.json_response(body if body is not None else {}, status=status, headers=headers)

    def _error(self, request: web.Request, status: int, code: str, headers: dict[str, str] | None = None):
        return self._answer(
            request, status, {"error": {"code": code, "message": f"stub answered {status}"}}, headers
        )

    def _throttled(
        self, request: web.Request, conversation_id: str | None, now: float, bucket: tuple[str, str]
    ) -> web.Response | None:
        """429 if accepting now would exceed a limit; otherwise None (and the
        request is counted when it is accepted)."""
        horizon = now - self.window
        with self._lock:
            self._global_times[:] = [t for t in self._global_times if t > horizon]
            over = self.global_rate is not None and len(self._global_times) >= self.global_rate * self.window
            tenant_times = self._tenant_times.setdefault(bucket, [])
            tenant_times[:] = [t for t in tenant_times if t > horizon]
            over = over or (
                self.tenant_rate is not None and len(tenant_times) >= self.tenant_rate * self.window
            )
            if conversation_id is not None:
                times = self._conversation_times.setdefault(conversation_id, [])
                times[:] = [t for t in times if t > horizon]
                limit = self.per_conversation_rate
                over = over or (limit is not None and len(times) >= limit * self.window)
            if over:
                self.throttled.append((now, bucket[0], bucket[1], conversation_id))
        if not over:
            return None
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            if self.retry_after_date:
                headers["Retry-After"] = email.utils.formatdate(time.time() + self.retry_after, usegmt=True)
            else:
                headers["Retry-After"] = f"{self.retry_after:g}"
        return self._error(request, 429, "TooManyRequests", headers)

    async def _gate(
        self,
        request: web.Request,
        conversation_id: str | None,
        status_for: int | None,
        bucket: tuple[str, str] = ("", ""),
    ) -> web.Response | None:
        """Everything that may refuse a request, in order; None = accept."""
        peer = request.transport.get_extra_info("peername") if request.transport else None
        with self._lock:
            self.arrivals.append((time.monotonic(), request.method, conversation_id))
            if peer:
                self.peers.add((str(peer[0]), int(peer[1])))
        if conversation_id is not None:
            with self._lock:
                step = self.script[conversation_id].pop(0) if self.script.get(conversation_id) else None
            if step is not None:
                kind, value = step
                if kind == "hang":
                    await asyncio.sleep(float(value))
                else:
                    return self._error(request, int(kind), "Scripted", dict(value or {}))
        if status_for is not None:
            code = {403: "Forbidden", 404: "NotFound"}.get(status_for, "Error")
            return self._error(request, status_for, code)
        now = time.monotonic()
        refused = self._throttled(request, conversation_id, now, bucket)
        if refused is not None:
            return refused
        with self._lock:
            self._passed += 1
            failing = self.fail_every > 0 and self._passed % self.fail_every == 0
            if not failing:
                request["accepted_at"] = now  # the time _record gives it: the one the limits counted
                self._global_times.append(now)
                self._tenant_times[bucket].append(now)
                if conversation_id is not None:
                    self._conversation_times[conversation_id].append(now)
        if failing:
            return self._error(request, 503, "ServiceUnavailable")
        return None

    @staticmethod
    def _bucket(request: web.Request, body: dict[str, Any]) -> tuple[str, str]:
        """(app, tenant) of a request: see the class's notes."""
        conversation = body.get("conversation") or {}
        tenant = (
            request.match_info.get("tenant")
            or conversation.get("tenantId")
            or ((body.get("channelData") or {}).get("tenant") or {}).get("id")
            or body.get("tenantId")
            or ""
        )
        app = _app_in_token(request.headers.get("Authorization", ""))
        sender = str((body.get("from") or body.get("bot") or {}).get("id") or "")
        return (app or sender.removeprefix("28:") or "anonymous", str(tenant))

    def _record(
        self,
        request: web.Request,
        conversation_id: str,
        activity_id: str,
        body: dict[str, Any],
        bucket: tuple[str, str] = ("", ""),
    ) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        with self._lock:
            self.accepted.append(
                {
                    "time": request.get("accepted_at", time.monotonic()),
                    "method": request.method,
                    "path": request.path,
                    "conversation_id": conversation_id,
                    "activity_id": activity_id,
                    "activity": body,
                    "authorization": request.headers.get("Authorization"),
                    "app": bucket[0],
                    "tenant": bucket[1],
                    "peer": int(peer[1]) if peer else None,
                    "repeat_marked": _marked_as_repeat(body),
                }
            )
            self._activities[(conversation_id, activity_id)] = body

    async def _send(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation"]
        body = await request.json()
        bucket = self._bucket(request, body)
        refused = await self._gate(request, conversation_id, self.statuses.get(conversation_id), bucket)
        if refused is not None:
            return refused
        activity_id = f"act-{uuid.uuid4().hex[:12]}"
        self._record(request, conversation_id, activity_id, body, bucket)
        with self._lock:
            late = self.answer_late.pop(conversation_id, None)
        if late:
            await asyncio.sleep(late)
        return self._answer(request, 201, {"id": activity_id})

    async def _update(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation"]
        activity_id = request.match_info["activity"]
        body = await request.json()
        bucket = self._bucket(request, body)
        refused = await self._gate(request, conversation_id, self.statuses.get(conversation_id), bucket)
        if refused is not None:
            return refused
        with self._lock:
            known = (conversation_id, activity_id) in self._activities
        if not known:
            return self._error(request, 404, "ActivityNotFound")
        self._record(request, conversation_id, activity_id, body, bucket)
        return self._answer(request, 200, {"id": activity_id})

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        members = body.get("members") or [{}]
        return await self._create_with(request, body, str(members[0].get("id") or ""))

    async def _create_with(self, request: web.Request, body: dict[str, Any], member: str) -> web.Response:
        """A create-conversation for `member`, with its body already read."""
        bucket = self._bucket(request, body)
        refused = await self._gate(request, None, self.create_statuses.get(member), bucket)
        if refused is not None:
            return refused
        conversation_id = f"a:{member}"  # Teams returns the same 1:1 conversation for the same member
        with self._lock:
            self.accepted.append(
                {
                    "time": time.monotonic(),
                    "method": "POST",
                    "path": request.path,
                    "conversation_id": conversation_id,
                    "activity_id": None,
                    "activity": body,
                    "authorization": request.headers.get("Authorization"),
                    "app": bucket[0],
                    "tenant": bucket[1],
                    "peer": None,
                    "repeat_marked": False,
                }
            )
        return self._answer(request, 201, {"id": conversation_id})

    # -- what it saw --------------------------------------------------------

    def sends(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """Accepted new messages (not updates, not create-conversations)."""
        with self._lock:
            return [
                a
                for a in self.accepted
                if a["method"] == "POST"
                and a["activity_id"] is not None
                and (conversation_id is None or a["conversation_id"] == conversation_id)
            ]

    def answer_late_for(self, conversation_id: str, seconds: float) -> None:
        """From now on, as `answer_late` (see the class's notes)."""
        with self._lock:
            self.answer_late[conversation_id] = seconds

    def send_log(self) -> list[dict[str, Any]]:
        """The accepted new messages without their bodies (small enough to pass
        between processes, see tests/http/connector_process.py): time,
        conversation_id, activity_id, app, tenant, peer and repeat_marked."""
        keys = ("time", "conversation_id", "activity_id", "app", "tenant", "peer", "repeat_marked")
        return [{k: a[k] for k in keys} for a in self.sends()]

    def throttled_log(self) -> list[tuple[float, str, str, str | None]]:
        """Every 429, as (time, app, tenant, conversation id)."""
        with self._lock:
            return list(self.throttled)

    def arrival_log(self) -> list[tuple[float, str, str | None]]:
        with self._lock:
            return list(self.arrivals)

    def answer_log(self) -> list[tuple[float, str, str, int]]:
        with self._lock:
            return list(self.answers)

    def updates(self) -> list[dict[str, Any]]:
        with self._lock:
            return [a for a in self.accepted if a["method"] == "PUT"]

    def status_counts(self) -> dict[int, int]:
        with self._lock:
            counts: dict[int, int] = {}
            for _t, _m, _p, status in self.answers:
                counts[status] = counts.get(status, 0) + 1
            return counts

    def max_in_window(self, conversation_id: str | None = None, window: float | None = None) -> int:
        """The most accepted requests (of one conversation, or all) in any
        half-open window of `window` seconds."""
        window = window or self.window
        with self._lock:
            times = [
                a["time"]
                for a in self.accepted
                if conversation_id is None or a["conversation_id"] == conversation_id
            ]
        return most_in_window(times, window)


def most_in_window(times: list[float], window: float = 1.0) -> int:
    """The most of `times` in any half-open window of `window` seconds."""
    times = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best
