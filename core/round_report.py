"""A round's results (uppföljningsresultat): who answered, each unit's money
as the answers report it, the measures at risk, and the reallocation
proposals. What `followup status`, the bot and the export show.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from core.balances import MeasureBalance, measure_balance
from core.ledger import Ledger, split_exact
from core.model import Principal, RoleGrant, Status
from core.proposals import Proposal, propose
from core.rounds import (
    Assignments,
    CommitteeGap,
    MeasureState,
    Round,
    answered_measures,
    answerer_for,
    asked_about,
    assign,
    away_for,
    committee_gaps,
    has_answered,
    late_list_units,
    measure_state,
    no_recipient_units,
    on_the_day,
)
from core.rules.followup import known_on
from core.rules.overdue import is_overdue
from core.substitutes import Substitution


def given_by(author: str, for_name: str = "") -> str:
    """Who gave an answer, as every source shows it (issue 22): "Per Persson för Anna
    Andersson" when a substitute gave it for an absent person, else the author alone."""
    return f"{author} för {for_name}" if for_name else author


class Risk:
    """Why a measure is at risk (risk), in Swedish as the report shows it."""

    NOT_STARTED = "ej påbörjad"
    LOW_FORECAST = "prognos under halva beviljade beloppet"
    OVERDUE = "försenad"
    NO_ANSWER = "inget svar"


@dataclass(frozen=True, slots=True)
class MeasureResult:
    measure_id: int
    title: str
    units: tuple[str, ...]
    allocated: int
    spent: int
    forecast: int
    answered: bool
    status: Status
    usable_as_planned: bool | None
    note: str
    author: str
    risks: tuple[str, ...]
    state: MeasureState = MeasureState.NOT_ANSWERED
    asked: tuple[str, ...] = ()  # the people asked about it (ids)
    reached: int | None = None  # people reached so far, when the answer gives it (issue 21)
    author_id: str = ""  # who answered (their id), when answered
    for_id: str = ""  # issue 22: the absent person the answer was given for, when a substitute gave it
    for_name: str = ""

    @property
    def given_by(self) -> str:
        """Who gave the answer, as every source says it: "Per Persson för Anna Andersson"."""
        return given_by(self.author, self.for_name)

    @property
    def unused(self) -> int:
        """Money forecast as unused (0 without an answer)."""
        return max(0, self.allocated - self.forecast) if self.answered else 0


@dataclass(frozen=True, slots=True)
class UnitResult:
    code: str
    name: str
    allocated: int
    spent: int
    forecast: int
    unused: int
    measures: int
    answered: int


