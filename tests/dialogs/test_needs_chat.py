"""Issue 21 in the chat: the questions about competence needs, answered within the person's
permissions and with the needs' sources. The needs are made here through NeedServices (the
example's own needs, if it has any, are neither needed nor assumed absent: the needs here are
of ASN and GVN, with keys of their own)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.engine import Engine

from bot.clock import clock_for
from bot.needs_services import NeedServices
from core.model import Role
from core.needs import NeedKind, Period, Recruitment
from dialogs import texts
from tests.dialogs.conftest import TODAY
from tests.needs_builders import need

AT = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)


def measure_id(needs: NeedServices, title: str) -> int:
    return next(m.id for m in needs.ledger().measures.values() if m.title == title)


NPF = "Insats utbildning i neuropsykiatriska diagnoser"
"""ASN's, planned with money in 2025: it answers its needs."""
CONFLICTS = "Insats utbildning i konflikthantering"
"""ASN's, finished (Klar) by the example's June follow-up: it answers no need any more."""
VALDEMARSRO = "Minska sjukfrånvaron vid Valdemarsro gymnasium"
"""GVN's, running with money in 2025."""


@pytest.fixture
def needs(example_engine: Engine) -> NeedServices:
    """ASN: socialsekreterare (brist, 5 retiring, linked to a measure it shares with
    biståndshandläggare), biståndshandläggare (brist, 1 retiring, stale, linked), vårdare
    (balans, none linked); GVN: lärare i välfärdsteknik (brist, 2 retiring, none linked)."""
    services = NeedServices(example_engine, org="malmo", clock=clock_for(TODAY))
    services.assess(
        None, need("S1", "ASN", "socialsekreterare", people=12, retirements=5, area="Social omsorg")
    )
    services.assess(
        None,
        need(
            "S2",
            "ASN",
            "biståndshandläggare",
            retirements=1,
            people=4,
            assessed=date(2022, 11, 1),
            source="Gapanalys 2022",
            source_date=None,
        ),
    )
    services.assess(
        None, need("S3", "ASN", "vårdare", recruitment=Recruitment.BALANCE, kind=NeedKind.UPSKILLING)
    )
    services.assess(None, need("G1", "GVN", "lärare i välfärdsteknik", retirements=2, people=6))
    npf = str(measure_id(services, NPF))
    services.link(None, "S1", npf, author="Stadskontoret")
    services.link(None, "S2", npf, author="Stadskontoret")
    return services


def _uncovered_order(text: str, *roles: str) -> list[int]:
    return [text.index(f"**{role}**") for role in roles]


# --- "vilka behov saknar insatser?" ------------------------------------------------------------


@pytest.mark.parametrize(
    "asked",
    [
        "vilka behov saknar insatser?",
        "behov utan insatser",
        "vilka kompetensbehov är inte täckta",
        "otäckta behov",
        "vilka behv saknar insater",
        "otäkta behov?",
    ],
)
def test_uncovered_needs_are_listed_shortage_first_with_their_sources(chat_as, needs, asked) -> None:
    chat = chat_as("stina", Role.CITY_OFFICE)
    # The link makes S1 and S2 covered: end S2's so that two shortage needs are uncovered.
    needs.unlink(None, "S2", str(measure_id(needs, NPF)), author="Stadskontoret")
    [answer] = chat.say(asked)
    text = answer.text
    report = needs.report(None, 2025, today=TODAY)
    missing = needs.report(None, 2025, today=TODAY, only_uncovered=True)
    assert text.startswith(f"**Behov utan insatser 2025: {len(missing.needs)} av {report.total}.**")
    assert "socialsekreterare" not in text  # S1 has a measure that answers it in 2025
    # Shortage first (by retirements: G1 2, S2 1), then the balance role.
    lärare, bistånd, vårdare = _uncovered_order(
        text, "lärare i välfärdsteknik", "biståndshandläggare", "vårdare"
    )
    assert lärare < bistånd < vårdare
    assert "2 pensionsavgångar inom två år" in text and "1 pensionsavgång inom två år" in text
    assert "Källa: Kompetensförsörjningsplan 2024 (1 februari 2024), bedömd 1 februari 2024" in text
    assert "Källa: Gapanalys 2022, bedömd 1 november 2022 – **bedömningen är äldre än två år**" in text
    assert "Ingen insats är kopplad till behovet." in text


