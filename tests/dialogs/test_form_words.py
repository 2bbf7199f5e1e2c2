"""Issue 18: the chat, the follow-up form and the round card read the same words
(core.vocabulary, core.forms): "japp" is yes and "juni" a period in each."""

from __future__ import annotations

from datetime import date

from core.model import Body, Decision, Role
from core.rules.years import default_year
from dialogs import texts
from tests.dialogs.test_followup_dialog import _form, _measure_id


def test_the_followup_form_takes_juni_and_japp_as_the_chat_does(chat_as, services) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    [receipt] = chat.say(_form(services, period="juni", usable="japp"))
    assert receipt.text.startswith("Klart! Uppföljningen av **Yrkeslärarsatsning** för juni 2025")


def test_the_chat_takes_juni_and_japp(chat_as, services) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    chat.say("uppföljning Yrkeslärarsatsning")
    [status] = chat.say("juni")
    assert status.text.startswith(texts.ASK_STATUS)
    for answer in ("pågår", "1 mkr", "4 mkr", "japp", "-"):
        chat.say(answer)
    chat.say("jepp")  # the summary's confirmation
    latest = services.ledger().latest_followup(_measure_id(services, "Yrkeslärarsatsning"))
    assert (latest.period, latest.usable_as_planned) == ("2025-06", True)


def test_juni_is_the_measures_year_on_the_form_as_in_the_chat(chat_as, services) -> None:
    """Review of issue 18: on 5 December 2026, with 2026's fund decided (the default
    year is 2026), "juni" for a 2025 measure is June 2025 in the chat and on the form."""
    services.set_fund(None, 2026, 10_000_000, Decision(Body.KF, date(2025, 11, 26)))
    assert default_year(services.ledger(), date(2026, 12, 5)) == 2026
    chat = chat_as("anna", Role.CHEF, "GVN", today=date(2026, 12, 5))
    [receipt] = chat.say(_form(services, period="juni"))
    assert receipt.text.startswith("Klart! Uppföljningen av **Yrkeslärarsatsning** för juni 2025")
    chat.say("uppföljning Yrkeslärarsatsning")
    [status] = chat.say("juni")
    assert status.text.startswith(texts.ASK_STATUS)
    for answer in ("pågår", "1 mkr", "4 mkr", "ja", "-"):
        chat.say(answer)
    chat.say("ja")
    latest = services.ledger().latest_followup(_measure_id(services, "Yrkeslärarsatsning"))
    assert (latest.period, latest.spent) == ("2025-06", 1_000_000)
