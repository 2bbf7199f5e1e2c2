"""The benchmark's databases: the 2025 example, the large generated one
(290 cities x 14 units x 40 measures x 4 follow-ups, about 650 000 follow-up
entries) and one city at 10x, 100x, 1000x the example's ledger rows, on SQLite
and on PostgreSQL.

Generated data is written with bulk inserts (executemany on SQLite, COPY on
PostgreSQL) straight into the migrated tables, following the example's
units, decisions, fund and transfers, so every figure obeys the rules (no
unit gives its measures more than it was transferred, no forecast below its
spend). The large database is built once and cached: an SQLite file under
build/bench/cache/, a template database on PostgreSQL; each benchmark run
works on a copy, since the submit-a-measure dialog writes.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.data_services import load_example
from core.model import Decision, parse_body
from storage.db import make_engine, normalise_url
from storage.examples import read_example
from storage.migrate import upgrade

GENERATOR_VERSION = 2
"""Bump when the generated data changes: cached copies are then rebuilt."""

CITIES = 290
MEASURES_PER_UNIT = 40
FOLLOWUPS_PER_MEASURE = 4
YEAR = 2025

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "bench" / "cache"

_PREFIXES = (
    "Handledarutbildning",
    "Kompetenslyft",
    "Introduktionsprogram",
    "Språkstöd",
    "Digital kompetens",
    "Ledarskapsprogram",
    "Arbetsmiljöutbildning",
    "Mentorskap",
    "Validering",
    "Fortbildning",
    "Traineeprogram",
    "Specialistutbildning",
    "Friskvårdsinsats",
    "Rekryteringsinsats",
    "Kollegialt lärande",
)
_GROUPS = (
    "för undersköterskor",
    "för förskollärare",
    "för nya chefer",
    "för handläggare",
    "för lärare",
    "för vårdbiträden",
    "för barnskötare",
    "för socialsekreterare",
    "för ingenjörer",
    "för administratörer",
    "för bibliotekarier",
    "för fritidsledare",
)


# --- the plan of one city ---------------------------------------------------------


@dataclass
class MeasurePlan:
    key: str
    title: str
    units: list[str]
    parent: str | None
    funding: dict[str, int]
    decision: str | dict[str, str]  # a shared measure: each unit's own decision
    end: date
    status: str
    followups: list[tuple[str, str, int, int]] = field(default_factory=list)
    """(period, status, spent, forecast), oldest first."""


def _decision_of(m: MeasurePlan, unit: str) -> str:
    return m.decision[unit] if isinstance(m.decision, dict) else m.decision


@dataclass
class CityPlan:
    slug: str
    name: str
    example: dict[str, Any]
    measures: list[MeasurePlan]
    split: int = 1
    """Each funding is written as this many entries adding up to it."""


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _example_measures(example: dict[str, Any]) -> list[MeasurePlan]:
    plans = []
    followups: dict[str, list[dict[str, Any]]] = {}
    for f in example.get("followups", ()):
        followups.setdefault(f["measure"], []).append(f)
    for m in example["measures"]:
        plan = MeasurePlan(
            key=m["key"],
            title=m["title"],
            units=list(m["units"]),
            parent=m.get("parent"),
            funding=dict(m.get("funding", {})),
            decision=m["decision"],
            end=_d(m.get("end")) or date(YEAR, 12, 31),
            status=m.get("status", "Ej påbörjad"),
        )
        for f in followups.get(m["key"], ()):
            plan.followups.append((f["period"], f["status"], f["spent"], f["forecast"]))
        plans.append(plan)
    return plans


def large_city(index: int, example: dict[str, Any]) -> CityPlan:
    """City `index`: the example's units, fund and transfers; per unit 40 measures
    (the example's own, then generated ones), each with four follow-ups."""
    allocations = {a["unit"]: a["amount"] for a in example["allocations"]}
    own = _example_measures(example)
    by_unit: dict[str, list[MeasurePlan]] = {}
    for m in own:
        by_unit.setdefault(m.units[0], []).append(m)
    decision_of = {m.units[0]: _decision_of(m, m.units[0]) for m in own}
    measures: list[MeasurePlan] = []
    for u_index, unit in enumerate(u["code"] for u in example["units"]):
        mine = by_unit.get(unit, [])[:MEASURES_PER_UNIT]
        given = sum(m.funding.get(unit, 0) for m in own if unit in m.units)
        extra = MEASURES_PER_UNIT - len(mine)
        each = (allocations.get(unit, 0) - given) * 8 // 10 // max(extra, 1) // 1000 * 1000
        for n in range(extra):
            combo = (u_index * 7 + n) % (len(_PREFIXES) * len(_GROUPS))
            title = f"{_PREFIXES[combo % len(_PREFIXES)]} {_GROUPS[combo // len(_PREFIXES)]}"
            if n >= len(_PREFIXES) * len(_GROUPS) // 2:
                title += f" omgång {n}"
            mine.append(
                MeasurePlan(
                    key=f"gen-{unit}-{n}",
                    title=title,
                    units=[unit],
                    parent=None,
                    funding={unit: each} if each > 0 else {},
                    decision=decision_of.get(unit, "ksau-2025-02-24"),
                    end=date(YEAR, 12, 31) if n % 5 else date(YEAR, 9, 30),
                    status="Pågående",
                )
            )
        for n, m in enumerate(mine):
            allocated = sum(m.funding.values())
            m.followups = [
                (f"{YEAR}-{month:02d}", status, allocated * spent // 100, allocated * 97 // 100)
                for month, spent, status in (
                    (3, 10, "Pågående"),
                    (6, 30, "Pågående"),
                    (9, 55, "Pågående"),
                    (12, 85, "Klar" if n % 4 == 0 else "Pågående"),
                )
            ][:FOLLOWUPS_PER_MEASURE]
        measures += mine
    slug = "malmo" if index == 0 else f"stad-{index:03d}"
    name = "Malmö stad" if index == 0 else f"Stad {index:03d}"
    return CityPlan(slug, name, example, measures)


def grown_city(factor: int, example: dict[str, Any]) -> CityPlan:
    """The example city with `factor` times its ledger rows and follow-ups, and the
    same answers: each grant written as `factor` entries adding up to it, and
    before each follow-up `factor - 1` earlier ones (earlier periods, so the
    latest is the same)."""
    measures = _example_measures(example)
    for m in measures:
        if not m.followups or factor == 1:
            continue
        period, status, spent, forecast = m.followups[-1]
        last_month = int(period[5:])
        earlier = []
        for n in range(factor - 1):
            month = 1 + n % max(last_month - 1, 1)
            earlier.append((f"{period[:4]}-{month:02d}", "Pågående", spent * month // 12, forecast))
        earlier.sort()
        m.followups = earlier + m.followups
    return CityPlan("malmo", "Malmö stad", example, measures, split=factor)


# --- rows ----------------------------------------------------------------------------


@dataclass
class Ids:
    org: int = 0
    unit: int = 0
    decision: int = 0
    measure: int = 0
    entry: int = 0
    followup: int = 0


TABLES: dict[str, tuple[str, ...]] = {
    "organisations": ("id", "slug", "name", "ledger_version", "created_at"),
    "units": ("id", "org_id", "code", "name", "aliases"),
    "decisions": (
        "id",
        "org_id",
        "body",
        "reference",
        "decided_on",
        "paragraph",
        "case_number",
        "title",
    ),
    "measures": (
        "id",
        "org_id",
        "year",
        "title",
        "units",
        "description",
        "target_group",
        "categories",
        "requested",
        "cost",
        "in_base_budget",
        "performer",
        "start_date",
        "end_date",
        "status",
        "parent_id",
        "kom_kr",
        "responsible",
        "evaluation",
        "created_by",
        "created_at",
    ),
    "ledger_entries": (
        "id",
        "org_id",
        "seq",
        "kind",
        "year",
        "unit_code",
        "measure_id",
        "to_measure_id",
        "amount",
        "recurring",
        "last_year",
        "ends_seq",
        "decision_id",
        "author",
        "created_at",
    ),
    "followups": (
        "id",
        "org_id",
        "seq",
        "measure_id",
        "period",
        "status",
        "spent",
        "forecast",
        "usable_as_planned",
        "note",
        "author",
        "created_at",
    ),
    "tenants": ("tenant_id", "org_id", "created_at"),
}


def city_rows(plan: CityPlan, ids: Ids) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of one city, with ids continuing from `ids`."""
    ex = plan.example
    at = datetime(YEAR, 3, 5, 12, 0, tzinfo=UTC)
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLES}
    ids.org += 1
    org = ids.org
    rows["organisations"].append((org, plan.slug, plan.name, 0, at))
    rows["tenants"].append((f"tenant-{plan.slug}", org, at))
    for u in ex["units"]:
        ids.unit += 1
        rows["units"].append((ids.unit, org, u["code"], u["name"], "|".join(u.get("aliases", ()))))
    decision_ids: dict[str, int] = {}
    for key, d in ex["decisions"].items():
        decision = Decision(
            parse_body(d["body"]), _d(d.get("date")), d.get("paragraph"), d.get("case_number"), d.get("title")
        )
        ids.decision += 1
        decision_ids[key] = ids.decision
        rows["decisions"].append(
            (
                ids.decision,
                org,
                d["body"],
                decision.reference,
                decision.date,
                decision.paragraph,
                decision.case_number,
                decision.title,
            )
        )
    seq = 0

    def entry(
        kind: str,
        decision: str,
        *,
        year: int | None = YEAR,
        unit: str | None = None,
        measure: int | None = None,
        amount: int | None = None,
        recurring: bool = False,
    ) -> None:
        nonlocal seq
        seq += 1
        ids.entry += 1
        rows["ledger_entries"].append(
            (
                ids.entry,
                org,
                seq,
                kind,
                year,
                unit,
                measure,
                None,
                amount,
                recurring,
                None,
                None,
                decision_ids[decision],
                "benchmark",
                at,
            )
        )

    for f in ex["funds"]:
        entry("fund", f["decision"], year=f["year"], amount=f["amount"])
    for a in ex["allocations"]:
        entry(
            "allocation",
            a["decision"],
            year=a["year"],
            unit=a["unit"],
            amount=a["amount"],
            recurring=a.get("recurring", False),
        )
    measure_ids: dict[str, int] = {}
    fseq = 0
    for m in plan.measures:
        ids.measure += 1
        measure_ids[m.key] = ids.measure
        rows["measures"].append(
            (
                ids.measure,
                org,
                YEAR,
                m.title,
                "|".join(m.units),
                "",
                "",
                "",
                None,
                None,
                False,
                "",
                date(YEAR, 2, 1),
                m.end,
                m.status,
                measure_ids.get(m.parent) if m.parent else None,
                False,
                None,
                "",
                "benchmark",
                at,
            )
        )
        for unit, amount in m.funding.items():
            parts = [amount // plan.split] * plan.split
            parts[0] += amount - sum(parts)
            for part in parts:
                entry("measure_funding", _decision_of(m, unit), unit=unit, measure=ids.measure, amount=part)
        for period, status, spent, forecast in m.followups:
            fseq += 1
            ids.followup += 1
            month = int(period[5:])
            rows["followups"].append(
                (
                    ids.followup,
                    org,
                    fseq,
                    ids.measure,
                    period,
                    status,
                    spent,
                    forecast,
                    True,
                    "Enligt plan",
                    "HR",
                    datetime(int(period[:4]), month, 15, 10, 0, tzinfo=UTC),
                )
            )
    return rows


# --- writing -------------------------------------------------------------------------------


def _batches(plans: Iterable[CityPlan], size: int = 20) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    ids = Ids()
    batch: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLES}
    count = 0
    for plan in plans:
        for name, rows in city_rows(plan, ids).items():
            batch[name] += rows
        count += 1
        if count % size == 0:
            yield batch
            batch = {name: [] for name in TABLES}
    if any(batch.values()):
        yield batch


def _write_sqlite(path: Path, plans: Iterable[CityPlan]) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        for batch in _batches(plans):
            for name, columns in TABLES.items():
                if batch[name]:
                    sql = (
                        f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                    )
                    conn.executemany(sql, [tuple(_sqlite_value(v) for v in row) for row in batch[name]])
            conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
    finally:
        conn.close()


def _sqlite_value(value: Any) -> Any:
    # SQLAlchemy stores datetimes and dates on SQLite as ISO text.
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _write_postgres(url: str, plans: Iterable[CityPlan]) -> None:
    import psycopg

    with psycopg.connect(_libpq(url)) as conn:
        for batch in _batches(plans):
            with conn.cursor() as cur:
                for name, columns in TABLES.items():
                    if not batch[name]:
                        continue
                    with cur.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in batch[name]:
                            copy.write_row(row)
            conn.commit()
        with conn.cursor() as cur:
            for name in ("organisations", "units", "decisions", "measures", "ledger_entries", "followups"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                )
        conn.commit()
        # What autovacuum keeps up on a live database (it is off on this machine's
        # server): statistics, and the visibility map that lets the per-turn counts
        # and maxima read their indexes alone instead of every row's page.
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def _libpq(url: str) -> str:
    return normalise_url(url).replace("postgresql+psycopg://", "postgresql://")


# --- the databases ---------------------------------------------------------------------------


def _pg_admin(base_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(_libpq(base_url), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _pg_url(base_url: str, database: str) -> str:
    head, _, _ = _libpq(base_url).rpartition("/")
    return f"{head}/{database}"


def _pg_exists(base_url: str, database: str) -> bool:
    import psycopg

    with psycopg.connect(_libpq(base_url), autocommit=True) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is not None
        )


def _pg_fresh(base_url: str, database: str, template: str | None = None) -> str:
    _pg_admin(
        base_url,
        f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
        f'CREATE DATABASE "{database}"' + (f' TEMPLATE "{template}"' if template else ""),
    )
    return _pg_url(base_url, database)


def _migrated(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def example_database(kind: str, workdir: Path, pg_base: str) -> str:
    """A fresh database with the 2025 example, loaded through the core's commands."""
    if kind == "sqlite":
        path = workdir / "example.sqlite"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        url = _pg_fresh(pg_base, "kbench_example")
    engine = make_engine(url)
    try:
        upgrade(engine)
        load_example(engine, "malmo-2025")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO tenants (tenant_id, org_id, created_at) "
                    "SELECT 'tenant-malmo', id, created_at FROM organisations WHERE slug = 'malmo'"
                )
            )
    finally:
        engine.dispose()
    return url


def _generated(kind: str, name: str, plans: Any, workdir: Path, pg_base: str, log: Any) -> str:
    """A working copy of a generated database, built once and cached."""
    tag = f"{name}-v{GENERATOR_VERSION}"
    if kind == "sqlite":
        CACHE.mkdir(parents=True, exist_ok=True)
        cached = CACHE / f"{tag}.sqlite"
        if not cached.exists():
            started = time.monotonic()
            building = cached.with_suffix(".building")
            building.unlink(missing_ok=True)
            _migrated(f"sqlite:///{building}")
            _write_sqlite(building, plans())
            building.rename(cached)
            log(f"generated {cached.relative_to(ROOT)} in {time.monotonic() - started:.1f} s")
        _migrated(f"sqlite:///{cached}")  # later migrations (indexes) on the cached copy
        work = workdir / f"{name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{work}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(cached, work)
        return f"sqlite:///{work}"
    template = f"kbench_{tag}".replace("-", "_")
    if not _pg_exists(pg_base, template):
        started = time.monotonic()
        building_db = template + "_building"
        url = _pg_fresh(pg_base, building_db)
        _migrated(url)
        _write_postgres(url, plans())
        _pg_admin(pg_base, f'ALTER DATABASE "{building_db}" RENAME TO "{template}"')
        log(f"generated PostgreSQL database {template} in {time.monotonic() - started:.1f} s")
    _migrated(_pg_url(pg_base, template))
    return _pg_fresh(pg_base, f"kbench_{name}".replace("-", "_"), template=template)


def large_database(kind: str, workdir: Path, pg_base: str, log: Any = print) -> str:
    example = read_example("malmo-2025")
    return _generated(
        kind, "large", lambda: (large_city(i, example) for i in range(CITIES)), workdir, pg_base, log
    )


def grown_database(kind: str, factor: int, workdir: Path, pg_base: str, log: Any = print) -> str:
    example = read_example("malmo-2025")
    return _generated(kind, f"grown-{factor}x", lambda: [grown_city(factor, example)], workdir, pg_base, log)


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: int(conn.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one())
                for name in ("organisations", "measures", "ledger_entries", "followups")
            }
    finally:
        engine.dispose()


def drop_working_copies(workdir: Path, pg_base: str | None) -> None:
    """The run's copies of the databases (the cached ones stay): SQLite files in
    `workdir`, the PostgreSQL databases kbench_* that are not templates."""
    for path in workdir.glob("*.sqlite*"):
        path.unlink(missing_ok=True)
    if not pg_base:
        return
    import psycopg

    with psycopg.connect(_libpq(pg_base), autocommit=True) as conn:
        names = [
            row[0]
            for row in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'kbench%%'")
            if not row[0].endswith(f"_v{GENERATOR_VERSION}")
        ]
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
