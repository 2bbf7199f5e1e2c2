"""One parser per form (core.forms): a follow-up from the form card, the round
card or the chat's answers; a new measure from the form; every problem at once;
the length limits of core.limits everywhere, the template included; and
"does this amount fit?" (core.rules.amount_fits) without a made-up measure."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core import limits
from core.errors import DomainError, InputError, RuleViolation
from core.forms import MeasureContext, parse_followup, parse_measure, read_status
from core.model import Category, FollowUp, Measure, Principal, Status
from core.round_answers import answers_to_followups, field_name, parse_answers
from core.rounds import Round, plan_round
from core.rules import amount_fits, unit_unallocated
from core.rules.followup import check_followup
from core.rules.measure import check_measure
from core.rules.names import measure_name
from core.template import parse_rows
from tests.unit.builders import malmo_small
from tests.unit.test_rounds import _book

TODAY = date(2025, 6, 5)


def _followup(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "period": "2025-06",
        "status": "Pågående",
        "spent": "1,5 mkr",
        "forecast": "4 mkr",
        "usable": "ja",
        "note": " Enligt plan ",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


# --- the follow-up ----------------------------------------------------------------


def test_a_followup_form_gives_a_draft() -> None:
    parsed = parse_followup(_followup(spent=0, usable=False))
    assert parsed.ok and parsed.errors == ()
    d = parsed.unwrap()
    assert (d.period, d.status, d.spent, d.forecast, d.usable_as_planned, d.note) == (
        "2025-06",
        Status.ONGOING,
        0,
        4_000_000,
        False,
        "Enligt plan",
    )


def test_japp_and_juni_on_the_form_card_as_in_the_chat() -> None:
    d = parse_followup(_followup(period="juni", usable="japp"), year=2025).unwrap()
    assert (d.period, d.usable_as_planned) == ("2025-06", True)
    assert parse_followup(_followup(usable="nä")).unwrap().usable_as_planned is False


def test_japp_on_the_round_card_as_in_the_chat() -> None:
    book, _grants, (a, _b, _c, _d) = _book()
    values = {
        field_name(a, "status"): "pågår",
        field_name(a, "spent"): "0 kr",
        field_name(a, "forecast"): "1 kr",
        field_name(a, "usable"): "japp",
    }
    [answer] = parse_answers(book.ledger, (a,), values)
    assert answer.usable_as_planned is True
    values[field_name(a, "usable")] = "nej tack"
    [answer] = parse_answers(book.ledger, (a,), values)
    assert answer.usable_as_planned is False


def test_every_problem_of_a_followup_form_at_once() -> None:
    parsed = parse_followup(
        {
            "period": "2025-13",
            "status": 2,
            "spent": "-5 kr",
            "forecast": ["1 mkr"],
            "usable": "kanske",
            "note": 5,
        }
    )
    assert parsed.draft is None
    assert [e.code for e in parsed.errors] == [
        "period_out_of_range",
        "bad_field",
        "amount_negative",
        "bad_field",
        "bad_usable",
        "bad_field",
    ]
    assert (
        parsed.messages[1] == "Status har fel format. Välj en av: Ej påbörjad, Pågående, Klar, Ej slutförd."
    )
    assert parsed.messages[3] == (
        "Prognos för året har fel format. Skriv ett belopp i hela kronor, "
        'till exempel "1,5 mkr" eller "300 000 kr".'
    )
    assert parsed.messages[5] == "Kommentar har fel format. Skriv text."
    with pytest.raises(InputError) as refused:
        parsed.unwrap()
    assert len(refused.value.errors) == 6


def test_every_missing_field_is_named() -> None:
    parsed = parse_followup({})
    assert parsed.messages == [
        "Period saknas.",
        "Status saknas.",
        "Utfall hittills saknas.",
        "Prognos för året saknas.",
        'Kan användas som planerat: svara "ja" eller "nej".',
    ]


def test_a_forecast_below_the_spend_is_refused_by_the_form() -> None:
    parsed = parse_followup(_followup(spent="2 mkr", forecast="1 mkr"))
    assert parsed.messages == [
        "Prognosen 1 000 000 kr är lägre än utfallet hittills, 2 000 000 kr. Prognosen för året "
        "omfattar det som redan använts och måste vara minst 2 000 000 kr."
    ]


def test_the_round_card_leaves_a_forecast_below_the_spend_to_the_rule_after_the_round_checks() -> None:
    """As before issue 18: a closed round says it is closed first; an open one
    gives the rule's refusal, naming the measure."""
    book, grants, (a, _b, _c, _d) = _book()
    values = {
        field_name(a, "status"): "Klar",
        field_name(a, "spent"): "2 mkr",
        field_name(a, "forecast"): "1 mkr",
    }
    [answer] = parse_answers(book.ledger, (a,), values)
    assert (answer.spent, answer.forecast) == (2_000_000, 1_000_000)
    who = Principal("aad-fskn-hr", tuple(g for g in grants if g.user == "aad-fskn-hr"))
    at = datetime(2025, 6, 5, tzinfo=UTC)
    june = Round(7, plan_round("2025-06"))
    closed = Round(7, june.plan, "admin", datetime(2025, 6, 4, tzinfo=UTC))
    with pytest.raises(RuleViolation) as refused:
        answers_to_followups(book.ledger, who, closed, [answer], author="Anna", at=at, as_of=date(2025, 6, 5))
    assert [e.code for e in refused.value.errors] == ["period_closed"]
    with pytest.raises(RuleViolation, match="stängde för svar 19 juni 2025"):
        answers_to_followups(book.ledger, who, june, [answer], author="Anna", at=at, as_of=date(2025, 6, 20))
    with pytest.raises(RuleViolation) as refused:
        answers_to_followups(book.ledger, who, june, [answer], author="Anna", at=at, as_of=date(2025, 6, 5))
    assert [e.message for e in refused.value.errors] == [
        f"{measure_name(book.ledger, a)}: Prognosen för året kan inte vara lägre än utfallet "
        "hittills, eftersom prognosen omfattar det som redan använts."
    ]


