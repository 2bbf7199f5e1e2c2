"""Microsoft 365 Agents Playground and a headless Chromium that drives its page,
for the end-to-end tests.

- `Playground`: the pinned npm package's own server (node_modules/), pointed
  at a running `kompetensbot serve`, with the repository's
  `.m365agentsplayground.yml` (the users, their AAD object ids, the tenant and
  the team). It never opens a browser itself (TEAMSAPPTESTER_BROWSER=none)
  and sends no telemetry.
- `ChatPage`: tests/e2e/playground_driver.js (playwright-core with Debian's
  /usr/bin/chromium) behind a small Python API: say something, click a
  button, fill a card, wait until the chat shows a text, take a screenshot.
  Everything the tests assert comes from the page's visible text.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.http.harness import free_port, stop_process, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
PLAYGROUND_PACKAGE = NODE_MODULES / "@microsoft" / "m365agentsplayground"
PLAYWRIGHT_PACKAGE = NODE_MODULES / "playwright-core"
PLAYGROUND_CONFIG = ROOT / ".m365agentsplayground.yml"
DRIVER = Path(__file__).with_name("playground_driver.js")
CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
ARTEFACTS = ROOT / "build" / "e2e"

REPLY_TIMEOUT = 30.0
"""Seconds a step waits for the bot's answer to appear on the page."""


def missing_tools() -> list[str]:
    """What the end-to-end tests need and this machine lacks, in words."""
    missing = []
    if not shutil.which("node"):
        missing.append("node (Node.js 20)")
    if not (PLAYGROUND_PACKAGE / "package.json").is_file():
        missing.append("@microsoft/m365agentsplayground in node_modules/")
    if not (PLAYWRIGHT_PACKAGE / "package.json").is_file():
        missing.append("playwright-core in node_modules/")
    if not CHROMIUM.is_file():
        missing.append(f"Chromium at {CHROMIUM} (Debian package chromium)")
    return missing


