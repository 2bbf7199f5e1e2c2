"""Issue 19, "Misread or not understood": every answer uses what was understood (the
figure asked for, one's own units, a unit's share of a shared measure, list filters,
the measures and units named, the round, the glossary, the units, English, a second
question). The parser is tested on its own (test_understanding.py); here each
`Understanding` is given as the parser is to give it, and the reply is read as a
person reads it, through the chat harness."""

from __future__ import annotations

from datetime import date

import pytest

import dialogs.main_dialog
from bot.round_services import RoundServices
from core import vocabulary
from core.model import Role
from core.vocabulary import Figure, Filter, Intent
from dialogs import texts
from dialogs.understanding import Candidate, Understanding, understand
from tests.dialogs.conftest import Chat

_real_understand = understand


@pytest.fixture
def heard(monkeypatch):
    """heard("text", Understanding(...)): the chat understands "text" so (any other
    text as the parser does)."""
    meant: dict[str, Understanding] = {}

    def understand(text, units, measures, today):
        return meant[text] if text in meant else _real_understand(text, units, measures, today)

    monkeypatch.setattr(dialogs.main_dialog, "understand", understand)

    def given(text: str, understanding: Understanding) -> None:
        meant[text] = understanding

    return given


def unit(code: str, name: str) -> Candidate:
    return Candidate(code, name, 100.0)


def texts_of(chat: Chat, message: str) -> list[str]:
    return [r.text for r in chat.say(message)]


# --- 1. the figure asked for is the headline ---------------------------------------------


def test_the_figure_asked_for_a_unit_is_the_headline_with_the_other_figures_below(
    chat_as, heard, services
) -> None:
    heard(
        "utfall stadskontoret",
        Understanding(
            Intent.REMAINING, units=(unit("STK", "Stadskontoret"),), unit_codes=("STK",), figure=Figure.SPENT
        ),
    )
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("utfall stadskontoret")
    stk = services.funds(None, 2025, "STK").unit("STK")
    assert stk is not None and stk.spent == 430_000
    first, rest = reply.text.split("\n", 1)
    assert first == "**Utfall för Stadskontoret (STK) 2025: 430 000 kr**"
    assert (
        "2025: 2 070 000 kr kvar** av 2 500 000 kr tilldelat enligt beslut KS 2025-03-05" in rest
        and "(utfall hittills 430 000 kr)" in rest
    )
    assert "Chefsutveckling: utfall 250 000 kr" in reply.card_text()  # the sources are kept


def test_the_forecast_and_the_allocation_as_headlines(chat_as, heard) -> None:
    heard(
        "vad är kvar enligt prognos för hvon",
        Understanding(
            Intent.REMAINING, units=(unit("HVON", "HVON"),), unit_codes=("HVON",), figure=Figure.FORECAST
        ),
    )
    heard(
        "vad tilldelades SN",
        Understanding(
            Intent.REMAINING, units=(unit("SN", "SN"),), unit_codes=("SN",), figure=Figure.ALLOCATED
        ),
    )
    chat = chat_as("sara", Role.CITY_OFFICE)
    [forecast] = chat.say("vad är kvar enligt prognos för hvon")
    assert forecast.text.startswith(
        "**Prognos för Hälsa-, vård- och omsorgsnämnden (HVON) 2025: 14 250 000 kr**"
    )
    assert "(kvar enligt prognos" in forecast.text.split("\n")[0]
    [allocated] = chat.say("vad tilldelades SN")
    assert allocated.text.startswith("**Tilldelat för Servicenämnden (SN) 2025: ")


def test_the_figure_asked_for_the_whole_city(chat_as, heard, services) -> None:
    heard(
        "hur mycket har vi gjort av med totalt",
        Understanding(Intent.REMAINING, whole_fund=True, figure=Figure.SPENT),
    )
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("hur mycket har vi gjort av med totalt")
    spent = services.funds(None, 2025).spent
    assert reply.text.startswith(f"**Utfall för hela staden 2025: {texts.kr(spent)}**")
    assert "Kompetensmedlen 2025" in reply.text and "Fonden: 78 000 000 kr" in reply.card_text()


def test_kvar_stays_the_headline_when_no_figure_is_asked(chat_as, heard) -> None:
    heard(
        "saldo för fritid", Understanding(Intent.REMAINING, units=(unit("FRN", "FRN"),), unit_codes=("FRN",))
    )
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("saldo för fritid")
    assert reply.text.startswith("**Fritidsnämnden (FRN) 2025: ")
    assert "kvar**" in reply.text.split("\n")[0]


