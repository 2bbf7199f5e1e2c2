"""The follow-up round's tick: record what the open rounds owe on a date,
then send it, exactly once, through the proactive sender.

A tick (every minute inside `kompetensbot serve`, or `kompetensbot followup
tick` from cron):

1. opens the default June or December round of a city by itself when the
   date is inside its window and the city has money that year (`auto_open`);
2. records every due prompt, reminder and escalation (storage.rounds.enqueue:
   a unique key per round, recipient and kind);
3. claims the recorded sends one at a time (`in_flight` per process, 1 by
   default: a process killed mid-round can then have repeated at most the
   one send it had in flight) and sends each through the person's stored 1:1
   conversation, creating one when there is none (and storing it);
4. updates in place every sent card whose person has answered since.

With Graph installs on (KOMPETENSBOT_GRAPH_INSTALL, bot/reach.py), before step 3
every pending send whose person has no stored conversation gets the app installed for
that person through Microsoft Graph, once per (round, person), and the chat found
stored as their conversation: the send then goes there. A person Graph cannot install
for (no consent, not in the tenant) is recorded unreachable with the reason; no
create-conversation is tried for them (Teams refuses it for a person without the app).

Several processes on one PostgreSQL database (issue 23):

- Planning (steps 1, 2 and 4) is done for a city by one process only, the one that
  holds the city's advisory lock (storage.tick_locks: session locks on one connection
  the process keeps, taken at a tick and kept while it lives; why that scope: see there);
  the others skip the city. Each city ticked logs one INFO line "ticked city <slug>: …".
  Every process claims and sends (step 3), so the sending is shared; claims go round
  the cities that have something to send, one city's send after the next's (a large
  city's 2 000 cards do not hold back a small city's 40), and every send takes a slot of
  its (app, tenant)'s send budget, shared by every process (bot.tenant_budget).
- A stop (`stop`, at SIGTERM) claims nothing more and gives back at once every send
  this process has claimed whose request has not begun (storage.rounds.release: pending
  again, not marked possibly repeated), so another process takes it without waiting for
  the lease; a request under way may finish within the stop's time (`finish_sends`),
  else its send is left to the lease (and then marked possibly repeated).

On SQLite one server serves the database and ticks every city.

Sends whose person has answered in the meantime are skipped; a 403/404 is
recorded as failed with the reason. A send that fails in a way worth
retrying (429, 412, 502, 503, 504, a timeout) is not retried in place:
each claim makes one attempt, and the send goes back to pending, not
before its Retry-After or an exponential backoff with jitter, up to
`max_attempts` claims. So one send that is refused does not hold up the
round behind it (with one send in flight, an in-place backoff would stop
all sending), and a send waiting for its retry is not in flight: a process
killed then repeats nothing. The tick waits for retries due within
`retry_wait`; later ones are left to the next tick. Three or more failures
in a row slow the whole process down (exponential, honouring Retry-After),
so an outage of the channel, or a limit shared with another process, is not
hammered at the full rate; isolated 503s and 429s (two in a row happen by
chance) cost nothing.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from microsoft_agents.activity import Activity
from sqlalchemy.engine import Engine

from bot.clock import clock_for
from bot.proactive import CreateResult, Sender
from bot.reach import BUSY, GraphReach, Reached
from bot.round_services import RoundServices, known_round_ledger, names_of
from core.errors import DomainError
from core.ledger import Ledger
from core.proposal_sets import ProposalSetView
from core.round_report import round_report
from core.rounds import Phase, Round, SendKind, default_dates, measures_with_money
from dialogs import texts
from dialogs.proposal_cards import proposals_card
from dialogs.round_cards import (
    answered_card,
    card_activity,
    card_measures,
    card_update,
    escalation_activities,
    prompt_card,
)
from storage import graph_installs
from storage import rounds as store
from storage.bot_state import save_conversation_reference
from storage.graph_installs import InstallState
from storage.rounds import SendState
from storage.tick_locks import TickLocks
from storage.unit_of_work import UnitOfWorkFactory, units_of

log = logging.getLogger("kompetensbot.rounds")

SKIPPED = SendState.SKIPPED
SLOW_DOWN_AFTER = 3  # failures in a row before the whole process waits


def viewer_in(reference: dict[str, Any] | None) -> str | None:
    """The person's Teams id in a conversation reference (its "user": from.id of their
    messages, "29:…"; in a conversation the bot created, the id it was created with), which a
    card's refresh names so that Teams refreshes it for them (dialogs.cards.refresh)."""
    user = (reference or {}).get("user")
    found = user.get("id") if isinstance(user, dict) else None
    return found if isinstance(found, str) and found else None


