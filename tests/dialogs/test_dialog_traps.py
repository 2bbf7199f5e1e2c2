"""Issue 19, "Dialogs that trap or lose work": in the measure and the follow-up
dialogs a question in a free-text field is answered and the field asked again,
"tillbaka" goes back a step, "ändra <fält>" changes a field and returns to the
confirmation, "nej" at the confirmation asks what to change, and a dialog left for
another question is kept and resumed with "fortsätt"; a "Menade du X?" answered
"nej" or with another name is a new search."""

from __future__ import annotations

from datetime import date

from core.model import Role
from dialogs import texts
from tests.dialogs.conftest import counts, decide, need_question
from tests.dialogs.test_followup_dialog import _form as followup_form

FSKN = "Förskolenämnden (FSKN)"


def _measure_chat(chat_as):
    chat = chat_as("hanna", Role.HR, "FSKN")
    chat.say("ny insats")
    return chat


def _to_confirmation(chat, amount="300 tkr"):
    for answer in ("Mentorskap", "-", "-", "-", "-", "2025-12-31", "-", amount):
        chat.say(answer)
    confirm = decide(chat, "FSKN 2025-02-05 § 5")  # and no need (issue 21)
    assert confirm.text == texts.CONFIRM_MEASURE
    return confirm


def _followup_chat(chat_as):
    chat = chat_as("gustav", Role.CHEF, "GVN")
    chat.say("jag vill lämna en uppföljning")
    return chat


def _followup_to_confirmation(chat):
    for answer in ("Yrkeslärarsatsningen", "2025-10", "pågår", "1,6 mkr", "4 mkr", "ja"):
        chat.say(answer)
    [confirm] = chat.say("Enligt plan")
    assert confirm.text == texts.CONFIRM_FOLLOWUP
    return confirm


# --- the measure ---------------------------------------------------------------------


def test_a_command_as_a_title_is_not_the_title(chat_as) -> None:
    chat = _measure_chat(chat_as)
    said, again = chat.say("lägg till en ny insats för grundskolan")
    assert said.text == texts.ALREADY_DOING
    assert again.text == texts.ask_again(texts.ASK_TITLE)
    assert chat.say("Mentorskap för nya chefer")[0].text == texts.ASK_DESCRIPTION  # a title is a title


def test_a_request_as_a_description_is_answered_and_asked_again(chat_as) -> None:
    chat = _measure_chat(chat_as)
    chat.say("Mentorskap")
    answer, again = chat.say("saldo förskolan")
    assert "Förskolenämnden" in answer.text
    assert again.text == texts.ask_again(texts.ASK_DESCRIPTION)


def test_back_asks_the_previous_field_again(chat_as) -> None:
    chat = _measure_chat(chat_as)
    chat.say("Mentorskap")
    [title] = chat.say("tillbaka")
    assert title.text == texts.ASK_TITLE
    assert chat.say("Mentorskap för chefer")[0].text == texts.ASK_DESCRIPTION
    [nothing] = chat.say("backa")
    assert nothing.text == texts.ASK_TITLE
    chat.say("Mentorskap för chefer")
    confirm = _to_confirmation_from_description(chat)
    assert "Mentorskap för chefer" in confirm.card_text()


def _to_confirmation_from_description(chat):
    for answer in ("-", "-", "-", "-", "2025-12-31", "-", "300 tkr"):
        chat.say(answer)
    return decide(chat, "FSKN 2025-02-05 § 5")  # and no need (issue 21)


def test_back_at_the_confirmation_asks_the_last_field(chat_as) -> None:
    chat = _measure_chat(chat_as)
    _to_confirmation(chat)
    [need] = chat.say("gå tillbaka")  # issue 21: the need, asked after the decision
    assert need.text == need_question()
    [decision] = chat.say("tillbaka")
    assert decision.text == texts.ask_decision(FSKN, "FSKN")
    assert decide(chat, "FSKN 2025-02-06 § 7").text == texts.CONFIRM_MEASURE


