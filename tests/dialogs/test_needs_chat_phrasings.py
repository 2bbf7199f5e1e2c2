"""Issue 21, the needs in the chat as two strangers asked about them (HR, managers, the city office
and KSAU): money per role in ordinary words, a need by its id, a needs question in the middle of a
form, the need of a new measure by its role, a committee one may not read, and a city without a
fund. The example's own needs are used: Förskolenämnden's FSKN-1 (förskollärare, linked to
"Stärka formell kompetens"), FSKN-2 (förskollärare, introduktion, no measure), FSKN-3
(barnskötare, linked) and FSKN-4 (rektor, no measure); and Hägersten-Liljeholmen's plan of
2018–2019, a city without a fund."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.app.state.conversation_state import ConversationState
from sqlalchemy.engine import Engine

from bot.clock import clock_for
from bot.data_services import load_example
from bot.needs_services import NeedServices
from bot.teams_bot import run_dialog
from bot.turn_services import serve_turn
from core.model import Role, Status
from core.needs import NeedEntry, Period
from dialogs import texts
from dialogs.turn import Identity, set_identity
from tests.dialogs.conftest import TODAY, Chat
from tests.needs_builders import need

AT = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)
FORMAL = "Stärka formell kompetens"
"""FSKN's measure (id 7) linked to FSKN-1, with 6 000 000 kr in 2025."""
HL = "hagersten-liljeholmen"


@pytest.fixture
def needs(example_engine: Engine) -> NeedServices:
    return NeedServices(example_engine, org="malmo", clock=clock_for(TODAY))


def told(chat: Chat, asked: str) -> str:
    """The texts of the bot's replies to `asked`, one after the other."""
    return "\n".join(reply.text for reply in chat.say(asked))


def measure_id(needs: NeedServices, title: str) -> int:
    return next(m.id for m in needs.ledger().measures.values() if m.title == title)


# --- 1. money per role asked in ordinary words ---------------------------------------------------

NOT_A_COMMITTEE = ("Menade du", "Jag hittar ingen nämnd")


@pytest.mark.parametrize(
    ("asked", "role", "amount"),
    [
        ("hur mycket pengar går till förskollärare?", "Förskollärare", "6 000 000 kr"),
        ("hur mkt går till barnskötare?", "Barnskötare", "3 500 000 kr"),
        ("pengar till yrkesgruppen förskollärare", "Förskollärare", "6 000 000 kr"),
        ("hur mycket pengar går till förskollärarna i år", "Förskollärare", "6 000 000 kr"),
    ],
)
def test_money_for_an_occupation_is_the_money_per_role_not_a_committee(chat_as, asked, role, amount) -> None:
    text = told(chat_as("anna", Role.HR, "FSKN"), asked)
    assert not any(wrong in text for wrong in NOT_A_COMMITTEE), text
    assert f"**Pengar till kompetensbehov för {role} 2025**" in text
    assert f"- {role}: {amount}" in text
    assert "Källa:" in text


@pytest.mark.parametrize(
    ("asked", "starts"),
    [
        ("hur fördelas våra pengar per yrkesgrupp?", "**Pengar till kompetensbehov 2025**"),
        ("vilka behov har fskn förresten?", "**Behov i FSKN: 4 st.**"),
    ],
)
def test_the_questions_own_words_are_not_taken_for_an_unknown_role(chat_as, asked, starts) -> None:
    """A second stranger got 'inga behov för yrkesgruppen "fördelas"' and '… "förresten"'."""
    text = told(chat_as("anna", Role.HR, "FSKN"), asked)
    assert "yrkesgruppen" not in text, text
    assert text.startswith(starts), text
    assert "Förskollärare" in text and "Barnskötare" in text


