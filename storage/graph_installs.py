"""Installing the app through Microsoft Graph, per (round, person): `graph_installs`.

At most one install per round and person, as the round's sends are exactly once
(storage/rounds.py):

1. `claim` takes the row of (round, person) for one process with a fresh token:
   it inserts it (state "claimed"), or takes a row whose install is worth trying
   again (failed, no_consent, not_found: the administrator may have consented, the
   person may have come back) or whose claim is older than the lease (a process
   killed mid-install). A row installed, or claimed and within its lease, is not
   taken: the answer says which.
2. `finish` records the outcome under the claim's token: installed (with the chat),
   or failed / no_consent / not_found with a reason in Swedish.

Graph answers a second install for the same person 409 "already installed", which
the caller counts as installed: so a process killed after Graph installed the app
but before `finish` costs no second install, only a second request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from storage.rounds import Send, SendState, send_from_row
from storage.tables import (
    ConversationRefRow,
    FollowUpRoundRow,
    GraphInstallRow,
    RoundSendRow,
    table,
    utcnow,
)

_install = table(GraphInstallRow)
_send = table(RoundSendRow)
_ref = table(ConversationRefRow)
_round = table(FollowUpRoundRow)


class InstallState:
    CLAIMED = "claimed"
    INSTALLED = "installed"
    FAILED = "failed"  # Graph did not answer, or answered 429/5xx to the end: tried again
    NO_CONSENT = "no_consent"  # 403: the administrator has not consented
    NOT_FOUND = "not_found"  # 404: no such user in the tenant


RETRIED = (InstallState.FAILED, InstallState.NO_CONSENT, InstallState.NOT_FOUND)


@dataclass(frozen=True, slots=True)
class Install:
    """One (round, person)'s install as stored."""

    org_id: int
    round_id: int
    user_id: str
    state: str
    attempts: int
    reason: str
    chat_id: str | None
    http_status: int | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class Claim:
    """`claim`'s answer: `claimed` (this process installs), else the row as another
    process or an earlier tick left it (installed; claimed within its lease)."""

    claimed: bool
    install: Install


def _install_of(row: Any) -> Install:
    return Install(
        int(row.org_id),
        int(row.round_id),
        str(row.user_id),
        str(row.state),
        int(row.attempts),
        str(row.reason or ""),
        row.chat_id,
        row.http_status,
        row.updated_at,
    )


def _row(conn: Connection, round_id: int, user_id: str) -> Any:
    return conn.execute(
        select(_install).where(_install.c.round_id == round_id, _install.c.user_id == user_id)
    ).first()


def claim(
    engine: Engine,
    *,
    org_id: int,
    round_id: int,
    user_id: str,
    token: str,
    lease: timedelta,
    now: datetime | None = None,
) -> Claim:
    """Take (round, person)'s install for the holder of `token` (see the module)."""
    now = now or utcnow()
    with engine.begin() as conn:
        taken = conn.execute(
            update(_install)
            .where(
                _install.c.round_id == round_id,
                _install.c.user_id == user_id,
                or_(
                    _install.c.state.in_(RETRIED),
                    and_(_install.c.state == InstallState.CLAIMED, _install.c.claimed_at < now - lease),
                ),
            )
            .values(
                state=InstallState.CLAIMED,
                claim_token=token,
                claimed_at=now,
                attempts=_install.c.attempts + 1,
                updated_at=now,
            )
        )
        if taken.rowcount:
            return Claim(True, _install_of(_row(conn, round_id, user_id)))
        if _row(conn, round_id, user_id) is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(_install).values(
                            org_id=org_id,
                            round_id=round_id,
                            user_id=user_id,
                            state=InstallState.CLAIMED,
                            attempts=1,
                            claim_token=token,
                            claimed_at=now,
                            reason="",
                            created_at=now,
                            updated_at=now,
                        )
                    )
                return Claim(True, _install_of(_row(conn, round_id, user_id)))
            except IntegrityError:  # another process inserted it first
                pass
        return Claim(False, _install_of(_row(conn, round_id, user_id)))