def test_nothing_before_the_first_question(chat_as) -> None:
    chat = _measure_chat(chat_as)
    nothing, again = chat.say("tillbaka")
    assert nothing.text == texts.NOTHING_TO_GO_BACK_TO
    assert again.text == texts.ASK_TITLE


def test_change_a_field_returns_to_the_confirmation(chat_as, services) -> None:
    chat = _measure_chat(chat_as)
    _to_confirmation(chat)
    [title] = chat.say("ändra titeln")
    assert title.text == texts.ASK_TITLE
    [confirm] = chat.say("Mentorskap för nya chefer")
    assert confirm.text == texts.CONFIRM_MEASURE
    assert "Mentorskap för nya chefer" in confirm.card_text() and "300 000 kr" in confirm.card_text()
    [end] = chat.say("ändra slutdatum")
    assert end.text == texts.ASK_END_DATE
    [confirm] = chat.say("30 november 2025")
    assert confirm.text == texts.CONFIRM_MEASURE and "30 november 2025" in confirm.card_text()
    before = counts(services)
    chat.say("ja")
    assert counts(services)[1] == before[1] + 1


def test_change_a_field_to_a_value_at_once(chat_as) -> None:
    chat = _measure_chat(chat_as)
    _to_confirmation(chat)
    [confirm] = chat.say("ändra beloppet till 200 tkr")
    assert confirm.text == texts.CONFIRM_MEASURE and "200 000 kr" in confirm.card_text()
    [refused] = chat.say("ändra beloppet till ca 450 000")  # the step's own validation
    assert texts.ask_amount(FSKN, 1_500_000, 2025) in refused.text
    assert chat.say("250 tkr")[0].text == texts.CONFIRM_MEASURE


def test_change_a_field_in_the_middle_returns_there(chat_as) -> None:
    chat = _measure_chat(chat_as)
    chat.say("Mentorskap")
    chat.say("Beskrivning")
    assert chat.say("ändra titel")[0].text == texts.ASK_TITLE
    assert chat.say("Ny titel")[0].text == texts.ASK_TARGET_GROUP


def test_start_over_saves_nothing(chat_as, services) -> None:
    before = counts(services)
    chat = _measure_chat(chat_as)
    chat.say("Mentorskap")
    replies = chat.say("börja om")
    assert replies[0].text == texts.RESTARTED
    assert replies[-1].text == texts.ASK_TITLE
    assert counts(services) == before


def test_no_at_the_confirmation_asks_what_to_change(chat_as, services) -> None:
    before = counts(services)
    chat = _measure_chat(chat_as)
    _to_confirmation(chat)
    [what] = chat.say("nej")
    assert what.text == texts.NOT_SAVED_FORM_BACK and what.cards  # the form, filled in, beside it
    assert chat.say("belopp")[0].text == texts.ask_amount(FSKN, 1_500_000, 2025)
    [confirm] = chat.say("400 tkr")
    assert confirm.text == texts.CONFIRM_MEASURE and "400 000 kr" in confirm.card_text()
    assert counts(services) == before


def test_leaving_at_the_confirmation_keeps_the_measure_to_resume(chat_as, services) -> None:
    chat = _measure_chat(chat_as)
    _to_confirmation(chat)
    replies = chat.say("saldo förskolan")
    assert "Förskolenämnden" in replies[0].text
    assert replies[-1].text == texts.kept_offer(texts.KEPT_MEASURE, "Mentorskap")
    assert all("Inget av det har sparats" not in r.text for r in replies)
    resumed, confirm = chat.say("fortsätt")
    assert resumed.text == texts.RESUMED
    assert confirm.text == texts.CONFIRM_MEASURE and "300 000 kr" in confirm.card_text()
    before = counts(services)
    chat.say("ja")
    assert counts(services)[1] == before[1] + 1


def test_yes_right_after_the_offer_resumes(chat_as) -> None:
    chat = _measure_chat(chat_as)
    _to_confirmation(chat)
    chat.say("saldo förskolan")
    resumed, confirm = chat.say("ja")
    assert (resumed.text, confirm.text) == (texts.RESUMED, texts.CONFIRM_MEASURE)


