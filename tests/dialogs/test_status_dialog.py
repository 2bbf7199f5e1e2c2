"""A measure's status and money, and lists of measures."""

from __future__ import annotations

from datetime import date

from core.model import Role, Status
from dialogs import texts


def test_status_of_yrkeslararsatsningen(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = chat.say("status Yrkeslärarsatsningen")
    assert "**Yrkeslärarsatsning** (GVN, id" in reply.text
    assert "Pågående" in reply.text and "försenad" not in reply.text
    assert "Slutdatum 31 december 2025" in reply.text
    assert "Tilldelat: 4 000 000 kr" in reply.text
    assert "Utfall hittills: 1 350 000 kr, prognos för året: 4 000 000 kr" in reply.text
    assert "Kvar: 2 650 000 kr" in reply.text
    assert "Senaste uppföljning (juni 2025), av HR, gymnasie- och vuxenutbildningsförvaltningen" in reply.text
    assert "Uppdragsutbildningen startade i april" in reply.text
    card = reply.card_text()
    assert "Yrkeslärarsatsning" in card and "1 350 000 kr" in card and "31 december 2025" in card


def test_hur_gar_det_med(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = chat.say("Hur går det med Yrkeslärarsatsningen?")
    assert "**Yrkeslärarsatsning**" in reply.text


def test_an_overdue_measure_says_so(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN", today=date(2026, 1, 15))
    [reply] = chat.say("status Yrkeslärarsatsning")
    assert "Pågående – försenad" in reply.text
    assert "slutdatumet 31 december 2025 har passerat" in reply.text
    assert "försenad" in reply.card_text()


def test_menade_du_for_close_measures_then_the_one_chosen(chat_as) -> None:
    """A name that fits many measures asks which one (a few that fit equally well are
    each answered briefly instead: test_understood_answers.py)."""
    chat = chat_as("sara", Role.CITY_OFFICE)
    [question] = chat.say("status yrkeslärare")
    assert question.text.startswith("Menade du …?")
    assert ". Yrkeslärare i vård och omsorg (GVN)" in question.text
    [reply] = chat.say("Yrkeslärare i vård och omsorg (GVN)")
    assert "**Yrkeslärare i vård och omsorg** (GVN, id 15)" in reply.text


def test_the_shared_measure_shows_how_it_is_divided(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("status Malmö Lär – gemensam samordningsresurs")
    assert "**Malmö Lär – gemensam samordningsresurs** (SBN, TN, MN" in reply.text
    assert "Fördelning mellan nämnder: MN 200 000 kr, SBN 300 000 kr, TN 200 000 kr" in reply.text
    assert "SBN" in reply.card_text() and "300 000 kr" in reply.card_text()


def test_menade_du_answered_by_number(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [question] = chat.say("status yrkeslärare")
    second = question.text.split("\n2. ", 1)[1].split(" (GVN)", 1)[0]
    [reply] = chat.say("2")
    assert f"**{second}** (GVN" in reply.text


def test_menade_du_with_one_unit_takes_any_yes_word(chat_as) -> None:
    """A stranger's tryout: "japp" written with an emoji or a question mark was no yes."""
    chat = chat_as("sara", Role.CITY_OFFICE)
    for yes in ("japp 👍", "japp?"):
        [question] = chat.say("status socialnämnden")
        assert question.text == "Menade du Arbetsmarknads- och socialnämnden?"
        [reply] = chat.say(yes)
        assert reply.text.startswith("**Insatser för Arbetsmarknads- och socialnämnden (ASN): 3 st.**"), yes


def test_menade_du_answered_by_a_near_spelling(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    chat.say("status yrkeslärare")
    [reply] = chat.say("yrkeslarare i vard och omsorg")
    assert "**Yrkeslärare i vård och omsorg** (GVN" in reply.text


def test_menade_du_with_a_bad_answer_asks_again(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    chat.say("status yrkeslärare")
    [again] = chat.say("blä")
    assert again.text.startswith(texts.CHOICE_RETRY)
    assert "Yrkeslärare i vård och omsorg (GVN)" in again.text


def test_a_chef_of_gvn_asking_about_an_fskn_measure_is_refused(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = chat.say("status Stärka formell kompetens")
    assert "inte behörighet att läsa för FSKN" in reply.text
    assert "Behörighet ges av stadskontorets HR-avdelning" in reply.text
    assert not reply.cards


def test_a_user_without_a_role_is_refused(chat_as) -> None:
    [reply] = chat_as("nobody").say("status Yrkeslärarsatsning")
    assert "Du har ingen roll i kompetensbot" in reply.text


def test_an_unknown_measure_lists_the_users_measures(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = chat.say("status qwertyuiop")
    assert 'Jag hittar ingen insats som matchar "qwertyuiop"' in reply.text
    assert "- Yrkeslärarsatsning (GVN)" in reply.text
    assert "Förskolenämnden" not in reply.text and "(FSKN)" not in reply.text


def test_a_units_measures(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = chat.say("status GVN")
    assert "Insatser för Gymnasie- och vuxenutbildningsnämnden (GVN): 13 st." in reply.text
    assert "- Yrkeslärarsatsning (GVN) – Pågående, slutdatum 31 december 2025" in reply.text


def test_status_alone_lists_what_the_user_may_see(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = chat.say("status")
    assert "Insatser du kan se: 13 st." in reply.text


def test_help_and_cancel_at_the_menade_du_prompt(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    chat.say("status yrkeslärare")
    help_reply, reprompt = chat.say("?")
    assert help_reply.text == texts.HELP
    assert reprompt.text.startswith("Menade du …?")
    assert [r.text for r in chat.say("stopp")] == [texts.CANCELLED]


def test_the_same_question_after_a_new_follow_up_gets_the_new_figures(chat_as, services) -> None:
    """Answers are rendered once per version of the city's data: a follow-up
    written in between (here outside the chat) shows in the next answer."""
    chat = chat_as("anna", Role.CHEF, "GVN")
    [before] = chat.say("status Yrkeslärarsatsningen")
    [again] = chat.say("status Yrkeslärarsatsningen")
    assert again.text == before.text and "Utfall hittills: 1 350 000 kr" in before.text
    services.add_followup(
        None,
        "Yrkeslärarsatsning",
        period="2025-09",
        status=Status.ONGOING,
        spent=2_100_000,
        forecast=3_900_000,
        usable_as_planned=True,
        note="Hösten är bokad.",
        author="HR GVN",
    )
    [after] = chat.say("status Yrkeslärarsatsningen")
    assert "Utfall hittills: 2 100 000 kr, prognos för året: 3 900 000 kr" in after.text
    assert "Hösten är bokad." in after.text and "2 100 000 kr" in after.card_text()
    [funds] = chat.say("saldo GVN")
    assert "2 100 000 kr" in funds.card_text()
