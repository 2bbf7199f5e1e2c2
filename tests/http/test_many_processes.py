"""Issue 23's done-when, as an operator would see it: three `kompetensbot serve`
processes on one PostgreSQL database send the June round of two cities in two
Teams tenants (Malmö and Lund, 150 HR recipients each) through a connector
stand-in in a process of its own that enforces Teams' limits: 50 requests a
second per app and tenant, 7 a second per conversation, 429 with Retry-After
beyond them (tests/http/harness.py: ThrottlingConnectorStub, `tenant_rate`).

1. At the default budget (KOMPETENSBOT_SEND_RATE: 30 a second per tenant,
   whatever the number of processes): no 429; everyone gets exactly one card;
   every send is recorded sent and none possibly repeated; each city is ticked
   once per tick period (its `ticked city` lines over the three processes'
   logs), not once per process.
2. One process SIGKILLed while a send of its is in flight (the stand-in
   carries the send out and holds back its answer): the other two go on and
   everyone gets a card; only the recipient of that send gets a second one,
   after the lease (shortened to 3 s), marked possibly repeated on the card
   and in round_sends (the killed process held that one claim only:
   KOMPETENSBOT_ROUND_IN_FLIGHT is 1); no 429; each city (the killed
   process's too) is still ticked once per period.

The three servers start once for the module, on a PostgreSQL database of its
own (advisory locks are per database: a schema would share them with other
tests), and open the June round by their own tick (KOMPETENSBOT_TODAY is its
first day); each test then adds its own 150 recipients per city (new HR role
holders in an open round are owed their card at the next tick) and watches
them served. At 30/s per tenant such a wave takes about 5 s, and each test
then watches 7 s of ticks; the module takes 50 to 65 s on this two-core
machine shared with other work, a third of it three servers starting.
PostgreSQL only (several servers
on one SQLite file is not a set-up we support): skipped without
KOMPETENSBOT_TEST_DATABASE_URL.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from bot.round_services import RoundServices
from storage.db import make_engine
from tests.conftest import PG_URL
from tests.http.bot_fleet import (
    CITIES,
    FleetServer,
    add_recipients,
    fresh_database,
    load_cities,
    owner_of_port,
    start_fleet,
    stop_fleet,
    tick_lines,
    wait_until_open,
    wait_until_sent,
)
from tests.http.connector_process import ConnectorProcess
from tests.integration.round_population import PERIOD, Population, conversation_name, recipient_name

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # three server processes: start early

N = 150  # recipients per city in each test
PROCESSES = 3
TENANT_LIMIT = 50  # Teams: requests a second per app and tenant
PER_CONVERSATION = 7  # Teams: requests a second per conversation
TICK = 2.0  # KOMPETENSBOT_TICK_SECONDS
QUIET = 3  # tick periods watched after a wave is sent: each city ticked QUIET ± 1 times
WATCHED = (QUIET + 0.5) * TICK  # (half a period more: a period is TICK plus the tick's own work)
LEASE = 3.0  # KOMPETENSBOT_ROUND_LEASE_SECONDS: short, for the kill
IN_FLIGHT = 1  # KOMPETENSBOT_ROUND_IN_FLIGHT (the default)
OPENS = date(2025, 6, 2)  # the June round's first day: the servers open it by themselves
ENV = {
    "KOMPETENSBOT_TODAY": OPENS.isoformat(),
    "KOMPETENSBOT_TICK_SECONDS": f"{TICK:g}",
    "KOMPETENSBOT_AUTO_ROUNDS": "1",
    "KOMPETENSBOT_ROUND_IN_FLIGHT": str(IN_FLIGHT),
    "KOMPETENSBOT_ROUND_LEASE_SECONDS": f"{LEASE:g}",
}  # and KOMPETENSBOT_SEND_RATE not set: the default budget


@dataclass
class Fleet:
    url: str
    stub: ConnectorProcess
    servers: list[FleetServer]

    def running(self) -> list[FleetServer]:
        """The servers, any one a test killed replaced first."""
        for i, server in enumerate(self.servers):
            if server.killed_at is not None:
                self.servers[i] = FleetServer(server.number, self.url, ENV).start()
        return self.servers


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    if not PG_URL:
        pytest.skip("PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL")
    with (
        ConnectorProcess(
            per_conversation_rate=PER_CONVERSATION, global_rate=None, tenant_rate=TENANT_LIMIT, retry_after=1
        ) as stub,
        fresh_database(PG_URL) as url,
    ):
        load_cities(url)
        servers = start_fleet(PROCESSES, url, ENV)
        try:
            wait_until_open(url, len(CITIES), servers)
            yield Fleet(url, stub, servers)
        finally:
            stop_fleet(servers)


# --- what the stand-in and the database saw -------------------------------------------------


@dataclass
class Wave:
    """One test's recipients, and what the stand-in saw from `started` on."""

    populations: dict[str, Population]
    started: float

    @property
    def recipients(self) -> list[str]:
        return [r for p in self.populations.values() for r in p.recipients]

    @property
    def conversations(self) -> set[str]:
        return {p.conversation(r) for p in self.populations.values() for r in p.recipients}

    def sends(self, fleet: Fleet) -> list[dict[str, Any]]:
        mine = self.conversations
        return [a for a in fleet.stub.call("send_log") if a["conversation_id"] in mine]

    def throttled(self, fleet: Fleet) -> list[tuple[float, str, str, str | None]]:
        return [t for t in fleet.stub.call("throttled_log") if t[0] >= self.started]

    def rows(self, fleet: Fleet) -> dict[str, Any]:
        """This wave's sends of the June round in both cities, by recipient."""
        engine = make_engine(fleet.url, pool_size=1)
        try:
            mine = set(self.recipients)
            return {
                s.recipient: s
                for slug, *_ in CITIES
                for s in RoundServices(engine, org=slug).sends(PERIOD)
                if s.recipient in mine
            }
        finally:
            engine.dispose()


