"""Issue 18: the chat, the follow-up form and the round card read the same words
(core.vocabulary, core.forms): "japp" is yes and "juni" a period in each."""

from __future__ import annotations

from datetime import date

import pytest

from core.model import Body, Category, Decision, Role, Status
from core.rules.years import default_year
from dialogs import cards, texts
from tests.dialogs.conftest import decide
from tests.dialogs.test_followup_dialog import _form, _measure_id
from tests.dialogs.test_submit_measure_dialog import _start_as_hr_of_fskn


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


# --- issue 19: the small words, the same in the chat, on the form and on the card ---------


def _to_the_amount(chat, categories: str = "-", start: str = "-") -> None:
    for answer in ("Mentorskap", "-", "-", categories, start, "31 december 2025", "-"):
        chat.say(answer)


def test_the_chat_takes_a_round_amount_in_words(chat_as, services) -> None:
    chat = _start_as_hr_of_fskn(chat_as)
    _to_the_amount(chat)
    [decision_question] = chat.say("en halv miljon")
    assert decision_question.text == texts.ask_decision("Förskolenämnden (FSKN)", "FSKN")
    confirm = decide(chat, "2025-02-05 § 5")
    assert "500 000 kr" in confirm.card_text()


def test_the_chat_refuses_an_approximate_amount_with_the_exact_form(chat_as) -> None:
    chat = _start_as_hr_of_fskn(chat_as)
    _to_the_amount(chat)
    [again] = chat.say("ca 450 000")
    assert again.text.startswith(
        'Beloppet "ca 450 000" är ungefärligt. Skriv ett exakt belopp, till exempel 450 000 kr.'
    )
    assert again.text.endswith(texts.ask_amount("Förskolenämnden (FSKN)", 1_500_000, 2025))
    [decision_question] = chat.say("450 000")
    assert decision_question.text == texts.ask_decision("Förskolenämnden (FSKN)", "FSKN")


def test_the_followup_form_and_the_chat_take_amounts_in_words(chat_as, services) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    [receipt] = chat.say(_form(services, spent="en miljon", forecast="två och en halv miljon"))
    assert receipt.text.startswith("Klart! Uppföljningen av **Yrkeslärarsatsning**")
    latest = services.ledger().latest_followup(_measure_id(services, "Yrkeslärarsatsning"))
    assert (latest.spent, latest.forecast) == (1_000_000, 2_500_000)
    [refused] = chat.say(_form(services, period="2025-07", spent="cirka 450 tkr"))
    assert (
        'Beloppet "cirka 450 tkr" är ungefärligt. Skriv ett exakt belopp, till exempel 450 000 kr.'
        in refused.text
    )


@pytest.mark.parametrize(
    "yes", ["kör", "kör på", "självklart", "gärna", "javisst", "yes please", "Ja, tack!"]
)
def test_yes_words_save_at_the_chats_confirmation(chat_as, services, yes: str) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    chat.say("uppföljning Yrkeslärarsatsning")
    for answer in ("juni", "pågår", "1 mkr", "4 mkr", yes, "-"):
        chat.say(answer)
    [receipt] = chat.say(yes)  # the summary's confirmation
    assert receipt.text.startswith("Klart! Uppföljningen av **Yrkeslärarsatsning** för juni 2025")
    latest = services.ledger().latest_followup(_measure_id(services, "Yrkeslärarsatsning"))
    assert latest.usable_as_planned is True


@pytest.mark.parametrize("no", ["nej tack", "nä du", "inte nu", "0"])
def test_no_words_are_no_in_the_chat(chat_as, services, no: str) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    chat.say("uppföljning Yrkeslärarsatsning")
    for answer in ("juni", "pågår", "1 mkr", "4 mkr", no, "-"):
        chat.say(answer)
    [receipt] = chat.say("ja")
    assert receipt.text.startswith("Klart!")
    latest = services.ledger().latest_followup(_measure_id(services, "Yrkeslärarsatsning"))
    assert latest.usable_as_planned is False


def test_a_misspelt_status_in_the_chat_is_answered_with_a_suggestion(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    chat.say("uppföljning Yrkeslärarsatsning")
    [status] = chat.say("juni")
    assert status.actions == ["Pågående", "Klar", "Ej slutförd"]
    [again] = chat.say("pågånde")
    assert again.text.startswith('Okänd status "pågånde". Menade du Pågående?')
    assert chat.say("Pågående")[0].text == texts.ASK_SPENT


def test_ja_takes_the_suggested_status_in_the_chat(chat_as, services) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    chat.say("uppföljning Yrkeslärarsatsning")
    chat.say("juni")
    [again] = chat.say("avslutadd")
    assert again.text.startswith('Okänd status "avslutadd". Menade du Klar?')
    assert chat.say("ja")[0].text == texts.ASK_SPENT
    for answer in ("1 mkr", "4 mkr", "ja", "-", "ja"):
        chat.say(answer)
    latest = services.ledger().latest_followup(_measure_id(services, "Yrkeslärarsatsning"))
    assert latest.status == Status.DONE


def test_ja_without_a_suggestion_is_no_status(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    chat.say("uppföljning Yrkeslärarsatsning")
    chat.say("juni")
    [again] = chat.say("superduper")
    assert "Menade du" not in again.text
    [still] = chat.say("ja")
    assert still.text.startswith('Okänd status "ja".')


def test_the_form_offers_every_status() -> None:
    form = cards.followup_form([(1, "Yrkeslärarsatsning (GVN)")], period="2025-06")
    [status] = [e for e in form["body"] if e.get("id") == "status"]
    assert [c["title"] for c in status["choices"]] == [s.value for s in Status]  # "Ej slutförd" last


def test_the_form_says_the_same_as_the_chat_for_a_missing_title(chat_as) -> None:
    chat = _start_as_hr_of_fskn(chat_as)
    assert chat.say("-")[0].text.startswith(texts.TITLE_MISSING)
    [refused] = chat.say(
        {
            "action": "submit_measure",
            "unit": "FSKN",
            "title": "",
            "end_date": "2025-12-31",
            "amount": "1 mkr",
            "decision": "FSKN 2025-02-05 § 5",
        }
    )
    assert "- Titeln saknas." in refused.text and "Insats saknas" not in refused.text


def test_behalla_o_utveckla_is_one_category_and_shows_its_ampersand(chat_as) -> None:
    chat = _start_as_hr_of_fskn(chat_as)
    _to_the_amount(chat, categories="behålla o utveckla", start="juni 2025")
    chat.say("1 mkr")
    summary = decide(chat, "2025-02-05 § 5").card_text()
    assert Category.RETAIN.value in summary and Category.ORGANISATION.value not in summary
    assert "1 juni 2025" in summary  # a start month is its first day
    assert "\\&" not in summary


def test_an_ampersand_is_shown_without_a_backslash() -> None:
    assert texts.plain("Ledarskap & kommunikation") == "Ledarskap & kommunikation"
    assert texts.plain("&lt;b&gt;") == "\\&lt;b\\&gt;"  # an entity still shows as typed


def test_swedish_abbreviations_show_without_backslashes_but_addresses_stay_no_links() -> None:
    for text in ("t.ex. HLR", "bl.a. HLR", "m.fl.", "o.s.v.", "p.g.a. sjukdom"):
        assert texts.plain(text) == text
    assert texts.plain("evil.example") == "evil\\.example"
    assert texts.plain("10.0.0.1") == "10\\.0\\.0\\.1"
