"""Issue 21: how many people a measure linked to a competence need has reached so far, read by
the one follow-up parser (core.forms.read_reached, parse_followup; the round card's
core.round_answers.parse_answers): optional, a whole number 0 or more, refused in Swedish
naming what is allowed; and which measures on a round card are linked (core.rounds.card_needs)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InputError, RuleViolation
from core.forms import REACHED_ALLOWED, parse_followup, read_reached
from core.limits import MAX_REACHED
from core.model import FollowUp, Principal, Role, RoleGrant, Status
from core.needs import NeedEntry, NeedKind, NeedLinkEndedEntry, NeedLinkEntry, Needs, Period, Recruitment
from core.round_answers import answers_to_followups, changed_answers, field_name, parse_answers
from core.rounds import Round, card_needs, plan_round
from core.rules.followup import check_followup
from core.rules.names import measure_name
from tests.unit.builders import malmo_small
from tests.unit.test_rounds import _book

AT = datetime(2025, 6, 10, 9, tzinfo=UTC)


def _refusal(value: object) -> str:
    with pytest.raises(InputError) as refused:
        read_reached(value)
    [error] = refused.value.errors
    return error.message


# --- the reader -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "reached"),
    [
        ("12", 12),
        ("12 personer", 12),
        (" 12 ", 12),
        ("12 Personer.", 12),
        ("1 person", 1),
        ("40 st", 40),
        ("1 200", 1_200),
        ("0", 0),
        (7, 7),
    ],
)
def test_a_whole_number_of_people_is_read(typed: object, reached: int) -> None:
    assert read_reached(typed) == reached


@pytest.mark.parametrize("typed", [None, "", "   ", "-", "vet inte", "Vet inte.", "hoppa över", "Hoppa över"])
def test_left_empty_or_not_known_is_no_answer(typed: object) -> None:
    assert read_reached(typed) is None


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("-3", 'Antalet personer som insatsen nått kan inte vara negativt ("-3").'),
        (-3, 'Antalet personer som insatsen nått kan inte vara negativt ("-3").'),
        ("tolv?", 'Antalet personer som insatsen nått ska vara ett heltal, inte "tolv?".'),
        ("1,5", 'Antalet personer som insatsen nått ska vara ett heltal, inte "1,5".'),
        ("12 kr", 'Antalet personer som insatsen nått ska vara ett heltal, inte "12 kr".'),
    ],
)
def test_a_bad_number_is_refused_naming_what_is_allowed(typed: object, said: str) -> None:
    message = _refusal(typed)
    assert message == f"{said} {REACHED_ALLOWED}"
    assert '"12 personer"' in message and "0 eller fler" in message


def test_a_forged_value_is_refused_as_the_wrong_kind() -> None:
    for forged in (True, [12], {"n": 12}, 12.0):
        assert _refusal(forged).startswith("Personer nådda hittills har fel format. Skriv antalet personer")


def test_more_people_than_any_city_employs_is_refused() -> None:
    assert read_reached(str(MAX_REACHED)) == MAX_REACHED
    assert "högst 100 000 personer" in _refusal(str(MAX_REACHED + 1))
    # a stranger's "1000000" was kept as "1 000 000 personer": no Swedish municipality employs so many
    assert "fler än någon svensk kommun har anställda" in _refusal("1000000")


@given(st.integers(0, MAX_REACHED), st.sampled_from(["{}", " {} ", "{} personer", "{} st", "{} person"]))
def test_any_whole_number_as_written_is_read_as_itself(n: int, form: str) -> None:
    assert read_reached(form.format(n)) == n
    grouped = f"{n:_}".replace("_", " ")  # "1 200", as Swedish groups the thousands
    assert read_reached(grouped) == n


@given(st.integers(1, MAX_REACHED), st.sampled_from(["-{}", "- {}", "−{} personer"]))
def test_any_negative_number_is_refused(n: int, form: str) -> None:
    assert "kan inte vara negativt" in _refusal(form.format(n))


@given(st.integers(0, 10_000), st.integers(1, 99), st.sampled_from([",", "."]))
def test_any_part_of_a_person_is_refused(whole: int, part: int, mark: str) -> None:
    assert "ska vara ett heltal" in _refusal(f"{whole}{mark}{part}")


# --- the one follow-up parser -----------------------------------------------------------------


def _form(**fields: object) -> dict[str, object]:
    return {
        "period": "2025-06",
        "status": "Pågående",
        "spent": "0 kr",
        "forecast": "1 kr",
        "usable": "ja",
    } | fields


def test_the_followup_form_takes_people_reached_or_leaves_it_out() -> None:
    assert parse_followup(_form(reached="12 personer")).unwrap().reached == 12
    assert parse_followup(_form()).unwrap().reached is None
    assert parse_followup(_form(reached="")).unwrap().reached is None


def test_a_bad_people_reached_is_one_more_problem_of_the_form_and_gives_no_draft() -> None:
    parsed = parse_followup(_form(status="", reached="-3"))
    assert parsed.draft is None
    assert parsed.messages == [
        "Status saknas.",
        f'Antalet personer som insatsen nått kan inte vara negativt ("-3"). {REACHED_ALLOWED}',
    ]


# --- the round card ---------------------------------------------------------------------------


def _card(mid: int, **fields: object) -> dict[str, object]:
    base = {"status": "Pågående", "spent": "0 kr", "forecast": "100 kr", "usable": "ja"} | fields
    return {field_name(mid, k): v for k, v in base.items()}


def test_the_round_card_reads_people_reached_per_measure() -> None:
    book, _grants, (a, b, _c, _d) = _book()
    values = _card(a, reached=" 12 ") | _card(b)
    answers = parse_answers(book.ledger, (a, b), values)
    assert [(x.measure_id, x.reached) for x in answers] == [(a, 12), (b, None)]


def test_a_bad_people_reached_on_the_round_card_names_the_measure() -> None:
    book, _grants, (a, b, _c, _d) = _book()
    for typed, said in (("tolv?", 'ska vara ett heltal, inte "tolv?"'), ("-3", "kan inte vara negativt")):
        with pytest.raises(InputError) as refused:
            parse_answers(book.ledger, (a, b), _card(a, reached=typed) | _card(b))
        [error] = refused.value.errors
        assert error.message.startswith(f"{measure_name(book.ledger, a)}, personer nådda hittills: ")
        assert said in error.message and REACHED_ALLOWED in error.message


def test_a_forged_people_reached_on_the_round_card_says_what_the_field_takes() -> None:
    book, _grants, (a, _b, _c, _d) = _book()
    with pytest.raises(InputError) as refused:
        parse_answers(book.ledger, (a,), _card(a, reached=["12"]))
    [error] = refused.value.errors
    assert error.message == (
        f"{measure_name(book.ledger, a)}: fältet personer nådda hittills ska vara text. {REACHED_ALLOWED}"
    )


def test_people_reached_alone_is_an_answer_that_lacks_the_rest() -> None:
    """A measure with only its people reached filled in was meant to be answered: the card
    says what is missing rather than leaving the number out unsaid."""
    book, _grants, (a, _b, _c, _d) = _book()
    values = {field_name(a, "reached"): "12", field_name(a, "usable"): "ja"}
    with pytest.raises(InputError) as refused:
        parse_answers(book.ledger, (a,), values)
    name = measure_name(book.ledger, a)
    assert [e.message for e in refused.value.errors] == [
        f"{name}: status saknas.",
        f"{name}: utfall hittills saknas.",
        f"{name}: prognos för året saknas.",
    ]


def test_the_followup_keeps_people_reached_and_a_new_number_is_a_change() -> None:
    book, grants, (a, _b, _c, _d) = _book()
    round_ = Round(7, plan_round("2025-06"))
    hr = Principal("aad-fskn-hr", tuple(g for g in grants if g.user == "aad-fskn-hr"))
    answers = parse_answers(book.ledger, (a,), _card(a, reached="12"))
    [followup] = answers_to_followups(
        book.ledger, hr, round_, answers, author="Anna", at=AT, as_of=date(2025, 6, 10)
    )
    assert followup.reached == 12
    ledger = book.ledger.add_followup(followup)
    with pytest.raises(RuleViolation, match="Inget är ändrat"):  # the same card again: nothing to write
        changed_answers(ledger, round_, parse_answers(ledger, (a,), _card(a, reached="12 personer")))
    [again] = changed_answers(ledger, round_, parse_answers(ledger, (a,), _card(a, reached="15")))
    assert again.reached == 15


# --- which measures on a card are linked to a need ----------------------------------------------


def _need(key: str, unit: str, role: str) -> NeedEntry:
    return NeedEntry(
        key,
        unit,
        role,
        NeedKind.UPSKILLING,
        "Formell kompetens",
        Recruitment.SHORTAGE,
        Period(2024, 2026),
        "Kompetensförsörjningsplan 2024",
        date(2024, 3, 1),
        "HR",
        AT,
    )


def test_the_card_knows_the_linked_measures_and_names_only_the_needs_its_reader_may_read() -> None:
    needs = Needs.build(
        [
            _need("B1", "FSKN", "förskollärare"),
            _need("B2", "GVN", "yrkeslärare"),
            _need("B3", "FSKN", "barnskötare"),
            NeedLinkEntry("B1", 1, "HR", AT, seq=4),
            NeedLinkEntry("b1", 1, "HR", AT, people=5, seq=5),  # the same link again: one need
            NeedLinkEntry("B2", 1, "HR", AT, seq=6),
            NeedLinkEntry("B3", 2, "HR", AT, seq=7),
            NeedLinkEndedEntry("B3", 2, "HR", AT, seq=8),  # ended: measure 2 answers no need
            NeedLinkEntry("B9", 3, "HR", AT, seq=9),  # a need that does not exist
        ]
    )
    fskn_hr = Principal("hr", (RoleGrant("hr", Role.HR, "FSKN"),))
    found = card_needs(needs, fskn_hr, (1, 2, 3, 4))
    assert set(found) == {1}
    assert [n.key for n in found[1].shown] == ["B1"] and found[1].others == 1
    everyone = card_needs(needs, None, (1, 2))[1]
    assert [n.key for n in everyone.shown] == ["B1", "B2"] and everyone.others == 0
    assert card_needs(needs, fskn_hr, (2, 3)) == {}


def test_a_measure_not_started_has_reached_nobody() -> None:
    """A second stranger saved 30 people reached on a measure "Ej påbörjad" that starts in August."""
    book = malmo_small()
    measure = book.measure("Språkstöd", "FSKN")
    book.grant(measure, "FSKN", 200_000)
    at = datetime(2025, 6, 5, 9, 0, tzinfo=UTC)
    followup = FollowUp(measure, "2025-06", Status.NOT_STARTED, 0, 200_000, True, "", "HR", at, reached=30)
    assert [e.code for e in check_followup(book.ledger, followup)] == ["reached_not_started"]
    assert check_followup(book.ledger, replace(followup, reached=0)) == []
    assert check_followup(book.ledger, replace(followup, status=Status.ONGOING)) == []
