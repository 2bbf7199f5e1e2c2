"""competence needs and their links to measures; people reached in a follow-up

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 05:00:00

Issue 21. need_entries holds a city's need assessments (kind "need"), links
from a need to a measure ("link") and ended links ("unlink"), numbered per city
(org_id, seq) like the ledger, and sealed in the city's hash chain (kind
"need"). It is append-only as 0009 made the ledger: UPDATE, DELETE, REPLACE
(SQLite: a BEFORE INSERT trigger on a stored key) and TRUNCATE (PostgreSQL) are
refused. followups gains `reached`, the people a measure linked to a need has
reached so far (null when not asked); an ADD COLUMN leaves 0002/0009's triggers
on followups in place (SQLite adds the column without rebuilding the table).
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLE = "need_entries"
KEYS = (("id",), ("org_id", "seq"))


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", text(length=16), nullable=False),
        sa.Column("need_key", text(length=40), nullable=False),
        sa.Column("unit_code", text(length=32), nullable=True),
        sa.Column("area", text(length=200), nullable=True),
        sa.Column("role", text(length=200), nullable=True),
        sa.Column("ssyk", text(length=8), nullable=True),
        sa.Column("need_kind", text(length=32), nullable=True),
        sa.Column("competence", text(), nullable=True),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("retirements", sa.Integer(), nullable=True),
        sa.Column("recruitment", text(length=16), nullable=True),
        sa.Column("period_first", sa.Integer(), nullable=True),
        sa.Column("period_last", sa.Integer(), nullable=True),
        sa.Column("source", text(), nullable=True),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("assessed", sa.Date(), nullable=True),
        sa.Column("measure_id", sa.Integer(), nullable=True),
        sa.Column("share", sa.Integer(), nullable=True),
        sa.Column("note", text(), nullable=False),
        sa.Column("author", text(length=200), nullable=False),
        sa.Column("author_id", text(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["measure_id"], ["measures.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "seq"),
    )
    op.create_index("ix_need_entries_org_id", TABLE, ["org_id"], unique=False)
    op.create_index("ix_need_entries_measure_id", TABLE, ["measure_id"], unique=False)
    op.add_column("followups", sa.Column("reached", sa.Integer(), nullable=True))

    if op.get_bind().dialect.name == "postgresql":  # kompetensbot_append_only() is 0002's
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION kompetensbot_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION kompetensbot_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'append-only table {TABLE}: {action} is not allowed'); END"
        )
    stored = " OR ".join("(" + " AND ".join(f"{c} IS NEW.{c}" for c in key) + ")" for key in KEYS)
    op.execute(
        f"CREATE TRIGGER {TABLE}_no_replace BEFORE INSERT ON {TABLE} "
        f"WHEN EXISTS (SELECT 1 FROM {TABLE} WHERE {stored}) "
        f"BEGIN SELECT RAISE(ABORT, 'append-only table {TABLE}: REPLACE of a stored row is not allowed'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
    else:
        for name in ("no_update", "no_delete", "no_replace"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{name}")
    op.drop_column("followups", "reached")
    op.drop_index("ix_need_entries_measure_id", table_name=TABLE)
    op.drop_index("ix_need_entries_org_id", table_name=TABLE)
    op.drop_table(TABLE)
