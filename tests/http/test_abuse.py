"""Abuse and bad input over HTTP: /api/messages fuzzed, forged card submissions,
user text shown back safely, SQL metacharacters stored as text.

The fuzzing runs against the real aiohttp application in this process (fast);
a few checks run against a `kompetensbot serve` process."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from bot.services import Services
from core.model import Role
from dialogs import texts
from storage.db import make_engine
from tests.conftest import PG_URL
from tests.http.conftest import _prepare, pg_schema
from tests.http.faults import ledger_counts
from tests.http.harness import BotServer, ConnectorStub, activity
from tests.http.inprocess import InProcessBot

STUB = "http://stub.invalid/"  # replaced by the stand-in's address when posted


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bot(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[InProcessBot, ConnectorStub, Engine]]:
    """The application in this process (demo mode) on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('abuse') / 'bot.db'}"
        _prepare(url)
        yield from _serve(url)
        return
    if not PG_URL:
        pytest.skip("PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL")
    with pg_schema() as url:
        yield from _serve(url)


def _serve(url: str) -> Iterator[tuple[InProcessBot, ConnectorStub, Engine]]:
    stub = ConnectorStub().start()
    app = InProcessBot(url).start()
    engine = make_engine(url)
    try:
        yield app, stub, engine
    finally:
        app.stop()
        stub.stop()
        engine.dispose()


def _with_stub(value: Any, stub_url: str) -> Any:
    if value == STUB:
        return stub_url
    if isinstance(value, dict):
        return {k: _with_stub(v, stub_url) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_stub(v, stub_url) for v in value]
    return value


# --- strategies -----------------------------------------------------------------------

NASTY = [
    "\x00",
    "\ud800",
    "\udfff",
    "\u202e",
    "\x07",
    "\x1b[31m",
    "\r\n",
    "\ufeff",
    "**",
    "[x](http://e)",
    "'; DROP TABLE measures;--",
    "${x}",
    "{{DATE(x)}}",
    "<at>x</at>",
    "\\",
    "%s%n",
]
nasty_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(NASTY) | st.text(max_size=5), max_size=6).map("".join),
    st.sampled_from(["saldo GVN", "ny insats", "status Malmö Lär", "hjälp", "avbryt", "uppföljning", "ja"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | nasty_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nasty_text, inner, max_size=4),
    max_leaves=12,
)
TYPES = [
    "message",
    "conversationUpdate",
    "invoke",
    "event",
    "typing",
    "messageReaction",
    "installationUpdate",
    "endOfConversation",
    "messageUpdate",
    "messageDelete",
    "trace",
    "handoff",
    "command",
    "nonsense",
    "",
]
FIELDS = [
    "type",
    "id",
    "timestamp",
    "serviceUrl",
    "channelId",
    "from",
    "conversation",
    "recipient",
    "channelData",
    "locale",
    "text",
    "value",
    "attachments",
    "entities",
    "replyToId",
    "name",
    "membersAdded",
    "membersRemoved",
    "deliveryMode",
    "textFormat",
    "action",
]
LIKELY = ["FSKN", "GVN", "2025-12-31", "1 mkr", "-5 kr", "1", "Pågående", "ja"]
form_values = st.fixed_dictionaries(
    {"action": st.sampled_from(["submit_measure", "followup", "okänd", ""])},
    optional={
        key: json_values | st.sampled_from(LIKELY)
        for key in (
            "unit",
            "title",
            "description",
            "end_date",
            "amount",
            "measure_id",
            "period",
            "status",
            "spent",
            "forecast",
            "usable",
            "note",
            "once",
        )
    },
)


@st.composite
def activities(draw: st.DrawFn) -> dict[str, Any]:
    """A Teams activity with up to four of its fields removed or replaced by anything."""
    kind = draw(st.sampled_from(TYPES))
    body = activity(
        draw(nasty_text),
        service_url=STUB,
        conversation_id=f"fuzz-{uuid.uuid4().hex[:8]}",
        activity_type=kind,
        value=draw(st.none() | form_values | json_values),
        name=draw(st.sampled_from(["", "adaptiveCard/action", "task/fetch", "x"])),
        membersAdded=[{"id": "28:kompetensbot"}],
    )
    for key in draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True)):
        if draw(st.booleans()):
            body.pop(key, None)
        else:
            body[key] = draw(json_values)
    return body


