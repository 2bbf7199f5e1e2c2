"""decisions name their body; delegation decisions keep who decided

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 17:30:00

Issue 17, items 3 and 7. A committee's decision is now stored with its unit's
code as its body ("TN", cited "TN 2025-01-28 § 17"), where it was "nämnd"
(cited "Nämnd 2025-01-28 § 17", which does not say whose). A delegation
decision ("delegationsbeslut 2025-05-12, förvaltningsdirektör") keeps who
decided in the new column `delegate`; it is sealed when set (storage/seal.py,
WHEN_SET), so every row written before keeps the bytes it was sealed by.

Nothing stored is changed: decisions, measures and ledger entries are
append-only (0002, 0009) and sealed (0008), and an entry cites its decision by
id. Decisions stored as "nämnd" are read as they are ("Nämnd 2025-01-29 § 10");
a grant stored with a decision kompetensbot made up ("Nämnd <the day of
saving>" from the chat or the form, or a template import's "Beviljat enligt
mall …") is flagged "beslut ej angivet" where it is shown and by `kompetensbot
validate` (core.rules.decision). A city that loaded the bundled example before
this version keeps its old decisions: `kompetensbot load-example` says so and
how to start afresh.
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "decisions",
        sa.Column("delegate", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE decisions DROP COLUMN delegate")
