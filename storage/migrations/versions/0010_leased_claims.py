"""activity claims leased and keyed by a digest of the whole id

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 15:00:00

A turn's claim of its activity was committed before the turn ran and kept
for good: a process killed mid-turn left it, and Teams' retry of the same
activity was answered by nothing, the person's submission lost. A claim now
has a lease (`lease_until`): a retry after it ended, of a turn that never
finished, is handled again; a finished turn sets it to NULL.

The claim was keyed by (conversation_id, activity_id) cut at 512 and 256
characters, so ids differing only after that were one claim. The key is now
the SHA-256 (hex) of the whole pair (storage.bot_state.claim_key); `once`
marks a write's one-time key (kept for good), `saved` what its write saved.

The rows are carried over: each old pair is keyed as the bot keys it now
(an id that had been cut keeps its cut form: at worst a retry of it, in the
minutes after the upgrade, is handled again, its writes kept once by their
keys), activity claims as finished turns.
"""

import hashlib

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ONCE_KEYS = "kompetensbot:once"  # storage.bot_state.ONCE_KEYS, as it was when written
_BATCH = 5000


def _key(scope: str, key: str) -> str:
    """storage.bot_state.claim_key, as it was when this was written."""
    return hashlib.sha256(f"{len(scope)}:{scope}{key}".encode("utf-8", "surrogatepass")).hexdigest()


def upgrade() -> None:
    old = sa.table(
        "processed_activities",
        sa.column("conversation_id", sa.String()),
        sa.column("activity_id", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    conn = op.get_bind()
    kept = {  # a week of claims at most (they are pruned): held in memory while the table is rebuilt
        _key(scope, key): {"key": _key(scope, key), "created_at": created, "once": scope == ONCE_KEYS}
        for scope, key, created in conn.execute(
            sa.select(old.c.conversation_id, old.c.activity_id, old.c.created_at)
        )
    }
    op.drop_index("ix_processed_activities_created_at", table_name="processed_activities")
    op.drop_table("processed_activities")
    new = op.create_table(
        "processed_activities",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("once", sa.Boolean(), nullable=False),
        sa.Column("saved", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(
        "ix_processed_activities_created_at", "processed_activities", ["created_at"], unique=False
    )
    rows = [{**row, "lease_until": None, "saved": None} for row in kept.values()]
    for start in range(0, len(rows), _BATCH):
        conn.execute(sa.insert(new), rows[start : start + _BATCH])


def downgrade() -> None:
    """Back to (conversation_id, activity_id): the digests cannot be turned back
    into ids, so the activity claims are dropped (a retry in the minutes after
    the downgrade is handled again) and so are the once keys (a card sent
    again after it could be saved twice)."""
    op.drop_index("ix_processed_activities_created_at", table_name="processed_activities")
    op.drop_table("processed_activities")
    op.create_table(
        "processed_activities",
        sa.Column("conversation_id", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("activity_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "activity_id"),
    )
    op.create_index(
        "ix_processed_activities_created_at", "processed_activities", ["created_at"], unique=False
    )
