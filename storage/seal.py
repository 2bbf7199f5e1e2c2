"""The ledger's seal: a keyed hash chain per city.

Every ledger entry, follow-up, measure, decision, role grant and role
revocation is sealed when it is written, in the same transaction: its link is

    link = HMAC-SHA256(key, previous link || canonical bytes of the row)

stored in the append-only table `seals` (org_id, seq, kind, row_id, link).
The canonical bytes are the row's STORED fields (ids, codes, integer kronor,
ISO dates and UTC times, NFC text; never a rendered label) as sorted-key
JSON, so SQLite and PostgreSQL give the same bytes. The key
(KOMPETENSBOT_LEDGER_KEY) is kept outside the database: whoever owns the
tables can change a row behind the triggers, but cannot compute the link
that would make the change pass `verify`.

Without KOMPETENSBOT_LEDGER_KEY the development key below is used (demo,
tests, a command line on a laptop): anyone can recompute that chain, so it
proves nothing, and `kompetensbot validate` says so. The database keeps the
fingerprint of the key in use (HMAC of a fixed label, never the key) in
`seal_keys`; a writer with another key is refused instead of forking the
chain. The one change allowed is from the development key to a real one,
from the next seal on (`kompetensbot db upgrade` with the key set).

Writers in a city are serialised by the city's row lock (storage.unit_of_work),
so reading the chain's head and appending to it cannot race.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine

from core.errors import DomainError, RuleError
from core.money import format_amount
from storage.tables import (
    DecisionRow,
    FollowUpRow,
    LedgerEntryRow,
    MeasureRow,
    NeedEntryRow,
    OrganisationRow,
    RoleGrantRow,
    RoleRevocationRow,
    SealKeyRow,
    SealRow,
    SubstitutionRow,
    utcnow,
)
from storage.tables import table as table_of

KEY_VARIABLE = "KOMPETENSBOT_LEDGER_KEY"

DEVELOPMENT_KEY = "kompetensbot-utvecklingsnyckel-skyddar-ingenting"
"""The key used without KOMPETENSBOT_LEDGER_KEY. It is public (it is here),
so a chain sealed with it detects mistakes, not tampering."""

MIN_KEY_LENGTH = 32

_FINGERPRINT_LABEL = b"kompetensbot ledger key fingerprint v1"

_seals = table_of(SealRow)
_keys = table_of(SealKeyRow)

# What each kind seals: its table and the stored fields, in the v1 form.
# A later column is not sealed until a new version of this list says so.
FIELDS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "ledger": (
        table_of(LedgerEntryRow),
        (
            "id", "org_id", "seq", "kind", "year", "unit_code", "measure_id", "to_measure_id",
            "amount", "recurring", "last_year", "ends_seq", "decision_id", "author", "author_id",
            "created_at",
        ),
    ),
    "followup": (
        table_of(FollowUpRow),
        (
            "id", "org_id", "seq", "measure_id", "period", "status", "spent", "forecast",
            "usable_as_planned", "note", "author", "author_id", "created_at",
        ),
    ),
    "measure": (
        table_of(MeasureRow),
        (
            "id", "org_id", "year", "title", "units", "description", "target_group", "categories",
            "requested", "cost", "in_base_budget", "performer", "start_date", "end_date", "status",
            "parent_id", "kom_kr", "responsible", "evaluation", "created_by", "created_at",
        ),
    ),
    "decision": (
        table_of(DecisionRow),
        ("id", "org_id", "body", "reference", "decided_on", "paragraph", "case_number", "title"),
    ),
    "grant": (
        table_of(RoleGrantRow),
        ("id", "org_id", "user_id", "role", "unit_code", "granted_by", "created_at"),
    ),
    "revoke": (
        table_of(RoleRevocationRow),
        (
            "id", "org_id", "grant_id", "user_id", "role", "unit_code", "granted_by",
            "granted_at", "revoked_by", "created_at",
        ),
    ),
    "need": (  # issue 21, migration 0014: sealed from its first row
        table_of(NeedEntryRow),
        (
            "id", "org_id", "seq", "kind", "need_key", "unit_code", "area", "role", "ssyk",
            "need_kind", "competence", "people", "retirements", "recruitment", "period_first",
            "period_last", "source", "source_date", "assessed", "measure_id", "share", "note",
            "author", "author_id", "created_at",
        ),
    ),
    "substitution": (  # issue 22, migration 0015: sealed from its first row
        table_of(SubstitutionRow),
        (
            "id", "org_id", "seq", "kind", "absent", "substitute", "first_day", "last_day", "units",
            "ends", "ended_on", "author", "author_id", "created_at",
        ),
    ),
}  # fmt: skip

# Columns added later, sealed only where they hold a value: a row that leaves
# them NULL (every row written before them) keeps the bytes it was sealed by.
WHEN_SET: dict[str, tuple[str, ...]] = {
    "decision": ("delegate",),  # who decided under delegation (migration 0011)
    "followup": ("reached", "for_id", "for_name"),  # people reached (0014); answered for (0015)
}


def _names(kind: str, later: bool = True) -> tuple[str, ...]:
    """The columns read to seal or check a row of this kind (`later`: with the
    columns of WHEN_SET; migration 0008 seals before they exist, all NULL)."""
    return FIELDS[kind][1] + (WHEN_SET.get(kind, ()) if later else ())


KIND_NAMES = {
    "ledger": "liggarpost",
    "followup": "uppföljning",
    "measure": "insats",
    "decision": "beslut",
    "grant": "rolltilldelning",
    "revoke": "återkallad roll",
    "need": "behovspost",
    "substitution": "ersättarpost",
}


@dataclass(frozen=True, slots=True)
class LedgerKey:
    """The key of the chain and whether it is the public development key."""

    secret: bytes = field(repr=False)
    development: bool

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.secret)


def fingerprint(secret: bytes) -> str:
    return hmac.new(secret, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


def ledger_key(environ: Mapping[str, str] | None = None) -> LedgerKey:
    """The key from KOMPETENSBOT_LEDGER_KEY, or the development key."""
    value = (environ if environ is not None else os.environ).get(KEY_VARIABLE, "")
    if value:
        return LedgerKey(value.encode("utf-8"), development=False)
    return LedgerKey(DEVELOPMENT_KEY.encode("utf-8"), development=True)


DEVELOPMENT_FINGERPRINT = fingerprint(DEVELOPMENT_KEY.encode("utf-8"))


def key_problem(value: str | None) -> str | None:
    """Why `value` cannot be the production key, in Swedish (None: it can)."""
    if not value:
        return (
            f"{KEY_VARIABLE} saknas: med inloggningsuppgifter startar servern bara med en egen "
            "nyckel för liggarens sigill, hållen utanför databasen. Skapa en med "
            "\"python -c 'import secrets; print(secrets.token_hex(32))'\" och ange samma "
            "nyckel för kompetensbot db upgrade, serve och validate."
        )
    if len(value) < MIN_KEY_LENGTH:
        return f"{KEY_VARIABLE} är för kort: minst {MIN_KEY_LENGTH} tecken krävs."
    if value == DEVELOPMENT_KEY:
        return f"{KEY_VARIABLE} är utvecklingsnyckeln, som alla kan läsa: välj en egen."
    return None


# --- canonical bytes ---------------------------------------------------------


def _value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, datetime):
        at = value if value.tzinfo else value.replace(tzinfo=UTC)
        return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    raise TypeError(f"cannot seal a value of type {type(value).__name__}")


def canonical(kind: str, row: Mapping[str, Any]) -> bytes:
    """The bytes a row is sealed by: its kind and stored fields as sorted-key JSON."""
    names = FIELDS[kind][1]
    fields = {name: _value(row[name]) for name in names}
    fields.update({name: _value(row[name]) for name in WHEN_SET.get(kind, ()) if row.get(name) is not None})
    document = {"kind": kind, "row": fields}
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def next_link(secret: bytes, previous: str, payload: bytes) -> str:
    return hmac.new(secret, bytes.fromhex(previous) + payload, hashlib.sha256).hexdigest()


def _grant_from_revocation(row: Mapping[str, Any]) -> dict[str, Any]:
    """A deleted grant as its revocation kept it."""
    return {
        "id": row["grant_id"],
        "org_id": row["org_id"],
        "user_id": row["user_id"],
        "role": row["role"],
        "unit_code": row["unit_code"],
        "granted_by": row["granted_by"],
        "created_at": row["granted_at"],
    }


# --- the key in the database ---------------------------------------------


class LedgerKeyMismatch(DomainError):
    """The process's key is not the one the database is sealed with."""