def test_the_round_card_names_the_measure_and_reads_no_period() -> None:
    parsed = parse_followup({"status": "Kanske", "spent": "", "forecast": "x"}, measure="Mentorskap")
    assert parsed.draft is None
    assert parsed.messages[0].startswith('Mentorskap: Okänd status "Kanske"')
    assert parsed.messages[1] == "Mentorskap: utfall hittills saknas."
    assert parsed.messages[2].startswith("Mentorskap, prognos för året: ")
    ok = parse_followup({"status": "Klar", "spent": "0", "forecast": "1 kr"}, measure="Mentorskap").unwrap()
    assert (ok.period, ok.usable_as_planned) == (None, True)  # the round's period; empty usable is "ja"


def test_a_note_over_the_limit_is_refused() -> None:
    note = "x" * (limits.MAX_NOTE + 1)
    said = f"Kommentar är för lång ({limits.MAX_NOTE + 1} tecken). Högst {limits.MAX_NOTE} tecken."
    assert parse_followup(_followup(note=note)).messages == [said]


def test_an_over_long_note_or_title_is_said_alike_by_form_round_card_and_rule() -> None:
    """Review of issue 18: one limit, one wording: the form, the round card (naming its
    measure) and the rules (core.rules.followup, core.rules.measure) say the same."""
    note = "x" * (limits.MAX_NOTE + 1)
    said = f"Kommentar är för lång ({limits.MAX_NOTE + 1} tecken). Högst {limits.MAX_NOTE} tecken."
    book, _grants, (a, _b, _c, _d) = _book()
    values = {
        field_name(a, "status"): "Klar",
        field_name(a, "spent"): "0 kr",
        field_name(a, "forecast"): "1 kr",
        field_name(a, "note"): note,
    }
    with pytest.raises(InputError) as refused:
        parse_answers(book.ledger, (a,), values)
    assert [e.message for e in refused.value.errors] == [f"{measure_name(book.ledger, a)}: {said}"]
    followup = FollowUp(a, "2025-06", Status.DONE, 0, 1, True, note, "hr", datetime(2025, 6, 5, tzinfo=UTC))
    assert [e.message for e in check_followup(book.ledger, followup)] == [said]
    title = "T" * (limits.MAX_TITLE + 1)
    measure = Measure(id=0, title=title, units=("FSKN",), year=2025)
    assert [e.message for e in check_measure(book.ledger, measure)] == [
        f"Titeln är för lång ({limits.MAX_TITLE + 1} tecken). Högst {limits.MAX_TITLE} tecken."
    ]
    assert (
        parse_measure(_measure(title=title), _context()).messages[0]
        == check_measure(book.ledger, measure)[0].message
    )


