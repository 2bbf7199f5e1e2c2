"""Issue 17, items 1, 2 and 9 (the measure's dates): a new measure lands under
the committee the person meant, the form goes through the same summary and
confirmation as the chat, and dates outside the money's year are questioned
before anything is saved."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.model import Role
from dialogs import texts
from tests.dialogs.conftest import Reply, counts, decide

FSKN = "Förskolenämnden (FSKN)"
GSN = "Grundskolenämnden (GSN)"
GVN = "Gymnasie- och vuxenutbildningsnämnden (GVN)"


def _inputs(reply: Reply) -> dict[str, dict[str, Any]]:
    """The form's inputs by id."""
    [form] = reply.cards
    return {e["id"]: e for e in form["body"] if "id" in e}


def _form(**fields: Any) -> dict[str, Any]:
    data = {
        "action": "submit_measure",
        "unit": "FSKN",
        "title": "Mentorskap för nya chefer",
        "description": "Nya chefer får en mentor.",
        "target_group": "Nyanställda förskolechefer",
        "categories": "ATTRACT,RETAIN",
        "start_date": "2025-10-15",
        "end_date": "2025-12-31",
        "performer": "Malmö Lär",
        "amount": "300 tkr",
        "decision": "2025-02-05 § 5",
        "once": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
    }
    data.update(fields)
    return data


def _newest(services):
    return max(services.ledger().measures.values(), key=lambda m: m.id)


# --- item 1: the form starts from what the chat settled, and is confirmed ------------


def test_the_form_preselects_the_unit_the_chat_settled(chat_as) -> None:
    """Issue 17 item 1: as stadskontoret, "ny insats förskolan": the chat says FSKN and
    the form in the same reply preselects FSKN (it preselected ASN, the first)."""
    chat = chat_as("sara", Role.CITY_OFFICE)
    intro, chosen, asked = chat.say("ny insats förskolan")
    assert intro.text == texts.SUBMIT_INTRO
    assert _inputs(intro)["unit"]["value"] == "FSKN"
    assert chosen.text == f"Nämnd: {FSKN}."
    assert asked.text == texts.ASK_TITLE


def test_the_form_preselects_no_unit_when_the_chat_asks_which(chat_as) -> None:
    """Issue 17 item 1: "ny insats" without a unit: the chat asks which, and the form
    chooses none for the person (it chose ASN)."""
    chat = chat_as("sara", Role.CITY_OFFICE)
    intro, asked = chat.say("ny insats")
    assert "value" not in _inputs(intro)["unit"]
    assert _inputs(intro)["unit"]["placeholder"] == texts.CHOOSE_UNIT
    assert asked.text.startswith(texts.ASK_UNIT)


def test_a_sent_form_is_summarised_and_confirmed_before_it_is_saved(chat_as, services) -> None:
    """Issue 17 item 1: the form sent as shown saved at once under the unit it showed;
    now it gets the chat's summary (the committee in it) and "ja"/"nej" first."""
    before = counts(services)
    chat = chat_as("sara", Role.CITY_OFFICE)
    chat.say("ny insats förskolan")
    [confirm] = chat.say(_form())
    assert confirm.text == texts.CONFIRM_MEASURE
    assert confirm.actions == ["ja", "nej"]
    summary = confirm.card_text()
    assert texts.MEASURE_SUMMARY_TITLE in summary and FSKN in summary and "300 000 kr" in summary
    assert counts(services) == before  # nothing written before "ja"
    [receipt] = chat.say("ja")
    assert receipt.text.startswith("Klart! Insatsen **Mentorskap för nya chefer** är sparad")
    assert receipt.text.endswith(f"från {FSKN}.")
    assert _newest(services).units == ("FSKN",)


