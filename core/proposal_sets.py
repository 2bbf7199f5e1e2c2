"""A round's reallocation proposals as one set that KSAU decides on at once.

The set is made from core.proposals.propose when it is sent to KSAU (the round's
close, or stadskontoret's send) and stored then; asked for before that, the
proposals are shown as they are on the ledger now, preliminary, and nothing can
be decided from them. Each proposal with its basis, the money the source measure's latest
follow-up forecast as unused then, and that follow-up (period and seq). KSAU
ticks the proposals it decided and gives the decision reference; `decide`
then checks every ticked proposal again, at that moment, against the ledger:

- a proposal whose basis changed since the set was made (a newer follow-up of
  the source measure, or its forecast-unused money is another amount, e.g.
  money moved out of it since) is refused with the reason;
- the others go through the same rule as `kompetensbot reallocate`
  (core.commands.reallocate), one after another, each against the ledger
  with the ones before it applied: one refused by the rule is refused with
  the rule's reason, and the others still go through;
- the unticked ones are reported as not decided.

The first decision recorded closes the set (`check_set_open`): a later one,
from another member's copy of the card or a retry, records nothing. All of
this is pure: the services store the set, the decision and the entries.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime

from core import commands
from core.calendar import SWEDISH_TIME
from core.entries import ReallocationEntry
from core.errors import RuleError, RuleViolation
from core.ledger import Ledger
from core.model import Body, Decision, Principal
from core.permissions import Action, can, require
from core.proposals import propose
from core.rules.names import kr, measure_name


@dataclass(frozen=True, slots=True)
class ProposalItem:
    """Proposal number `number` (1, 2, …) of a set, with its basis: the source
    measure's forecast-unused money as its latest follow-up (`basis_period`,
    `basis_seq`) said when the set was made."""

    number: int
    year: int
    from_measure: int
    to_measure: int
    amount: int
    same_unit: bool
    basis_unused: int
    basis_period: str
    basis_seq: int


@dataclass(frozen=True, slots=True)
class SetDecision:
    """KSAU's decision on a set: the reference, who recorded it (object id and
    name) and when, and what became of each proposal (by number)."""

    reference: str
    by_user: str
    by_name: str
    at: datetime
    recorded: tuple[int, ...]
    refused: tuple[tuple[int, str], ...]
    not_ticked: tuple[int, ...]
    entry_seqs: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ProposalSet:
    """The proposals of one round (period) as sent to KSAU, and its decision once recorded."""

    id: int
    round_id: int
    period: str
    year: int
    items: tuple[ProposalItem, ...]
    created_by: str
    created_at: datetime
    decision: SetDecision | None = None

    @property
    def decided(self) -> bool:
        return self.decision is not None


def basis_now(ledger: Ledger, year: int, measure_id: int) -> tuple[int, str, int] | None:
    """(forecast-unused money, follow-up period, follow-up seq) of a measure now; None
    without a follow-up."""
    latest = ledger.latest_followup(measure_id, year)
    if latest is None:
        return None
    unused = max(0, ledger.measure_allocated(measure_id, year) - latest.forecast)
    return unused, latest.period, latest.seq


def make_items(ledger: Ledger, year: int) -> tuple[ProposalItem, ...]:
    """The proposals for `year` (core.proposals.propose), each with its basis."""
    items = []
    for number, p in enumerate(propose(ledger, year), start=1):
        basis = basis_now(ledger, year, p.from_measure)
        assert basis is not None  # propose only moves money a follow-up forecast as unused
        unused, period, seq = basis
        items.append(
            ProposalItem(
                number, year, p.from_measure, p.to_measure, p.amount, p.same_unit, unused, period, seq
            )
        )
    return tuple(items)


def basis_changed(ledger: Ledger, item: ProposalItem) -> str | None:
    """Why a proposal's basis no longer holds (None: it does): the source measure's
    latest follow-up or its forecast-unused money is not what the set was made from."""
    now = basis_now(ledger, item.year, item.from_measure)
    name = measure_name(ledger, item.from_measure)
    was = f"{kr(item.basis_unused)} outnyttjat enligt uppföljningen {item.basis_period}"
    if now is None:
        return (
            f"Underlaget har ändrats sedan förslaget skickades: {name} har ingen uppföljning längre ({was})."
        )
    unused, period, seq = now
    if seq != item.basis_seq or unused != item.basis_unused:
        return (
            f"Underlaget har ändrats sedan förslaget skickades: {name} hade {was}, "
            f"nu {kr(unused)} enligt uppföljningen {period}."
        )
    return None


def decided_line(decision: SetDecision, total: int) -> str:
    """ "Beslutat KSAU 2025-06-24 § 5: 3 av 4 förslag, registrerat av …" (plain text)."""
    when = decision.at.astimezone(SWEDISH_TIME).strftime("%Y-%m-%d %H:%M")
    who = decision.by_name or decision.by_user
    return (
        f"Beslutat {decision.reference}: {len(decision.recorded)} av {total} förslag, "
        f"registrerat av {who} {when}"
    )


def may_decide(who: Principal) -> bool:
    """Whether `who` records KSAU's decision on a set (the ksau role: core.permissions)."""
    return can(who, Action.REALLOCATE)


