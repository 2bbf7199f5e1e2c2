"""Application services: each use case opens a unit of work, asks the core
whether the acting person may do it and whether the rules allow it, and
appends what the core returns. The command line and the chat call these,
so both answer the same and refuse the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TypeVar

from sqlalchemy.engine import Engine

from core import commands
from core.balances import FundBalance, MeasureBalance, fund_balance, measure_balance
from core.entries import AllocationEntry, ReallocationEntry
from core.errors import RuleError, RuleViolation
from core.ledger import Ledger
from core.lookup import resolve_measure, resolve_unit
from core.model import ADMIN, Decision, FollowUp, Measure, Principal, Role, RoleGrant, Status
from core.permissions import Action, can, can_any, require, visible_units
from core.rules import is_overdue
from storage.repository import Repository
from storage.unit_of_work import UnitOfWork

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class MeasureView:
    """A measure as a reader sees it: plan data, current status and money."""

    measure: Measure
    status: Status
    balance: MeasureBalance
    overdue: bool


@dataclass
class Services:
    engine: Engine
    org: str | None = None
    demo: bool = False
    clock: Callable[[], datetime] = utcnow

    # --- plumbing -------------------------------------------------------

    def _principal(self, repo: Repository, user: str | None) -> Principal:
        """The acting person: the administrator when user is None; in demo
        mode everyone holds the stadskontoret role."""
        if user is None:
            return ADMIN
        if self.demo:
            return Principal(user, (RoleGrant(user, Role.CITY_OFFICE),))
        return repo.principal(user)

    def principal(self, user: str) -> Principal:
        return self._read(user, lambda repo, ledger, who: who)

    def _read(self, user: str | None, fn: Callable[[Repository, Ledger, Principal], T]) -> T:
        with UnitOfWork(self.engine, self.org) as repo:
            return fn(repo, repo.ledger(), self._principal(repo, user))

    def _write(self, user: str | None, fn: Callable[[Repository, Ledger, Principal], T]) -> T:
        uow = UnitOfWork(self.engine, self.org, write=True)
        with uow as repo:
            result = fn(repo, repo.ledger(), self._principal(repo, user))
            uow.commit()
            return result

    # --- queries --------------------------------------------------------

    def ledger(self) -> Ledger:
        return self._read(None, lambda repo, ledger, who: ledger)

    def funds(self, user: str | None, year: int, unit: str | None = None) -> FundBalance:
        """The year's fund with the units the user may see (or just `unit`)."""

        def run(repo: Repository, ledger: Ledger, who: Principal) -> FundBalance:
            balance = fund_balance(ledger, year)
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

        return self._read(user, run)

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
        def run(repo: Repository, ledger: Ledger, who: Principal) -> list[MeasureView]:
            code = resolve_unit(ledger, unit) if unit is not None else None
            if code is not None:
                require(who, Action.READ, [code])
            elif not can(who, Action.READ) and not visible_units(who, ledger.units):
                require(who, Action.READ)
            views = []
            for m in sorted(ledger.measures.values(), key=lambda m: m.id):
                if code is not None and code not in m.units:
                    continue
                if year is not None and m.year != year:
                    continue
                if not can_any(who, Action.READ, m.units):
                    continue
                view = self._view(ledger, m, as_of)
                if status is not None and view.status != status:
                    continue
                if overdue and not view.overdue:
                    continue
                views.append(view)
            return views

        return self._read(user, run)

    def measure(self, user: str | None, ref: str, as_of: date) -> MeasureView:
        def run(repo: Repository, ledger: Ledger, who: Principal) -> MeasureView:
            m = resolve_measure(ledger, ref)
            require(who, Action.READ, m.units, any_of=True)
            return self._view(ledger, m, as_of)

        return self._read(user, run)

    @staticmethod
    def _view(ledger: Ledger, m: Measure, as_of: date) -> MeasureView:
        return MeasureView(
            measure=m,
            status=ledger.current_status(m.id),
            balance=measure_balance(ledger, m.id),
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
    ) -> Measure:
        """Store a new measure and, if `grants` names amounts per unit, grant them.
        `author` is the name recorded as its submitter (default: the user id)."""

        def run(repo: Repository, ledger: Ledger, who: Principal) -> Measure:
            return self._submit(repo, ledger, who, measure, grants or {}, decision, author)

        return self._write(user, run)

    def _submit(
        self,
        repo: Repository,
        ledger: Ledger,
        who: Principal,
        measure: Measure,
        grants: dict[str, int],
        decision: Decision | None,
        author: str | None = None,
    ) -> Measure:
        measure = commands.submit_measure(ledger, who, replace(measure, created_by=author or who.user))
        stored = repo.add_measure(measure)
        ledger = ledger.add_measure(stored)
        errors: list[RuleError] = []
        entries = []
        for unit, amount in grants.items():
            if decision is None:
                raise RuleViolation(
                    RuleError("missing_decision", "Beviljat belopp kräver ett beslut.", "beslut")
                )
            try:
                entry = commands.grant_measure(
                    ledger, who, stored.id, unit, amount, decision, self.clock(), stored.year
                )
            except RuleViolation as refused:
                errors += refused.errors
                continue
            ledger = ledger.append(entry)
            entries.append(entry)
        if errors:
            raise RuleViolation(errors)
        for entry in entries:
            repo.append(entry)
        return stored

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
    ) -> FollowUp:
        """`author` is the name shown as the follow-up's author (default: the user id)."""

        def run(repo: Repository, ledger: Ledger, who: Principal) -> FollowUp:
            m = resolve_measure(ledger, measure_ref)
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
            )
            return repo.add_followup(commands.report_followup(ledger, who, followup))

        return self._write(user, run)

    def reallocate(
        self, user: str | None, from_ref: str, to_ref: str, amount: int, decision: Decision
    ) -> ReallocationEntry:
        def run(repo: Repository, ledger: Ledger, who: Principal) -> ReallocationEntry:
            source = resolve_measure(ledger, from_ref, "från")
            target = resolve_measure(ledger, to_ref, "till")
            entry = commands.reallocate(ledger, who, source.id, target.id, amount, decision, self.clock())
            stored = repo.append(entry)
            assert isinstance(stored, ReallocationEntry)
            return stored

        return self._write(user, run)

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
            return repo.revoke(RoleGrant(person.strip(), role, code))

        return self._write(user, run)

    def roles(self, user: str | None) -> list[RoleGrant]:
        def run(repo: Repository, ledger: Ledger, who: Principal) -> list[RoleGrant]:
            if not can(who, Action.MANAGE_ROLES):
                return repo.grants(who.user)
            return repo.grants()

        return self._read(user, run)


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


def unit_codes(ledger: Ledger, names: Iterable[str]) -> tuple[str, ...]:
    return tuple(resolve_unit(ledger, n) for n in names)
