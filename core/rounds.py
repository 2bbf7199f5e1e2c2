"""Follow-up rounds (uppföljningsomgångar): when a round opens, reminds,
escalates and closes, who gets a card, and who has answered.

Everything here is computed from a date (`as_of`), never from the clock: the
same round, ledger and date always give the same sends.

June defaults (delårsuppföljningen, seed 000): the round opens on the first
working day of June; the deadline is the last working day before
midsommarafton; a reminder goes out 5 working days after the opening to
those who have not answered, another one working day before the deadline;
on the first working day after the deadline the units' HR leads and
stadskontoret get the list of who has not answered. The year-end round
(period YYYY-12) works the same way, opening on the first working day of
December with its deadline on the last working day before julafton. Every
date can be set per round.
"""

from __future__ import annotations

import base64
import hashlib
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from core import vocabulary
from core.calendar import (
    SWEDISH_TIME,
    add_working_days,
    first_working_day_of_month,
    midsummer_eve,
    next_working_day,
    previous_working_day,
    swedish_date,
)
from core.dates import format_date, format_period, parse_period
from core.errors import NotFound, RuleError, RuleViolation
from core.ledger import Ledger
from core.model import Principal, Role, RoleGrant
from core.needs import NeedEntry, Needs
from core.permissions import Action, can
from core.substitutes import Answerer, Substitution, Why, answerer, current

REMINDER_AFTER_WORKING_DAYS = 5
REMINDER_BEFORE_DEADLINE_WORKING_DAYS = 1


class SendKind(StrEnum):
    """What one send of a round is. A round sends each kind at most once to
    each person: (round, recipient, kind) is the send's unique key."""

    PROMPT = "prompt"  # the card that opens the round (utskick)
    REMINDER_1 = "reminder-1"  # påminnelse
    REMINDER_2 = "reminder-2"
    REMINDER_3 = "reminder-3"
    ESCALATION = "escalation"  # the list of who has not answered (eskalering)
    PROPOSALS = "proposals"  # the reallocation proposals, to each ksau member (core.proposal_sets)
    EXTRA = "extra"  # an extra reminder asked for in chat (issue 20): stored as "extra-<day>"
    HANDOVER = "handover"  # issue 22: an absent person's unanswered measures, to who answers for them

    @classmethod
    def reminder(cls, number: int) -> SendKind:
        return cls(f"reminder-{number}")


MAX_REMINDERS = 3


class Phase(StrEnum):
    PLANNED = "planerad"  # before it opens
    OPEN = "öppen"  # answers are taken, prompts and reminders go out
    PAST_DEADLINE = "efter sista dag"  # answers are late; escalation goes out
    CLOSED = "stängd"


@dataclass(frozen=True, slots=True)
class RoundPlan:
    """A round's dates. `reminders` are the days a reminder goes out to
    those who have not answered; `escalate_on` the day the lists go out."""

    period: str
    opens: date
    deadline: date
    reminders: tuple[date, ...]
    escalate_on: date

    @property
    def year(self) -> int:
        return int(self.period[:4])


@dataclass(frozen=True, slots=True)
class Round:
    """A stored round: its plan, and when (if) it was closed."""

    id: int
    plan: RoundPlan
    created_by: str = ""
    closed_at: datetime | None = None

    @property
    def period(self) -> str:
        return self.plan.period

    def phase(self, as_of: date) -> Phase:
        if self.closed_at is not None:
            return Phase.CLOSED
        if as_of < self.plan.opens:
            return Phase.PLANNED
        if as_of <= self.plan.deadline:
            return Phase.OPEN
        return Phase.PAST_DEADLINE

    def takes_answers(self, as_of: date) -> bool:
        """Answers can be given and changed from the opening to the deadline."""
        return self.phase(as_of) == Phase.OPEN


# --- Issue 17 item 5: a closed round's period takes no new follow-ups ----------

PERIOD_CLOSED = "period_closed"
MAX_LATE_REASON = 500


def closed_round(rounds: Iterable[Round], period: str) -> Round | None:
    """The closed round of `period`, if that period has one (a period without
    a round, or with an open one, has none)."""
    return next((r for r in rounds if r.period == period and r.closed_at is not None), None)


def check_period_open(rounds: Iterable[Round], period: str) -> list[RuleError]:
    """The rule: a closed round's period takes no new follow-ups, from any way
    in (chat, form, round card, command line). Periods without a round are
    not affected."""
    closed = closed_round(rounds, period)
    if closed is None:
        return []
    assert closed.closed_at is not None
    return [
        RuleError(
            PERIOD_CLOSED,
            f"Uppföljningen {format_period(period)} stängdes {format_date(closed.closed_at.date())} "
            f"och tar inte emot fler uppföljningar för {period}. Kontakta stadskontoret om ett sent "
            "svar behöver registreras.",
            "period",
        )
    ]