@dataclass(frozen=True, slots=True)
class RoundReport:
    round: Round
    as_of: date
    recipients: int
    answered_recipients: int
    measures: tuple[MeasureResult, ...]
    units: tuple[UnitResult, ...]
    unassigned: tuple[int, ...]
    late: tuple[tuple[str, tuple[int, ...]], ...]
    proposals: tuple[Proposal, ...]
    committees: tuple[CommitteeGap, ...] = ()  # every committee with a measure lacking an answer
    no_recipient_units: dict[str, int] = field(default_factory=dict)  # unit → measures nobody is asked
    away: dict[str, str] = field(default_factory=dict)
    """Issue 22: of the people late (`late`), those away on `as_of` for one of their unanswered
    measures → who answers for them that day (core.rounds.answerer_for: their substitute, …):
    the lists show "Anna Andersson (ersättare: Per Persson)"."""
    substitutes: tuple[str, ...] = ()
    """Issue 22: of the people asked (`recipients`), those asked about measures for someone
    away (a handover that day, or an answer they gave for someone): counted among the
    recipients, and as answered when those measures are."""

    @property
    def no_recipient(self) -> tuple[MeasureResult, ...]:
        """The measures nobody can be asked about, answered or not."""
        return tuple(m for m in self.measures if not m.asked)

    @property
    def no_recipient_answered(self) -> int:
        """Of the measures nobody can be asked about, those answered all the same
        (in chat or from the command line)."""
        return sum(m.answered for m in self.no_recipient)

    def count(self, state: MeasureState) -> int:
        return sum(m.state == state for m in self.measures)

    @property
    def waiting(self) -> int:
        """Measures asked about, without an answer."""
        return self.count(MeasureState.NOT_ANSWERED)

    @property
    def missing_no_recipient(self) -> int:
        """Measures nobody can be asked about, without an answer."""
        return self.count(MeasureState.NO_RECIPIENT)

    @property
    def missing(self) -> int:
        """Measures without an answer: waiting, or with nobody to ask (what the
        escalation counts, over the committees in `committees`)."""
        return self.waiting + self.missing_no_recipient

    @property
    def people_answered(self) -> str:
        """ "3 av 4 personer (75%)"; "ingen person tillfrågad" when nobody was asked
        (not "0 av 0 personer (100%)", which read as a round everyone had answered)."""
        if not self.recipients:
            return "ingen person tillfrågad"
        people = "person" if self.recipients == 1 else "personer"
        text = f"{self.answered_recipients} av {self.recipients} {people} ({self.response_rate:.0%})"
        if self.substitutes:  # issue 22
            text += f", varav {len(self.substitutes)} som ersättare för någon som är borta"
        return text

    @property
    def response_rate(self) -> float:
        """Share of recipients who have answered (1.0 when there are none)."""
        return self.answered_recipients / self.recipients if self.recipients else 1.0

    @property
    def at_risk(self) -> tuple[MeasureResult, ...]:
        return tuple(m for m in self.measures if m.risks)

    @property
    def unused(self) -> int:
        return sum(u.unused for u in self.units)


def _result(
    ledger: Ledger,
    balance: MeasureBalance,
    answered: bool,
    period: str,
    as_of: date,
    state: MeasureState = MeasureState.NOT_ANSWERED,
    asked: tuple[str, ...] = (),
) -> MeasureResult:
    measure = ledger.measures[balance.measure_id]
    answer = next(
        (
            f
            for f in sorted(ledger.followups, key=lambda f: f.seq, reverse=True)
            if f.measure_id == measure.id and f.period == period
        ),
        None,
    )
    spent = answer.spent if answer else balance.spent
    forecast = answer.forecast if answer else balance.forecast
    status = answer.status if answer else ledger.current_status(measure.id)
    risks: list[str] = []
    if answered:
        if status == Status.NOT_STARTED and period.endswith("-06"):
            risks.append(Risk.NOT_STARTED)
        if status != Status.DONE and forecast * 2 < balance.allocated:
            risks.append(Risk.LOW_FORECAST)
    else:
        risks.append(Risk.NO_ANSWER)
    if is_overdue(ledger, measure, as_of):
        risks.append(Risk.OVERDUE)
    return MeasureResult(
        measure_id=measure.id,
        title=measure.title,
        units=measure.units,
        allocated=balance.allocated,
        spent=spent,
        forecast=forecast,
        answered=answered,
        status=status,
        usable_as_planned=answer.usable_as_planned if answer else None,
        note=answer.note if answer else "",
        author=answer.author if answer else "",
        risks=tuple(risks),
        state=state,
        asked=asked,
        reached=answer.reached if answer else None,
        author_id=answer.author_id if answer else "",
        for_id=answer.for_id if answer else "",
        for_name=answer.for_name if answer else "",
    )