def test_the_kept_dialog_is_gone_after_a_day_and_cancel_drops_it(chat_as) -> None:
    chat = _measure_chat(chat_as)
    _to_confirmation(chat)
    chat.say("saldo förskolan")
    assert chat.say("avbryt")[0].text == texts.KEPT_DROPPED
    assert chat.say("fortsätt")[0].text == texts.NOTHING_TO_RESUME
    chat.say("ny insats")
    _to_confirmation(chat)
    chat.say("saldo förskolan")
    chat.today = date(2025, 10, 3)
    assert chat.say("fortsätt")[0].text == texts.KEPT_EXPIRED  # a day passed: said so
    assert chat.say("fortsätt")[0].text == texts.NOTHING_TO_RESUME


# --- the follow-up ------------------------------------------------------------------------


def test_followup_question_in_the_note_is_answered(chat_as) -> None:
    chat = _followup_chat(chat_as)
    for answer in ("Yrkeslärarsatsningen", "2025-10", "pågår", "1,6 mkr", "4 mkr", "ja"):
        chat.say(answer)
    answer, again = chat.say("hur mycket har gymnasienämnden kvar?")
    assert "Gymnasie" in answer.text
    assert again.text == texts.ask_again(texts.ASK_NOTE)
    assert chat.say("Enligt plan")[0].text == texts.CONFIRM_FOLLOWUP


def test_followup_back_change_and_no(chat_as) -> None:
    chat = _followup_chat(chat_as)
    chat.say("Yrkeslärarsatsningen")
    chat.say("2025-10")
    chat.say("pågår")
    assert chat.say("tillbaka")[0].text.startswith(texts.ASK_STATUS)
    chat.say("pågår")
    for answer in ("1,6 mkr", "4 mkr", "ja"):
        chat.say(answer)
    chat.say("Enligt plan")
    [forecast] = chat.say("ändra prognosen")
    assert forecast.text == texts.ask_forecast(1_600_000)
    assert chat.say("5 mkr")[0].text == texts.CONFIRM_FOLLOWUP
    [what] = chat.say("nej")
    assert what.text.startswith("Vad vill du ändra?")
    assert chat.say("kommentar")[0].text == texts.ASK_NOTE
    [confirm] = chat.say("Ny kommentar")
    assert confirm.text == texts.CONFIRM_FOLLOWUP and "Ny kommentar" in confirm.card_text()


def test_followup_left_and_resumed(chat_as, services) -> None:
    chat = _followup_chat(chat_as)
    _followup_to_confirmation(chat)
    replies = chat.say("saldo gymnasienämnden")
    assert replies[-1].text == texts.kept_offer(texts.KEPT_FOLLOWUP, "Yrkeslärarsatsning")
    resumed, confirm = chat.say("fortsätt")
    assert (resumed.text, confirm.text) == (texts.RESUMED, texts.CONFIRM_FOLLOWUP)
    before = counts(services)
    chat.say("ja")
    assert counts(services)[2] == before[2] + 1


def test_followup_for_a_unit_offers_its_measures_only(chat_as, services) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    replies = chat.say("ska lämna uppföljning för förskolan")
    asked = replies[-1]
    offered = asked.actions or asked.text.split("\n")[1:]
    assert asked.text.startswith(texts.ASK_MEASURE) and offered
    assert all("(FSKN" in line for line in offered if line.strip() and not line.startswith("Svara"))


# --- "Menade du X?" ---------------------------------------------------------------------


def _one_candidate(monkeypatch) -> None:
    """ "saldo förskolnämnd" read as one unsure candidate: "Menade du Förskolenämnden?"."""
    from dialogs import main_dialog, understanding
    from dialogs.understanding import Candidate, Intent, Understanding

    real = understanding.understand

    def understand(text, units, measures, today):
        if text == "saldo förskolnämnd":
            return Understanding(Intent.REMAINING, units=(Candidate("FSKN", "Förskolenämnden", 78.0),))
        return real(text, units, measures, today)

    monkeypatch.setattr(main_dialog, "understand", understand)


