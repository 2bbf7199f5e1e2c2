"""who wrote each ledger entry and follow-up: the author id beside the name

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 14:50:00

A follow-up kept only the name it was given (in chat the sender's display
name, `from.name`, which the caller sets), so it did not say who made it.
`author_id` is the acting person's id (the AAD object id in Teams; `--user`
or "cli:<os user>" on the command line). Rows written before this keep
`author_id` = "" and are shown by their name, as before.

A plain ADD COLUMN (not a batch copy of the table): on SQLite a batch copy
would drop and recreate the tables, and with them the append-only triggers.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("ledger_entries", "followups")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column(
                "author_id",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",
            ),
        )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("author_id")