def round_report(
    round_: Round,
    ledger: Ledger,
    grants: list[RoleGrant],
    as_of: date,
    units: set[str] | None = None,
    substitutions: Sequence[Substitution] = (),
) -> RoundReport:
    """The round's results on `as_of`, as known that day (core.rules.followup.known_on:
    an answer reported later is not one yet, as the funds count it); `units`
    limits it to what a reader may see; `substitutions` (issue 22) say who of the late
    people is away that day, and who answers for them (RoundReport.away)."""
    ledger = known_on(ledger, as_of)
    period, year = round_.plan.period, round_.plan.year
    assignments: Assignments = assign(ledger, grants, year)
    answered = answered_measures(ledger, period)

    def visible(mid: int) -> bool:
        return units is None or bool(units & set(ledger.measures[mid].units))

    card_ids = sorted(
        {mid for card in assignments.cards.values() for mid in card} | set(assignments.unassigned)
    )
    standing_in = _standing_in(ledger, grants, assignments, substitutions, period, as_of)
    asked = {
        mid: tuple(sorted(set(people) | {p for p, mids in standing_in.items() if mid in mids}))
        for mid, people in asked_about(assignments).items()
    }
    cards = {p: tuple(sorted(set(assignments.cards.get(p, ())) | mids)) for p, mids in standing_in.items()}
    cards = {**assignments.cards, **cards}
    results = tuple(
        _result(
            ledger,
            measure_balance(ledger, mid, year),
            mid in answered,
            period,
            as_of,
            measure_state(mid, assignments, answered),
            asked.get(mid, ()),
        )
        for mid in card_ids
        if visible(mid)
    )
    totals: dict[str, list[int]] = {}
    for r in results:
        weights = sorted(ledger.shares(r.measure_id, year).items())
        parts = {
            name: split_exact(value, weights)
            for name, value in (("a", r.allocated), ("s", r.spent), ("f", r.forecast))
        }
        for code, _ in weights:
            if units is not None and code not in units:
                continue
            a, s, f = parts["a"][code], parts["s"][code], parts["f"][code]
            row = totals.setdefault(code, [0, 0, 0, 0, 0, 0])
            row[0] += a
            row[1] += s
            row[2] += f
            row[3] += max(0, a - f) if r.answered else 0
            row[4] += 1
            row[5] += r.answered
    unit_rows = []
    for code in sorted(totals, key=lambda c: ledger.units[c].name if c in ledger.units else c):
        unit = ledger.units.get(code)
        unit_rows.append(UnitResult(code, unit.name if unit else code, *totals[code]))
    people = [p for p in sorted(cards) if units is None or any(visible(mid) for mid in cards[p])]
    late = tuple(  # their own cards: an absent person's shows with who answers for them (away)
        (p, tuple(mid for mid in assignments.cards.get(p, ()) if mid not in answered and visible(mid)))
        for p in people
        if not has_answered(assignments.cards.get(p, ()), answered)
    )
    proposals = tuple(p for p in propose(ledger, year) if visible(p.from_measure) or visible(p.to_measure))
    return RoundReport(
        round=round_,
        as_of=as_of,
        recipients=len(people),
        answered_recipients=sum(has_answered(cards[p], answered) for p in people),
        measures=results,
        units=tuple(unit_rows),
        unassigned=tuple(m for m in assignments.unassigned if visible(m)),
        late=tuple(entry for entry in late if entry[1]),
        proposals=proposals,
        committees=tuple(committee_gaps(ledger, assignments, answered, None if units is None else units)),
        no_recipient_units={
            unit: n
            for unit, n in no_recipient_units(ledger, assignments).items()
            if units is None or unit in units
        },
        away=_away(ledger, grants, late, substitutions, as_of),
        substitutes=tuple(p for p in people if p in standing_in),
    )


def _standing_in(
    ledger: Ledger,
    grants: list[RoleGrant],
    assignments: Assignments,
    substitutions: Sequence[Substitution],
    period: str,
    on: date,
) -> dict[str, set[int]]:
    """Issue 22: who is asked about measures for someone away, and which: those handed over to
    them on `on` (core.rounds.on_the_day, answered ones too), and those they have answered for
    an absent person (kept when the absence is over)."""
    out: dict[str, set[int]] = {}
    if substitutions:
        for h in on_the_day(ledger, grants, assignments, (), substitutions, on).handovers:
            out.setdefault(h.answerer, set()).update(h.measure_ids)
    in_round = {mid for card in assignments.cards.values() for mid in card}
    for f in ledger.followups:
        if f.period == period and f.for_id and f.author_id and f.measure_id in in_round:
            out.setdefault(f.author_id, set()).add(f.measure_id)
    return out


