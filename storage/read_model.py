"""A city's ledger as the read paths need it: built from SQL aggregates and
kept up to date incrementally, so an answer that reads an aggregate (what is
left of a unit's money, a measure's status) costs the same with a hundred
ledger rows as with a million.

What is read, per city:
- the catalogue: units, measures and decisions (new measures read as they come,
  everything again when the units change);
- fund, transfer, transfer-end and reallocation entries, one by one (few);
- grants to measures summed in SQL per (year, measure, unit, decision):
  a measure's money, and its shares, are sums of its grants;
- the latest follow-up of every measure and year, picked in SQL: spend,
  forecast and status come only from the latest follow-up.

This is the city's summary ledger (`SummaryLedger`); the full ledger is every
row (`Repository.ledger`). The balances of the summary (core.balances) are those
of the full one, and it is what writes check the rules against: a writing unit
of work reads it as committed, under the city's write lock (`ReadModels.committed`,
bot.services.Services._write), because every rule reads only what the summary
keeps exactly (the catalogue, the balances, every entry that is not a grant to a
measure, the grants per year, measure, unit and decision, the latest follow-up of
each measure and year); a round's answers add their period's follow-ups first
(`with_period_followups`).
tests/integration/test_read_model.py holds both: the summary's figures equal the
full ledger's on the example and on generated ledgers, and writes checked against
it are accepted and refused exactly as against every row
(test_writes_decide_as_against_every_row). What it is not: a record of every
entry (grants to a measure are summed, earlier follow-ups left out), so it does
not replay, list every entry or say what was known on an earlier day:
`kompetensbot validate`, the seal, `Services.ledger()` and figures `as_of` a past
day read every row.

Ledger entries and follow-ups are append-only, and each city's `seq` is
handed out one after another under the city's write lock, so everything up to
the highest `seq` one can see is committed. A city's read model therefore
remembers the highest `seq` it has folded in and, when a query finds a
higher one, aggregates only the rows in between (an index range scan on
(org_id, seq)). Whether anything changed is one small query per read: the
city's ledger_version (bumped by every writing unit of work), its creation
time, the highest `seq`s, and the number and highest id of its measures and
units. Everything is per process and per engine; nothing is shared between
processes except the database.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, NamedTuple, NewType, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    ScalarSelect,
    Select,
    Table,
    and_,
    bindparam,
    case,
    cast,
    func,
    select,
)
from sqlalchemy.engine import Connection, Engine

from core.balances import FundBalance, MeasureBalance, fund_balance, measure_balance
from core.entries import LedgerEntry, MeasureFundingEntry
from core.ledger import Ledger
from core.model import Decision, FollowUp, Measure, Organisation, Principal, Role, RoleGrant, Unit
from core.rules.followup import last_reported
from core.substitutes import replay, stand_in_grants
from storage.db import reading
from storage.driver_sql import DriverQuery
from storage.mapping import (
    aware,
    decision_from_row,
    entry_from_row,
    followup_from_row,
    measure_from_row,
    substitution_record_from_row,
    unit_from_row,
)
from storage.repository import pick_city
from storage.tables import (
    DecisionRow,
    FollowUpRow,
    LedgerEntryRow,
    MeasureRow,
    OrganisationRow,
    RoleGrantRow,
    SubstitutionRow,
    TenantRow,
    UnitRow,
    table,
)

T = TypeVar("T")

SummaryLedger = NewType("SummaryLedger", Ledger)
"""A read model's ledger (see the module): the balances of the full ledger, grants to
a measure summed, only the latest follow-up of each measure and year (and a round's
period's, `with_period_followups`). A `Ledger` at run time; the name tells it apart
from the full ledger of every row (`Repository.ledger`), which replays."""

MAX_CITIES = 128
"""Cities kept in memory per engine (least recently used are dropped)."""

FUNDING = "measure_funding"

_org = table(OrganisationRow)
_units = table(UnitRow)
_measures = table(MeasureRow)
_decisions = table(DecisionRow)
_entries = table(LedgerEntryRow)
_followups = table(FollowUpRow)
_grants = table(RoleGrantRow)
_tenants = table(TenantRow)
_subs = table(SubstitutionRow)


class Freshness(NamedTuple):
    """What tells a city's read model whether the database changed."""

    org_id: int
    slug: str
    name: str
    created_at: Any
    ledger_version: int
    ledger_seq: int
    followup_seq: int
    measures: int
    measure_max: int
    units: int

    @property
    def catalogue(self) -> tuple[Any, ...]:
        """Units and measures are only ever added (never changed or removed), so
        their count and highest id say whether there are new ones."""
        return (self.created_at, self.measures, self.measure_max, self.units)


def _freshness_query(by: str) -> Select[Any]:
    org_id = _org.c.id

    def scalar(expr: ColumnElement[Any], of: Table) -> ScalarSelect[Any]:
        return select(expr).where(of.c.org_id == org_id).scalar_subquery()

    query = select(
        _org.c.id,
        _org.c.slug,
        _org.c.name,
        _org.c.created_at,
        _org.c.ledger_version,
        func.coalesce(scalar(func.max(_entries.c.seq), _entries), 0),
        func.coalesce(scalar(func.max(_followups.c.seq), _followups), 0),
        scalar(func.count(), _measures),
        func.coalesce(scalar(func.max(_measures.c.id), _measures), 0),
        scalar(func.count(), _units),
    )
    if by == "slug":
        return query.where(_org.c.slug == bindparam("slug"))
    if by == "tenant":
        return query.where(_org.c.id == served_city_id())
    return query.order_by(_org.c.id).limit(2)


def served_city_id() -> ColumnElement[Any]:
    """The id of the city serving the tenant bound as `tenant_id`, as an SQL
    expression: its linked city, or else, when `only_city` is bound true, the
    only city there is (NULL when neither: no link and no city, or several, or
    a tenant that is not linked and may not fall back to the only city)."""
    linked = select(_tenants.c.org_id).where(_tenants.c.tenant_id == bindparam("tenant_id"))
    every = _org.alias("every_city")
    only_city = bindparam("only_city", type_=Boolean)
    only = select(case((and_(only_city, func.count() == 1), func.min(every.c.id)))).select_from(every)
    return func.coalesce(linked.scalar_subquery(), only.scalar_subquery())


# On the driver's cursor (storage.driver_sql): every message reads one of them.
# `created_at` is then the driver's value (text on SQLite) on every path: it
# is only compared with itself.
_BY_SLUG = DriverQuery(_freshness_query("slug"))
SERVED_CITY_FRESHNESS = _freshness_query("tenant")
"""`tenant_freshness`'s select (storage.turn_start reads more with it)."""
_BY_TENANT = DriverQuery(SERVED_CITY_FRESHNESS)
_ONLY = DriverQuery(_freshness_query("only"))


def freshness(conn: Connection, slug: str | None) -> Freshness:
    """The city named by slug (or the only city: storage.repository.pick_city), with its change markers."""
    if slug:
        row = _BY_SLUG.first(conn, {"slug": slug})
        return Freshness(*pick_city(slug, [] if row is None else [row]))
    return Freshness(*pick_city(slug, _ONLY.rows(conn)))


def tenant_freshness(conn: Connection, tenant_id: str | None, *, only_city: bool = True) -> Freshness | None:
    """The city that serves a tenant, with its change markers: its linked city,
    or (with `only_city`) the only city there is (`served_city_id`); None when
    neither."""
    row = _BY_TENANT.first(conn, {"tenant_id": tenant_id or None, "only_city": only_city})
    return Freshness(*row) if row is not None else None


_GRANTS = DriverQuery(
    select(_grants.c.role, _grants.c.unit_code)
    .where(_grants.c.org_id == bindparam("org_id"), _grants.c.user_id == bindparam("user"))
    .order_by(_grants.c.id)
)


_STANDS_IN = DriverQuery(
    select(_subs.c.id)
    .where(_subs.c.org_id == bindparam("org_id"), _subs.c.substitute == bindparam("user"))
    .limit(1)
)


def grants_of(conn: Connection, org_id: int, user: str, on: date | None = None) -> Principal:
    """A person's grants in one city and, when `on` is given and they are named anyone's
    substitute, the absent people's unit grants they stand in for that day (Principal.stand_in):
    one small query more, a second only for a substitute."""
    principal = principal_of(user, _GRANTS.rows(conn, {"org_id": org_id, "user": user}))
    return principal if on is None else with_stand_in(conn, org_id, principal, on)


def with_stand_in(conn: Connection, org_id: int, principal: Principal, on: date) -> Principal:
    """The principal with the grants they stand in for on `on` (none when nobody named them)."""
    if not _STANDS_IN.rows(conn, {"org_id": org_id, "user": principal.user}):
        return principal
    return replace(principal, stand_in=stand_ins(conn, org_id, principal.user, on))


def stand_ins(conn: Connection, org_id: int, user: str, on: date) -> tuple[RoleGrant, ...]:
    """The absent people's unit grants `user` stands in for on `on` (core.substitutes)."""
    rows = conn.execute(select(_subs).where(_subs.c.org_id == org_id).order_by(_subs.c.seq)).all()
    subs = replay(substitution_record_from_row(SubstitutionRow(**r._mapping)) for r in rows)
    absent = sorted({s.absent for s in subs if s.substitute == user})
    grants = conn.execute(
        select(_grants.c.user_id, _grants.c.role, _grants.c.unit_code)
        .where(_grants.c.org_id == org_id, _grants.c.user_id.in_(absent))
        .order_by(_grants.c.id)
    ).all()
    held = [RoleGrant(g.user_id, Role(g.role), g.unit_code) for g in grants]
    return stand_in_grants(subs, held, user, on)


def principal_of(user: str, grants: Iterable[tuple[str, str | None]]) -> Principal:
    """A person with their (role, unit code) grants in one city, in the order granted."""
    return Principal(user=user, grants=tuple(RoleGrant(user, Role(role), unit) for role, unit in grants))


# --- the queries over new rows ------------------------------------------------------------------


def _between(of: Table, org_id: int, after: int, upto: int) -> ColumnElement[bool]:
    return and_(of.c.org_id == org_id, of.c.seq > after, of.c.seq <= upto)


def _single_entries(conn: Connection, org_id: int, after: int, upto: int) -> list[Any]:
    """Every entry that is not a grant to a measure (funds, transfers, their ends,
    reallocations), in ledger order."""
    return list(
        conn.execute(
            select(_entries)
            .where(_between(_entries, org_id, after, upto), _entries.c.kind != FUNDING)
            .order_by(_entries.c.seq)
        ).all()
    )


def _funding_sums(conn: Connection, org_id: int, after: int, upto: int) -> list[Any]:
    """Grants to measures summed per (year, measure, unit, decision)."""
    c = _entries.c
    return list(
        conn.execute(
            select(
                c.year,
                c.measure_id,
                c.unit_code,
                c.decision_id,
                cast(func.sum(c.amount), BigInteger).label("amount"),
                func.min(c.seq).label("seq"),
                func.min(c.created_at).label("created_at"),
                func.min(c.author).label("author"),
            )
            .where(_between(_entries, org_id, after, upto), c.kind == FUNDING)
            .group_by(c.year, c.measure_id, c.unit_code, c.decision_id)
        ).all()
    )


def _latest_followups(conn: Connection, org_id: int, after: int, upto: int) -> list[Any]:
    """The latest follow-up of every measure and year (by period, then seq)."""
    c = _followups.c
    ranked = (
        select(
            _followups,
            func.row_number()
            .over(
                partition_by=(c.measure_id, func.substr(c.period, 1, 4)),
                order_by=(c.period.desc(), c.seq.desc()),
            )
            .label("rank"),
        )
        .where(_between(_followups, org_id, after, upto))
        .subquery()
    )
    return list(conn.execute(select(ranked).where(ranked.c.rank == 1)).all())


# --- one city --------------------------------------------------------------------------------


def _followup_key(f: FollowUp) -> tuple[str, int, datetime]:
    return (f.period, f.seq, f.at)


@dataclass
class CitySnapshot:
    """One city's read ledger at one moment; never changed once built, so what is
    derived from it is computed once (`memo`)."""

    organisation: Organisation
    freshness: Freshness
    ledger: SummaryLedger
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)
    _recent: OrderedDict[Any, Any] = field(default_factory=OrderedDict, repr=False)
    _recent_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    RECENT = 512
    """How many `recent` values a snapshot keeps (the least recently used go first)."""

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """For keys of which there are few (a year, a measure id): kept while the snapshot lives."""
        try:
            return self._memo[key]  # type: ignore[no-any-return]  # values of every type share one dict
        except KeyError:
            value = self._memo[key] = compute()
            return value

    def recent(self, key: Any, compute: Callable[[], T]) -> T:
        """For keys without a bound (what people type): the RECENT last used are kept.
        `compute` must derive its value from this snapshot and the key alone."""
        with self._recent_lock:
            try:
                value = self._recent[key]
                self._recent.move_to_end(key)
                return value  # type: ignore[no-any-return]  # values of every type share one dict
            except KeyError:
                pass
        value = compute()
        with self._recent_lock:
            self._recent[key] = value
            while len(self._recent) > self.RECENT:
                self._recent.popitem(last=False)
        return value

    def reported_after(self, day: date) -> bool:
        """core.rules.followup.reported_after on this snapshot's ledger: whether a follow-up
        in it was reported after `day`. Every query of a turn asks it (figures "as known
        on" the bot's date): the latest report day is found once per snapshot, not by
        reading every follow-up at each query (what it bought: bench/README.md)."""
        last = self.memo("last_reported", lambda: last_reported(self.ledger))
        return last is not None and last > day

    def fund_balance(self, year: int) -> FundBalance:
        return self.memo(("fund_balance", year), lambda: fund_balance(self.ledger, year))

    def measure_balance(self, measure_id: int) -> MeasureBalance:
        return self.memo(("measure_balance", measure_id), lambda: measure_balance(self.ledger, measure_id))