def test_money_for_every_occupation_lists_each_role(chat_as) -> None:
    text = told(chat_as("anna", Role.HR, "FSKN"), "hur mycket pengar går till varje yrkesgrupp")
    assert text.startswith("**Pengar till kompetensbehov 2025**")
    assert "- Förskollärare: 6 000 000 kr" in text and "- Barnskötare: 3 500 000 kr" in text
    # FSKN's two measures that answer no need (Verktyg …, Hälsofrämjande insatser): counted apart,
    # not "Ej kopplat till behov: 0 kr" read as all money answering a need (a stranger did)
    assert "Utanför behoven: 4 000 000 kr 2025 i 2 insatser som inte svarar mot något behov." in text
    assert "Ej kopplat till behov: 0 kr" not in text


def test_money_for_an_occupation_in_the_whole_city(chat_as) -> None:
    text = told(chat_as("stina", Role.CITY_OFFICE), "hur mycket pengar går till förskollärare i hela stan?")
    assert "- Förskollärare: 6 000 000 kr" in text
    assert "Förskolenämnden (FSKN) 2025" not in text  # not the committee's money


def test_money_for_an_occupation_without_needs_names_the_roles_one_can_ask_about(chat_as) -> None:
    text = told(chat_as("anna", Role.HR, "FSKN"), "hur mycket pengar går till socialsekreterare")
    assert text.strip() == texts.unknown_role("socialsekreterare", ["Förskollärare", "Barnskötare", "Rektor"])


@pytest.mark.parametrize(
    "asked",
    ["hur mycket pengar går till socialsekr", "hur mycket pengar går till soc.sekr?", "hur mkt går till ssk"],
)
def test_abbreviated_occupations(chat_as, needs, asked) -> None:
    needs.assess(None, need("S1", "ASN", "Socialsekreterare"))
    needs.assess(None, need("H1", "HVON", "Sjuksköterska"))
    text = told(chat_as("stina", Role.CITY_OFFICE), asked)
    role = "Sjuksköterska" if "ssk" in asked else "Socialsekreterare"
    assert f"**Pengar till kompetensbehov för {role} 2025**" in text
    assert f"- {role}: 0 kr" in text or "Inga insatser med pengar 2025" in text


def test_a_role_the_vocabulary_does_not_know_is_answered_when_it_is_one_of_the_persons_needs(
    chat_as, needs
) -> None:
    """ "måltidsvärdar" is no occupation the understanding knows: the funds' question finds no
    committee, and the answer is the needs' money for the role, not "Jag hittar ingen nämnd"."""
    needs.assess(None, need("SN-1", "SN", "Måltidsvärd"))
    needs.link(
        None, "SN-1", "Kompetenshöjande insatser inom språk och digital mognad", author="Stadskontoret"
    )
    text = told(chat_as("sara", Role.HR, "SN"), "hur mycket pengar går till måltidsvärdarna?")
    assert not any(wrong in text for wrong in NOT_A_COMMITTEE), text
    assert "**Pengar till kompetensbehov för Måltidsvärd 2025**" in text
    # for one without that role among their needs it is still a committee not found
    other = told(chat_as("anna", Role.HR, "FSKN"), "hur mycket pengar går till måltidsvärdarna?")
    assert "Jag hittar ingen nämnd" in other and "Måltidsvärd" not in other


def test_a_committees_money_is_still_the_committees(chat_as) -> None:
    text = told(chat_as("anna", Role.HR, "FSKN"), "hur mycket pengar har förskolenämnden kvar?")
    assert "**Förskolenämnden (FSKN) 2025:" in text and "Pengar till kompetensbehov" not in text


# --- 2. a need by its id ------------------------------------------------------------------------


@pytest.mark.parametrize("asked", ["FSKN-3", "behov FSKN-3", "visa behov FSKN-3", "behov fskn-3?"])
def test_a_need_by_its_id(chat_as, asked) -> None:
    text = told(chat_as("anna", Role.HR, "FSKN"), asked)
    assert text.startswith("**Behov FSKN-3: Barnskötare** (FSKN, Förskola): Kompetenshöjning")
    assert "Behov i FSKN" not in text and "FSKN-1" not in text  # that need, not the committee's
    assert "Förskolenämnden (FSKN) 2025:" not in text  # nor the committee's money
    assert "Insatser kopplade till behovet (2025):" in text
    assert "(id 6, Ej påbörjad, 3 500 000 kr): svarar mot behovet 2025" in text
    assert "Källa: Förskolenämndens behov av tilldelning" in text
    assert "Behovet har bedömts en gång." in text


