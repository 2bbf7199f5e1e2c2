"""Routing free text and card submissions; lists; the words around everything."""

from __future__ import annotations

from datetime import date

from core.model import Role
from dialogs import texts
from tests.dialogs.conftest import counts, decide


def test_overdue_list(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("Vilka insatser är försenade?")
    assert reply.text.startswith("**Försenade insatser per 1 oktober 2025:")
    # Ended 30 September 2025 and ongoing: overdue; ended in June but done (Klar): not.
    assert "Sommarjobb för elever på vård- och omsorgsprogrammet (HVON) – Pågående – försenad" in reply.text
    assert "Inköp av föreläsning" not in reply.text
    assert "Yrkeslärarsatsning" not in reply.text


def test_overdue_list_for_a_chef_shows_only_their_units(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "HVON")
    [reply] = chat.say("vilka är försenade?")
    assert "Sommarjobb" in reply.text
    assert "(FSKN)" not in reply.text


def test_overdue_list_for_a_named_unit(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("Vilka insatser är försenade för GSN?")
    assert "för GSN" in reply.text and "(GSN)" in reply.text and "(HVON)" not in reply.text


def test_nothing_overdue(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN", today=date(2025, 7, 1))
    [reply] = chat.say("Vilka insatser är försenade?")
    assert reply.text == texts.no_overdue(date(2025, 7, 1), None)


def test_not_started_list(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GSN")
    [reply] = chat.say("vad har inte påbörjats?")
    assert "Insatser som inte har påbörjats" in reply.text
    assert "Elevhälsa, tillsätta ett projekt" in reply.text  # reported "Ej påbörjad" in June
    assert "Uppdragsutbildning för prioriterade skolor från Umeå universitet" not in reply.text  # ongoing


def test_a_list_for_a_user_without_a_role_is_refused(chat_as) -> None:
    [reply] = chat_as("nobody").say("Vilka insatser är försenade?")
    assert "Behörighet ges av stadskontorets HR-avdelning" in reply.text


def test_reallocation_is_explained(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("Flytta 300 000 från tekniska nämnden till miljönämnden")
    assert reply.text == texts.REALLOCATION_INFO
    assert "KSAU" in reply.text and "ksau" in reply.text


def test_help(chat_as) -> None:
    [reply] = chat_as("sara", Role.CITY_OFFICE).say("hjälp")
    for example in (
        "Hur mycket finns kvar för förskolenämnden?",
        "saldo GVN",
        "kvar 2025",
        "status Yrkeslärarsatsning",
        "Vilka insatser är försenade?",
        "vad har inte påbörjats?",
        "ny insats",
        "jag vill lämna en uppföljning",
        "avbryt",
    ):
        assert example in reply.text


def test_not_understood(chat_as) -> None:
    [reply] = chat_as("sara", Role.CITY_OFFICE).say("blablabla")
    assert reply.text == texts.NOT_UNDERSTOOD
    assert "hjälp" in reply.text


def test_greeting_uses_the_first_name(chat_as) -> None:
    [reply] = chat_as("sara", Role.CITY_OFFICE, name="Sara Svensson").say("hej")
    assert reply.text.startswith("Hej Sara!")


def test_cancel_with_nothing_to_cancel(chat_as) -> None:
    [reply] = chat_as("sara", Role.CITY_OFFICE).say("avbryt")
    assert reply.text == texts.NOTHING_TO_CANCEL


def test_an_unknown_card_is_refused(chat_as, services) -> None:
    from tests.dialogs.conftest import counts

    chat = chat_as("sara", Role.CITY_OFFICE)
    before = counts(services)
    assert chat.say({"action": "delete_everything"})[0].text == texts.UNKNOWN_FORM
    assert chat.say({"action": ["submit_measure"]})[0].text == texts.UNKNOWN_FORM
    assert counts(services) == before


def test_welcome_and_no_access_texts() -> None:
    assert "demoläge" in texts.welcome("Sara Svensson", True)
    assert "demoläge" not in texts.welcome("Sara Svensson", False)
    assert texts.welcome("Sara Svensson", False).startswith("Hej Sara!")
    assert texts.no_access("Sara").endswith("Behörighet ges av stadskontorets HR-avdelning.")
    assert texts.TRY_AGAIN_LATER == "Databasen svarar inte just nu. Försök igen om en stund."


def _dialog_stack(chat) -> list[str]:
    """The dialogs the conversation's stored state has begun (JSON, as stored)."""
    import json

    stored = [json.loads(v) for v in chat.storage._memory.values()]
    return [i["id"] for s in stored for i in (s.get("DialogState") or {}).get("dialog_stack", [])]


def test_a_question_that_names_its_unit_is_answered_without_beginning_a_dialog(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("Hur mycket finns kvar för förskolenämnden?")
    assert "15 000 000 kr kvar" in reply.text
    assert chat.storage._memory == {}  # no dialog state written for a one-turn answer
    [reply] = chat.say("status Yrkeslärarsatsning")
    assert "Yrkeslärarsatsning" in reply.text
    assert chat.storage._memory == {}
    [reply] = chat.say("Hur mycket finns kvar för nämnden?")  # no committee guessed for "nämnden"
    assert "Förskolenämnden" not in reply.text and "Menade du" not in reply.text


def test_did_you_mean_lists_each_candidate_once(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    [question] = chat.say("status yrkeslärare")
    assert question.text.startswith("Menade du …?")
    assert question.text.count("Yrkeslärare i vård och omsorg (GVN)") == 1
    assert question.text.count("Svara med numret") == 1
    assert question.actions == []  # more than Teams shows as buttons: numbered instead
    assert "Yrkeslärare i vård och omsorg" in chat.said("1")  # a number picks


def test_a_new_request_where_a_choice_was_asked_is_answered(chat_as) -> None:
    chat = chat_as("hanna", Role.HR, "GVN")
    chat.say("status yrkeslärare")  # "Menade du …?"
    intro, *_ = chat.say("ny insats")  # not one of the candidates: a request of its own
    assert intro.text == texts.SUBMIT_INTRO


def test_a_new_request_at_the_confirmation_leaves_the_unsaved_measure_and_is_answered(
    chat_as, services
) -> None:
    before = counts(services)
    chat = chat_as("hanna", Role.HR, "FSKN")
    chat.say("ny insats")
    for answer in ("Mentorskap", "-", "-", "-", "-", "31 december 2025", "-", "1 mkr"):
        chat.say(answer)
    confirm = decide(chat, "FSKN 2025-02-05 § 5")  # and no need (issue 21)
    assert confirm.text == texts.CONFIRM_MEASURE
    answer, kept = chat.say("hur mycket finns kvar för FSKN?")
    assert "Förskolenämnden (FSKN) 2025" in answer.text
    assert kept.text == texts.kept_offer(texts.KEPT_MEASURE, "Mentorskap")  # issue 19: kept, not lost
    chat.say("tack")  # not "ja" right after the offer: the confirmation is not taken up
    assert counts(services) == before


def test_an_answer_that_names_no_candidate_and_no_request_is_asked_again(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    chat.say("status yrkeslärare")
    [again] = chat.say("den blåa")
    assert again.text.startswith(texts.CHOICE_RETRY)


def test_thanks_is_answered(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    assert chat.say("Tack så mycket!")[0].text == texts.YOU_ARE_WELCOME


def test_my_measures_and_a_units_measures_by_plain_words(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    mine = chat.said("mina insatser")
    assert "Yrkeslärarsatsning (GVN)" in mine and "(FSKN)" not in mine
    units = chat.said("vilka insatser har gymnasieskolan")
    assert "Gymnasie- och vuxenutbildningsnämnden (GVN)" in units and "Yrkeslärarsatsning (GVN)" in units


def test_asking_for_the_dialog_under_way_goes_on_where_it_is(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    chat.say("uppföljning")  # which measure?
    [again] = chat.say("jag vill lämna en uppföljning")
    assert again.text.startswith(texts.CHOICE_RETRY) and texts.ASK_MEASURE in again.text