bodies = st.one_of(
    activities(),
    activities(),
    json_values,
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


# --- the fuzz -------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=bodies)
def test_any_body_gets_a_4xx_or_a_polite_answer(bot, body: Any) -> None:
    app, stub, _engine = bot
    sent_before = len(stub.received)
    errors_before = len(app.errors.records)
    payload = body if isinstance(body, bytes) else _with_stub(body, stub.url)
    status, answer = app.post(payload)
    is_invoke = isinstance(payload, dict) and payload.get("type") == "invoke"
    # 501 is the protocol's answer to an invoke the bot does not implement (task/fetch, ...)
    assert status < 500 or (status == 501 and is_invoke), (status, answer)
    assert "Traceback" not in answer and 'File "' not in answer
    replies = [a.get("text") or "" for a in stub.received[sent_before:]]
    assert texts.INTERNAL_ERROR not in replies, payload
    assert not [r for r in replies if "Exception" in r or "Traceback" in r]
    assert app.errors.lines()[errors_before:] == []


def test_after_the_fuzz_the_server_is_healthy(bot) -> None:
    app, stub, _engine = bot
    status, health = app.get("/healthz")
    assert status == 200 and json.loads(health)["database"] == "ok"
    before = len(stub.received)
    assert app.post(activity("saldo GVN", service_url=stub.url, conversation_id="after-fuzz"))[0] == 202
    assert "9 500 000 kr" in " ".join(a.get("text") or "" for a in stub.received[before:])


def _minimal(**changes: Any) -> dict[str, Any]:
    """The smallest activity the bot answers, with `changes` (... removes a field)."""
    body: dict[str, object] = {
        "type": "message",
        "conversation": {"id": "c"},
        "channelId": "msteams",
        "serviceUrl": STUB,
        "from": {"id": "29:u"},
        "recipient": {"id": "28:bot"},
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),  # nested deeper than the parser's stack
        (b'{"type": "message", "text": "\xff\xfe"}', "invalid JSON"),
        (b"{" + b" " * (1024 * 1024) + b"}", None),  # 1 MB: over the 256 KB limit
        (_minimal(serviceUrl=...), "serviceUrl"),
        (_minimal(serviceUrl="ftp://x/"), "serviceUrl"),
        (_minimal(serviceUrl="abc"), "serviceUrl"),
        (_minimal(channelId=...), "channelId"),
        (_minimal(channelId=""), "not an activity"),  # the SDK raises TypeError, not a validation error
        (_minimal(**{"from": ...}), "from.id"),
        (_minimal(recipient={"name": "kompetensbot"}), "recipient.id"),
        (_minimal(timestamp="i går"), "not an activity"),
        (_minimal(type="pling"), "unknown activity type"),
        ({"type": "message"}, "conversation.id"),
    ],
)
def test_bad_bodies_are_refused_with_a_reason(bot, body: Any, reason: str | None) -> None:
    app, stub, _engine = bot
    status, answer = app.post(body if isinstance(body, bytes) else _with_stub(body, stub.url))
    if reason is None:
        assert status == 413
    else:
        assert status == 400 and reason in json.loads(answer)["error"], answer


def test_a_body_over_the_limit_without_a_length_is_refused(bot) -> None:
    app, _stub, _engine = bot
    assert app.post(b'{"text": "' + b"x" * (1024 * 1024) + b'"}', chunked=True)[0] == 413


@pytest.mark.parametrize(
    "text",
    [
        "x" * 200_000,
        "saldo GVN " + "\x07\x1b\u202e\ufeff" * 1000,
        "ny insats\x00",
        "hej \ud800 då",
        "\x00" * 10,
    ],
    ids=["200 kB", "control characters", "nul", "lone surrogate", "only nul"],
)
def test_long_and_strange_texts_get_a_polite_answer(bot, text: str) -> None:
    app, stub, engine = bot
    before, counts = len(stub.received), ledger_counts(engine)
    conversation = f"strange-{uuid.uuid4().hex[:8]}"
    status, _ = app.post(activity(text, service_url=stub.url, conversation_id=conversation))
    assert status == 202
    replies = [a.get("text") or "" for a in stub.received[before:]]
    assert replies and texts.INTERNAL_ERROR not in replies
    assert texts.TRY_AGAIN_LATER not in replies  # the database is fine; the input is odd
    assert ledger_counts(engine) == counts
    # the conversation still works afterwards ("ny insats\x00" did start a dialog)
    app.post(activity("avbryt", service_url=stub.url, conversation_id=conversation))
    answered = len(stub.received)
    app.post(activity("saldo GVN", service_url=stub.url, conversation_id=conversation))
    assert "9 500 000 kr" in " ".join(a.get("text") or "" for a in stub.received[answered:])