# --- 2. one's own units --------------------------------------------------------------------


def test_vi_is_the_chefs_own_unit(chat_as, heard) -> None:
    heard("hur mkt har vi kvar", Understanding(Intent.REMAINING, own=True))
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = chat.say("hur mkt har vi kvar")
    assert reply.text.startswith("**Gymnasie- och vuxenutbildningsnämnden (GVN) 2025: 7 100 000 kr kvar**")
    assert "mkt" not in reply.text


def test_vi_with_two_units_answers_each_briefly(chat_as, heard, services) -> None:
    heard("hur mycket har vi fått", Understanding(Intent.REMAINING, own=True, figure=Figure.ALLOCATED))
    chat = chat_as("anna", Role.CHEF, "GVN")
    services.grant_role(None, "anna", Role.CHEF, "GSN")
    [reply] = chat.say("hur mycket har vi fått")
    lines = reply.text.split("\n")
    fund = services.funds(None, 2025)
    allocated = sum(u.allocated for u in fund.units if u.code in ("GSN", "GVN"))
    assert lines[0] == f"**Tilldelat för dina nämnder 2025: {texts.kr(allocated)}**"
    assert lines[1].startswith("- Grundskolenämnden (GSN): tilldelat ")
    assert lines[2].startswith("- Gymnasie- och vuxenutbildningsnämnden (GVN): tilldelat ")
    assert "kvar 7 100 000 kr" in lines[2]
    assert "Förskolenämnden" not in reply.text + reply.card_text()


def test_vi_for_the_city_office_without_a_unit_is_the_whole_city(chat_as, heard) -> None:
    heard("hur mycket har vi kvar", Understanding(Intent.REMAINING, own=True))
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("hur mycket har vi kvar")
    assert reply.text.startswith("**Kompetensmedlen 2025: ")


def test_vi_for_the_city_office_with_a_unit_of_its_own_is_that_unit(chat_as, heard, services) -> None:
    heard("hur mycket har vi kvar", Understanding(Intent.REMAINING, own=True))
    chat = chat_as("sara", Role.CITY_OFFICE)
    services.grant_role(None, "sara", Role.HR, "FSKN")
    [reply] = chat.say("hur mycket har vi kvar")
    assert reply.text.startswith("**Förskolenämnden (FSKN) 2025: 15 000 000 kr kvar**")


# --- 3. a unit's share of a shared measure ---------------------------------------------------


def test_a_units_share_of_a_shared_measure(chat_as, heard) -> None:
    malmo_lar = Understanding(
        Intent.REMAINING,
        units=(unit("SBN", "Stadsbyggnadsnämnden"),),
        unit_codes=("SBN",),
        measure_ids=(47, 53),
        figure=Figure.ALLOCATED,
    )
    heard("vad har SBN fått för Malmö Lär?", malmo_lar)
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("vad har SBN fått för Malmö Lär?")
    lines = reply.text.split("\n")
    assert (
        lines[0]
        == "**Tilldelat för Stadsbyggnadsnämnden (SBN) i Malmö Lär – gemensam samordningsresurs: 300 000 kr**"
    )
    assert "Nämndens andel: tilldelat 300 000 kr" in reply.text
    assert "Hela den gemensamma insatsen (SBN, TN, MN, id 47): tilldelat 700 000 kr" in reply.text
    assert "MN 200 000 kr, SBN 300 000 kr, TN 200 000 kr" in reply.text
    assert "Samordning Malmö Lär" not in reply.text  # Stadskontoret's, not SBN's
    assert "Stadsbyggnadsnämnden (SBN) 2025" not in reply.text  # not the unit's whole balance


def test_a_units_share_kvar_by_default(chat_as, heard) -> None:
    heard(
        "hur mycket har miljönämnden kvar av malmö lär-pengarna",
        Understanding(
            Intent.REMAINING, units=(unit("MN", "Miljönämnden"),), unit_codes=("MN",), measure_ids=(47,)
        ),
    )
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("hur mycket har miljönämnden kvar av malmö lär-pengarna")
    assert reply.text.startswith(
        "**Kvar för Miljönämnden (MN) i Malmö Lär – gemensam samordningsresurs: 200 000 kr**"
    )


