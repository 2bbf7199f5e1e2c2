"""One conversation in Microsoft 365 Agents Playground, driven by headless
Chromium, against a real `kompetensbot serve` on a fresh SQLite database with
the 2025 example.

The Playground's current user (from .m365agentsplayground.yml) is Anna
Andersson, HR for Förskolenämnden: the server runs anonymously, not in demo
mode (KOMPETENSBOT_ANONYMOUS=1), and her
AAD object id is granted `hr --unit FSKN` with the command line, so every
answer also proves that the id the Playground sends is the one the bot checks.

The server takes 2025-06-05 as today (KOMPETENSBOT_TODAY), a day inside the
June follow-up round of the 2025 example, so that the round's card takes
answers; its own round tick is off (KOMPETENSBOT_TICK_SECONDS=0): the test
opens the round and sends the cards with the command line, as cron would.

Without node, the pinned npm packages or Debian's Chromium the tests are
skipped with the reason; in CI (CI=true) they fail instead, since .ci/run
installs all of it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from tests.e2e.playground import ARTEFACTS, PLAYGROUND_CONFIG, ChatPage, Playground, missing_tools
from tests.http.harness import BotServer
from tests.manifest.schemas import in_ci

KOMPETENSBOT = Path(sys.executable).parent / "kompetensbot"
INSTALL_HINT = "apt-get install -y chromium && npm ci (bash .ci/run does both)"
BOT_TODAY = date(2025, 6, 5)
"""The server's today: inside the June 2025 round (opens 2 June, last day 19 June)."""


@dataclass(frozen=True)
class PlaygroundUser:
    name: str
    aad_object_id: str


def current_user(config: Path = PLAYGROUND_CONFIG) -> PlaygroundUser:
    """The Playground's current user, read from its config file."""
    text = config.read_text(encoding="utf-8")
    block = re.search(r"^currentUser:\n((?:[ \t]+.*\n)+)", text, re.MULTILINE)
    assert block, f"no currentUser in {config}"
    fields = dict(re.findall(r"^\s+(\w+):\s*(.+?)\s*$", block[1], re.MULTILINE))
    return PlaygroundUser(name=fields["name"], aad_object_id=fields["aadObjectId"])


def kompetensbot(database_url: str, *args: str) -> str:
    """Run `kompetensbot ARGS` on a database (as the city office would); its standard
    output. Fails the test if the command is refused."""
    result = subprocess.run(
        [str(KOMPETENSBOT), *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"kompetensbot {' '.join(args)}: {result.stderr.strip()}"
    return result.stdout


@dataclass
class Session:
    """Everything one end-to-end conversation runs on."""

    page: ChatPage
    bot: BotServer
    playground: Playground
    database_url: str
    user: PlaygroundUser
    artefacts: Path

    def cli(self, *args: str) -> str:
        """`kompetensbot ARGS` on the conversation's database, e.g. to open a round."""
        return kompetensbot(self.database_url, *args)


@pytest.fixture(scope="session")
def e2e_tools() -> None:
    missing = missing_tools()
    if missing:
        reason = f"end-to-end tests need {', '.join(missing)}: {INSTALL_HINT}"
        if in_ci():
            pytest.fail(f"{reason} (CI must install them)")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def session(e2e_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A fresh database with the 2025 example and Anna's role, `kompetensbot serve`,
    the Playground pointed at it and its page open in Chromium."""
    workdir = tmp_path_factory.mktemp("e2e")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTEFACTS.glob("*.png"):
        old.unlink()
    database_url = f"sqlite:///{workdir / 'kompetensbot.db'}"
    user = current_user()
    kompetensbot(database_url, "db", "upgrade")
    kompetensbot(database_url, "load-example", "malmo-2025")
    kompetensbot(database_url, "roles", "grant", user.aad_object_id, "hr", "--unit", "FSKN")
    bot = BotServer(
        database_url,
        demo=False,
        env={
            "KOMPETENSBOT_ANONYMOUS": "1",
            "KOMPETENSBOT_TODAY": BOT_TODAY.isoformat(),
            "KOMPETENSBOT_TICK_SECONDS": "0",
        },
    )
    playground = page = None
    try:
        bot.start()
        playground = Playground(bot.url, workdir).start()
        page = ChatPage(playground.url, ARTEFACTS).start()
        yield Session(page, bot, playground, database_url, user, ARTEFACTS)
    finally:
        if page:
            page.stop()
        if playground:
            playground.stop()
            for log in (playground.log, playground.workdir / "playground.log"):
                if log.exists():
                    shutil.copy(log, ARTEFACTS / log.name)
        bot.stop()
        if bot.log.exists():
            shutil.copy(bot.log, ARTEFACTS / "kompetensbot.log")