@dataclass
class _City:
    """What a city's read model has folded in so far."""

    ledger_seq: int = 0
    followup_seq: int = 0
    catalogue: tuple[Any, ...] | None = None
    units: list[Unit] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    decisions: dict[int, Decision] = field(default_factory=dict)
    singles: list[LedgerEntry] = field(default_factory=list)
    fundings: dict[tuple[int, int, str, int], MeasureFundingEntry] = field(default_factory=dict)
    latest: dict[tuple[int, int], FollowUp] = field(default_factory=dict)
    snapshot: CitySnapshot | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh_catalogue(self, conn: Connection, fresh: Freshness) -> None:
        """Read the units and measures added since the last read: only the new
        measures when that accounts for all of them, else everything again."""
        before = self.catalogue
        if before == fresh.catalogue:
            return
        if before is not None and before[0] == fresh.created_at and before[3] == fresh.units:
            _, count, highest, _ = before
            added = [
                measure_from_row(r)  # type: ignore[arg-type]  # a Core row, with the columns of the row class it names
                for r in conn.execute(
                    select(_measures)
                    .where(_measures.c.org_id == fresh.org_id, _measures.c.id > highest)
                    .order_by(_measures.c.id)
                )
            ]
            if count + len(added) == fresh.measures:
                self.measures.extend(added)
                self.catalogue = fresh.catalogue
                return
        self.load_catalogue(conn, fresh.org_id)
        self.catalogue = fresh.catalogue

    def load_catalogue(self, conn: Connection, org_id: int) -> None:
        self.units = [
            unit_from_row(r)  # type: ignore[arg-type]  # a Core row, with the columns of the row class it names
            for r in conn.execute(select(_units).where(_units.c.org_id == org_id).order_by(_units.c.id))
        ]
        self.measures = [
            measure_from_row(r)  # type: ignore[arg-type]  # a Core row, with the columns of the row class it names
            for r in conn.execute(
                select(_measures).where(_measures.c.org_id == org_id).order_by(_measures.c.id)
            )
        ]
        self.load_decisions(conn, org_id)

    def load_decisions(self, conn: Connection, org_id: int) -> None:
        self.decisions = {
            r.id: decision_from_row(r)  # type: ignore[arg-type]  # a Core row, with the columns of the row class it names
            for r in conn.execute(select(_decisions).where(_decisions.c.org_id == org_id))
        }

    def decision(self, conn: Connection, org_id: int, decision_id: int) -> Decision:
        if decision_id not in self.decisions:
            self.load_decisions(conn, org_id)
        return self.decisions[decision_id]

    def fold(self, conn: Connection, fresh: Freshness) -> None:
        """Fold in the rows after what was folded before, up to `fresh`."""
        org_id = fresh.org_id
        if fresh.ledger_seq > self.ledger_seq:
            for row in _single_entries(conn, org_id, self.ledger_seq, fresh.ledger_seq):
                self.singles.append(entry_from_row(row, self.decision(conn, org_id, row.decision_id)))
            for row in _funding_sums(conn, org_id, self.ledger_seq, fresh.ledger_seq):
                key = (row.year, row.measure_id, row.unit_code, row.decision_id)
                before = self.fundings.get(key)
                if before is None:
                    self.fundings[key] = MeasureFundingEntry(
                        year=row.year,
                        measure_id=row.measure_id,
                        unit=row.unit_code,
                        amount=int(row.amount),
                        decision=self.decision(conn, org_id, row.decision_id),
                        author=row.author,
                        at=aware(row.created_at),
                        seq=row.seq,
                    )
                else:
                    self.fundings[key] = MeasureFundingEntry(
                        before.year,
                        before.measure_id,
                        before.unit,
                        before.amount + int(row.amount),
                        before.decision,
                        before.author,
                        before.at,
                        before.seq,
                    )
            self.ledger_seq = fresh.ledger_seq
        if fresh.followup_seq > self.followup_seq:
            for row in _latest_followups(conn, org_id, self.followup_seq, fresh.followup_seq):
                followup = followup_from_row(row)
                latest_key = (followup.measure_id, followup.year)
                earlier = self.latest.get(latest_key)
                if earlier is None or _followup_key(followup) >= _followup_key(earlier):
                    self.latest[latest_key] = followup
            self.followup_seq = fresh.followup_seq

    def build(self, fresh: Freshness) -> CitySnapshot:
        ledger = SummaryLedger(
            Ledger.build(
                self.units, self.measures, [*self.singles, *self.fundings.values()], self.latest.values()
            )
        )
        return CitySnapshot(Organisation(fresh.org_id, fresh.name, fresh.slug), fresh, ledger)