def test_a_share_of_another_unit_is_refused(chat_as, heard) -> None:
    heard(
        "vad har SBN fått för Malmö Lär?",
        Understanding(Intent.REMAINING, unit_codes=("SBN",), measure_ids=(47,), figure=Figure.ALLOCATED),
    )
    chat = chat_as("tove", Role.CHEF, "TN")  # TN shares the measure, but SBN's share is SBN's
    [reply] = chat.say("vad har SBN fått för Malmö Lär?")
    assert reply.text.startswith("Du har inte behörighet att läsa för SBN.")
    assert "300 000" not in reply.text


# --- 4. lists with a filter ------------------------------------------------------------------


def test_the_measures_that_are_done(chat_as, heard) -> None:
    heard("vilka insatser är klara?", Understanding(Intent.STATUS, filter=Filter.DONE))
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("vilka insatser är klara?")
    assert reply.text.startswith("**Klara insatser: 2 st.**")
    assert "Inköp av föreläsning kopplat till språkutveckling" in reply.text
    assert "Insats utbildning i konflikthantering" in reply.text
    assert "Yrkeslärarsatsning" not in reply.text


def test_the_measures_that_need_more_money(chat_as, heard) -> None:
    heard("vilka insatser behöver mer pengar?", Understanding(Intent.STATUS, filter=Filter.NEEDS_MONEY))
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("vilka insatser behöver mer pengar?")
    assert reply.text.startswith("**Insatser som behöver mer pengar (prognos över tilldelat): 1 st.**")
    assert "Undersköterskeutbildning" in reply.text


def test_the_measures_that_end_in_a_year(chat_as, heard) -> None:
    heard("vilka insatser tar slut 2026", Understanding(Intent.STATUS, filter=Filter.ENDS, year=2026))
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("vilka insatser tar slut 2026")
    assert reply.text.startswith("**Insatser som slutar 2026: 2 st.**")
    assert "Tidiga signaler på ohälsa" in reply.text and "Klimakterierelaterad ohälsa" in reply.text


def test_ongoing_in_a_unit_and_an_empty_list_says_so_with_its_filter(chat_as, heard) -> None:
    heard(
        "pågående insatser i gvn",
        Understanding(Intent.STATUS, units=(unit("GVN", "GVN"),), unit_codes=("GVN",), filter=Filter.ONGOING),
    )
    heard(
        "vilka insatser är klara i förskolan",
        Understanding(Intent.STATUS, units=(unit("FSKN", "FSKN"),), unit_codes=("FSKN",), filter=Filter.DONE),
    )
    heard("vilka är ej slutförda", Understanding(Intent.STATUS, filter=Filter.NOT_COMPLETED))
    chat = chat_as("sara", Role.CITY_OFFICE)
    ongoing = chat.say("pågående insatser i gvn")[0].text
    assert ongoing.startswith("**Pågående insatser för GVN: 3 st.**")
    assert "Yrkeslärarsatsning" in ongoing and "Undersköterskeutbildning" not in ongoing
    [empty] = texts_of(chat, "vilka insatser är klara i förskolan")
    assert empty == "Inga insatser för FSKN är klara."
    assert texts_of(chat, "vilka är ej slutförda") == ["Inga insatser är ej slutförda."]


def test_a_list_without_a_unit_is_what_the_chef_may_see(chat_as, heard) -> None:
    heard("vilka insatser är pågående", Understanding(Intent.STATUS, filter=Filter.ONGOING))
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = chat.say("vilka insatser är pågående")
    assert reply.text.startswith("**Pågående insatser: 3 st.**")
    assert "(HVON)" not in reply.text and "(STK)" not in reply.text


def test_a_list_of_another_units_measures_is_refused(chat_as, heard) -> None:
    heard(
        "visa insatserna för fritid",
        Understanding(Intent.STATUS, units=(unit("FRN", "FRN"),), unit_codes=("FRN",)),
    )
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = chat.say("visa insatserna för fritid")
    assert reply.text.startswith("Du har inte behörighet att läsa för FRN.")


def test_a_list_of_two_units_one_not_the_chefs_lists_the_other_and_says_so(chat_as, heard) -> None:
    """As for the money of two units (review item 7): one unit not theirs refused the whole list."""
    heard(
        "pågående insatser i gvn och frn",
        Understanding(Intent.STATUS, filter=Filter.ONGOING, unit_codes=("GVN", "FRN")),
    )
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = chat.say("pågående insatser i gvn och frn")
    lines = reply.text.split("\n")
    assert lines[0] == "Du kan inte se insatserna för FRN. Du kan bara se insatserna för GVN."
    assert lines[1].startswith("**Pågående insatser för GVN: 3 st.**")
    assert "(FRN)" not in reply.text and "(KN, FRN)" not in reply.text