def test_uncovered_needs_stay_within_the_persons_committees(chat_as, needs) -> None:
    grant_hr = chat_as("hanna", Role.HR, "ASN")
    text = grant_hr.said("vilka behov saknar insatser?")
    assert "vårdare" in text and "ASN" in text
    assert "lärare i välfärdsteknik" not in text and "GVN" not in text  # GVN's need is not hers to read
    assert "Behov utan insatser 2025: 1 av 3." in text


def test_a_need_whose_measure_no_longer_answers_it_is_uncovered(chat_as, needs) -> None:
    """A finished measure answers no need: the need is uncovered, and the answer says why."""
    needs.link(None, "S3", CONFLICTS, author="Stadskontoret")
    text = chat_as("hanna", Role.HR, "ASN").said("vilka behov saknar insatser")
    assert "**vårdare**" in text and "**socialsekreterare**" not in text
    assert f"Insatser: {CONFLICTS} (id {measure_id(needs, CONFLICTS)}, 350 000 kr): " in text
    assert "svarar inte mot behovet 2025, klar" in text


def test_every_need_covered_is_said_with_the_sources(chat_as, needs) -> None:
    chat = chat_as("hanna", Role.HR, "ASN")
    needs.link(None, "S3", NPF, author="Stadskontoret")
    [answer] = chat.say("vilka behov saknar insatser?")
    assert answer.text.startswith("**Alla 3 behov har en insats som svarar mot dem 2025.**")
    assert "Källor: Kompetensförsörjningsplan 2024 (1 februari 2024); Gapanalys 2022." in answer.text
    assert "Bedömningen är äldre än två år för S2." in answer.text


def test_a_person_without_readable_needs_is_told_how_needs_come_in(chat_as, needs) -> None:
    """Kulturnämnden has no needs: not an empty list, but why and how they are registered."""
    chat = chat_as("karl", Role.CHEF, "KN")
    for asked in ("vilka behov saknar insatser?", "behov", "hur mycket satsar vi på förskollärare?"):
        [answer] = chat.say(asked)
        assert answer.text == texts.NO_NEEDS
    assert 'mall (bladet "Behov")' in texts.NO_NEEDS and "registreras av stadskontoret" in texts.NO_NEEDS


def test_needs_only_of_other_years_are_named_with_their_years_not_called_missing(chat_as, needs) -> None:
    """A plan of 2018–2019 asked about in 2025: the years it covers and how to ask, not "no needs"."""
    needs.assess(None, need("K1", "KN", "bibliotekarie", period=Period(2018, 2019)))
    chat = chat_as("karl", Role.CHEF, "KN")
    [answer] = chat.say("vilka behov saknar insatser?")
    assert "Inga av dina nämnders kompetensbehov gäller 2025: de som finns gäller 2018–2019" in answer.text
    [answer] = chat.say("vilka behov saknar insatser 2018?")
    assert "**bibliotekarie** (KN" in answer.text


def test_a_person_without_a_role_is_refused_in_swedish(chat_as, needs) -> None:
    [answer] = chat_as("okand").say("vilka behov saknar insatser?")
    assert "roll" in answer.text.lower() and "Traceback" not in answer.text


# --- "hur mycket satsar vi på förskollärare?" ----------------------------------------------------


@pytest.mark.parametrize(
    "asked",
    [
        "hur mycket satsar vi på socialsekreterare?",
        "hur mycket satsas på socialsekreterarna",
        "hur mkt satsar vi på socialsekretare",
        "Hur mycket satsar vi på Socialsekreterarna 2025?",
    ],
)
def test_money_for_a_role_says_it_is_shared_and_what_is_not_claimed(chat_as, needs, asked) -> None:
    chat = chat_as("hanna", Role.HR, "ASN")
    text = chat.said(asked)
    report = needs.report("hanna", 2025, today=TODAY)
    [(role, amount)] = [(r, m) for r, m in report.by_role if r == "socialsekreterare"]
    money = needs.ledger().measure_allocated(measure_id(needs, NPF), 2025)
    assert amount * 2 == money == 400_000  # shared equally with biståndshandläggare
    assert "**Pengar till kompetensbehov för socialsekreterare 2025**" in text
    assert f"- socialsekreterare: {texts.kr(amount)} (delas)" in text
    assert "också svarar mot andra yrkesgruppers behov" in text
    assert report.unclaimed == 0 and "Ej kopplat till behov" not in text  # no "0 kr" read as "all of it"
    assert f"{NPF} (id {measure_id(needs, NPF)}, {texts.kr(money)}): svarar mot behovet 2025" in text
    assert "Källa: Kompetensförsörjningsplan 2024 (1 februari 2024)" in text
    assert "biståndshandläggare:" not in text  # only the role asked about


