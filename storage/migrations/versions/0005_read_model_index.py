"""an index for the read model's change check: a city's highest measure id

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:05:00

storage.read_model asks, on every read, for the highest id among a city's
measures. With only ix_measures_org_id, PostgreSQL walks the primary key
backwards through every other city's measures (20 ms with 290 cities); an
index on (org_id, id) answers it from one index page. The other change
markers (the highest seq of ledger_entries and followups) and the range
scans that aggregate new rows already use the unique (org_id, seq) indexes.
"""

from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.create_index("ix_measures_org_id_id", ["org_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.drop_index("ix_measures_org_id_id")
