"""The days of an absence as people write them (core.date_ranges, issue 22): a period without a
year is the one nearest today (going on, else the closest: a past one is kept, for the rules to
refuse), a year written anywhere applies to all of it, a last day before the first stays so except
over the new year; weeks and months; "idag", "imorgon"."""

from __future__ import annotations

from datetime import date

import pytest

from core.date_ranges import coming_date, find_range, read_range
from core.errors import InputError

JUNE_5 = date(2025, 6, 5)


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("16 juni", JUNE_5, date(2025, 6, 16)),
        ("16/6", JUNE_5, date(2025, 6, 16)),
        ("2025-06-16", JUNE_5, date(2025, 6, 16)),
        ("5 juni", JUNE_5, date(2025, 6, 5)),  # today is on or after today
        ("4 juni", JUNE_5, date(2025, 6, 4)),  # yesterday: this year's (refused as past by the rules)
        ("1 januari", JUNE_5, date(2025, 1, 1)),  # nearer this year's than next
        ("1 januari", date(2025, 9, 1), date(2026, 1, 1)),  # nearer next year's
        ("idag", JUNE_5, JUNE_5),
        ("i morgon", JUNE_5, date(2025, 6, 6)),
        ("10 januari", date(2025, 12, 20), date(2026, 1, 10)),
        ("2025-01-10", date(2025, 12, 20), date(2025, 1, 10)),  # a year written is kept
        ("4 juni 2025", JUNE_5, date(2025, 6, 4)),
    ],
)
def test_a_date_without_a_year_is_the_coming_one(text: str, today: date, expected: date) -> None:
    assert coming_date(text, today) == expected