def test_a_need_by_its_id_with_people_reached_and_its_history(chat_as, needs, services) -> None:
    formal = measure_id(needs, FORMAL)
    services.add_followup(
        None, str(formal), period="2025-06", status=Status.ONGOING, spent=1_000_000, forecast=6_000_000,
        usable_as_planned=True, reached=14,
    )  # fmt: skip
    first = needs.need(None, "FSKN-1")
    needs.assess(None, NeedEntry(**{**{f: getattr(first, f) for f in first.__slots__}, "people": 40,
                                    "retirements": 6, "assessed": date(2025, 9, 1)}))  # fmt: skip
    for asked in ("vilka insatser svarar mot FSKN-1?", "visa behovet med id FSKN-1"):
        text = told(chat_as("anna", Role.HR, "FSKN"), asked)
        assert text.startswith("**Behov FSKN-1: Förskollärare** (FSKN, Förskola)")
        assert "40 personer, 6 pensionsavgångar inom två år" in text
        assert f"- {FORMAL} (id {formal}, Pågående, 6 000 000 kr): svarar mot behovet 2025; " in text
        assert "har nått 14 personer hittills" in text
        assert "Behovet har bedömts 2 gånger; tidigare bedömningar: 24 april 2024." in text


def test_a_stale_need_of_other_years_is_shown_in_a_year_it_covers(chat_as, needs) -> None:
    needs.assess(
        None, need("S9", "ASN", "Socialsekreterare", period=Period(2021, 2022), assessed=date(2021, 3, 1))
    )
    text = told(chat_as("stina", Role.CITY_OFFICE), "behov S9")
    assert text.startswith("**Behov S9: Socialsekreterare** (ASN)")
    assert "Behovet gäller 2021–2022, inte 2025: insatserna visas för 2022." in text
    assert "**bedömningen är äldre än två år**" in text
    assert "Ingen insats är kopplad till behovet." in text


def test_a_need_one_may_not_read_is_answered_as_an_unknown_id(chat_as, needs) -> None:
    needs.assess(None, need("G1", "GSN", "Lärare"))
    gsn = chat_as("gunnar", Role.HR, "GSN")
    hidden = told(gsn, "FSKN-3").strip()
    unknown = told(gsn, "FSKN-99").strip()
    assert hidden == unknown.replace("FSKN-99", "FSKN-3")  # nothing tells the two apart
    assert "Kända behov: G1." in hidden
    assert "Barnskötare" not in hidden and "FSKN-1" not in hidden


def test_an_unknown_id_names_the_readable_ids(chat_as) -> None:
    text = told(chat_as("anna", Role.HR, "FSKN"), "behov B9")
    assert (
        'Behovet "B9" finns inte bland behoven du kan se. Kända behov: FSKN-1, FSKN-2, FSKN-3, FSKN-4.'
        in text
    )


# --- 3. a needs question in the middle of a form ---------------------------------------------------

MEASURE = [
    "ny insats",
    "Mentorskap för nya förskollärare",
    "Erfarna förskollärare handleder nya",
    "Nyexaminerade förskollärare",
    "2",
    "2025-10-15",
    "2025-12-31",
    "HR",
    "100 000 kr",
    "FSKN 2025-02-05 § 5",
]
"""The measure form in the chat up to its need question."""


def to_the_need_question(chat: Chat) -> str:
    for said in MEASURE[:-1]:
        chat.say(said)
    [asked] = chat.say(MEASURE[-1])
    assert asked.text.startswith("Vilket behov svarar insatsen mot?")
    return asked.text


