"""Substitutes in the chat (issue 22), as a person sees them: "Jag är ledig 16 juni–11 juli,
Per Persson ersätter mig" is confirmed before it is saved and "nej" or "avbryt" saves nothing;
HR names a substitute for someone in its committee and is told the person could not be
reached; a chef cannot name one for someone else; "vem ersätter mig?" lists; "jag är
tillbaka" ends the absence; an ambiguous name is asked about; what is missing is asked for.
And the message's words, read (dialogs.substitute_words), table-tested."""

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
PEOPLE = [
    Person("anna", "Anna Andersson", "anna.andersson@malmo.se"),
    Person("per", "Per Persson", "per.persson@malmo.se"),
    Person("bo", "Bo Ek", "bo.ek@malmo.se"),
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
CONFIRM_MINE = texts.substitute_confirm("Per Persson", None, date(2025, 6, 16), date(2025, 7, 11), ())


def test_a_person_names_their_substitute_after_a_confirmation(known: Engine, chat_as) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_5)
    [question] = chat.say(SET_MINE)
    assert question.text.startswith(
        "Per Persson ersätter dig 16 juni–11 juli 2025. Under tiden får Per Persson läsa och följa upp "
        "dina insatser, inget annat. Stämmer det?"
    )
    assert question.actions == ["ja", "nej"]
    assert stored(known) == []
    [saved] = chat.say("ja")
    assert saved.text == "Sparat: Per Persson ersätter dig 16 juni–11 juli 2025."
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
    saved, told = chat.say("ja")
    assert saved.text == "Sparat: Per Persson ersätter Bo Ek 16 juni–11 juli 2025."
    assert told.text == (
        "Bo Ek har inte fått något meddelande om det från mig (hen har inte öppnat någon chatt med "
        "kompetensbot ännu). Berätta det själv."
    )
    assert stored(known) == [("bo", "per", date(2025, 6, 16), date(2025, 7, 11), None)]


def test_a_chef_cannot_name_someone_elses_substitute(known: Engine, chat_as, services) -> None:
    services.grant_role(None, "anna", Role.HR, "FSKN")
    chat = chat_as("per", Role.CHEF, "GVN", name="Per Persson", today=JUNE_5)
    [refused] = chat.say("Bo ersätter Anna 16/6–11/7")
    assert "behörighet att ange ersättare för andra för FSKN" in refused.text
    assert not refused.actions and stored(known) == []


def test_the_list_and_the_return(known: Engine, chat_as) -> None:
    chat = chat_as("anna", Role.HR, "FSKN", today=JUNE_5)
    chat.say(SET_MINE)
    chat.say("ja")
    [listed] = chat.say("vem ersätter mig?")
    assert listed.text == "Ersättare nu och framåt:\n- Per Persson ersätter dig 16 juni–11 juli 2025"
    [question] = chat.say("jag är tillbaka")
    assert question.text.startswith(
        "Ska jag avsluta din frånvaro från 5 juni 2025? Per Persson ersätter då inte dig"
    )
    [back] = chat.say("ja")
    assert back.text.startswith("Välkommen tillbaka! Din frånvaro är avslutad från 5 juni 2025")
    assert stored(known) == [("anna", "per", date(2025, 6, 16), date(2025, 7, 11), date(2025, 6, 16))]
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
    assert (
        texts.plain("per.persson@malmo.se") in which.text and texts.plain("per.olsson@malmo.se") in which.text
    )
    assert [r.text for r in chat.say("Jag är ledig 16 juni–11 juli")] == [texts.SUBSTITUTE_WHO]
    assert [r.text for r in chat.say("Per Persson ersätter mig")] == [texts.SUBSTITUTE_WHEN]
    assert "finns inte" in chat.said("Jag är ledig 31/6–11/7, Per Persson ersätter mig")
    [typo] = chat.say("jag e ledig 16 juni - 11 juli, per perssson ersäter mig")
    assert typo.text.startswith("Per Persson ersätter dig 16 juni–11 juli 2025")
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
