"""Issue 17 items 3 and 7: a decision names its body, as the papers cite it."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import InputError
from core.model import NOT_GIVEN, Body, Decision, Unit, parse_decision

UNITS = [Unit("TN", "Tekniska nämnden", ("tekniska",)), Unit("FSKN", "Förskolenämnden", ("förskolan",))]


@pytest.mark.parametrize(
    ("text", "default", "reference"),
    [
        ("TN 2025-01-28 § 17", None, "TN 2025-01-28 § 17"),
        ("TN 250128 § 17", None, "TN 2025-01-28 § 17"),  # as the KS decision cites it
        ("Tekniska nämnden 2025-01-28 § 17", None, "TN 2025-01-28 § 17"),
        ("nämnd 2025-02-05 § 5", "FSKN", "FSKN 2025-02-05 § 5"),  # the measure's own committee
        ("2025-02-05 § 5", "FSKN", "FSKN 2025-02-05 § 5"),
        ("KSAU 2025-06-20 § 5 STK-2025-100", "FSKN", "KSAU 2025-06-20 § 5 (STK-2025-100)"),
        ("ks 2025-03-05", "FSKN", "KS 2025-03-05"),
        (
            "delegationsbeslut 2025-05-12, förvaltningsdirektör",
            "FSKN",
            "FSKN delegationsbeslut 2025-05-12, förvaltningsdirektör",
        ),
        (
            "TN delegationsbeslut 2025-05-12 § 3 avdelningschef",
            "FSKN",
            "TN delegationsbeslut 2025-05-12 § 3, avdelningschef",
        ),
    ],
)
def test_a_decision_is_labelled_by_its_body(text: str, default: str | None, reference: str) -> None:
    decision = parse_decision(text, default_body=default, units=UNITS)
    assert decision.reference == reference
    assert not decision.invented


def test_a_delegation_decision_keeps_who_decided() -> None:
    d = parse_decision("delegationsbeslut 2025-05-12, förvaltningsdirektör", default_body="FSKN")
    assert (d.body, d.date, d.delegate) == ("FSKN", date(2025, 5, 12), "förvaltningsdirektör")


@pytest.mark.parametrize(
    ("text", "default", "reason"),
    [
        ("nämnd 2025-02-05 § 5", None, "säger inte vilket organ som beslutade"),
        ("2025-02-05 § 5", None, "säger inte vilket organ som beslutade"),
        ("delegationsbeslut 2025-05-12", "FSKN", "säger inte vem som fattade det"),
        ("Badhusnämnden 2025-02-05 § 5", "FSKN", 'Okänt organ "Badhusnämnden"'),
        ("FSKN 2025-02-30 § 5", "FSKN", "finns inte"),
        ("FSKN 2025-02-05 § 5 och mer", "FSKN", '"och mer" efter datum och paragraf är okänt'),
    ],
)
def test_a_decision_that_names_no_body_or_nothing_readable_is_refused(
    text: str, default: str | None, reason: str
) -> None:
    with pytest.raises(InputError) as refused:
        parse_decision(text, default_body=default, units=UNITS)
    assert reason in refused.value.message


def test_the_old_labels_still_read_and_made_up_decisions_are_flagged() -> None:
    """Stored before issue 17: "Nämnd 2025-01-29 § 10" reads as it was; the chat's and
    the form's "Nämnd <the day of saving>" and an import's are flagged NOT_GIVEN."""
    old = Decision(Body.COMMITTEE, date(2025, 1, 29), "10")
    assert (old.reference, old.label) == ("Nämnd 2025-01-29 § 10", "Nämnd 2025-01-29 § 10")
    for title in ("Inlämnad via kompetensbot", "Beviljat enligt mall mall.xlsx"):
        made_up = Decision(Body.COMMITTEE, date(2025, 10, 1), title=title)
        assert made_up.invented and made_up.label == NOT_GIVEN == "beslut ej angivet"
        assert made_up.reference == "Nämnd 2025-10-01"


@pytest.mark.parametrize(
    "text",
    [
        "Förskolenämnden 5 februari 2025 § 5",
        "förskolan 5:e feb. 2025 § 5",
        "FSKN 5/2 2025 § 5",
        "FSKN 5.2.2025 § 5",
    ],
)
def test_a_decision_dated_as_the_date_fields_read_dates_is_read(text: str) -> None:
    """Tryout finding F: "Förskolenämnden 5 februari 2025 § 5" was refused as unreadable,
    though "5 februari 2025" works in every date field; a unit's name is its body."""
    assert parse_decision(text, default_body="TN", units=UNITS).reference == "FSKN 2025-02-05 § 5"


def test_a_written_day_that_does_not_exist_is_still_refused() -> None:
    with pytest.raises(InputError):
        parse_decision("FSKN 31 februari 2025 § 5", units=UNITS)


