"""Follow-up rounds and their sends in the database.

The send protocol (exactly once, as far as Teams allows):

1. `enqueue` inserts one row per due (round, recipient, kind); the unique
   key makes a second tick, or a second process, insert nothing new.
2. `claim` takes pending rows for one process with a fresh token in a
   single UPDATE … RETURNING (PostgreSQL: over rows picked and locked FOR
   UPDATE SKIP LOCKED in a materialized CTE; SQLite: the database's write
   lock): no two processes ever hold the same row, and a claim of n takes
   at most n. A claim older than the lease belongs to a process that
   died mid-send: it is taken again and marked `possibly_repeated`, because
   Teams gives a send no idempotency key and that one send may have gone out.
3. `finish` records the outcome under the claim's token: sent (with the
   activity id, to update the card later), failed, unreachable, or back to
   pending with a time to retry.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from core.errors import NotFound, RuleError, RuleViolation
from core.rounds import BEHALF_SEP, DueSend, ExtraReminder, Round, RoundPlan, SendKind, send_kind
from storage.read_model import (
    CitySnapshot,
    Freshness,
    SummaryLedger,
    freshness,
    read_models,
    round_ledger,
    with_period_followups,
)
from storage.repository import Repository
from storage.tables import (
    ConversationRefRow,
    FollowUpRoundRow,
    FollowUpRow,
    OrganisationRow,
    RoleGrantRow,
    RoundReminderRow,
    RoundSendRow,
    SubstitutionRow,
    TenantRow,
    table,
    utcnow,
)

SEP = "|"

_round = table(FollowUpRoundRow)
_send = table(RoundSendRow)
_reminder = table(RoundReminderRow)
_ref = table(ConversationRefRow)
_grant = table(RoleGrantRow)
_tenant = table(TenantRow)
_subs = table(SubstitutionRow)

_orgs = table(OrganisationRow)
_followups = table(FollowUpRow)


class SendState:
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"  # the connector refused for good (403/404) or retries ran out
    UNREACHABLE = "unreachable"  # no conversation with the person, none could be made
    SKIPPED = "skipped"  # no longer needed: the person answered, or the round closed


def round_from_row(row: Any) -> Round:
    reminders = tuple(date.fromisoformat(d) for d in row.reminders.split(SEP) if d)
    plan = RoundPlan(row.period, row.opens, row.deadline, reminders, row.escalate_on)
    return Round(id=row.id, plan=plan, created_by=row.created_by, closed_at=row.closed_at)


def create_round(conn: Connection, org_id: int, plan: RoundPlan, by: str) -> Round:
    """Store a new round; refused when the city already has one for the period."""
    try:
        with conn.begin_nested():
            result = conn.execute(
                insert(_round)
                .values(
                    org_id=org_id,
                    period=plan.period,
                    opens=plan.opens,
                    deadline=plan.deadline,
                    reminders=SEP.join(d.isoformat() for d in plan.reminders),
                    escalate_on=plan.escalate_on,
                    created_by=by,
                    created_at=utcnow(),
                    closed_by="",
                )
                .returning(_round.c.id)
            )
            new_id = result.scalar_one()
    except IntegrityError:
        raise RuleViolation(
            [
                RuleError(
                    "round_exists",
                    f"Det finns redan en uppföljningsomgång för {plan.period}. "
                    f'Se den med "kompetensbot followup status --period {plan.period}".',
                    "period",
                )
            ]
        ) from None
    return Round(new_id, plan, by)


def find_round(conn: Connection, org_id: int, period: str) -> Round:
    row = conn.execute(select(_round).where(_round.c.org_id == org_id, _round.c.period == period)).first()
    if row is None:
        raise NotFound(
            RuleError(
                "no_round",
                f"Det finns ingen uppföljningsomgång för {period}. Öppna den med "
                f'"kompetensbot followup open --period {period}".',
                "period",
            )
        )
    return round_from_row(row)


def round_by_id(conn: Connection, round_id: int) -> tuple[int, Round] | None:
    """(org id, round) for a round id, or None."""
    row = conn.execute(select(_round).where(_round.c.id == round_id)).first()
    return None if row is None else (row.org_id, round_from_row(row))


def rounds(
    conn: Connection, org_id: int | None = None, *, open_only: bool = False
) -> list[tuple[int, Round]]:
    """(org id, round) pairs, oldest first."""
    query = select(_round)
    if org_id is not None:
        query = query.where(_round.c.org_id == org_id)
    if open_only:
        query = query.where(_round.c.closed_at.is_(None))
    rows = conn.execute(query.order_by(_round.c.id)).all()
    return [(r.org_id, round_from_row(r)) for r in rows]


def close_round(conn: Connection, round_id: int, by: str, at: datetime, *, org_id: int | None = None) -> bool:
    """Close a round (of the city `org_id`, when given); False when it was
    already closed, or is not one of that city's."""
    query = update(_round).where(_round.c.id == round_id, _round.c.closed_at.is_(None))
    if org_id is not None:
        query = query.where(_round.c.org_id == org_id)
    result = conn.execute(query.values(closed_at=at, closed_by=by))
    return bool(result.rowcount)


