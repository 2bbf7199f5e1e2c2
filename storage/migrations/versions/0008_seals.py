"""the ledger's seal: a keyed hash chain per city, and revocations kept

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 14:55:00

`seals` holds every city's chain (storage/seal.py), `seal_keys` the
fingerprint of the key it is sealed with, `role_revocations` every role taken
back (the grant as it was, so its seal can still be checked after the grant
row is deleted). Then every existing decision, role grant, measure, ledger entry and
follow-up is sealed, in the order they were written.

The key is read from KOMPETENSBOT_LEDGER_KEY. Without it the rows are sealed
with the public development key: such a chain detects mistakes but not
tampering (anyone can recompute it), and `kompetensbot validate` says so. A
later `kompetensbot db upgrade` with the key set seals with that key from
the next row on; the rows sealed before stay sealed with the development key.
So: set the key before upgrading a city that is in use.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes

from storage.seal import ledger_key, seal_existing


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("link", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "seq"),
    )
    op.create_table(
        "seal_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("development", sa.Boolean(), nullable=False),
        sa.Column("since_seal", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "role_revocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("unit_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("granted_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("role_revocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_revocations_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_role_revocations_grant_id"), ["grant_id"], unique=False)
    seal_existing(op.get_bind(), ledger_key())


def downgrade() -> None:
    with op.batch_alter_table("role_revocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_revocations_grant_id"))
        batch_op.drop_index(batch_op.f("ix_role_revocations_org_id"))
    op.drop_table("role_revocations")
    op.drop_table("seal_keys")
    op.drop_table("seals")
