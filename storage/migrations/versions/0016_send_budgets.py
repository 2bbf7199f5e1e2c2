"""the send budget shared by every process, and claims per city

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-20 08:00:00

Issue 23. send_budgets holds one row per (app id, tenant id): the next free send slot
of that bot registration in that Teams tenant (GCRA's theoretical arrival time), booked
by every `kompetensbot serve` and `followup tick` on the database, so Teams' limit per
app and tenant is shared however many processes send (storage/send_budget.py; used on
PostgreSQL only, SQLite stays single-process). Updated in place, as round_sends are.
round_sends gains an index on (org_id, state): the round runner claims city by city,
in turn (storage.rounds.claim with org_id).
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "send_budgets",
        sa.Column("app_id", text(length=100), nullable=False),
        sa.Column("tenant_id", text(length=100), nullable=False),
        sa.Column("next_slot", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "tenant_id"),
    )
    with op.batch_alter_table("round_sends", schema=None) as batch_op:
        batch_op.create_index("ix_round_sends_org_id_state", ["org_id", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("round_sends", schema=None) as batch_op:
        batch_op.drop_index("ix_round_sends_org_id_state")
    op.drop_table("send_budgets")
