"""append-only without holes: REPLACE and TRUNCATE refused, and the sealed tables too

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 15:00:00

0002 refused UPDATE and DELETE on ledger_entries and followups. That left
holes: SQLite's REPLACE deletes the old row without firing a DELETE trigger
(REPLACE INTO ledger_entries rewrote the fund from 78 to 90 mkr), and
PostgreSQL's TRUNCATE fires no row trigger. Now:

- ledger_entries, followups, decisions, measures, seals, seal_keys,
  role_revocations:
  UPDATE, DELETE, REPLACE (SQLite: a BEFORE INSERT trigger that refuses a row
  whose key is already there) and TRUNCATE (PostgreSQL: a statement-level
  BEFORE TRUNCATE trigger) are refused.
- role_grants: UPDATE, REPLACE and TRUNCATE refused; DELETE only of a grant
  whose revocation is stored (storage.repository.Repository.revoke).

A table's owner can still drop or disable these triggers: what it changes
then no longer matches the keyed seal (storage/seal.py, 0008), and
`kompetensbot validate` names the row. The application should therefore not
be the owner (README, "The ledger's seal and the database roles").
"""

from alembic import op


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

APPEND_ONLY = {
    # table: the columns of each key a REPLACE could collide on
    "ledger_entries": (("id",), ("org_id", "seq")),
    "followups": (("id",), ("org_id", "seq")),
    "decisions": (("id",), ("org_id", "body", "reference")),
    "measures": (("id",),),
    "seals": (("id",), ("org_id", "seq")),
    "seal_keys": (("id",),),
    "role_revocations": (("id",),),
}
NEW_ROW_TRIGGERS = ("decisions", "measures", "seals", "seal_keys", "role_revocations")  # 0002 has the others
GRANT_KEYS = (("id",), ("org_id", "user_id", "role", "unit_code"))


def _exists(table: str, keys: tuple[tuple[str, ...], ...]) -> str:
    clauses = " OR ".join("(" + " AND ".join(f"{c} IS NEW.{c}" for c in key) + ")" for key in keys)
    return f"EXISTS (SELECT 1 FROM {table} WHERE {clauses})"


def _sqlite_upgrade() -> None:
    for table in NEW_ROW_TRIGGERS:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'append-only table {table}: {action} is not allowed'); END"
            )
    for table, keys in {**APPEND_ONLY, "role_grants": GRANT_KEYS}.items():
        op.execute(
            f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} WHEN {_exists(table, keys)} "
            f"BEGIN SELECT RAISE(ABORT, 'append-only table {table}: REPLACE of a stored row is not allowed'); END"
        )
    op.execute(
        "CREATE TRIGGER role_grants_no_update BEFORE UPDATE ON role_grants "
        "BEGIN SELECT RAISE(ABORT, 'append-only table role_grants: UPDATE is not allowed'); END"
    )
    op.execute(
        "CREATE TRIGGER role_grants_revoked_only BEFORE DELETE ON role_grants "
        "WHEN NOT EXISTS (SELECT 1 FROM role_revocations WHERE grant_id = OLD.id) "
        "BEGIN SELECT RAISE(ABORT, 'append-only table role_grants: DELETE is allowed only "
        "for a grant whose revocation is stored'); END"
    )


def _postgres_upgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE FUNCTION kompetensbot_revoked_only() RETURNS trigger AS $$
        BEGIN
          IF NOT EXISTS (SELECT 1 FROM role_revocations WHERE grant_id = OLD.id) THEN
            RAISE EXCEPTION 'append-only table role_grants: DELETE is allowed only for a grant whose revocation is stored';
          END IF;
          RETURN OLD;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    for table in NEW_ROW_TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION kompetensbot_append_only()"
        )
    op.execute(
        "CREATE TRIGGER role_grants_no_update BEFORE UPDATE ON role_grants "
        "FOR EACH ROW EXECUTE FUNCTION kompetensbot_append_only()"
    )
    op.execute(
        "CREATE TRIGGER role_grants_revoked_only BEFORE DELETE ON role_grants "
        "FOR EACH ROW EXECUTE FUNCTION kompetensbot_revoked_only()"
    )
    for table in (*APPEND_ONLY, "role_grants"):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION kompetensbot_append_only()"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in (*APPEND_ONLY, "role_grants"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        for table in NEW_ROW_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP TRIGGER IF EXISTS role_grants_no_update ON role_grants")
        op.execute("DROP TRIGGER IF EXISTS role_grants_revoked_only ON role_grants")
        op.execute("DROP FUNCTION IF EXISTS kompetensbot_revoked_only()")
        return
    for table in NEW_ROW_TRIGGERS:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
    for table in (*APPEND_ONLY, "role_grants"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
    op.execute("DROP TRIGGER IF EXISTS role_grants_no_update")
    op.execute("DROP TRIGGER IF EXISTS role_grants_revoked_only")
