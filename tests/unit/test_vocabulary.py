"""The words people type (core.vocabulary): one set for the chat, the forms, the
round card, the command line and the template (issue 18: three yes/no sets disagreed)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from core import vocabulary
from core.dates import format_period, parse_date, parse_period
from core.forms import read_period, read_status, read_usable
from core.model import Status
from dialogs.prompts import parse_yes_no


@pytest.mark.parametrize("word", ["ja", "Japp", "jepp", "visst", "ok", "Ja tack", "absolut!", "JA."])
def test_yes_words_are_yes_in_chat_and_on_cards(word: str) -> None:
    assert vocabulary.yes_no(word) is True
    assert parse_yes_no(word) is True  # the chat's prompts
    assert vocabulary.card_yes_no(word) is True  # the follow-up form and the round card
    assert read_usable(word) is True


@pytest.mark.parametrize("word", ["nej", "nä", "Nej tack", "nää", "nix", "no"])
def test_no_words_are_no_in_chat_and_on_cards(word: str) -> None:
    assert vocabulary.yes_no(word) is False
    assert parse_yes_no(word) is False
    assert vocabulary.card_yes_no(word) is False


def test_a_card_toggle_and_1_or_0_are_yes_or_no_everywhere() -> None:
    """Issue 19 (a tester's leftover): "1"/"0"/"true"/"yes" were yes on cards and the command
    line but refused in the chat; now one rule for the chat, the forms, the cards and the command line."""
    values = (True, False, "true", "false", "1", "0", 1, 0, "yes", "no")
    expected = [True, False, True, False, True, False, True, False, True, False]
    assert [vocabulary.card_yes_no(v) for v in values] == expected
    assert [read_usable(v) for v in values] == expected
    typed = [v for v in values if isinstance(v, str)]
    assert [parse_yes_no(v) for v in typed] == [vocabulary.card_yes_no(v) for v in typed]
    assert vocabulary.card_yes_no("kanske") is None
    assert vocabulary.card_yes_no(3) is None


def test_yes_and_no_share_no_word() -> None:
    assert not vocabulary.YES & vocabulary.NO


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("pågår", Status.ONGOING),
        ("Klart", Status.DONE),
        ("ej_påbörjad", Status.NOT_STARTED),
        ("not-completed", Status.NOT_COMPLETED),
        ("3", Status.DONE),
    ],
)
def test_statuses_by_word_name_or_number(text: str, status: Status) -> None:
    assert read_status(text, numbered=True) == status
    if not text.isdigit():
        assert read_status(text) == Status.parse(text) == status


def test_every_month_name_and_abbreviation_is_a_period() -> None:
    for number, name in enumerate(vocabulary.MONTHS, 1):
        assert read_period(name, 2025) == f"2025-{number:02d}"
        assert read_period(name[:3], 2025) == f"2025-{number:02d}"
        assert parse_period(f"{name} 2025") == f"2025-{number:02d}"
        assert format_period(f"2025-{number:02d}") == f"{name} 2025"
    assert read_period("sept", 2025) == "2025-09"
    assert parse_date("i juni", date(2025, 1, 1)) == date(2025, 6, 30)


def test_juni_is_a_period_and_ja_takes_the_one_offered() -> None:
    assert read_period("juni", 2025) == "2025-06"
    assert read_period("Juni", 2025, default="2025-09") == "2025-06"
    assert read_period("ja", 2025, default="2025-09") == "2025-09"
    assert read_period("denna månad", 2025, default="2025-09") == "2025-09"


def test_no_decision_answers() -> None:
    assert vocabulary.says_no_decision("Inget beslut.")
    assert vocabulary.says_no_decision("saknas!")
    assert not vocabulary.says_no_decision("FSKN 2025-02-05 § 5")


def test_each_kind_of_question_has_one_row_of_words_that_compile() -> None:
    """The table dialogs.understanding matches (the guard for answers: tests/dialogs/test_answers.py)."""
    kinds = [row.kind for row in vocabulary.QUESTIONS]
    assert len(kinds) == len(set(kinds))
    assert set(kinds) == set(vocabulary.Intent) - {vocabulary.FALLBACK}
    for row in vocabulary.QUESTIONS:
        assert row.has_words(), row.kind
        for pattern in row.patterns:
            re.compile(pattern)
        assert not row.lead or row.only, f"{row.kind}: lead words go with only words"


# --- issue 19: the small words ----------------------------------------------------------


@pytest.mark.parametrize(
    "word",
    ["kör", "Kör på!", "självklart", "gärna", "javisst", "yes please", "Ja, tack!", "ja tack 🙂", "👍"],
)
def test_more_yes_words_are_yes_in_chat_and_on_cards(word: str) -> None:
    assert parse_yes_no(word) is True
    assert read_usable(word) is True


@pytest.mark.parametrize("word", ["nej tack", "Nä du", "inte nu", "Nej, tack."])
def test_more_no_words_are_no_in_chat_and_on_cards(word: str) -> None:
    assert parse_yes_no(word) is False
    assert read_usable(word) is False


def test_the_new_yes_and_no_words_share_none_and_nej_still_means_none() -> None:
    assert not vocabulary.YES_PHRASES & vocabulary.NO_PHRASES
    assert not (vocabulary.YES | vocabulary.YES_PHRASES) & (vocabulary.NO | vocabulary.NO_PHRASES)
    assert {"nej", "ingen", "nej tack"} <= vocabulary.NONE


def test_words_that_name_no_status_and_no_yes() -> None:
    for text in ("kanske", "ja nej", "snart", ""):
        assert vocabulary.yes_no(text) is None


def test_the_new_yes_words_are_in_yes_itself() -> None:
    """The chat's one-candidate "Menade du …?" reads YES directly (dialogs.prompts)."""
    assert {"kör", "kör på", "självklart", "gärna", "javisst", "yes please"} <= vocabulary.YES
    assert {"nej tack", "nä du", "inte nu"} <= vocabulary.NO
