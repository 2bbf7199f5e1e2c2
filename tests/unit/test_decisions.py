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