def finish(
    engine: Engine,
    *,
    round_id: int,
    user_id: str,
    token: str,
    state: str,
    reason: str = "",
    chat_id: str | None = None,
    http_status: int | None = None,
) -> bool:
    """Record a claimed install's outcome; False when the claim was lost (its lease ran
    out and another process took it)."""
    with engine.begin() as conn:
        result = conn.execute(
            update(_install)
            .where(
                _install.c.round_id == round_id,
                _install.c.user_id == user_id,
                _install.c.claim_token == token,
            )
            .values(
                state=state,
                reason=reason[:2000],
                chat_id=chat_id,
                http_status=http_status,
                claim_token=None,
                updated_at=utcnow(),
            )
        )
        return bool(result.rowcount)


def install_of(engine: Engine, round_id: int, user_id: str) -> Install | None:
    with engine.connect() as conn:
        row = _row(conn, round_id, user_id)
    return _install_of(row) if row is not None else None


def installs(conn: Connection, round_id: int) -> dict[str, Install]:
    """A round's installs, by person."""
    rows = conn.execute(select(_install).where(_install.c.round_id == round_id)).all()
    return {str(r.user_id): _install_of(r) for r in rows}


def _has_reference(org_id: Any, user_id: Any) -> Any:
    return exists().where(
        _ref.c.user_id == user_id,
        _ref.c.conversation_type == "personal",
        or_(_ref.c.org_id == org_id, _ref.c.org_id.is_(None)),
    )


def unreached_sends(engine: Engine, round_ids: Iterable[int] | None = None) -> list[Send]:
    """Pending sends of open rounds whose person has no stored 1:1 conversation: those
    whose app a round installs before it sends (bot.reach), in id order."""
    query = (
        select(_send)
        .join(_round, _round.c.id == _send.c.round_id)
        .where(
            _send.c.state == SendState.PENDING,
            _round.c.closed_at.is_(None),
            ~_has_reference(_send.c.org_id, _send.c.recipient),
        )
        .order_by(_send.c.id)
    )
    if round_ids is not None:
        query = query.where(_send.c.round_id.in_(list(round_ids)))
    with engine.connect() as conn:
        return [send_from_row(r) for r in conn.execute(query).all()]


def without_reference(conn: Connection, org_id: int, people: Iterable[str]) -> set[str]:
    """Those of `people` with no stored 1:1 conversation in the city."""
    wanted = set(people)
    if not wanted:
        return set()
    have = conn.execute(
        select(_ref.c.user_id).where(
            _ref.c.user_id.in_(sorted(wanted)),
            _ref.c.conversation_type == "personal",
            or_(_ref.c.org_id == org_id, _ref.c.org_id.is_(None)),
        )
    ).all()
    return wanted - {str(r[0]) for r in have}


def refused_sends(conn: Connection, org_id: int, people: Iterable[str]) -> dict[str, tuple[str, str]]:
    """The latest send of each of `people` (any round of the city) that Teams refused
    (failed or unreachable with a 403 or 404: the bot blocked, the app removed, the
    conversation gone): person -> (state, reason)."""
    wanted = sorted(set(people))
    if not wanted:
        return {}
    rows = conn.execute(
        select(_send.c.recipient, _send.c.state, _send.c.reason)
        .where(
            _send.c.org_id == org_id,
            _send.c.recipient.in_(wanted),
            _send.c.state.in_((SendState.FAILED, SendState.UNREACHABLE)),
        )
        .order_by(_send.c.id)
    ).all()
    out: dict[str, tuple[str, str]] = {}
    for r in rows:
        reason = str(r.reason or "")
        if reason.startswith(("403", "404")) or "BotNotInConversationRoster" in reason:
            out[str(r.recipient)] = (str(r.state), reason)
    return out
