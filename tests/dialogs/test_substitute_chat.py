"""Substitutes in the chat (issue 22), as a person sees them: "Jag är ledig 16 juni–11 juli,
Per Persson ersätter mig" is confirmed before it is saved and "nej" or "avbryt" saves nothing;
HR names a substitute for someone in its committee and is told the person could not be
reached; a chef cannot name one for someone else; "vem ersätter mig?" lists; "jag är
tillbaka" ends the absence; an ambiguous name is asked about; what is missing is asked for.
And what a tester who had not seen the code found (days as written, past and backwards days,
the days asked for, questions and corrections during the confirmation, "Menade du …?",
"jag är tillbaka" only for the absence going on, overlaps, units only from explicit words, the
substitute told, a person without committees). And the message's words, read
(dialogs.substitute_words), table-tested."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine

from core.model import Role
from dialogs import texts
from dialogs.substitute_words import ME, Ask, read_request
from storage import people
from storage.people import Person
from storage.unit_of_work import UnitOfWork

JUNE_5 = date(2025, 6, 5)
JUNE_17 = date(2025, 6, 17)
PEOPLE = [
    Person("anna", "Anna Andersson", "anna.andersson@malmo.se"),
    Person("per", "Per Persson", "per.persson@malmo.se"),
    Person("bo", "Bo Ek", "bo.ek@malmo.se"),
    Person("olle", "Olle Olsson"),  # no address known: never shown by his id
]


@pytest.fixture
def known(example_engine: Engine) -> Engine:
    with UnitOfWork(example_engine, write=True) as repo:
        people.remember(repo.session.connection(), repo.org_id, PEOPLE, "test")
        repo.session.commit()
    return example_engine


def stored(engine: Engine) -> list[tuple[str, str, date, date, date | None]]:
    with UnitOfWork(engine) as repo:
        return [(s.absent, s.substitute, s.first, s.last, s.ended_on) for s in repo.substitutions()]


SET_MINE = "Jag är ledig 16 juni–11 juli, Per Persson ersätter mig"
CONFIRM_MINE = texts.substitute_confirm(
    "Per Persson", None, date(2025, 6, 16), date(2025, 7, 11), (), ["Förskolenämnden"]
)
PER_NOT_TOLD = (
    "Per Persson har inte fått något meddelande om det från mig (hen har inte öppnat någon chatt med "
    "kompetensbot ännu). Berätta det själv."
)


def test_a_person_names_their_substitute_after_a_confirmation(known: Engine, chat_as) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_5)
    [question] = chat.say(SET_MINE)
    assert question.text == (
        "Per Persson ersätter dig 16 juni–11 juli 2025. Under tiden får Per Persson läsa och följa upp "
        "Förskolenämndens insatser och svara på uppföljningen för dig, inget annat. Stämmer det? Svara ja "
        "eller nej."
    )
    assert question.actions == ["ja", "nej"]
    assert stored(known) == []
    saved, told = chat.say("ja")
    assert saved.text == "Sparat: Per Persson ersätter dig 16 juni–11 juli 2025."
    assert told.text == PER_NOT_TOLD  # the substitute is told too (item 14), or the one who set it is
    assert stored(known) == [("anna", "per", date(2025, 6, 16), date(2025, 7, 11), None)]
    chat.say(SET_MINE)
    [again] = chat.say("ja")
    assert again.text.startswith("Det var redan sparat") and len(stored(known)) == 1


@pytest.mark.parametrize("answer", ["nej", "avbryt", "nä, vänta"])
def test_a_change_of_mind_saves_nothing(known: Engine, chat_as, answer: str) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_5)
    [question] = chat.say(SET_MINE)
    assert CONFIRM_MINE in question.text
    replies = chat.say(answer)
    assert replies and replies[0].text in (texts.SUBSTITUTE_NOT_SAVED, texts.CANCELLED)
    assert stored(known) == []


def test_hr_names_a_substitute_for_a_chef_of_its_committee(known: Engine, chat_as, services) -> None:
    services.grant_role(None, "bo", Role.CHEF, "FSKN")
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_5)
    [question] = chat.say("Per ersätter Bo 16/6–11/7")
    assert question.text.startswith(
        "Per Persson ersätter Bo Ek 16 juni–11 juli 2025. Under tiden får Per Persson"
    )
    saved, told, told_per = chat.say("ja")
    assert saved.text == "Sparat: Per Persson ersätter Bo Ek 16 juni–11 juli 2025."
    assert told.text == (
        "Bo Ek har inte fått något meddelande om det från mig (hen har inte öppnat någon chatt med "
        "kompetensbot ännu). Berätta det själv."
    )
    assert told_per.text == PER_NOT_TOLD
    assert stored(known) == [("bo", "per", date(2025, 6, 16), date(2025, 7, 11), None)]


def test_a_chef_cannot_name_someone_elses_substitute(known: Engine, chat_as, services) -> None:
    services.grant_role(None, "anna", Role.HR, "FSKN")
    chat = chat_as("per", Role.CHEF, "GVN", name="Per Persson", today=JUNE_5)
    [refused] = chat.say("Bo ersätter Anna 16/6–11/7")
    assert refused.text == texts.refused(
        "Du kan bara ange ersättare för dig själv. HR anger ersättare för personer i sina nämnder, "
        "stadskontoret för alla. Personen har sina roller i FSKN."
    )
    assert not refused.actions and stored(known) == []


def test_the_list_and_the_return(known: Engine, chat_as) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_5)
    chat.say(SET_MINE)
    chat.say("ja")
    [listed] = chat.say("vem ersätter mig?")
    assert listed.text == "Ersättare nu och framåt:\n- Per Persson ersätter dig 16 juni–11 juli 2025"
    chat.today = JUNE_17
    [question] = chat.say("jag är tillbaka")
    assert question.text == (
        "Ska jag avsluta din frånvaro från 17 juni 2025? Per Persson ersätter dig då inte längre. "
        "Svara ja eller nej."
    )
    back, told = chat.say("ja")
    assert back.text == (
        "Välkommen tillbaka! Din frånvaro är avslutad från 17 juni 2025 (Per Persson ersätter inte längre)."
    )
    assert told.text == PER_NOT_TOLD  # the substitute is told he no longer is one
    assert stored(known) == [("anna", "per", date(2025, 6, 16), date(2025, 7, 11), JUNE_17)]
    [empty] = chat.say("mina ersättare")
    assert empty.text == texts.NO_SUBSTITUTES


def test_an_ambiguous_name_is_asked_about_and_what_is_missing_asked_for(known: Engine, chat_as) -> None:
    with UnitOfWork(known, write=True) as repo:
        people.remember(
            repo.session.connection(), repo.org_id, [Person("po", "Per Olsson", "per.olsson@malmo.se")], "t"
        )
        repo.session.commit()
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_5)
    [which] = chat.say("Per ersätter mig 16/6–11/7")
    assert which.text == texts.numbered(
        texts.which_person("Per"),
        ["Per Persson (per.persson@malmo.se)", "Per Olsson (per.olsson@malmo.se)"],
        allow_none=True,
    )
    [question] = chat.say("1")  # the one chosen: on to the confirmation
    assert question.text.startswith("Per Persson ersätter dig 16 juni–11 juli 2025.")
    assert [r.text for r in chat.say("nej")] == [texts.SUBSTITUTE_NOT_SAVED]
    assert [r.text for r in chat.say("Jag är ledig 16 juni–11 juli")] == [texts.SUBSTITUTE_WHO]
    assert "finns inte" in chat.said("Jag är ledig 31/6–11/7, Per Persson ersätter mig")
    [typo] = chat.say("jag e ledig 16 juni - 11 juli, per perssson ersäter mig")
    assert typo.text.startswith("Per Persson ersätter dig 16 juni–11 juli 2025")
    chat.say("avbryt")
    assert stored(known) == []


@pytest.mark.parametrize(
    ("text", "ask", "absent", "substitute", "days"),
    [
        (SET_MINE, Ask.SET, ME, "Per Persson", (date(2025, 6, 16), date(2025, 7, 11))),
        ("Per ersätter Anna 16/6–11/7", Ask.SET, "Anna", "Per", (date(2025, 6, 16), date(2025, 7, 11))),
        (
            "Jag har semester 16 juni till 11 juli och Per Persson är min vikarie",
            Ask.SET, ME, "Per Persson", (date(2025, 6, 16), date(2025, 7, 11)),
        ),
        (
            "jag är tjänstledig från 1/9 till 31/12, Bo Ek täcker upp för mig",
            Ask.SET, ME, "Bo Ek", (date(2025, 9, 1), date(2025, 12, 31)),
        ),
        (
            "Jag är föräldraledig 2025-08-01–2025-12-31. Ersättare: Sara Öberg",
            Ask.SET, ME, "Sara Öberg", (date(2025, 8, 1), date(2025, 12, 31)),
        ),
        (
            "Anna är borta 16-20 juni, Per vikarierar för henne",
            Ask.SET, "Anna", "Per", (date(2025, 6, 16), date(2025, 6, 20)),
        ),
        (
            "Per Persson ersätter Anna Andersson för FSKN 16/6–11/7",
            Ask.SET, "Anna Andersson", "Per Persson", (date(2025, 6, 16), date(2025, 7, 11)),
        ),
        (
            "ersättare för mig i sommar: per.persson@malmo.se 30/6-1/8",
            Ask.SET, ME, "per.persson@malmo.se", (date(2025, 6, 30), date(2025, 8, 1)),
        ),
        ("jag ersätter Anna 16/6-11/7", Ask.SET, "Anna", ME, (date(2025, 6, 16), date(2025, 7, 11))),
        ("vem ersätter mig?", Ask.LIST, None, None, (None, None)),
        ("vilka ersättare finns?", Ask.LIST, None, None, (None, None)),
        ("mina ersättare", Ask.LIST, None, None, (None, None)),
        ("avsluta min frånvaro", Ask.END, ME, None, (None, None)),
        ("Nu är jag tillbaka från semestern", Ask.END, ME, None, (None, None)),
        ("avsluta Annas frånvaro", Ask.END, "Anna", None, (None, None)),
        ("Anna Andersson är tillbaka", Ask.END, "Anna Andersson", None, (None, None)),
    ],
)  # fmt: skip
def test_what_a_substitute_message_says(
    text: str, ask: Ask, absent: str | None, substitute: str | None, days: tuple[date | None, date | None]
) -> None:
    request = read_request(text, JUNE_5)
    assert (request.ask, request.absent, request.substitute, (request.first, request.last)) == (
        ask,
        absent,
        substitute,
        days,
    )


# --- what a tester found in the chat (bot's today 5 and 17 June 2025) ---------------------------------

RIGHTS = (
    "Under tiden får Olle Olsson läsa och följa upp Förskolenämndens insatser och svara på uppföljningen "
    "för dig"
)


def confirm_mine(substitute: str, first: date, last: date) -> str:
    """The first words of the confirmation of `substitute` for the writer."""
    return f"{substitute} ersätter dig {texts.absence_days(first, last)}."


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("olle ersätter mig 16/6-30/6", "16–30 juni 2025"),  # an absence already begun: this year
        ("olle ersätter mig 16/6-11/7", "16 juni–11 juli 2025"),
        ("jag är ledig 1/5-10/5 2026, olle tar över", "1–10 maj 2026"),
        ("olle ersätter mig fr.o.m. imorgon t.o.m. 20 juni", "18–20 juni 2025"),
        ("olle ersätter mig 2025-07-14 -- 2025-08-01", "14 juli–1 augusti 2025"),
        ("olle ersätter mig 14/7 tom 1/8", "14 juli–1 augusti 2025"),
        ("olle ersätter mig 20/12-6/1", "20 december 2025–6 januari 2026"),
        ("jag är ledig v. 27–28, olle tar över", "30 juni–13 juli 2025"),
        ("jag har semester hela juli, olle ersätter mig", "1–31 juli 2025"),
        ("olle tar hand om det i juli", "1–31 juli 2025"),
    ],
)
def test_the_days_as_written_are_confirmed(known: Engine, chat_as, message: str, shown: str) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_17)
    [question] = chat.say(message)
    assert question.text.startswith(f"Olle Olsson ersätter dig {shown}. {RIGHTS}"), question.text
    chat.say("nej")


@pytest.mark.parametrize(
    ("message", "said"),
    [
        ("olle ersätter mig 1/6-10/6", "Frånvaron slutade 10 juni 2025, före i dag (17 juni 2025)."),
        (
            "jag var ledig 1/5-10/5, olle ersatte mig",
            "Frånvaron slutade 10 maj 2025, före i dag (17 juni 2025).",
        ),
        (
            "jag är ledig 1/5-10/5 2025, olle ersätter mig",
            "Frånvaron slutade 10 maj 2025, före i dag (17 juni 2025).",
        ),
        ("olle ersätter mig 10/7-1/7", "Frånvaron slutar (1 juli 2025) före den börjar (10 juli 2025)."),
    ],
)
def test_days_over_or_backwards_are_refused(known: Engine, chat_as, message: str, said: str) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_17)
    [refused] = chat.say(message)
    assert said in refused.text and not refused.actions
    assert stored(known) == []


def test_the_days_asked_for_are_taken_and_name_the_absent_person(known: Engine, chat_as, services) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_17)
    [ask] = chat.say("olle ersätter mig")
    assert ask.text == texts.substitute_when(None) and ask.text.startswith("Vilka dagar är du borta?")
    [question] = chat.say("1/7-31/7")
    assert question.text.startswith(f"Olle Olsson ersätter dig 1–31 juli 2025. {RIGHTS}")
    chat.say("nej")
    services.grant_role(None, "bo", Role.CHEF, "FSKN")
    [ask] = chat.say("per ersätter bo")
    assert ask.text.startswith("Vilka dagar är Bo Ek borta?")
    [again] = chat.say("snart")
    assert (
        again.text.startswith("Jag hittade inga datum i svaret.")
        and "Vilka dagar är Bo Ek borta?" in again.text
    )
    [question] = chat.say("v. 27")
    assert question.text.startswith("Per Persson ersätter Bo Ek 30 juni–6 juli 2025.")
    saved, *_ = chat.say("ja")
    assert saved.text == "Sparat: Per Persson ersätter Bo Ek 30 juni–6 juli 2025."
    assert stored(known) == [("bo", "per", date(2025, 6, 30), date(2025, 7, 6), None)]


def test_a_question_during_the_confirmation_is_answered_and_the_confirmation_asked_again(
    known: Engine, chat_as
) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_17)
    chat.say("olle ersätter mig 1/7-11/7")
    rights, again = chat.say("vänta, får han se budgeten för hela fskn då?")
    assert rights.text.startswith(RIGHTS)
    assert again.text == "Svara ja eller nej: Olle Olsson ersätter dig 1–11 juli 2025. Stämmer det?"
    assert again.actions == ["ja", "nej"]
    *answer, again = chat.say("hur mycket har FSKN kvar?")  # answered beside it, then asked again
    assert "kvar" in "\n".join(a.text for a in answer) and again.text.startswith("Svara ja eller nej: Olle")
    [unclear] = chat.say("hmm, säker?")
    assert unclear.text.startswith("Svara ja eller nej: Olle Olsson ersätter dig 1–11 juli 2025.")
    saved, _ = chat.say("ja")
    assert saved.text == "Sparat: Olle Olsson ersätter dig 1–11 juli 2025."
    assert stored(known) == [("anna", "olle", date(2025, 7, 1), date(2025, 7, 11), None)]


def test_did_you_mean_yes_goes_on_to_the_confirmation_and_no_id_is_shown(known: Engine, chat_as) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_17)
    [which] = chat.say("Pär Person ersätter mig 1/7-11/7")
    assert which.text == texts.did_you_mean(["Per Persson (per.persson@malmo.se)"], allow_none=False)
    assert which.actions == ["ja", "nej"]
    [question] = chat.say("ja")
    assert question.text.startswith("Per Persson ersätter dig 1–11 juli 2025.")
    chat.say("ja")
    assert stored(known) == [("anna", "per", date(2025, 7, 1), date(2025, 7, 11), None)]
    [which] = chat.say("Ole Olsen ersätter mig 14/7-1/8")
    assert which.text == "Menade du Olle Olsson?" and "id" not in which.text
    [no] = chat.say("nej")
    assert no.text == texts.SUBSTITUTE_WHO_AGAIN
    assert len(stored(known)) == 1


def test_a_list_asked_while_the_return_is_confirmed_keeps_the_question(known: Engine, chat_as) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_17)
    chat.say("per ersätter mig 16/6-30/6")
    chat.say("ja")
    chat.say("jag är tillbaka?")
    listed, again = chat.say("vem ersätter mig")
    assert listed.text == "Ersättare nu och framåt:\n- Per Persson ersätter dig nu, 16–30 juni 2025"
    assert again.text == "Svara ja eller nej: ska jag avsluta din frånvaro från 17 juni 2025?"
    back, _ = chat.say("ja")
    assert back.text.startswith("Välkommen tillbaka!")
    assert stored(known) == [("anna", "per", date(2025, 6, 16), date(2025, 6, 30), JUNE_17)]


@pytest.mark.parametrize(
    ("correction", "shown", "saved"),
    [
        ("nej vänta, det ska vara 7/7-15/8", "Olle Olsson ersätter dig 7 juli–15 augusti 2025.",
         ("anna", "olle", date(2025, 7, 7), date(2025, 8, 15), None)),
        ("nej, Per istället", "Per Persson ersätter dig 1–11 juli 2025.",
         ("anna", "per", date(2025, 7, 1), date(2025, 7, 11), None)),
        ("nej förresten per tar det", "Per Persson ersätter dig 1–11 juli 2025.",
         ("anna", "per", date(2025, 7, 1), date(2025, 7, 11), None)),
    ],
)  # fmt: skip
def test_a_correction_is_confirmed_anew_with_the_corrected_values(
    known: Engine, chat_as, correction: str, shown: str, saved: tuple[str, str, date, date, None]
) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_17)
    chat.say("olle ersätter mig 1/7-11/7")
    [question] = chat.say(correction)
    assert question.text.startswith(shown) and "Stämmer det?" in question.text
    assert stored(known) == []
    chat.say("ja")
    assert stored(known) == [saved]


def test_back_ends_only_the_absence_going_on_and_a_coming_one_is_ended_by_its_days(
    known: Engine, chat_as
) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_17)
    chat.say("olle ersätter mig 14/7-1/8")
    chat.say("ja")
    [none] = chat.say("jag är tillbaka")
    assert none.text == texts.refused(
        "Du har ingen frånvaro som pågår i dag (17 juni 2025). Kommande: 14 juli–1 augusti 2025 (Olle "
        'Olsson ersätter). Vill du ta bort en kommande frånvaro, skriv till exempel "avsluta min frånvaro '
        '14/7–1/8".'
    )
    chat.say("per ersätter mig 16/6-30/6")
    chat.say("ja")
    [question] = chat.say("jag är tillbaka tidigare än planerat, behöver inte per längre")
    assert question.text.startswith(
        "Ska jag avsluta din frånvaro från 17 juni 2025? Per Persson ersätter dig"
    )
    assert "Olle" not in question.text
    chat.say("ja")
    assert stored(known) == [
        ("anna", "olle", date(2025, 7, 14), date(2025, 8, 1), None),  # the coming one is left alone
        ("anna", "per", date(2025, 6, 16), date(2025, 6, 30), JUNE_17),
    ]
    [question] = chat.say("avsluta min frånvaro 14/7–1/8")
    assert question.text.startswith(
        "Ska jag avsluta din frånvaro från 14 juli 2025? Olle Olsson ersätter dig"
    )
    gone, _ = chat.say("ja")
    assert gone.text == "Din frånvaro från 14 juli 2025 är borttagen (Olle Olsson ersätter inte)."
    assert stored(known)[0][4] == date(2025, 7, 14)


def test_an_overlapping_substitution_says_what_it_replaces_and_the_list_shows_each_day_once(
    known: Engine, chat_as
) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_17)
    chat.say("olle ersätter mig 1/7-11/7")
    chat.say("ja")
    [question] = chat.say("per ersätter mig 16/6-11/7")
    assert question.text.startswith(
        "Per Persson ersätter dig 16 juni–11 juli 2025. Det ersätter Olle Olsson som ersättare "
        "1–11 juli 2025. "
    )
    chat.say("ja")
    chat.say("per ersätter mig 16/6-11/7 bara för FSKN")
    chat.say("ja")
    [listed] = chat.say("vem ersätter mig?")
    assert listed.text == "Ersättare nu och framåt:\n- Per Persson ersätter dig nu, 16 juni–11 juli 2025"


def test_units_only_from_explicit_words_and_the_question_beside_is_answered(known: Engine, chat_as) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_17)
    [question] = chat.say("olle ersätter mig 7/7-11/7 och hur mkt har fskn kvar?")
    assert question.text.startswith(f"Olle Olsson ersätter dig 7–11 juli 2025. {RIGHTS}")  # no "(bara FSKN)"
    assert question.text.endswith('Din fråga "hur mkt har fskn kvar?" svarar jag på efter det.')
    saved, _told, *answer = chat.say("ja")
    assert saved.text == "Sparat: Olle Olsson ersätter dig 7–11 juli 2025."
    assert "Förskolenämnden (FSKN) 2025: 15 000 000 kr kvar" in "\n".join(a.text for a in answer)
    [limited] = chat.say("olle ersätter mig 14/7-18/7 bara för FSKN")
    assert limited.text.startswith("Olle Olsson ersätter dig 14–18 juli 2025 (bara FSKN).")


def test_what_i_substitute_for(known: Engine, chat_as, services) -> None:
    services.grant_role(None, "bo", Role.CHEF, "FSKN")
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_17)
    [nobody] = chat.say("hej vem ersätter jag nu")
    assert nobody.text == texts.SUBSTITUTE_NOBODY
    chat.say("jag ersätter bo 16/6-11/7")
    chat.say("ja")
    chat.say("per ersätter mig 1/7-11/7")
    chat.say("ja")
    [mine] = chat.say("hej vem ersätter jag nu")
    assert mine.text == "Ersättare nu och framåt:\n- Du ersätter Bo Ek nu, 16 juni–11 juli 2025"


def test_a_person_without_committee_roles_is_told_what_is_true(known: Engine, chat_as) -> None:
    chat = chat_as("anna", Role.CITY_OFFICE, today=JUNE_17)
    [question] = chat.say("olle ersätter mig 1/7-11/7")
    assert question.text.startswith(
        "Olle Olsson ersätter dig 1–11 juli 2025. Du har ingen roll i någon nämnd (rollen som stadskontoret "
        "får en ersättare aldrig), så Olle Olsson får inga insatser att följa upp under tiden"
    )
    assert "läsa och följa upp" not in question.text


@pytest.mark.parametrize(
    ("text", "ask", "absent", "substitute", "units", "question"),
    [
        ("olle tar över 1/7-11/7", Ask.SET, ME, "olle", (), ""),
        ("olle tar hand om det i juli", Ask.SET, ME, "olle", (), ""),
        ("anna ersätter mig istället för per 1/7-11/7", Ask.SET, ME, "anna", (), ""),
        ("jag e ledig v. 27 o olle tar över, nej förresten per tar det", Ask.SET, ME, "per", (), ""),
        ("per ersätter anna from idag tom 11/7", Ask.SET, "anna", "per", (), ""),
        ("jag var ledig 1/5-10/5, olle ersatte mig", Ask.SET, ME, "olle", (), ""),
        (
            "olle ersätter mig 7/7-11/7 och hur mkt har fskn kvar?",
            Ask.SET, ME, "olle", (), "hur mkt har fskn kvar?",
        ),
        ("olle ersätter mig 7/7-11/7 bara för FSKN", Ask.SET, ME, "olle", ("FSKN",), ""),
        ("olle ersätter mig för FSKN:s insatser 7/7-11/7", Ask.SET, ME, "olle", ("FSKN",), ""),
        ("jag är tillbaka tidigare än planerat, behöver inte per längre", Ask.END, ME, None, (), ""),
        ("hej vem ersätter jag nu", Ask.LIST, None, ME, (), ""),
        # the leave before a name is not the name ("semester olle", "jag är ledig olle" were looked for)
        ("ska ha semester v. 27-28, olle tar över", Ask.SET, ME, "olle", (), ""),
        ("semester v 27-28 olle ersätter mig", Ask.SET, ME, "olle", (), ""),
        ("jag är ledig 7/7-18/7 olle ersätter", Ask.SET, ME, "olle", (), ""),
        ("vem ersätter mig idag?", Ask.LIST, None, None, (), ""),
    ],
)  # fmt: skip
def test_the_testers_phrasings(
    text: str, ask: Ask, absent: str | None, substitute: str | None, units: tuple[str, ...], question: str
) -> None:
    request = read_request(text, JUNE_17)
    assert (request.ask, request.absent, request.substitute, request.units, request.question) == (
        ask,
        absent,
        substitute,
        units,
        question,
    )
