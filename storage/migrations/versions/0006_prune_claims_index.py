"""an index for pruning old activity claims by their age

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:30:00

Every message's activity id is claimed in processed_activities (so a retried
delivery is handled once); the claims are needed for the minutes in which the
Bot Connector retries, and storage.bot_state.prune_claims deletes those older
than CLAIMS_KEPT. An index on created_at lets it find them without reading
the whole table.
"""

from alembic import op


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_activities", schema=None) as batch_op:
        batch_op.create_index("ix_processed_activities_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("processed_activities", schema=None) as batch_op:
        batch_op.drop_index("ix_processed_activities_created_at")
