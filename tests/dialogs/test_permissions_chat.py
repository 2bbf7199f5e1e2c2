"""Permissions through the chat, table-driven: every role × the questions and
forms the chat offers × the person's own unit (GVN) and another (FSKN). The
same table as tests/integration/test_permissions_matrix.py, which covers the
services underneath; here every refusal is what the person reads, and nothing
is written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from bot.services import Services
from core.model import Role
from core.permissions import Action
from tests.dialogs.conftest import counts
from tests.integration.test_permissions_matrix import EXPECTED, MEASURE_OF, OTHER, OWN, ROLES, allowed


def _id(services: Services, unit: str) -> str:
    ledger = services.ledger()
    return str(next(m.id for m in ledger.measures.values() if m.title == MEASURE_OF[unit]))


def _form_measure(unit: str) -> dict[str, Any]:
    # A new title each time: a year never has two measures of the same title.
    return {
        "action": "submit_measure",
        "unit": unit,
        "title": f"Matrisinsats {uuid.uuid4().hex[:8]}",
        "end_date": "2025-12-31",
        "amount": "1 tkr",
        "decision": "2025-01-29 § 8",
    }


def _form_followup(services: Services, unit: str) -> dict[str, Any]:
    return {
        "action": "followup",
        "measure_id": _id(services, unit),
        "period": "2025-09",
        "status": "Pågående",
        "spent": "1 tkr",
        "forecast": "2 tkr",
        "usable": "ja",
    }


CHAT: dict[str, tuple[Action, Callable[[Services, str], str | dict[str, Any]], str]] = {
    # name: (the action, what the person sends for a unit, what an allowed answer starts with or holds)
    "funds": (Action.READ, lambda s, unit: f"saldo {unit}", "kvar"),
    "status": (Action.READ, lambda s, unit: f"status {MEASURE_OF[unit]}", MEASURE_OF[OWN]),
    # (an allowed form is summarised for the person to confirm: issue 17 item 1)
    "submit form": (Action.SUBMIT_MEASURE, lambda s, unit: _form_measure(unit), "Vill du spara insatsen?"),
    "follow-up form": (Action.FOLLOW_UP, _form_followup, "Klart! Uppföljningen"),
}


def test_the_chat_refuses_what_the_services_refuse(chat_as, services) -> None:
    """One database, one person per role, every question and form for both units."""
    for role in ROLES:
        chat = chat_as(
            f"p-{role}", None if role == "none" else Role(role), OWN if role in ("chef", "hr") else None
        )
        for unit in (OWN, OTHER):
            for name, (action, message, ok) in CHAT.items():
                where = (role, unit, name)
                before = counts(services)
                said = chat.said(message(services, unit))
                if allowed(role, action, unit):
                    assert (ok if name != "status" else MEASURE_OF[unit]) in said, (where, said)
                    assert "behörighet" not in said, (where, said)
                    continue
                assert counts(services) == before, where
                assert "Klart!" not in said, (where, said)
                if role == "none":  # (the Teams handler stops such a person earlier: tests/http)
                    assert "Du har ingen roll i kompetensbot. Behörighet ges av stadskontorets" in said, where
                    assert MEASURE_OF[unit] not in said, where
                elif name == "status":
                    assert MEASURE_OF[unit] not in said, where  # not shown, not even its name
                elif name in ("follow-up form", "submit form") and EXPECTED[role].get(action):
                    # the role may do it, for its own unit only: the other unit's is refused
                    assert (
                        "finns inte bland de insatser du kan följa upp" in said
                        or f'Du kan inte lämna in insatser för "{unit}"' in said
                    ), (where, said)
                else:
                    assert f"har inte behörighet att {action.value}" in said, (where, said)
