"""The proactive sender (bot/proactive.py) against a local stand-in for the
Teams connector service that enforces rate limits with 429 + Retry-After and
answers some sends with 503 (tests/http/harness.py: ThrottlingConnectorStub).

The references are made exactly the way the bot stores them (from an
incoming Teams activity), and the sends go through the project's own
CloudAdapter (bot.adapter.create_adapter). Retry-After and backoff are
checked with an injected clock and sleep, so nothing really waits long; the
rate limits are checked on the real event loop against the real aiohttp
stand-in, and deterministically in virtual time."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from collections import Counter
from typing import Any

import aiohttp
import pytest
from microsoft_agents.activity import Activity, ConversationReference, ResourceResponse
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    ClaimsIdentity,
    ConnectionManager,
)

from bot.adapter import create_adapter
from bot.config import Settings
from bot.outbound import OutboundPolicy
from bot.proactive import Sender
from bot.throttle import TokenBucket, parse_retry_after
from dialogs import texts
from tests.http.harness import ThrottlingConnectorStub, activity, free_port

TENANT = "tenant-malmo"


# -- helpers ------------------------------------------------------------------


def stored_reference(service_url: str, conversation_id: str, user_id: str = "aad-user-1") -> dict[str, Any]:
    """A conversation reference as KompetensBot stores it from an incoming activity."""
    incoming = Activity.model_validate(
        activity(
            "hej", service_url=service_url, conversation_id=conversation_id, user_id=user_id, tenant_id=TENANT
        )
    )
    return incoming.get_conversation_reference().model_dump(mode="json", by_alias=True, exclude_none=True)


def anonymous_adapter() -> CloudAdapter:
    adapter, _auth = create_adapter(Settings(database_url="sqlite://"), storage=None)
    return adapter


class FakeClock:
    """A clock whose sleep returns at once and moves the time on; for one
    request at a time (the Retry-After and backoff tests)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