def test_no_to_did_you_mean_one_asks_the_name_again(chat_as, monkeypatch) -> None:
    _one_candidate(monkeypatch)
    chat = chat_as("sara", Role.CITY_OFFICE)
    [asked] = chat.say("saldo förskolnämnd")
    assert asked.text == texts.did_you_mean(["Förskolenämnden"], allow_none=True)
    [again] = chat.say("nej")
    assert again.text == texts.SEARCH_AGAIN  # not the same question again
    [answer] = chat.say("grundskolenämnden")
    assert "Grundskolenämnden (GSN)" in answer.text


def test_another_name_at_did_you_mean_is_a_new_search(chat_as, monkeypatch) -> None:
    _one_candidate(monkeypatch)
    chat = chat_as("sara", Role.CITY_OFFICE)
    chat.say("saldo förskolnämnd")
    [answer] = chat.say("grundskolenämnden")
    assert "Grundskolenämnden (GSN)" in answer.text
    chat.say("status yrkeslärare")  # "Menade du …?" over several
    [status] = chat.say("chefsutveckling")
    assert status.text.startswith("**Chefsutveckling**")


def test_plausible_values_are_values(chat_as) -> None:
    """Conservative: a title or a description that happens to hold a keyword is stored."""
    chat = _measure_chat(chat_as)
    assert chat.say("Uppföljning av chefers status")[0].text == texts.ASK_DESCRIPTION
    assert chat.say("Hur vi arbetar med status och budget")[0].text == texts.ASK_TARGET_GROUP