class Playground:
    """The Agents Playground server as a child process."""

    def __init__(self, bot_url: str, workdir: Path, *, config: Path = PLAYGROUND_CONFIG):
        self.port = free_port()
        self.bot_url = bot_url
        self.workdir = workdir
        self.config = config
        self.log = workdir / "playground.out"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}/"

    def start(self, timeout: float = 30.0) -> Playground:
        env = {
            **os.environ,
            "TEAMSAPPTESTER_BROWSER": "none",
            "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(self.config),
            "M365_AGENTS_PLAYGROUND_LOGFILE": str(self.workdir / "playground.log"),
        }
        args = [
            "node",
            str(PLAYGROUND_PACKAGE / "cli.js"),
            "--app-endpoint",
            f"{self.bot_url}/api/messages",
            "--channel-id",
            "msteams",
            "--port",
            str(self.port),
            "--disable-telemetry",
        ]
        with self.log.open("wb") as out:
            # cwd: the Playground writes a devTools/ folder where it runs.
            self.process = subprocess.Popen(
                args, cwd=self.workdir, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            wait_until_up(self.process, self.url, self.log, "the Playground", timeout)
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop_process(self.process)


@dataclass(frozen=True)
class Message:
    index: int
    from_bot: bool
    author: str | None
    text: str
    has_card: bool


class DriverError(AssertionError):
    """The page did not do or show what a step expected (the driver says what it showed)."""


class ChatPage:
    """The Playground's page in headless Chromium, through playground_driver.js."""

    def __init__(self, url: str, artefacts: Path):
        self.url = url
        self.artefacts = artefacts
        self.stderr_path = artefacts / "driver.log"
        self._next_id = 0
        self._answers: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.process: subprocess.Popen[str] | None = None

    # --- the process --------------------------------------------------------------

    def start(self) -> ChatPage:
        self.artefacts.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "E2E_CHROMIUM": str(CHROMIUM), "NODE_PATH": str(NODE_MODULES)}
        self._stderr = self.stderr_path.open("w")
        self.process = subprocess.Popen(
            ["node", str(DRIVER)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.call("launch", url=self.url, timeout=60)
        return self

    def _read(self) -> None:
        assert self.process and self.process.stdout
        for line in self.process.stdout:
            try:
                self._answers.put(json.loads(line))
            except json.JSONDecodeError:
                continue
        self._answers.put(None)

    def stop(self) -> None:
        if not self.process:
            return
        if self.process.poll() is None:
            try:
                self.call("close", timeout=15)
            except (DriverError, RuntimeError):
                pass
            if self.process.stdin:
                self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._stderr.close()

    def call(self, op: str, *, timeout: float = REPLY_TIMEOUT + 10, **args: Any) -> Any:
        """One request to the driver; its result, or DriverError with what went wrong."""
        assert self.process and self.process.stdin
        self._next_id += 1
        request_id = self._next_id
        self.process.stdin.write(json.dumps({"id": request_id, "op": op, **args}) + "\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"the browser driver did not answer {op} within {timeout:.0f} s")
            try:
                answer = self._answers.get(timeout=remaining)
            except queue.Empty:
                continue
            if answer is None:
                raise RuntimeError(
                    f"the browser driver exited during {op}: {self.stderr_path.read_text(errors='replace')}"
                )
            if answer.get("id") != request_id:
                continue
            if not answer.get("ok"):
                if op not in ("screenshot", "close", "launch"):
                    self._failure_screenshot(op)
                raise DriverError(f"{op}: {answer.get('error')}")
            return answer.get("result")

    def _failure_screenshot(self, op: str) -> None:
        """What the page showed when a step failed, beside the step screenshots."""
        path = self.artefacts / f"failed-{self._next_id:03d}-{op}.png"
        try:
            self.call("screenshot", path=str(path), timeout=15)
        except (DriverError, RuntimeError):
            pass

    # --- what a person does and sees ------------------------------------------------

    def messages(self) -> list[Message]:
        return [
            Message(m["index"], m["fromBot"], m["author"], m["text"], m["hasCard"])
            for m in self.call("messages")
        ]

    def say(self, text: str) -> int:
        """Type `text` and send it; the index from which its answers are looked for: the number
        of messages shown before it was sent (on a busy machine the Playground has shown the
        bot's answer above the person's own message, so the sent message's index missed it)."""
        before = len(self.messages())
        self.call("say", text=text)
        return before

    def expect(self, *texts: str, since: int = 0, timeout: float = REPLY_TIMEOUT) -> list[Message]:
        """Wait until the bot's messages from index `since` on show every text; those messages."""
        found = self.call(
            "expect", texts=list(texts), since=since, timeoutMs=int(timeout * 1000), timeout=timeout + 10
        )
        return [Message(m["index"], m["fromBot"], m["author"], m["text"], m["hasCard"]) for m in found]

    def ask(self, text: str, *expected: str, timeout: float = REPLY_TIMEOUT) -> list[Message]:
        """Say `text` and wait for an answer showing every expected text; the bot's answers.
        The answers are looked for from the messages shown before `text` was sent on: on
        a busy machine the Playground has shown the bot's first answer above the
        person's own message."""
        return self.expect(*expected, since=self.say(text), timeout=timeout)

    def click(self, name: str, *, within: str | None = None, since: int = 0) -> int:
        """Click the button named `name` (in the last message showing `within`); the number
        of messages before the click, i.e. where the answers to it begin."""
        return int(self.call("click", name=name, within=within, since=since)["before"])

    def suggested(self, name: str) -> int:
        """Click a suggested reply; where the answers to it begin."""
        return int(self.call("suggested", name=name)["before"])

    def buttons(self, *, within: str | None = None, since: int = 0) -> list[str]:
        return list(self.call("buttons", within=within, since=since))

    def fill(self, label: str, value: str, *, within: str, since: int = 0, section: str | None = None) -> str:
        """Fill a card's input by its label; `section`: only in the part of the card
        (an Adaptive Card Container) showing that text, e.g. one measure's title."""
        answer = self.call("fill", label=label, value=value, within=within, since=since, section=section)
        return str(answer["value"])

    def choose(
        self, label: str, option: str, *, within: str, since: int = 0, section: str | None = None
    ) -> str:
        answer = self.call("choose", label=label, option=option, within=within, since=since, section=section)
        return str(answer["value"])

    def check(self, option: str, *, within: str, since: int = 0, section: str | None = None) -> bool:
        """Tick a check box of a card's multi-select choice set; whether it is ticked."""
        return bool(self.call("check", option=option, within=within, since=since, section=section)["value"])

    def pick_date(self, label: str, day: str, *, within: str, since: int = 0) -> str:
        """Pick `day` (YYYY-MM-DD) in a card's date input, in its calendar; the shown value."""
        return str(self.call("pick_date", label=label, date=day, within=within, since=since)["value"])

    def value(self, label: str, *, within: str, since: int = 0, section: str | None = None) -> str:
        return str(self.call("value", label=label, within=within, since=since, section=section))

    def screenshot(self, name: str, *, within: str | None = None, since: int = 0, top: bool = False) -> Path:
        """build/e2e/NAME.png, with the message showing `within` (or the latest) in view;
        `top`: scrolled to that message's top (a card taller than the page)."""
        path = self.artefacts / f"{name}.png"
        self.call("screenshot", path=str(path), within=within, since=since, top=top)
        return path
