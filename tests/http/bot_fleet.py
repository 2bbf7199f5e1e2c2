"""Several `kompetensbot serve` processes on one PostgreSQL database, as a city
runs them behind a load balancer (issue 23): for the three-process test
(tests/http/test_many_processes.py) and bench/multi_process.py.

- `fresh_database`: a PostgreSQL database of its own (not a schema: advisory
  locks are per database, so another test's schema must not share them).
- `FleetServer`: a BotServer whose log lines are read as they come, each
  with its arrival time (time.monotonic(), the clock the connector stand-in
  in its own process stamps its records with); its CPU seconds from /proc;
  SIGKILL that reads the CPU first.
- `start_fleet`: n servers launched at once, then waited for.
- `tick_lines`: every `ticked city <slug>` line (logger kompetensbot.rounds)
  of the servers, in time order.
- `owner_of_port`: which server holds the TCP connection with a local port,
  i.e. which process sent a request the stand-in saw from that port.
- `load_cities`, `add_recipients`: two cities (Malmö and Lund, the 2025
  example each) in two tenants, and `n` HR recipients in each whose stored
  references point to the stand-in under each tenant's own path.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import bindparam, text

from bench.turns import cpu_seconds
from tests.http.harness import BotServer, stop_process, wait_until_up
from tests.integration.round_population import Population, add_example_city, populate

CITIES = (("malmo", "Malmö stad", "tenant-malmo"), ("lund", "Lunds kommun", "tenant-lund"))
"""The two cities of the two-tenant round: slug, name, Teams tenant."""

TICK_LINE = re.compile(r" kompetensbot\.rounds: ticked city ([^\s:]+)")


# --- the database ------------------------------------------------------------------------


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def fresh_database(base_url: str, prefix: str = "k23") -> Iterator[str]:
    """A new, migrated PostgreSQL database on the server of `base_url` (its URL),
    dropped afterwards (WITH FORCE: a killed process's connection may linger)."""
    import psycopg

    from storage.db import make_engine
    from storage.migrate import upgrade

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = _libpq(base_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    head, _, _ = admin.partition("?")[0].rpartition("/")
    url = f"{head}/{name}"
    try:
        engine = make_engine(url, pool_size=2)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_cities(url: str) -> None:
    """CITIES, each the 2025 example, each in its own tenant."""
    from storage.db import make_engine

    engine = make_engine(url, pool_size=2)
    try:
        for slug, name, tenant in CITIES:
            add_example_city(engine, slug, name, tenant)
    finally:
        engine.dispose()


def add_recipients(url: str, stub_url: str, n: int, wave: int = 0) -> dict[str, Population]:
    """`n` HR recipients in each of CITIES (loaded), numbered from 10 000 x city +
    1 000 x `wave` (so no two conversations share an id, n <= 1 000); each
    reference's serviceUrl is the stand-in under the tenant's own path
    (`stub_url` + tenant + "/"). Added during an open round, they are owed a
    card at the next tick."""
    from storage.db import make_engine

    engine = make_engine(url, pool_size=2)
    try:
        return {
            slug: populate(
                engine,
                f"{stub_url}{tenant}/",
                n,
                load=False,
                first=10_000 * number + 1_000 * wave,
                org=slug,
                tenant=tenant,
            )
            for number, (slug, _name, tenant) in enumerate(CITIES)
        }
    finally:
        engine.dispose()


# --- the servers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LogLine:
    at: float  # time.monotonic() when it was read
    server: int  # the FleetServer's number
    text: str


class FleetServer(BotServer):
    """`kompetensbot serve` (see BotServer) whose output is read line by line as it
    comes (`lines`), and copied to its log file."""

    def __init__(self, number: int, database_url: str, env: dict[str, str], log_dir: Path | None = None):
        super().__init__(database_url, demo=False, env=env)
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            self.log = log_dir / f"server-{number}.log"
        self.number = number
        self.lines: list[LogLine] = []
        self.cpu_at_kill: float | None = None
        self.killed_at: float | None = None
        self._reader: threading.Thread | None = None

    def launch(self) -> FleetServer:
        exe = Path(sys.executable).parent / "kompetensbot"
        args = [str(exe), "serve", "--port", str(self.port)]
        # Only the settings given: none of the caller's KOMPETENSBOT_* or credentials
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("CONNECTIONS__", "KOMPETENSBOT_"))
        }
        env = {**inherited, "DATABASE_URL": self.database_url, **self.env}
        self.process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        with self.log.open("wb") as log:
            for raw in self.process.stdout:
                self.lines.append(LogLine(time.monotonic(), self.number, raw.decode(errors="replace")))
                log.write(raw)
                log.flush()

    def wait_up(self, timeout: float = 60) -> FleetServer:
        assert self.process is not None
        wait_until_up(self.process, f"{self.url}/healthz", self.log, f"server {self.number}", timeout)
        return self

    def start(self) -> FleetServer:
        return self.launch().wait_up()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User and system CPU seconds of the process so far (all its threads);
        what it had when it was killed, after that."""
        if self.cpu_at_kill is not None:
            return self.cpu_at_kill
        return cpu_seconds(self.pid)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.cpu_at_kill = cpu_seconds(self.pid)
            self.killed_at = time.monotonic()
        super().kill()

    def stop(self) -> None:
        stop_process(self.process)
        if self._reader is not None:
            self._reader.join(10)

    def text(self) -> str:
        return "".join(line.text for line in self.lines)


def start_fleet(
    count: int, database_url: str, env: dict[str, str], log_dir: Path | None = None
) -> list[FleetServer]:
    """`count` servers on one database, launched together (each start is a few
    seconds of imports), returned when every one answers /healthz."""
    servers = [FleetServer(number, database_url, env, log_dir).launch() for number in range(count)]
    try:
        for server in servers:
            server.wait_up()
    except BaseException:
        stop_fleet(servers)
        raise
    return servers


def stop_fleet(servers: Iterable[FleetServer]) -> None:
    for server in servers:
        server.stop()


def tick_lines(servers: Iterable[FleetServer]) -> list[tuple[float, int, str]]:
    """(arrival time, server number, city slug) of every `ticked city` line, in time order."""
    found = []
    for server in servers:
        for line in list(server.lines):
            match = TICK_LINE.search(line.text)
            if match:
                found.append((line.at, server.number, match.group(1)))
    return sorted(found)


def owner_of_port(port: int, servers: Iterable[FleetServer]) -> FleetServer | None:
    """The server whose process has the TCP socket bound to local `port` (the
    client port the stand-in saw), from /proc/net/tcp{,6} and /proc/<pid>/fd."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for server in servers:
        if server.process is None or server.process.poll() is not None:
            continue
        fds = Path(f"/proc/{server.pid}/fd")
        for fd in fds.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return server
    return None