def test_a_needs_question_at_the_need_question_is_answered_and_the_question_asked_again(chat_as) -> None:
    chat = chat_as("anna", Role.HR, "FSKN")
    to_the_need_question(chat)
    answer, again = chat.say("vilka behov saknar insatser?")
    assert answer.text.startswith("**Behov utan insatser 2025: 2 av 4.**")
    assert again.text.startswith("… Och vilket behov svarar insatsen mot?")
    [confirm] = chat.say("2")  # the form is still here
    assert (
        confirm.text == texts.CONFIRM_MEASURE
        and "FSKN-2: Förskollärare – Introduktion" in confirm.card_text()
    )
    answer, again = chat.say("vilka behov saknar insatser?")  # at the confirmation too
    assert answer.text.startswith("**Behov utan insatser 2025:")
    assert again.text.startswith("… Och vill du spara insatsen?")
    assert "fortsätt" not in answer.text + again.text
    [saved] = chat.say("ja")
    assert "Insatsen är kopplad till behovet FSKN-2" in saved.text


def test_a_needs_question_in_a_text_field_without_a_question_mark(chat_as) -> None:
    chat = chat_as("anna", Role.HR, "FSKN")
    chat.say("ny insats")
    chat.say("Mentorskap")
    answer, again = chat.say("vilka behov saknar insatser")
    assert answer.text.startswith("**Behov utan insatser 2025:")
    assert again.text.startswith("… Och beskriv insatsen kort")


def test_a_needs_question_in_the_follow_up_form(chat_as) -> None:
    chat = chat_as("anna", Role.HR, "FSKN")
    [*_, which] = chat.say("jag vill lämna en uppföljning")
    assert "Vilken insats" in which.text
    answer, again = chat.say("behov FSKN-1")
    assert answer.text.startswith("**Behov FSKN-1: Förskollärare**")
    assert again.text.startswith("… Och vilken insats")
    [*_, period] = chat.say(FORMAL)  # the follow-up goes on
    assert "period" in period.text.lower() or "månad" in period.text.lower()


# --- 4. the need of a new measure by its role ---------------------------------------------------------


def test_a_role_with_two_needs_asks_which_and_a_kind_narrows_it(chat_as) -> None:
    chat = chat_as("anna", Role.HR, "FSKN")
    to_the_need_question(chat)
    [which] = chat.say("förskollärare")
    assert which.text.startswith("Flera behov passar: FSKN-1: Förskollärare – Kompetenshöjning; ")
    assert "FSKN-2: Förskollärare – Introduktion" in which.text and "FSKN-3" not in which.text
    assert which.actions == [
        "FSKN-1: Förskollärare – Kompetenshöjning",
        "FSKN-2: Förskollärare – Introduktion",
    ]
    [confirm] = chat.say("introduktion forskolarare")
    assert confirm.text == texts.CONFIRM_MEASURE
    assert "FSKN-2: Förskollärare – Introduktion" in confirm.card_text()


def test_the_need_is_changed_at_the_confirmation(chat_as, needs) -> None:
    chat = chat_as("anna", Role.HR, "FSKN")
    to_the_need_question(chat)
    chat.say("barnskötare")
    [confirm] = chat.say("vänta, ändra behovet till rektor istället")
    assert confirm.text == texts.CONFIRM_MEASURE and "FSKN-4: Rektor – Ledarskap" in confirm.card_text()
    [confirm] = chat.say("ändra behov till FSKN-3")
    assert "FSKN-3: Barnskötare – Kompetenshöjning" in confirm.card_text()
    [which] = chat.say("ändra behovet till förskollärare")
    assert which.text.startswith("Flera behov passar:")
    [confirm] = chat.say("FSKN-1")
    assert "FSKN-1: Förskollärare – Kompetenshöjning" in confirm.card_text()
    [saved] = chat.say("ja")
    assert "Insatsen är kopplad till behovet FSKN-1" in saved.text
    stored = max(needs.ledger().measures.values(), key=lambda m: m.id)
    assert [link.need for link in needs.all_needs().links_of_measure(stored.id)] == ["FSKN-1"]


