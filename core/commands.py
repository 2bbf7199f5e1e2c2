"""The operations that change money or plans, as pure functions.

Each takes the current ledger and who is acting, checks permissions and every
rule, and returns the new record to append, or raises a DomainError carrying
every problem found. Nothing is written here: storage appends what is returned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from core.calendar import swedish_date
from core.dates import format_date
from core.entries import (
    AllocationEndEntry,
    AllocationEntry,
    FundEntry,
    MeasureFundingEntry,
    ReallocationEntry,
)
from core.errors import RuleError, RuleViolation, echo
from core.ledger import Ledger
from core.model import Decision, FollowUp, Measure, Principal
from core.needs import NeedEntry, NeedLinkEndedEntry, NeedLinkEntry, Needs
from core.permissions import Action, can, can_any, require
from core.rounds import Round, after_close_note, check_late_reason, check_period_open, closed_round
from core.rules import (
    check_allocation,
    check_allocation_end,
    check_followup,
    check_fund,
    check_link,
    check_link_end,
    check_measure,
    check_measure_funding,
    check_need,
    check_reallocation,
)
from core.rules.decision import (
    check_decision_date,
    check_decision_given,
    check_decision_plausible,
    check_grant_decision,
)
from core.rules.followup import check_period_begun, implausible_amounts
from core.text import clean_name


def _refuse_if(errors: list[RuleError]) -> None:
    if errors:
        raise RuleViolation(errors)


def set_fund(
    ledger: Ledger, who: Principal, year: int, amount: int, decision: Decision, at: datetime
) -> FundEntry:
    require(who, Action.ALLOCATE)
    entry = FundEntry(year, amount, decision, who.author, at, author_id=who.user)
    _refuse_if(check_fund(ledger, entry))
    return entry


def allocate(
    ledger: Ledger,
    who: Principal,
    unit: str,
    year: int,
    amount: int,
    decision: Decision,
    at: datetime,
    recurring: bool = False,
) -> AllocationEntry:
    require(who, Action.ALLOCATE)
    entry = AllocationEntry(year, unit, amount, recurring, decision, who.author, at, author_id=who.user)
    _refuse_if(check_allocation(ledger, entry))
    return entry


def end_allocation(
    ledger: Ledger,
    who: Principal,
    allocation_seq: int,
    last_year: int,
    decision: Decision,
    at: datetime,
) -> AllocationEndEntry:
    require(who, Action.ALLOCATE)
    entry = AllocationEndEntry(allocation_seq, last_year, decision, who.author, at, author_id=who.user)
    _refuse_if(check_allocation_end(ledger, entry))
    return entry


def submit_measure(ledger: Ledger, who: Principal, measure: Measure) -> Measure:
    """The measure as it is stored: its title, performer and submitter are clean
    names (core.text.clean_name), and the title is not one the year already has."""
    require(who, Action.SUBMIT_MEASURE, measure.units)
    measure = replace(
        measure,
        title=clean_name(measure.title),
        performer=clean_name(measure.performer),
        created_by=clean_name(measure.created_by),
    )
    _refuse_if(check_measure(ledger, measure))
    return measure


def grant_measure(
    ledger: Ledger,
    who: Principal,
    measure_id: int,
    unit: str,
    amount: int,
    decision: Decision | None,
    at: datetime,
    year: int | None = None,
) -> MeasureFundingEntry:
    """A unit's share of a measure's money, granted by `decision`: given (never
    made up), the unit's own committee's or KF's, KS's or KSAU's, and already
    taken on `at`'s date (the bot's today, bot.clock)."""
    require(who, Action.SUBMIT_MEASURE, [unit])
    if decision is None:  # never a decision nobody gave
        raise RuleViolation(check_decision_given(decision))
    measure = ledger.measures.get(measure_id)
    entry = MeasureFundingEntry(
        year if year is not None else (measure.year if measure else 0),
        measure_id,
        unit,
        amount,
        decision,
        who.author,
        at,
        author_id=who.user,
    )
    _refuse_if(
        check_grant_decision(ledger, entry)
        + check_decision_date(decision, swedish_date(at))
        + (check_decision_plausible(decision, entry.year) if entry.year > 0 else [])
        + check_measure_funding(ledger, entry)
    )
    return entry


def report_followup(
    ledger: Ledger,
    who: Principal,
    followup: FollowUp,
    *,
    rounds: Iterable[Round] = (),
    amount_confirmed: bool = False,
    after_close_reason: str | None = None,
) -> FollowUp:
    """The follow-up as it is stored: its author id is the acting person's,
    whatever name it was given for display.

    `rounds`: the city's follow-up rounds: a closed round's period takes no new
    follow-ups (core.rounds.check_period_open), unless one who manages rounds
    gives `after_close_reason`, which is recorded first in the note.
    `amount_confirmed`: the person confirmed a spend or forecast over twice the
    measure's money (core.rules.followup.implausible_amounts); without it such
    a follow-up is refused."""
    followup = replace(followup, author=clean_name(followup.author), author_id=who.user)
    measure = ledger.measures.get(followup.measure_id)
    if measure is not None:
        require(who, Action.FOLLOW_UP, measure.units, any_of=True)
        absent = stand_in_for(who, measure)
        if absent and not followup.for_id:  # issue 22: given for the absent person, whatever the way in
            followup = replace(followup, for_id=absent, for_name=clean_name(followup.for_name, 200) or absent)
    rounds = tuple(rounds)
    if after_close_reason is not None:
        require(who, Action.MANAGE_ROUNDS)
        _refuse_if(check_late_reason(after_close_reason))
        closed = closed_round(rounds, followup.period)
        if closed is None:
            raise RuleViolation(
                RuleError(
                    "period_not_closed",
                    f"Uppföljningen för {followup.period} är inte stängd, så ingen sen registrering "
                    "behövs: lämna uppföljningen utan skäl.",
                    "period",
                )
            )
        followup = replace(followup, note=after_close_note(closed, after_close_reason, followup.note))
    else:
        _refuse_if(check_period_open(rounds, followup.period))
    _refuse_if(check_period_begun(followup.period, swedish_date(followup.at)))
    errors = check_followup(ledger, followup)
    if not errors and not amount_confirmed:
        errors = implausible_amounts(ledger, followup)
    _refuse_if(errors)
    return followup


def stand_in_for(who: Principal, measure: Measure) -> str:
    """The absent person `who` follows `measure` up for as their substitute (issue 22), or ""
    when their own grants let them follow it up: the one whose unit grant they stand in for
    (Principal.stand_in), the measure's responsible person first, else the first by id (as
    the round hands measures over, core.rounds.on_the_day)."""
    if who.is_admin or can_any(replace(who, stand_in=()), Action.FOLLOW_UP, measure.units):
        return ""
    absent = sorted({g.user for g in who.stand_in if g.unit in measure.units})
    if measure.responsible in absent:
        return measure.responsible
    return absent[0] if absent else ""


def reallocate(
    ledger: Ledger,
    who: Principal,
    from_measure: int,
    to_measure: int,
    amount: int,
    decision: Decision,
    at: datetime,
    year: int | None = None,
) -> ReallocationEntry:
    require(who, Action.REALLOCATE)
    source = ledger.measures.get(from_measure)
    entry = ReallocationEntry(
        year if year is not None else (source.year if source else 0),
        from_measure,
        to_measure,
        amount,
        decision,
        who.author,
        at,
        author_id=who.user,
    )
    # Like a grant's decision: KSAU's decision is taken (not dated after today) and is of the
    # money's time (not from before the year before), whichever way it is recorded.
    _refuse_if(
        check_reallocation(ledger, entry)
        + check_decision_date(decision, swedish_date(at))
        + (check_decision_plausible(decision, entry.year) if entry.year > 0 else [])
    )
    return entry


# --- competence needs (issue 21) -------------------------------------------------


def assess_need(ledger: Ledger, needs: Needs, who: Principal, need: NeedEntry) -> NeedEntry:
    """A need's assessment as it is stored: its key, role, area, competence and
    source are clean names, its author id the acting person's. Who may submit
    measures for the need's unit may assess its needs (HR of the unit,
    stadskontoret). A new assessment of a key of another unit is refused: a
    need stays with its unit."""
    require(who, Action.ASSESS_NEEDS, [need.unit])
    need = replace(
        need,
        key=clean_name(need.key),
        role=clean_name(need.role),
        area=clean_name(need.area) or None if need.area is not None else None,
        competence=clean_name(need.competence),
        source=clean_name(need.source),
        author=clean_name(need.author),
        author_id=who.user,
    )
    errors = check_need(ledger, need)
    today = swedish_date(need.at)
    if need.assessed > today:
        errors.append(
            RuleError(
                "assessed_in_future",
                f"Bedömd {format_date(need.assessed)} ligger efter dagens datum ({format_date(today)}). "
                "Skriv när behovet bedömdes.",
                "bedömd",
            )
        )
    earlier = needs.get(need.key)
    if earlier is not None and earlier.unit != need.unit:
        errors.append(
            RuleError(
                "need_other_unit",
                f'Behovet "{need.key}" hör till {earlier.unit}, inte {need.unit}. Välj ett annat id '
                "för ett behov i en annan nämnd.",
                "id",
            )
        )
    _refuse_if(errors)
    return need


def _known_need(needs: Needs, who: Principal, key: str) -> NeedEntry:
    """The need a link names; an unknown one is refused naming only the needs `who` may read."""
    need = needs.get(key)
    if need is not None:
        return need
    readable = [n.key for n in needs.current.values() if can(who, Action.READ, [n.unit])]
    raise RuleViolation(
        RuleError(
            "unknown_need",
            f'Behovet "{echo(clean_name(key))}" finns inte bland behoven du kan se. '
            f"Kända behov: {', '.join(readable) or 'inga'}.",
            "behov",
        )
    )


def link_need(ledger: Ledger, needs: Needs, who: Principal, link: NeedLinkEntry) -> NeedLinkEntry:
    """A link from a need to a measure, checked (core.rules.needs.check_link): who
    may submit measures for the need's unit and may read the measure makes it."""
    need = _known_need(needs, who, link.need)
    require(who, Action.ASSESS_NEEDS, [need.unit])
    measure = ledger.measures.get(link.measure_id)
    if measure is not None:
        require(who, Action.READ, measure.units, any_of=True)
    link = replace(
        link,
        need=need.key,
        note=clean_name(link.note),
        author=clean_name(link.author),
        author_id=who.user,
    )
    _refuse_if(check_link(needs, ledger, link))
    return link


def end_need_link(needs: Needs, who: Principal, end: NeedLinkEndedEntry) -> NeedLinkEndedEntry:
    """The end of an active link (core.rules.needs.check_link_end), by who may submit
    measures for the need's unit."""
    need = _known_need(needs, who, end.need)
    require(who, Action.ASSESS_NEEDS, [need.unit])
    end = replace(
        end,
        need=need.key,
        note=clean_name(end.note),
        author=clean_name(end.author),
        author_id=who.user,
    )
    _refuse_if(check_link_end(needs, end))
    return end
