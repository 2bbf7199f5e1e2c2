"""The load generator: conversations that post real Bot Framework activities
(as Teams sends them) to a bot's /api/messages, each waiting for its turn to
be answered before it sends the next one, as a person in a chat does.

A turn's latency is the time from sending the activity to the bot's HTTP
answer; the bots under test send their replies to the connector stand-in
before they answer, so it includes the replies."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp


@dataclass(frozen=True)
class Step:
    text: str
    expect: str = ""
    """A text the bot's replies to this step must contain (checked in `verify`)."""


@dataclass(frozen=True)
class Conversation:
    id: str
    user: str
    tenant: str


@dataclass
class Result:
    turns: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    errors: int = 0
    cpu_at_start: float | None = None
    next_iteration: int = 0
    """Where a later run carries on (`first_iteration`): past every conversation's last."""

    @property
    def turns_per_s(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        index = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))
        return ordered[index]

    def summary(self) -> dict[str, Any]:
        return {
            "turns": self.turns,
            "seconds": round(self.seconds, 3),
            "turns_per_s": round(self.turns_per_s, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p99_ms": round(self.percentile(99), 2),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 2) if self.latencies_ms else None,
            "max_ms": round(max(self.latencies_ms), 2) if self.latencies_ms else None,
            "errors": self.errors,
        }


def activity(text: str, conversation: Conversation, service_url: str) -> dict[str, Any]:
    """A message activity as Teams posts it to a bot (personal chat)."""
    return {
        "type": "message",
        "id": str(uuid.uuid4()),
        "timestamp": "2025-06-10T10:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": f"29:{conversation.user}", "name": "Anna Andersson", "aadObjectId": conversation.user},
        "conversation": {
            "id": conversation.id,
            "conversationType": "personal",
            "tenantId": conversation.tenant,
        },
        "recipient": {"id": "28:kompetensbot", "name": "kompetensbot"},
        "channelData": {"tenant": {"id": conversation.tenant}},
        "locale": "sv-SE",
        "text": text,
    }


def _texts(steps: list[Step], conversation: Conversation, iteration: int) -> list[str]:
    return [s.text.format(conversation=conversation.id[-12:], n=iteration) for s in steps]


async def _post(session: aiohttp.ClientSession, url: str, body: bytes) -> int:
    async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
        await response.read()
        return response.status


async def run(
    bot_url: str,
    service_url: str,
    conversations: list[Conversation],
    steps: list[Step],
    *,
    seconds: float,
    warmup: float,
    on_measure: Callable[[], float] | None = None,
    interval: float = 0.0,
    first_iteration: int = 0,
) -> Result:
    """Every conversation goes through `steps` again and again (a whole dialog at a
    time) for `warmup` seconds unmeasured, then for `seconds` measured.

    `interval` 0: each message as soon as the previous one is answered (a closed
    loop: as many turns as the bot can take). Otherwise a person who types: each
    conversation sends a message every `interval` seconds (or, when an answer
    takes longer, as soon as it comes), the conversations out of step with each
    other, so the bot gets `len(conversations) / interval` turns a second and the
    latencies are those of a bot that is not saturated."""
    url = f"{bot_url}/api/messages"
    latencies: list[float] = []
    errors = 0
    turns = 0
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def talk(conversation: Conversation, until: float, measured: bool, start_at: int) -> int:
            nonlocal errors, turns
            iteration = start_at
            next_at = 0.0
            if interval:
                await asyncio.sleep(random.uniform(0, interval))
            while time.perf_counter() < until:
                for text in _texts(steps, conversation, iteration):
                    body = json.dumps(activity(text, conversation, service_url)).encode()
                    started = time.perf_counter()
                    if interval:  # wait for the moment this person types again
                        await asyncio.sleep(max(0.0, next_at - started))
                        started = time.perf_counter()
                        next_at = started + interval
                    try:
                        status = await _post(session, url, body)
                    except (TimeoutError, aiohttp.ClientError):
                        status = 0
                    elapsed = (time.perf_counter() - started) * 1000
                    if measured:
                        latencies.append(elapsed)
                        turns += 1
                        if not 200 <= status < 300:
                            errors += 1
                iteration += 1
            return iteration

        begin = time.perf_counter()
        done = await asyncio.gather(*(talk(c, begin + warmup, False, first_iteration) for c in conversations))
        cpu = on_measure() if on_measure else None
        start = time.perf_counter()
        ended = await asyncio.gather(
            *(talk(c, start + seconds, True, n) for c, n in zip(conversations, done, strict=True))
        )
        elapsed = time.perf_counter() - start
    return Result(turns, elapsed, latencies, errors, cpu, max(ended, default=first_iteration))


async def verify(bot_url: str, service_url: str, conversation: Conversation, steps: list[Step]) -> list[str]:
    """Go through `steps` once; the problems found (an unexpected status, or a
    reply without the expected text)."""
    problems = []
    async with aiohttp.ClientSession() as session:
        for step, text in zip(steps, _texts(steps, conversation, 0), strict=True):
            before = await _last(session, service_url, conversation.id)
            body = json.dumps(activity(text, conversation, service_url)).encode()
            status = await _post(session, f"{bot_url}/api/messages", body)
            after = await _last(session, service_url, conversation.id)
            replies = " ".join(after[len(before) :] if len(after) > len(before) else after[-1:])
            if not 200 <= status < 300:
                problems.append(f"{text!r}: HTTP {status}")
            elif step.expect and step.expect not in replies:
                problems.append(f"{text!r}: expected {step.expect!r} in {replies[:300]!r}")
    return problems


async def _last(session: aiohttp.ClientSession, service_url: str, conversation_id: str) -> list[str]:
    async with session.get(f"{service_url}_last", params={"conversation": conversation_id}) as r:
        return list((await r.json())["texts"])


async def stats(service_url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{service_url}_stats") as r:
        return dict(await r.json())
