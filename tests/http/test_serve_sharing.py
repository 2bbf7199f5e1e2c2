"""`kompetensbot serve` processes sharing one database (issue 23), as an operator runs them.

1. SQLite serves one process: a second `serve` on the same file is refused, in Swedish,
   naming the file; a `followup tick` from cron beside the running server is allowed.
2. A stop (SIGTERM) in the middle of a round gives the sends the server had claimed and not
   begun back at once: after it, nothing is left claimed, and the next tick (whose lease
   is five minutes) sends every one of them, each once, none marked possibly repeated.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.round_services import RoundServices
from storage.db import make_engine
from tests.http.harness import BotServer, ThrottlingConnectorStub, free_port
from tests.integration.round_population import ORG, PERIOD, populate
from tests.integration.test_round_delivery import cli_env, tick_command, wait_for

pytestmark = pytest.mark.slow  # server processes: start early (tests/conftest.py orders them)

KOMPETENSBOT = str(Path(sys.executable).parent / "kompetensbot")
OPENS = date(2025, 6, 2)


def test_a_second_server_on_one_sqlite_file_is_refused_and_a_cron_tick_beside_it_is_not(tmp_path: Path):
    from storage.migrate import upgrade

    database = tmp_path / "stad.db"
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    first = BotServer(url).start()
    try:
        env = cli_env(url, KOMPETENSBOT_DEMO="1")
        second = subprocess.run(
            [KOMPETENSBOT, "serve", "--demo", "--port", str(free_port())],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode != 0
        assert f"en annan kompetensbot serve använder redan SQLite-databasen {database}" in second.stderr
        assert f"{database}.serve-lock" in second.stderr and "Servern startade inte." in second.stderr
        assert "Traceback" not in second.stderr
        assert first.get("/healthz")[0] == 200  # the first one serves on
        tick = subprocess.run(tick_command(OPENS), env=env, capture_output=True, text=True, timeout=60)
        assert tick.returncode == 0, tick.stderr
    finally:
        first.stop()
    # once the first has stopped, a server starts on the file again
    again = BotServer(url).start()
    again.stop()


def test_sigterm_mid_round_gives_the_claimed_sends_back_for_the_next_process_at_once(database_url: str):
    """Twelve cards at two a second, three in flight: SIGTERM after the first few."""
    n = 12
    engine = make_engine(database_url)
    try:
        with ThrottlingConnectorStub(per_conversation_rate=7, global_rate=None) as stub:
            population = populate(engine, stub.url, n, load=False)
            env = cli_env(
                database_url,
                KOMPETENSBOT_TICK_SECONDS="0.2",
                KOMPETENSBOT_TODAY=OPENS.isoformat(),
                KOMPETENSBOT_SEND_RATE="2",
                KOMPETENSBOT_ROUND_IN_FLIGHT="3",
            )
            env["KOMPETENSBOT_LOG"] = "INFO"  # the server's stop says what it gave back
            server = BotServer(database_url, demo=False, env=env).start()

            def claimed() -> int:
                with engine.connect() as conn:
                    query = text("SELECT count(*) FROM round_sends WHERE state = 'claimed'")
                    return int(conn.execute(query).scalar_one())

            try:
                wait_for(
                    lambda: len(stub.sends()) >= 2 and claimed() >= 2, timeout=60, what="the round under way"
                )
            finally:
                server.stop()  # SIGTERM
            assert server.process is not None and server.process.returncode == 0
            log = server.log.read_text(encoding="utf-8")
            sent_by_the_server = len(stub.sends())
            assert sent_by_the_server < n  # stopped mid-round
            assert claimed() == 0  # nothing left to the lease
            assert "claimed sends given back unsent" in log, log[-2000:]
            rows = RoundServices(engine, org=ORG).sends(PERIOD)
            assert not any(s.possibly_repeated for s in rows)

            # The next process (cron's tick, with the default five-minute lease) sends the rest at once.
            started = time.monotonic()
            rest = subprocess.run(tick_command(OPENS), env=env, capture_output=True, text=True, timeout=120)
            assert rest.returncode == 0, rest.stderr
            assert time.monotonic() - started < 60
            counts = Counter(a["conversation_id"] for a in stub.sends())
    finally:
        rows = RoundServices(engine, org=ORG).sends(PERIOD)
        engine.dispose()
    assert counts == Counter({population.conversation(r): 1 for r in population.recipients})  # each once
    assert all(s.state == "sent" for s in rows) and not any(s.possibly_repeated for s in rows)
