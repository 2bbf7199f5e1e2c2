"""Tests for core.money: Swedish amount text to integer kronor, and back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InputError
from core.money import MAX_AMOUNT, format_amount, format_amount_short, parse_amount


@pytest.mark.parametrize(
    ("text", "kronor"),
    [
        ("15 100 000 kr", 15_100_000),
        ("15100000", 15_100_000),
        ("15 100 000", 15_100_000),
        ("15,1 mkr", 15_100_000),
        ("15,1 Mkr", 15_100_000),
        ("15,1mkr", 15_100_000),
        ("2 miljoner kronor", 2_000_000),
        ("2 miljoner", 2_000_000),
        ("1 miljon", 1_000_000),
        ("1 mnkr", 1_000_000),
        ("1,5 mn", 1_500_000),
        ("300 tkr", 300_000),
        ("300 tusen", 300_000),
        ("300 tusen kronor", 300_000),
        ("300 tsek", 300_000),
        ("300k", 300_000),
        ("300 K", 300_000),
        ("1.5 MSEK", 1_500_000),
        ("1,5 msek", 1_500_000),
        ("300 000 SEK", 300_000),
        ("300 000 kronor", 300_000),
        ("1 500 000:-", 1_500_000),
        ("1 500 000 :-", 1_500_000),
        ("12 500,00 kr", 12_500),
        ("1.500.000", 1_500_000),
        ("1.500.000 kr", 1_500_000),
        # one dot or comma before three digits in kronor groups thousands (kronor have no
        # third decimal): "250.000 kr" is 250 000 kr, never 250 kr
        ("250.000 kr", 250_000),
        ("750,000 kronor", 750_000),
        ("1.000 kr", 1_000),
        ("250.000:-", 250_000),
        ("2,500 mkr", 2_500_000),  # in millions a comma is still the decimal mark
        ("1.500.000,00 kr", 1_500_000),
        ("1\u00a0500\u00a0000 kr", 1_500_000),  # no-break spaces
        ("1\u202f500\u202f000 kr", 1_500_000),  # narrow no-break spaces
        ("1\u2009500\u2009000 kr", 1_500_000),  # thin spaces
        ("  950 kr  ", 950),
        ("1 kr", 1),
        ("1 000 000 000 000 kr", MAX_AMOUNT),
    ],
)
def test_parse_amount_accepts_swedish_forms(text: str, kronor: int) -> None:
    assert parse_amount(text) == kronor


def _refusal(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse_amount(text)
    return info.value


@pytest.mark.parametrize(
    ("text", "code", "phrase"),
    [
        ("abc", "amount_invalid", "inte ett belopp"),
        ("kr", "amount_invalid", "inte ett belopp"),
        ("15100 000", "amount_invalid", "mellanslag mellan tusental"),
        ("1,000,000", "amount_invalid", "inte ett belopp"),
        ("250.000", "amount_missing_unit", "saknar enhet"),  # no unit: 250 000 kr or 250 mkr?
        ("0", "amount_zero", "större än 0 kr"),
        ("0 kr", "amount_zero", "större än 0 kr"),
        ("-5 000 kr", "amount_negative", "utan minustecken"),
        ("\u22125 000 kr", "amount_negative", "utan minustecken"),
        ("1,5", "amount_missing_unit", "saknar enhet"),
        ("1.5", "amount_missing_unit", "saknar enhet"),
        ("0,0001 kr", "amount_not_whole", "hela kronor"),
        ("1,5 kr", "amount_not_whole", "hela kronor"),
        ("1,0000005 mkr", "amount_not_whole", "hela kronor"),
        ("1 000 000 000 001 kr", "amount_too_large", "1 000 000 000 000 kr"),
        ("2 000 000 mkr", "amount_too_large", "1 000 000 000 000 kr"),
        ("5 apor", "amount_unknown_unit", '"apor"'),
        ("2,5 miljarder", "amount_unknown_unit", '"miljarder"'),
    ],
)
def test_parse_amount_refuses_with_swedish_message(text: str, code: str, phrase: str) -> None:
    error = _refusal(text)
    assert error.code == code
    assert f'"{text}"' in error.message
    assert phrase in error.message
    assert error.errors[0].field == "belopp"


@pytest.mark.parametrize("text", ["1,5", "abc", "0", "-5 000 kr", "5 apor", "1,5 kr"])
def test_parse_amount_refusals_name_the_allowed_forms(text: str) -> None:
    message = _refusal(text).message
    assert '"1 500 000 kr"' in message or '"5 000 kr"' in message or "större än 0 kr" in message


def test_parse_amount_missing_unit_message_is_exact() -> None:
    assert _refusal("1,5").message == (
        'Beloppet "1,5" saknar enhet. Skriv till exempel "1,5 mkr", "1 500 000 kr" eller "300 tkr".'
    )


@pytest.mark.parametrize("text", ["", "   ", "\u00a0"])
def test_parse_amount_refuses_empty_text(text: str) -> None:
    error = _refusal(text)
    assert error.code == "amount_empty"
    assert "saknas" in error.message and '"1 500 000 kr"' in error.message


def test_parse_amount_passes_the_field_name() -> None:
    with pytest.raises(InputError) as info:
        parse_amount("abc", field="kostnad")
    assert info.value.errors[0].field == "kostnad"


def test_parse_amount_does_not_round_long_fractions() -> None:
    error = _refusal("1," + "0" * 40 + "1 kr")
    assert error.code == "amount_not_whole"


@pytest.mark.parametrize(
    ("kronor", "text"),
    [
        (15_100_000, "15 100 000 kr"),
        (0, "0 kr"),
        (-300_000, "-300 000 kr"),
        (950, "950 kr"),
        (1_000, "1 000 kr"),
    ],
)
def test_format_amount(kronor: int, text: str) -> None:
    assert format_amount(kronor) == text


@pytest.mark.parametrize(
    ("kronor", "text"),
    [
        (15_100_000, "15,1 mkr"),
        (1_000_000, "1 mkr"),
        (-1_500_000, "-1,5 mkr"),
        (1_500_000_000, "1 500 mkr"),
        (300_000, "300 tkr"),
        (1_234_000, "1 234 tkr"),
        (-300_000, "-300 tkr"),
        (950, "950 kr"),
        (0, "0 kr"),
        (15_150_000, "15 150 tkr"),
        (1_234_567, "1 234 567 kr"),
    ],
)
def test_format_amount_short(kronor: int, text: str) -> None:
    assert format_amount_short(kronor) == text


@pytest.mark.parametrize("kronor", [1, 950, 1_000, 300_000, 1_234_000, 15_100_000, MAX_AMOUNT])
def test_formatted_amounts_parse_back(kronor: int) -> None:
    assert parse_amount(format_amount(kronor)) == kronor
    assert parse_amount(format_amount_short(kronor)) == kronor


@given(st.integers(min_value=1, max_value=10**11))
def test_format_amount_round_trips(kronor: int) -> None:
    assert parse_amount(format_amount(kronor)) == kronor
    assert parse_amount(format_amount_short(kronor)) == kronor


@given(st.integers(min_value=1, max_value=10**11))
def test_plain_kronor_round_trips(kronor: int) -> None:
    assert parse_amount(f"{kronor} kr") == kronor
    assert parse_amount(str(kronor)) == kronor


@given(st.integers(min_value=1, max_value=999_999), st.integers(min_value=0, max_value=9))
def test_decimal_millions_are_exact(whole: int, tenths: int) -> None:
    assert parse_amount(f"{whole},{tenths} mkr") == whole * 1_000_000 + tenths * 100_000


@given(st.text(max_size=30))
def test_parse_amount_returns_positive_int_or_input_error(text: str) -> None:
    try:
        kronor = parse_amount(text)
    except InputError as error:
        assert error.message
    else:
        assert isinstance(kronor, int) and 0 < kronor <= MAX_AMOUNT


def test_zero_is_allowed_only_when_asked_for() -> None:
    from core.errors import InputError

    assert parse_amount("0 kr", allow_zero=True) == 0
    assert parse_amount("0", allow_zero=True) == 0
    assert parse_amount("1,2 mkr", allow_zero=True) == 1_200_000
    with pytest.raises(InputError):
        parse_amount("0 kr")
    with pytest.raises(InputError):
        parse_amount("-5 kr", allow_zero=True)


# --- issue 19: round amounts in words, and approximate amounts refused ------------------


@pytest.mark.parametrize(
    ("text", "kronor"),
    [
        ("en miljon", 1_000_000),
        ("En miljon kronor", 1_000_000),
        ("två miljoner", 2_000_000),
        ("två och en halv miljon", 2_500_000),
        ("två o en halv miljon", 2_500_000),
        ("en och en halv miljon", 1_500_000),
        ("halvannan miljon", 1_500_000),
        ("en halv miljon", 500_000),
        ("en halv mkr", 500_000),
        ("femhundra tusen", 500_000),
        ("femhundratusen", 500_000),
        ("hundra tusen", 100_000),
        ("etthundratusen", 100_000),
        ("tvåhundrafemtio tusen", 250_000),
        ("tjugofem tusen kr", 25_000),
        ("en miljon tvåhundratusen", 1_200_000),
        ("2 och en halv miljon", 2_500_000),
        ("tre mkr", 3_000_000),
        ("tusen kronor", 1_000),
        ("1,5 miljoner", 1_500_000),
    ],
)
def test_round_amounts_in_words_are_read(text: str, kronor: int) -> None:
    assert parse_amount(text) == kronor


@pytest.mark.parametrize("text", ["fem fem", "en halv", "tusen miljoner", "en miljard", "-en miljon"])
def test_words_that_make_no_amount_are_refused(text: str) -> None:
    assert _refusal(text).code in ("amount_invalid", "amount_unknown_unit", "amount_negative")


@pytest.mark.parametrize(
    ("text", "example"),
    [
        ("ca 450 000", "450 000 kr"),
        ("Cirka 450 tkr", "450 000 kr"),
        ("ungefär 1 mkr", "1 000 000 kr"),
        ("runt 2 mkr", "2 000 000 kr"),
        ("c:a 300 tkr", "300 000 kr"),
        ("~2 mkr", "2 000 000 kr"),
        ("450 tkr ungefär", "450 000 kr"),
        ("ca en miljon", "1 000 000 kr"),
    ],
)
def test_an_approximate_amount_is_refused_with_the_exact_form_to_write(text: str, example: str) -> None:
    error = _refusal(text)
    assert error.code == "amount_approximate"
    exact = f"Skriv ett exakt belopp, till exempel {example}."
    assert error.message == f'Beloppet "{text}" är ungefärligt. {exact}'
