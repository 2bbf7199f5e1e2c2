"""Issue 18: the chat, the follow-up form and the round card read the same words
(core.vocabulary, core.forms): "japp" is yes and "juni" a period in each."""

from __future__ import annotations

from core.model import Role
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