def tenant_in(reference: dict[str, Any] | None) -> str | None:
    """The tenant of a stored conversation reference (its conversation.tenantId), if any."""
    conversation = (reference or {}).get("conversation")
    found = conversation.get("tenantId") if isinstance(conversation, dict) else None
    return found if isinstance(found, str) and found else None


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class TickResult:
    opened: list[str] = field(default_factory=list)  # "malmo 2025-06"
    recorded: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # sent / failed / unreachable / skipped / retry
    cards_updated: int = 0
    possibly_repeated: int = 0
    installs: Counter[str] = field(default_factory=Counter)  # Graph: installed / no_consent / …
    ticked: list[str] = field(default_factory=list)  # the cities this process planned (slugs)
    elsewhere: int = 0  # cities another process holds the tick lock of (PostgreSQL)

    @property
    def sent(self) -> int:
        return self.outcomes["sent"]


@dataclass
class _Worker:
    """What one drain worker is doing, for a stop: the send it holds, and whether it
    must not be cancelled now (a claim, a request or an outcome being written)."""

    held: store.Send | None = None
    busy: bool = False


class _Rotation:
    """The cities with sends to claim, in turn: a city whose send was just claimed goes
    to the back; one with nothing left to claim drops out until the next refill."""

    def __init__(self) -> None:
        self._cities: deque[int] = deque()

    def next(self) -> int | None:
        return self._cities.popleft() if self._cities else None

    def again(self, org_id: int) -> None:
        if org_id not in self._cities:
            self._cities.append(org_id)

    def refill(self, org_ids: list[int]) -> None:
        for org_id in org_ids:
            self.again(org_id)


