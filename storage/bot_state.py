"""The bot's own records: dialog and user state (a versioned key-value
store), conversation references, processed activity ids and tenant links.

Plain synchronous functions over an engine; bot/ adapts them to the SDK's
Storage interface and calls them off the event loop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from storage.tables import (
    BotStateRow,
    ConversationRefRow,
    OrganisationRow,
    ProcessedActivityRow,
    TenantRow,
    utcnow,
)


class StaleWrite(Exception):
    """A state write named a version that is no longer the stored one: another
    turn wrote the key in between. The write is refused, never merged or lost."""

    def __init__(self, key: str):
        super().__init__(f"state {key!r} was changed by another turn")
        self.key = key


@dataclass(frozen=True, slots=True)
class StateItem:
    data: dict[str, Any]
    version: int


class StateStore:
    """A key → JSON document store with a version per key."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def read(self, keys: list[str]) -> dict[str, StateItem]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(BotStateRow.key, BotStateRow.data, BotStateRow.version).where(
                    BotStateRow.key.in_(keys)  # type: ignore[attr-defined]
                )
            ).all()
        return {key: StateItem(json.loads(data), version) for key, data, version in rows}

    def write(self, key: str, data: dict[str, Any], expected_version: int | None) -> int:
        """Store `data` if the key is still at `expected_version` (None: the key
        must not exist yet, or the write is unconditional when `force`).
        Returns the new version; raises StaleWrite otherwise."""
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        with self.engine.begin() as conn:
            if expected_version is None:
                try:
                    conn.execute(
                        insert(BotStateRow).values(key=key, data=text, version=1, updated_at=utcnow())
                    )
                except IntegrityError:
                    raise StaleWrite(key) from None
                return 1
            result = conn.execute(
                update(BotStateRow)
                .where(BotStateRow.key == key, BotStateRow.version == expected_version)  # type: ignore[arg-type]
                .values(data=text, version=expected_version + 1, updated_at=utcnow())
            )
            if result.rowcount != 1:
                raise StaleWrite(key)
            return expected_version + 1

    def delete(self, keys: list[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(BotStateRow).where(BotStateRow.key.in_(keys)))  # type: ignore[attr-defined]


def claim_activity(engine: Engine, conversation_id: str, activity_id: str) -> bool:
    """Record an activity as handled; False when it was handled before."""
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(ProcessedActivityRow).values(
                    conversation_id=conversation_id[:512], activity_id=activity_id[:256], created_at=utcnow()
                )
            )
        return True
    except IntegrityError:
        return False


def save_conversation_reference(
    engine: Engine,
    *,
    org_id: int | None,
    tenant_id: str,
    user_id: str,
    conversation_id: str,
    conversation_type: str,
    reference: dict[str, Any],
) -> None:
    """Insert or refresh where a person (or, with user_id "", a channel) is reached."""
    text = json.dumps(reference, ensure_ascii=False, separators=(",", ":"))
    values = {
        "org_id": org_id,
        "tenant_id": tenant_id,
        "conversation_type": conversation_type,
        "reference": text,
        "updated_at": utcnow(),
    }
    with engine.begin() as conn:
        current = conn.execute(
            select(ConversationRefRow.id, ConversationRefRow.reference).where(
                ConversationRefRow.conversation_id == conversation_id,
                ConversationRefRow.user_id == user_id,
            )
        ).first()
        if current is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(ConversationRefRow).values(
                            conversation_id=conversation_id, user_id=user_id, **values
                        )
                    )
                return
            except IntegrityError:  # a concurrent turn stored it first
                pass
        elif current.reference == text:
            return
        conn.execute(
            update(ConversationRefRow)
            .where(
                ConversationRefRow.conversation_id == conversation_id,  # type: ignore[arg-type]
                ConversationRefRow.user_id == user_id,  # type: ignore[arg-type]
            )
            .values(**values)
        )


def conversation_references(engine: Engine, user_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(ConversationRefRow.reference).where(ConversationRefRow.user_id == user_id)
        ).all()
    return [json.loads(r.reference) for r in rows]


def org_for_tenant(engine: Engine, tenant_id: str | None) -> OrganisationRow | None:
    """The city that serves a tenant: its linked city, or the only city there is."""
    with engine.connect() as conn:
        if tenant_id:
            row = conn.execute(
                select(OrganisationRow)
                .join(TenantRow, TenantRow.org_id == OrganisationRow.id)  # type: ignore[arg-type]
                .where(TenantRow.tenant_id == tenant_id)
            ).first()
            if row is not None:
                return OrganisationRow(**row._mapping)
        rows = conn.execute(select(OrganisationRow).limit(2)).all()
    if len(rows) == 1:
        return OrganisationRow(**rows[0]._mapping)
    return None


def link_tenant(engine: Engine, tenant_id: str, org_slug: str) -> None:
    with engine.begin() as conn:
        org = conn.execute(select(OrganisationRow.id).where(OrganisationRow.slug == org_slug)).first()
        if org is None:
            raise LookupError(org_slug)
        conn.execute(delete(TenantRow).where(TenantRow.tenant_id == tenant_id))  # type: ignore[arg-type]
        conn.execute(insert(TenantRow).values(tenant_id=tenant_id, org_id=org.id, created_at=utcnow()))