def test_a_units_measures_without_a_filter(chat_as, heard) -> None:
    heard(
        "visa insatserna för fritid",
        Understanding(Intent.STATUS, units=(unit("FRN", "FRN"),), unit_codes=("FRN",)),
    )
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("visa insatserna för fritid")
    assert reply.text.startswith("**Insatser för Fritidsnämnden (FRN): 2 st.**")
    assert "Kompetenshöjande insats gällande digital omställning (KN, FRN)" in reply.text
    assert "kvar" not in reply.text  # the measures, not the balance


def test_my_overdue_measures_over_my_own_units(chat_as, heard) -> None:
    heard(
        "vilka av våra insatser är försenade", Understanding(Intent.STATUS, own=True, filter=Filter.OVERDUE)
    )
    chat = chat_as("hanna", Role.HR, "HVON")
    [reply] = chat.say("vilka av våra insatser är försenade")
    assert "Försenade insatser för HVON per 1 oktober 2025: 1 st." in reply.text
    assert "Sommarjobb för elever" in reply.text


def test_the_old_overdue_and_not_started_kinds_still_answer(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [overdue] = chat.say("Vilka insatser är försenade?")
    assert "Försenade insatser per 1 oktober 2025: 3 st." in overdue.text
    [not_started] = chat.say("vilka insatser har inte påbörjats i GVN")
    assert not_started.text.startswith("**Insatser för GVN som inte har påbörjats: 10 st.**")


# --- 5. the measures named ----------------------------------------------------------------------


def test_a_measure_by_id(chat_as, heard) -> None:
    heard("status 12", Understanding(Intent.STATUS, measure_ids=(12,)))
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("status 12")
    assert reply.text.startswith("**Yrkeslärarsatsning** (GVN, id 12): Pågående.")


def test_two_measures_named_are_answered_each_briefly_never_menade_du(chat_as, heard) -> None:
    heard("Hur ligger vi till med Malmö Lär?", Understanding(Intent.STATUS, measure_ids=(47, 53)))
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("Hur ligger vi till med Malmö Lär?")
    assert "Menade du" not in reply.text
    lines = reply.text.split("\n")
    assert lines[0] == "**2 insatser passar frågan; här är de i korthet:**"
    assert lines[1].startswith(
        "- **Malmö Lär – gemensam samordningsresurs** (SBN, TN, MN, id 47): Ej påbörjad; kvar"
    )
    assert lines[2].startswith("- **Samordning Malmö Lär** (STK, id 53): Ej påbörjad; kvar 450 000 kr")


def test_a_few_measures_show_only_those_the_person_may_read(chat_as, heard) -> None:
    heard("Hur ligger vi till med Malmö Lär?", Understanding(Intent.STATUS, measure_ids=(47, 53)))
    chat = chat_as("tove", Role.CHEF, "TN")
    [reply] = chat.say("Hur ligger vi till med Malmö Lär?")
    assert "id 47" in reply.text and "Samordning Malmö Lär" not in reply.text


def test_the_measure_wins_over_a_unit_also_named_in_a_money_question(chat_as, heard) -> None:
    heard(
        "är pengarna för språkutbildningarna i hvon använda?",
        Understanding(
            Intent.REMAINING,
            units=(unit("HVON", "HVON"),),
            unit_codes=("HVON",),
            measure_ids=(2,),
            figure=Figure.SPENT,
        ),
    )
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("är pengarna för språkutbildningarna i hvon använda?")
    assert reply.text.startswith(
        "**Utfall för Språkutbildningar (id 2): 0 kr**\n**Språkutbildningar** (HVON, id 2)"
    )
    assert "HVON) 2025:" not in reply.text  # not the unit's balance


def test_a_measure_named_without_a_figure_in_a_money_question_headlines_kvar(chat_as, heard) -> None:
    heard("hur mycket finns kvar i Chefsutveckling", Understanding(Intent.REMAINING, measure_ids=(52,)))
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("hur mycket finns kvar i Chefsutveckling")
    assert reply.text.startswith("**Kvar för Chefsutveckling (id 52): 650 000 kr**")


# --- 6. two or more units -----------------------------------------------------------------------


def test_two_units_each_briefly_and_their_sum_together(chat_as, heard, services) -> None:
    heard(
        "hur mycket fick kulturnämnden och fritidsnämnden tillsammans?",
        Understanding(Intent.REMAINING, unit_codes=("KN", "FRN"), together=True, figure=Figure.ALLOCATED),
    )
    heard("saldo för SN och GSN", Understanding(Intent.REMAINING, unit_codes=("SN", "GSN")))
    chat = chat_as("sara", Role.CITY_OFFICE)
    [both] = chat.say("hur mycket fick kulturnämnden och fritidsnämnden tillsammans?")
    fund = services.funds(None, 2025)
    kn, frn = fund.unit("KN"), fund.unit("FRN")
    assert kn is not None and frn is not None
    lines = both.text.split("\n")
    assert lines[0] == "**KN, FRN 2025, en rad per nämnd:**"
    assert lines[1].startswith(f"- Kulturnämnden (KN): tilldelat {texts.kr(kn.allocated)}")
    assert lines[2].startswith(f"- Fritidsnämnden (FRN): tilldelat {texts.kr(frn.allocated)}")
    assert lines[3].startswith(f"**Tillsammans: tilldelat {texts.kr(kn.allocated + frn.allocated)}")
    assert "Menade du" not in both.text
    [two] = chat.say("saldo för SN och GSN")
    assert "- Servicenämnden (SN): kvar" in two.text and "- Grundskolenämnden (GSN): kvar" in two.text
    assert "Tillsammans" not in two.text


def test_two_units_one_of_them_not_the_persons_answers_the_other_and_says_so(chat_as, heard) -> None:
    """Review item 7 and a stranger's tryout: one unit the person may not read refused the
    whole question, hiding the unit they may read."""
    heard("saldo fskn och gsn", Understanding(Intent.REMAINING, unit_codes=("FSKN", "GSN")))
    heard(
        "saldo gsn och fskn tillsammans",
        Understanding(Intent.REMAINING, unit_codes=("GSN", "FSKN"), together=True),
    )
    chat = chat_as("hanna", Role.HR, "FSKN")
    [reply] = chat.say("saldo fskn och gsn")
    lines = reply.text.split("\n")
    assert lines[0] == "Du kan inte se siffrorna för GSN. Du kan bara se siffrorna för FSKN."
    assert lines[1] == "**FSKN 2025, en rad per nämnd:**"
    assert lines[2].startswith("- Förskolenämnden (FSKN): kvar ")
    assert len(lines) == 3 and "Grundskolenämnden" not in reply.card_text()
    [together] = chat.say("saldo gsn och fskn tillsammans")
    assert together.text.startswith("Du kan inte se siffrorna för GSN.")
    assert "Förskolenämnden (FSKN): kvar" in together.text and "Tillsammans" not in together.text


def test_two_units_neither_of_them_the_chefs_is_refused(chat_as, heard) -> None:
    heard("saldo för FSKN och GSN", Understanding(Intent.REMAINING, unit_codes=("FSKN", "GSN")))
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = chat.say("saldo för FSKN och GSN")
    assert reply.text.startswith("Du har inte behörighet att läsa för FSKN.")
    assert "Dina roller: chef (GVN)" in reply.text and not reply.cards


def test_the_whole_city_asked_by_a_chef_says_they_see_only_their_own_unit(chat_as, heard) -> None:
    """A stranger's tryout: a chef asking for the whole city got their unit's figures with no
    word that the city was not theirs to see."""
    for text in ("hur mycket finns kvar totalt i hela staden?", "saldo alla nämnder"):
        heard(text, Understanding(Intent.REMAINING, whole_fund=True))
    chef = chat_as("anna", Role.CHEF, "GVN")
    note, answer = texts_of(chef, "hur mycket finns kvar totalt i hela staden?")
    assert note == "Du kan bara se siffrorna för GVN."
    assert answer.startswith("**Gymnasie- och vuxenutbildningsnämnden (GVN) 2025: 7 100 000 kr kvar**")
    hr = chat_as("hanna", Role.HR, "FSKN")
    note, answer = texts_of(hr, "saldo alla nämnder")
    assert note == "Du kan bara se siffrorna för FSKN." and answer.startswith(
        "**Förskolenämnden (FSKN) 2025:"
    )
    [city] = chat_as("sara", Role.CITY_OFFICE).say("saldo alla nämnder")  # the whole city, no note
    assert "Kompetensmedlen 2025" in city.text and "Du kan bara se" not in city.text


# --- 7. the round ---------------------------------------------------------------------------------


def _round(example_engine) -> None:
    RoundServices(example_engine, org="malmo").open(None, "2025-06")


def test_round_questions_are_answered_and_begin_no_dialog(chat_as, heard, example_engine) -> None:
    _round(example_engine)
    for text in (
        "hur många har svarat på uppföljningen?",
        "vem har inte svarat",
        "när är sista dag för junirapporten?",
    ):
        heard(text, Understanding(Intent.ROUND))
    chat = chat_as("sara", Role.CITY_OFFICE, today=date(2025, 6, 23))
    [status] = chat.say("hur många har svarat på uppföljningen?")
    assert status.text.startswith("**Uppföljningen juni 2025** (sista dag")
    assert "- Svar: " in status.text
    late = "\n".join(texts_of(chat, "vem har inte svarat"))
    assert late.startswith("**Uppföljningen juni 2025: de som inte har svarat**")
    [dates] = chat.say("när är sista dag för junirapporten?")
    assert dates.text.startswith("**Uppföljningen juni 2025** (efter sista dag)")
    assert "- Sista dag: " in dates.text and "- Öppnar: " in dates.text
    [after] = chat.say("saldo GVN")  # no dialog was begun: the next question is answered
    assert "GVN) 2025:" in after.text


def test_who_has_not_answered_for_a_chef_is_the_rounds_status(chat_as, heard, example_engine) -> None:
    _round(example_engine)
    heard("vem har inte svarat", Understanding(Intent.ROUND))
    chat = chat_as("anna", Role.CHEF, "GSN", today=date(2025, 6, 23))
    refused, status = texts_of(chat, "vem har inte svarat")
    assert "visas bara för stadskontoret och för nämndens HR" in refused
    assert status.startswith("**Uppföljningen juni 2025**") and "Gymnasie" not in status


def test_a_round_question_asked_second_is_read_from_its_own_part(chat_as, heard, example_engine) -> None:
    """Review item 17: the round's answer reads the question it was given, not the whole
    message ("ej svarat" in the first question is no question about who is late)."""
    _round(example_engine)
    heard(
        "vad betyder ej svarat? och när är sista dag",
        Understanding(Intent.GLOSSARY, terms=("utfall",), also=Understanding(Intent.ROUND)),
    )
    chat = chat_as("sara", Role.CITY_OFFICE, today=date(2025, 6, 23))
    glossary, dates = texts_of(chat, "vad betyder ej svarat? och när är sista dag")
    assert glossary.startswith("**Utfall**: ")
    assert dates.startswith("**Uppföljningen juni 2025** (efter sista dag)") and "- Sista dag: " in dates


def test_a_round_question_without_a_round(chat_as, heard) -> None:
    heard("när är sista dag för junirapporten?", Understanding(Intent.ROUND))
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("när är sista dag för junirapporten?")
    assert texts.NO_ROUND_YET in reply.text


# --- 8. the glossary, 9. the units ----------------------------------------------------------------


def test_every_glossary_term_has_an_explanation() -> None:
    assert set(vocabulary.GLOSSARY_WORDS.values()) <= set(texts.GLOSSARY_EXPLANATIONS)


def test_the_glossary_explains_one_or_two_terms_or_lists_them(chat_as, heard) -> None:
    heard("vad betyder prognos?", Understanding(Intent.GLOSSARY, terms=("prognos",)))
    heard(
        "vad är skillnaden mellan utfall och prognos?",
        Understanding(Intent.GLOSSARY, terms=("utfall", "prognos")),
    )
    heard("vad betyder det?", Understanding(Intent.GLOSSARY))
    chat = chat_as("anna", Role.CHEF, "GVN")
    [one] = texts_of(chat, "vad betyder prognos?")
    assert one.startswith("**Prognos**: vad pengarna väntas ha använts till vid årets slut")
    [two] = texts_of(chat, "vad är skillnaden mellan utfall och prognos?")
    assert two.split("\n")[0].startswith("**Utfall**: ") and two.split("\n")[1].startswith("**Prognos**: ")
    [listed] = texts_of(chat, "vad betyder det?")
    assert listed.startswith("Jag kan förklara de här orden: prognos, utfall, kvar, tilldelat")
    assert "ej slutförd, användbar" in listed


def test_the_units_are_listed_with_their_codes(chat_as, heard) -> None:
    heard("lista alla nämnder", Understanding(Intent.UNITS))
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = texts_of(chat, "lista alla nämnder")
    assert reply.startswith("**Stadens nämnder: 14 st.**")
    assert "- FSKN: Förskolenämnden" in reply and "- TN: Tekniska nämnden" in reply


# --- 10. English, 11. a second question -----------------------------------------------------------


def test_an_english_question_is_answered_in_swedish_with_a_note(chat_as, heard) -> None:
    heard(
        "How much money is left for the preschool board?",
        Understanding(Intent.REMAINING, units=(unit("FSKN", "FSKN"),), unit_codes=("FSKN",), english=True),
    )
    chat = chat_as("sara", Role.CITY_OFFICE)
    note, answer = texts_of(chat, "How much money is left for the preschool board?")
    assert note == "Jag svarar på svenska. (I answer in Swedish.)"
    assert answer.startswith("**Förskolenämnden (FSKN) 2025: 15 000 000 kr kvar**")


def test_a_second_question_answered_at_once_is_answered_too(chat_as, heard) -> None:
    heard(
        "saldo GVN och vad betyder prognos",
        Understanding(
            Intent.REMAINING,
            units=(unit("GVN", "GVN"),),
            unit_codes=("GVN",),
            also=Understanding(Intent.GLOSSARY, terms=("prognos",)),
        ),
    )
    heard(
        "vad betyder utfall, och hur mycket har GSN kvar?",
        Understanding(
            Intent.GLOSSARY,
            terms=("utfall",),
            also=Understanding(Intent.REMAINING, units=(unit("GSN", "GSN"),), unit_codes=("GSN",)),
        ),
    )
    chat = chat_as("sara", Role.CITY_OFFICE)
    funds, glossary = texts_of(chat, "saldo GVN och vad betyder prognos")
    assert "(GVN) 2025: 7 100 000 kr kvar" in funds and glossary.startswith("**Prognos**: ")
    glossary, funds = texts_of(chat, "vad betyder utfall, och hur mycket har GSN kvar?")
    assert glossary.startswith("**Utfall**: ") and "Grundskolenämnden (GSN) 2025:" in funds


def test_a_second_question_that_would_begin_a_dialog_is_offered(chat_as, heard) -> None:
    heard(
        "saldo GVN, och jag vill lägga till en ny insats",
        Understanding(
            Intent.REMAINING,
            units=(unit("GVN", "GVN"),),
            unit_codes=("GVN",),
            also=Understanding(Intent.SUBMIT_MEASURE),
        ),
    )
    chat = chat_as("sara", Role.CITY_OFFICE)
    funds, offer = texts_of(chat, "saldo GVN, och jag vill lägga till en ny insats")
    assert "(GVN) 2025:" in funds
    assert offer == "Du frågade också om en ny insats: skriv det igen så svarar jag."
    [after] = chat.say("saldo GSN")  # no dialog was begun
    assert "Grundskolenämnden (GSN) 2025:" in after.text


def test_a_second_question_is_named_by_a_kind_that_exists() -> None:
    """Review item 14: the offer names only kinds the parser gives (the lists are STATUS
    with a filter now, no kinds "overdue" or "not_started")."""
    assert set(texts.ALSO_SUBJECTS) <= {kind.value for kind in Intent}


def test_our_share_of_a_shared_measure(chat_as, heard) -> None:
    heard(
        "vad har vi fått för Malmö Lär?",
        Understanding(Intent.REMAINING, own=True, measure_ids=(47, 53), figure=Figure.ALLOCATED),
    )
    chat = chat_as("tove", Role.CHEF, "TN")
    [reply] = chat.say("vad har vi fått för Malmö Lär?")
    assert reply.text.startswith(
        "**Tilldelat för Tekniska nämnden (TN) i Malmö Lär – gemensam samordningsresurs: 200 000 kr**"
    )


def test_many_measures_named_are_counted_beyond_the_brief_ones(chat_as, heard) -> None:
    heard("status yrkeslärare", Understanding(Intent.STATUS, measure_ids=(12, 13, 14, 15, 16, 17, 18)))
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("status yrkeslärare")
    lines = reply.text.split("\n")
    assert lines[0] == "**5 insatser passar frågan; här är de i korthet:**"
    assert len(lines) == 7 and lines[-1] == texts.list_more(2)


def test_an_id_of_a_measure_the_person_may_not_see_is_one_that_does_not_exist(chat_as, heard) -> None:
    """Review item 7: a refusal naming the measure's units told a chef that id 42 exists and
    whose it is; it is answered as an id that names no measure."""
    heard("status 42", Understanding(Intent.STATUS, measure_ids=(42,)))
    heard("status 9999", Understanding(Intent.STATUS, measure_ids=(9999,)))
    chat = chat_as("anna", Role.CHEF, "GVN")
    [other] = chat.say("status 42")
    [none] = chat.say("status 9999")
    assert other.text == texts.no_measure_ids([42]) and none.text == texts.no_measure_ids([9999])
    assert "KN" not in other.text and "FRN" not in other.text and "behörighet" not in other.text
    assert not other.cards


def test_a_user_without_a_role_asking_for_an_id_is_told_so(chat_as, heard) -> None:
    heard("status 12", Understanding(Intent.STATUS, measure_ids=(12,)))
    [reply] = chat_as("nobody").say("status 12")
    assert "Du har ingen roll i kompetensbot" in reply.text


def test_many_measures_named_count_only_those_the_person_may_see(chat_as, heard) -> None:
    """Review item 7: "… och 4 till" counted three HVON measures a GVN chef may not see."""
    heard("status 1-3 och 12-17", Understanding(Intent.STATUS, measure_ids=(1, 2, 3, 12, 13, 14, 15, 16, 17)))
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = chat.say("status 1-3 och 12-17")
    lines = reply.text.split("\n")
    assert lines[0] == "**5 insatser passar frågan; här är de i korthet:**"
    assert lines[-1] == texts.list_more(1)
    assert "HVON" not in reply.text


def test_a_sub_activity_in_a_short_list_says_its_money_is_followed_on_the_main_measure(
    chat_as, heard
) -> None:
    """A stranger's tryout: "kvar 0 kr (tilldelat 0 kr …)" for a sub-activity read as no money."""
    heard("status 12 och 13", Understanding(Intent.STATUS, measure_ids=(12, 13)))
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("status 12 och 13")
    main, sub = reply.text.split("\n")[1:]
    assert main.startswith("- **Yrkeslärarsatsning** (GVN, id 12): Pågående; kvar ")
    assert sub.startswith("- **Del 1. Uppdragsutbildning till yrkeslärare") and "(GVN, id 13): " in sub
    assert sub.endswith("; delaktivitet, pengarna följs upp på huvudinsatsen Yrkeslärarsatsning (id 12).")
    assert "0 kr" not in sub


def test_a_measure_id_that_is_none(chat_as, heard) -> None:
    heard("status 999", Understanding(Intent.STATUS, measure_ids=(999,)))
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("status 999")
    assert reply.text.startswith("Jag hittar ingen insats med id 999.")


# --- found by a stranger's tryout: months, unknown ids, the round asked as a question -------


def test_the_measures_that_end_in_a_month_or_by_a_month(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("vilka insatser slutar i september")
    assert reply.text.startswith("**Insatser som slutar i september 2025: 3 st.**")
    assert "Sommarjobb för elever" in reply.text and "Yrkeslärarsatsning" not in reply.text
    [reply] = chat.say("vilka insatser ska vara klara före 1 oktober?")
    assert reply.text.startswith("**Insatser som slutar senast september 2025: 5 st.**")
    assert "Insats utbildning i konflikthantering" in reply.text  # ends 30 June


def test_an_id_that_names_no_measure_is_said_not_a_list_of_all(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("status 99")
    assert "99" in reply.text and "Insatser du kan se" not in reply.text


def test_must_i_give_a_follow_up_is_a_question_about_the_round_not_the_form(chat_as) -> None:
    chat = chat_as("anna", Role.HR, "FSKN")
    replies = texts_of(chat, "behöver jag lämna uppföljning nu? när är sista dagen")
    assert replies and not any("Vilken insats" in r for r in replies)
    [after] = chat.say("saldo")  # no form under way: the next message is a new question
    assert "kvar" in after.text


def test_ej_fordelat_is_explained(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("vad betyder ej fördelat på insatser")
    assert reply.text.startswith("**Ej fördelat**: det av nämndens tilldelade pengar")
    [reply] = chat.say("vad är KSAU?")
    assert reply.text.startswith("**KSAU**:")


def test_one_measure_in_the_brief_list_is_one_insats(chat_as, heard, monkeypatch) -> None:
    """Tryout wording (issue 19): "1 insatser passar frågan" when one of the measures named
    could not be read in the end."""
    from core.errors import NotFound, RuleError
    from dialogs import turn

    real = turn.call

    async def call(function, *args, **kwargs):
        if args[1:2] == ("53",):
            raise NotFound(RuleError("not_found", "Insatsen finns inte."))
        return await real(function, *args, **kwargs)

    monkeypatch.setattr("dialogs.status_dialog.call", call)
    heard("Hur ligger vi till med Malmö Lär?", Understanding(Intent.STATUS, measure_ids=(47, 53)))
    [reply] = chat_as("sara", Role.CITY_OFFICE).say("Hur ligger vi till med Malmö Lär?")
    assert reply.text.split("\n")[0] == "**1 insats passar frågan; här är den i korthet:**"