def test_a_dash_is_no_note_on_every_form_and_card() -> None:
    """Review of issue 18: "-" means "no note" in the chat, on the follow-up form and on the
    round card alike (the round card kept it as typed)."""
    assert parse_followup(_followup(note=" - ")).unwrap().note == ""
    book, _grants, (a, _b, _c, _d) = _book()
    values = {
        field_name(a, "status"): "Klar",
        field_name(a, "spent"): "0 kr",
        field_name(a, "forecast"): "1 kr",
        field_name(a, "note"): "-",
    }
    [answer] = parse_answers(book.ledger, (a,), values)
    assert answer.note == ""
    drafted = parse_measure(_measure(description="-", target_group="-", performer="-"), _context()).unwrap()
    assert (drafted.description, drafted.target_group, drafted.performer) == ("", "", "")


# --- the measure ------------------------------------------------------------------


def _context() -> MeasureContext:
    return MeasureContext(malmo_small().ledger, ("FSKN",), 2025, TODAY)


def _measure(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "unit": "fskn",
        "title": " Mentorskap\u200b för chefer ",
        "description": "Ett år",
        "target_group": "",
        "categories": "RETAIN,ATTRACT",
        "start_date": "2025-08-01",
        "end_date": "2025-12-31",
        "performer": "",
        "amount": "1 mkr",
        "decision": "FSKN 2025-02-05 § 5",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


def test_a_measure_form_gives_a_draft() -> None:
    d = parse_measure(_measure(), _context()).unwrap()
    assert (d.unit, d.title, d.amount, d.year, d.end) == (
        "FSKN",
        "Mentorskap för chefer",
        1_000_000,
        2025,
        date(2025, 12, 31),
    )
    assert d.categories == (Category.ATTRACT, Category.RETAIN)
    assert d.decision.reference.startswith("FSKN 2025-02-05 § 5")


def test_every_problem_of_a_measure_form_at_once() -> None:
    parsed = parse_measure(
        _measure(
            unit="GVN",
            title="x" * 300,
            description="y" * (limits.MAX_DESCRIPTION + 1),
            performer="z" * (limits.MAX_PERFORMER + 1),
            categories="ATTRACT,BRIBE",
            end_date="igår kväll",
            amount="-5 kr",
            decision="inget beslut",
        ),
        _context(),
    )
    assert parsed.draft is None
    assert len(parsed.errors) == 8, parsed.messages
    assert parsed.messages[0].startswith('Du kan inte lämna in insatser för "GVN"')
    assert parsed.messages[1] == f"Titeln är för lång (300 tecken). Högst {limits.MAX_TITLE} tecken."
    assert "Beslut saknas" in parsed.messages[-1]


def test_an_amount_that_does_not_fit_is_refused_by_the_core() -> None:
    context = _context()
    free = unit_unallocated(context.ledger, "FSKN", 2025)
    assert amount_fits(context.ledger, "FSKN", 2025, free) == []
    [over] = amount_fits(context.ledger, "FSKN", 2025, free + 1)
    assert over.code == "unit_exceeded" and "Förskolenämnden" in over.message
    assert [e.code for e in amount_fits(context.ledger, "FSKN", 2025, 0)] == ["amount_not_positive"]
    parsed = parse_measure(_measure(amount=free + 1), context)
    assert [e.code for e in parsed.errors] == ["unit_exceeded"]


# --- the template ------------------------------------------------------------------


def test_the_template_keeps_the_same_length_limits() -> None:
    ledger = malmo_small().ledger
    rows = [
        {
            "Nämnd": "GVN",
            "Insats": "x" * (limits.MAX_TITLE + 1),
            "Beskrivning": "d" * (limits.MAX_DESCRIPTION + 1),
            "Målgrupp": "m" * (limits.MAX_TARGET_GROUP + 1),
            "Utförare": "u" * (limits.MAX_PERFORMER + 1),
            "Status": "japp",
        }
    ]
    planned, errors = parse_rows(rows, ledger, TODAY, 2025)
    assert planned == []
    assert [(e.row, e.column) for e in errors] == [
        (2, "Insats"),
        (2, "Beskrivning"),
        (2, "Målgrupp"),
        (2, "Utförare"),
        (2, "Status"),
    ]
    most = limits.MAX_DESCRIPTION
    assert errors[1].message == f"Beskrivning är för lång ({most + 1} tecken). Högst {most} tecken."


def test_the_template_reads_statuses_by_the_vocabulary() -> None:
    rows = [{"Nämnd": "GVN", "Insats": "Mentorskap", "Status": "pågår"}]
    [plan], errors = parse_rows(rows, malmo_small().ledger, TODAY, 2025)
    assert errors == [] and plan.measure.status == Status.ONGOING


def test_a_digit_is_no_status_in_the_template_or_on_the_round_card() -> None:
    """Only the chat numbers its statuses (1–4); a template cell "1" and a round
    card's "2" are unknown statuses, as before issue 18."""
    rows = [{"Nämnd": "GVN", "Insats": "Mentorskap", "Status": "1"}]
    planned, errors = parse_rows(rows, malmo_small().ledger, TODAY, 2025)
    assert planned == [] and [(e.row, e.column) for e in errors] == [(2, "Status")]
    assert errors[0].message.startswith('Okänd status "1". Tillåtna värden:')
    book, _grants, (a, _b, _c, _d) = _book()
    values = {field_name(a, "status"): "2", field_name(a, "spent"): "0 kr", field_name(a, "forecast"): "1 kr"}
    with pytest.raises(InputError) as refused:
        parse_answers(book.ledger, (a,), values)
    assert [e.code for e in refused.value.errors] == ["unknown_status"]
    assert 'Okänd status "2". Tillåtna värden:' in refused.value.message


def test_unwrap_of_an_empty_result_names_the_problem() -> None:
    with pytest.raises(DomainError):
        parse_followup({"status": "Klar"}, measure="M").unwrap()


@pytest.mark.parametrize("title", ["-", "...", " – "])
def test_a_dash_is_no_title_on_the_form_or_in_the_template(title: str) -> None:
    """A stranger's tryout (issue 18): "-" skips every optional text, and was saved as a
    measure's title ("Klart! Insatsen **\\-** är sparad"); a title names something."""
    parsed = parse_measure(_measure(title=title), _context())
    assert [e.code for e in parsed.errors] == ["title_missing"], parsed.messages
    rows = [{"Nämnd": "GVN", "Insats": title}]
    planned, errors = parse_rows(rows, malmo_small().ledger, TODAY, 2025)
    assert planned == [] and [(e.row, e.column) for e in errors] == [(2, "Insats")]


def test_control_characters_never_reach_a_note_or_a_description() -> None:
    """An attacker's tryout (issue 18): ESC, BEL and a right-to-left override typed into a
    note or a description were stored as typed; one such note made every XLSX export of
    the round fail. The forms, the round card and the template keep the text as it may be
    shown (core.text.visible_text), its lines too."""
    hostile = "a\x1b[31mb\x07c\u202ed\nrad två"
    note = parse_followup(_followup(note=hostile)).unwrap().note
    assert note == "a [31mb cd\nrad två", repr(note)
    book, _grants, (a, _b, _c, _d) = _book()
    values = {
        field_name(a, "status"): "Klar",
        field_name(a, "spent"): "0 kr",
        field_name(a, "forecast"): "1 kr",
        field_name(a, "note"): hostile,
    }
    [answer] = parse_answers(book.ledger, (a,), values)
    assert "\x1b" not in answer.note and "\u202e" not in answer.note
    description = parse_measure(_measure(description=hostile), _context()).unwrap().description
    assert "\x1b" not in description and "\x07" not in description and "\u202e" not in description
    rows = [{"Nämnd": "GVN", "Insats": "Mentorskap", "Beskrivning": hostile}]
    [plan], errors = parse_rows(rows, malmo_small().ledger, TODAY, 2025)
    assert errors == [] and "\x1b" not in plan.measure.description


# --- issue 19: the same words and the same wording on every form ----------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("pågånde", "Pågående"), ("Pågåend", "Pågående"), ("klarr", "Klar"), ("ejpåbörjad", "Ej påbörjad")],
)
def test_a_misspelt_status_is_answered_with_a_suggestion_on_every_form(typed: str, meant: str) -> None:
    suggestion = f'Okänd status "{typed}". Menade du {meant}? Skriv den status du menar: '
    for numbered in (False, True):  # the chat numbers its list
        with pytest.raises(InputError) as refused:
            read_status(typed, numbered=numbered)
        assert refused.value.message == f"{suggestion}Ej påbörjad, Pågående, Klar, Ej slutförd."
    assert parse_followup(_followup(status=typed)).messages[0].startswith(suggestion)  # the form
    assert (
        parse_followup(_followup(status=typed), measure="Mentorskap")
        .messages[0]
        .startswith(
            f"Mentorskap: {suggestion}"  # the round card
        )
    )


