"""Remaining funds, with the sources of every figure."""

from __future__ import annotations

from datetime import date

from core.model import Body, Decision, Measure, Role, Status
from dialogs import texts
from tests.dialogs.conftest import Chat, grant


def test_remaining_for_forskolenamnden_with_its_decision(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("Hur mycket finns kvar för förskolenämnden?")
    assert "Förskolenämnden (FSKN) 2025: 15 000 000 kr kvar" in reply.text
    card = reply.card_text()
    assert "KS 2025-03-05" in card
    assert "Tilldelat: 15 000 000 kr" in card
    assert "ingen uppföljning är rapporterad ännu" in card
    assert "Ej fördelat på insatser: 1 500 000 kr" in card
    [card] = reply.cards
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert "Förskolenämnden (FSKN)" in reply.card_text() and "15 000 000 kr" in reply.card_text()
    assert "KS 2025-03-05" in reply.card_text()


def test_spend_names_the_followups_and_who_wrote_them(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("saldo GVN")
    assert "GVN) 2025: 7 100 000 kr kvar" in reply.text
    card = reply.card_text()
    assert "Utfall hittills: 2 400 000 kr – enligt 3 uppföljningar" in card
    assert "Yrkeslärarsatsning: utfall 1 350 000 kr, prognos 4 000 000 kr" in card
    assert "av HR, gymnasie- och vuxenutbildningsförvaltningen" in card
    assert "juni 2025" in card


def test_a_reallocation_is_shown_with_its_ksau_reference(chat_as, services) -> None:
    services.reallocate(
        None,
        "Yrkeslärare i vård och omsorg",
        "Yrkeslärarsatsning",
        500_000,
        Decision(Body.KSAU, date(2025, 6, 20), "5"),
    )
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("saldo GVN")
    assert "500 000 kr från Yrkeslärare i vård och omsorg till Yrkeslärarsatsning" in reply.card_text()
    assert "KSAU 2025-06-20 § 5" in reply.card_text()


def test_the_whole_fund_for_a_year(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("kvar 2025")
    assert "Kompetensmedlen 2025" in reply.text
    card = reply.card_text()
    assert "Fonden: 78 000 000 kr" in card
    assert "KS 2025-03-05" in card
    for name in ("Hälsa-, vård- och omsorgsnämnden (HVON)", "Kommunstyrelsen (KS)", texts.LABEL_TOTAL):
        assert name in card
    assert "78 000 000 kr" in card


def test_a_chef_without_a_unit_named_gets_their_own_unit(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = chat.say("Hur mycket finns kvar?")
    assert "Gymnasie- och vuxenutbildningsnämnden (GVN) 2025: 7 100 000 kr kvar" in reply.text
    assert "Förskolenämnden" not in reply.text + reply.card_text()


def test_a_chef_of_two_units_gets_both(chat_as, services) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    services.grant_role(None, "anna", Role.CHEF, "GSN")
    [reply] = chat.say("kvar 2025")
    assert "Dina nämnder 2025" in reply.text
    assert "(GVN)" in reply.card_text() and "7 100 000 kr" in reply.card_text()
    assert "(GSN)" in reply.card_text()
    assert "Förskolenämnden" not in reply.text + reply.card_text()


def test_a_chef_of_gvn_asking_about_fskn_is_refused(chat_as) -> None:
    chat = chat_as("anna", Role.CHEF, "GVN")
    [reply] = chat.say("Hur mycket finns kvar för förskolenämnden?")
    assert reply.text.startswith("Du har inte behörighet att läsa för FSKN. Dina roller: chef (GVN).")
    assert "Behörighet ges av stadskontorets HR-avdelning" in reply.text
    assert "15 000 000" not in reply.text and not reply.cards
    assert "anna" not in reply.text  # the Teams user's id (an AAD object id) is nothing to show


def test_a_user_without_a_role_is_refused(chat_as) -> None:
    chat = chat_as("nobody")
    [reply] = chat.say("kvar 2025")
    assert "Du har ingen roll i kompetensbot" in reply.text
    assert "Behörighet ges av stadskontorets HR-avdelning" in reply.text
    assert not reply.cards


def test_demo_mode_sees_the_whole_fund(chat_as) -> None:
    chat = chat_as("visitor", demo=True)
    [reply] = chat.say("kvar 2025")
    assert "Fonden: 78 000 000 kr" in reply.card_text()


def test_last_years_fund_when_this_year_has_none(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE, today=date(2026, 3, 1))
    [reply] = chat.say("Hur mycket finns kvar för förskolenämnden?")
    assert "2025: 15 000 000 kr kvar" in reply.text


def test_menade_du_for_two_close_units(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [question] = chat.say("saldo skolnämnden")
    assert question.text.startswith("Menade du …?")
    assert "Förskolenämnden" in question.text and "Grundskolenämnden" in question.text
    assert "Miljönämnden" not in question.text  # sharing "nämnden" is no likeness
    [reply] = chat.say("Grundskolenämnden")
    assert "Grundskolenämnden (GSN) 2025" in reply.text


def test_menade_du_answered_by_number_then_none(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    chat.say("saldo skolnämnden")
    [again] = chat.say("9")
    assert again.text.startswith(texts.CHOICE_RETRY)
    assert chat.say("ingen")[0].text == texts.NO_CHOICE


def test_menade_du_with_one_unit_takes_any_yes_word(chat_as) -> None:
    """A stranger's tryout: "ja" took the one unit offered, but a yes written otherwise
    ("japp", "japp 🙂", "japp?") did not: every yes word of core.vocabulary does."""
    chat = chat_as("sara", Role.CITY_OFFICE)
    for yes in ("japp", "japp 🙂", "japp?", "ja, tack!", "kör"):
        [question] = chat.say("kvar socialnämnden")
        assert question.text == "Menade du Arbetsmarknads- och socialnämnden?"
        [reply] = chat.say(yes)
        assert reply.text.startswith("**Arbetsmarknads- och socialnämnden (ASN) 2025: "), yes
    chat.say("kvar socialnämnden")
    [again] = chat.say("nej")  # no stays no: the name is asked again
    assert again.text == "Okej, skriv namnet igen."


def test_an_unknown_unit_lists_the_units(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("Hur mycket finns kvar för badhusnämnden?")
    assert 'Jag hittar ingen nämnd som heter "badhusnämnden"' in reply.text
    assert "Förskolenämnden (FSKN)" in reply.text and "Miljönämnden (MN)" in reply.text


def test_help_and_cancel_at_the_menade_du_prompt(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    chat.say("saldo skolnämnden")
    help_reply, reprompt = chat.say("hjälp")
    assert help_reply.text == texts.HELP
    assert reprompt.text.startswith("Menade du …?")
    [cancelled] = chat.say("avbryt")
    assert cancelled.text == texts.CANCELLED
    [fresh] = chat.say("saldo GVN")  # the next message starts afresh
    assert "GVN) 2025: 7 100 000 kr kvar" in fresh.text


def test_through_the_sdk_testflow(example_engine, services) -> None:
    """The same answer, asserted with the SDK's TestFlow."""
    import asyncio

    from microsoft_agents.testing import TestFlow

    services.grant_role(None, "sara", Role.CITY_OFFICE, None)
    chat = Chat(example_engine, "sara")

    def has(*needles: str):
        def check(activity) -> None:
            for needle in needles:
                assert needle in (activity.text or ""), activity.text

        return check

    async def run() -> None:
        flow = TestFlow(chat.adapter, chat.turn)
        await (
            flow.send("Hur mycket finns kvar för förskolenämnden?")
            .assert_reply(has("15 000 000 kr kvar", "15 000 000 kr tilldelat"))
            .assert_no_more_replies()  # the bot's runner sends no dialog-state trace
            .start_test()
        )

    asyncio.run(run())


def test_ksau_sees_the_whole_fund(chat_as) -> None:
    [reply] = chat_as("karl", Role.KSAU).say("Hur mycket finns kvar?")
    assert "Kompetensmedlen 2025" in reply.text and "Fonden: 78 000 000 kr" in reply.card_text()


def test_a_unit_with_many_follow_ups_names_the_latest_in_text_and_card(chat_as, services) -> None:
    """Twelve follow-ups: the card names the eight latest and counts the rest."""
    for n in range(9):
        measure = services.submit_measure(
            None,
            Measure(id=0, title=f"Kurs {n}", units=("GVN",), year=2025),
            {"GVN": 10_000},
            Decision(Body.COMMITTEE, date(2025, 4, 1)),
        )
        services.add_followup(
            None,
            str(measure.id),
            period=f"2025-{n + 1:02d}",
            status=Status.ONGOING,
            spent=1_000 * (n + 1),
            forecast=10_000,
            usable_as_planned=True,
        )
    [reply] = chat_as("sara", Role.CITY_OFFICE).say("saldo GVN")
    card = reply.card_text()
    assert "enligt 12 uppföljningar" in card
    assert "Kurs 8: utfall 9 000 kr" in card  # the latest
    assert "Kurs 0:" not in card  # the oldest of twelve
    assert texts.list_more(4) in card


# --- issue 17 --------------------------------------------------------------------------


def test_a_shared_measure_shows_the_units_share_and_names_the_total(chat_as) -> None:
    """Issue 17 item 8: MN's answer lists the shared measure's follow-up with MN's share
    (36 923 kr of the measure's 120 000 kr), and says which figure is the whole measure's."""
    [reply] = chat_as("sara", Role.CITY_OFFICE).say("saldo MN")
    assert "Miljönämnden (MN) 2025: 363 077 kr kvar" in reply.text
    card = reply.card_text()
    assert "MN:s andel: utfall 36 923 kr" in card
    assert "hela den gemensamma insatsen: utfall 120 000 kr" in card
    assert "arbete: utfall 120 000 kr" not in card  # never the total as if it were MN's


def test_this_year_without_money_names_the_latest_year_with_its_figure(chat_as) -> None:
    """Issue 17 item 9: "i år" on a day of 2026, when FSKN has no allocation for 2026,
    says so and gives 2025, the latest year it had one, with its figures."""
    chat = chat_as("sara", Role.CITY_OFFICE, today=date(2026, 12, 5))
    [reply] = chat.say("hur mycket finns kvar för förskolenämnden i år")
    assert reply.text.startswith("Förskolenämnden (FSKN) har inga medel för 2026")
    assert "Senast hade nämnden medel 2025: 15 000 000 kr tilldelat, 15 000 000 kr kvar." in reply.text
    assert not reply.cards


def test_a_chef_asking_for_this_year_without_money_gets_the_latest_year(chat_as) -> None:
    """Issue 17 item 9: a chef of GVN asking "i år" in 2026 hears of 2025, not just "no money"."""
    chat = chat_as("anna", Role.CHEF, "GVN", today=date(2026, 12, 5))
    [reply] = chat.say("hur mycket finns kvar i år")
    assert "har inga medel för 2026" in reply.text
    assert "Senast hade nämnden medel 2025: 9 500 000 kr tilldelat, 7 100 000 kr kvar." in reply.text


def test_a_recurring_allocation_without_a_fund_is_reserved_by_its_decision(chat_as) -> None:
    """Issue 17 item 9: 2026 has KS's recurring 1 000 000 kr but no fund: it is shown as
    reserved by its decision and the fund as "ej beslutat", never as a negative
    "Ej överfört från fonden"; the latest decided fund is named."""
    chat = chat_as("sara", Role.CITY_OFFICE, today=date(2026, 12, 5))
    for question in ("kvar i år", "kvar 2027"):
        [reply] = chat.say(question)
        said = reply.text + reply.card_text()
        assert "fonden för" in reply.text and "är ej beslutad" in reply.text
        assert "Fonden: ej beslutat" in reply.card_text()
        reserved = "Reserverat för 1 nämnd av återkommande beslut: 1 000 000 kr – enligt beslut KS 2025-03-05"
        assert reserved in said
        assert "Ej överfört från fonden" not in said and "-1 000 000" not in said and "−1 000 000" not in said
    assert "Senaste beslutade fond: 2025, 78 000 000 kr" in chat.said("kvar i år")
    [ks] = chat.say("saldo KS i år")
    assert "Kommunstyrelsen (KS) 2026: 1 000 000 kr kvar" in ks.text
    assert "reserverat enligt beslut KS 2025-03-05, årligen från och med 2025" in ks.text
    assert "fonden för 2026 är ej beslutad" in ks.text
    assert "Reserverat: 1 000 000 kr" in ks.card_text()


def test_a_year_without_a_fund_says_there_is_none(chat_as) -> None:
    """Issue 17 item 9: `kvar 2024` says there is no fund, not "0 kr kvar"."""
    [reply] = chat_as("sara", Role.CITY_OFFICE).say("kvar 2024")
    assert reply.text.startswith("Det finns ingen fond för 2024")
    assert "Senaste beslutade fond: 2025, 78 000 000 kr" in reply.text
    assert "2024: 0 kr kvar" not in reply.text and not reply.cards


def test_a_funds_answer_is_one_card_with_a_one_line_summary(chat_as, services) -> None:
    """Issue 17 item 10: one message, a card with the figures and a one-line text (not a
    text with the same figures beside the card)."""
    grant(services, "anna", Role.CHEF, "GVN")
    grant(services, "anna", Role.CHEF, "GSN")
    for chat, question in (
        (chat_as("sara", Role.CITY_OFFICE), "saldo GVN"),
        (chat_as("sara", Role.CITY_OFFICE), "kvar 2025"),
        (chat_as("anna"), "kvar 2025"),
    ):
        [reply] = chat.say(question)
        assert len(reply.cards) == 1, question
        assert "\n" not in reply.text.strip(), question
        for detail in ("Tilldelat: ", "Utfall hittills", "Prognos för året", "Källor"):
            assert detail not in reply.text, (question, detail)


def test_the_funds_answer_is_on_the_bots_date_as_the_command_lines(chat_as, services) -> None:
    """Review finding 1 (issue 17 item 6): with the bot's date 2025-06-05 the chat's funds
    answer leaves out the follow-ups reported later in June, as `funds --as-of` does: MN's
    utfall hittills is 0 kr (not the 36 923 kr reported on 12 June), the whole fund's 0 kr."""
    on_june_5 = services.funds(None, 2025, "MN", as_of=date(2025, 6, 5)).units[0]
    assert on_june_5.spent == 0  # what the command line says on that day
    chat = chat_as("sara", Role.CITY_OFFICE, today=date(2025, 6, 5))
    [mn] = chat.say("saldo MN")
    said = mn.text + mn.card_text()
    assert "utfall hittills 0 kr" in mn.text and "36 923" not in said
    [fund] = chat.say("kvar 2025")
    said = fund.text + fund.card_text()
    assert "utfall hittills 0 kr" in fund.text and "6 940 000" not in said
    [later] = chat_as("sara", today=date(2025, 10, 1)).say("saldo MN")
    assert "36 923" in later.text + later.card_text()  # reported by then
