"""Money as integer kronor: parsing Swedish amount text and formatting amounts.

Amounts are exact: `int` kronor, with `decimal.Decimal` only for scaling "15,1 mkr"
to kronor. Floats are never used.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal, Inexact

from core.errors import echo, input_error

MAX_AMOUNT = 10**12
"""The largest amount accepted, in kronor (1 000 000 000 000 kr)."""

EXAMPLES = 'Skriv till exempel "1,5 mkr", "1 500 000 kr" eller "300 tkr".'

_KRONA = 1
_THOUSAND = 1_000
_MILLION = 1_000_000

# A unit is one of these words, or a scale word followed by a currency word
# ("miljoner kronor", "tusen kr", "mn sek").
_CURRENCY_WORDS = {"kr": _KRONA, "kronor": _KRONA, "krona": _KRONA, "sek": _KRONA}
_SCALE_WORDS = {
    "tusen": _THOUSAND,
    "miljon": _MILLION,
    "miljoner": _MILLION,
    "milj": _MILLION,
    "mn": _MILLION,
}
_UNITS = {
    **_CURRENCY_WORDS,
    **_SCALE_WORDS,
    "tkr": _THOUSAND,
    "tsek": _THOUSAND,
    "k": _THOUSAND,
    "mkr": _MILLION,
    "mnkr": _MILLION,
    "msek": _MILLION,
}

_SPACES = re.compile(r"[\s\u00a0\u2007\u2009\u202f]+")
_MINUS = ("-", "\u2212", "\u2013")
# "1 500 000:-" or "1 500,-": the Swedish "whole kronor" suffix.
_COLON_DASH = re.compile(r"\s*[:,]-$")
_NUMBER_UNIT = re.compile(r"(?P<number>\d[\d .,]*)(?P<unit>.*)")
_INT_PLAIN = re.compile(r"\d+")
_INT_SPACED = re.compile(r"\d{1,3}( \d{3})+")
_INT_DOTTED = re.compile(r"\d{1,3}(\.\d{3})+")


def parse_amount(text: str, *, field: str | None = "belopp", allow_zero: bool = False) -> int:
    """Parse Swedish amount text ("15,1 mkr", "300 tkr", "1 500 000 kr") to kronor
    (> 0; or ≥ 0 with allow_zero, for spend reported in a follow-up).

    Raises InputError with a Swedish message for empty, non-numeric, zero, negative,
    ambiguous (a fraction with no unit), fractional-kronor or too large amounts.
    """
    shown = text.strip()
    quoted = echo(shown)  # as messages show it
    s = _SPACES.sub(" ", shown).lower()
    if not s:
        raise input_error("amount_empty", f"Beloppet saknas. {EXAMPLES}", field)
    negative = s.startswith(_MINUS)
    if negative:
        s = s[1:].lstrip()
    colon_dash = _COLON_DASH.search(s) is not None
    s = _COLON_DASH.sub("", s)

    match = _NUMBER_UNIT.fullmatch(s)
    if match is None:
        raise input_error("amount_invalid", f'"{quoted}" är inte ett belopp. {EXAMPLES}', field)
    number, has_fraction = _parse_number(match["number"].strip(), shown, field)
    unit = match["unit"].strip().rstrip(".")
    if colon_dash and unit:
        raise input_error("amount_unknown_unit", f'Beloppet "{quoted}" har två enheter. {EXAMPLES}', field)
    scale = _unit_scale(unit, shown, field)
    if negative and number:
        raise input_error(
            "amount_negative",
            f'Beloppet "{quoted}" är negativt. Skriv beloppet utan minustecken, till exempel "5 000 kr".',
            field,
        )
    if not unit and has_fraction and not colon_dash:
        raise input_error("amount_missing_unit", f'Beloppet "{quoted}" saknar enhet. {EXAMPLES}', field)
    # Exact: the product of an n-digit number and a 7-digit scale has at most n + 7 digits.
    exact = Context(prec=len(number.as_tuple().digits) + 7, traps=[Inexact])
    kronor = exact.multiply(number, Decimal(scale))

    if kronor == 0 and allow_zero:
        return 0
    if kronor == 0:
        raise input_error(
            "amount_zero", f'Beloppet "{quoted}" är noll. Beloppet måste vara större än 0 kr.', field
        )
    if kronor > MAX_AMOUNT:
        raise input_error(
            "amount_too_large",
            f'Beloppet "{quoted}" är orimligt stort. Högsta tillåtna belopp är {format_amount(MAX_AMOUNT)}.',
            field,
        )
    if kronor != kronor.to_integral_value():
        raise input_error(
            "amount_not_whole",
            f'Beloppet "{quoted}" är inte ett helt antal kronor. Belopp anges i hela kronor, '
            'till exempel "1 500 000 kr" eller "1,5 mkr".',
            field,
        )
    return int(kronor)


def _parse_number(number: str, shown: str, field: str | None) -> tuple[Decimal, bool]:
    """The value of "15 100 000", "1.500.000", "15,1" or "1.5", and whether it has a fraction.

    Spaces or dots (in groups of three, more than one dot) separate thousands; a comma,
    or a single dot, separates the fraction.
    """
    whole, fraction = number, ""
    if number.count(",") == 1:
        whole, fraction = number.split(",")
    elif "," not in number and number.count(".") == 1 and not number.endswith("."):
        whole, fraction = number.split(".")
    whole = whole.strip()
    valid = (not fraction or _INT_PLAIN.fullmatch(fraction)) and any(
        p.fullmatch(whole) for p in (_INT_PLAIN, _INT_SPACED, _INT_DOTTED)
    )
    if not valid:
        raise input_error(
            "amount_invalid",
            f'"{echo(shown)}" är inte ett belopp som går att läsa. '
            f"Använd mellanslag mellan tusental och kommatecken före decimaler. {EXAMPLES}",
            field,
        )
    digits = whole.replace(" ", "").replace(".", "")
    return Decimal(f"{digits}.{fraction}" if fraction else digits), bool(fraction)


def _unit_scale(unit: str, shown: str, field: str | None) -> int:
    """Kronor per one of `unit` ("" and the currency words are 1, "tkr" 1 000, "mkr" 1 000 000)."""
    if not unit:
        return _KRONA
    words = unit.split()
    if len(words) == 1 and words[0] in _UNITS:
        return _UNITS[words[0]]
    if len(words) == 2 and words[0] in _SCALE_WORDS and words[1] in _CURRENCY_WORDS:
        return _SCALE_WORDS[words[0]]
    raise input_error(
        "amount_unknown_unit",
        f'Okänd enhet "{echo(unit)}" i beloppet "{echo(shown)}". Tillåtna enheter är kr, tkr och mkr '
        f"(även kronor, SEK, :-, tusen, miljoner, mnkr och MSEK). {EXAMPLES}",
        field,
    )


def format_amount(kronor: int) -> str:
    """Kronor with spaces between thousands: "15 100 000 kr", "0 kr", "-300 000 kr"."""
    return f"{_group(kronor)} kr"


def format_amount_short(kronor: int) -> str:
    """A compact form when exact: "15,1 mkr", "300 tkr"; otherwise as format_amount ("950 kr")."""
    if kronor and kronor % 100_000 == 0 and abs(kronor) >= _MILLION:
        millions, tenths = divmod(abs(kronor) // 100_000, 10)
        sign = "-" if kronor < 0 else ""
        return f"{sign}{_group(millions)}{f',{tenths}' if tenths else ''} mkr"
    if kronor and kronor % _THOUSAND == 0:
        return f"{_group(kronor // _THOUSAND)} tkr"
    return format_amount(kronor)


def _group(n: int) -> str:
    """An int with ordinary spaces between thousands: 15100000 -> "15 100 000"."""
    return f"{n:,}".replace(",", " ")
