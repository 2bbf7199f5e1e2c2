"""How the rules name things in their Swedish messages."""

from core.ledger import Ledger
from core.money import format_amount


def unit_name(ledger: Ledger, code: str) -> str:
    unit = ledger.units.get(code)
    return unit.name if unit else code


def measure_name(ledger: Ledger, measure_id: int) -> str:
    measure = ledger.measures.get(measure_id)
    return f'"{measure.title}" (id {measure_id})' if measure else f"id {measure_id}"


def kr(amount: int) -> str:
    return format_amount(amount)
