"""The Adaptive Cards: schema 1.5 shapes, unique input ids, submit data, sizes; and
the dialog state's JSON codec."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from microsoft_agents.hosting.core import MessageFactory
from microsoft_agents.hosting.dialogs import DialogInstance, DialogState, PromptOptions

from bot.services import Services
from core.balances import fund_balance
from core.model import Status
from dialogs import cards, state_codec
from dialogs.prompts import question

ELEMENTS = {
    "TextBlock",
    "FactSet",
    "ColumnSet",
    "Container",
    "Input.Text",
    "Input.Date",
    "Input.ChoiceSet",
    "Input.Toggle",
    "Input.Number",
}
ACTIONS = {"Action.Submit"}


def check_card(card: dict[str, Any]) -> None:
    """Raise AssertionError unless `card` is a well-formed Adaptive Card 1.5 of known elements."""
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert len(json.dumps(card, ensure_ascii=False).encode()) < cards.MAX_CARD_BYTES
    ids: list[str] = []

    def element(e: dict[str, Any]) -> None:
        assert e["type"] in ELEMENTS, e["type"]
        if e["type"] == "TextBlock":
            assert isinstance(e["text"], str) and e["text"]
        elif e["type"] == "FactSet":
            assert all(isinstance(f["title"], str) and isinstance(f["value"], str) for f in e["facts"])
        elif e["type"] == "ColumnSet":
            for column in e["columns"]:
                assert column["type"] == "Column"
                for item in column["items"]:
                    element(item)
        elif e["type"] == "Container":
            for item in e["items"]:
                element(item)
        else:  # Input.*
            assert isinstance(e["id"], str) and e["id"]
            ids.append(e["id"])
            assert isinstance(e.get("label", ""), str)
            if e["type"] == "Input.ChoiceSet":
                assert e["choices"], "a choice set needs choices"
                assert all(isinstance(c["title"], str) and isinstance(c["value"], str) for c in e["choices"])

    for e in card["body"]:
        element(e)
    for action in card.get("actions", []):
        assert action["type"] in ACTIONS
        assert isinstance(action["title"], str)
        assert isinstance(action["data"], dict) and isinstance(action["data"].get("action"), str)
        assert not set(action["data"]) & set(ids), "submit data must not shadow input ids"
    assert len(ids) == len(set(ids)), f"duplicate input ids: {ids}"


@pytest.fixture
def ledger(example_engine):
    return Services(example_engine, org="malmo").ledger()


def test_funds_card(ledger) -> None:
    fund = fund_balance(ledger, 2025)
    card = cards.funds_card(
        fund, title="Kompetensmedel 2025", sources=["Tilldelat: KS 2025-03-05"], whole_fund=True
    )
    check_card(card)
    text = json.dumps(card, ensure_ascii=False)
    assert "Förskolenämnden (FSKN)" in text and "78 000 000 kr" in text


def test_measure_card() -> None:
    card = cards.measure_card(
        title="Malmö Lär – gemensam samordningsresurs",
        measure_id=47,
        units=("SBN", "TN", "MN"),
        status=Status.ONGOING,
        overdue=True,
        end=date(2025, 12, 31),
        allocated=700_000,
        spent=100_000,
        forecast=700_000,
        funding_refs=["Nämnd 2025-01-29 § 10"],
        shares=[("SBN", 300_000), ("TN", 200_000)],
        followup_text="Senaste uppföljning …",
    )
    check_card(card)


def test_forms(ledger) -> None:
    units = [(code, u.name) for code, u in sorted(ledger.units.items())]
    check_card(cards.submit_measure_form(units, default_unit="GVN"))
    measures = [(m.id, f"{m.title} ({', '.join(m.units)})") for m in ledger.measures.values()]
    check_card(cards.followup_form(measures, period="2025-06", measure_id=12))


def test_summaries_and_receipts() -> None:
    check_card(
        cards.measure_summary(
            heading="Ny insats",
            unit="FSKN",
            title="Mentorskap",
            description="",
            end=date(2025, 12, 31),
            amount=1_000_000,
            measure_id=56,
            decision="Nämnd 2025-10-01",
        )
    )
    check_card(
        cards.followup_summary(
            heading="Uppföljning",
            title="Mentorskap",
            period="2025-06",
            status="Pågående",
            spent=0,
            forecast=10,
            usable=False,
            note="",
            seq=3,
            author="Rapporterad av Anna.",
        )
    )


def test_a_card_too_large_is_refused() -> None:
    with pytest.raises(ValueError, match="too large"):
        cards.card([{"type": "TextBlock", "text": "x" * 70_000}])


def test_every_card_the_chat_sends_is_well_formed(chat_as) -> None:
    from core.model import Role

    chat = chat_as("sara", Role.CITY_OFFICE)
    sent = []
    for message in (
        "kvar 2025",
        "saldo GVN",
        "status Yrkeslärarsatsning",
        "ny insats",
        "avbryt",
        "jag vill lämna en uppföljning",
    ):
        sent += chat.say(message)
    shown = [c for reply in sent for c in reply.cards]
    assert len(shown) >= 5
    for card in shown:
        check_card(card)
    for reply in sent:
        for attachment in reply.activity.attachments or []:
            assert attachment.content_type == "application/vnd.microsoft.card.adaptive"


# --- dialog state as JSON -----------------------------------------------------------------


def test_dialog_state_round_trips_through_json() -> None:
    options = PromptOptions(
        prompt=question("Vilken nämnd?", ["GVN", "FSKN"]),
        retry_prompt=MessageFactory.text("Igen?"),
        validations={"choices": [{"key": "GVN", "label": "GVN", "names": []}], "allow_none": False},
    )
    state = DialogState(
        [
            DialogInstance("TextPrompt", {"options": options, "state": {"AttemptCount": 1}}),
            DialogInstance(
                "WaterfallDialog",
                {
                    "options": {"year": 2025},
                    "values": {"unit": "GVN", "n": 1},
                    "instanceId": "x",
                    "stepIndex": 2,
                },
            ),
        ]
    )
    data = json.loads(json.dumps(state_codec.dump({"DialogState": state})))
    back = state_codec.load(data)["DialogState"]
    assert isinstance(back, DialogState)
    prompt_state = back.dialog_stack[0].state
    assert isinstance(prompt_state["options"], PromptOptions)
    prompt = prompt_state["options"].prompt
    assert prompt is not None
    assert prompt.text == "Vilken nämnd?"
    assert [a.value for a in prompt.suggested_actions.actions] == ["GVN", "FSKN"]
    assert prompt_state["options"].validations == options.validations
    assert back.dialog_stack[1].state["values"] == {"unit": "GVN", "n": 1}


@pytest.mark.parametrize("value", [date(2025, 1, 1), {1: "a"}, object(), {"x": {state_codec.TAG: "y"}}])
def test_values_that_are_not_json_are_refused(value) -> None:
    with pytest.raises(TypeError):
        state_codec.dump({"values": value})


def test_every_text_is_one_the_bot_says() -> None:
    """Review finding 12: texts only tests called (source_allocated, source_fund,
    source_reallocation) were kept up to date for nobody; every text in dialogs/texts.py
    is used by the bot (bot/, dialogs/), and the card's "ej beslutat" is one of them."""
    import inspect
    import re
    from pathlib import Path

    from dialogs import texts

    root = Path(texts.__file__).resolve().parent.parent
    files = [p for d in ("bot", "dialogs") for p in (root / d).glob("*.py")]
    code = "\n".join(p.read_text(encoding="utf-8") for p in files)
    own = Path(texts.__file__).read_text(encoding="utf-8")
    names = [
        name
        for name, value in vars(texts).items()
        if not name.startswith("_")
        and (name.isupper() or (inspect.isfunction(value) and value.__module__ == texts.__name__))
    ]
    unused = [
        name
        for name in names
        if not re.search(rf"\btexts\.{name}\b", code) and len(re.findall(rf"\b{name}\b", own)) < 2
    ]
    assert unused == []
    assert '"ej beslutat"' not in (root / "dialogs" / "cards.py").read_text(encoding="utf-8")