# --- a few checks against a real server process ------------------------------------------------


@pytest.mark.slow
def test_a_server_process_refuses_bad_requests_and_stays_healthy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    _prepare(url)
    stub = ConnectorStub().start()
    server = BotServer(url).start()
    try:
        assert server.post(b"[" * 100_000 + b"]" * 100_000)[0] == 400
        no_service_url = activity("saldo GVN", service_url=stub.url)
        del no_service_url["serviceUrl"]
        assert server.post(no_service_url)[0] == 400
        assert server.post(activity("saldo GVN", service_url="javascript:alert(1)"))[0] == 400
        assert server.post(activity(None, service_url=stub.url, value=["not", "a", "form"]))[0] == 202
        assert server.post(activity("saldo\x00 GVN", service_url=stub.url))[0] == 202
        assert server.get("/healthz")[0] == 200
        assert "9 500 000 kr" in " ".join(stub.texts("conv-1")[-1:])
        assert texts.INTERNAL_ERROR not in stub.texts()
        assert "Traceback" not in server.log.read_text()
    finally:
        server.stop()
        stub.stop()


# --- forged card submissions, SQL metacharacters, characters that cannot be stored -------


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def strict(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[InProcessBot, ConnectorStub, Engine]]:
    """The application with real roles (not demo mode): hanna is hr of FSKN, anna chef of GVN."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('strict') / 'bot.db'}"
        _prepare(url)
        yield from _strict(url)
        return
    if not PG_URL:
        pytest.skip("PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL")
    with pg_schema() as url:
        yield from _strict(url)


def _strict(url: str) -> Iterator[tuple[InProcessBot, ConnectorStub, Engine]]:
    engine = make_engine(url)
    services = Services(engine, org="malmo")
    services.grant_role(None, "hanna", Role.HR, "FSKN")
    services.grant_role(None, "anna", Role.CHEF, "GVN")
    stub = ConnectorStub().start()
    app = InProcessBot(url, demo=False).start()
    try:
        yield app, stub, engine
    finally:
        app.stop()
        stub.stop()
        engine.dispose()


def submit(app: InProcessBot, stub: ConnectorStub, user: str, value: Any) -> str:
    """A card submission from `user`; the text of the bot's answer."""
    conversation = f"{user}-{uuid.uuid4().hex[:6]}"
    body = activity(None, service_url=stub.url, user_id=user, conversation_id=conversation, value=value)
    before = len(stub.received)
    assert app.post(body)[0] == 202
    return "\n".join(a.get("text") or "" for a in stub.received[before:])


def submit_and_confirm(app: InProcessBot, stub: ConnectorStub, user: str, value: Any) -> str:
    """A measure form from `user` and their "ja" to its summary (a form is confirmed
    before it is saved: issue 17 item 1); the text of the answer to the "ja"."""
    conversation = f"{user}-{uuid.uuid4().hex[:6]}"
    form = activity(None, service_url=stub.url, user_id=user, conversation_id=conversation, value=value)
    assert app.post(form)[0] == 202
    yes = activity("ja", service_url=stub.url, user_id=user, conversation_id=conversation)
    before = len(stub.received)
    assert app.post(yes)[0] == 202
    return "\n".join(a.get("text") or "" for a in stub.received[before:])


def _measure(engine: Engine, title: str) -> int:
    return next(m.id for m in Services(engine, org="malmo").ledger().measures.values() if m.title == title)


MEASURE_FORM = {
    "action": "submit_measure",
    "unit": "FSKN",
    "title": "Forged",
    "end_date": "2025-12-31",
    "amount": "100 tkr",
    "decision": "FSKN 2025-02-05 § 5",
}
FOLLOWUP_FORM = {
    "action": "followup",
    "period": "2025-09",
    "status": "Pågående",
    "spent": "1 tkr",
    "forecast": "2 tkr",
    "usable": "ja",
    "note": "",
}


