"""a round's extra reminders asked for in chat

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 02:30:00

Issue 20: "påminn de som inte svarat" sends an extra reminder now, to each person at
most once a Swedish calendar day per round. The new table round_reminders records who
asked (their AAD object id), when, for which units and to how many; a day may have
several (an HR lead's for its own units, stadskontoret's for the rest). Its sends are
ordinary rows of round_sends, of kind "extra-<day>": their unique key (round, person,
kind) is the once-a-day rule.
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "round_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("units", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["followup_rounds.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("round_reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_reminders_round_id"), ["round_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("round_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_reminders_round_id"))
    op.drop_table("round_reminders")