@pytest.mark.parametrize(
    ("text", "today", "first", "last"),
    [
        ("16 juni–11 juli", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("16/6–11/7", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("16/6-11/7", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("2025-06-16–2025-07-11", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("2025-06-16 - 2025-07-11", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("16 juni till 11 juli", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("från 16 juni till 11 juli", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("mellan 16/6 och 11/7", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("16 juni t.o.m. 11 juli", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
        ("16–20 juni", JUNE_5, date(2025, 6, 16), date(2025, 6, 20)),
        ("16-20/6", JUNE_5, date(2025, 6, 16), date(2025, 6, 20)),
        ("20 december–10 januari", JUNE_5, date(2025, 12, 20), date(2026, 1, 10)),
        ("16 juni–11 juli 2026", JUNE_5, date(2026, 6, 16), date(2026, 7, 11)),
        ("1 maj–11 juli", JUNE_5, date(2025, 5, 1), date(2025, 7, 11)),  # already begun: this year's
        ("16 juni", JUNE_5, date(2025, 6, 16), date(2025, 6, 16)),  # one day
        ("16:e Juni – 11:e Juli", JUNE_5, date(2025, 6, 16), date(2025, 7, 11)),
    ],
)
def test_the_days_of_an_absence(text: str, today: date, first: date, last: date) -> None:
    assert read_range(text, today) == (first, last)


JUNE_17 = date(2025, 6, 17)


@pytest.mark.parametrize(
    ("text", "today", "first", "last"),
    [
        # 1: the period not ended yet, or the one nearest (a past one kept: the rules refuse it)
        ("16/6-30/6", JUNE_17, date(2025, 6, 16), date(2025, 6, 30)),
        ("16/6-11/7", JUNE_17, date(2025, 6, 16), date(2025, 7, 11)),
        ("1/6-10/6", JUNE_17, date(2025, 6, 1), date(2025, 6, 10)),
        ("1/5-10/5", JUNE_17, date(2025, 5, 1), date(2025, 5, 10)),
        ("5/1-10/1", date(2025, 12, 20), date(2026, 1, 5), date(2026, 1, 10)),
        # 2: a year written anywhere
        ("1/5-10/5 2025", JUNE_17, date(2025, 5, 1), date(2025, 5, 10)),
        ("16/6-11/7 2025", JUNE_17, date(2025, 6, 16), date(2025, 7, 11)),
        ("1/5 2026 till 10/5", JUNE_17, date(2026, 5, 1), date(2026, 5, 10)),
        ("16 juni 2026–11 juli", JUNE_17, date(2026, 6, 16), date(2026, 7, 11)),
        # 3: idag, imorgon
        ("från idag till 20/6", JUNE_17, JUNE_17, date(2025, 6, 20)),
        ("fr.o.m. imorgon t.o.m. 20 juni", JUNE_17, date(2025, 6, 18), date(2025, 6, 20)),
        ("from idag tom 11/7", JUNE_17, JUNE_17, date(2025, 7, 11)),
        ("i dag–11/7", JUNE_17, JUNE_17, date(2025, 7, 11)),
        ("i morgon", JUNE_17, date(2025, 6, 18), date(2025, 6, 18)),
        # 4: the separators
        ("2025-07-14 -- 2025-08-01", JUNE_17, date(2025, 7, 14), date(2025, 8, 1)),
        ("14/7–1/8", JUNE_17, date(2025, 7, 14), date(2025, 8, 1)),
        ("14/7—1/8", JUNE_17, date(2025, 7, 14), date(2025, 8, 1)),
        ("14/7 till 1/8", JUNE_17, date(2025, 7, 14), date(2025, 8, 1)),
        ("14/7 t.o.m. 1/8", JUNE_17, date(2025, 7, 14), date(2025, 8, 1)),
        ("14/7 tom 1/8", JUNE_17, date(2025, 7, 14), date(2025, 8, 1)),
        # 5: a last day before the first stays so (refused), except over the new year
        ("10/7-1/7", JUNE_17, date(2025, 7, 10), date(2025, 7, 1)),
        ("20/12-6/1", JUNE_17, date(2025, 12, 20), date(2026, 1, 6)),
        ("28 november–2 februari", JUNE_17, date(2025, 11, 28), date(2026, 2, 2)),
        ("20/12-6/1 2026", JUNE_17, date(2025, 12, 20), date(2026, 1, 6)),
        # 6: weeks (ISO, the coming one) and months
        ("v. 27", JUNE_17, date(2025, 6, 30), date(2025, 7, 6)),
        ("v27", JUNE_17, date(2025, 6, 30), date(2025, 7, 6)),
        ("vecka 27", JUNE_17, date(2025, 6, 30), date(2025, 7, 6)),
        ("vecka 27-28", JUNE_17, date(2025, 6, 30), date(2025, 7, 13)),
        ("v. 27–28", JUNE_17, date(2025, 6, 30), date(2025, 7, 13)),
        ("v. 20", JUNE_17, date(2026, 5, 11), date(2026, 5, 17)),
        ("v. 52-2", JUNE_17, date(2025, 12, 22), date(2026, 1, 11)),
        ("hela juli", JUNE_17, date(2025, 7, 1), date(2025, 7, 31)),
        ("i juli", JUNE_17, date(2025, 7, 1), date(2025, 7, 31)),
        ("juli", JUNE_17, date(2025, 7, 1), date(2025, 7, 31)),
        ("i maj", JUNE_17, date(2026, 5, 1), date(2026, 5, 31)),
        ("februari 2028", JUNE_17, date(2028, 2, 1), date(2028, 2, 29)),
    ],
)
def test_the_days_the_tester_wrote(text: str, today: date, first: date, last: date) -> None:
    assert read_range(text, today) == (first, last)


@pytest.mark.parametrize(
    ("sentence", "written", "first", "last"),
    [
        ("per ersätter anna from idag tom 11/7", "from idag tom 11/7", JUNE_17, date(2025, 7, 11)),
        ("jag var ledig 1/5-10/5, olle ersatte mig", "1/5-10/5", date(2025, 5, 1), date(2025, 5, 10)),
        ("ledig 1/5-10/5 2025", "1/5-10/5 2025", date(2025, 5, 1), date(2025, 5, 10)),
        ("jag e ledig v. 27 o olle tar över", "v. 27", date(2025, 6, 30), date(2025, 7, 6)),
        ("jag har semester hela juli, per ersätter", "hela juli", date(2025, 7, 1), date(2025, 7, 31)),
        ("olle ersätter mig 16 juli", "16 juli", date(2025, 7, 16), date(2025, 7, 16)),
    ],
)
def test_the_days_in_a_sentence(sentence: str, written: str, first: date, last: date) -> None:
    found = find_range(sentence, JUNE_17)
    assert found is not None
    assert (found[0], found[1], sentence[found[2][0] : found[2][1]]) == (first, last, written)


def test_a_week_that_does_not_exist_is_refused() -> None:
    with pytest.raises(InputError) as refused:
        read_range("v. 54", JUNE_17)
    assert 'Veckan i "v. 54" finns inte' in refused.value.message


@pytest.mark.parametrize("text", ["", "i sommar", "16 juni 11 juli", "nästa vecka"])
def test_what_is_no_range_is_refused_naming_the_forms(text: str) -> None:
    with pytest.raises(InputError) as refused:
        read_range(text, JUNE_5, field="--from")
    assert "16 juni–11 juli" in refused.value.message and refused.value.errors[0].field == "--from"


def test_a_date_that_does_not_exist_is_refused() -> None:
    with pytest.raises(InputError) as refused:
        read_range("31/6–11/7", JUNE_5)
    assert "finns inte" in refused.value.message


def test_the_days_are_found_in_a_sentence() -> None:
    text = "Jag är ledig 16 juni–11 juli, Per Persson ersätter mig"
    found = find_range(text, JUNE_5)
    assert found is not None
    first, last, (start, end) = found
    assert (first, last) == (date(2025, 6, 16), date(2025, 7, 11))
    assert text[start:end] == "16 juni–11 juli"
    other = find_range("Per ersätter Anna 16/6–11/7", JUNE_5)
    assert other is not None and other[:2] == (date(2025, 6, 16), date(2025, 7, 11))
    assert find_range("vem ersätter mig?", JUNE_5) is None