# --- sends --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    id: int
    round_id: int
    org_id: int
    recipient: str
    kind: SendKind
    state: str
    measure_ids: tuple[int, ...]
    units: tuple[str, ...]
    attempts: int
    claim_token: str | None
    possibly_repeated: bool
    activity_id: str | None
    conversation_id: str | None
    reference: dict[str, Any] | None
    marked_answered: bool
    reason: str
    sent_at: datetime | None
    on_behalf: str = ""  # issue 22: the absent person the recipient answers for ("" for their own)


def send_from_row(row: Any) -> Send:
    return Send(
        id=row.id,
        round_id=row.round_id,
        org_id=row.org_id,
        recipient=row.recipient,
        kind=send_kind(row.kind),
        state=row.state,
        measure_ids=tuple(int(m) for m in row.measure_ids.split(SEP) if m),
        units=tuple(u for u in row.units.split(SEP) if u),
        attempts=row.attempts,
        claim_token=row.claim_token,
        possibly_repeated=bool(row.possibly_repeated),
        activity_id=row.activity_id,
        conversation_id=row.conversation_id,
        reference=json.loads(row.reference) if row.reference else None,
        marked_answered=bool(row.marked_answered),
        reason=row.reason,
        sent_at=row.sent_at,
        on_behalf=row.on_behalf or "",
    )


def recorded_keys(conn: Connection, round_id: int, *, org_id: int | None = None) -> set[tuple[str, str]]:
    """(recipient, kind) of every send the round (of the city `org_id`, when
    given) has recorded, in any state: the kind as a SendKind, a send on behalf
    of someone (issue 22) as stored, with the absent person's key (DueSend.stored_kind)."""
    query = select(_send.c.recipient, _send.c.kind).where(_send.c.round_id == round_id)
    if org_id is not None:
        query = query.where(_send.c.org_id == org_id)
    rows = conn.execute(query).all()
    return {(r.recipient, r.kind if BEHALF_SEP in r.kind else send_kind(r.kind)) for r in rows}