@pytest.mark.parametrize(
    ("typed", "status"),
    [("ej påbörjat", Status.NOT_STARTED), ("avslutat", Status.DONE), ("klart snart", Status.ONGOING)],
)
def test_more_status_words_are_read(typed: str, status: Status) -> None:
    assert read_status(typed) == status


def test_a_status_far_from_every_word_gets_the_allowed_ones_and_no_guess() -> None:
    [message] = parse_followup(_followup(status="Superklar")).messages
    assert "Menade du" not in message and '"Ej slutförd"' in message


@pytest.mark.parametrize("usable", [True, "true", "1", 1, "yes", "japp", "kör"])
def test_a_yes_is_yes_on_the_form_and_the_round_card(usable: object) -> None:
    assert parse_followup(_followup(usable=usable)).unwrap().usable_as_planned is True
    book, _grants, (a, _b, _c, _d) = _book()
    values = {
        field_name(a, "status"): "Klar",
        field_name(a, "spent"): "1 mkr",
        field_name(a, "forecast"): "2 mkr",
        field_name(a, "usable"): usable,
    }
    [answer] = parse_answers(book.ledger, (a,), values)
    assert answer.usable_as_planned is True


def test_a_missing_title_on_the_form_is_said_as_the_chat_says_it() -> None:
    for title in ("", "  ", None, "-"):
        parsed = parse_measure(_measure(title=title), _context())
        assert parsed.messages == ["Titeln saknas."], title