def _key_rows(conn: Connection) -> list[Any]:
    return list(conn.execute(select(_keys).order_by(_keys.c.id)).all())


def mismatch(stored: str, key: LedgerKey) -> LedgerKeyMismatch:
    if stored == DEVELOPMENT_FINGERPRINT:
        why = (
            "databasen är förseglad med utvecklingsnyckeln. Byt till din nyckel genom att köra "
            f"kompetensbot db upgrade med {KEY_VARIABLE} satt, innan servern startas."
        )
    elif key.development:
        why = f"databasen är förseglad med en egen nyckel och {KEY_VARIABLE} saknas här."
    else:
        why = f"{KEY_VARIABLE} är inte den nyckel databasen förseglades med."
    return LedgerKeyMismatch(
        RuleError(
            "ledger_key_mismatch",
            f"Liggarens sigill: {why} Nyckelns fingeravtryck i databasen är {stored[:16]}, "
            f"den här processens {key.fingerprint[:16]}. Inget sparades.",
        )
    )


_CHECKED = "kompetensbot.seal_key_checked"
"""conn.info's note of the transaction whose key was checked, and the key's
fingerprint: a write of several rows checks the key once, not once a row."""


def check_key(conn: Connection, key: LedgerKey) -> None:
    """Refuse a writer whose key is not the database's; store the key's
    fingerprint when the database has none yet. Once per transaction."""
    transaction = conn.get_transaction()
    checked = conn.info.get(_CHECKED)
    if transaction is not None and checked is not None and checked[0] is transaction:
        if checked[1] == key.fingerprint:
            return
    _check_key(conn, key)
    if transaction is not None:
        conn.info[_CHECKED] = (transaction, key.fingerprint)