def _insert_ignoring_duplicates(conn: Connection, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dialect = conn.dialect.name
    stmt: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        stmt = postgresql.insert(_send).on_conflict_do_nothing(
            index_elements=["round_id", "recipient", "kind"]
        )
    elif dialect == "sqlite":
        stmt = sqlite.insert(_send).on_conflict_do_nothing(index_elements=["round_id", "recipient", "kind"])
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    # Counted from RETURNING: psycopg reports no rowcount for a batch of
    # rows (it said 0 new sends on PostgreSQL however many there were).
    result = conn.execute(stmt.returning(_send.c.id), rows)
    return len(result.all())


def enqueue(conn: Connection, round_: Round, org_id: int, dues: Iterable[DueSend]) -> int:
    """Record the due sends; those already recorded are left as they are.
    Returns how many new ones are to be sent (not those recorded as not
    needed, see DueSend.skip_reason)."""
    now = utcnow()
    rows = [
        {
            "round_id": round_.id,
            "org_id": org_id,
            "recipient": d.recipient,
            "kind": d.stored_kind,
            "state": SendState.SKIPPED if d.skip_reason else SendState.PENDING,
            "measure_ids": SEP.join(str(m) for m in d.measure_ids),
            "units": SEP.join(d.units),
            "attempts": 0,
            "possibly_repeated": False,
            "marked_answered": False,
            "reason": d.skip_reason,
            "created_at": now,
            "on_behalf": d.on_behalf,
        }
        for d in dues
    ]
    total = 0
    to_send = [r for r in rows if r["state"] == SendState.PENDING]
    for start in range(0, len(to_send), 500):
        total += _insert_ignoring_duplicates(conn, to_send[start : start + 500])
    not_needed = [r for r in rows if r["state"] != SendState.PENDING]
    for start in range(0, len(not_needed), 500):
        _insert_ignoring_duplicates(conn, not_needed[start : start + 500])
    return total


def new_token() -> str:
    return uuid.uuid4().hex


def _ready(now: Any) -> Any:
    """A send that may be claimed at `now`: pending and due, or claimed longer ago
    than the lease (bound as `stale_before`)."""
    return or_(
        and_(
            _send.c.state == SendState.PENDING,
            or_(_send.c.not_before.is_(None), _send.c.not_before <= now),
        ),
        and_(
            _send.c.state == SendState.CLAIMED,
            _send.c.claimed_at < bindparam("stale_before", type_=now.type),
        ),
    )


def _claim_statement(by_round: bool, by_org: bool, dialect: str) -> Any:
    """The claim as one UPDATE … RETURNING with bound parameters, built once
    (building it costs more than running it: it runs once per send).

    PostgreSQL: the candidates are picked and locked in a MATERIALIZED CTE,
    evaluated exactly once. Not `id IN (SELECT … LIMIT n FOR UPDATE SKIP
    LOCKED)`: PostgreSQL may run that subquery as the inner side of a
    semi-join, once per outer row, and each run skips the rows the same
    UPDATE has just changed and returns the next one, so one claim with
    limit 1 took every pending send of the round (found by the two-process
    test: one process held all 2 000 sends, the other sent 1). SQLite runs
    an uncorrelated IN subquery once, and one writer at a time."""
    now = bindparam("claim_now", type_=_send.c.claimed_at.type)
    ready = _ready(now)
    candidates = select(_send.c.id).where(ready)
    if by_round:
        candidates = candidates.where(_send.c.round_id.in_(bindparam("round_ids", expanding=True)))
    if by_org:
        candidates = candidates.where(_send.c.org_id == bindparam("claim_org_id", type_=Integer()))
    candidates = (
        candidates.order_by(_send.c.id)
        .limit(bindparam("claim_limit", type_=Integer()))
        .with_for_update(skip_locked=True)
    )
    if dialect == "postgresql":
        # The rows are locked, and rechecked by the lock, in the CTE.
        picked = candidates.cte("picked").prefix_with("MATERIALIZED")
        chosen = _send.c.id == picked.c.id
    else:
        chosen = and_(_send.c.id.in_(candidates.scalar_subquery()), ready)
    return (
        update(_send)
        .where(chosen)
        .values(
            state=SendState.CLAIMED,
            claim_token=bindparam("claim_token_value"),
            claimed_at=now,
            attempts=_send.c.attempts + 1,
            possibly_repeated=case(
                (_send.c.state == SendState.CLAIMED, True),
                else_=_send.c.possibly_repeated,
            ),
        )
        .returning(*_send.columns)
    )


_CLAIM = {
    (by_round, by_org, dialect): _claim_statement(by_round, by_org, dialect)
    for by_round in (False, True)
    for by_org in (False, True)
    for dialect in ("postgresql", "sqlite")
}


def claim(
    engine: Engine,
    *,
    limit: int,
    lease: timedelta,
    token: str,
    now: datetime | None = None,
    round_ids: Iterable[int] | None = None,
    org_id: int | None = None,
) -> list[Send]:
    """Claim up to `limit` sends that are pending (and due) or whose claim is
    older than `lease`, for the holder of `token` (of the city `org_id`, when
    given: the round runner takes the cities in turn, see `claimable_orgs`). A
    send taken over from an expired claim is marked `possibly_repeated`."""
    now = now or utcnow()
    params: dict[str, Any] = {
        "claim_now": now,
        "stale_before": now - lease,
        "claim_limit": limit,
        "claim_token_value": token,
    }
    if round_ids is not None:
        params["round_ids"] = list(round_ids)
    if org_id is not None:
        params["claim_org_id"] = org_id
    with engine.begin() as conn:
        statement = _CLAIM[(round_ids is not None, org_id is not None, conn.dialect.name)]
        rows = conn.execute(statement, params).all()
    return sorted((send_from_row(r) for r in rows), key=lambda s: s.id)


def claimable_orgs(engine: Engine, *, lease: timedelta, now: datetime | None = None) -> list[int]:
    """The cities that have a send to claim now (as `claim` would take it), by id: the
    round runner's rotation, so a large city's thousands of cards do not hold back a
    small city's few (PostgreSQL refuses FOR UPDATE beside a window function, so the
    turns are taken city by city rather than in one ordered claim)."""
    now = now or utcnow()
    now_param = bindparam("claim_now", type_=_send.c.claimed_at.type)
    query = select(_send.c.org_id).where(_ready(now_param)).distinct().order_by(_send.c.org_id)
    with engine.connect() as conn:
        rows = conn.execute(query, {"claim_now": now, "stale_before": now - lease}).all()
    return [int(r[0]) for r in rows]


def release(engine: Engine, sends: Iterable[Send]) -> int:
    """Give claimed sends back at once, unsent (a server stopping): pending again, due
    now, without the claim and without counting the claim as an attempt, so another
    process takes them without waiting for the lease and does not mark them possibly
    repeated. Only sends still held under their claim's token; returns how many."""
    released = 0
    with engine.begin() as conn:
        for send in sends:
            result = conn.execute(
                update(_send)
                .where(
                    _send.c.id == send.id,
                    _send.c.state == SendState.CLAIMED,
                    _send.c.claim_token == send.claim_token,
                )
                .values(
                    state=SendState.PENDING,
                    claim_token=None,
                    claimed_at=None,
                    attempts=_send.c.attempts - 1,
                )
            )
            released += result.rowcount
    return released


def finish(
    engine: Engine,
    send: Send,
    *,
    state: str,
    reason: str = "",
    activity_id: str | None = None,
    reference: dict[str, Any] | None = None,
    retry_at: datetime | None = None,
    possibly_repeated: bool = False,
) -> bool:
    """Record a claimed send's outcome; False when the claim was lost (another
    process took it after the lease ran out: then both may have sent, and
    the row is marked possibly repeated). `possibly_repeated` marks the row
    (never unmarks it): an attempt ended without a clear answer (timeout,
    502, 504), so the message may be shown twice."""
    values: dict[str, Any] = {"state": state, "reason": reason[:2000]}
    if possibly_repeated:
        values["possibly_repeated"] = True
    if state == SendState.SENT:
        values.update(
            sent_at=utcnow(),
            activity_id=activity_id,
            conversation_id=(reference or {}).get("conversation", {}).get("id"),
            reference=json.dumps(reference, ensure_ascii=False) if reference else None,
            claim_token=None,
        )
    elif state == SendState.PENDING:
        values.update(not_before=retry_at, claim_token=None)
    else:
        values.update(claim_token=None)
    with engine.begin() as conn:
        result = conn.execute(
            update(_send)
            .where(_send.c.id == send.id, _send.c.claim_token == send.claim_token)
            .values(**values)
        )
        if result.rowcount:
            return True
        conn.execute(update(_send).where(_send.c.id == send.id).values(possibly_repeated=True))
        return False


def next_retry_at(engine: Engine, now: datetime, round_ids: Iterable[int] | None = None) -> datetime | None:
    """When the earliest send waiting to be retried (pending, not before a
    time after `now`) becomes due; None when no send is waiting."""
    query = select(func.min(_send.c.not_before)).where(
        _send.c.state == SendState.PENDING,
        _send.c.not_before > now,
    )
    if round_ids is not None:
        query = query.where(_send.c.round_id.in_(list(round_ids)))
    with engine.connect() as conn:
        value: datetime | None = conn.execute(query).scalar()
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite keeps no offset; every time stored here is UTC
        value = value.replace(tzinfo=now.tzinfo)
    return value


def sends(
    conn: Connection, round_id: int, recipient: str | None = None, *, org_id: int | None = None
) -> list[Send]:
    """The round's sends (to `recipient`; of the city `org_id`, when given)."""
    query = select(_send).where(_send.c.round_id == round_id)
    if org_id is not None:
        query = query.where(_send.c.org_id == org_id)
    if recipient is not None:
        query = query.where(_send.c.recipient == recipient)
    return [send_from_row(r) for r in conn.execute(query.order_by(_send.c.id)).all()]


def mark_answered(conn: Connection, send_id: int, *, org_id: int | None = None) -> None:
    """Record that a send's card says it is answered (when it is the city `org_id`'s, if given)."""
    query = update(_send).where(_send.c.id == send_id)
    if org_id is not None:
        query = query.where(_send.c.org_id == org_id)
    conn.execute(query.values(marked_answered=True))


def grants_marker(conn: Connection, org_id: int) -> tuple[int, int]:
    """Whether a city's role grants changed: their number and highest id (a
    grant adds a higher id, a revocation lowers the number)."""
    row = conn.execute(
        select(func.count(), func.coalesce(func.max(_grant.c.id), 0)).where(_grant.c.org_id == org_id)
    ).one()
    return int(row[0]), int(row[1])


def substitutions_marker(conn: Connection, org_id: int) -> int:
    """The highest seq of a city's substitutions (0: none)."""
    query = select(func.coalesce(func.max(_subs.c.seq), 0)).where(_subs.c.org_id == org_id)
    return int(conn.execute(query).scalar_one())


def personal_reference(conn: Connection, org_id: int, user_id: str) -> dict[str, Any] | None:
    """The newest 1:1 conversation reference of a person in a city."""
    row = conn.execute(
        select(_ref.c.reference)
        .where(
            _ref.c.user_id == user_id,
            _ref.c.conversation_type == "personal",
            or_(_ref.c.org_id == org_id, _ref.c.org_id.is_(None)),
        )
        .order_by(_ref.c.updated_at.desc())
        .limit(1)
    ).first()
    return json.loads(row.reference) if row else None


def any_reference(conn: Connection, org_id: int) -> dict[str, Any] | None:
    """Any reference of the city: where its tenant's connector service is."""
    row = conn.execute(
        select(_ref.c.reference).where(_ref.c.org_id == org_id).order_by(_ref.c.updated_at.desc()).limit(1)
    ).first()
    return json.loads(row.reference) if row else None


def unmarked_cards(conn: Connection, org_ids: Iterable[int] | None = None) -> list[tuple[int, Round, Send]]:
    """(org id, round, send) of sent cards of open rounds (of the cities `org_ids`,
    when given) not yet updated to say they are answered."""
    wanted = None if org_ids is None else set(org_ids)
    open_rounds = {
        r.id: (org, r) for org, r in rounds(conn, open_only=True) if wanted is None or org in wanted
    }
    if not open_rounds:
        return []
    rows = conn.execute(
        select(_send).where(
            _send.c.round_id.in_(list(open_rounds)),
            _send.c.state == SendState.SENT,
            _send.c.marked_answered.is_(False),
            ~_send.c.kind.startswith(SendKind.ESCALATION.value),  # an escalation on behalf too
            _send.c.activity_id.is_not(None),
        )
    ).all()
    out = []
    for row in rows:
        org, round_ = open_rounds[row.round_id]
        out.append((org, round_, send_from_row(row)))
    return out


def display_names(conn: Connection, org_id: int) -> dict[str, str]:
    """Person (AAD id) → the name Teams last showed for them."""
    rows = conn.execute(
        select(_ref.c.user_id, _ref.c.reference).where(_ref.c.org_id == org_id, _ref.c.user_id != "")
    ).all()
    names: dict[str, str] = {}
    for row in rows:
        try:
            name = (json.loads(row.reference).get("user") or {}).get("name")
        except (ValueError, AttributeError):
            name = None
        if name:
            names[row.user_id] = str(name)
    return names


def tenant_of_org(conn: Connection, org_id: int) -> str | None:
    """The Teams tenant a city is reached in: a linked one, else the one its
    people have written from."""
    linked = conn.execute(select(_tenant.c.tenant_id).where(_tenant.c.org_id == org_id).limit(1)).first()
    if linked:
        return str(linked[0])
    seen = conn.execute(
        select(_ref.c.tenant_id)
        .where(_ref.c.org_id == org_id, _ref.c.tenant_id != "")
        .order_by(_ref.c.updated_at.desc())
        .limit(1)
    ).first()
    return str(seen[0]) if seen else None


# --- one city's rounds, in a unit of work ---------------------------------------


class CityRounds:
    """One city's rounds and sends on a unit of work's connection (its
    transaction: a writing unit of work holds the city's write lock). The
    application services reach the rounds through this, never through a session."""

    def __init__(self, repo: Repository):
        self.conn = repo.session.connection()
        self.org_id = repo.org_id
        self.slug = repo.organisation.slug

    def all(self, *, open_only: bool = False) -> list[Round]:
        """The city's rounds, oldest first."""
        return [r for _, r in rounds(self.conn, self.org_id, open_only=open_only)]

    def find(self, period: str) -> Round:
        return find_round(self.conn, self.org_id, period)

    def by_id(self, round_id: int) -> Round | None:
        """The city's round of that id (None when there is none, or it is another city's)."""
        found = round_by_id(self.conn, round_id)
        return found[1] if found is not None and found[0] == self.org_id else None

    def create(self, plan: RoundPlan, by: str) -> Round:
        return create_round(self.conn, self.org_id, plan, by)

    def close(self, round_id: int, by: str, at: datetime) -> bool:
        """Close the city's round of that id; False when it was closed already, or is another city's."""
        return close_round(self.conn, round_id, by, at, org_id=self.org_id)

    def sends(self, round_id: int, recipient: str | None = None) -> list[Send]:
        """The sends of the city's round of that id (none for another city's round)."""
        return sends(self.conn, round_id, recipient, org_id=self.org_id)

    def display_names(self) -> dict[str, str]:
        return display_names(self.conn, self.org_id)

    def ledger(self, snapshot: CitySnapshot, periods: Iterable[str]) -> SummaryLedger:
        """The read model's ledger with every follow-up of `periods`, as far as the
        snapshot sees (storage.read_model.round_ledger)."""
        return round_ledger(self.conn, snapshot, periods)

    def current_ledger(self, periods: Iterable[str], fresh: Freshness | None = None) -> SummaryLedger:
        """`ledger` of the city's current read model (as of `fresh`, the city's change
        markers when read already: storage.read_model.ReadModels.current)."""
        engine = self.conn.engine
        snapshot = read_models(engine).current(engine, fresh or self.freshness())
        return self.ledger(snapshot, periods)

    def committed_ledger(self, ledger: SummaryLedger, periods: Iterable[str]) -> SummaryLedger:
        """A writer's committed summary ledger (UnitOfWork.committed) with every
        follow-up of `periods` committed so far (it holds the city's write lock)."""
        return with_period_followups(self.conn, ledger, self.org_id, periods)

    def freshness(self) -> Freshness:
        return freshness(self.conn, self.slug)

    def grants_marker(self) -> tuple[int, int]:
        return grants_marker(self.conn, self.org_id)

    def substitutions_marker(self) -> int:
        """Whether the city's substitutions changed (issue 22): the highest seq (they are
        append-only: a substitution and its early end each add one); 0 when it has none."""
        return substitutions_marker(self.conn, self.org_id)

    def recorded_keys(self, round_id: int) -> set[tuple[str, str]]:
        return recorded_keys(self.conn, round_id, org_id=self.org_id)

    def enqueue(self, round_: Round, dues: Iterable[DueSend]) -> int:
        return enqueue(self.conn, round_, self.org_id, dues)

    def mark_answered(self, send_ids: Iterable[int]) -> None:
        """Record that these sends' cards now say they are answered (commit the unit
        of work); another city's sends are left as they are."""
        for send_id in send_ids:
            mark_answered(self.conn, send_id, org_id=self.org_id)

    def last_extra_reminder(self, round_id: int) -> ExtraReminder | None:
        """The latest extra reminder of the city's round (issue 20), or None."""
        return last_extra_reminder(self.conn, round_id, org_id=self.org_id)

    def extra_reminders_on(self, round_id: int, day: date) -> list[ExtraReminder]:
        """The city's round's extra reminders of the Swedish day `day`, oldest first."""
        return extra_reminders_on(self.conn, round_id, day, org_id=self.org_id)

    def record_extra_reminder(self, reminder: ExtraReminder) -> None:
        """Record an extra reminder (who asked, when, for which units, to how many)."""
        record_extra_reminder(self.conn, self.org_id, reminder)


# --- what the round runner reads and writes (bot/round_runner.py) ----------------


def cities(engine: Engine) -> list[tuple[int, str]]:
    """Every city's (id, slug), in the order the cities were made."""
    with engine.connect() as conn:
        rows = conn.execute(select(_orgs.c.id, _orgs.c.slug).order_by(_orgs.c.id)).all()
    return [(int(r[0]), str(r[1])) for r in rows]


def _slug_of(conn: Connection, org_id: int) -> str:
    return str(conn.execute(select(_orgs.c.slug).where(_orgs.c.id == org_id)).scalar_one())


@dataclass(frozen=True, slots=True)
class SendingCity:
    """What the round runner keeps of a city while it sends: its rounds, its read
    model with their follow-ups, the names Teams showed, where its tenant is."""

    slug: str
    org_id: int
    ledger: SummaryLedger
    rounds: dict[int, Round]
    names: dict[str, str]
    tenant_id: str | None
    fallback: dict[str, Any] | None


def sending_city(engine: Engine, org_id: int) -> SendingCity:
    with engine.connect() as conn:
        slug = _slug_of(conn, org_id)
        rounds_ = {r.id: r for _, r in rounds(conn, org_id)}
        snapshot = read_models(engine).current(engine, freshness(conn, slug))
        ledger = round_ledger(conn, snapshot, {r.period for r in rounds_.values()})
        names = display_names(conn, org_id)
        fallback = any_reference(conn, org_id)
        tenant = tenant_of_org(conn, org_id)
    return SendingCity(slug, org_id, ledger, rounds_, names, tenant, fallback)


def _answered_in(conn: Connection, org_id: int, period: str, measure_ids: Iterable[int] | None) -> set[int]:
    query = select(_followups.c.measure_id).where(
        _followups.c.org_id == org_id, _followups.c.period == period
    )
    if measure_ids is not None:
        query = query.where(_followups.c.measure_id.in_(list(measure_ids)))
    return {int(r[0]) for r in conn.execute(query).all()}


def answered_and_reference(
    engine: Engine, send: Send, period: str, *, card: bool
) -> tuple[set[int], dict[str, Any] | None]:
    """Which of a card's measures are answered in `period` (with `card`: none are
    asked for an escalation), and the person's stored 1:1 conversation: one
    connection, two small queries."""
    with engine.connect() as conn:
        done: set[int] = set()
        if card and send.measure_ids:
            done = _answered_in(conn, send.org_id, period, send.measure_ids)
        return done, personal_reference(conn, send.org_id, send.recipient)


def answered_by_period(engine: Engine, keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], set[int]]:
    """(org id, period) -> the measures with an answer in that period."""
    with engine.connect() as conn:
        return {(org_id, period): _answered_in(conn, org_id, period, None) for org_id, period in keys}


