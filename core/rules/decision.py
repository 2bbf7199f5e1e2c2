"""Rule: money is granted only by a decision someone gave, and a committee's
share of a measure is granted by that committee (or by KF, KS or KSAU).

A committee decides as itself: its decision's body is its unit's code
("TN 2025-01-28 § 17"), so TN's share of a shared measure cannot cite SBN's
decision. A decision made up by kompetensbot before issue 17 ("Nämnd <the day
of saving>", Decision.invented) stays stored, since the ledger is append-only,
and is flagged "beslut ej angivet" wherever the measure's money is shown.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from core.dates import format_date
from core.entries import MeasureFundingEntry
from core.errors import RuleError
from core.ledger import Ledger
from core.model import NOT_GIVEN, Decision, Measure, delegate_problem, is_committee
from core.rules.names import kr, measure_name, unit_name

MISSING_DECISION = "missing_decision"
DECISION_REQUIRED = (
    "Beslut saknas: pengar beviljas bara genom ett beslut, så inget sparas utan ett. "
    'Ange organ, datum och paragraf, till exempel "FSKN 2025-02-05 § 5", eller ett delegationsbeslut '
    'som "delegationsbeslut 2025-05-12, förvaltningsdirektör".'
)
"""Why money without a decision is refused: the one message of every way in
(chat, form, command line, template import; issue 17 item 3)."""


def check_decision_given(decision: Decision | None, field: str | None = "beslut") -> list[RuleError]:
    """Money is granted only with the decision behind it: none given, nothing saved."""
    return [RuleError(MISSING_DECISION, DECISION_REQUIRED, field)] if decision is None else []


def check_grant_decision(ledger: Ledger, entry: MeasureFundingEntry) -> list[RuleError]:
    """A unit's share cites its own committee's decision, or one of KF, KS or KSAU
    (a decision stored as an unnamed "nämnd" is not checked: it names no committee)."""
    what = f"{unit_name(ledger, entry.unit)}s andel av {measure_name(ledger, entry.measure_id)}"
    return _other_body(ledger, entry.decision, entry.unit, what)


def check_new_grant_decision(
    ledger: Ledger, decision: Decision, unit: str, today: date, year: int | None = None
) -> list[RuleError]:
    """A decision given for a new measure's money (chat, form): its unit's own
    committee or KF, KS or KSAU, already taken, and (with the money's `year`)
    plausible for that year's money (check_decision_plausible)."""
    what = f"{unit_name(ledger, unit)}s pengar"
    plausible = check_decision_plausible(decision, year) if year is not None else check_paragraph(decision)
    return _other_body(ledger, decision, unit, what) + check_decision_date(decision, today) + plausible


YEARS_BEFORE = 2
"""A decision granting a year's money is taken at most this many years before
that year (the budget for 2025 is decided in 2023 or 2024, not in 1900)."""

_PARAGRAPH_RE = re.compile(r"^[1-9]\d*(?:\s?[a-zåäö]|(?:\.\d+)+)?$", re.IGNORECASE)


def normal_paragraph(paragraph: str) -> str:
    """A paragraph as read: NFKC-normalised (a full-width "５" is the digit 5)."""
    return " ".join(unicodedata.normalize("NFKC", paragraph).split())


def check_paragraph(decision: Decision) -> list[RuleError]:
    """A minutes paragraph is a positive number, optionally with a letter or
    sub-numbers: "5", "12 a", "3.2" (not "0", "-1" or "x")."""
    if decision.paragraph is None or _PARAGRAPH_RE.match(normal_paragraph(decision.paragraph)):
        return []
    return [
        RuleError(
            "bad_paragraph",
            f'Paragrafen "§ {" ".join(decision.paragraph.split())}" i beslutet '
            f"{' '.join(decision.reference.split())} "
            "är inte ett paragrafnummer. Skriv ett positivt tal, gärna med en bokstav eller ett undernummer: "
            '"§ 5", "§ 12 a" eller "§ 3.2".',
            "beslut",
        )
    ]


def check_decision_plausible(decision: Decision, year: int) -> list[RuleError]:
    """A decision granting `year`'s money is dated no earlier than YEARS_BEFORE
    years before that year, and its paragraph is a paragraph number."""
    earliest = date(max(year - YEARS_BEFORE, 1), 1, 1)
    problems: list[RuleError] = []
    if decision.date is not None and decision.date < earliest:
        problems.append(
            RuleError(
                "decision_too_old",
                f"Beslutet {' '.join(decision.reference.split())} är daterat {format_date(decision.date)}, "
                f"för tidigt för pengar för {year}: ett sådant beslut fattas tidigast "
                f"{format_date(earliest)}. "
                "Ange beslutet som beviljade pengarna.",
                "beslut",
            )
        )
    if decision.delegate and (why := delegate_problem(decision.delegate)):
        problems.append(RuleError("bad_delegate", why, "beslut"))
    return problems + check_paragraph(decision)


def _other_body(ledger: Ledger, decision: Decision, unit: str, what: str) -> list[RuleError]:
    if is_committee(decision.body) and decision.body != unit:
        return [
            RuleError(
                "decision_of_another_body",
                f"{what} kan inte beviljas genom {unit_name(ledger, decision.body)}s beslut "
                f'({decision.reference}). Ange {unit}:s eget beslut ("{unit} ÅÅÅÅ-MM-DD § nr") '
                "eller ett beslut av KF, KS eller KSAU.",
                "beslut",
            )
        ]
    return []


def check_decision_date(decision: Decision, today: date) -> list[RuleError]:
    """A decision that grants money has been taken: its date is not after today."""
    if decision.date is not None and decision.date > today:
        return [
            RuleError(
                "decision_in_future",
                f"Beslutet {decision.reference} är daterat {format_date(decision.date)}, efter i dag "
                f"({format_date(today)}). Ange ett beslut som redan är fattat.",
                "beslut",
            )
        ]
    return []


@dataclass(frozen=True, slots=True)
class UngivenDecision:
    """A measure's grant whose decision nobody gave (flagged NOT_GIVEN)."""

    measure: Measure
    unit: str
    amount: int
    stored_as: str  # the reference kompetensbot stored, "Nämnd 2025-06-05"

    @property
    def message(self) -> str:
        return (
            f'Insats {self.measure.id} "{self.measure.title}" ({self.unit} {self.measure.year}): '
            f"{NOT_GIVEN}. {kr(self.amount)} sparades med ett beslut som ingen angav "
            f'("{self.stored_as}"). Raden kan inte ändras i efterhand; ta fram det verkliga beslutet.'
        )


def ungiven_decisions(ledger: Ledger) -> list[UngivenDecision]:
    """Every measure grant stored with a made-up decision, in ledger order."""
    found: list[UngivenDecision] = []
    for entry in ledger.entries:
        if isinstance(entry, MeasureFundingEntry) and entry.decision.invented:
            measure = ledger.measures.get(entry.measure_id)
            if measure is not None:
                found.append(UngivenDecision(measure, entry.unit, entry.amount, entry.decision.reference))
    return found


def decision_missing(fundings: tuple[MeasureFundingEntry, ...] | list[MeasureFundingEntry]) -> bool:
    """Some of a measure's money was granted without a given decision."""
    return any(f.decision.invented for f in fundings)