def test_no_to_a_form_saves_nothing_and_gives_the_form_back_filled_in(chat_as, services) -> None:
    """Issue 17 item 1: the way back: "nej" saves nothing and sends the form again with
    everything given, the unit chosen, to change and send again."""
    before = counts(services)
    chat = chat_as("sara", Role.CITY_OFFICE)
    [confirm] = chat.say(_form(unit="ASN", amount="10 tkr"))
    assert "Arbetsmarknads- och socialnämnden (ASN)" in confirm.card_text()
    [back] = chat.say("nej")
    assert back.text == texts.NOT_SAVED_FORM_BACK
    inputs = _inputs(back)
    assert inputs["unit"]["value"] == "ASN"
    assert inputs["title"]["value"] == "Mentorskap för nya chefer"
    assert inputs["categories"]["value"] == "ATTRACT,RETAIN"
    assert (inputs["start_date"]["value"], inputs["end_date"]["value"]) == ("2025-10-15", "2025-12-31")
    assert inputs["amount"]["value"] == "10 000 kr"
    assert counts(services) == before
    # The changed form is confirmed and saved under the unit now chosen.
    changed = _form(unit="FSKN", once="b" * 32)
    assert chat.say(changed)[0].text == texts.CONFIRM_MEASURE
    assert chat.say("ja")[0].text.endswith(f"från {FSKN}.")
    assert _newest(services).units == ("FSKN",)


def test_no_in_the_chat_gives_the_form_filled_in_with_the_chat_answers(chat_as, services) -> None:
    """Issue 17 item 1: the form starts from what the chat settled, all of it."""
    chat = chat_as("hanna", Role.HR, "FSKN")
    chat.say("ny insats")
    for answer in ("Mentorskap", "Nya chefer får en mentor.", "-", "1", "1 november 2025", "31/12", "-"):
        chat.say(answer)
    chat.say("200 tkr")
    assert decide(chat, "2025-02-05 § 5", need="FSKN-4").text == texts.CONFIRM_MEASURE  # issue 21
    [back] = chat.say("nej")
    inputs = _inputs(back)
    assert inputs["unit"]["value"] == "FSKN"
    assert inputs["title"]["value"] == "Mentorskap"
    assert inputs["description"]["value"] == "Nya chefer får en mentor."
    assert inputs["categories"]["value"] == "ATTRACT"
    assert (inputs["start_date"]["value"], inputs["end_date"]["value"]) == ("2025-11-01", "2025-12-31")
    assert inputs["amount"]["value"] == "200 000 kr"
    assert inputs["decision"]["value"] == "FSKN 2025-02-05 § 5"
    assert inputs["need"]["value"] == "FSKN-4"  # the need chosen in the chat (issue 21)
    assert "value" not in inputs["performer"]  # skipped


def test_a_form_saved_before_is_not_asked_about_again(chat_as, services) -> None:
    """Issue 17 item 1: one card saves once; sent again it is said to be saved, at once."""
    chat = chat_as("hanna", Role.HR, "FSKN")
    chat.say(_form())
    chat.say("ja")
    before = counts(services)
    [told] = chat.say(_form())
    assert told.text.startswith("Det här är redan sparat")
    assert "Mentorskap för nya chefer" in told.text
    assert counts(services) == before


def test_a_form_with_a_title_taken_is_refused_before_the_confirmation(chat_as, services) -> None:
    """Issue 17 item 1: nothing is confirmed that cannot be saved."""
    chat = chat_as("hanna", Role.HR, "FSKN")
    [refused] = chat.say(_form(title="Yrkeslärarsatsning"))
    assert refused.text.startswith("Formuläret sparades inte.")
    assert "Yrkeslärarsatsning" in refused.text and "finns redan" in refused.text


# --- item 2: a unit not one's own is said, never switched silently ---------------------


def test_hr_asking_for_another_unit_is_told_and_chooses(chat_as, services) -> None:
    """Issue 17 item 2: hr for FSKN, "lägg till en ny insats för grundskolan": it said
    "Nämnd: Förskolenämnden (FSKN)." Now it says GSN is not theirs, names the units
    they may submit for and asks which, still in the dialog."""
    chat = chat_as("hanna", Role.HR, "FSKN")
    intro, told, asked = chat.say("lägg till en ny insats för grundskolan")
    assert intro.text == texts.SUBMIT_INTRO
    assert "value" not in _inputs(intro)["unit"]  # the form does not choose for them either
    assert told.text == (
        "Grundskolenämnden (GSN) är inte en av dina nämnder. "
        "Du kan lämna in insatser för Förskolenämnden (FSKN)."
    )
    assert asked.text.startswith(texts.ASK_UNIT)
    assert asked.actions == [FSKN]
    assert chat.say("grundskolan")[0].text.startswith(texts.CHOICE_RETRY)  # still not theirs
    assert [r.text for r in chat.say("förskolan")] == [texts.unit_chosen(FSKN), texts.ASK_TITLE]


