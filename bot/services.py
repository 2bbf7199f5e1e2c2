"""Application services: each use case opens a unit of work, asks the core
whether the acting person may do it and whether the rules allow it, and
appends what the core returns. The command line and the chat call these,
so both answer the same and refuse the same.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from core import commands
from core.balances import FundBalance, fund_balance
from core.calendar import swedish_date
from core.entries import AllocationEntry, ReallocationEntry
from core.errors import AlreadySaved, RuleError, RuleViolation, echo
from core.in_memory import NotInMemory
from core.ledger import Ledger
from core.lookup import resolve_measure, resolve_unit
from core.model import ADMIN, Decision, FollowUp, Measure, Principal, Role, RoleGrant, Status
from core.needs import NeedLinkEntry, need_key
from core.permissions import Action, can, can_any, require, visible_units
from core.rounds import CardNeeds, card_needs, check_period_open
from core.rules import is_overdue
from core.rules.followup import check_period_begun, known_on
from core.views import MeasureView, measure_view
from dialogs.ports import CityView
from storage import people as directory
from storage.bot_state import ONCE_KEYS, claim_key
from storage.read_model import CitySnapshot, SummaryLedger, read_models
from storage.repository import Repository
from storage.rounds import CityRounds
from storage.seal import ChainReport, LedgerKey
from storage.tables import ProcessedActivityRow
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory, units_of

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """The use cases of one city (`org`, or the only one).

    Queries (funds, measures, measure, summary_ledger, principal) read the
    city's read model (storage.read_model: SQL aggregates, folded in
    incrementally), whose balances are those of the whole ledger; writes check
    the rules against the same read model, brought up to date under the city's
    write lock; `ledger()` reads every row. `turn`: a cache for one turn of the bot, which
    passes a new dict each turn: the city's snapshot and the acting person are
    then read once per turn; any write through these services empties it. `prime`
    fills it with what the Teams handler read; `in_memory` hands the dialogs a view
    answering from it (bot.turn_services, dialogs.ports).

    What goes through `units` (the unit-of-work factory) and what does not:
    every write (`_write`: under the city's write lock, checked against
    UnitOfWork.committed), every read of whole rows (`_read`: ledger, roles; the
    ledger as known on an earlier day, `_known_on`), `once_used` and
    `period_refusal`. The queries answered from the read model (`_city`: funds,
    measures, measure, summary_ledger, principal, derived) read it through
    storage.read_model.read_models(engine) instead, on `engine`: the read model
    is this process's cache of the city per engine, brought up to date with one
    connection and two small queries (the city's change markers and the person's
    roles, in autocommit on PostgreSQL). A unit of work would add a session, a
    query for the city and a transaction to each such read, and the Teams
    handler reads the same snapshot outside the services (storage.turn_start,
    then `prime`), so a factory handed in here would not be what those read
    anyway. A test that replaces the storage replaces `units` for the use cases
    and still needs a database behind `engine` for the queries."""

    engine: Engine
    org: str | None = None
    demo: bool = False
    clock: Callable[[], datetime] = utcnow
    turn: dict[Any, Any] | None = None
    admin: Principal = ADMIN
    """Who acts when no user is named: the command line names its operator
    ("cli:<os user>", shown as "administratör") so their writes keep an author id."""
    units: UnitOfWorkFactory | None = None
    """Where the use cases open their units of work (`units(org, write=...)`, as
    cosmicpython's service layer is given one); None: `units_of(engine)`. The time
    of what they record comes from `clock`."""

    def __post_init__(self) -> None:
        if self.units is None:
            self.units = units_of(self.engine)

    def _unit_of_work(self, *, write: bool = False) -> UnitOfWork:
        """A unit of work over the city's data (`units`)."""
        assert self.units is not None
        return self.units(self.org, write=write)

    # --- plumbing -------------------------------------------------------

    def _principal(self, repo: Repository, user: str | None) -> Principal:
        """The acting person: the administrator when user is None; in demo
        mode everyone holds the stadskontoret role."""
        if user is None:
            return self.admin
        if self.demo:
            return Principal(user, (RoleGrant(user, Role.CITY_OFFICE),))
        return repo.principal_on(user, swedish_date(self.clock()))

    def principal(self, user: str) -> Principal:
        return self._city(user)[1]

    def _city(self, user: str | None) -> tuple[CitySnapshot, Principal]:
        """The city's current snapshot and the acting person: one connection and
        two small queries when nothing changed (none within a turn that read them)."""
        cache = self.turn if self.turn is not None else {}
        snapshot: CitySnapshot | None = cache.get(("snapshot", self.org))
        if user is None:
            who: Principal | None = self.admin
        elif self.demo:
            who = Principal(user, (RoleGrant(user, Role.CITY_OFFICE),))
        else:
            who = cache.get(("principal", self.org, user))
        if snapshot is None or who is None:
            snapshot, grants = read_models(self.engine).read(
                self.engine, self.org, user if who is None else None, swedish_date(self.clock())
            )
            who = who or grants
            assert who is not None
            cache[("snapshot", self.org)] = snapshot
            if user is not None:
                cache[("principal", self.org, user)] = who
        return snapshot, who

    def prime(
        self, snapshot: CitySnapshot, user: str | None = None, principal: Principal | None = None
    ) -> None:
        """Give the turn what it has already read: the city's current snapshot and,
        for `user`, their roles (the Teams handler reads both when the turn starts,
        storage.turn_start); the turn's queries then read neither again."""
        if self.turn is None:
            self.turn = {}
        self.turn[("snapshot", self.org)] = snapshot
        if user is not None and principal is not None:
            self.turn[("principal", self.org, user)] = principal

    def in_memory(self, user: str | None, as_of: date | None = None) -> CityView | None:
        """The view answering `user`'s queries about the city as known on `as_of`
        from what the turn has read (dialogs.turn.call runs its methods in place
        instead of on a worker thread), or None when a query would read the
        database: the snapshot or the person is not read yet, or the figures as
        known on an earlier day read the whole ledger (`_known_on`)."""
        if self.turn is None:
            return None
        snapshot: CitySnapshot | None = self.turn.get(("snapshot", self.org))
        if snapshot is None or not _known_from(snapshot, as_of):
            return None
        if user is not None and not self.demo and ("principal", self.org, user) not in self.turn:
            return None
        return TurnView(self, snapshot, user)

    def derived(self, key: Any, compute: Callable[[Ledger], T], as_of: date | None = None) -> T:
        """`compute(ledger)` for the city's current summary ledger, where the result
        depends on that ledger and `key` alone (a parsed question, a rendered
        answer, not who asks): computed once per version of the city's data, as
        the next write makes a new snapshot and with it new values. With
        `as_of`, on the ledger as known on that day (see `_known_on`)."""
        snapshot = self._city(None)[0]
        known = self._known_on(snapshot, as_of)
        if known is not None:
            return compute(known)
        return snapshot.recent(key, lambda: compute(snapshot.ledger))

    def _query(self, user: str | None, fn: Callable[[CitySnapshot, Principal], T]) -> T:
        snapshot, who = self._city(user)
        return fn(snapshot, who)

    def _read(self, user: str | None, fn: Callable[[Repository, Ledger, Principal], T]) -> T:
        with self._unit_of_work() as repo:
            return fn(repo, repo.ledger(), self._principal(repo, user))

    def _write(
        self,
        user: str | None,
        fn: Callable[[Repository, SummaryLedger, Principal], T],
        once: str | None = None,
    ) -> T:
        """`once`: a key that makes the write happen at most once (a repeated
        confirmation, two processes answering the same turn): a second write
        with the same key raises AlreadySaved and writes nothing. The key is
        checked after the city's write lock is taken, in the same transaction,
        and stored with what the write saved (AlreadySaved.saved names it)."""
        if self.turn is not None:
            self.turn.clear()
        uow = self._unit_of_work(write=True)
        with uow as repo:
            claim = _claim_once(repo, once) if once is not None else None
            committed = uow.committed()  # the summary ledger, as committed: see storage.read_model
            result = fn(repo, committed.ledger, self._principal(repo, user))
            if claim is not None:
                claim.saved = _saved(result)
            uow.commit()
            return result

    # --- queries --------------------------------------------------------

    def ledger(self) -> Ledger:
        """The full ledger, every row (to replay or check it; `summary_ledger` answers questions)."""
        return self._read(None, lambda repo, ledger, who: ledger)

    def once_used(self, once: str) -> AlreadySaved | None:
        """What a write with this one-time key would be told if the key was used
        (a card saved before: AlreadySaved), or None. Only a look: the write
        claims the key (`_write`)."""
        with self._unit_of_work() as repo:
            seen = repo.once_seen(claim_key(ONCE_KEYS, once.strip()))
            if seen is None:
                return None
            return AlreadySaved(RuleError("already_saved", ALREADY_SAVED), _parse_saved(seen.saved))

    def city_name(self) -> str:
        """The city's name, e.g. "Malmö stad" (the command line's funds table)."""
        with self._unit_of_work() as repo:
            return repo.organisation.name

    def seal_report(self, key: LedgerKey | None = None) -> ChainReport:
        """The city's hash chain checked against its rows (`kompetensbot validate`)."""
        with self._unit_of_work() as repo:
            return repo.verify_seal(key)

    def summary_ledger(self) -> SummaryLedger:
        """The city's ledger for answering questions: units, measures, decisions and
        the balances of the whole ledger, from SQL aggregates (storage.read_model).
        Grants to a measure are summed per decision and only the latest follow-up
        of each measure and year is in it: to list every entry, use `ledger()`."""
        return self._city(None)[0].ledger

    def _known_on(self, snapshot: CitySnapshot, as_of: date | None) -> Ledger | None:
        """The city's whole ledger as it was known on `as_of` (core.rules.followup.known_on:
        follow-ups reported after that day do not count yet), or None when the
        snapshot's figures already are those of `as_of` (always with the real
        date; with the bot's date set back, as in a demo of the 2025 example,
        the follow-ups reported after it are left out)."""
        if as_of is None or not snapshot.reported_after(as_of):
            return None
        cache = self.turn if self.turn is not None else {}
        key = ("known_on", self.org, as_of, id(snapshot))
        if key not in cache:
            with self._unit_of_work() as repo:
                cache[key] = known_on(repo.ledger(), as_of)
        known: Ledger = cache[key]
        return known

    def funds(
        self, user: str | None, year: int, unit: str | None = None, *, as_of: date | None = None
    ) -> FundBalance:
        """The year's fund with the units the user may see (or just `unit`);
        with `as_of`, spent and forecast as known on that day."""

        def run(snapshot: CitySnapshot, who: Principal) -> FundBalance:
            ledger = snapshot.ledger
            known = self._known_on(snapshot, as_of)
            balance = snapshot.fund_balance(year) if known is None else fund_balance(known, year)
            if unit is not None:
                code = resolve_unit(ledger, unit)
                require(who, Action.READ, [code])
                return balance.only({code})
            if can(who, Action.READ):
                return balance
            visible = set(visible_units(who, ledger.units))
            if not visible:
                require(who, Action.READ)
            return balance.only(visible)

        return self._query(user, run)

    def measures(
        self,
        user: str | None,
        *,
        unit: str | None = None,
        status: Status | None = None,
        overdue: bool = False,
        year: int | None = None,
        as_of: date,
    ) -> list[MeasureView]:
        def run(snapshot: CitySnapshot, who: Principal) -> list[MeasureView]:
            ledger = snapshot.ledger
            code = resolve_unit(ledger, unit) if unit is not None else None
            if code is not None:
                require(who, Action.READ, [code])
            elif not can(who, Action.READ) and not visible_units(who, ledger.units):
                require(who, Action.READ)
            views = []
            known = self._known_on(snapshot, as_of)
            for m in sorted(ledger.measures.values(), key=lambda m: m.id):
                if code is not None and code not in m.units:
                    continue
                if year is not None and m.year != year:
                    continue
                if not can_any(who, Action.READ, m.units):
                    continue
                if known is None:
                    view = self._snapshot_view(snapshot, m, as_of)
                else:
                    view = measure_view(known, m, as_of)
                if status is not None and view.status != status:
                    continue
                if overdue and not view.overdue:
                    continue
                views.append(view)
            return views

        return self._query(user, run)

    def measure(self, user: str | None, ref: str, as_of: date) -> MeasureView:
        def run(snapshot: CitySnapshot, who: Principal) -> MeasureView:
            m = resolve_measure(snapshot.ledger, ref)
            require(who, Action.READ, m.units, any_of=True)
            known = self._known_on(snapshot, as_of)
            return self._snapshot_view(snapshot, m, as_of) if known is None else measure_view(known, m, as_of)

        return self._query(user, run)

    @staticmethod
    def _snapshot_view(snapshot: CitySnapshot, m: Measure, as_of: date) -> MeasureView:
        ledger = snapshot.ledger
        return MeasureView(
            measure=m,
            status=ledger.current_status(m.id),
            balance=snapshot.measure_balance(m.id),
            overdue=is_overdue(ledger, m, as_of),
        )

    # --- money ------------------------------------------------------------

    def set_fund(self, user: str | None, year: int, amount: int, decision: Decision) -> None:
        def run(repo: Repository, ledger: Ledger, who: Principal) -> None:
            repo.append(commands.set_fund(ledger, who, year, amount, decision, self.clock()))

        self._write(user, run)

    def allocate(
        self,
        user: str | None,
        unit: str,
        year: int,
        amount: int,
        decision: Decision,
        recurring: bool = False,
    ) -> AllocationEntry:
        def run(repo: Repository, ledger: Ledger, who: Principal) -> AllocationEntry:
            code = resolve_unit(ledger, unit)
            entry = commands.allocate(ledger, who, code, year, amount, decision, self.clock(), recurring)
            stored = repo.append(entry)
            assert isinstance(stored, AllocationEntry)
            return stored

        return self._write(user, run)

    def submit_measure(
        self,
        user: str | None,
        measure: Measure,
        grants: dict[str, int] | None = None,
        decision: Decision | None = None,
        author: str | None = None,
        once: str | None = None,
        *,
        needs: Sequence[str] = (),
    ) -> Measure:
        """Store a new measure and, if `grants` names amounts per unit, grant them.
        `author` is the name recorded as its submitter (default: the user id);
        `once`: see `_write`; `needs`: the ids of the needs of the measure's units that it
        answers, linked in the same write (issue 21: nothing is stored when one is refused)."""

        def run(repo: Repository, ledger: Ledger, who: Principal) -> Measure:
            return self._submit(repo, ledger, who, measure, grants or {}, decision, author, needs)

        return self._write(user, run, once)

    def _submit(
        self,
        repo: Repository,
        ledger: Ledger,
        who: Principal,
        measure: Measure,
        grants: dict[str, int],
        decision: Decision | None,
        author: str | None = None,
        needs: Sequence[str] = (),
    ) -> Measure:
        measure = commands.submit_measure(ledger, who, replace(measure, created_by=author or who.user))
        stored = repo.add_measure(measure)
        ledger = ledger.add_measure(stored)
        errors: list[RuleError] = []
        entries = []
        for unit, amount in grants.items():
            try:
                entry = commands.grant_measure(
                    ledger, who, stored.id, unit, amount, decision, self.clock(), stored.year
                )
            except RuleViolation as refused:
                errors += refused.errors
                continue
            ledger = ledger.append(entry)
            entries.append(entry)
        if errors:  # once each: without a decision every unit's share is refused alike
            raise RuleViolation(list(dict.fromkeys(errors)))
        # the links checked against the measure with its money (a surplus need's rule asks it)
        links = self._need_links(repo, ledger, who, stored, needs, author or who.user)
        for entry in entries:
            repo.append(entry)
        for link in links:
            repo.append_need(link)
        return stored

    def _need_links(
        self,
        repo: Repository,
        ledger: Ledger,
        who: Principal,
        measure: Measure,
        keys: Sequence[str],
        author: str,
    ) -> list[NeedLinkEntry]:
        """The links from the needs `keys` to a measure being submitted, checked by the core
        (core.commands.link_need) and refused unless each need is one of the measure's units'."""
        if not keys:
            return []
        needs = repo.needs()
        links = []
        once: dict[str, str] = {}
        for key in keys:  # each need once ("s1" is "S1")
            once.setdefault(need_key(key), key)
        for key in once.values():
            need = needs.get(key)
            if need is None or need.unit not in measure.units:  # unknown, or another committee's
                own = [n.key for n in needs.current.values() if n.unit in measure.units]
                raise RuleViolation(
                    [
                        RuleError(
                            "need_not_of_unit",
                            f'Behovet "{echo(key)}" är inget av {", ".join(measure.units)}:s behov, så '
                            "insatsen kan inte kopplas till det. "
                            f"Nämndens behov: {', '.join(own) or 'inga'}.",
                            "behov",
                        )
                    ]
                )
            link = commands.link_need(
                ledger, needs, who, NeedLinkEntry(key, measure.id, author, self.clock())
            )
            needs = needs.append(link)
            links.append(link)
        return links

    def grant_measure(
        self, user: str | None, measure_ref: str, unit: str, amount: int, decision: Decision
    ) -> None:
        def run(repo: Repository, ledger: Ledger, who: Principal) -> None:
            m = resolve_measure(ledger, measure_ref)
            code = resolve_unit(ledger, unit)
            repo.append(commands.grant_measure(ledger, who, m.id, code, amount, decision, self.clock()))

        self._write(user, run)

    def add_followup(
        self,
        user: str | None,
        measure_ref: str,
        *,
        period: str,
        status: Status,
        spent: int,
        forecast: int,
        usable_as_planned: bool,
        note: str = "",
        author: str | None = None,
        once: str | None = None,
        amount_confirmed: bool = False,
        after_close_reason: str | None = None,
        reached: int | None = None,
    ) -> FollowUp:
        """`author` is the name shown as the follow-up's author (default: the user id);
        `once`: see `_write`. `amount_confirmed` and `after_close_reason`: see
        core.commands.report_followup (the city's rounds are read here). `reached`: how
        many people the measure has reached so far, when given (issue 21)."""

        def run(repo: Repository, ledger: Ledger, who: Principal) -> FollowUp:
            m = resolve_measure(ledger, measure_ref)
            rounds = CityRounds(repo).all()
            followup = FollowUp(
                m.id,
                period,
                status,
                spent,
                forecast,
                usable_as_planned,
                note,
                author or who.user,
                self.clock(),
                reached=reached,
            )
            absent = commands.stand_in_for(who, m)
            if absent:  # issue 22: a substitute's follow-up is given for the absent person, named
                named = {p.user_id: p.shown for p in directory.known(repo.session.connection(), repo.org_id)}
                followup = replace(followup, for_id=absent, for_name=named.get(absent, absent))
            checked = commands.report_followup(
                ledger,
                who,
                followup,
                rounds=rounds,
                amount_confirmed=amount_confirmed,
                after_close_reason=after_close_reason,
            )
            return repo.add_followup(checked)

        return self._write(user, run, once)

    def measure_needs(self, user: str | None, measure_id: int) -> CardNeeds:
        """The competence needs a measure answers (core.rounds.card_needs: those `user` may
        read named, the others counted); none when it answers none. The follow-up asks how
        many people a linked measure has reached (issue 21)."""
        return self.linked_needs(user, [measure_id]).get(measure_id, CardNeeds())

    def linked_needs(self, user: str | None, measure_ids: Collection[int]) -> Mapping[int, CardNeeds]:
        """measure_needs for several measures in one read, those linked to no need left out:
        the follow-up form asks how many people a linked measure has reached (issue 21)."""
        who = self._city(user)[1]
        with self._unit_of_work() as repo:
            needs = repo.needs()
        return card_needs(needs, who, measure_ids)

    def period_refusal(self, period: str) -> str | None:
        """Why a follow-up for `period` is not taken (it has not begun by the
        bot's today: core.rules.followup.check_period_begun; its round is
        closed: core.rounds.check_period_open), or None; the write checks it again."""
        errors = check_period_begun(period, swedish_date(self.clock()))
        if errors:
            return errors[0].message
        with self._unit_of_work() as repo:
            rounds = CityRounds(repo).all()
        errors = check_period_open(rounds, period)
        return errors[0].message if errors else None

    def reallocate(
        self,
        user: str | None,
        from_ref: str,
        to_ref: str,
        amount: int,
        decision: Decision,
        once: str | None = None,
    ) -> ReallocationEntry:
        def run(repo: Repository, ledger: Ledger, who: Principal) -> ReallocationEntry:
            source = resolve_measure(ledger, from_ref, "från")
            target = resolve_measure(ledger, to_ref, "till")
            entry = commands.reallocate(ledger, who, source.id, target.id, amount, decision, self.clock())
            stored = repo.append(entry)
            assert isinstance(stored, ReallocationEntry)
            return stored

        return self._write(user, run, once)

    # --- people -----------------------------------------------------------

    def grant_role(self, user: str | None, person: str, role: Role, unit: str | None) -> bool:
        def run(repo: Repository, ledger: Ledger, who: Principal) -> bool:
            require(who, Action.MANAGE_ROLES)
            code = resolve_unit(ledger, unit) if unit else None
            _check_grant(role, code)
            return repo.grant(RoleGrant(person.strip(), role, code), who.user)

        return self._write(user, run)

    def revoke_role(self, user: str | None, person: str, role: Role, unit: str | None) -> int:
        def run(repo: Repository, ledger: Ledger, who: Principal) -> int:
            require(who, Action.MANAGE_ROLES)
            code = resolve_unit(ledger, unit) if unit else None
            return repo.revoke(RoleGrant(person.strip(), role, code), who.user)

        return self._write(user, run)

    def roles(self, user: str | None) -> list[RoleGrant]:
        def run(repo: Repository, ledger: Ledger, who: Principal) -> list[RoleGrant]:
            if not can(who, Action.MANAGE_ROLES):
                return repo.grants(who.user)
            return repo.grants()

        return self._read(user, run)


ALREADY_SAVED = "Det här är redan sparat: samma svar kom fram två gånger, så jag sparade det inte igen."


def _saved(result: Any) -> str | None:
    """What a write saved, as its once key keeps it (AlreadySaved.saved)."""
    if isinstance(result, Measure):
        return f"measure:{result.id}"
    if isinstance(result, FollowUp):
        return f"followup:{result.measure_id}:{result.period}"
    if isinstance(result, ReallocationEntry):
        return f"entry:{result.seq}"
    return None


def _parse_saved(text: str | None) -> tuple[Any, ...] | None:
    kind, _, rest = (text or "").partition(":")
    try:
        if kind == "measure":
            return ("measure", int(rest))
        if kind == "followup":
            measure, _, period = rest.partition(":")
            return ("followup", int(measure), period)
        if kind == "entry":
            return ("entry", int(rest))
    except ValueError:
        pass
    return None


def _claim_once(repo: Repository, once: str) -> ProcessedActivityRow:
    """Claim a write's one-time key (the whole key, never cut: storage.bot_state.claim_key)."""
    key = claim_key(ONCE_KEYS, once.strip())
    seen = repo.once_seen(key)
    if seen is not None:
        raise AlreadySaved(RuleError("already_saved", ALREADY_SAVED), _parse_saved(seen.saved))
    return repo.claim_once(key)


def _check_grant(role: Role, unit: str | None) -> None:
    if role in (Role.CHEF, Role.HR) and unit is None:
        raise RuleViolation(
            RuleError(
                "role_needs_unit",
                f"Rollen {role.value} gäller en nämnd: ange vilken med --unit.",
                "nämnd",
            )
        )
    if role in (Role.CITY_OFFICE, Role.KSAU) and unit is not None:
        raise RuleViolation(
            RuleError(
                "role_city_wide",
                f"Rollen {role.value} gäller hela staden och tar ingen nämnd.",
                "nämnd",
            )
        )


def _known_from(snapshot: CitySnapshot, as_of: date | None) -> bool:
    """Whether the snapshot's figures are those known on `as_of` (nothing in it
    was reported after that day; see Services._known_on)."""
    return not isinstance(as_of, date) or not snapshot.reported_after(as_of)


class TurnView(CityView):
    """The city's queries for one person, answered from the turn's snapshot and
    that person's roles, both already read (Services.in_memory hands it out
    only then). A question it cannot answer from them (another person, figures
    as known on an earlier day, a snapshot a write has replaced) is refused
    before anything is read, with core.in_memory.NotInMemory naming the services'
    method that answers it: dialogs.turn.call runs that one on a worker thread,
    so such a question is answered, never read on the event loop."""

    def __init__(self, services: Services, snapshot: CitySnapshot, user: str | None) -> None:
        self._services = services
        self._snapshot = snapshot
        self._user = user

    def _check(self, method: str, user: str | None, as_of: date | None = None) -> None:
        cache = self._services.turn or {}
        if cache.get(("snapshot", self._services.org)) is not self._snapshot:
            reason = "the turn's snapshot changed (a write): ask Services.in_memory again"
        elif user is not None and user != self._user:
            reason = f"this view answers for {self._user!r}, not {user!r}"
        elif not _known_from(self._snapshot, as_of):
            reason = "figures as known on an earlier day read the whole ledger"
        else:
            return
        raise NotInMemory(reason, getattr(self._services, method))

    def summary_ledger(self) -> Ledger:
        self._check("summary_ledger", None)
        return self._services.summary_ledger()

    def principal(self, user: str) -> Principal:
        self._check("principal", user)
        return self._services.principal(user)

    def funds(
        self, user: str | None, year: int, unit: str | None = None, *, as_of: date | None = None
    ) -> FundBalance:
        self._check("funds", user, as_of)
        return self._services.funds(user, year, unit, as_of=as_of)

    def measures(
        self,
        user: str | None,
        *,
        unit: str | None = None,
        status: Status | None = None,
        overdue: bool = False,
        year: int | None = None,
        as_of: date,
    ) -> list[MeasureView]:
        self._check("measures", user, as_of)
        return self._services.measures(
            user, unit=unit, status=status, overdue=overdue, year=year, as_of=as_of
        )

    def measure(self, user: str | None, ref: str, as_of: date) -> MeasureView:
        self._check("measure", user, as_of)
        return self._services.measure(user, ref, as_of)

    def derived(self, key: Any, compute: Callable[[Ledger], T], as_of: date | None = None) -> T:
        self._check("derived", None, as_of)
        return self._services.derived(key, compute, as_of)