class ReadModels:
    """The read models of one database's cities, in this process."""

    def __init__(self, max_cities: int = MAX_CITIES) -> None:
        self.max_cities = max_cities
        self._cities: OrderedDict[int, _City] = OrderedDict()
        self._lock = threading.Lock()

    def snapshot(self, engine: Engine, slug: str | None) -> CitySnapshot:
        return self.read(engine, slug)[0]

    def read(
        self, engine: Engine, slug: str | None, user: str | None = None, on: date | None = None
    ) -> tuple[CitySnapshot, Principal | None]:
        """The city's current snapshot and, if `user` is given, their role grants
        there (with what they stand in for on `on`: grants_of): one connection,
        three small queries when nothing changed."""
        with reading(engine) as conn:
            fresh = freshness(conn, slug)
            principal = grants_of(conn, fresh.org_id, user, on) if user is not None else None
            return self._snapshot(conn, fresh), principal

    def current(self, engine: Engine, fresh: Freshness) -> CitySnapshot:
        """The snapshot for change markers read elsewhere (`freshness`, e.g. in
        the transaction that starts a turn): the kept one when nothing
        changed, else folded up to them on a connection of its own."""
        city = self._city(fresh.org_id)
        current = city.snapshot
        if current is not None and current.freshness == fresh:
            return current
        with reading(engine) as conn:
            return self._snapshot(conn, fresh)

    def committed(self, conn: Connection, slug: str) -> CitySnapshot:
        """The city's data as committed, for a writing unit of work that holds the
        city's write lock and has bumped its ledger_version (storage.unit_of_work),
        read on that unit of work's connection. With the lock held nobody else has
        committed since, so the committed version is one less than the one this
        transaction sees, and nothing of this transaction's own is read (call it
        before appending). What the rules check a new entry against then costs
        what the rows since the last read cost, not the whole ledger."""
        fresh = freshness(conn, slug)
        return self._snapshot(conn, fresh._replace(ledger_version=fresh.ledger_version - 1))

    def _city(self, org_id: int) -> _City:
        with self._lock:
            city = self._cities.get(org_id)
            if city is None:
                city = self._cities[org_id] = _City()
                while len(self._cities) > self.max_cities:
                    self._cities.popitem(last=False)
            else:
                self._cities.move_to_end(org_id)
            return city

    def _snapshot(self, conn: Connection, fresh: Freshness) -> CitySnapshot:
        city = self._city(fresh.org_id)
        current = city.snapshot
        if current is not None and current.freshness == fresh:
            return current
        with city.lock:
            current = city.snapshot
            if current is not None and current.freshness == fresh:
                return current
            if current is not None and (
                fresh.created_at != current.freshness.created_at
                or fresh.ledger_seq < city.ledger_seq
                or fresh.followup_seq < city.followup_seq
            ):  # another city in the same row, or a database put back: start over
                with self._lock:
                    city = self._cities[fresh.org_id] = _City(lock=city.lock)
            city.refresh_catalogue(conn, fresh)
            city.fold(conn, fresh)
            city.snapshot = city.build(fresh)
            return city.snapshot


