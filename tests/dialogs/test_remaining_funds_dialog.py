"""Remaining funds, with the sources of every figure."""

from __future__ import annotations

from datetime import date

from core.model import Body, Decision, Measure, Role, Status
from dialogs import texts
from tests.dialogs.conftest import Chat


def test_remaining_for_forskolenamnden_with_its_decision(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("Hur mycket finns kvar för förskolenämnden?")
    assert "Förskolenämnden (FSKN) 2025: 15 000 000 kr kvar" in reply.text
    assert "KS 2025-03-05" in reply.text
    assert "Tilldelat: 15 000 000 kr" in reply.text
    assert "ingen uppföljning är rapporterad ännu" in reply.text
    assert "Ej fördelat på insatser: 1 500 000 kr" in reply.text
    [card] = reply.cards
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert "Förskolenämnden (FSKN)" in reply.card_text() and "15 000 000 kr" in reply.card_text()
    assert "KS 2025-03-05" in reply.card_text()


def test_spend_names_the_followups_and_who_wrote_them(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("saldo GVN")
    assert "GVN) 2025: 7 100 000 kr kvar" in reply.text
    assert "Utfall hittills: 2 400 000 kr – enligt 3 uppföljningar" in reply.text
    assert "Yrkeslärarsatsning: utfall 1 350 000 kr, prognos 4 000 000 kr" in reply.text
    assert "av HR, gymnasie- och vuxenutbildningsförvaltningen" in reply.text
    assert "juni 2025" in reply.text


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
    assert "KSAU 2025-06-20 § 5" in reply.text
    assert "500 000 kr från Yrkeslärare i vård och omsorg till Yrkeslärarsatsning" in reply.text
    assert "KSAU 2025-06-20 § 5" in reply.card_text()


def test_the_whole_fund_for_a_year(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [reply] = chat.say("kvar 2025")
    assert "Kompetensmedlen 2025" in reply.text
    assert "Fonden: 78 000 000 kr" in reply.text
    assert "KS 2025-03-05" in reply.text
    card = reply.card_text()
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
    assert "(GVN): 7 100 000 kr kvar" in reply.text and "(GSN)" in reply.text
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
    assert "Fonden: 78 000 000 kr" in reply.text


def test_last_years_fund_when_this_year_has_none(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE, today=date(2026, 3, 1))
    [reply] = chat.say("Hur mycket finns kvar för förskolenämnden?")
    assert "2025: 15 000 000 kr kvar" in reply.text


def test_menade_du_for_two_close_units(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    [question] = chat.say("saldo skolnämnden")
    assert question.text.startswith("Menade du …?")
    assert "Förskolenämnden" in question.text and "Grundskolenämnden" in question.text
    assert "Grundskolenämnden" in question.actions
    [reply] = chat.say("Grundskolenämnden")
    assert "Grundskolenämnden (GSN) 2025" in reply.text


def test_menade_du_answered_by_number_then_none(chat_as) -> None:
    chat = chat_as("sara", Role.CITY_OFFICE)
    chat.say("saldo skolnämnden")
    [again] = chat.say("9")
    assert again.text.startswith(texts.CHOICE_RETRY)
    assert chat.say("ingen")[0].text == texts.NO_CHOICE


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
            .assert_reply(has("15 000 000 kr", "KS 2025-03-05"))
            .assert_no_more_replies()  # the bot's runner sends no dialog-state trace
            .start_test()
        )

    asyncio.run(run())


def test_ksau_sees_the_whole_fund(chat_as) -> None:
    [reply] = chat_as("karl", Role.KSAU).say("Hur mycket finns kvar?")
    assert "Kompetensmedlen 2025" in reply.text and "Fonden: 78 000 000 kr" in reply.text


def test_a_unit_with_many_follow_ups_names_the_latest_in_text_and_card(chat_as, services) -> None:
    """Twelve follow-ups: the text and the card each name the eight latest and count the rest."""
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
    assert "enligt 12 uppföljningar" in reply.text
    card = reply.card_text()
    assert "Kurs 8: utfall 9 000 kr" in reply.text and "Kurs 8: utfall 9 000 kr" in card  # the latest
    assert "Kurs 0:" not in reply.text and "Kurs 0:" not in card  # the oldest of twelve
    assert texts.list_more(4) in reply.text and texts.list_more(4) in card
