"""A turn's hold on its activity's claim (storage.bot_state): renewed while the
turn runs, marked finished when it ends.

The claim's lease (KOMPETENSBOT_CLAIM_LEASE_SECONDS) says when a turn is taken
for dead and Teams' retry of its activity is handled again. Most turns take
milliseconds, but one whose replies meet a slow channel can take longer than
the lease (every reply is tried up to KOMPETENSBOT_REPLY_ATTEMPTS times, each
up to KOMPETENSBOT_REPLY_TIMEOUT seconds). So a turn still running at half its
lease extends it, and again at every half lease: only a process that stopped
(killed, its machine gone) lets a lease run out. A turn that ended with an
error is not marked finished: its lease runs out and a retry is handled again
(a write it made is kept once by its one-time key).

Finished turns are marked in batches (Finisher): under load one statement and
one hop to a worker thread for every turn that ended while the batch before
was written, instead of one each; the turn's answer does not wait for it
(what it bought: bench/README.md, "Speed tricks").
A finish lost to the process stopping in that moment (milliseconds) costs at
most a retry handled again after the lease, which Teams sends only for a turn
whose answer it did not get.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from storage.bot_state import finish_turns, renew_claim

log = logging.getLogger("kompetensbot.claims")


FINISH_DELAY = 0.01
"""Seconds a finished turn waits for others to join its batch: at one
conversation's pace (a turn every few milliseconds) a batch holds a few."""


class Finisher:
    """Marks the claims of finished turns, a batch at a time (one per engine)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._pending: list[tuple[str, str]] = []
        self._writing: asyncio.Task[None] | None = None

    def finish(self, conversation_id: str, activity_id: str) -> None:
        self._pending.append((conversation_id, activity_id))
        loop = asyncio.get_running_loop()
        writing = self._writing
        if writing is None or writing.done() or writing.get_loop() is not loop:
            self._writing = loop.create_task(self._write())

    async def _write(self) -> None:
        await asyncio.sleep(FINISH_DELAY)  # the turns ending meanwhile join the batch
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(finish_turns, self.engine, batch)
            except SQLAlchemyError as problem:  # the database is down: one line, no traceback
                log.warning("could not mark %d turns finished (%s)", len(batch), type(problem).__name__)
            except Exception:  # noqa: BLE001 - their leases run out; a retry is handled again
                log.warning("could not mark %d turns finished", len(batch), exc_info=True)

    async def drain(self) -> None:
        """Write what is pending (the server stopping; tests)."""
        while self._writing is not None and not self._writing.done():
            try:
                await asyncio.shield(self._writing)
            except asyncio.CancelledError:
                if not self._writing.cancelled():
                    raise  # the drain itself is cancelled
                # the write was cancelled (its thread stopped): its claims' leases run out,
                # and a retry is kept from saving twice by its write's key
        if self._pending:
            batch, self._pending = self._pending, []
            await asyncio.to_thread(finish_turns, self.engine, batch)


class HeldClaim:
    """The claim of one turn's activity, held by the task running the turn."""

    def __init__(self, finisher: Finisher, conversation_id: str, activity_id: str, lease: timedelta):
        self.finisher = finisher
        self.engine = finisher.engine
        self.conversation_id = conversation_id
        self.activity_id = activity_id
        self.lease = lease
        self._task = asyncio.current_task()
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._schedule()

    def _schedule(self) -> None:
        seconds = self.lease.total_seconds() / 2
        if seconds > 0:
            self._timer = self._loop.call_later(seconds, self._renew)

    def _renew(self) -> None:
        """Half the lease went by and the turn's task still runs: extend it."""
        if self._task is not None and self._task.done():
            return  # the turn ended without finishing (an error): let the lease run out
        self._loop.create_task(self._extend())
        self._schedule()

    async def _extend(self) -> None:
        try:
            await asyncio.to_thread(
                renew_claim, self.engine, self.conversation_id, self.activity_id, self.lease
            )
        except Exception:  # noqa: BLE001 - the turn goes on; at worst a retry is handled again
            log.warning("could not renew the claim of activity %s", self.activity_id, exc_info=True)

    def finish(self) -> None:
        """The turn ran to its end: a retry of its activity is answered by nothing
        (marked with the next batch)."""
        if self._timer is not None:
            self._timer.cancel()
        self.finisher.finish(self.conversation_id, self.activity_id)
