"""Rule: a reallocation (omfördelning) needs a KSAU decision, moves only money
that the latest follow-up forecasts as unused, goes only to an already-decided
measure in the same year, and leaves the fund total unchanged (it only moves
money between measures, never adds or removes any)."""

from __future__ import annotations

from core.entries import ReallocationEntry
from core.errors import RuleError
from core.ledger import Ledger
from core.model import Body
from core.rules.names import kr, measure_name


def check_reallocation(ledger: Ledger, entry: ReallocationEntry) -> list[RuleError]:
    errors: list[RuleError] = []
    if entry.decision.body != Body.KSAU or entry.decision.date is None:
        errors.append(
            RuleError(
                "needs_ksau_decision",
                "En omfördelning kräver ett beslut i kommunstyrelsens arbetsutskott, till exempel "
                '"KSAU 2025-06-20 § 5".',
                "beslut",
            )
        )
    if entry.amount <= 0:
        errors.append(RuleError("amount_not_positive", "Beloppet måste vara större än 0 kr.", "belopp"))
    for key, mid in (("från", entry.from_measure), ("till", entry.to_measure)):
        if mid not in ledger.measures:
            errors.append(RuleError("unknown_measure", f"Insatsen {mid} finns inte.", key))
    if entry.from_measure == entry.to_measure:
        errors.append(RuleError("same_measure", "Pengar kan inte omfördelas till samma insats.", "till"))
    if errors:
        return errors

    for key, mid in (("från", entry.from_measure), ("till", entry.to_measure)):
        if not ledger.is_decided(mid, entry.year):
            errors.append(
                RuleError(
                    "measure_not_decided",
                    f"{measure_name(ledger, mid)} har inga beslutade medel för {entry.year}. "
                    "Omfördelning får bara ske mellan redan beslutade insatser samma år.",
                    key,
                )
            )
    if errors:
        return errors

    followup = ledger.latest_followup(entry.from_measure, entry.year)
    if followup is None:
        errors.append(
            RuleError(
                "no_followup",
                f"{measure_name(ledger, entry.from_measure)} har ingen uppföljning för "
                f"{entry.year}. Bara medel som den senaste uppföljningen bedömer som "
                "outnyttjade kan omfördelas.",
                "från",
            )
        )
        return errors
    allocated = ledger.measure_allocated(entry.from_measure, entry.year)
    unused = max(0, allocated - followup.forecast)
    if entry.amount > unused:
        errors.append(
            RuleError(
                "exceeds_unused",
                f"Beloppet {kr(entry.amount)} är mer än de outnyttjade medlen i "
                f"{measure_name(ledger, entry.from_measure)}: {kr(unused)} enligt "
                f"uppföljningen {followup.period} (beviljat {kr(allocated)}, "
                f"prognos {kr(followup.forecast)}).",
                "belopp",
            )
        )
    return errors
