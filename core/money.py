"""Money as integer kronor: parsing Swedish amount text and formatting amounts.

Amounts are exact: `int` kronor, with `decimal.Decimal` only for scaling "15,1 mkr"
to kronor. Floats are never used.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal, Inexact

from core import vocabulary
from core.errors import InputError, echo, input_error

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
    _refuse_approximate(s, quoted, field)

    words = amount_in_words(s) if _LETTER.search(s) and len(s) <= _LONGEST_IN_WORDS else None
    if words is not None and negative:
        raise input_error("amount_negative", _NEGATIVE.format(quoted=quoted), field)
    if words is not None:
        return _checked(words, quoted, field, allow_zero=allow_zero)
    match = _NUMBER_UNIT.fullmatch(s)
    if match is None:
        raise input_error("amount_invalid", f'"{quoted}" är inte ett belopp. {EXAMPLES}', field)
    number, fraction = _parse_number(match["number"].strip(), shown, field)
    has_fraction = bool(fraction)
    unit = match["unit"].strip().rstrip(".")
    if colon_dash and unit:
        raise input_error("amount_unknown_unit", f'Beloppet "{quoted}" har två enheter. {EXAMPLES}', field)
    scale = _unit_scale(unit, shown, field)
    if negative and number:
        raise input_error("amount_negative", _NEGATIVE.format(quoted=quoted), field)
    if not unit and has_fraction and not colon_dash:
        raise input_error("amount_missing_unit", f'Beloppet "{quoted}" saknar enhet. {EXAMPLES}', field)
    if scale == _KRONA and len(fraction) == 3:
        # "250.000 kr", "750,000 kronor", "1.000:-": kronor have no third decimal, so the one
        # separator groups thousands (read as a fraction, 250 000 kr became 250 kr).
        number *= 1000
    # Exact: the product of an n-digit number and a 7-digit scale has at most n + 7 digits.
    exact = Context(prec=len(number.as_tuple().digits) + 7, traps=[Inexact])
    return _checked(exact.multiply(number, Decimal(scale)), quoted, field, allow_zero=allow_zero)


def _checked(kronor: Decimal, quoted: str, field: str | None, *, allow_zero: bool) -> int:
    """The amount in whole kronor, refused when zero (unless allowed), too large or not whole."""
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


_LETTER = re.compile(r"[a-zåäö]")
_LONGEST_IN_WORDS = 200
"""Longer text is no amount in words (and is not split into words at all)."""
_NEGATIVE = 'Beloppet "{quoted}" är negativt. Skriv beloppet utan minustecken, till exempel "5 000 kr".'
_WORD_PARTS = sorted(
    [
        *vocabulary.NUMBER_WORDS,
        *vocabulary.HUNDRED_WORDS,
        *vocabulary.THOUSAND_WORDS,
        *vocabulary.MILLION_WORDS,
        *vocabulary.HALF_WORDS,
        *vocabulary.ONE_AND_A_HALF,
        *vocabulary.AND_WORDS,
    ],
    key=len,
    reverse=True,
)
_HALF = "½"  # a half, as the words' reader marks it
_ONE_AND_A_HALF = "1½"
_AND_A_HALF = "+½"


def _refuse_approximate(s: str, quoted: str, field: str | None) -> None:
    """Refuse "ca 450 000", "cirka 450 tkr", "ungefär 1 mkr", "~2 mkr", "450 tkr ungefär": a
    figure in the ledger is exact. The message shows the exact form of the number typed."""
    words = s.replace("~", " ~ ").replace("≈", " ≈ ").split()
    if not words:
        return
    first, last = words[0], words[-1]
    if first not in vocabulary.APPROXIMATE and last not in vocabulary.APPROXIMATE:
        return
    rest = " ".join(words[1:] if first in vocabulary.APPROXIMATE else words[:-1])
    example = "450 000 kr"
    try:
        example = format_amount(parse_amount(rest, field=None)) if rest else example
    except InputError:
        pass
    raise input_error(
        "amount_approximate",
        f'Beloppet "{quoted}" är ungefärligt. Skriv ett exakt belopp, till exempel {example}.',
        field,
    )


def _split_word(word: str) -> list[str] | None:
    """A word as the number words it is made of ("tvåhundrafemtiotusen" is "två hundra femtio
    tusen"), or None when it is not made of them."""
    if word.isdigit() or word in vocabulary.CURRENCY_WORDS:
        return [word]
    best: list[list[str] | None] = [None] * (len(word) + 1)
    best[0] = []
    for i in range(len(word)):
        parts = best[i]
        if parts is None:
            continue
        for part in _WORD_PARTS:
            if word.startswith(part, i) and best[i + len(part)] is None:
                best[i + len(part)] = [*parts, part]
    return best[len(word)]


def _tokens(s: str) -> list[str] | None:
    """The number words of an amount in words, halves marked: "två och en halv miljon" is
    ["två", "+½", "miljon"], "en halv miljon" ["½", "miljon"]; None for any other word."""
    parts: list[str] = []
    for word in s.replace("-", " ").split():
        split = _split_word(word)
        if split is None:
            return None
        parts.extend(split)
    tokens: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if part in vocabulary.AND_WORDS and parts[i + 1 : i + 3] and parts[i + 1] in ("en", "ett"):
            if parts[i + 2 : i + 3] and parts[i + 2] in vocabulary.HALF_WORDS:
                tokens.append(_AND_A_HALF)
                i += 3
                continue
        if part in ("en", "ett") and parts[i + 1 : i + 2] and parts[i + 1] in vocabulary.HALF_WORDS:
            tokens.append(_HALF)
            i += 2
            continue
        tokens.append(
            _HALF
            if part in vocabulary.HALF_WORDS
            else _ONE_AND_A_HALF
            if part in vocabulary.ONE_AND_A_HALF
            else part
        )
        i += 1
    while tokens and tokens[-1] in vocabulary.CURRENCY_WORDS:
        tokens.pop()
    return tokens or None


def _below_thousand(tokens: list[str], i: int) -> tuple[int, int] | None:
    """The number below a thousand that starts at tokens[i] ("tvåhundrafemtio", "hundra",
    "tjugofem", "3"), and the index after it; None when there is none."""
    words = vocabulary.NUMBER_WORDS
    at = tokens[i] if i < len(tokens) else ""
    if at.isdigit():
        return int(at), i + 1
    value, start = 0, i
    following = tokens[i + 1] if i + 1 < len(tokens) else ""
    if words.get(at, 10) < 10 and following in vocabulary.HUNDRED_WORDS:
        value, i = words[at] * 100, i + 2
    elif at in vocabulary.HUNDRED_WORDS:
        value, i = 100, i + 1
    at = tokens[i] if i < len(tokens) else ""
    if at in words and words[at] >= 20 and words[at] % 10 == 0:
        value, i = value + words[at], i + 1
        at = tokens[i] if i < len(tokens) else ""
        if words.get(at, 10) < 10:
            value, i = value + words[at], i + 1
    elif at in words:
        value, i = value + words[at], i + 1
    return (value, i) if i > start else None


def amount_in_words(text: str) -> Decimal | None:
    """Kronor of an amount written in words, as people type round amounts: "en miljon",
    "två miljoner", "två och en halv miljon", "en halv miljon", "halvannan miljon",
    "femhundra tusen", "hundra tusen", "tvåhundrafemtio tusen", "en miljon tvåhundratusen",
    "2 och en halv miljon", "tre mkr"; None when `text` is not such an amount."""
    tokens = _tokens(text.lower())
    if tokens is None:
        return None
    total, i, last_scale = Decimal(0), 0, None
    while i < len(tokens):
        coefficient: Decimal
        if tokens[i] in (_HALF, _ONE_AND_A_HALF):
            coefficient, i = Decimal("0.5") if tokens[i] == _HALF else Decimal("1.5"), i + 1
        elif (number := _below_thousand(tokens, i)) is not None:
            coefficient, i = Decimal(number[0]), number[1]
            if i < len(tokens) and tokens[i] == _AND_A_HALF:
                coefficient, i = coefficient + Decimal("0.5"), i + 1
        elif tokens[i] in vocabulary.THOUSAND_WORDS | vocabulary.MILLION_WORDS:
            coefficient = Decimal(1)  # "tusen", "miljon": one of them
        else:
            return None
        at = tokens[i] if i < len(tokens) else ""
        scale = (
            _MILLION
            if at in vocabulary.MILLION_WORDS
            else _THOUSAND
            if at in vocabulary.THOUSAND_WORDS
            else 1
        )
        if last_scale is not None and scale >= last_scale:
            return None  # "tusen miljoner", "fem fem": not an amount
        if scale == 1 and coefficient != coefficient.to_integral_value():
            return None  # "en halv" without a scale
        total += coefficient * scale
        last_scale, i = scale, i + (scale > 1)
    return total


def _parse_number(number: str, shown: str, field: str | None) -> tuple[Decimal, str]:
    """The value of "15 100 000", "1.500.000", "15,1" or "1.5", and its fraction's digits ("" none).

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
    return Decimal(f"{digits}.{fraction}" if fraction else digits), fraction


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