# --- 5. a committee one may not read; where needs come from ------------------------------------------


def test_needs_of_a_committee_one_may_not_read_are_refused_as_such(chat_as) -> None:
    text = told(chat_as("gunnar", Role.HR, "GSN"), "vilka behov har förskolenämnden?")
    assert "Du har inte behörighet att läsa för FSKN" in text
    assert text.strip() != texts.NO_NEEDS and "Förskollärare" not in text


def test_no_needs_says_where_needs_come_from_not_the_command_line(chat_as) -> None:
    [answer] = chat_as("gunnar", Role.HR, "GSN").say("vilka behov saknar insatser?")
    assert answer.text == texts.NO_NEEDS
    assert 'mall (bladet "Behov")' in answer.text and "stadskontoret" in answer.text
    assert "kompetensbot" not in answer.text and "kommandorad" not in answer.text


def test_needs_of_other_years_say_who_registers_this_years(chat_as, needs) -> None:
    needs.assess(None, need("K1", "KN", "Bibliotekarie", period=Period(2018, 2019)))
    text = told(chat_as("karl", Role.CHEF, "KN"), "vilka behov saknar insatser?")
    assert "Inga av dina nämnders kompetensbehov gäller 2025: de som finns gäller 2018–2019" in text
    assert "registrera en ny bedömning" not in text
    assert 'En ny bedömning för 2025 kommer in med nämndens mall (bladet "Behov") till stadskontoret' in text


# --- 6. a city without a fund ---------------------------------------------------------------------------


@dataclass
class CityChat(Chat):
    """A chat in another city than Malmö (the conftest's Chat is Malmö's)."""

    org: str = HL

    async def turn(self, context: TurnContext) -> None:
        identity = Identity(org_slug=self.org, org_name=self.org, user_id=self.user_id, name=self.name)
        set_identity(context, identity)
        serve_turn(context, self.engine, identity, self.today)
        state = ConversationState(self.storage)
        await state.load(context)
        await run_dialog(self.dialog, context, state)
        await state.save(context)


@pytest.fixture
def hagersten(example_engine: Engine) -> CityChat:
    load_example(example_engine, HL)
    NeedServices(example_engine, org=HL).grant_role(None, "hl-hr", Role.HR, "HLSDN")
    return CityChat(example_engine, "hl-hr")


def test_money_per_role_in_a_city_without_a_fund_is_not_zero_kronor(hagersten) -> None:
    text = told(hagersten, "hur mycket satsar vi på socialsekreterare 2018?")
    assert "0 kr" not in text
    assert "staden har ingen fond för kompetensutveckling 2018 registrerad här" in text
    assert "- **Socialsekreterare** (behov B1, B4, B5): " in text
    assert "Introduktion och introduktionsutbildning för socialsekreterare och biståndshandläggare" in text
    assert "Praktik för socionomstudenter och elever på vård- och omsorgsprogrammet" in text


def test_money_per_every_role_in_a_city_without_a_fund(hagersten) -> None:
    text = told(hagersten, "hur mycket pengar går till varje yrkesgrupp 2018")
    assert "0 kr" not in text and "ingen fond" in text
    assert "- **Barnskötare** (behov B9): Grundutbildning för barnskötare" in text
    assert "- **Sjuksköterska** (behov B11): ingen insats är kopplad" in text


def test_a_need_by_id_in_a_city_without_a_fund(hagersten) -> None:
    text = told(hagersten, "behov B9")
    assert text.startswith("**Behov B9: Barnskötare** (HLSDN, Förskola)")
    assert "Behovet gäller 2018–2019, inte 2025: insatserna visas för 2019." in text
    assert "Grundutbildning för barnskötare" in text and "ska nå 30 personer" in text
    assert "**bedömningen är äldre än två år**" in text