# --- TRYOUT2 item 1: an absurd decision grants no money -----------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("KF 0001-01-01 § 1", "tidigast 1 januari 2023"),
        ("FSKN 1000-01-01 § 1", "tidigast 1 januari 2023"),
        ("KF 2022-12-31 § 1", "tidigast 1 januari 2023"),
        ("KF 2024-12-01 § -1", '"§ 12 a" eller "§ 3.2"'),
        ("FSKN 2025-02-05 § 0", '"§ 12 a" eller "§ 3.2"'),
    ],
)
def test_an_absurd_decision_grants_no_money_and_validate_flags_it(text: str, says: str) -> None:
    """Tryout 2 item 1: a decision from long before the money's year, or with a paragraph
    that is no number, is refused by grant_measure (all ways in) with a Swedish reason,
    and one already stored is flagged by validate."""
    from core import commands
    from core.entries import MeasureFundingEntry
    from core.errors import RuleViolation
    from core.validation import validate
    from tests.unit.builders import AT, malmo_small

    book = malmo_small()
    mid = book.measure("Kurs", "FSKN")
    decision = parse_decision(text, default_body="FSKN", units=UNITS)
    with pytest.raises(RuleViolation) as refused:
        commands.grant_measure(book.ledger, book.who, mid, "FSKN", 1000, decision, AT)
    assert says in str(refused.value)
    stored = MeasureFundingEntry(2025, mid, "FSKN", 1000, decision, "x", AT)
    flagged = [e.message for e in validate(book.ledger.append(stored))]
    assert any(says in m for m in flagged), flagged


@pytest.mark.parametrize(
    ("text", "paragraph"),
    [("FSKN 2025-02-05 § ５", "5"), ("FSKN 2025-02-05 § 12 a", "12 a"), ("FSKN 2025-02-05 § 3.2", "3.2")],
)
def test_a_paragraph_is_read_as_written_and_full_width_digits_as_digits(text: str, paragraph: str) -> None:
    """Tryout 2 item 1: "§ ５" is § 5; "12 a" and "3.2" are paragraphs and grant money."""
    from core import commands
    from tests.unit.builders import AT, malmo_small

    decision = parse_decision(text, default_body="FSKN", units=UNITS)
    assert decision.paragraph == paragraph
    book = malmo_small()
    mid = book.measure("Kurs", "FSKN")
    assert commands.grant_measure(book.ledger, book.who, mid, "FSKN", 1000, decision, AT).amount == 1000


def test_the_chat_and_form_refuse_an_absurd_decision_for_the_moneys_year() -> None:
    """Tryout 2 item 1: the chat's and the form's decision check (read_decision) refuses
    "FSKN 1000-01-01 § 1" and "§ 0" for 2025's money, before the summary."""
    from core.forms import read_decision
    from tests.unit.builders import malmo_small

    ledger = malmo_small().ledger
    today = date(2025, 6, 5)
    for text in ("FSKN 1000-01-01 § 1", "FSKN 2025-02-05 § 0", "KF 1900-01-01 § -1"):
        with pytest.raises(InputError) as refused:
            read_decision(ledger, text, "FSKN", today, 2025)
        assert refused.value.errors, text
    decision = read_decision(ledger, "FSKN 2025-02-05 § ５", "FSKN", today, 2025)
    assert decision.paragraph == "5"


@pytest.mark.parametrize(
    "text",
    [
        "delegationsbeslut 2025-05-12, TN 2025-01-28 § 17",
        "delegationsbeslut 2025-05-12, förvaltningsdirektör § 4",
        "delegationsbeslut 2025-05-12, KS 250128",
    ],
)
def test_another_committees_decision_is_not_a_delegate(text: str) -> None:
    """Tryout 2 item 2: hr-fskn's "delegationsbeslut 2025-05-12, TN 2025-01-28 § 17" was saved
    and shown as "beslut FSKN delegationsbeslut 2025-05-12, TN 2025-01-28 § 17"; who decided
    on delegation is a role or a person, so it is refused with a Swedish reason (chat and form)."""
    from core.forms import read_decision
    from tests.unit.builders import malmo_small

    with pytest.raises(InputError) as refused:
        parse_decision(text, default_body="FSKN", units=UNITS)
    assert "ska vara en roll eller en person" in refused.value.message
    with pytest.raises(InputError) as refused:
        read_decision(malmo_small().ledger, text, "FSKN", date(2025, 6, 5), 2025)
    assert "inga siffror, datum, paragrafer eller andra beslut" in refused.value.errors[0].message
    ok = parse_decision("delegationsbeslut 2025-05-12, HR-chef (Anna Berg)", default_body="FSKN", units=UNITS)
    assert ok.delegate == "HR-chef (Anna Berg)"


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("Kommunfullmäktige 2024-11-20 § 3", Body.KF),
        ("kommunstyrelsen 2025-03-05 § 2", Body.KS),
        ("Kommunstyrelsens arbetsutskott 2025-06-20 § 5", Body.KSAU),
    ],
)
def test_kf_ks_and_ksau_are_known_by_their_full_names(text: str, body: Body) -> None:
    """Tryout 2 item 7: "Kommunfullmäktige 2025-…" was an unknown body while committees'
    full names worked; KF, KS and KSAU are read by their full names too."""
    units = [*UNITS, Unit("KS", "Kommunstyrelsen")]
    assert parse_decision(text, default_body="FSKN", units=units).body == body


def test_an_unknown_body_lists_ks_once_and_quotes_the_decision_on_one_line() -> None:
    """Tryout 2 item 7: the allowed bodies named KS twice (KS and the unit KS), and a
    decision with a line break split the quoted text in the message."""
    units = [*UNITS, Unit("KS", "Kommunstyrelsen")]
    with pytest.raises(InputError) as refused:
        parse_decision("Byggnämnden\n2025-02-05 § 5", default_body="FSKN", units=units)
    message = refused.value.message
    assert message.count("KS") == message.count("KSAU") + 1  # "KS" once, besides "KSAU"
    assert "\n" not in message
    assert '"Byggnämnden 2025-02-05 § 5"' in message