def new_wave(fleet: Fleet, number: int) -> Wave:
    started = time.monotonic()
    return Wave(add_recipients(fleet.url, fleet.stub.url, N, wave=number), started)


CLAIMS_OF_TOKEN = text(
    "SELECT recipient FROM round_sends WHERE state = 'claimed' AND claim_token = "
    "(SELECT claim_token FROM round_sends WHERE recipient = :recipient AND state = 'claimed') "
    "ORDER BY recipient"
)


def claims_with_the_token_of(url: str, recipient: str) -> list[str]:
    """The recipients of the sends claimed under the same claim as `recipient`'s
    (one process's drain: storage.rounds.claim's token)."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(CLAIMS_OF_TOKEN, {"recipient": recipient}).all()]
    finally:
        engine.dispose()


def throttling_problems(throttled: list[tuple[float, str, str, str | None]]) -> list[str]:
    if not throttled:
        return []
    per_tenant = Counter(tenant for _t, _app, tenant, _c in throttled)
    return [f"{len(throttled)} requests answered 429 (per tenant: {dict(per_tenant)})"]


def delivery_problems(counts: Counter[str], wave: Wave, allowed_twice: set[str]) -> list[str]:
    problems = []
    missing = wave.conversations - set(counts)
    if missing:
        problems.append(f"{len(missing)} recipients got no card: {sorted(missing)[:5]}")
    twice = {c: n for c, n in counts.items() if n > 1 and not (c in allowed_twice and n == 2)}
    if twice:
        problems.append(f"{len(twice)} recipients got more than one card: {sorted(twice.items())[:5]}")
    return problems


def recorded_problems(rows: dict[str, Any], wave: Wave, repeated: list[str]) -> list[str]:
    problems = []
    if sorted(rows) != sorted(wave.recipients):
        problems.append(f"round_sends has {len(rows)} rows for the {len(wave.recipients)} recipients")
    not_sent = sorted((r, s.state) for r, s in rows.items() if s.state != "sent")
    if not_sent:
        problems.append(f"sends not recorded sent: {not_sent[:5]}")
    marked = sorted(r for r, s in rows.items() if s.possibly_repeated)
    if marked != repeated:
        problems.append(f"round_sends marks {marked[:5]} possibly repeated, expected {repeated}")
    return problems


def rate_summary(sends: list[dict[str, Any]]) -> str:
    """Sends a second per tenant over its own send window, for the failure message."""
    times: dict[str, list[float]] = defaultdict(list)
    for a in sends:
        times[a["tenant"]].append(a["time"])
    parts = []
    for tenant, ts in sorted(times.items()):
        span = max(ts) - min(ts)
        parts.append(f"{tenant}: {len(ts)} in {span:.1f} s = {(len(ts) - 1) / span if span else 0:.1f}/s")
    return "; ".join(parts)


def tick_problems(servers: list[FleetServer], since: float, quiet_from: float) -> list[str]:
    """Each city ticked once per period over all the servers' logs: QUIET ± 1
    times in the WATCHED seconds from `quiet_from`, and from `since` on never
    more than once per period."""
    lines = [line for line in tick_lines(servers) if line[0] >= since]
    quiet_to = quiet_from + WATCHED
    problems = []
    for slug, *_ in CITIES:
        times = [at for at, _server, city in lines if city == slug]
        quiet = [(at, n) for at, n, city in lines if city == slug and quiet_from < at <= quiet_to]
        if not QUIET - 1 <= len(quiet) <= QUIET + 1:
            problems.append(
                f"city {slug} was ticked {len(quiet)} times in the {WATCHED:g} s after the wave "
                f"(tick period {TICK:g} s: want {QUIET - 1} to {QUIET + 1}; "
                f"per server {dict(Counter(n for _at, n in quiet))})"
            )
        if len(times) >= 2 and len(times) > (times[-1] - times[0]) / TICK + 2:
            problems.append(
                f"city {slug} was ticked {len(times)} times in {times[-1] - times[0]:.1f} s "
                f"(more than once per {TICK:g} s period)"
            )
    return problems


# --- 1. the default budget ----------------------------------------------------------------------


def test_three_processes_keep_each_tenant_under_its_limit_send_each_card_once_and_tick_each_city_once(
    fleet: Fleet,
) -> None:
    servers = fleet.running()
    wave = new_wave(fleet, 1)
    done = wait_until_sent(fleet.url, wave.recipients, servers)
    time.sleep(WATCHED + 0.3)
    sends = wave.sends(fleet)
    problems = throttling_problems(wave.throttled(fleet))
    problems += delivery_problems(Counter(a["conversation_id"] for a in sends), wave, set())
    problems += recorded_problems(wave.rows(fleet), wave, [])
    problems += tick_problems(servers, wave.started, done)
    assert not problems, "\n".join(problems + [f"sent: {rate_summary(sends)}"])


# --- 2. one process killed mid-round ------------------------------------------------------------


def test_a_process_killed_mid_round_repeats_only_its_send_in_flight_marked_and_the_others_go_on(
    fleet: Fleet,
) -> None:
    servers = fleet.running()
    victim = recipient_name(2039)  # Malmö's 40th in wave 2 (add_recipients): some way into the wave
    victim_conversation = conversation_name(victim)
    # The stand-in carries the victim's card out, and holds back its answer.
    fleet.stub.call("answer_late_for", victim_conversation, 30.0)
    wave = new_wave(fleet, 2)
    assert victim in wave.recipients
    deadline = time.monotonic() + 60
    held: list[dict[str, Any]] = []
    while not held and time.monotonic() < deadline:
        held = [a for a in fleet.stub.call("send_log") if a["conversation_id"] == victim_conversation]
        time.sleep(0.02)
    assert held, "the victim's card never reached the stand-in"
    killed = owner_of_port(held[0]["peer"], servers)
    assert killed is not None, f"no server holds the connection from port {held[0]['peer']}"
    killed.kill()  # with the card carried out, before its answer: the send is in flight
    assert killed.killed_at is not None
    in_flight = claims_with_the_token_of(fleet.url, victim)  # the killed process's claims
    survivors = [s for s in servers if s is not killed]
    done = wait_until_sent(fleet.url, wave.recipients, survivors)
    time.sleep(WATCHED + 0.3)

    sends = wave.sends(fleet)
    problems = throttling_problems(wave.throttled(fleet))
    counts = Counter(a["conversation_id"] for a in sends)
    # At most the killed process's sends in flight (IN_FLIGHT) twice: here, the victim's.
    problems += delivery_problems(counts, wave, {victim_conversation})
    victim_cards = sorted(
        (a for a in sends if a["conversation_id"] == victim_conversation), key=lambda a: a["time"]
    )
    if len(victim_cards) != 2:
        problems.append(
            f"the send in flight at the kill reached its recipient {len(victim_cards)} times, not 2"
        )
    else:
        first, second = victim_cards
        if first["repeat_marked"] or not second["repeat_marked"]:
            problems.append(
                "the repeated card must say it may be a repeat and the first must not: "
                f"first {first['repeat_marked']}, second {second['repeat_marked']}"
            )
        if second["time"] - first["time"] < LEASE - 0.5:
            problems.append(
                f"the repeat came {second['time'] - first['time']:.1f} s after the first, "
                f"before the {LEASE:g} s lease ran out"
            )
    after_kill = [
        a for a in sends if a["time"] > killed.killed_at and a["conversation_id"] != victim_conversation
    ]
    if not after_kill:
        problems.append("nothing was sent after the kill: the other processes did not go on")
    if victim not in in_flight or len(in_flight) > IN_FLIGHT:
        problems.append(
            f"the killed process held the claims of {in_flight[:5]} "
            f"(KOMPETENSBOT_ROUND_IN_FLIGHT {IN_FLIGHT}, the victim {victim}): "
            "every claim it held waits for the lease"
        )
    # Every claim taken over after the lease is marked; only those.
    problems += recorded_problems(wave.rows(fleet), wave, in_flight)
    problems += tick_problems(survivors, killed.killed_at, done)
    assert not problems, "\n".join(
        problems
        + [
            f"killed server {killed.number}; sent: {rate_summary(sends)}; "
            f"{len(after_kill)} others after the kill"
        ]
    )