class VirtualTime:
    """Virtual time for many concurrent tasks: sleepers wake in time order,
    and the time moves on only when every task is waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._seq), future))
        await future

    async def run(self, coroutine: Any) -> Any:
        task = asyncio.ensure_future(coroutine)
        while not task.done():
            for _ in range(100):  # let every runnable task run until it waits
                await asyncio.sleep(0)
            if task.done() or not self._sleepers:
                continue
            wake, _seq, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake)
            future.set_result(None)
        return task.result()


class RecordingAdapter:
    """Stands in for the CloudAdapter in virtual time: records when each
    activity would have gone out, on the virtual clock."""

    def __init__(self, clock: VirtualTime) -> None:
        self.clock = clock
        self.sent: list[tuple[float, str, str]] = []

    async def continue_conversation_with_claims(
        self, _claims: Any, continuation: Activity, callback: Any
    ) -> None:
        await callback(_RecordingContext(self, continuation))

    async def continue_conversation(self, _app_id: str, continuation: Activity, callback: Any) -> None:
        await callback(_RecordingContext(self, continuation))


class _RecordingContext:
    def __init__(self, adapter: RecordingAdapter, continuation: Activity) -> None:
        self.adapter = adapter
        self.activity = continuation

    async def send_activity(self, outgoing: Activity) -> ResourceResponse:
        self.adapter.sent.append((self.adapter.clock(), self.activity.conversation.id, outgoing.text or ""))
        return ResourceResponse(id=f"v-{len(self.adapter.sent)}")


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most times in any half-open window (virtual times are sums of
    float intervals, so a nanosecond of rounding is forgiven)."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window + 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


async def send_all(sender: Sender, jobs: list[tuple[dict[str, Any], str]]) -> list[Any]:
    return await asyncio.gather(*(sender.send(ref, text) for ref, text in jobs))


def texts_at(stub: ThrottlingConnectorStub) -> Counter[str]:
    return Counter(a["activity"].get("text") for a in stub.sends())


# -- sending, updating, creating -----------------------------------------------


def test_a_send_through_a_stored_reference_is_a_new_message_and_its_card_can_be_updated():
    with ThrottlingConnectorStub() as stub:
        reference = stored_reference(stub.url, "a:conv-anna")
        sender = Sender(anonymous_adapter(), None)

        async def scenario():
            sent = await sender.send(reference, "Dags för junuppföljningen")
            assert sent.activity_id is not None
            updated = await sender.update(
                reference, sent.activity_id, {"type": "message", "text": "Besvarad"}
            )
            return sent, updated

        sent, updated = asyncio.run(scenario())

    assert sent.ok and sent.attempts == 1 and not sent.permanent, sent
    [posted] = stub.sends()
    assert sent.activity_id == posted["activity_id"]
    assert posted["path"] == "/v3/conversations/a:conv-anna/activities"  # a new message, not a reply
    assert posted["activity"]["text"] == "Dags för junuppföljningen"
    assert posted["activity"]["recipient"]["aadObjectId"] == "aad-user-1"
    assert posted["activity"]["from"]["id"] == "28:kompetensbot"
    assert posted["authorization"] is None  # anonymous: no token
    assert updated.ok and updated.activity_id == sent.activity_id
    [put] = stub.updates()
    assert put["path"] == f"/v3/conversations/a:conv-anna/activities/{sent.activity_id}"
    assert put["activity"]["text"] == "Besvarad"


class FixedTokenProvider(AnonymousTokenProvider):
    def __init__(self) -> None:
        self.audiences: list[str] = []

    async def get_access_token(
        self, resource_url: str, scopes: list[str], force_refresh: bool = False
    ) -> str:
        self.audiences.append(resource_url)
        return "test-token"


def test_with_a_client_id_every_request_carries_the_bots_token():
    provider = FixedTokenProvider()
    manager = ConnectionManager(
        provider_factory=lambda _config: provider,
        connections_configurations={"SERVICE_CONNECTION": AgentAuthConfiguration(client_id="app-123")},
    )
    adapter = CloudAdapter(connection_manager=manager)
    with ThrottlingConnectorStub() as stub:
        # With a client id only listed origins are sent to (bot.outbound): the stand-in is listed.
        sender = Sender(adapter, "app-123", outbound=OutboundPolicy.of(stub.url, anonymous=False))

        async def scenario():
            sent = await sender.send(stored_reference(stub.url, "a:conv-anna"), "hej")
            created = await sender.create_conversation(stub.url, TENANT, "29:bertil")
            again = await sender.send(created, "hej Bertil") if created else None
            return sent, created, again

        sent, created, again = asyncio.run(scenario())

    assert sent.ok and again is not None and again.ok, (sent, again)
    assert created is not None and created["bot"] == {"id": "28:app-123"}
    assert [a["authorization"] for a in stub.accepted] == ["Bearer test-token"] * 3
    assert "https://api.botframework.com" in provider.audiences
    create_body = next(a["activity"] for a in stub.accepted if a["path"] == "/v3/conversations")
    assert create_body["bot"] == {"id": "28:app-123"} and create_body["tenantId"] == TENANT


def test_create_conversation_returns_a_usable_reference_or_none_with_the_reason():
    with ThrottlingConnectorStub(create_statuses={"29:cecilia": 403}) as stub:
        sender = Sender(anonymous_adapter(), None)

        async def scenario():
            created = await sender.create_conversation(stub.url, TENANT, "29:bertil", user_name="Bertil")
            sent = await sender.send(created, "Välkommen") if created else None
            refused = await sender.create_conversation_result(stub.url, TENANT, "29:cecilia")
            missing = await sender.create_conversation(stub.url, TENANT, "29:cecilia")
            return created, sent, refused, missing

        created, sent, refused, missing = asyncio.run(scenario())

    assert created == {
        "user": {"id": "29:bertil", "name": "Bertil"},
        "conversation": {"conversationType": "personal", "id": "a:29:bertil", "tenantId": TENANT},
        "channelId": "msteams",
        "locale": "sv-SE",
        "serviceUrl": stub.url,
    }
    assert sent is not None and sent.ok
    assert [a["activity"]["text"] for a in stub.sends("a:29:bertil")] == ["Välkommen"]
    assert not refused.ok and refused.permanent and refused.attempts == 1 and refused.status == 403
    assert missing is None
    assert "403" in sender.unreachable[(TENANT, "29:cecilia")]


# -- failures that are not retried ------------------------------------------------


def test_403_and_404_are_permanent_not_retried_and_never_reach_the_user_as_an_error():
    with ThrottlingConnectorStub(statuses={"a:blocked": 403, "a:gone": 404}) as stub:
        sender = Sender(anonymous_adapter(), None)

        async def scenario():
            return await asyncio.gather(
                sender.send(stored_reference(stub.url, "a:blocked"), "hej"),
                sender.send(stored_reference(stub.url, "a:gone"), "hej"),
                sender.update(stored_reference(stub.url, "a:gone"), "act-1", "Besvarad"),
            )

        blocked, gone, not_updated = asyncio.run(scenario())

    assert (blocked.ok, blocked.permanent, blocked.status, blocked.attempts) == (False, True, 403, 1)
    assert "blocked" in blocked.reason
    assert (gone.ok, gone.permanent, gone.status, gone.attempts) == (False, True, 404, 1)
    assert "no longer exists" in gone.reason
    assert not_updated.permanent and not_updated.attempts == 1
    assert "Traceback" not in blocked.reason + gone.reason
    answered = Counter(path for _t, _m, path, _s in stub.answers)
    assert answered["/v3/conversations/a:blocked/activities"] == 1
    assert answered["/v3/conversations/a:gone/activities"] == 1
    assert stub.accepted == []  # in particular no "something went wrong" message from on_turn_error


def test_without_the_senders_guard_the_sdk_would_tell_the_user_about_a_failed_send():
    """Why Sender catches errors inside the turn: an exception in a proactive
    callback goes to the adapter's on_turn_error, which sends the user an
    error message, and continue_conversation returns as if all went well."""
    with ThrottlingConnectorStub(script={"a:conv": [(429, {"Retry-After": "1"})]}) as stub:
        adapter = anonymous_adapter()
        reference = stored_reference(stub.url, "a:conv")

        async def naive(context: Any) -> None:
            await context.send_activity("Dags för junuppföljningen")

        continuation = ConversationReference.model_validate(reference).get_continuation_activity()
        continuation.id = None
        asyncio.run(adapter.continue_conversation_with_claims(ClaimsIdentity({}), continuation, naive))

    assert [a["activity"]["text"] for a in stub.sends()] == [texts.INTERNAL_ERROR]


def test_a_broken_reference_or_an_unreachable_service_is_a_result_not_an_exception():
    clock = FakeClock()
    sender = Sender(anonymous_adapter(), None, max_attempts=3, clock=clock, sleep=clock.sleep)
    closed = f"http://127.0.0.1:{free_port()}/"

    async def scenario():
        return (
            await sender.send({"conversation": {"id": "x"}}, "hej"),
            await sender.send(stored_reference(closed, "a:conv"), "hej"),
        )

    broken, unreachable = asyncio.run(scenario())
    assert not broken.ok and broken.permanent and broken.attempts == 0
    assert not unreachable.ok and not unreachable.permanent
    assert unreachable.history == ("connect", "connect", "connect")
    assert "gave up after 3 attempts" in unreachable.reason


# -- retries ------------------------------------------------------------------------


def test_retry_after_in_seconds_is_honoured():
    script = {"a:conv": [(429, {"Retry-After": "7"}), (429, {"Retry-After": "3"})]}
    with ThrottlingConnectorStub(script=script) as stub:
        clock = FakeClock()
        sender = Sender(anonymous_adapter(), None, clock=clock, sleep=clock.sleep, rng=random.Random(1))
        started = time.monotonic()
        result = asyncio.run(sender.send(stored_reference(stub.url, "a:conv"), "hej"))
        elapsed = time.monotonic() - started

    assert result.ok and result.history == ("429", "429", "ok") and result.attempts == 3
    waits = [s for s in clock.sleeps if s > 0]
    assert 7 <= waits[0] <= 7.7 and 3 <= waits[1] <= 3.3, clock.sleeps
    assert elapsed < 5  # the ten seconds were virtual
    assert texts_at(stub) == {"hej": 1}


def test_retry_after_as_an_http_date_is_honoured():
    script = {"a:conv": [(503, {"Retry-After": "Wed, 10 Jun 2026 08:00:42 GMT"})]}
    wall = 1_781_078_400.0  # 2026-06-10 08:00:00 UTC
    with ThrottlingConnectorStub(script=script) as stub:
        clock = FakeClock()
        sender = Sender(anonymous_adapter(), None, clock=clock, sleep=clock.sleep, wall_clock=lambda: wall)
        result = asyncio.run(sender.send(stored_reference(stub.url, "a:conv"), "hej"))

    assert result.ok and result.history == ("503", "ok")
    assert 42 <= clock.sleeps[0] <= 43, clock.sleeps
    assert parse_retry_after("Wed, 10 Jun 2026 07:59:00 GMT", now_wall=wall) == 0.0
    assert parse_retry_after("1.5", now_wall=wall) == 1.5
    assert parse_retry_after("soon", now_wall=wall) is None


def test_412_502_503_504_are_retried_with_exponential_backoff_and_jitter():
    script: dict[str, list[tuple[int, dict[str, str]]]] = {
        "a:conv": [(503, {}), (502, {}), (504, {}), (412, {})]
    }
    with ThrottlingConnectorStub(script=script) as stub:
        clock = FakeClock()
        sender = Sender(anonymous_adapter(), None, base_delay=0.5, clock=clock, sleep=clock.sleep)
        result = asyncio.run(sender.send(stored_reference(stub.url, "a:conv"), "hej"))

    assert result.ok and result.history == ("503", "502", "504", "412", "ok")
    assert result.maybe_duplicate  # a 502 or 504 may come after the message went through
    waits = [s for s in clock.sleeps if s > 0]
    for number, wait in enumerate(waits, start=1):
        ceiling = 0.5 * 2 ** (number - 1)
        assert ceiling / 2 <= wait <= ceiling, (number, waits)
    assert texts_at(stub) == {"hej": 1}


def test_it_gives_up_after_max_attempts_and_on_an_unreasonable_retry_after():
    script: dict[str, list[tuple[int, dict[str, str]]]] = {
        "a:busy": [(503, {})] * 5,
        "a:later": [(429, {"Retry-After": "3600"})],
    }
    with ThrottlingConnectorStub(script=script) as stub:
        clock = FakeClock()
        sender = Sender(anonymous_adapter(), None, max_attempts=3, clock=clock, sleep=clock.sleep)

        async def scenario():
            return (
                await sender.send(stored_reference(stub.url, "a:busy"), "hej"),
                await sender.send(stored_reference(stub.url, "a:later"), "hej"),
            )

        busy, later = asyncio.run(scenario())

    assert (busy.ok, busy.permanent, busy.attempts, busy.status) == (False, False, 3, 503)
    assert "gave up after 3 attempts" in busy.reason
    assert (later.ok, later.permanent, later.attempts, later.status) == (False, False, 1, 429)
    assert "Retry-After 3600" in later.reason
    assert stub.sends() == []


def test_a_timeout_is_retried_and_flagged_as_a_possible_duplicate():
    """The first answer comes too late, but the message was accepted: the
    retry delivers it again. Teams gives a send no idempotency key, so this
    window can only be reported, never closed."""
    with ThrottlingConnectorStub(script={"a:conv": [("hang", 0.6)]}) as stub:
        sender = Sender(anonymous_adapter(), None, attempt_timeout=0.2, base_delay=0.01)

        async def scenario():
            result = await sender.send(stored_reference(stub.url, "a:conv"), "hej")
            await asyncio.sleep(0.6)  # until the late request has been recorded
            return result

        result = asyncio.run(scenario())

    assert result.ok and result.history == ("timeout", "ok") and result.maybe_duplicate
    assert texts_at(stub) == {"hej": 2}


# -- throttling ---------------------------------------------------------------------


def test_token_bucket_spaces_requests_and_allows_a_configured_burst():
    clock = FakeClock(0.0)
    smooth = TokenBucket(10, clock=clock)
    assert [smooth.reserve() for _ in range(3)] == pytest.approx([0.0, 0.1, 0.2])
    bursty = TokenBucket(10, burst=3, clock=clock)
    assert [bursty.reserve() for _ in range(5)] == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2])


def test_in_virtual_time_200_sends_keep_both_limits_and_reach_the_global_rate():
    """One conversation with 20 messages and 180 with one each, started all
    at once: no one-second window holds more than 30 sends, or more than 7
    in one conversation, and the round runs at the global rate (the busy
    conversation's messages are not starved behind the others)."""
    clock = VirtualTime()
    adapter = RecordingAdapter(clock)
    url = "https://smba.example/teams/"
    listed = OutboundPolicy.of("https://smba.example", anonymous=False)
    sender = Sender(adapter, None, clock=clock, sleep=clock.sleep, outbound=listed)
    jobs = [(stored_reference(url, "a:busy"), f"busy-{i}") for i in range(20)]
    jobs += [(stored_reference(url, f"a:c{i}"), f"single-{i}") for i in range(180)]
    random.Random(5).shuffle(jobs)

    results = asyncio.run(clock.run(send_all(sender, jobs)))

    assert all(r.ok and r.attempts == 1 for r in results)
    times = [t for t, _c, _x in adapter.sent]
    busy = [t for t, c, _x in adapter.sent if c == "a:busy"]
    assert Counter(x for _t, _c, x in adapter.sent) == Counter(text for _r, text in jobs)
    assert max_in_window(times) <= 30
    assert max_in_window(busy) <= 7
    rate = (len(times) - 1) / (max(times) - min(times))
    print(f"\nvirtual time: {len(times)} sends at {rate:.1f}/s of 30/s allowed ({rate / 30:.0%})")  # noqa: T201
    assert rate >= 0.9 * 30


def test_on_the_real_loop_the_limits_hold_against_the_stand_in():
    """Small rates, real time: the stand-in only measures here, and no
    one-second window holds more than the limits. One conversation gets 12
    messages, six others 3 each."""
    with ThrottlingConnectorStub(per_conversation_rate=None, global_rate=None) as stub:
        sender = Sender(anonymous_adapter(), None, global_rate=10, per_conversation_rate=4)
        jobs = [(stored_reference(stub.url, "a:busy"), f"busy-{i}") for i in range(12)]
        jobs += [(stored_reference(stub.url, f"a:c{i % 6}"), f"other-{i}") for i in range(18)]
        started = time.monotonic()
        results = asyncio.run(send_all(sender, jobs))
        elapsed = time.monotonic() - started

    assert all(r.ok for r in results)
    assert texts_at(stub) == Counter(text for _r, text in jobs)
    assert stub.max_in_window() <= 10
    assert stub.max_in_window("a:busy") <= 4
    assert elapsed >= (len(jobs) - 1) / 10 * 0.95  # it did wait for the global bucket


def test_every_message_is_delivered_exactly_once_despite_429_and_503():
    """The sender runs faster than the stand-in allows (it was configured
    for more than the channel grants): the stand-in answers 429 with a
    Retry-After, and every fifth request that gets through answers 503."""
    with ThrottlingConnectorStub(
        per_conversation_rate=3, global_rate=15, retry_after=0.3, fail_every=5
    ) as stub:
        sender = Sender(
            anonymous_adapter(),
            None,
            global_rate=25,
            per_conversation_rate=6,
            max_attempts=30,
            base_delay=0.05,
        )
        jobs = [(stored_reference(stub.url, f"a:c{i % 6}"), f"msg-{i}") for i in range(60)]
        results = asyncio.run(send_all(sender, jobs))

    statuses = stub.status_counts()
    assert statuses.get(429, 0) > 0 and statuses.get(503, 0) > 0, statuses
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    assert texts_at(stub) == Counter(text for _r, text in jobs)  # each exactly once
    assert sum(r.attempts for r in results) == len(stub.answers)
    assert not any(r.maybe_duplicate for r in results)
    ids = [r.activity_id for r in results]
    assert len(set(ids)) == len(ids) and set(ids) == {a["activity_id"] for a in stub.sends()}


def test_achieved_rate_for_200_sends_against_the_enforcing_stand_in():
    """200 follow-up cards (25 conversations with 8 each) with the default
    limits against a stand-in that enforces Teams-like limits (7/s per
    conversation, 30/s overall) and answers every 20th request with 503."""
    with ThrottlingConnectorStub(
        per_conversation_rate=7, global_rate=30, retry_after=1, fail_every=20
    ) as stub:
        sender = Sender(anonymous_adapter(), None)  # the defaults: 30/s, 7/s per conversation
        jobs = [(stored_reference(stub.url, f"a:c{i % 25}"), f"card-{i}") for i in range(200)]
        started = time.monotonic()
        results = asyncio.run(send_all(sender, jobs))
        elapsed = time.monotonic() - started

    assert all(r.ok for r in results), [r for r in results if not r.ok]
    assert texts_at(stub) == Counter(text for _r, text in jobs)
    accepted = [a["time"] for a in stub.sends()]
    rate = len(accepted) / elapsed
    statuses = stub.status_counts()
    print(  # noqa: T201
        f"\n200 sends in {elapsed:.2f} s: {rate:.1f}/s of 30/s allowed ({rate / 30:.0%});"
        f" answers {dict(sorted(statuses.items()))}; {len(stub.peers)} TCP connections for"
        f" {len(stub.answers)} requests"
    )
    assert rate >= 0.5 * 30  # generous: timing on a shared machine varies
    # The SDK opens a new connection per request; the stub counts distinct (address,
    # port) pairs, and the system may hand a closed connection's port out again.
    assert len(stub.peers) >= 0.9 * len(stub.answers)


def test_the_connector_client_error_carries_status_and_headers():
    """What the sender relies on in the SDK: a non-2xx answer surfaces as
    aiohttp.ClientResponseError with the status and the Retry-After header."""
    from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

    with ThrottlingConnectorStub(script={"a:conv": [(429, {"Retry-After": "2"})]}) as stub:

        async def scenario():
            client = TeamsConnectorClient(endpoint=stub.url, token="")
            try:
                await client.conversations.send_to_conversation("a:conv", Activity(type="message", text="x"))
            finally:
                await client.close()

        with pytest.raises(aiohttp.ClientResponseError) as raised:
            asyncio.run(scenario())

    headers = raised.value.headers
    assert raised.value.status == 429 and headers is not None and headers["Retry-After"] == "2"
    assert len(stub.answers) == 1  # no retry of its own


def test_anonymously_the_sdks_continue_conversation_needs_empty_claims():
    """Why the anonymous Sender calls continue_conversation_with_claims:
    continue_conversation always puts the app id into the claims (even an
    empty one), which makes the SDK ask the connection manager for a
    user-token client token, and the anonymous provider has none."""
    with ThrottlingConnectorStub() as stub:
        adapter = anonymous_adapter()
        continuation = ConversationReference.model_validate(
            stored_reference(stub.url, "a:conv")
        ).get_continuation_activity()

        async def callback(context: Any) -> None:
            await context.send_activity("hej")

        with pytest.raises(ValueError, match="Failed to obtain token"):
            asyncio.run(adapter.continue_conversation("", continuation, callback))
        assert stub.answers == []