GVN_MEASURE, FSKN_MEASURE = "<Yrkeslärarsatsning>", "<Stärka formell kompetens>"  # ids looked up


def _followup(**fields: Any) -> dict[str, Any]:
    return {"action": "followup", "measure_id": GVN_MEASURE, **fields}


@pytest.mark.parametrize(
    ("user", "form", "reason"),
    [
        ("hanna", {"unit": "GVN"}, 'Du kan inte lämna in insatser för "GVN". Du kan lämna in för: FSKN.'),
        ("hanna", {"amount": "-100 tkr"}, "negativt"),
        ("hanna", {"amount": -5}, "negativt"),
        ("hanna", {"amount": 10**30}, "orimligt stort"),
        ("hanna", {"amount": 1e308}, "Belopp har fel format."),
        ("hanna", {"amount": "NaN"}, "NaN"),
        ("hanna", {"amount": ["100 tkr"]}, "Belopp har fel format."),
        ("hanna", {"title": {"text": "x"}}, "Insats har fel format."),
        ("hanna", {"unit": None, "title": None}, "Nämnd saknas."),
        ("hanna", {"end_date": "2025-02-30"}, "2025-02-30"),
        ("anna", {}, "inte behörighet att lämna in insatser"),
        ("nobody", {}, "Du har ingen behörighet i kompetensbot ännu"),
        ("anna", _followup(measure_id=FSKN_MEASURE), "finns inte bland de insatser du kan"),
        ("anna", _followup(measure_id=10**40), "finns inte bland de insatser du kan"),
        ("anna", _followup(status="Superklar"), "Superklar"),
        ("anna", _followup(spent="-1 kr"), "negativt"),
        ("anna", _followup(spent=10**20, forecast=10**20), "orimligt stort"),
        ("anna", _followup(forecast="0 kr"), "lägre än utfallet"),
        ("anna", _followup(usable="kanske"), '"ja" eller "nej"'),
        ("anna", _followup(period=202509), "Period har fel format."),
        ("hanna", {"action": "radera_allt"}, texts.UNKNOWN_FORM),
    ],
)
def test_a_forged_card_submission_is_refused_with_a_reason_and_writes_nothing(
    strict, user: str, form: dict[str, Any], reason: str
) -> None:
    app, stub, engine = strict
    value = {**(FOLLOWUP_FORM if form.get("action") == "followup" else MEASURE_FORM), **form}
    if value.get("measure_id") in (GVN_MEASURE, FSKN_MEASURE):
        value["measure_id"] = str(_measure(engine, value["measure_id"].strip("<>")))
    before = ledger_counts(engine)
    answer = submit(app, stub, user, value)
    assert reason in answer, answer
    assert not answer.startswith("Klart!")
    assert ledger_counts(engine) == before


def test_sql_metacharacters_and_unstorable_characters_are_stored_as_text(strict) -> None:
    app, stub, engine = strict
    title = "Robert'); DROP TABLE measures;-- 100% _x_ \\ \" ; /* */ $1 ?"
    description = "'; DELETE FROM ledger_entries WHERE '1'='1 \x00 med NUL \ud800 och ensam surrogat"
    entries, measures, followups = ledger_counts(engine)
    form = {**MEASURE_FORM, "title": title, "description": description}
    answer = submit_and_confirm(app, stub, "hanna", form)
    assert answer.startswith("Klart! Insatsen"), answer
    stored = Services(engine, org="malmo").ledger().measures[_measure(engine, title)]
    assert stored.title == title
    assert stored.description == "'; DELETE FROM ledger_entries WHERE '1'='1  med NUL  och ensam surrogat"
    assert ledger_counts(engine) == (entries + 1, measures + 1, followups)


def test_a_form_sent_twice_saves_once(strict) -> None:
    """Each form carries a one-time token: a double click, or the same card sent again,
    does not save twice (sent again after it was saved, it is not even summarised again)."""
    app, stub, engine = strict
    form = {**MEASURE_FORM, "title": "Dubbelklick", "amount": "10 tkr", "once": uuid.uuid4().hex}
    entries, measures, followups = ledger_counts(engine)
    assert submit_and_confirm(app, stub, "hanna", form).startswith("Klart!")
    assert submit(app, stub, "hanna", form).startswith("Det här är redan sparat")
    assert ledger_counts(engine) == (entries + 1, measures + 1, followups)