def test_money_per_role_with_a_share_leaves_the_rest_unclaimed(chat_as, needs) -> None:
    """A need with a 25 % share and no other need without one: 75 % is "ej kopplat till behov"."""
    needs.link(None, "G1", VALDEMARSRO, author="Stadskontoret", share=2_500)
    text = chat_as("gustav", Role.CHEF, "GVN").said("pengar per yrkesgrupp")
    money = needs.ledger().measure_allocated(measure_id(needs, VALDEMARSRO), 2025)
    assert money == 1_550_000
    assert "- lärare i välfärdsteknik: 387 500 kr (delas)" in text
    assert "Ej kopplat till behov: 1 162 500 kr" in text
    assert "Källor: Kompetensförsörjningsplan 2024 (1 februari 2024)." in text


def test_an_unknown_role_is_answered_with_the_roles_the_person_can_ask_about(chat_as, needs) -> None:
    [answer] = chat_as("hanna", Role.HR, "ASN").say("hur mycket satsar vi på brandmän?")
    assert answer.text == texts.unknown_role(
        "brandmän", ["socialsekreterare", "biståndshandläggare", "vårdare"]
    )
    assert "lärare i välfärdsteknik" not in answer.text  # GVN's roles are not hers to learn


# --- "vilka svårrekryterade yrken har pensionsavgångar?" ----------------------------------------


def test_hard_to_recruit_roles_with_retirements(chat_as, needs) -> None:
    text = chat_as("stina", Role.CITY_OFFICE).said("vilka svårrekryterade yrken har pensionsavgångar?")
    soc, lär, bist = _uncovered_order(
        text, "socialsekreterare", "lärare i välfärdsteknik", "biståndshandläggare"
    )
    assert soc < lär < bist  # the most retirements first
    assert "**vårdare**" not in text  # balance, and no retirements given
    assert "Källa:" in text


# --- "behov socialsekreterare", "behov FSKN" -----------------------------------------------------


@pytest.mark.parametrize("asked", ["behov socialsekreterare", "vilka behov finns för socialsekreterarna?"])
def test_the_needs_of_a_role_with_their_measures(chat_as, needs, asked) -> None:
    text = chat_as("stina", Role.CITY_OFFICE).said(asked)
    assert text.startswith("**Behov för socialsekreterare: 1 st.** Insatserna visas för 2025.")
    assert "(ASN, Social omsorg, behov S1): Ersättningsrekrytering, Socionomexamen, 12 personer" in text
    assert f"Insatser: {NPF} (id {measure_id(needs, NPF)}" in text
    assert "svarar mot behovet 2025" in text


def test_the_needs_of_a_unit(chat_as, needs) -> None:
    text = chat_as("stina", Role.CITY_OFFICE).said("behov ASN")
    assert text.startswith("**Behov i ASN: 3 st.**")
    assert "lärare i välfärdsteknik" not in text


def test_the_needs_of_a_unit_the_person_may_not_read_are_refused(chat_as, needs) -> None:
    text = chat_as("gustav", Role.CHEF, "GVN").said("behov ASN")
    assert "socialsekreterare" not in text
    assert "Arbetsmarknads" in text or "ASN" in text  # the core's refusal names the unit


def test_help_names_the_needs_questions(chat_as) -> None:
    text = chat_as("stina", Role.CITY_OFFICE).said("hjälp")
    assert "vilka behov saknar insatser?" in text and "hur mycket satsar vi på förskollärare?" in text