def _check_key(conn: Connection, key: LedgerKey) -> None:
    rows = _key_rows(conn)
    if not rows:
        conn.execute(
            insert(_keys).values(
                fingerprint=key.fingerprint, development=key.development, since_seal=0, created_at=utcnow()
            )
        )
        return
    if rows[-1].fingerprint != key.fingerprint:
        raise mismatch(rows[-1].fingerprint, key)


def adopt_key(conn: Connection, key: LedgerKey) -> bool:
    """Seal with `key` from the next seal on, when the database is sealed with
    the development key (or not yet at all). True when the key was adopted."""
    rows = _key_rows(conn)
    if rows and rows[-1].fingerprint == key.fingerprint:
        return False
    if rows and not rows[-1].development:
        raise mismatch(rows[-1].fingerprint, key)
    since = conn.execute(select(func.coalesce(func.max(_seals.c.id), 0))).scalar_one() + 1
    conn.execute(
        insert(_keys).values(
            fingerprint=key.fingerprint, development=key.development, since_seal=since, created_at=utcnow()
        )
    )
    return True


def adopt_key_in(engine: Engine, key: LedgerKey) -> bool:
    """`adopt_key` in a transaction of its own (`kompetensbot db`)."""
    with engine.begin() as conn:
        return adopt_key(conn, key)


# --- sealing ---------------------------------------------------------------


def stored_row(conn: Connection, kind: str, row_id: int, later: bool = True) -> Mapping[str, Any]:
    table = FIELDS[kind][0]
    row = conn.execute(select(*(table.c[n] for n in _names(kind, later))).where(table.c.id == row_id)).one()
    found: Mapping[str, Any] = row._mapping  # type: ignore[assignment]  # a RowMapping is a Mapping, its keys are str here
    return found