def test_a_wrong_kind_of_value_says_what_the_field_takes() -> None:
    parsed = parse_measure(_measure(amount=1.5, categories=3, unit=["FSKN"]), _context())
    assert parsed.messages == [
        "Nämnd har fel format. Välj en av dina nämnder i listan.",
        "Strategikategori har fel format. Välj en eller flera av: Attrahera & rekrytera, "
        "Behålla & utveckla, Utveckla organisation & arbetssätt.",
        'Belopp har fel format. Skriv ett belopp i hela kronor, till exempel "1,5 mkr" eller "300 000 kr".',
    ]


def test_a_unit_code_in_cyrillic_look_alikes_is_an_unknown_unit_with_the_allowed_codes() -> None:
    cyrillic = "FЅКN"  # Cyrillic Dze and Ka: it looks like FSKN
    [message] = parse_measure(_measure(unit=cyrillic), _context()).messages
    assert message == (
        f'Okänd nämnd "{cyrillic}" (den har bokstäver från ett annat alfabet, skriv med vanliga '
        "bokstäver). Du kan lämna in insatser för: FSKN."
    )
    [message] = parse_measure(_measure(unit="XYZ"), _context()).messages
    assert message == 'Okänd nämnd "XYZ". Du kan lämna in insatser för: FSKN.'


def test_a_month_alone_starts_a_measure_on_its_first_day() -> None:
    d = parse_measure(_measure(start_date="augusti 2025", end_date="december 2025"), _context()).unwrap()
    assert (d.start, d.end) == (date(2025, 8, 1), date(2025, 12, 31))


def test_a_wrong_kind_of_value_on_the_round_card_says_what_the_field_takes() -> None:
    book, _grants, (a, _b, _c, _d) = _book()
    name = measure_name(book.ledger, a)
    money = 'Skriv ett belopp i hela kronor, till exempel "1,5 mkr" eller "300 000 kr".'
    for wrong, said in (
        ({"status": ["Klar"]}, "status ska vara text. Välj en av: Ej påbörjad, Pågående, Klar, Ej slutförd."),
        ({"forecast": 1.5}, f"prognos för året ska vara text. {money}"),
    ):
        fields = {"status": "Klar", "spent": "0 kr", "forecast": "1 kr", **wrong}
        with pytest.raises(InputError) as refused:
            parse_answers(book.ledger, (a,), {field_name(a, k): v for k, v in fields.items()})
        assert [e.message for e in refused.value.errors] == [f"{name}: fältet {said}"]


def test_the_command_line_reads_amounts_in_words_and_refuses_approximate_ones() -> None:
    from cli.common import amount

    assert amount("två och en halv miljon", "--amount") == 2_500_000
    with pytest.raises(InputError, match="ungefärligt"):
        amount("ca 450 000", "--amount")
