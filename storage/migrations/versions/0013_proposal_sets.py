"""proposal sets: KSAU's decision on a round's reallocation proposals, from one card

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-10 10:00:00

Issue 20. A round's proposals as sent to KSAU, each with its basis (the source
measure's forecast-unused money and the follow-up it was read from), and the
decision once recorded (reference, who and when, which proposals were recorded,
refused with the reason, or not ticked). One set a round, one decision a set:
the unique keys make the first decision close the set. The three tables are
append-only like the ledger: UPDATE and DELETE are refused (the money itself
moves only through ledger_entries).
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = ("proposal_sets", "proposal_set_items", "proposal_decisions")


def upgrade() -> None:
    op.create_table(
        "proposal_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["followup_rounds.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id"),
    )
    with op.batch_alter_table("proposal_sets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_sets_org_id"), ["org_id"], unique=False)

    op.create_table(
        "proposal_set_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("from_measure", sa.Integer(), nullable=False),
        sa.Column("to_measure", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("same_unit", sa.Boolean(), nullable=False),
        sa.Column("basis_unused", sa.BigInteger(), nullable=False),
        sa.Column("basis_period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("basis_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["set_id"], ["proposal_sets.id"]),
        sa.ForeignKeyConstraint(["from_measure"], ["measures.id"]),
        sa.ForeignKeyConstraint(["to_measure"], ["measures.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("set_id", "number"),
    )
    with op.batch_alter_table("proposal_set_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_set_items_set_id"), ["set_id"], unique=False)

    op.create_table(
        "proposal_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("by_user", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("by_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("refused", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("not_ticked", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("entry_seqs", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["set_id"], ["proposal_sets.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("set_id"),
    )
    with op.batch_alter_table("proposal_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_decisions_org_id"), ["org_id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":  # kompetensbot_append_only() is 0002's
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION kompetensbot_append_only()"
            )
    else:
        for table in TABLES:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'append-only table {table}: {action} is not allowed'); END"
                )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        else:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
    for table in reversed(TABLES):
        op.drop_table(table)