def seal(
    conn: Connection, org_id: int, kind: str, row_id: int, key: LedgerKey | None = None, later: bool = True
) -> str:
    """Append the row's link to its city's chain; the new head. `later`: see _names."""
    key = key or ledger_key()
    check_key(conn, key)
    head = conn.execute(
        select(_seals.c.seq, _seals.c.link)
        .where(_seals.c.org_id == org_id)
        .order_by(_seals.c.seq.desc())
        .limit(1)
    ).first()
    seq, previous = (head.seq, head.link) if head is not None else (0, "")
    link = next_link(key.secret, previous, canonical(kind, stored_row(conn, kind, row_id, later)))
    conn.execute(
        insert(_seals).values(
            org_id=org_id, seq=seq + 1, kind=kind, row_id=row_id, link=link, created_at=utcnow()
        )
    )
    return link


def seal_existing(conn: Connection, key: LedgerKey) -> int:
    """Seal every row of every city that has no seal yet (the migration that
    adds the chain), in the order the rows were written: decisions, grants,
    ledger entries and follow-ups by id. The number of rows sealed."""
    check_key(conn, key)
    sealed = {(r.kind, r.row_id) for r in conn.execute(select(_seals.c.kind, _seals.c.row_id)).all()}
    count = 0
    orgs = table_of(OrganisationRow)
    for org_id in conn.execute(select(orgs.c.id).order_by(orgs.c.id)).scalars():
        for kind in ("decision", "grant", "revoke", "measure", "ledger", "followup"):
            table = FIELDS[kind][0]
            ids = conn.execute(
                select(table.c.id).where(table.c.org_id == org_id).order_by(table.c.id)
            ).scalars()
            for row_id in list(ids):
                if (kind, row_id) not in sealed:
                    seal(conn, org_id, kind, row_id, key, later=False)
                    count += 1
    return count


# --- checking ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """The first place where the chain and the rows disagree."""

    kind: str
    row_id: int
    seq: int | None
    message: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """One city's chain as `verify` found it.

    Attributes:
      org_id, slug: the city.
      length: seals in the chain; head: the last link ("" for none).
      problems: the first link that does not match, then rows without a seal.
      development: some links are made with the public development key.
      unverifiable: the links made with a key this process does not have.
    """

    org_id: int
    slug: str
    length: int
    head: str
    problems: tuple[Problem, ...]
    development: bool
    unverifiable: bool


def _key_for(keys: list[Any], seal_id: int) -> Any:
    chosen = keys[0]
    for k in keys:
        if k.since_seal <= seal_id:
            chosen = k
    return chosen


ENTRY_NAMES = {
    "fund": "anslag",
    "allocation": "överföring",
    "allocation_end": "slut på överföring",
    "measure_funding": "beviljat till insats",
    "reallocation": "omfördelning",
}


NEED_ENTRY_NAMES = {"need": "behov", "link": "koppling av behov", "unlink": "avslutad koppling av behov"}


def _describe(kind: str, row: Mapping[str, Any] | None) -> str:
    """The row as a person recognises it, from what is stored in it now."""
    if row is None:
        return ""
    if kind == "ledger":
        what = ENTRY_NAMES.get(row["kind"], str(row["kind"]))
        if row["amount"] is not None:
            what += f" {format_amount(int(row['amount']))}"
        if row["year"] is not None:
            what += f" för {row['year']}"
        return f" nr {row['seq']} ({what})"
    if kind == "followup":
        return (
            f" nr {row['seq']} (insats {row['measure_id']}, {row['period']}, "
            f"utfall {format_amount(int(row['spent']))})"
        )
    if kind == "decision":
        return f" {row['reference']}"
    if kind == "measure":
        return f' "{row["title"]}" ({row["units"].replace("|", ", ")} {row["year"]})'
    if kind == "need":
        what = NEED_ENTRY_NAMES.get(row["kind"], str(row["kind"]))
        measure = f", insats {row['measure_id']}" if row["measure_id"] is not None else ""
        return f" nr {row['seq']} ({what} {row['need_key']}{measure})"
    if kind == "substitution":
        what = "ersättare" if row["kind"] == "set" else f"avslutad ersättare nr {row['ends']}"
        return f" nr {row['seq']} ({what} för {row['absent']})"
    return f" {row['role']} för {row['user_id']}"