class RoundRunner:
    def __init__(
        self,
        engine: Engine,
        sender: Sender,
        *,
        auto_open: bool = True,
        in_flight: int = 1,
        lease: timedelta = timedelta(minutes=5),
        max_attempts: int = 12,
        retry_delay: timedelta = timedelta(seconds=0.5),
        max_retry_delay: timedelta = timedelta(minutes=2),
        retry_wait: timedelta = timedelta(seconds=30),
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: random.Random | None = None,
        units: UnitOfWorkFactory | None = None,
        reach: GraphReach | None = None,
        locks: TickLocks | None = None,
    ):
        """`max_attempts` claims of a send before it is recorded as failed;
        retries wait `retry_delay` doubling up to `max_retry_delay` (with
        jitter; a Retry-After takes precedence): the defaults give up after
        about 4 to 8 minutes of failures. A tick waits for retries due
        within `retry_wait`. `units`: the units of work the round services and the
        escalation's report open (default: over `engine`). `reach`: installs through
        Microsoft Graph for people without a conversation (bot/reach.py; None: off).
        `locks`: which cities this process plans, on PostgreSQL (storage.tick_locks;
        None: every city, as on SQLite)."""
        self.engine = engine
        self.units = units or units_of(engine)
        self.reach = reach
        self.sender = sender
        self.auto_open = auto_open
        self.in_flight = max(1, in_flight)
        self.lease = lease
        self.max_attempts = max(1, max_attempts)
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.retry_wait = retry_wait
        self.clock = clock
        self.sleep = sleep
        self._rng = rng or random.Random()
        self._failures_in_a_row = 0
        self._last_retry_after: float | None = None
        self._unchanged: dict[int, Any] = {}  # RoundServices.enqueue_due, from tick to tick
        self.locks = locks
        self.stopping = False
        self._workers: dict[asyncio.Task[None], _Worker] = {}

    # --- the tick ---------------------------------------------------------

    async def tick(self, as_of: date) -> TickResult:
        result = TickResult()
        if self.stopping:
            return result
        cities = await asyncio.to_thread(store.cities, self.engine)
        mine: set[int] | None = None  # None: every city (no locks)
        if self.locks is not None:
            mine = await asyncio.to_thread(self.locks.take, [org_id for org_id, _ in cities])
            result.elsewhere = len(cities) - len(mine)
        for org_id, slug in cities:
            if self.stopping:
                return result
            if mine is not None and org_id not in mine:
                continue
            await self._plan(slug, as_of, result)
        await self.drain(as_of, result)
        if not self.stopping:
            result.cards_updated += await self.refresh_answered_cards(mine)
        if not self.stopping:
            result.cards_updated += await self.refresh_decided_proposals(mine)
        return result

    async def _plan(self, slug: str, as_of: date, result: TickResult) -> None:
        """One city's planning: its round opened when due, what is due recorded."""
        services = RoundServices(self.engine, org=slug, units=self.units)
        opened: list[str] = []
        if self.auto_open:
            opened = await asyncio.to_thread(self._auto_open, services, as_of)
            result.opened += [f"{slug} {p}" for p in opened]
        recorded = 0
        try:
            recorded = await asyncio.to_thread(services.enqueue_due, as_of, self._unchanged)
        except DomainError as problem:
            log.warning("city %s: could not record the round's sends: %s", slug, problem.message)
        result.recorded += recorded
        result.ticked.append(slug)
        log.info(
            "ticked city %s: %d new sends recorded%s",
            slug,
            recorded,
            "".join(f", opened the round {p}" for p in opened),
        )

    def _auto_open(self, services: RoundServices, as_of: date) -> list[str]:
        if as_of.month not in (6, 12):
            return []
        period = f"{as_of.year}-{as_of.month:02d}"
        opens, deadline = default_dates(period)
        if not opens <= as_of <= deadline:
            return []
        try:
            services.find(period)
            return []
        except DomainError:
            pass
        if not measures_with_money(services.summary_ledger(), as_of.year):  # the read model's, not every row
            return []
        try:
            services.open(None, period)
        except DomainError:  # another process opened it first
            return []
        log.info("opened the follow-up round %s", period)
        try:  # before anything is sent: the measures nobody can be asked about (issue 17 item 13)
            units = services.no_recipient_units(period)
        except DomainError:
            units = {}
        if units:
            log.warning(
                "round %s: measures with no recipient (no responsible person, no hr role) in %d units: %s",
                period,
                len(units),
                ", ".join(f"{code} {n}" for code, n in units.items()),
            )
        return [period]

    async def drain(self, as_of: date, result: TickResult | None = None) -> TickResult:
        """Send every claimable send, and those due for a retry within
        `retry_wait`, the cities in turn; returns when none is left (or the
        runner stops)."""
        result = result or TickResult()
        if self.stopping:
            return result
        token = store.new_token()
        contexts: dict[int, store.SendingCity] = {}
        if self.reach is not None:
            await self.install_first(as_of, result, contexts)
        rotation = _Rotation()

        async def claim_next() -> list[store.Send]:
            """One send of the next city in turn (none: nothing to claim now)."""
            refilled = False
            while not self.stopping:
                org_id = rotation.next()
                if org_id is None:
                    if refilled:
                        # Every city with sends is being claimed by this process's other
                        # workers: take any city's next send rather than stop this worker.
                        return await asyncio.to_thread(
                            store.claim, self.engine, limit=1, lease=self.lease, token=token, now=self.clock()
                        )
                    rotation.refill(
                        await asyncio.to_thread(
                            store.claimable_orgs, self.engine, lease=self.lease, now=self.clock()
                        )
                    )
                    refilled = True
                    continue
                claimed = await asyncio.to_thread(
                    store.claim,
                    self.engine,
                    limit=1,
                    lease=self.lease,
                    token=token,
                    now=self.clock(),
                    org_id=org_id,
                )
                if claimed:
                    rotation.again(org_id)
                    return claimed
            return []

        async def worker(state: _Worker) -> None:
            while not self.stopping:
                await self._slow_down()
                state.busy = True  # a claim is not cancelled half-way: its send would be lost
                try:
                    claimed = await claim_next()
                finally:
                    state.busy = False
                if claimed and self.stopping:
                    await asyncio.to_thread(store.release, self.engine, claimed)
                    return
                if not claimed:
                    if self.stopping:
                        return
                    wait = await asyncio.to_thread(self._next_retry_in)
                    if wait is None:
                        return
                    await self.sleep(wait)
                    continue
                for send in claimed:
                    state.held = send
                    try:
                        outcome = await self._process(send, as_of, contexts)
                    finally:
                        state.held, state.busy = None, False
                    result.outcomes[outcome] += 1
                    result.possibly_repeated += send.possibly_repeated

        tasks = []
        for _ in range(self.in_flight):
            task = asyncio.create_task(worker(state := _Worker()))
            self._workers[task] = state
            task.add_done_callback(lambda done: self._workers.pop(done, None))
            tasks.append(task)
        try:
            # Every worker to its end: a stop cancels some (their sends given back) and
            # lets the others finish theirs.
            ends = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for task in tasks:  # the drain itself cancelled: the workers too
                task.cancel()
        for end in ends:
            if isinstance(end, Exception):
                raise end
        return result

    # --- a stop ------------------------------------------------------------------

    def _busy(self) -> None:
        """The current worker's send must not be cancelled from here on: its request
        has begun, or its outcome is being written."""
        task = asyncio.current_task()
        state = self._workers.get(task) if task is not None else None
        if state is not None:
            state.busy = True

    async def stop(self) -> int:
        """Claim nothing more and give back at once every send this process holds whose
        request has not begun (their workers are cancelled): pending again, for another
        process to take now. Returns how many were given back. Requests under way go on
        (`finish_sends`)."""
        self.stopping = True
        idle = [(task, state) for task, state in self._workers.items() if not state.busy]
        held = [state.held for _task, state in idle if state.held is not None]
        for task, _state in idle:
            task.cancel()
        await asyncio.gather(*(task for task, _ in idle), return_exceptions=True)
        released = await asyncio.to_thread(store.release, self.engine, held) if held else 0
        if held:
            log.info("stopping: %d claimed sends given back unsent, for another process to take", released)
        return released

    async def finish_sends(self, timeout: float) -> int:
        """After `stop`: wait up to `timeout` seconds for the requests under way and the
        outcomes being written; those still going then are cancelled, their sends left to
        the lease (another process takes them then, marked possibly repeated). Returns how
        many were left so."""
        going = [task for task in self._workers if not task.done()]
        if not going:
            return 0
        _done, pending = await asyncio.wait(going, timeout=max(0.0, timeout))
        left = sum(1 for task in pending if self._workers.get(task, _Worker()).held is not None)
        for task in pending:
            task.cancel()
        if left:
            log.warning("stopping: %d sends under way left to their lease (possibly repeated)", left)
        return left

    def _next_retry_in(self) -> float | None:
        """Seconds until the earliest retry, when it is due within `retry_wait`."""
        now = self.clock()
        due = store.next_retry_at(self.engine, now)
        if due is None or due - now > self.retry_wait:
            return None
        return max(0.01, (due - now).total_seconds())

    async def _slow_down(self) -> None:
        """After failures in a row, wait before the next send: a refused
        send now and then costs the round nothing, an outage is not hammered."""
        if self._failures_in_a_row < SLOW_DOWN_AFTER:
            return
        pause = self._backoff(self._failures_in_a_row - SLOW_DOWN_AFTER + 1)
        if self._last_retry_after is not None:
            pause = max(pause, min(self._last_retry_after, self.max_retry_delay.total_seconds()))
        await self.sleep(pause)

    # --- one send -----------------------------------------------------------

    def _context(self, org_id: int, contexts: dict[int, store.SendingCity]) -> store.SendingCity:
        if org_id in contexts:
            return contexts[org_id]
        ctx = contexts[org_id] = store.sending_city(self.engine, org_id)
        return ctx

    async def _process(self, send: store.Send, as_of: date, contexts: dict[int, store.SendingCity]) -> str:
        try:
            ctx = await asyncio.to_thread(self._context, send.org_id, contexts)
            round_ = ctx.rounds.get(send.round_id)
            proposals = send.kind == SendKind.PROPOSALS  # to KSAU, closed round or not
            if round_ is None or (not proposals and round_.phase(as_of) == Phase.CLOSED):
                return await self._finish(send, SKIPPED, "omgången är stängd")
            if not proposals and send.kind != SendKind.ESCALATION and round_.phase(as_of) != Phase.OPEN:
                return await self._finish(send, SKIPPED, "omgången tar inte längre emot svar")
            done, reference = await asyncio.to_thread(self._lookup, send, round_, ctx)
            if (
                not proposals
                and send.kind != SendKind.ESCALATION
                and all(m in done for m in send.measure_ids)
            ):
                return await self._finish(send, SKIPPED, "har redan svarat")
            if reference is None and self.reach is not None:
                reached = await self._reach_one(send, ctx)
                if not reached.ok:
                    if reached.final:
                        return await self._finish(send, SendState.UNREACHABLE, reached.reason)
                    wait = reached.retry_after
                    if reached.state == BUSY:
                        wait = min(self.lease.total_seconds(), 30.0)
                    return await self._retry_or_fail(send, reached.reason, retry_after=wait)
                reference = reached.reference
            if reference is None:
                created = await self._create_conversation(send, ctx)
                if not created.ok:
                    reason = f"ingen konversation med personen och ingen kunde skapas ({created.reason})"
                    if created.permanent:
                        return await self._finish(send, SendState.UNREACHABLE, reason)
                    return await self._retry_or_fail(send, reason, retry_after=created.retry_after)
                reference = created.reference
                assert reference is not None
            if proposals:
                activities = await asyncio.to_thread(self._build_proposals, round_, ctx, reference)
                if not activities:
                    return await self._finish(send, SKIPPED, "omgången har inga omfördelningsförslag")
            else:  # built for the person the reference names (the card refreshes itself for them)
                activities = await asyncio.to_thread(
                    self._build, send, round_, ctx, as_of, viewer_in(reference)
                )
            # One attempt per claim: a retry goes back to the queue (see the module's notes).
            # An escalation too large for one message is sent in parts, in
            # order; a part that fails sends them all again at the retry.
            first_id: str | None = None
            tenant = tenant_in(reference) or ctx.tenant_id
            for number, activity in enumerate(activities):
                outcome = await self.sender.send(
                    reference, activity, attempts=1, tenant_id=tenant, started=self._busy
                )
                if not outcome.ok:
                    if number:
                        outcome = replace(outcome, maybe_duplicate=True)
                    break
                first_id = first_id or outcome.activity_id
            if outcome.ok:
                outcome = replace(outcome, activity_id=first_id)
        except Exception as problem:  # noqa: BLE001 - one bad send must not stop the round
            log.exception("send %s failed unexpectedly", send.id)
            return await self._retry_or_fail(send, f"oväntat fel: {type(problem).__name__}")
        if outcome.ok:
            self._failures_in_a_row = 0
            self._last_retry_after = None
            return await self._finish(
                send,
                SendState.SENT,
                "",
                activity_id=outcome.activity_id,
                reference=reference,
                possibly_repeated=outcome.maybe_duplicate,
            )
        if outcome.permanent:
            return await self._finish(send, SendState.FAILED, f"{outcome.status}: {outcome.reason}")
        self._failures_in_a_row += 1
        self._last_retry_after = outcome.retry_after
        return await self._retry_or_fail(
            send,
            f"{outcome.status or (outcome.history[-1] if outcome.history else 'fel')}: {outcome.reason}",
            retry_after=outcome.retry_after,
            possibly_repeated=outcome.maybe_duplicate,
        )

    # --- Graph installs (bot/reach.py) ---------------------------------------------

    async def install_first(
        self, as_of: date, result: TickResult, contexts: dict[int, store.SendingCity]
    ) -> None:
        """Before sending: the app installed for every person with a pending send and no
        stored conversation, once per (round, person), `in_flight` at a time; those who
        would get nothing (answered, round no longer open) are left alone."""
        reach = self.reach
        assert reach is not None
        reach.begin()
        pending = await asyncio.to_thread(graph_installs.unreached_sends, self.engine)
        people: dict[tuple[int, str], store.Send] = {}
        for send in pending:
            people.setdefault((send.round_id, send.recipient), send)
        queue = list(people.values())

        async def worker() -> None:
            while queue and not self.stopping:
                send = queue.pop(0)
                try:
                    ctx = await asyncio.to_thread(self._context, send.org_id, contexts)
                    round_ = ctx.rounds.get(send.round_id)
                    if round_ is None or not self._worth_reaching(send, round_, as_of):
                        continue
                    done, reference = await asyncio.to_thread(self._lookup, send, round_, ctx)
                    if reference is not None or (
                        send.kind not in (SendKind.ESCALATION, SendKind.PROPOSALS)
                        and all(m in done for m in send.measure_ids)
                    ):
                        continue
                    reached = await reach.reach(ctx, send.round_id, send.recipient)
                except Exception:  # noqa: BLE001 - one person's install must not stop the round
                    log.exception("install for %s failed unexpectedly", send.recipient)
                    continue
                if reached.state != BUSY:
                    result.installs[reached.state] += 1

        await asyncio.gather(*(worker() for _ in range(self.in_flight)))

    @staticmethod
    def _worth_reaching(send: store.Send, round_: Round, as_of: date) -> bool:
        if send.kind == SendKind.PROPOSALS:
            return True
        if round_.phase(as_of) == Phase.CLOSED:
            return False
        return send.kind == SendKind.ESCALATION or round_.phase(as_of) == Phase.OPEN

    async def _reach_one(self, send: store.Send, ctx: store.SendingCity) -> Reached:
        """A send whose person has no conversation, in the drain: what the install before
        it left (no consent, not in the tenant: final for this send), or an install now
        (a send recorded after the pass, or one whose install failed for a while)."""
        assert self.reach is not None
        stored = await self.reach.stored(send.round_id, send.recipient)
        if stored is not None and stored.state in (InstallState.NO_CONSENT, InstallState.NOT_FOUND):
            return Reached(False, stored.state, stored.reason)
        return await self.reach.reach(ctx, send.round_id, send.recipient)

    def _backoff(self, number: int) -> float:
        """The `number`th retry's delay in seconds: doubling, capped, jittered."""
        base = self.retry_delay.total_seconds()
        ceiling = min(self.max_retry_delay.total_seconds(), base * 2 ** min(number - 1, 30))
        return float(ceiling) * (0.5 + 0.5 * self._rng.random())

    async def _retry_or_fail(
        self,
        send: store.Send,
        reason: str,
        *,
        retry_after: float | None = None,
        possibly_repeated: bool = False,
    ) -> str:
        self._busy()
        if send.attempts >= self.max_attempts:
            log.warning(
                "send %s to %s: gave up after %d attempts: %s", send.id, send.recipient, send.attempts, reason
            )
            return await self._finish(
                send,
                SendState.FAILED,
                f"gav upp efter {send.attempts} försök: {reason}",
                possibly_repeated=possibly_repeated,
            )
        if retry_after is not None:
            delay = retry_after + self._rng.uniform(0, min(1.0, 0.1 * retry_after))
        else:
            delay = self._backoff(send.attempts)
        self._busy()
        kept = await asyncio.to_thread(
            store.finish,
            self.engine,
            send,
            state=SendState.PENDING,
            reason=reason,
            retry_at=self.clock() + timedelta(seconds=delay),
            possibly_repeated=possibly_repeated,
        )
        if not kept:
            log.warning("send %s was taken over by another process after its lease ran out", send.id)
        return "retry"

    async def _finish(self, send: store.Send, state: str, reason: str, **values: Any) -> str:
        self._busy()
        kept = await asyncio.to_thread(store.finish, self.engine, send, state=state, reason=reason, **values)
        if not kept:
            log.warning("send %s was taken over by another process after its lease ran out", send.id)
        return state

    def _lookup(
        self, send: store.Send, round_: Round, ctx: store.SendingCity
    ) -> tuple[set[int], dict[str, Any] | None]:
        """What of the card is answered, and the person's stored 1:1
        conversation: one connection, two small queries."""
        return store.answered_and_reference(
            self.engine, send, round_.period, card=send.kind not in (SendKind.ESCALATION, SendKind.PROPOSALS)
        )

    async def _create_conversation(self, send: store.Send, ctx: store.SendingCity) -> CreateResult:
        """A new 1:1 conversation with the person, stored like the ones the
        bot stores from incoming messages, so the next send finds it."""
        key = (ctx.tenant_id or "", send.recipient)
        if ctx.fallback is None or not ctx.fallback.get("serviceUrl") or not ctx.tenant_id:
            reason = "staden har ingen känd Teams-tjänst ännu: ingen har pratat med boten"
            self.sender.unreachable[key] = reason
            return CreateResult(ok=False, reason=reason, permanent=True)
        created = await self.sender.create_conversation_result(
            ctx.fallback["serviceUrl"],
            ctx.tenant_id,
            send.recipient,
            channel_id=ctx.fallback.get("channelId", "msteams"),
            user_name=ctx.names.get(send.recipient),
            attempts=1,
            city=ctx.slug,  # as the city's own registration (bot.registrations)
        )
        if not created.ok or created.reference is None:
            self.sender.unreachable[key] = created.reason
            return created
        self.sender.unreachable.pop(key, None)
        reference = created.reference
        await asyncio.to_thread(
            save_conversation_reference,
            self.engine,
            org_id=ctx.org_id,
            tenant_id=ctx.tenant_id,
            user_id=send.recipient,
            conversation_id=reference["conversation"]["id"],
            conversation_type="personal",
            reference=reference,
        )
        return created

    def _build(
        self, send: store.Send, round_: Round, ctx: store.SendingCity, as_of: date, viewer: str | None = None
    ) -> list[Activity]:
        plan = round_.plan
        if send.kind == SendKind.ESCALATION:
            with self.units(ctx.slug) as repo:
                # As known on the day it goes out (the escalation day, or later when
                # sent late): the answers `followup status` counts on that day.
                known = max(plan.escalate_on, as_of)
                view = store.CityRounds(repo).current_ledger([round_.period])
                ledger = known_round_ledger(repo, view, known)
                grants = repo.grants()
                report = round_report(round_, ledger, grants, known, set(send.units))
                absent = names_of(repo, {send.on_behalf}).get(send.on_behalf, "") if send.on_behalf else ""
            names = {code: unit.name for code, unit in ledger.units.items()}
            return escalation_activities(
                round_, report, send.recipient, grants, names, on_behalf=send.on_behalf, on_behalf_name=absent
            )
        # the card for the day it goes out: the needs as the person may read them then (a
        # substitute reads the absent person's units' needs only during the absence)
        services = RoundServices(self.engine, org=ctx.slug, units=self.units, clock=clock_for(as_of))
        needs = services.card_needs(send.recipient, send.measure_ids)
        absent = ""
        if send.on_behalf:  # issue 22: a handover (or its reminder) of an absent person's measures
            with self.units(ctx.slug) as repo:
                absent = names_of(repo, {send.on_behalf}).get(send.on_behalf, send.on_behalf)
        for_names = dict.fromkeys(send.measure_ids, absent) if absent else {}
        measures = card_measures(ctx.ledger, round_, send.measure_ids, needs, for_names)
        reminder = send.kind not in (SendKind.PROMPT, SendKind.HANDOVER)
        if absent:
            waiting = sum(m.answer is None for m in measures)
            text = texts.handover_text(plan.period, absent, waiting, reminder=reminder)
        elif reminder:
            text = texts.round_reminder_text(plan.period, plan.deadline)
        else:
            text = texts.round_prompt_text(plan.period)
        content = prompt_card(
            round_.id,
            plan.period,
            plan.deadline,
            measures,
            reminder=reminder,
            possibly_repeated=send.possibly_repeated,
            viewer=viewer,
            handover=absent,
        )
        return [card_activity(text, content)]

    def _build_proposals(
        self, round_: Round, ctx: store.SendingCity, reference: dict[str, Any]
    ) -> list[Activity]:
        """The round's proposals as one card (dialogs.proposal_cards), refreshed for the
        person it goes to; none when the round has no set."""
        view = RoundServices(self.engine, org=ctx.slug, units=self.units).proposal_set_of_round(round_.id)
        if view is None or not view.proposal_set.items:
            return []
        content = proposals_card(view, may_decide=True, viewer=viewer_in(reference))
        return [card_activity(texts.proposals_text(round_.period), content)]

    async def refresh_decided_proposals(self, org_ids: set[int] | None = None) -> int:
        """Update in place every sent proposals card (of the cities `org_ids`, when
        given) whose set KSAU has decided since (like `refresh_answered_cards`): each
        member's card then says who decided and when."""
        candidates = await asyncio.to_thread(store.unmarked_proposal_cards, self.engine, org_ids)
        views: dict[tuple[str, int], ProposalSetView | None] = {}
        updated = 0
        for slug, send in candidates:
            if self.stopping:
                break
            key = (slug, send.round_id)
            if key not in views:
                services = RoundServices(self.engine, org=slug, units=self.units)
                views[key] = await asyncio.to_thread(services.proposal_set_of_round, send.round_id)
            view = views[key]
            if view is None or view.proposal_set.decision is None:
                continue
            content = proposals_card(view, may_decide=True, viewer=viewer_in(send.reference))
            updated += await self._update_or_mark(send, content)
        return updated

    async def _update_or_mark(self, send: store.Send, content: dict[str, Any]) -> bool:
        """Update a sent card in place and mark it so no later tick tries again; marked too
        when it can never be updated (the message or conversation gone, 404; the bot blocked,
        403). Whether it was updated."""
        assert send.reference is not None and send.activity_id is not None
        outcome = await self.sender.update(send.reference, send.activity_id, card_update(content))
        if outcome.ok or outcome.permanent:
            if not outcome.ok:
                log.warning("card of send %s cannot be updated: %s", send.id, outcome.reason)
            await asyncio.to_thread(store.mark_card_answered, self.engine, send.id)
        return outcome.ok

    # --- cards answered since they were sent ----------------------------------

    async def refresh_answered_cards(self, org_ids: set[int] | None = None) -> int:
        """Update in place every sent card (of the cities `org_ids`, when given) whose
        person has answered all of it."""
        candidates = await asyncio.to_thread(store.unmarked_cards_of, self.engine, org_ids)
        answered = await asyncio.to_thread(
            store.answered_by_period, self.engine, {(o, r.period) for o, r, _ in candidates}
        )
        periods: dict[int, set[str]] = {}
        for org_id, round_, _ in candidates:
            periods.setdefault(org_id, set()).add(round_.period)
        ledgers: dict[int, Ledger] = {}
        updated = 0
        for org_id, round_, send in candidates:
            if self.stopping:
                break
            done = answered.get((org_id, round_.period), set())
            if not send.measure_ids or not all(m in done for m in send.measure_ids):
                continue
            if org_id not in ledgers:
                ledgers[org_id] = await asyncio.to_thread(
                    store.round_ledger_of, self.engine, org_id, periods[org_id]
                )
            ledger = ledgers[org_id]
            content = answered_card(
                round_.period,
                round_.plan.deadline,
                card_measures(ledger, round_, send.measure_ids),
                complete=True,
                round_id=round_.id,
                viewer=viewer_in(send.reference),
            )
            updated += await self._update_or_mark(send, content)
        return updated