def test_a_status_question_in_a_field_is_answered_at_once(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    chat.say("ny insats för förskolenämnden")
    answer, again = chat.say("status språkutbildningar?")
    assert answer.text.startswith("**Språkutbildningar**")
    assert again.text == texts.ask_again(texts.ASK_TITLE)


def test_a_request_that_needs_a_dialog_is_answered_after_the_form(chat_as, services) -> None:
    chat = _measure_chat(chat_as)
    later, again = chat.say("jag vill lämna en uppföljning")
    assert later.text == texts.answer_after(texts.THE_MEASURE)
    assert again.text == texts.ask_again(texts.ASK_TITLE)
    _to_confirmation(chat)
    receipt, *after = chat.say("ja")
    assert receipt.text.startswith("Klart! Insatsen **Mentorskap**")
    assert after[0].text == texts.FOLLOWUP_INTRO  # the question asked in the form, now answered


def test_a_kept_dialog_from_before_an_update_is_not_resumed(chat_as) -> None:
    """A kept stack carries its layout (dialogs.state_codec.LAYOUT): one saved with other
    steps is not resumed at the wrong step."""
    import json

    chat = _measure_chat(chat_as)
    _to_confirmation(chat)
    chat.say("saldo förskolan")
    [key] = chat.storage._memory
    state = json.loads(chat.storage._memory[key])
    state["KeptDialog"]["dialog"]["layout"] = 1
    chat.storage._memory[key] = json.dumps(state)
    assert chat.say("fortsätt")[0].text == texts.NOTHING_TO_RESUME


# --- review of issue 19 -----------------------------------------------------------------


def test_another_name_at_did_you_mean_after_a_form_is_searched_not_the_kept_question(chat_as) -> None:
    """Review item 2: a question kept for after a form began the waterfall; another name at
    its "Menade du …?" searched that question again, the same "Menade du" forever."""
    chat = chat_as("sara", Role.CITY_OFFICE)
    chat.say("ny insats för förskolenämnden")
    later, _again = chat.say("jag vill lämna en uppföljning för yrkeslärare")
    assert later.text == texts.answer_after(texts.THE_MEASURE)
    _to_confirmation(chat)
    replies = chat.say("ja")
    assert replies[-1].text.startswith("Menade du …?")
    replies = chat.say("chefsutveckling")  # another name: searched, not the kept question
    assert not any(r.text.startswith("Menade du") for r in replies), [r.text for r in replies]
    assert replies[-2].text.startswith(texts.LABEL_TITLE + ": Chefsutveckling")
    assert replies[-1].text.startswith("Vilken period")


def test_nothing_kept_is_said_without_a_day_passing(chat_as) -> None:
    """Review item 9: with nothing ever kept, "fortsätt" said it was removed after a day."""
    chat = chat_as("hanna", Role.HR, "FSKN")
    [nothing] = chat.say("fortsätt")
    assert nothing.text == "Det finns inget påbörjat att fortsätta."


def test_a_second_dialog_kept_says_the_first_is_replaced(chat_as) -> None:
    """Review item 9: keep() overwrote a kept dialog without a word."""
    chat = _measure_chat(chat_as)
    _to_confirmation(chat)
    chat.say("saldo förskolan")  # "Mentorskap" kept
    chat.say("ny insats")
    for answer in ("Annan titel", "-", "-", "-", "-", "2025-12-31", "-", "300 tkr"):
        chat.say(answer)
    decide(chat, "FSKN 2025-02-05 § 5")
    replies = [r.text for r in chat.say("saldo förskolan")]
    assert texts.kept_replaced(texts.KEPT_MEASURE, "Mentorskap") in replies
    assert replies[-1] == texts.kept_offer(texts.KEPT_MEASURE, "Annan titel")
    resumed, confirm = chat.say("fortsätt")
    assert resumed.text == texts.RESUMED and "Annan titel" in confirm.card_text()


def test_a_question_kept_for_after_the_form_is_mentioned_on_cancel(chat_as, services) -> None:
    """Review item 9: "Det svarar jag på när vi är klara", then "avbryt": the question was lost unsaid."""
    before = counts(services)
    chat = _measure_chat(chat_as)
    chat.say("jag vill lämna en uppföljning")
    cancelled, question = chat.say("avbryt")
    assert cancelled.text == texts.CANCELLED
    assert question.text == texts.question_not_answered("jag vill lämna en uppföljning")
    assert counts(services) == before


def test_a_question_kept_for_after_the_form_survives_leaving_and_resuming_it(chat_as) -> None:
    """Review item 9: the form left for another request and resumed: the question asked in it
    is still answered when it ends."""
    chat = _measure_chat(chat_as)
    chat.say("jag vill lämna en uppföljning")
    _to_confirmation(chat)
    chat.say("saldo förskolan")
    resumed, confirm = chat.say("fortsätt")
    assert (resumed.text, confirm.text) == (texts.RESUMED, texts.CONFIRM_MEASURE)
    receipt, *after = chat.say("ja")
    assert receipt.text.startswith("Klart! Insatsen **Mentorskap**")
    assert after[0].text == texts.FOLLOWUP_INTRO


def test_a_note_that_begins_with_wrong_is_the_note(chat_as) -> None:
    """Review item 5: "Fel prognos förra månaden, nu rättad" as the note was taken as
    "change the forecast" and the note lost."""
    chat = _followup_chat(chat_as)
    for answer in ("Yrkeslärarsatsningen", "2025-10", "pågår", "1,6 mkr", "4 mkr", "ja"):
        chat.say(answer)
    [confirm] = chat.say("Fel prognos förra månaden, nu rättad")
    assert confirm.text == texts.CONFIRM_FOLLOWUP
    assert "Fel prognos förra månaden, nu rättad" in confirm.card_text()
    [forecast] = chat.say("fel prognos")  # the command alone still changes it
    assert forecast.text == texts.ask_forecast(1_600_000)


def test_till_later_in_a_change_is_no_new_value(chat_as) -> None:
    """Review item 5: "ändra beskrivningen, vi går över till distans" set the description to "distans"."""
    chat = _measure_chat(chat_as)
    chat.say("Mentorskap")
    chat.say("Första beskrivningen")
    [description] = chat.say("ändra beskrivningen, vi går över till distans")
    assert description.text == texts.ASK_DESCRIPTION  # asked again, nothing set
    assert chat.say("Vi går över till distans")[0].text == texts.ASK_TARGET_GROUP
    for answer in ("-", "-", "-", "2025-12-31", "-", "300 tkr"):
        chat.say(answer)
    confirm = decide(chat, "FSKN 2025-02-05 § 5")
    assert "Vi går över till distans" in confirm.card_text()


def test_change_a_field_to_a_value_at_its_own_question(chat_as) -> None:
    """Review item 8: "ändra beloppet till 200 tkr" at the amount's question said "Den frågan
    kommer vi till snart"."""
    chat = _measure_chat(chat_as)
    for answer in ("Mentorskap", "-", "-", "-", "-", "2025-12-31", "-"):
        chat.say(answer)
    [decision] = chat.say("ändra beloppet till 200 tkr")
    assert decision.text == texts.ask_decision(FSKN, "FSKN")  # taken as the answer
    confirm = decide(chat, "FSKN 2025-02-05 § 5")
    assert "200 000 kr" in confirm.card_text()


def test_change_a_field_at_its_own_question_asks_it_again(chat_as) -> None:
    chat = _measure_chat(chat_as)
    [title] = chat.say("ändra titeln")
    assert title.text == texts.ASK_TITLE
    assert chat.say("Mentorskap")[0].text == texts.ASK_DESCRIPTION


# --- a stranger's tryout, round 2 --------------------------------------------------------


def test_resume_in_a_form_asks_the_waiting_question_again(chat_as) -> None:
    """Tryout item 9: "fortsätt" at the title, the description or the note was saved as it."""
    chat = _measure_chat(chat_as)
    doing, title = chat.say("fortsätt")
    assert doing.text == texts.still_doing(texts.THE_MEASURE)
    assert title.text == texts.ASK_TITLE
    chat.say("Mentorskap")
    doing, description = chat.say("fortsätt")
    assert description.text == texts.ASK_DESCRIPTION
    confirm = _to_confirmation_from_description(chat)
    assert "fortsätt" not in confirm.card_text().lower() and "Mentorskap" in confirm.card_text()


def test_resume_at_the_followup_note_is_not_the_note(chat_as) -> None:
    """Tryout item 9: "saldo förskolan" at the note, then "fortsätt": saved as the note."""
    chat = _followup_chat(chat_as)
    for answer in ("Yrkeslärarsatsningen", "2025-10", "pågår", "1,6 mkr", "4 mkr", "ja"):
        chat.say(answer)
    *_answer, again = chat.say("saldo förskolan")
    assert again.text == texts.ask_again(texts.ASK_NOTE)
    doing, note = chat.say("fortsätt")
    assert doing.text == texts.still_doing(texts.THE_FOLLOWUP)
    assert note.text == texts.ASK_NOTE
    [confirm] = chat.say("Enligt plan")
    assert confirm.text == texts.CONFIRM_FOLLOWUP
    assert "Enligt plan" in confirm.card_text() and "fortsätt" not in confirm.card_text().lower()
    doing, confirm = chat.say("fortsätt")  # at the confirmation too: asked again, nothing saved
    assert (doing.text, confirm.text) == (texts.still_doing(texts.THE_FOLLOWUP), texts.CONFIRM_FOLLOWUP)


def _measure_card(**fields):
    card = {
        "action": "submit_measure",
        "unit": "FSKN",
        "title": "Mentorskap för nya chefer",
        "end_date": "2025-12-31",
        "amount": "1 mkr",
        "decision": "FSKN 2025-02-05 § 5",
    }
    return {**card, **fields}


def test_a_card_with_errors_keeps_the_chat_form(chat_as, services) -> None:
    """Tryout item 6: a card with errors ended the chat form in progress: the title lost."""
    chat = _measure_chat(chat_as)
    chat.say("Min titel")
    replies = chat.say(_measure_card(amount="abc", decision=""))
    assert (
        replies[0].text.startswith("Formuläret sparades inte.")
        and '"abc" är inte ett belopp' in replies[0].text
    )
    assert replies[-1].text == texts.kept_offer(texts.KEPT_MEASURE, "Min titel")
    resumed, description = chat.say("fortsätt")
    assert (resumed.text, description.text) == (texts.RESUMED, texts.ASK_DESCRIPTION)
    confirm = _to_confirmation_from_description(chat)
    assert confirm.text == texts.CONFIRM_MEASURE and "Min titel" in confirm.card_text()


def test_a_card_at_a_confirmation_keeps_the_measure(chat_as, services) -> None:
    """Tryout item 5: another card while a card's measure waited for "ja" dropped it silently;
    the "ja" then got "Varsågod!"."""
    chat = _measure_chat(chat_as)
    [confirm] = chat.say(_measure_card())
    assert confirm.text == texts.CONFIRM_MEASURE
    unknown, offer = chat.say({"action": "bogus"})
    assert unknown.text == texts.UNKNOWN_FORM
    assert offer.text == texts.kept_offer(texts.KEPT_MEASURE, "Mentorskap för nya chefer")
    resumed, confirm = chat.say("ja")  # right after the offer: resumed, not saved unseen
    assert (resumed.text, confirm.text) == (texts.RESUMED, texts.CONFIRM_MEASURE)
    before = counts(services)
    [receipt] = chat.say("ja")
    assert receipt.text.startswith("Klart! Insatsen **Mentorskap för nya chefer**")
    assert counts(services)[1] == before[1] + 1


def test_a_card_during_a_chat_followup_keeps_it_and_its_own_card_replaces_it(chat_as, services) -> None:
    """Tryout item 5: a card of another kind keeps the form under way; the form's own card, taken,
    takes its place (nothing offered after the receipt)."""
    chat = _followup_chat(chat_as)
    for answer in ("Yrkeslärarsatsningen", "2025-10", "pågår"):
        chat.say(answer)
    unknown, offer = chat.say({"action": "bogus"})
    assert offer.text == texts.kept_offer(texts.KEPT_FOLLOWUP, "Yrkeslärarsatsning")
    resumed, spent = chat.say("fortsätt")
    assert (resumed.text, spent.text) == (texts.RESUMED, texts.ASK_SPENT)
    [receipt] = chat.say(followup_form(services))
    assert receipt.text.startswith("Klart! Uppföljningen av **Yrkeslärarsatsning**")
    assert chat.say("fortsätt")[0].text == texts.NOTHING_TO_RESUME


def test_no_decision_keeps_the_measure_to_resume_at_the_decision(chat_as, services) -> None:
    """Tryout item 7: "inget beslut" ended the chat form; the decision typed next was read as
    a balance question and "fortsätt" had nothing."""
    before = counts(services)
    chat = _measure_chat(chat_as)
    for answer in ("Mentorskap", "-", "-", "-", "-", "2025-12-31", "-", "300 tkr"):
        chat.say(answer)
    [kept] = chat.say("inget beslut")
    assert kept.text == texts.NO_DECISION_KEPT and kept.cards
    assert counts(services) == before
    resumed, decision = chat.say("fortsätt")
    assert (resumed.text, decision.text) == (texts.RESUMED, texts.ask_decision(FSKN, "FSKN"))
    confirm = decide(chat, "FSKN 2025-02-05 § 5")
    assert confirm.text == texts.CONFIRM_MEASURE and "300 000 kr" in confirm.card_text()
    chat.say("ja")
    assert counts(services)[1] == before[1] + 1


def test_a_unit_not_ones_own_named_mid_form_is_said(chat_as) -> None:
    """Tryout item 10: "oj fel nämnd, det ska vara grundskolan" (HR of FSKN only) was silently
    ignored ("Nämnd: Förskolenämnden (FSKN)" and the amount asked again)."""
    chat = _measure_chat(chat_as)
    chat.say("Mentorskap")
    said, again = chat.say("oj fel nämnd, det ska vara grundskolan")
    assert said.text == texts.not_your_unit("Grundskolenämnden (GSN)", [FSKN])
    assert again.text == texts.ASK_DESCRIPTION  # nothing changed: the question it was at
    assert _to_confirmation_from_description(chat).text == texts.CONFIRM_MEASURE
    [said, confirm] = chat.say("ändra nämnd till GSN")  # at the confirmation too
    assert said.text == texts.not_your_unit("Grundskolenämnden (GSN)", [FSKN])
    assert confirm.text == texts.CONFIRM_MEASURE and FSKN in confirm.card_text()