def _away(
    ledger: Ledger,
    grants: list[RoleGrant],
    late: Iterable[tuple[str, tuple[int, ...]]],
    substitutions: Sequence[Substitution],
    on: date,
) -> dict[str, str]:
    """Late person → who answers for them on `on`, for those away then for one of their
    unanswered measures (the first such measure's unit decides)."""
    out: dict[str, str] = {}
    if not substitutions:
        return out
    for person, mids in late:
        for mid in mids:
            unit = away_for(substitutions, person, on, ledger.measures[mid].units)
            if unit is None:
                continue
            who = answerer_for(substitutions, grants, person, on, unit)
            if who.user is not None and who.user != person:
                out[person] = who.user
            break
    return out


# --- issue 20: the response rate per committee ------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommitteeRate:
    """One committee's part of the round (a shared measure counts for each of its committees).

    Attributes:
      code, name: the committee.
      asked: its measures on someone's card.
      answered: of those, the ones answered.
      no_recipient: its measures nobody can be asked about.
      no_recipient_answered: of those, the ones answered all the same.
    """

    code: str
    name: str
    asked: int
    answered: int
    no_recipient: int
    no_recipient_answered: int


def committee_rates(report: RoundReport, names: dict[str, str] | None = None) -> list[CommitteeRate]:
    """Answered / asked / no recipient per committee the report shows, by the committee's name."""
    shown = {u.code: u.name for u in report.units}
    names = {**(names or {}), **shown}
    counts: dict[str, list[int]] = {}
    for m in report.measures:
        for code in m.units:
            if code not in shown:
                continue  # another committee's part of a shared measure: not the reader's to see
            row = counts.setdefault(code, [0, 0, 0, 0])
            if m.asked:
                row[0] += 1
                row[1] += m.answered
            else:
                row[2] += 1
                row[3] += m.answered
    rates = [CommitteeRate(code, names.get(code, code), *row) for code, row in counts.items()]
    return sorted(rates, key=lambda r: (r.name.casefold(), r.code))


HIDDEN = "(dold)"
"""A person the reader may not see named in a round's report."""


def named_for(report: RoundReport, principal: Principal) -> RoundReport:
    """The report as `principal` may see its people: who was asked and who has not answered
    are named only in the committees whose list of who has not answered they get
    (core.rounds.late_list_units: stadskontoret all, an HR lead their own); elsewhere each
    is HIDDEN, once per person so that every count stays right (no number: a numbered alias
    beside a follow-up's "reported by" named the person). A KSAU member's export named
    everyone late, which the chat's "vem har inte svarat?" refuses them."""
    units_of = {m.measure_id: m.units for m in report.measures}
    codes = {u for units in units_of.values() for u in units} | {g.unit for g in report.committees}
    seen = set(late_list_units(principal, codes))
    if seen >= codes:
        return report

    def shown(person: str, units: Iterable[str]) -> str:
        return person if seen & set(units) else HIDDEN

    late = tuple(
        (shown(p, [u for mid in mids for u in units_of.get(mid, ())]), mids) for p, mids in report.late
    )
    named = {p for p, _ in late}
    asked_in: dict[str, set[str]] = {}
    for m in report.measures:
        for p in m.asked:
            asked_in.setdefault(p, set()).update(m.units)
    return replace(
        report,
        substitutes=tuple(shown(p, asked_in.get(p, ())) for p in report.substitutes),
        measures=tuple(replace(m, asked=tuple(shown(p, m.units) for p in m.asked)) for m in report.measures),
        late=late,
        away={p: s for p, s in report.away.items() if p in named},
        committees=tuple(
            replace(
                g,
                asked=tuple(shown(p, [g.unit]) for p in g.asked),
                late=tuple(shown(p, [g.unit]) for p in g.late),
            )
            for g in report.committees
        ),
    )