def with_period_followups(
    conn: Connection, ledger: SummaryLedger, org_id: int, periods: Iterable[str], upto: int | None = None
) -> SummaryLedger:
    """A read model's ledger (`CitySnapshot.ledger`) with every follow-up of
    `periods` in it, up to the follow-up `seq` the snapshot saw (`upto`; None: all
    committed, for a writer under the city's write lock that has added none yet):
    what a follow-up round reads (who answered its period, and what) without the
    rows of every other period. Balances and statuses stay those of the whole
    ledger: the latest follow-up of each measure and year is already in it."""
    wanted = sorted(set(periods))
    if not wanted:
        return ledger
    c = _followups.c
    query = select(_followups).where(c.org_id == org_id, c.period.in_(wanted))
    if upto is not None:
        query = query.where(c.seq <= upto)
    merged = {f.seq: f for f in ledger.followups}
    merged.update((r.seq, followup_from_row(r)) for r in conn.execute(query))  # type: ignore[arg-type]  # a Core row, with the columns of the row class it names
    return SummaryLedger(
        replace(ledger, followups=tuple(sorted(merged.values(), key=lambda f: (f.seq, f.at))))
    )


def round_ledger(conn: Connection, snapshot: CitySnapshot, periods: Iterable[str]) -> SummaryLedger:
    """`with_period_followups` of a snapshot, as far as it sees."""
    fresh = snapshot.freshness
    return with_period_followups(conn, snapshot.ledger, fresh.org_id, periods, fresh.followup_seq)


_REGISTRY: WeakKeyDictionary[Engine, ReadModels] = WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def read_models(engine: Engine) -> ReadModels:
    """This process's read models of the database behind `engine`."""
    models = _REGISTRY.get(engine)
    if models is None:
        with _REGISTRY_LOCK:
            models = _REGISTRY.get(engine)
            if models is None:
                models = _REGISTRY[engine] = ReadModels()
    return models
