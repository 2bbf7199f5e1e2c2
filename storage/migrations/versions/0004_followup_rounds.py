"""follow-up rounds and their sends

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:05:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followup_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("opens", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("reminders", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("escalate_on", sa.Date(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "period"),
    )
    with op.batch_alter_table("followup_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_followup_rounds_org_id"), ["org_id"], unique=False)

    op.create_table(
        "round_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("measure_ids", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("units", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activity_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("conversation_id", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("possibly_repeated", sa.Boolean(), nullable=False),
        sa.Column("marked_answered", sa.Boolean(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["followup_rounds.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "recipient", "kind"),
    )
    with op.batch_alter_table("round_sends", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_sends_round_id"), ["round_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_round_sends_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("round_sends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_sends_state"))
        batch_op.drop_index(batch_op.f("ix_round_sends_round_id"))
    op.drop_table("round_sends")
    with op.batch_alter_table("followup_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_followup_rounds_org_id"))
    op.drop_table("followup_rounds")
