"""Substitutes' use cases (bot.substitute_services, issue 22) on the 2025 example: who may set
whose substitute, how people are named (name, typo, first name, address, object id, Graph),
the same substitution set twice writes once, the list as of a day, an early end; every
refusal is Swedish and writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine

from bot.clock import clock_for
from bot.substitute_services import SubstituteServices
from core.errors import DomainError, InputError, NotFound, PermissionDenied, RuleViolation
from core.model import Role
from storage import people
from storage.people import Person
from storage.unit_of_work import UnitOfWork

JUNE_5 = date(2025, 6, 5)
JUNE_16, JULY_11 = date(2025, 6, 16), date(2025, 7, 11)
GUID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
PEOPLE = [
    Person("anna", "Anna Andersson", "anna.andersson@malmo.se"),
    Person("per", "Per Persson", "per.persson@malmo.se"),
    Person("per-o", "Per Olsson", "per.olsson@malmo.se"),
    Person("bo", "Bo Ek", "bo.ek@malmo.se"),
    Person("sara", "Sara Öberg", "sara.oberg@malmo.se"),
    Person("ingen", "Ingrid Ingen", "ingrid@malmo.se"),
]


@pytest.fixture
def subs(example_engine: Engine) -> SubstituteServices:
    """anna: HR for FSKN; bo: chef for FSKN; per: chef for GVN; sara: stadskontoret; hr-gsn: HR
    for GSN; ingrid has no role. The bot's date 5 June 2025."""
    services = SubstituteServices(example_engine, org="malmo", clock=clock_for(JUNE_5))
    for user, role, unit in (
        ("anna", Role.HR, "FSKN"),
        ("bo", Role.CHEF, "FSKN"),
        ("per", Role.CHEF, "GVN"),
        ("sara", Role.CITY_OFFICE, None),
        ("hr-gsn", Role.HR, "GSN"),
    ):
        services.grant_role(None, user, role, unit)
    with UnitOfWork(example_engine, write=True) as repo:
        people.remember(repo.session.connection(), repo.org_id, PEOPLE, "test")
        repo.session.commit()
    return services


def stored(subs: SubstituteServices) -> int:
    with subs._unit_of_work() as repo:
        return len(repo.substitutions())


def test_a_person_names_their_own_substitute_once(subs: SubstituteServices) -> None:
    made = subs.set_substitution("anna", "anna", "Per Persson", JUNE_16, JULY_11)
    assert made.written and not made.tell  # set by herself: nobody else to tell
    assert (made.absent.name, made.substitute.name, made.by.name) == (
        "Anna Andersson",
        "Per Persson",
        "Anna Andersson",
    )
    again = subs.set_substitution("anna", "anna", "per persson", JUNE_16, JULY_11)
    assert not again.written and again.substitution.seq == made.substitution.seq
    assert stored(subs) == 1


@pytest.mark.parametrize(
    ("typed", "user"),
    [
        ("Per Persson", "per"),
        ("per persson", "per"),
        ("Per Perssson", "per"),  # a typo
        ("Sara Oberg", "sara"),  # without ö
        ("Öberg", "sara"),  # a last name alone, one person has it
        ("Bo", "bo"),  # a first name alone, one person has it
        ("PER.PERSSON@malmo.se", "per"),
        ("per", "per"),  # a user id with a role
        (GUID.upper(), GUID),  # an object id the bot has not seen yet
    ],
)
def test_people_are_named_by_name_address_or_id(subs: SubstituteServices, typed: str, user: str) -> None:
    assert subs.person("anna", typed).user_id == user


def test_an_ambiguous_name_is_asked_about_with_the_candidates(subs: SubstituteServices) -> None:
    with pytest.raises(InputError) as asked:
        subs.set_substitution("anna", "anna", "Per", JUNE_16, JULY_11)
    assert "per.persson@malmo.se" in asked.value.message and "per.olsson@malmo.se" in asked.value.message
    assert stored(subs) == 0


def test_an_unknown_name_is_refused_naming_what_may_be_written(subs: SubstituteServices) -> None:
    with pytest.raises(NotFound) as refused:
        subs.set_substitution("anna", "anna", "Kalle Kula", JUNE_16, JULY_11)
    assert '"Kalle Kula"' in refused.value.message and "e-postadress" in refused.value.message
    assert stored(subs) == 0


def test_graph_finds_a_person_the_bot_does_not_know_and_the_bot_remembers_them(
    subs: SubstituteServices,
) -> None:
    asked: list[str] = []

    def search(text: str) -> list[Person]:
        asked.append(text)
        return [Person("lisa-guid", "Lisa Lund", "lisa.lund@malmo.se")]

    with_graph = SubstituteServices(subs.engine, org="malmo", clock=subs.clock, search=search)
    made = with_graph.set_substitution("anna", "anna", "Lisa Lund", JUNE_16, JULY_11)
    assert made.substitute.user_id == "lisa-guid" and asked == ["Lisa Lund"]
    assert subs.person("anna", "lisa lund").user_id == "lisa-guid"  # known now, without Graph