def test_hr_of_two_units_is_told_both(chat_as, services) -> None:
    """Issue 17 item 2: every unit they may submit for is named."""
    chat = chat_as("hanna", Role.HR, "FSKN")
    chat_as("hanna", Role.HR, "GVN")
    _intro, told, asked = chat.say("ny insats för GSN")
    assert told.text == (f"{GSN} är inte en av dina nämnder. Du kan lämna in insatser för {FSKN} och {GVN}.")
    assert asked.actions == [FSKN, GVN]


def test_hr_naming_their_own_unit_goes_on(chat_as) -> None:
    """Issue 17 item 2: their own unit needs no question."""
    chat = chat_as("hanna", Role.HR, "FSKN")
    intro, chosen, asked = chat.say("ny insats för förskolan")
    assert _inputs(intro)["unit"]["value"] == "FSKN"
    assert (chosen.text, asked.text) == (f"Nämnd: {FSKN}.", texts.ASK_TITLE)


# --- item 9: dates outside the money's year are questioned ----------------------------


def _to_the_dates(chat) -> None:
    chat.say("ny insats")
    for answer in ("Vårens mentorskap", "-", "-", "-"):
        chat.say(answer)


def test_a_spring_2026_measure_on_2025_money_is_asked_about_and_can_be_changed(chat_as, services) -> None:
    """Issue 17 item 9: a Feb–Jun 2026 measure on 2025 money is questioned; "nej" asks the
    dates again, and good dates go on."""
    before = counts(services)
    chat = chat_as("hanna", Role.HR, "FSKN")
    _to_the_dates(chat)
    chat.say("1 februari 2026")
    [asked] = chat.say("30 juni 2026")
    assert asked.text == (
        "Startdatumet 1 februari 2026 ligger utanför 2025, det år som insatsens pengar gäller "
        "(menade du 1 februari 2025?). Slutdatumet 30 juni 2026 ligger utanför 2025, det år som "
        'insatsens pengar gäller (menade du 30 juni 2025?). Stämmer datumen ändå? Svara "ja" för att '
        'behålla dem eller "nej" för att skriva nya.'
    )
    assert asked.actions == ["ja", "nej"]
    assert [r.text for r in chat.say("nej")] == [texts.dates_again(2025), texts.ASK_START_DATE]
    chat.say("1 november 2025")
    assert chat.say("31 december 2025")[0].text == texts.ASK_PERFORMER
    chat.say("-")
    chat.say("100 tkr")
    confirm = decide(chat, "2025-02-05 § 5")
    assert confirm.text == texts.CONFIRM_MEASURE and "Observera" not in confirm.card_text()
    assert counts(services) == before


def test_dates_confirmed_in_the_chat_are_saved_as_given(chat_as, services) -> None:
    """Issue 17 item 9: "ja" keeps them; the summary does not ask a second time."""
    chat = chat_as("hanna", Role.HR, "FSKN")
    _to_the_dates(chat)
    chat.say("-")
    assert chat.say("30 juni 2026")[0].text.startswith("Slutdatumet 30 juni 2026 ligger utanför 2025")
    assert chat.say("ja")[0].text == texts.ASK_PERFORMER
    chat.say("-")
    chat.say("100 tkr")
    confirm = decide(chat, "2025-02-05 § 5")
    assert confirm.text == texts.CONFIRM_MEASURE
    chat.say("ja")
    assert _newest(services).end_date == date(2026, 6, 30)


def test_31_12_read_as_next_year_is_questioned(chat_as) -> None:
    """Issue 17 item 9: in January 2026, "31/12" for a measure on 2025 money is read as
    2026: asked about, with 31 december 2025 offered."""
    chat = chat_as("hanna", Role.HR, "FSKN", today=date(2026, 1, 10))
    _to_the_dates(chat)
    chat.say("-")
    [asked] = chat.say("31/12")
    assert asked.text.startswith(
        "Slutdatumet 31 december 2026 ligger utanför 2025, det år som insatsens pengar gäller "
        "(menade du 31 december 2025?)."
    )