def unmarked_cards_of(engine: Engine, org_ids: Iterable[int] | None = None) -> list[tuple[int, Round, Send]]:
    """`unmarked_cards` on a connection of its own."""
    with engine.connect() as conn:
        return unmarked_cards(conn, org_ids)


def round_ledger_of(engine: Engine, org_id: int, periods: Iterable[str]) -> SummaryLedger:
    """A city's current read model with the follow-ups of `periods`: what the cards
    and the escalation report show, without reading every row of the ledger."""
    with engine.connect() as conn:
        snapshot = read_models(engine).current(engine, freshness(conn, _slug_of(conn, org_id)))
        return round_ledger(conn, snapshot, periods)


def unmarked_proposal_cards(engine: Engine, org_ids: Iterable[int] | None = None) -> list[tuple[str, Send]]:
    """(city slug, send) of every proposals card sent to a ksau member (of the cities
    `org_ids`, when given) and not yet updated to show the set's decision (open rounds
    and closed alike)."""
    query = (
        select(_send, _orgs.c.slug)
        .join(_orgs, _orgs.c.id == _send.c.org_id)
        .where(
            _send.c.kind == SendKind.PROPOSALS.value,
            _send.c.state == SendState.SENT,
            _send.c.marked_answered.is_(False),
            _send.c.activity_id.is_not(None),
        )
        .order_by(_send.c.id)
    )
    if org_ids is not None:
        query = query.where(_send.c.org_id.in_(list(org_ids)))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [(str(r.slug), send_from_row(r)) for r in rows]