def after_close_note(round_: Round, reason: str, note: str) -> str:
    """The note of a follow-up registered after its round closed: the reason
    comes first, so that whoever reads the follow-up (measure, export, chat)
    sees that it came late and why. Who did it and when are the follow-up's
    author id and time."""
    assert round_.closed_at is not None
    lead = (
        f"Registrerad efter att uppföljningen {round_.period} stängdes "
        f"({format_date(round_.closed_at.date())}). Skäl: {reason.strip()}"
    )
    lead = lead if lead.endswith((".", "!", "?")) else lead + "."
    return f"{lead} {note.strip()}".strip()


def check_late_reason(reason: str | None) -> list[RuleError]:
    """A reason for a follow-up after close must be given, and short."""
    text = (reason or "").strip()
    if not text:
        return [
            RuleError(
                "late_reason_missing",
                'Ange skälet till att uppföljningen registreras efter att omgången stängts: --reason "skäl".',
                "--reason",
            )
        ]
    if len(text) > MAX_LATE_REASON:
        return [
            RuleError(
                "late_reason_too_long",
                f"Skälet är för långt ({len(text)} tecken). Högst {MAX_LATE_REASON} tecken.",
                "--reason",
            )
        ]
    return []


def default_dates(period: str) -> tuple[date, date]:
    """(opens, deadline) for a June or December round; other months open on
    their first working day with the deadline three weeks later."""
    period = parse_period(period)
    year, month = int(period[:4]), int(period[5:])
    opens = first_working_day_of_month(year, month)
    if month == 6:
        deadline = previous_working_day(_day_before(midsummer_eve(year)))
    elif month == 12:
        deadline = previous_working_day(date(year, 12, 23))
    else:
        deadline = add_working_days(opens, 15)
    return opens, deadline


def _day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)


def plan_round(
    period: str,
    *,
    opens: date | None = None,
    deadline: date | None = None,
    reminder_after: int | None = REMINDER_AFTER_WORKING_DAYS,
    reminder_before_deadline: int | None = REMINDER_BEFORE_DEADLINE_WORKING_DAYS,
) -> RoundPlan:
    """The plan for a round, the defaults filled in. A reminder setting of
    None leaves that reminder out; reminders that fall outside the round or
    on the same day as another are dropped."""
    period = parse_period(period)
    default_opens, default_deadline = default_dates(period)
    opens = opens or default_opens
    deadline = deadline or default_deadline
    if deadline < opens:
        raise RuleViolation(
            [
                RuleError(
                    "deadline_before_opening",
                    f"Sista dag ({format_date(deadline)}) ligger före öppningsdagen "
                    f"({format_date(opens)}). Välj en sista dag på eller efter öppningsdagen.",
                    "sista dag",
                )
            ]
        )
    for name, value in (("påminnelse efter", reminder_after), ("påminnelse före", reminder_before_deadline)):
        if value is not None and not 0 < value <= 60:
            raise RuleViolation(
                [
                    RuleError(
                        "bad_reminder",
                        f"Antalet arbetsdagar för {name} sista dag måste vara mellan 1 och 60, inte {value}.",
                        name,
                    )
                ]
            )
    candidates = []
    if reminder_after is not None:
        candidates.append(add_working_days(opens, reminder_after))
    if reminder_before_deadline is not None:
        candidates.append(add_working_days(deadline, -reminder_before_deadline))
    reminders = tuple(sorted({d for d in candidates if opens < d <= deadline}))
    return RoundPlan(
        period=period,
        opens=opens,
        deadline=deadline,
        reminders=reminders[:MAX_REMINDERS],
        escalate_on=next_working_day(_day_after(deadline)),
    )


def _day_after(day: date) -> date:
    return date.fromordinal(day.toordinal() + 1)


# --- who gets a card ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assignments:
    """Who answers for which measures in a round.

    Attributes:
      cards: person → the measures on their one card (ids, ascending).
      unassigned: measures with money that nobody can be asked about (no
        responsible person, no HR role holder in any of their units).
    """

    cards: dict[str, tuple[int, ...]]
    unassigned: tuple[int, ...] = ()

    def recipients(self) -> list[str]:
        return sorted(self.cards)


def measures_with_money(ledger: Ledger, year: int) -> list[int]:
    """The measures that have money in the year (sub-activities report
    through their parent)."""
    return [
        m.id
        for m in sorted(ledger.measures.values(), key=lambda m: m.id)
        if m.parent_id is None and ledger.measure_allocated(m.id, year) > 0
    ]


def assign(ledger: Ledger, grants: list[RoleGrant], year: int) -> Assignments:
    """Each measure with money goes to its responsible person, or else to
    the HR role holders of its units; each person gets one card."""
    hr_of: dict[str, set[str]] = defaultdict(set)
    for g in grants:
        if g.role == Role.HR and g.unit is not None:
            hr_of[g.unit].add(g.user)
    cards: dict[str, set[int]] = defaultdict(set)
    unassigned: list[int] = []
    for mid in measures_with_money(ledger, year):
        measure = ledger.measures[mid]
        if measure.responsible:
            people = {measure.responsible}
        else:
            people = set().union(*(hr_of.get(u, set()) for u in measure.units))
        if not people:
            unassigned.append(mid)
        for person in people:
            cards[person].add(mid)
    return Assignments({p: tuple(sorted(ms)) for p, ms in cards.items()}, tuple(unassigned))


