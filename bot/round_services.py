"""Use cases of the follow-up rounds: open, close, report, answer, and what
a tick owes. The command line, the bot and the round runner call these, so
all of them check the same permissions and rules.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypeVar

from bot.services import Services
from core.calendar import swedish_date
from core.dates import format_date, format_period
from core.errors import NotFound, PermissionDenied, RuleError, RuleViolation
from core.ledger import Ledger
from core.model import Decision, FollowUp, Principal, Role, RoleGrant
from core.permissions import Action, can, require, visible_units
from core.proposal_sets import (
    ProposalSet,
    ProposalSetView,
    ProposalsSent,
    SetDecided,
    SetDecision,
    check_set_open,
    decide,
    make_items,
    require_see,
)
from core.round_answers import answers_to_followups, changed_answers, measures_in, parse_answers
from core.round_report import RoundReport, named_for, round_report
from core.rounds import (
    Assignments,
    CardNeeds,
    DueSend,
    ExtraReminder,
    LateList,
    MyCard,
    OpenPlan,
    Phase,
    RemindersSent,
    Round,
    SendKind,
    assign,
    back_from_absence,
    card_needs,
    check_extra_reminder,
    current_round,
    due_sends,
    extra_reminder_sends,
    late_list_units,
    measures_with_money,
    no_recipient_units,
    on_the_day,
    plan_round,
    reminder_day,
)
from core.rules.followup import known_on, reported_after
from core.text import clean_name
from storage import people as directory
from storage import rounds as store
from storage.proposal_sets import CityProposalSets
from storage.read_model import CitySnapshot, SummaryLedger
from storage.repository import Repository
from storage.rounds import CityRounds

T = TypeVar("T")


def known_round_ledger(repo: Repository, view: Ledger, as_of: date) -> Ledger:
    """What core.round_report needs to count a round as known on `as_of` (it leaves
    out what was reported later, core.rules.followup.known_on): the read model's
    `view` with the round's follow-ups when nothing in it was reported after that
    day, else every row of the ledger (the read model's balances already count
    the later follow-ups; only the rows can leave them out). Every row is read
    only with the bot's date set back, or `--as-of` a past day."""
    return repo.ledger() if reported_after(view, as_of) else view


