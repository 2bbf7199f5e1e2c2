"""Messages quote a person's own text back, but not a pasted page of it."""

from __future__ import annotations

from datetime import date
from functools import partial

import pytest

from core.dates import parse_date, parse_period
from core.errors import ECHO_LIMIT, DomainError, echo
from core.model import Status
from core.money import parse_amount


def test_a_short_text_is_quoted_whole_and_a_long_one_cut() -> None:
    assert echo("  mycket  ") == "mycket"
    assert echo("1" * 20_000 + " mkr") == "1" * (ECHO_LIMIT - 1) + "…"


@pytest.mark.parametrize(
    "parse", [parse_amount, partial(parse_date, reference=date(2025, 10, 1)), parse_period, Status.parse]
)
def test_a_refusal_of_a_pasted_page_stays_short_and_says_what_is_allowed(parse) -> None:
    with pytest.raises(DomainError) as refused:
        parse("x" * 200_000)
    message = refused.value.message
    assert len(message) < 600 and "x" * (ECHO_LIMIT - 1) + "…" in message
    assert "Skriv" in message or "Tillåtna" in message  # what is allowed is still said