def test_after_no_31_12_is_read_in_the_moneys_year(chat_as, services) -> None:
    """Review finding 7 (issue 17 item 9): the question offers "menade du 31 december 2025?";
    after "nej" the dates are asked again, said to be read in 2025, and "31/12" is then
    31 december 2025 (it was read against the bot's date again: 2026, the same question)."""
    chat = chat_as("hanna", Role.HR, "FSKN", today=date(2026, 1, 10))
    _to_the_dates(chat)
    chat.say("-")
    assert "(menade du 31 december 2025?)" in chat.say("31/12")[0].text
    again, start_question = chat.say("nej")
    assert again.text == "Skriv datumen igen. Ett datum utan år, som 31/12, gäller 2025."
    assert start_question.text == texts.ASK_START_DATE
    assert chat.say("1/11")[0].text == texts.ASK_END_DATE
    [next_question] = chat.say("31/12")
    assert next_question.text.startswith("Slutdatumet 31 december 2025 har redan passerat")  # not 2026
    assert "utanför 2025" not in next_question.text
    assert chat.say("ja")[0].text == texts.ASK_PERFORMER
    chat.say("-")
    chat.say("100 tkr")
    confirm = decide(chat, "2025-02-05 § 5")
    assert "1 november 2025" in confirm.card_text() and "31 december 2025" in confirm.card_text()


def test_an_end_date_already_past_is_questioned(chat_as) -> None:
    """Issue 17 item 9: ending 30 June 2025 on 1 October 2025."""
    chat = chat_as("hanna", Role.HR, "FSKN")
    _to_the_dates(chat)
    chat.say("1 mars 2025")
    [asked] = chat.say("30 juni 2025")
    assert asked.text.startswith("Slutdatumet 30 juni 2025 har redan passerat (i dag är det 1 oktober 2025).")


def test_a_form_with_dates_outside_the_year_is_confirmed_with_a_warning(chat_as, services) -> None:
    """Issue 17 item 9: the form goes to the confirmation with the question in it;
    "nej" saves nothing, "ja" (to the form sent again) saves."""
    before = counts(services)
    chat = chat_as("hanna", Role.HR, "FSKN")
    [confirm] = chat.say(_form(start_date="2026-02-01", end_date="2026-06-30"))
    assert confirm.text.startswith(
        "Observera: Startdatumet 1 februari 2026 ligger utanför 2025, det år som insatsens pengar gäller"
    )
    assert confirm.text.endswith('Vill du spara insatsen ändå? Svara "ja" eller "nej".')
    assert "Observera: Slutdatumet 30 juni 2026 ligger utanför 2025" in confirm.card_text()
    chat.say("nej")
    assert counts(services) == before
    chat.say(_form(start_date="2026-02-01", end_date="2026-06-30"))
    assert chat.say("ja")[0].text.startswith("Klart!")
    assert _newest(services).start_date == date(2026, 2, 1)


def test_someone_elses_one_time_key_does_not_tell_what_was_saved(chat_as, services) -> None:
    """Tryout 2 item 4: someone sending hr-fskn's one-time key (chef-gvn; here hr-gvn, with
    the form) was told "Det här är redan sparat: ... **<FSKN's title>**", a measure they may
    not see; now only one who may read it hears the title, others the plain sentence."""
    hanna = chat_as("hanna", Role.HR, "FSKN")
    hanna.say(_form())
    hanna.say("ja")
    before = counts(services)
    other = chat_as("hr-gvn", Role.HR, "GVN")
    told = "\n".join(a.text or "" for a in other.say(_form()))
    assert "Det här är redan sparat" in told
    assert "Mentorskap" not in told
    assert counts(services) == before
    [again] = hanna.say(_form())
    assert "Mentorskap för nya chefer" in again.text


def test_the_forms_unit_is_read_whatever_its_case(chat_as, services) -> None:
    """Tryout 2 item 6: stadskontoret's form with unit "fskn" was refused ('Du kan inte lämna in
    ... för "fskn"') though FSKN was in the list offered; the form's unit code is read whatever
    its case, and the summary to confirm follows."""
    chat = chat_as("stina", Role.CITY_OFFICE)
    replies = chat.say(_form(unit="fskn"))
    said = "\n".join(a.text or "" for a in replies)
    assert "Du kan inte lämna in" not in said
    assert replies[-1].text == texts.CONFIRM_MEASURE
    chat.say("ja")
    assert _newest(services).units == ("FSKN",)
