"""The small parsers behind the prompts: choices, yes/no, statuses, zero amounts, years."""

from __future__ import annotations

from datetime import date

import pytest

from core import forms
from core.errors import InputError
from core.model import Status
from core.rules.years import default_year
from dialogs import texts
from dialogs.followup_dialog import default_period
from dialogs.prompts import choice, match_choice, parse_yes_no

CHOICES = [
    choice("FSKN", "Förskolenämnden (FSKN)", ["FSKN", "Förskolenämnden", "förskolan"]),
    choice("GSN", "Grundskolenämnden (GSN)", ["GSN", "Grundskolenämnden", "grundskolan"]),
    choice("GVN", "Gymnasie- och vuxenutbildningsnämnden (GVN)", ["GVN", "komvux"]),
]


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("1", 0),
        (" 3 ", 2),
        ("Förskolenämnden (FSKN)", 0),
        ("förskolan", 0),
        ("gsn", 1),
        ("Grundskolenämden", 1),  # a typing error
        ("komvux", 2),
        ("4", None),
        ("0", None),
        ("nämnden", None),  # equally close to several: unclear
        ("", None),
    ],
)
def test_match_choice(text: str, index: int | None) -> None:
    assert match_choice(text, CHOICES) == index


LONG_TITLES = [
    choice("12", "Yrkeslärarsatsning (GVN)", ["Yrkeslärarsatsning"]),
    choice(
        "14",
        "Del 2. Nyanställning av vikarier ... (GVN)",
        [
            "Del 2. Nyanställning av vikarier i form av obehöriga yrkeslärare med gedigen yrkeserfarenhet "
            "som vill studera till yrkeslärare parallellt med sin anställning"
        ],
    ),
    choice("23", "Del 2. Handledning för chefer (GVN)", ["Del 2. Handledning för chefer"]),
]


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("yrkeslärarsatsnig", 0),  # a typing error
        ("handledning chefer", 2),  # words left out
        ("nyanställning av vikarier", 1),  # the beginning of a long title
        ("jag vill lämna en uppföljning", None),  # a sentence sharing two words with a long title
        ("hur mycket finns kvar för GVN?", None),
    ],
)
def test_a_sentence_is_not_taken_for_a_long_title(text: str, index: int | None) -> None:
    assert match_choice(text, LONG_TITLES) == index


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("ja", True),
        ("Ja!", True),
        ("j", True),
        ("yes", True),
        ("nej", False),
        ("N", False),
        ("no", False),
        ("kanske", None),
        ("", None),
    ],
)
def test_yes_no(text: str, answer: bool | None) -> None:
    assert parse_yes_no(text) is answer


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("2", Status.ONGOING),
        ("Pågående", Status.ONGOING),
        ("pågår", Status.ONGOING),
        ("klar", Status.DONE),
        ("ej påbörjad", Status.NOT_STARTED),
        ("4", Status.NOT_COMPLETED),
    ],
)
def test_parse_status(text: str, status: Status) -> None:
    """The chat's status question shows a numbered list: its numbers are statuses there."""
    assert forms.read_status(text, numbered=True) == status


def test_parse_status_refuses_with_the_allowed_values() -> None:
    with pytest.raises(InputError, match="Tillåtna värden"):
        forms.read_status("5", numbered=True)


def test_zero_is_an_amount_for_a_follow_up() -> None:
    assert forms.read_amount("0 kr", "utfall", allow_zero=True) == 0
    assert forms.read_amount("1,2 mkr", "utfall", allow_zero=True) == 1_200_000
    with pytest.raises(InputError, match="negativt"):
        forms.read_amount("-5 kr", "utfall", allow_zero=True)


def test_default_period() -> None:
    assert default_period(date(2025, 10, 1), 2025) == "2025-10"
    assert default_period(date(2026, 3, 1), 2025) == "2025-12"
    assert default_period(date(2025, 3, 1), 2026) == "2026-01"


def test_default_year(example_engine) -> None:
    from bot.services import Services

    ledger = Services(example_engine, org="malmo").ledger()
    assert default_year(ledger, date(2025, 10, 1)) == 2025
    assert default_year(ledger, date(2027, 1, 1)) == 2025  # the latest year with a fund
    assert default_year(ledger, date(2024, 1, 1)) == 2024  # nothing earlier: this year


# --- review of issue 19, item 4: "Menade du …?" answered by place ------------------------


def _did_you_mean(chat_as):
    from core.model import Role

    chat = chat_as("anna", Role.CHEF, "GVN")
    [question] = chat.say("status yrkeslärare")
    assert question.text.startswith("Menade du …?")
    titles = [
        line.split(". ", 1)[1].rsplit(" (", 1)[0] for line in question.text.split("\n")[1:] if ". " in line
    ]
    return chat, titles


@pytest.mark.parametrize(
    ("answer", "place"), [("den andra", 1), ("nummer två", 1), ("första", 0), ("sista", -1)]
)
def test_did_you_mean_answered_by_place_picks_that_one(chat_as, answer, place) -> None:
    chat, titles = _did_you_mean(chat_as)
    [status] = chat.say(answer)
    assert status.text.startswith(f"**{titles[place]}**")


@pytest.mark.parametrize("answer", ["bägge", "båda två", "nummer 99"])
def test_did_you_mean_answered_about_the_choices_asks_again(chat_as, answer) -> None:
    """Not searched as a name ('Jag hittar ingen nämnd som heter "andra"'): asked again."""
    chat, _titles = _did_you_mean(chat_as)
    [again] = chat.say(answer)
    assert again.text.startswith(texts.CHOICE_RETRY)


def test_did_you_mean_answered_none_of_them_is_no_search(chat_as) -> None:
    chat, _titles = _did_you_mean(chat_as)
    [none] = chat.say("ingen av dem")
    assert none.text == texts.NO_CHOICE