# --- the round's progress -------------------------------------------------------------------

_PROGRESS = text(
    "SELECT count(*) FILTER (WHERE state = 'sent' AND recipient IN :recipients), "
    "count(*) FILTER (WHERE state IN ('pending', 'claimed')) FROM round_sends"
).bindparams(bindparam("recipients", expanding=True))
_OPEN_ROUNDS = text("SELECT count(*) FROM followup_rounds WHERE closed_at IS NULL")


def _alive_or_fail(servers: Iterable[FleetServer]) -> None:
    for s in servers:
        if s.killed_at is None and s.process is not None and s.process.poll() is not None:
            raise AssertionError(f"server {s.number} ended: {s.text()[-3000:]}")


def wait_until_sent(
    url: str, recipients: Iterable[str], servers: list[FleetServer], timeout: float = 90
) -> float:
    """When every one of `recipients` has a send recorded sent and no send is left
    pending or claimed (time.monotonic()); AssertionError when a server that was
    not killed ends, or after `timeout`."""
    from storage.db import make_engine

    wanted = sorted(set(recipients))
    engine = make_engine(url, pool_size=1)
    deadline = time.monotonic() + timeout
    state: tuple[int, int] = (0, 0)
    try:
        while time.monotonic() < deadline:
            _alive_or_fail(servers)
            with engine.connect() as conn:
                sent, waiting = conn.execute(_PROGRESS, {"recipients": wanted}).one()
            state = (int(sent), int(waiting))
            if state[0] >= len(wanted) and state[1] == 0:
                return time.monotonic()
            time.sleep(0.1)
    finally:
        engine.dispose()
    raise AssertionError(
        f"the round was not sent within {timeout:g} s: {state[0]} of {len(wanted)} sent, "
        f"{state[1]} sends pending or claimed"
    )


def wait_until_open(url: str, rounds: int, servers: list[FleetServer], timeout: float = 60) -> None:
    """Until the servers' ticks have opened `rounds` rounds."""
    from storage.db import make_engine

    engine = make_engine(url, pool_size=1)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            _alive_or_fail(servers)
            with engine.connect() as conn:
                if conn.execute(_OPEN_ROUNDS).scalar_one() >= rounds:
                    return
            time.sleep(0.1)
    finally:
        engine.dispose()
    raise AssertionError(f"the servers did not open {rounds} rounds within {timeout:g} s")