def may_see(who: Principal) -> bool:
    """Whether `who` sees the proposals: ksau, and those who manage rounds."""
    return may_decide(who) or can(who, Action.MANAGE_ROUNDS)


def require_see(who: Principal) -> None:
    """Refuse (PermissionDenied, naming what is needed) one who may not see the proposals."""
    if not may_see(who):
        require(who, Action.MANAGE_ROUNDS)


def check_set_open(proposal_set: ProposalSet) -> list[RuleError]:
    """The set takes a decision only while none is recorded: the first one closes it."""
    d = proposal_set.decision
    if d is None:
        return []
    return [
        RuleError(
            "set_decided",
            f"Förslagen är redan beslutade: {decided_line(d, len(proposal_set.items))}. "
            "Inget nytt registrerades.",
            "beslut",
        )
    ]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What `decide` found: the entries to store (in order), and each proposal's fate."""

    entries: tuple[ReallocationEntry, ...]
    recorded: tuple[int, ...]
    refused: tuple[tuple[int, str], ...]
    not_ticked: tuple[int, ...]


NOTHING_TICKED = "Kryssa i minst ett förslag som KSAU har beslutat om. Inget registrerades."


def decide(
    ledger: Ledger,
    who: Principal,
    proposal_set: ProposalSet,
    ticked: Collection[int],
    decision: Decision,
    at: datetime,
) -> Outcome:
    """KSAU's decision on the ticked proposals (by number), each checked again now.

    Refused as a whole (RuleViolation, nothing to store): not ksau, the set
    already decided, a decision that is not KSAU's, nothing ticked, or every
    ticked proposal refused (the reasons given)."""
    require(who, Action.REALLOCATE)
    errors = check_set_open(proposal_set)
    if errors:
        raise RuleViolation(errors)
    if decision.body != Body.KSAU or decision.date is None:
        raise RuleViolation(
            RuleError(
                "needs_ksau_decision",
                "Beslutet ska vara kommunstyrelsens arbetsutskotts, skrivet som "
                '"KSAU 2025-06-24 § 5". Inget registrerades.',
                "beslut",
            )
        )
    chosen = {n for n in ticked if any(i.number == n for i in proposal_set.items)}
    if not chosen:
        raise RuleViolation(RuleError("nothing_ticked", NOTHING_TICKED, "förslag"))
    entries: list[ReallocationEntry] = []
    recorded: list[int] = []
    refused: list[tuple[int, str]] = []
    not_ticked: list[int] = []
    start = ledger
    for item in proposal_set.items:
        if item.number not in chosen:
            not_ticked.append(item.number)
            continue
        changed = basis_changed(start, item)
        if changed:
            refused.append((item.number, changed))
            continue
        try:
            entry = commands.reallocate(
                ledger, who, item.from_measure, item.to_measure, item.amount, decision, at, item.year
            )
        except RuleViolation as problem:
            refused.append((item.number, problem.message))
            continue
        ledger = ledger.append(entry)
        entries.append(replace(entry, seq=0))
        recorded.append(item.number)
    if not entries:
        raise RuleViolation(
            RuleError(
                "all_refused",
                "Inget förslag kunde registreras: "
                + " ".join(f"Förslag {n}: {reason}" for n, reason in refused),
                "förslag",
            )
        )
    return Outcome(tuple(entries), tuple(recorded), tuple(refused), tuple(not_ticked))


@dataclass(frozen=True, slots=True)
class ProposalSetView:
    """A set as a card shows it: the measures' titles, and who has the ksau role.
    `preliminary`: the round's proposals as the ledger gives them now, not sent to KSAU
    (not stored, id 0): they may change until they are sent, and nothing is decided from them."""

    proposal_set: ProposalSet
    titles: dict[int, str]
    members: tuple[str, ...]
    preliminary: bool = False

    def title(self, measure_id: int) -> str:
        return self.titles.get(measure_id, str(measure_id))


@dataclass(frozen=True, slots=True)
class ProposalsSent:
    """What `send_proposals` did: the set, how many have the ksau role, and how many
    new cards were recorded to be sent (0 when they were sent already)."""

    view: ProposalSetView
    members: int
    new_sends: int


@dataclass(frozen=True, slots=True)
class SetDecided:
    """What `decide_proposals` answered: the set as it is now, and whether this call
    recorded its decision (False: the same person's same decision was recorded
    already, a double click or a retry: nothing new written)."""

    view: ProposalSetView
    recorded_now: bool