@pytest.mark.parametrize(
    ("user", "absent", "units", "allowed"),
    [
        ("anna", "bo", (), True),  # HR of FSKN for FSKN's chef
        ("hr-gsn", "bo", (), False),  # HR of another committee
        ("sara", "per", (), True),  # stadskontoret for anyone
        ("bo", "anna", (), False),  # a chef for someone else
        ("per", "anna", (), False),
        ("ingen", "ingen", (), False),  # no role at all, not even for oneself
        ("anna", "per", ("GVN",), False),
    ],
)
def test_who_may_name_whose_substitute(
    subs: SubstituteServices, user: str, absent: str, units: tuple[str, ...], allowed: bool
) -> None:
    if allowed:
        assert subs.set_substitution(user, absent, "Sara Öberg", JUNE_16, JULY_11, units).written
        return
    with pytest.raises(PermissionDenied) as refused:
        subs.set_substitution(user, absent, "Sara Öberg", JUNE_16, JULY_11, units)
    assert "ersättare" in refused.value.message or "behörighet" in refused.value.message
    assert stored(subs) == 0


def test_hr_is_told_to_limit_to_its_committees(subs: SubstituteServices) -> None:
    subs.grant_role(None, "bo", Role.CHEF, "GVN")  # bo: chef in FSKN and GVN
    with pytest.raises(PermissionDenied) as refused:
        subs.set_substitution("anna", "bo", "Per Persson", JUNE_16, JULY_11)
    assert "Begränsa ersättningen till FSKN" in refused.value.message
    assert subs.set_substitution("anna", "bo", "Per Persson", JUNE_16, JULY_11, ["förskolenämnden"]).tell


@pytest.mark.parametrize(
    ("substitute", "first", "last", "units", "code"),
    [
        ("Anna Andersson", JUNE_16, JULY_11, (), "own_substitute"),
        ("Per Persson", JULY_11, JUNE_16, (), "substitution_backwards"),
        ("Per Persson", date(2025, 5, 1), date(2025, 6, 1), (), "substitution_past"),
    ],
)
def test_the_rules_refuse_with_nothing_written(
    subs: SubstituteServices, substitute: str, first: date, last: date, units: tuple[str, ...], code: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        subs.set_substitution("anna", "anna", substitute, first, last, units)
    assert refused.value.errors[0].code == code
    assert stored(subs) == 0


def test_an_unknown_unit_is_refused(subs: SubstituteServices) -> None:
    with pytest.raises(DomainError) as refused:
        subs.set_substitution("sara", "anna", "Per Persson", JUNE_16, JULY_11, ["badhusnämnden"])
    assert "badhusnämnden" in refused.value.message
    assert stored(subs) == 0


def test_the_list_shows_current_and_coming_to_those_who_may_see_them(subs: SubstituteServices) -> None:
    subs.set_substitution("anna", "anna", "Per Persson", JUNE_16, JULY_11)
    subs.set_substitution("sara", "per", "Bo Ek", date(2025, 6, 1), date(2025, 6, 10))
    on_june_9 = subs.list_substitutions("sara", date(2025, 6, 9))
    assert [(v.absent.name, v.substitute.name, v.current) for v in on_june_9] == [
        ("Per Persson", "Bo Ek", True),
        ("Anna Andersson", "Per Persson", False),
    ]
    assert [v.absent.user_id for v in subs.list_substitutions("sara", date(2025, 6, 20))] == ["anna"]
    assert [v.absent.user_id for v in subs.list_substitutions("hr-gsn", date(2025, 6, 9))] == []
    assert [v.absent.user_id for v in subs.list_substitutions("per", date(2025, 6, 9))] == ["per", "anna"]


def test_an_early_end_and_the_absent_person_told_when_someone_else_ends_it(subs: SubstituteServices) -> None:
    subs.set_substitution("sara", "anna", "Per Persson", JUNE_16, JULY_11)
    ended = subs.end_substitutions("sara", "Anna Andersson", date(2025, 6, 20))
    assert ended.tell and [s.substitute for s, _ in ended.ended] == ["per"]
    (view,) = subs.list_substitutions("sara", date(2025, 6, 16))
    assert view.substitution.last == date(2025, 6, 19)
    with pytest.raises(NotFound) as nothing:
        subs.end_substitutions("anna", "anna", date(2025, 6, 20))
    assert "har ingen frånvaro som pågår eller kommer från 20 juni 2025" in nothing.value.message
    assert not subs.end_substitutions("anna", "anna", date(2025, 6, 17)).tell  # her own end