def answered_measures(ledger: Ledger, period: str) -> set[int]:
    """Measures with a follow-up of the round's period: an answer, whenever
    and however it was given (card, chat, command line)."""
    return {f.measure_id for f in ledger.followups if f.period == period}


def has_answered(card: tuple[int, ...], answered: set[int]) -> bool:
    """A person has answered when every measure on their card has an answer."""
    return all(mid in answered for mid in card)


# --- what is due --------------------------------------------------------


SUPERSEDED_REMINDER = "kortet gick ut efter påminnelsedagen: ingen påminnelse direkt efter kortet"


@dataclass(frozen=True, slots=True)
class DueSend:
    """One send the round owes on a date: its unique key is (recipient, kind).
    A send with a `skip_reason` is recorded as not needed, never sent: it
    only keeps its key from coming due later. `on_behalf`: the absent person
    the recipient answers for (issue 22: a handover, its reminders, an absent
    HR lead's escalation), part of its key (stored_kind)."""

    recipient: str
    kind: SendKind
    measure_ids: tuple[int, ...] = ()
    units: tuple[str, ...] = field(default=())  # for an escalation: the units it covers
    skip_reason: str = ""
    day: date | None = None  # an extra reminder's Swedish day: part of its key (stored_kind)
    on_behalf: str = ""

    @property
    def stored_kind(self) -> str:
        """The kind as its unique key stores it: an extra reminder's with its day
        ("extra-2025-06-10"), so each person gets at most one extra reminder a day; a send on
        behalf of someone with that person's key ("handover~<15 characters>"), so the
        recipient gets one of each kind per absent person (stored_key)."""
        return stored_key(self.kind, self.day, self.on_behalf)


BEHALF_SEP = "~"
BEHALF_KEY_LENGTH = 15
"""A person's key in a send's kind: the round_sends kind holds 32 characters, a person's id is
a 36-character GUID, and the longest kind ("extra-2025-06-10") leaves 15 after the separator:
the first 15 base32 characters of the id's SHA-256 (75 bits, no two people of a city alike)."""