@dataclass
class RoundServices(Services):
    """Rounds of one city (`org`, or the only one)."""

    def _read_round(self, user: str | None, fn: Callable[[Repository, CitySnapshot, Principal], T]) -> T:
        """Like `_read`, with the city's read model instead of every ledger row: a
        round adds its period's follow-ups to it (storage.read_model.round_ledger)."""
        snapshot, who = self._city(user)
        with self._unit_of_work() as repo:
            return fn(repo, snapshot, who)

    def open(
        self,
        user: str | None,
        period: str,
        *,
        opens: date | None = None,
        deadline: date | None = None,
        reminder_after: int | None = 5,
        reminder_before: int | None = 1,
    ) -> Round:
        plan = plan_round(
            period,
            opens=opens,
            deadline=deadline,
            reminder_after=reminder_after,
            reminder_before_deadline=reminder_before,
        )

        def run(repo: Repository, ledger: Ledger, who: Principal) -> Round:
            require(who, Action.MANAGE_ROUNDS)
            return CityRounds(repo).create(plan, who.user)

        return self._write(user, run)

    def find(self, period: str) -> Round:
        with self._unit_of_work() as repo:
            return CityRounds(repo).find(period)

    def current(self, as_of: date, month: int | None = None, year: int | None = None) -> Round | None:
        """The round a question about "the round" means on `as_of` (core.rounds.current_round):
        the month and/or year named, else the open or past-deadline one, else the latest opened,
        a planned one only when there is no other; None when the city has none. Every chat
        question, "visa alla", the overview, closing and reminding from chat and the round's
        file ask this, so they all mean the same round."""
        with self._unit_of_work() as repo:
            return current_round(CityRounds(repo).all(), as_of, month, year)

    def close(self, user: str | None, period: str) -> tuple[Round, bool]:
        def run(repo: Repository, ledger: Ledger, who: Principal) -> tuple[Round, bool]:
            require(who, Action.MANAGE_ROUNDS)
            rounds = CityRounds(repo)
            round_ = rounds.find(period)
            return round_, rounds.close(round_.id, who.user, self.clock())

        return self._write(user, run)

    def report(self, user: str | None, period: str, as_of: date) -> RoundReport:
        def run(repo: Repository, snapshot: CitySnapshot, who: Principal) -> RoundReport:
            rounds = CityRounds(repo)
            round_ = rounds.find(period)
            ledger = known_round_ledger(repo, rounds.ledger(snapshot, [round_.period]), as_of)
            if can(who, Action.READ):
                units = None
            else:
                units = set(visible_units(who, ledger.units))
                if not units:
                    require(who, Action.READ)
            report = round_report(round_, ledger, repo.grants(), as_of, units, repo.substitutions())
            return named_for(report, who)

        return self._read_round(user, run)

    def no_recipient_units(self, period: str) -> dict[str, int]:
        """Unit → how many of its measures in the round of `period` nobody can be
        asked about (core.rounds.no_recipient_units): who gets a card depends on the
        measures and the role grants, not on the day, so the read model answers."""

        def run(repo: Repository, snapshot: CitySnapshot, who: Principal) -> dict[str, int]:
            round_ = CityRounds(repo).find(period)
            ledger = snapshot.ledger
            return no_recipient_units(ledger, assign(ledger, repo.grants(), round_.plan.year))

        return self._read_round(None, run)

    def display_names(self) -> dict[str, str]:
        """Person (AAD id) → the name Teams last showed for them."""
        with self._unit_of_work() as repo:
            return CityRounds(repo).display_names()

    def late_list(
        self,
        user: str | None,
        as_of: date,
        round_id: int | None = None,
        *,
        month: int | None = None,
        year: int | None = None,
    ) -> LateList:
        """Who has not answered in a round (`round_id`, else the round `current` means),
        per committee: only the committees whose list the person gets in the
        escalation (core.rounds.late_list_units); refused when none."""

        def run(repo: Repository, snapshot: CitySnapshot, who: Principal) -> LateList:
            rounds = CityRounds(repo)
            if round_id is not None:
                found = rounds.by_id(round_id)
            else:
                found = current_round(rounds.all(), as_of, month, year)
            if found is None:
                raise NotFound(RuleError("no_round", "Det finns ingen uppföljningsomgång att visa."))
            round_ = found
            ledger = known_round_ledger(repo, rounds.ledger(snapshot, [round_.period]), as_of)
            units = set(late_list_units(who, ledger.units))
            if not units:
                raise PermissionDenied(
                    RuleError(
                        "permission_denied",
                        "Listan över vilka som inte har svarat visas bara för stadskontoret och för "
                        "nämndens HR.",
                    )
                )
            report = round_report(round_, ledger, repo.grants(), as_of, units, repo.substitutions())
            names = rounds.display_names()
            names |= {p: n for p, n in names_of(repo, set(report.away.values())).items() if p not in names}
            return LateList(
                round_,
                report.committees,
                {code: u.name for code, u in ledger.units.items()},
                {m.measure_id: m.title for m in report.measures},
                names,
                dict(report.late),
                dict(report.away),
            )

        return self._read_round(user, run)

    def sends(self, period: str) -> list[store.Send]:
        with self._unit_of_work() as repo:
            rounds = CityRounds(repo)
            return rounds.sends(rounds.find(period).id)

    # --- the person answering --------------------------------------------

    def my_card(self, user: str, as_of: date, round_id: int | None = None) -> MyCard:
        """The person's card in the round that takes answers on `as_of` (or
        in `round_id`): the measures they are asked about."""

        def run(repo: Repository, snapshot: CitySnapshot, who: Principal) -> MyCard:
            rounds = CityRounds(repo)
            candidates = rounds.all(open_only=round_id is None)
            if round_id is not None:
                candidates = [r for r in candidates if r.id == round_id]
            else:
                candidates = [r for r in candidates if r.phase(as_of) == Phase.OPEN]
            if not candidates:
                raise NotFound(
                    RuleError(
                        "no_open_round",
                        "Det finns ingen öppen uppföljningsomgång just nu. Du kan ändå lämna en "
                        'uppföljning för en insats: skriv "uppföljning".',
                    )
                )
            round_ = candidates[-1]
            # The answers as known on `as_of` (with the bot's date set back, the example's
            # later June follow-ups are not there yet: the card is not shown as answered).
            ledger = known_on(
                known_round_ledger(repo, rounds.ledger(snapshot, [round_.period]), as_of), as_of
            )
            grants = repo.grants()
            assignments = assign(ledger, grants, round_.plan.year)
            cards = assignments.cards
            mine = cards.get(user, ())
            if not mine and self.demo:
                mine = next(iter(sorted(cards.values())), ())
            handed = _handed_to(repo, ledger, grants, assignments, user, as_of)  # issue 22
            mine = tuple(sorted(set(mine) | set(handed)))
            if not mine:
                raise NotFound(
                    RuleError(
                        "not_a_recipient",
                        f"Du har inga insatser att svara för i uppföljningen {round_.period}. "
                        "Kortet går till den som är ansvarig för insatsen, annars till "
                        "förvaltningens HR.",
                    )
                )
            # issue 21: the needs the card's measures answer, as far as the person may read them
            names = names_of(repo, set(handed.values()))
            for_names = {mid: names[absent] for mid, absent in handed.items()}
            return MyCard(round_, mine, ledger, card_needs(repo.needs(), who, mine), for_names)

        return self._read_round(user, run)

    def card_needs(self, user: str, measure_ids: Collection[int]) -> Mapping[int, CardNeeds]:
        """The competence needs each of `measure_ids` answers, for the card `user` gets
        (core.rounds.card_needs: the needs they may read named, the others counted); the
        round runner's cards ask how many people those measures have reached (issue 21)."""
        with self._unit_of_work() as repo:
            return card_needs(repo.needs(), self._principal(repo, user), measure_ids)

    def answer(
        self,
        user: str,
        round_id: int,
        values: Mapping[str, Any],
        *,
        as_of: date,
        author: str | None = None,
    ) -> tuple[Round, list[FollowUp], bool]:
        """Record a card's answers as follow-up entries of the round: all or
        nothing, leaving out the answers that are the measure's saved one (refused, as
        core.round_answers.changed_answers says, when that is every answer). Returns the
        round, the entries, and whether the person has now answered for every measure on their card."""

        def run(
            repo: Repository, ledger: SummaryLedger, who: Principal
        ) -> tuple[Round, list[FollowUp], bool]:
            rounds = CityRounds(repo)
            found = rounds.by_id(round_id)
            if found is None:
                raise NotFound(
                    RuleError(
                        "no_round",
                        'Uppföljningsomgången på kortet finns inte. Skriv "svara på uppföljningen" '
                        "för att få ett nytt kort.",
                    )
                )
            round_ = found
            ledger = rounds.committed_ledger(ledger, [round_.period])  # all committed
            grants = repo.grants()
            assignments = assign(ledger, grants, round_.plan.year)
            cards = assignments.cards
            mine = cards.get(user, ())
            if not mine and self.demo:
                mine = tuple(sorted({m for card in cards.values() for m in card}))
            # issue 22: the measures handed over to the person that day are on their card too,
            # and their answers are given for the absent person
            handed = _handed_to(repo, ledger, grants, assignments, user, as_of)
            names = names_of(repo, set(handed.values()))
            card = tuple(sorted(set(mine) | set(handed)))
            _refuse_if_back(repo, cards, user, measures_in(values) - set(card), as_of)  # issue 22
            linked = card_needs(repo.needs(), who, card)  # issue 21: only these ask for people reached
            answers = changed_answers(ledger, round_, parse_answers(ledger, card, values, linked))
            followups = answers_to_followups(
                ledger,
                who,
                round_,
                answers,
                author=author or who.user,
                at=self.clock(),
                as_of=as_of,
                on_behalf={mid: (absent, names[absent]) for mid, absent in handed.items()},
            )
            stored = [repo.add_followup(f) for f in followups]
            answered = {f.measure_id for f in ledger.followups if f.period == round_.period}
            answered |= {f.measure_id for f in stored}
            complete = all(m in answered for m in set(cards.get(user, mine)) | set(handed))
            return round_, stored, complete

        return self._write(user, run)

    # --- what a tick owes -------------------------------------------------

    def enqueue_due(self, as_of: date, unchanged: dict[int, Any] | None = None) -> int:
        """Record every send the city's open rounds owe on `as_of`; returns
        how many new sends were recorded.

        `unchanged`: a dict the caller keeps from call to call (the round
        runner, from tick to tick). When nothing the sends are worked out from
        has changed since the last call (the date, the open rounds, the city's
        ledger and its role grants: change markers, read before the ledger),
        the ledger is not read again: what was due then was recorded then
        (what it bought: bench/README.md, "Speed tricks"). When it
        reads, it reads the read model and the open rounds' follow-ups, not
        every row."""
        uow = self._unit_of_work()
        with uow as repo:
            rounds = CityRounds(repo)
            open_rounds = tuple(
                r for r in rounds.all(open_only=True) if r.phase(as_of) not in (Phase.PLANNED, Phase.CLOSED)
            )
            if not open_rounds:  # the usual case, every minute: read nothing more
                return 0
            city = rounds.freshness()
            inputs = (as_of, open_rounds, city, rounds.grants_marker(), rounds.substitutions_marker())
            if unchanged is not None and unchanged.get(repo.org_id) == inputs:
                return 0
            ledger = rounds.current_ledger({r.period for r in open_rounds}, city)
            grants = repo.grants()
            substitutions = repo.substitutions() if inputs[-1] else []  # issue 22: who is away today
            total = 0
            for round_ in open_rounds:
                keys = rounds.recorded_keys(round_.id)
                dues = due_sends(round_, as_of, ledger, grants, keys, substitutions)
                total += rounds.enqueue(round_, dues)
            uow.commit()
        if unchanged is not None:
            unchanged[repo.org_id] = inputs
        return total

    # --- the bot's round turns (dialogs.round_turns) -----------------------

    def latest_report(
        self, user: str | None, as_of: date, month: int | None = None, year: int | None = None
    ) -> RoundReport | None:
        """The results of the round `current` means (the month and/or year named, else the
        running one, ...) as `user` may see them on `as_of`; None when the city has had no
        round yet."""
        found = self.current(as_of, month, year)
        if found is None:
            return None
        return self.report(user, found.period, as_of)

    def card_sends(self, round_id: int, recipient: str) -> list[store.Send]:
        """What the round sent `recipient` (their cards, to update them once answered)."""
        with self._unit_of_work() as repo:
            return CityRounds(repo).sends(round_id, recipient)

    def mark_answered(self, send_ids: Sequence[int]) -> None:
        """Mark these sends' cards as showing the person's answer (a tick then leaves them)."""
        uow = self._unit_of_work()  # no ledger write: the city's write lock is not needed
        with uow as repo:
            CityRounds(repo).mark_answered(send_ids)
            uow.commit()

    # --- issue 20: KSAU's decision from a card (core.proposal_sets) ----------------------

    def _proposal_view(self, repo: Repository, ledger: Ledger, found: ProposalSet) -> ProposalSetView:
        ids = {m for i in found.items for m in (i.from_measure, i.to_measure)}
        titles = {m: ledger.measures[m].title for m in ids if m in ledger.measures}
        members = tuple(sorted({g.user for g in repo.grants() if g.role == Role.KSAU}))
        return ProposalSetView(found, titles, members)

    def _round_to_send(self, rounds: CityRounds, period: str | None) -> Round:
        """The round whose proposals go to KSAU: `period`'s, else the city's latest closed
        one. Only a closed round's: its answers are all in, so the set sent is final."""
        if period is None:
            closed = [r for r in rounds.all() if r.closed_at is not None]
            if not closed:
                raise NotFound(RuleError("no_closed_round", PROPOSALS_NO_CLOSED_ROUND))
            return closed[-1]
        round_ = rounds.find(period)
        if round_.closed_at is None:
            raise RuleViolation(
                RuleError(
                    "round_not_closed",
                    f"Uppföljningen {format_period(round_.period)} är inte stängd, så förslagen skickas "
                    "inte än: de skickas till KSAU när rundan stängs, med alla svar räknade. Stäng den "
                    f'med "stäng rundan" eller "kompetensbot followup close --period {round_.period}".',
                )
            )
        return round_

    def _no_proposals(self, round_: Round) -> NotFound:
        return NotFound(
            RuleError(
                "no_proposals",
                f"Det finns inga förslag till omfördelning efter uppföljningen {round_.period}: "
                "ingen insats har både outnyttjade medel och en annan som behöver mer.",
            )
        )

    def _known(self, ledger: Ledger) -> Ledger:
        """The ledger as known on the bot's date (core.rules.followup.known_on): with the date
        set back (the demo), follow-ups reported later make no proposals, as the round's status
        counts them (a stranger saw none in the status and one on KSAU's card)."""
        return known_on(ledger, swedish_date(self.clock()))

    def _store_set(self, repo: Repository, ledger: Ledger, round_: Round, by: str) -> ProposalSet:
        """The round's set as sent: the stored one, else made now from the ledger and
        stored (none is stored when there is nothing to propose: refused, nothing written)."""
        sets = CityProposalSets(repo.session.connection(), repo.org_id)
        found = sets.for_round(round_.id)
        if found is not None:
            return found
        items = make_items(self._known(ledger), round_.plan.year)
        if not items:
            raise self._no_proposals(round_)
        return sets.create(round_.id, round_.period, round_.plan.year, items, by)

    def _shown_set(self, repo: Repository, ledger: Ledger, round_: Round, by: str) -> ProposalSetView | None:
        """The round's set as sent (stored), else its proposals on the ledger now, preliminary
        and not stored; None when it has neither."""
        found = CityProposalSets(repo.session.connection(), repo.org_id).for_round(round_.id)
        if found is not None:
            return self._proposal_view(repo, ledger, found)
        items = make_items(self._known(ledger), round_.plan.year)
        if not items:
            return None
        made = ProposalSet(0, round_.id, round_.period, round_.plan.year, items, by, self.clock())
        return replace(self._proposal_view(repo, ledger, made), preliminary=True)

    def send_proposals(self, user: str | None, period: str | None = None) -> ProposalsSent:
        """Send a closed round's reallocation proposals to everyone with the ksau role:
        the set is made and stored now, and one card each is recorded as a round send
        (kind PROPOSALS) that the round runner sends like every other (once, with the
        activity id kept so the card can be updated). Stadskontoret's (MANAGE_ROUNDS);
        the round's close (chat and `followup close`), the chat's "skicka
        omfördelningsförslagen" and `kompetensbot followup propose` call this. Sent once
        a round: a second call records nothing new. `period` None: the latest closed
        round; a round not closed is refused (its set would leave out answers to come)."""

        def run(repo: Repository, ledger: Ledger, who: Principal) -> ProposalsSent:
            require(who, Action.MANAGE_ROUNDS)
            rounds = CityRounds(repo)
            round_ = self._round_to_send(rounds, period)
            found = self._store_set(repo, ledger, round_, who.user)
            if found.decision is not None:
                raise RuleViolation(check_set_open(found))
            view = self._proposal_view(repo, ledger, found)
            if not view.members:
                raise NotFound(
                    RuleError(
                        "no_ksau",
                        "Ingen har rollen ksau, så förslagen kan inte skickas. Ge den med "
                        '"kompetensbot roles grant <AAD-objekt-id> ksau".',
                    )
                )
            dues = [DueSend(person, SendKind.PROPOSALS, ()) for person in view.members]
            new = rounds.enqueue(round_, dues)
            return ProposalsSent(view, len(view.members), new)

        return self._write(user, run)

    def proposals(self, user: str | None, period: str | None = None) -> ProposalSetView:
        """The proposals of `period`'s round as one set; for ksau and those who manage rounds.
        Read only: the set as sent when it has been, else (preliminary, nothing stored) as
        the ledger gives them now. `period` None: a set sent and not decided yet (what KSAU
        has to decide), else the latest started round with proposals."""

        def run(repo: Repository, snapshot: CitySnapshot, who: Principal) -> ProposalSetView:
            require_see(who)
            ledger = snapshot.ledger
            rounds = CityRounds(repo)
            if period is not None:
                round_ = rounds.find(period)
                shown = self._shown_set(repo, ledger, round_, who.user)
                if shown is None:
                    raise self._no_proposals(round_)
                return shown
            today = swedish_date(self.clock())
            started = [r for r in reversed(rounds.all()) if r.phase(today) != Phase.PLANNED]
            if not started:
                raise NotFound(
                    RuleError("no_round", "Det finns ingen uppföljningsomgång ännu, och inga förslag.")
                )
            sets = CityProposalSets(repo.session.connection(), repo.org_id)
            for round_ in started:
                found = sets.for_round(round_.id)
                if found is not None and found.decision is None:
                    return self._proposal_view(repo, ledger, found)
            for round_ in started:
                shown = self._shown_set(repo, ledger, round_, who.user)
                if shown is not None:
                    return shown
            raise self._no_proposals(started[0])

        return self._read_round(user, run)

    def proposal_set(self, user: str | None, set_id: int) -> ProposalSetView:
        """A stored set as it is now (a card's refresh); for ksau and those who manage rounds."""

        def run(repo: Repository, snapshot: CitySnapshot, who: Principal) -> ProposalSetView:
            require_see(who)
            found = CityProposalSets(repo.session.connection(), repo.org_id).by_id(set_id)
            if found is None:
                raise NotFound(RuleError("no_proposal_set", PROPOSAL_SET_UNKNOWN))
            return self._proposal_view(repo, snapshot.ledger, found)

        return self._read_round(user, run)

    def proposal_set_of_round(self, round_id: int) -> ProposalSetView | None:
        """The round's set, for the round runner's card (no person: the system's read)."""
        ledger = self.summary_ledger()
        with self._unit_of_work() as repo:
            found = CityProposalSets(repo.session.connection(), repo.org_id).for_round(round_id)
            if found is None:
                return None
            return self._proposal_view(repo, ledger, found)

    def decide_proposals(
        self,
        user: str | None,
        set_id: int,
        ticked: Collection[int],
        decision: Decision,
        by_name: str = "",
    ) -> SetDecided:
        """KSAU's decision on the ticked proposals of a set (core.proposal_sets.decide):
        the entries and the decision in one transaction, under the city's write lock.
        The first decision closes the set; the same person's same decision again (a
        double click, a retry) records nothing and answers as the first did."""

        def run(repo: Repository, ledger: Ledger, who: Principal) -> SetDecided:
            sets = CityProposalSets(repo.session.connection(), repo.org_id)
            found = sets.by_id(set_id)
            if found is None:
                raise NotFound(RuleError("no_proposal_set", PROPOSAL_SET_UNKNOWN))
            require(who, Action.REALLOCATE)
            done = found.decision
            if done is not None and done.by_user == who.user and done.reference == decision.reference:
                return SetDecided(self._proposal_view(repo, ledger, found), recorded_now=False)
            now = self.clock()  # one time: the entries' and the decision's
            outcome = decide(self._known(ledger), who, found, ticked, decision, now)
            stored = [repo.append(e) for e in outcome.entries]
            record = SetDecision(
                reference=decision.reference,
                by_user=who.user,
                by_name=clean_name(by_name) if by_name else "",
                at=now,
                recorded=outcome.recorded,
                refused=outcome.refused,
                not_ticked=outcome.not_ticked,
                entry_seqs=tuple(e.seq for e in stored),
            )
            if not sets.record_decision(found, record):  # the write lock makes this unreachable
                raise RuleViolation(check_set_open(sets.by_id(set_id) or found))
            decided = replace(found, decision=record)
            return SetDecided(self._proposal_view(repo, ledger, decided), recorded_now=True)

        return self._write(user, run)

    def decided_proposal(self, year: int, from_measure: int, to_measure: int) -> ProposalSetView | None:
        """A decided set of `year` with the proposal from → to (an old per-proposal card
        for it is refused: KSAU has decided on it), or None."""
        ledger = self.summary_ledger()
        with self._unit_of_work() as repo:
            for found in CityProposalSets(repo.session.connection(), repo.org_id).of_year(year):
                if found.decision is not None and any(
                    (i.from_measure, i.to_measure) == (from_measure, to_measure) for i in found.items
                ):
                    return self._proposal_view(repo, ledger, found)
        return None

    def periods(self) -> list[str]:
        """The periods of the city's rounds, oldest first."""
        with self._unit_of_work() as repo:
            return [r.period for r in CityRounds(repo).all()]

    # --- issue 20: the round from chat ---------------------------------------------------

    def open_plan(self, user: str | None, period: str, as_of: date) -> OpenPlan:
        """What `open(user, period)` with the default dates would do, for a summary before it
        is confirmed: refused as `open` refuses (manage_rounds; a period that has a round)."""
        plan = plan_round(period)

        def run(repo: Repository, snapshot: CitySnapshot, who: Principal) -> OpenPlan:
            require(who, Action.MANAGE_ROUNDS)
            rounds = CityRounds(repo)
            existing = next((r for r in rounds.all() if r.period == plan.period), None)
            if existing is not None:
                raise RuleViolation(
                    [
                        RuleError(
                            "round_exists",
                            f"Det finns redan en uppföljningsomgång för {plan.period} "
                            f"({existing.phase(as_of).value}).",
                            "period",
                        )
                    ]
                )
            ledger = snapshot.ledger
            assignments = assign(ledger, repo.grants(), plan.year)
            return OpenPlan(
                plan,
                len(measures_with_money(ledger, plan.year)),
                len(assignments.cards),
                no_recipient_units(ledger, assignments),
            )

        return self._read_round(user, run)

    def close_plan(self, user: str | None, period: str | None, as_of: date) -> RoundReport:
        """The round `close(user, period)` would close (`period`, else the round `current`
        means, when it is not closed) as it stands on `as_of`, for a summary before it is
        confirmed: refused as `close` refuses (manage_rounds), and when it is closed already."""

        def find(repo: Repository, snapshot: CitySnapshot, who: Principal) -> Round:
            require(who, Action.MANAGE_ROUNDS)
            rounds = CityRounds(repo)
            if period is not None:
                return rounds.find(period)
            found = current_round(rounds.all(), as_of)
            if found is None or found.closed_at is not None:
                raise NotFound(
                    RuleError("no_open_round", "Det finns ingen öppen uppföljningsomgång att stänga.")
                )
            return found

        round_ = self._read_round(user, find)
        if round_.closed_at is not None:
            raise RuleViolation(
                [
                    RuleError(
                        "round_closed",
                        f"Uppföljningen {format_period(round_.period)} är redan stängd (stängdes "
                        f"{format_date(swedish_date(round_.closed_at))}).",
                        "period",
                    )
                ]
            )
        return self.report(user, round_.period, as_of)

    def remind(self, user: str | None, as_of: date, period: str | None = None) -> RemindersSent:
        """An extra reminder now (issue 20), to those who have not answered the round of
        `period` (or the round `current` means, when it is open): stadskontoret for every
        unit, an HR lead for the recipients of their own units' measures
        (Action.REMIND_ROUND). Each person gets at most one a Swedish calendar day per round
        (their send is keyed by the day): it goes to those in scope not reminded today, and is
        refused, saying when and by whom, only when every one of them was. The sends are
        recorded for the round runner like every send, and the reminder with who asked."""

        def run(repo: Repository, ledger: SummaryLedger, who: Principal) -> RemindersSent:
            rounds = CityRounds(repo)
            if period is not None:
                round_ = rounds.find(period)
            else:
                found = current_round(rounds.all(), as_of)
                if found is None or found.phase(as_of) in (Phase.CLOSED, Phase.PLANNED):
                    raise NotFound(
                        RuleError("no_open_round", "Det finns ingen öppen uppföljningsomgång att påminna om.")
                    )
                round_ = found
            units: tuple[str, ...] | None = None
            if not can(who, Action.REMIND_ROUND):
                units = tuple(u for u in sorted(ledger.units) if can(who, Action.REMIND_ROUND, [u]))
                if not units:
                    require(who, Action.REMIND_ROUND)
            now = self.clock()
            day = reminder_day(now)
            problems = check_extra_reminder(round_, as_of, day, None)
            if problems:
                raise RuleViolation(problems)
            full = rounds.committed_ledger(ledger, [round_.period])
            dues = extra_reminder_sends(
                round_, full, repo.grants(), rounds.recorded_keys(round_.id), day, units, repo.substitutions()
            )
            if not dues:  # everyone in scope who had the card has answered
                return RemindersSent(round_, 0, None, units or ())
            count = rounds.enqueue(round_, dues)  # a person reminded today already: left out
            if not count:  # every one of them had today's extra reminder: said when and by whom
                earlier = self._reminded_them(rounds.extra_reminders_on(round_.id, day), units)
                if earlier is None:
                    return RemindersSent(round_, 0, None, units or ())
                by = "dig" if earlier.by == who.user else rounds.display_names().get(earlier.by, "")
                raise RuleViolation(check_extra_reminder(round_, as_of, day, earlier, by))
            reminder = ExtraReminder(round_.id, day, now, who.user, units or (), count)
            rounds.record_extra_reminder(reminder)
            return RemindersSent(round_, count, reminder, units or ())

        return self._write(user, run)

    @staticmethod
    def _reminded_them(today: Sequence[ExtraReminder], units: tuple[str, ...] | None) -> ExtraReminder | None:
        """Today's latest extra reminder that covered (some of) `units` (None: every unit)."""
        wanted = None if units is None else set(units)
        covering = [r for r in today if wanted is None or not r.units or wanted & set(r.units)]
        return covering[-1] if covering else (today[-1] if today else None)