def verify(conn: Connection, org_id: int, key: LedgerKey | None = None) -> ChainReport:
    """Recompute a city's chain from its rows and compare every link."""
    key = key or ledger_key()
    orgs = table_of(OrganisationRow)
    slug = conn.execute(select(orgs.c.slug).where(orgs.c.id == org_id)).scalar_one()
    keys = _key_rows(conn)
    rows: dict[str, dict[int, Mapping[str, Any]]] = {}
    for kind, (table, _) in FIELDS.items():
        result = conn.execute(select(*(table.c[n] for n in _names(kind))).where(table.c.org_id == org_id))
        rows[kind] = {r.id: r._mapping for r in result}  # type: ignore[misc]  # a RowMapping is a Mapping, its keys are str here
    revoked = {r["grant_id"]: _grant_from_revocation(r) for r in rows["revoke"].values()}
    seals = conn.execute(select(_seals).where(_seals.c.org_id == org_id).order_by(_seals.c.seq)).all()
    problems: list[Problem] = []
    real = False
    for k in keys:  # the development key may only come first: never back to it
        if not k.development:
            real = True
        elif real:
            problems.append(
                Problem(
                    "key",
                    k.id,
                    None,
                    f"sigillet byter tillbaka till utvecklingsnyckeln från sigill-id {k.since_seal}, "
                    "vilket kompetensbot aldrig gör: någon har skrivit i seal_keys",
                )
            )
    previous = ""
    development = unverifiable = False
    seen: set[tuple[str, int]] = set()
    expected_seq = 1
    for s in seals:
        seen.add((s.kind, s.row_id))
        if problems or unverifiable:
            continue
        name = KIND_NAMES.get(s.kind, s.kind)
        if s.seq != expected_seq:
            problems.append(
                Problem(s.kind, s.row_id, s.seq, f"sigill nr {expected_seq} saknas (nästa är nr {s.seq})")
            )
            continue
        expected_seq += 1
        signer = _key_for(keys, s.id) if keys else None
        if signer is None:
            problems.append(Problem(s.kind, s.row_id, s.seq, "databasen saknar nyckelns fingeravtryck"))
            continue
        if signer.development:
            secret = DEVELOPMENT_KEY.encode()
            development = True
        elif signer.fingerprint == key.fingerprint:
            secret = key.secret
        else:
            unverifiable = True
            continue
        row = rows.get(s.kind, {}).get(s.row_id)
        if row is None and s.kind == "grant":
            row = revoked.get(s.row_id)
        if row is None:
            problems.append(
                Problem(s.kind, s.row_id, s.seq, f"{name} med id {s.row_id} finns inte längre i databasen")
            )
            continue
        link = next_link(secret, previous, canonical(s.kind, row))
        if not hmac.compare_digest(link, s.link):
            problems.append(
                Problem(
                    s.kind,
                    s.row_id,
                    s.seq,
                    f"{name}{_describe(s.kind, row)} (id {s.row_id}) stämmer inte med sitt sigill: "
                    "raden har ändrats, ersatts eller flyttats efter att den skrevs",
                )
            )
            continue
        previous = s.link
    for kind in ("ledger", "followup", "measure", "decision", "grant", "revoke", "need", "substitution"):
        for row_id, row in sorted(rows.get(kind, {}).items()):
            if (kind, row_id) not in seen:
                problems.append(
                    Problem(
                        kind,
                        row_id,
                        None,
                        f"{KIND_NAMES[kind]}{_describe(kind, row)} (id {row_id}) saknar sigill: "
                        "den skrevs förbi kompetensbot",
                    )
                )
    head = seals[-1].link if seals else ""
    return ChainReport(org_id, slug, len(seals), head, tuple(problems), development, unverifiable)


def organisations(conn: Connection, slugs: Iterable[str] | None = None) -> list[int]:
    orgs = table_of(OrganisationRow)
    query = select(orgs.c.id).order_by(orgs.c.id)
    if slugs is not None:
        query = query.where(orgs.c.slug.in_(list(slugs)))
    return list(conn.execute(query).scalars())