def mark_card_answered(engine: Engine, send_id: int) -> None:
    with engine.begin() as conn:
        mark_answered(conn, send_id)


# --- issue 20: extra reminders asked for in chat ----------------------------------------------


def _reminder_from_row(row: Any) -> ExtraReminder:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)  # SQLite keeps no offset: UTC
    return ExtraReminder(
        round_id=row.round_id,
        day=row.day,
        at=at,
        by=row.by,
        units=tuple(u for u in row.units.split(SEP) if u),
        recipients=row.recipients,
    )


def last_extra_reminder(conn: Connection, round_id: int, *, org_id: int) -> ExtraReminder | None:
    row = conn.execute(
        select(_reminder)
        .where(_reminder.c.round_id == round_id, _reminder.c.org_id == org_id)
        .order_by(_reminder.c.day.desc(), _reminder.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _reminder_from_row(row)


def extra_reminders_on(conn: Connection, round_id: int, day: date, *, org_id: int) -> list[ExtraReminder]:
    """The round's extra reminders of the Swedish day `day`, oldest first."""
    rows = conn.execute(
        select(_reminder)
        .where(_reminder.c.round_id == round_id, _reminder.c.org_id == org_id, _reminder.c.day == day)
        .order_by(_reminder.c.id)
    ).all()
    return [_reminder_from_row(row) for row in rows]


def record_extra_reminder(conn: Connection, org_id: int, reminder: ExtraReminder) -> None:
    """Insert the reminder (several a day: each person's send, keyed by the day, is the limit)."""
    conn.execute(
        insert(_reminder).values(
            round_id=reminder.round_id,
            org_id=org_id,
            day=reminder.day,
            at=reminder.at,
            by=reminder.by,
            units=SEP.join(reminder.units),
            recipients=reminder.recipients,
        )
    )