def _handed_to(
    repo: Repository,
    ledger: Ledger,
    grants: list[RoleGrant],
    assignments: Assignments,
    user: str,
    on: date,
) -> dict[int, str]:
    """Measure → the absent person `user` answers it for on `on` (issue 22: core.rounds.on_the_day,
    answered measures included, so that an answer given can be changed); none without substitutions."""
    substitutions = repo.substitutions()
    if not substitutions:
        return {}
    return on_the_day(ledger, grants, assignments, (), substitutions, on).handed_to(user)


def _refuse_if_back(
    repo: Repository, cards: Mapping[str, tuple[int, ...]], user: str, foreign: set[int], on: date
) -> None:
    """A handover card answered after the absent person is back (core.rounds.back_from_absence):
    refused, saying who is back since when; their measures are theirs to answer again."""
    if not foreign:
        return
    back = back_from_absence(repo.substitutions(), cards, user, foreign, on)
    if not back:
        return
    names = names_of(repo, set(back))
    raise RuleViolation(
        [
            RuleError(
                "absent_back",
                f"{names[person]} är tillbaka sedan {format_date(day)} och svarar själv för sina "
                "insatser i uppföljningen, så du svarar inte längre för dem.",
            )
            for person, day in sorted(back.items())
        ]
    )


def names_of(repo: Repository, people: Collection[str]) -> dict[str, str]:
    """Person → the name the bot knows them by (storage.people; the id when it knows none)."""
    if not people:
        return {}
    known = {p.user_id: p.shown for p in directory.known(repo.session.connection(), repo.org_id)}
    return {p: known.get(p, p) for p in people}


PROPOSAL_SET_UNKNOWN = (
    'Förslagen på kortet finns inte. Skriv "vilka förslag finns?" för att få ett nytt kort.'
)
PROPOSALS_NO_CLOSED_ROUND = (
    "Ingen uppföljningsomgång är stängd ännu, så det finns inga förslag att skicka till KSAU: "
    'de skickas när en runda stängs ("stäng rundan" eller "kompetensbot followup close").'
)