def behalf_key(person: str) -> str:
    """The 15-character key of an absent person in a send's kind (BEHALF_KEY_LENGTH)."""
    digest = hashlib.sha256(person.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii")[:BEHALF_KEY_LENGTH].lower()


def stored_key(kind: SendKind, day: date | None = None, on_behalf: str = "") -> str:
    """A send's kind as its unique key stores it (DueSend.stored_kind)."""
    text = kind.value if day is None else f"{kind.value}-{day.isoformat()}"
    return text if not on_behalf else f"{text}{BEHALF_SEP}{behalf_key(on_behalf)}"


def gets_every_late_list(principal: Principal) -> bool:
    """The one rule for who gets the list of who has not answered for every
    committee (the escalation, its "visa alla", the city-wide wording):
    stadskontoret, who runs the rounds, and the administrator. Anyone else
    gets at most the committees they are HR for."""
    return principal.is_admin or can(principal, Action.MANAGE_ROUNDS)


def principal_of(grants: Iterable[RoleGrant], user: str) -> Principal:
    """A person as their role grants make them (for the rules above)."""
    return Principal(user, tuple(g for g in grants if g.user == user))


def escalation_recipients(
    ledger: Ledger, grants: list[RoleGrant], late_units: set[str]
) -> dict[str, tuple[str, ...]]:
    """Person → the units whose late list they get: each late unit's HR role
    holders get their unit's, those who get every list (gets_every_late_list)
    every late unit's."""
    out: dict[str, set[str]] = defaultdict(set)
    for user in sorted({g.user for g in grants}):
        out[user].update(late_list_units(principal_of(grants, user), late_units))
    return {p: tuple(sorted(u)) for p, u in out.items() if u}


def late_units(ledger: Ledger, assignments: Assignments, answered: set[int]) -> set[str]:
    """Units with at least one measure whose person has not answered, or
    that nobody could be asked about."""
    units: set[str] = set()
    for card in assignments.cards.values():
        if not has_answered(card, answered):
            for mid in card:
                if mid not in answered:
                    units.update(ledger.measures[mid].units)
    for mid in assignments.unassigned:
        if mid not in answered:
            units.update(ledger.measures[mid].units)
    return units


@dataclass(frozen=True, slots=True)
class Handover:
    """Issue 22: an absent person's unanswered measures that someone else answers on a day.

    Attributes:
      absent: the person away (whose card the measures are on).
      answerer: who answers for them (core.substitutes.answerer: their substitute, else the
        unit's other HR, else stadskontoret).
      why: why it is the answerer.
      measure_ids: the measures, less those already asked of the answerer (on their own card,
        or handed over to them from another absent person that day).
    """

    absent: str
    answerer: str
    why: Why
    measure_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class OnTheDay:
    """Who is asked about what on a day, when people are away (issue 22).

    Attributes:
      own: person → the measures of their card that are still theirs that day (the whole card
        when they are not away; without the measures handed over when they are).
      handovers: the absent people's unanswered measures and who answers for them, ordered by
        answerer and absent person.
    """

    own: dict[str, tuple[int, ...]]
    handovers: tuple[Handover, ...] = ()

    def handed_to(self, user: str) -> dict[int, str]:
        """Measure → the absent person `user` answers it for that day."""
        out: dict[int, str] = {}
        for h in self.handovers:
            if h.answerer == user:
                for mid in h.measure_ids:
                    out.setdefault(mid, h.absent)
        return out


def _holders(grants: Iterable[RoleGrant], role: Role) -> dict[str | None, list[str]]:
    out: dict[str | None, set[str]] = defaultdict(set)
    for g in grants:
        if g.role == role:
            out[g.unit].add(g.user)
    return {unit: sorted(users) for unit, users in out.items()}


def away_for(
    substitutions: Sequence[Substitution], person: str, on: date, units: Iterable[str]
) -> str | None:
    """The first of a measure's `units` that `person` is away for on `on` (a substitution
    that applies for it: core.substitutes.current), or None when they are not away for it."""
    return next((u for u in units if current(substitutions, person, on, u) is not None), None)


def answerer_for(
    substitutions: Sequence[Substitution], grants: Iterable[RoleGrant], person: str, on: date, unit: str
) -> Answerer:
    """Who answers for `person` on `on` for `unit`'s measures (core.substitutes.answerer with the
    unit's HR role holders and stadskontoret, each in a stable order)."""
    grants = list(grants)
    hr = _holders(grants, Role.HR).get(unit, [])
    office = _holders(grants, Role.CITY_OFFICE).get(None, [])
    return answerer(substitutions, person, on, unit, unit_hr=hr, city_office=office)


def on_the_day(
    ledger: Ledger,
    grants: list[RoleGrant],
    assignments: Assignments,
    answered: Collection[int],
    substitutions: Sequence[Substitution],
    on: date,
) -> OnTheDay:
    """Who is asked about what on `on` (issue 22): a person away for a measure's unit is not
    asked about it; their unanswered measures go to who answers for them (answerer_for), once
    to each answerer: a measure already on the answerer's own card, or handed over to them from
    another absent person (in the order of the absent people's ids), is not handed over again.
    Measures nobody can answer (everyone away) are asked of nobody that day."""
    if not substitutions:
        return OnTheDay(dict(assignments.cards))
    own: dict[str, tuple[int, ...]] = {}
    handed: dict[tuple[str, str], list[int]] = defaultdict(list)
    why: dict[tuple[str, str], Why] = {}
    for person in assignments.recipients():
        kept: list[int] = []
        for mid in assignments.cards[person]:
            unit = away_for(substitutions, person, on, ledger.measures[mid].units)
            if unit is None:
                kept.append(mid)
                continue
            if mid in answered:
                continue
            who = answerer_for(substitutions, grants, person, on, unit)
            if who.user is not None:
                handed[(who.user, person)].append(mid)
                why.setdefault((who.user, person), who.why)
        own[person] = tuple(kept)
    handovers: list[Handover] = []
    given: dict[str, set[int]] = defaultdict(set)
    for user, absent in sorted(handed):
        asked = set(own.get(user, ()))  # what the answerer is asked about on their own card that day
        mids = tuple(m for m in handed[(user, absent)] if m not in asked and m not in given[user])
        given[user].update(mids)
        if mids:
            handovers.append(Handover(absent, user, why[(user, absent)], mids))
    return OnTheDay(own, tuple(handovers))


def back_from_absence(
    substitutions: Sequence[Substitution],
    cards: Mapping[str, tuple[int, ...]],
    user: str,
    measure_ids: Collection[int],
    on: date,
) -> dict[str, date]:
    """Absent person → the day they were back, for those of `measure_ids` on their card that
    `user` answered for as their substitute and no longer does on `on` (the absence over or
    ended early): a handover card answered after that is theirs again (RoundServices.answer
    refuses it, saying so)."""
    out: dict[str, date] = {}
    for s in substitutions:
        if s.substitute != user or s.first > on or s.applies(on):
            continue
        back = (
            s.ended_on
            if s.ended_on is not None and s.ended_on <= s.last
            else date.fromordinal(s.last.toordinal() + 1)
        )
        mine = [m for m in cards.get(s.absent, ()) if m in measure_ids]
        if mine and back <= on and current(substitutions, s.absent, on) is None:
            out[s.absent] = max(out.get(s.absent, back), back)
    return out


def due_sends(
    round_: Round,
    as_of: date,
    ledger: Ledger,
    grants: list[RoleGrant],
    already_sent: Collection[tuple[str, str]],
    substitutions: Sequence[Substitution] = (),
) -> list[DueSend]:
    """What the round owes on `as_of`, given what was already sent (each send's recipient
    and stored kind: DueSend.stored_kind).

    - open: a card to everyone who has not answered and has had none; a
      reminder to those who had the card, have not answered, and whose
      latest reminder date has come (one reminder a day at most: earlier
      reminders that were missed are not sent late). A card that goes out
      on or after a reminder date (the round was opened late, the person
      got their role late) stands for that reminder: the reminder is
      recorded as not needed, so the next tick does not follow the card
      with a reminder minutes later;
    - issue 22, `substitutions`: each send's recipient is worked out on `as_of` (on_the_day).
      A person away gets nothing for the measures they are away for (no card, no reminder:
      what is due when they are back goes to them then); who answers for them gets one
      handover card of those measures, once per absent person, and the reminders of it
      (keyed by the absent person: DueSend.on_behalf) while the absence lasts;
    - on or after the escalation day: each late unit's HR leads and
      stadskontoret get the list, once; an HR lead away that day has theirs held back (they
      get it when back) and who answers for them gets the units they are away for, once;
    - planned or closed: nothing.
    """
    phase = round_.phase(as_of)
    if phase in (Phase.PLANNED, Phase.CLOSED):
        return []
    plan = round_.plan
    assignments = assign(ledger, grants, plan.year)
    answered = answered_measures(ledger, plan.period)
    due: list[DueSend] = []
    if phase == Phase.OPEN:
        passed = [i for i, d in enumerate(plan.reminders, start=1) if d <= as_of]
        day = on_the_day(ledger, grants, assignments, answered, substitutions, as_of)

        def owed(person: str, card: tuple[int, ...], first: SendKind, on_behalf: str = "") -> None:
            if (person, stored_key(first, on_behalf=on_behalf)) not in already_sent:
                due.append(DueSend(person, first, card, on_behalf=on_behalf))
                latest = SendKind.reminder(passed[-1]) if passed else None
                key = None if latest is None else (person, stored_key(latest, on_behalf=on_behalf))
                if latest is not None and key not in already_sent:
                    due.append(
                        DueSend(person, latest, card, skip_reason=SUPERSEDED_REMINDER, on_behalf=on_behalf)
                    )
            elif passed:
                kind = SendKind.reminder(passed[-1])
                if (person, stored_key(kind, on_behalf=on_behalf)) not in already_sent:
                    due.append(DueSend(person, kind, card, on_behalf=on_behalf))

        for person in assignments.recipients():
            card = day.own.get(person, ())
            if has_answered(card, answered):  # answered, or away for every unanswered measure
                continue
            owed(person, card, SendKind.PROMPT)
        for h in day.handovers:
            owed(h.answerer, h.measure_ids, SendKind.HANDOVER, h.absent)
    elif as_of >= plan.escalate_on:
        late = late_units(ledger, assignments, answered)
        recipients = escalation_recipients(ledger, grants, late)
        passed_on: dict[tuple[str, str], set[str]] = defaultdict(set)
        for person, units in sorted(recipients.items()):
            hr = {g.unit for g in grants if g.user == person and g.role == Role.HR}
            mine = tuple(u for u in units if current(substitutions, person, as_of, u) is None)
            if mine and (person, SendKind.ESCALATION.value) not in already_sent:
                due.append(DueSend(person, SendKind.ESCALATION, (), mine))
            for unit in units:
                if unit in mine or unit not in hr:  # stadskontoret's list is never passed on
                    continue
                who = answerer_for(substitutions, grants, person, as_of, unit)
                if who.user is not None and who.user != person and unit not in recipients.get(who.user, ()):
                    passed_on[(who.user, person)].add(unit)
        for (user, absent), units_ in sorted(passed_on.items()):
            if (user, stored_key(SendKind.ESCALATION, on_behalf=absent)) not in already_sent:
                due.append(DueSend(user, SendKind.ESCALATION, (), tuple(sorted(units_)), on_behalf=absent))
    return due


# --- every measure accounted for -------------------------------------------------


class MeasureState(StrEnum):
    """Where a measure of the round stands: every measure with money in the
    round's year is exactly one of these (issue 17, item 13)."""

    ANSWERED = "besvarad"
    NOT_ANSWERED = "tillfrågad, ej besvarad"
    NO_RECIPIENT = "ingen mottagare"


def asked_about(assignments: Assignments) -> dict[int, tuple[str, ...]]:
    """Measure → the people asked about it (on whose card it is)."""
    out: dict[int, set[str]] = defaultdict(set)
    for person, card in assignments.cards.items():
        for mid in card:
            out[mid].add(person)
    return {mid: tuple(sorted(people)) for mid, people in out.items()}


def measure_state(mid: int, assignments: Assignments, answered: set[int]) -> MeasureState:
    """An answer counts however it was given; otherwise a measure nobody
    could be asked about has no recipient, and one on a card is waiting."""
    if mid in answered:
        return MeasureState.ANSWERED
    if mid in assignments.unassigned:
        return MeasureState.NO_RECIPIENT
    return MeasureState.NOT_ANSWERED


def no_recipient_units(ledger: Ledger, assignments: Assignments) -> dict[str, int]:
    """Unit → how many of its measures in the round nobody can be asked
    about (a shared measure counts for each of its units)."""
    out: dict[str, int] = defaultdict(int)
    for mid in assignments.unassigned:
        for unit in ledger.measures[mid].units:
            out[unit] += 1
    return dict(sorted(out.items()))


@dataclass(frozen=True, slots=True)
class CommitteeGap:
    """A committee with measures of the round that have no answer.

    Attributes:
      unit: the committee's code.
      not_answered: its measures that were asked about and have no answer.
      no_recipient: its measures that nobody could be asked about (and have no answer).
      asked: everyone asked about one of its measures.
      late: of them, those with one of its measures still unanswered.
    """

    unit: str
    not_answered: tuple[int, ...]
    no_recipient: tuple[int, ...]
    asked: tuple[str, ...]
    late: tuple[str, ...]

    @property
    def missing(self) -> int:
        return len(self.not_answered) + len(self.no_recipient)


def committee_gaps(
    ledger: Ledger, assignments: Assignments, answered: set[int], units: Iterable[str] | None = None
) -> list[CommitteeGap]:
    """Every committee (of `units`, or all) with a measure of the round that
    has no answer, one each, ordered by the committee's name. A shared
    measure counts for each of its committees."""
    wanted = None if units is None else set(units)
    asked = asked_about(assignments)
    not_answered: dict[str, list[int]] = defaultdict(list)
    no_recipient: dict[str, list[int]] = defaultdict(list)
    people: dict[str, set[str]] = defaultdict(set)
    late: dict[str, set[str]] = defaultdict(set)
    for mid in _round_measures(assignments):
        for unit in ledger.measures[mid].units:
            if wanted is not None and unit not in wanted:
                continue
            people[unit].update(asked.get(mid, ()))
            if mid in answered:
                continue
            if mid in assignments.unassigned:
                no_recipient[unit].append(mid)
            else:
                not_answered[unit].append(mid)
                late[unit].update(asked.get(mid, ()))
    gaps = [
        CommitteeGap(
            unit,
            tuple(sorted(not_answered.get(unit, ()))),
            tuple(sorted(no_recipient.get(unit, ()))),
            tuple(sorted(people.get(unit, ()))),
            tuple(sorted(late.get(unit, ()))),
        )
        for unit in set(not_answered) | set(no_recipient)
    ]

    def name(gap: CommitteeGap) -> tuple[str, str]:
        unit = ledger.units.get(gap.unit)
        return ((unit.name if unit else gap.unit).casefold(), gap.unit)

    return sorted(gaps, key=name)


def _round_measures(assignments: Assignments) -> list[int]:
    """Every measure of the round: on a card or with nobody to ask."""
    return sorted({mid for card in assignments.cards.values() for mid in card} | set(assignments.unassigned))


def late_list_units(principal: Principal, units: Iterable[str]) -> list[str]:
    """The units whose list of who has not answered a person may see: the
    same people the escalation goes to (stadskontoret every unit, an HR
    lead their own units), and the administrator (gets_every_late_list)."""
    codes = list(units)
    if gets_every_late_list(principal):
        return codes
    own = {g.unit for g in principal.grants if g.role == Role.HR and g.unit is not None}
    # issue 22: a substitute standing in for an absent HR lead gets that lead's list (their escalation)
    own |= {g.unit for g in principal.stand_in if g.role == Role.HR and g.unit is not None}
    return [u for u in codes if u in own]


@dataclass(frozen=True, slots=True)
class CardNeeds:
    """The competence needs a measure on a round card is linked to: the card asks how
    many people it has reached so far, and names the needs. `shown`: the current needs
    the person may read (by key); `others`: how many more are of committees they may not
    read (counted, never named)."""

    shown: tuple[NeedEntry, ...] = ()
    others: int = 0
    people: int | None = None
    """How many people the needs concern, when known for every one of them: per need the
    link's people (how many this measure is to reach for it), else the need's own (a
    people-reached answer above it is asked about or noted: issue 21)."""

    def __bool__(self) -> bool:
        return bool(self.shown) or self.others > 0


def card_needs(needs: Needs, who: Principal | None, measure_ids: Iterable[int]) -> dict[int, CardNeeds]:
    """The needs each of `measure_ids` answers (an active link to a need that exists), for
    the person `who` (None: every need named, as the administrator sees them); a measure
    with no linked need is left out."""
    wanted = set(measure_ids)
    found: dict[int, dict[str, NeedEntry]] = {}
    counts: dict[int, dict[str, int | None]] = {}
    for link in needs.links:
        need = needs.get(link.need)
        if link.measure_id in wanted and need is not None:
            found.setdefault(link.measure_id, {})[need.key] = need
            counts.setdefault(link.measure_id, {})[need.key] = (
                link.people if link.people is not None else need.people
            )
    out: dict[int, CardNeeds] = {}
    for mid, linked in found.items():
        unique = list(linked.values())
        shown = tuple(n for n in unique if who is None or can(who, Action.READ, [n.unit]))
        numbers = list(counts[mid].values())
        people = None if None in numbers else sum(n for n in numbers if n is not None)
        out[mid] = CardNeeds(shown, len(unique) - len(shown), people)
    return out


@dataclass(frozen=True, slots=True)
class MyCard:
    """What one person is asked in the open round; `needs`: the competence needs of those
    measures that have any (`card_needs`), for the card's people-reached question."""

    round: Round
    measure_ids: tuple[int, ...]
    ledger: Ledger
    needs: Mapping[int, CardNeeds] = field(default_factory=dict)
    for_names: Mapping[int, str] = field(default_factory=dict)
    """Issue 22: measure → the name of the absent person the card's person answers it for
    (measures handed over to them that day, not on their own card)."""


@dataclass(frozen=True, slots=True)
class LateList:
    """Who has not answered, per committee, as far as the reader may see
    (the "visa alla" follow-up of an escalation, issue 17 item 14)."""

    round: Round
    committees: tuple[CommitteeGap, ...]
    unit_names: dict[str, str]
    titles: dict[int, str]
    names: dict[str, str]  # person id → the name Teams showed (when known)
    cards: dict[str, tuple[int, ...]]  # person → their unanswered measures (in these committees)
    away: dict[str, str] = field(default_factory=dict)  # issue 22: person away → who answers for them

    def shown(self, person: str) -> str:
        """How a late person is named: "Anna Andersson (ersättare: Per Persson)" when away."""
        substitute = self.away.get(person, "")
        return with_substitute(self.names.get(person) or person, self.names.get(substitute) or substitute)


def with_substitute(name: str, substitute: str) -> str:
    """A late person away, as the lists of who has not answered show them (issue 22):
    "Anna Andersson (ersättare: Per Persson)"; the name alone without a substitute."""
    return f"{name} (ersättare: {substitute})" if substitute else name


# --- issue 20: an extra reminder asked for in chat -------------------------------------------


def send_kind(stored: str) -> SendKind:
    """The kind of a stored send's key (DueSend.stored_kind): "extra-2025-06-10" is EXTRA,
    "handover~…" HANDOVER, "reminder-1~…" (a reminder of a handover) REMINDER_1."""
    stored = stored.split(BEHALF_SEP, 1)[0]
    if stored.startswith(SendKind.EXTRA.value + "-"):
        return SendKind.EXTRA
    return SendKind(stored)


def reminder_day(at: datetime) -> date:
    """The Swedish calendar day (Europe/Stockholm, CET/CEST) of the moment `at`: the day an
    extra reminder counts against (at most one a day per round)."""
    return swedish_date(at)


def swedish_time(at: datetime) -> str:
    """The time of day in Sweden of `at`, "09:05" (a time without zone is UTC)."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(SWEDISH_TIME).strftime("%H:%M")


@dataclass(frozen=True, slots=True)
class ExtraReminder:
    """An extra reminder of a round, sent from chat ("påminn de som inte svarat").

    Attributes:
      round_id: the round.
      day: the Swedish calendar day it went out (reminder_day of `at`).
      at: when it was asked for (UTC).
      by: who asked (the person's id: their AAD object id).
      units: the units it covered (an HR lead's own); () for every unit.
      recipients: how many people it went to.
    """

    round_id: int
    day: date
    at: datetime
    by: str
    units: tuple[str, ...]
    recipients: int


REMINDED_TODAY = "reminded_today"
ROUND_NOT_OPEN = "round_not_open"


def check_extra_reminder(
    round_: Round, as_of: date, day: date, earlier: ExtraReminder | None, earlier_by: str = ""
) -> list[RuleError]:
    """The rules of an extra reminder: only while the round takes answers, and at most one a
    Swedish calendar day per person and round (each person's send is keyed by the day). With
    `earlier` (today's reminder that already reached everyone the request would remind): refused,
    saying when and by whom it went out. Whether it did is the caller's to know (the sends)."""
    phase = round_.phase(as_of)
    if phase != Phase.OPEN:
        return [
            RuleError(
                ROUND_NOT_OPEN,
                f"Uppföljningen {format_period(round_.period)} tar inte emot svar nu ({phase.value}), "
                "så ingen påminnelse skickas. Påminnelser går bara ut medan omgången är öppen "
                f"({format_date(round_.plan.opens)} till {format_date(round_.plan.deadline)}).",
            )
        ]
    if earlier is not None and earlier.day == day:
        who = f" av {earlier_by or earlier.by}"
        return [
            RuleError(
                REMINDED_TODAY,
                f"En extra påminnelse för uppföljningen {format_period(round_.period)} gick redan ut i dag "
                f"kl. {swedish_time(earlier.at)}{who}, till {earlier.recipients} "
                f"{'person' if earlier.recipients == 1 else 'personer'}. Alla som inte har svarat har redan "
                "fått en i dag, och var och en får högst en extra påminnelse per dag: nästa kan skickas "
                "i morgon.",
            )
        ]
    return []


def extra_reminder_sends(
    round_: Round,
    ledger: Ledger,
    grants: list[RoleGrant],
    already_sent: Collection[tuple[str, str]],
    day: date,
    units: Iterable[str] | None = None,
    substitutions: Sequence[Substitution] = (),
) -> list[DueSend]:
    """An extra reminder now, to the same people the round's reminders go to: those who had
    the card and have not answered all of it (a person whose card has not gone out yet gets
    the card from the tick). With `units` (an HR lead's own), only the people with an
    unanswered measure of those units. Each with their whole card, keyed by `day`. Issue 22:
    a person away on `day` is not reminded of what they are away for; who answers for them is,
    once they have had the handover (keyed by the absent person too)."""
    plan = round_.plan
    assignments = assign(ledger, grants, plan.year)
    answered = answered_measures(ledger, plan.period)
    wanted = None if units is None else set(units)
    today = on_the_day(ledger, grants, assignments, answered, substitutions, day)

    def in_scope(card: tuple[int, ...]) -> bool:
        return wanted is None or any(
            mid not in answered and wanted & set(ledger.measures[mid].units) for mid in card
        )

    due: list[DueSend] = []
    for person in assignments.recipients():
        card = today.own.get(person, ())
        if has_answered(card, answered) or (person, SendKind.PROMPT.value) not in already_sent:
            continue
        if in_scope(card):
            due.append(DueSend(person, SendKind.EXTRA, card, day=day))
    for h in today.handovers:
        if (h.answerer, stored_key(SendKind.HANDOVER, on_behalf=h.absent)) in already_sent and in_scope(
            h.measure_ids
        ):
            due.append(DueSend(h.answerer, SendKind.EXTRA, h.measure_ids, day=day, on_behalf=h.absent))
    return due


def next_reminder(plan: RoundPlan, as_of: date) -> date | None:
    """The round's next planned reminder on or after `as_of` (None: no more)."""
    return next((d for d in plan.reminders if d >= as_of), None)


def chat_period(text_month: int | None, text_year: int | None, as_of: date) -> str:
    """The period a chat request to open a round means: the month named (of the year named,
    else this year); no month: June up to June, December after."""
    year = text_year or as_of.year
    month = text_month or (6 if as_of.month <= 6 else 12)
    return f"{year}-{month:02d}"


@dataclass(frozen=True, slots=True)
class OpenPlan:
    """What opening a round will do, said before it is confirmed: its plan (the core's dates),
    how many measures have money in its year, how many people get a card, and the measures
    nobody can be asked about, per unit."""

    plan: RoundPlan
    measures: int
    recipients: int
    no_recipient: dict[str, int]


@dataclass(frozen=True, slots=True)
class RemindersSent:
    """An extra reminder recorded: the round, how many people it goes to, and its record."""

    round: Round
    recipients: int
    reminder: ExtraReminder | None
    units: tuple[str, ...] = ()  # the units it covers (an HR lead's own); () for every unit


# --- issue 20: which round a question means ---------------------------------------------------

NO_ROUND_NAMED = "no_round_named"


def current_round(
    rounds: Iterable[Round], as_of: date, month: int | None = None, year: int | None = None
) -> Round | None:
    """The round a question about "the round" means on `as_of` (status, who has not answered,
    "visa alla", the overview, closing and reminding from chat), one rule for all: of the
    rounds of the month and/or year named (when named), the latest that is open or past its
    deadline and not closed; else the latest that has opened (closed ones too); a planned round
    (it opens after `as_of`; the first to open) only when there is no other. None: the city
    has no round. A month or year named that none of its rounds has is refused
    (NO_ROUND_NAMED), never another round's."""
    every = list(rounds)
    found = [r for r in every if (month is None or int(r.period[5:7]) == month)]
    found = [r for r in found if year is None or r.plan.year == year]
    found.sort(key=lambda r: (r.plan.opens, r.period, r.id))
    if every and not found and (month is not None or year is not None):
        when = " ".join(p for p in (vocabulary.MONTHS[month - 1] if month else "", str(year or "")) if p)
        raise NotFound(RuleError(NO_ROUND_NAMED, f"Det finns ingen uppföljningsomgång för {when}."))
    running = [r for r in found if r.phase(as_of) in (Phase.OPEN, Phase.PAST_DEADLINE)]
    opened = [r for r in found if r.plan.opens <= as_of]
    chosen = running or opened
    if chosen:
        return chosen[-1]
    return found[0] if found else None  # only planned ones: the first to open
