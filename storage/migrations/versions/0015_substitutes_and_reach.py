"""substitutes, the people the bot knows, reach through Graph, roles from Entra groups

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 08:00:00

Issue 22. substitutions holds a city's substitutions (kind "set") and their early
ends (kind "end"), numbered per city (org_id, seq), sealed in the city's hash
chain (kind "substitution") and append-only as 0014 made need_entries (UPDATE,
DELETE, REPLACE on SQLite, TRUNCATE on PostgreSQL refused). followups gain
`for_id` and `for_name`: the absent person a substitute answered for (null when
the author answered for themselves). people is a directory cache (name, UPN,
e-mail per Entra object id), group_mappings maps Entra security groups to roles,
graph_installs records the app's installs through Microsoft Graph per round and
person: those three are updated in place, as round_sends are. round_sends gain
`on_behalf`: the absent person a send's recipient answers for (a handover card,
its reminders, an absent HR lead's escalation; "" for the recipient's own).
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLE = "substitutions"
KEYS = (("id",), ("org_id", "seq"))


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    ts = sa.DateTime(timezone=True)
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", text(length=8), nullable=False),
        sa.Column("absent", text(length=200), nullable=False),
        sa.Column("substitute", text(length=200), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("units", text(), nullable=False),
        sa.Column("ends", sa.Integer(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("author", text(length=200), nullable=False),
        sa.Column("author_id", text(length=200), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "seq"),
    )
    op.create_index("ix_substitutions_org_id", TABLE, ["org_id"], unique=False)
    op.add_column("followups", sa.Column("for_id", text(length=200), nullable=True))
    op.add_column("followups", sa.Column("for_name", text(length=200), nullable=True))
    op.add_column("round_sends", sa.Column("on_behalf", text(length=200), nullable=False, server_default=""))

    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("user_id", text(length=200), nullable=False),
        sa.Column("name", text(length=200), nullable=False),
        sa.Column("upn", text(length=320), nullable=False),
        sa.Column("mail", text(length=320), nullable=False),
        sa.Column("source", text(length=16), nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "user_id"),
    )
    op.create_index("ix_people_org_id", "people", ["org_id"], unique=False)
    op.create_index("ix_people_upn", "people", ["upn"], unique=False)

    op.create_table(
        "group_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("group_id", text(length=200), nullable=False),
        sa.Column("group_name", text(length=200), nullable=False),
        sa.Column("role", text(length=32), nullable=False),
        sa.Column("unit_code", text(length=32), nullable=True),
        sa.Column("created_by", text(length=200), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("synced_at", ts, nullable=True),
        sa.Column("sync_error", text(), nullable=False),
        sa.Column("tried_at", ts, nullable=True),
        sa.Column("members", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "group_id", "role", "unit_code"),
    )
    op.create_index("ix_group_mappings_org_id", "group_mappings", ["org_id"], unique=False)

    op.create_table(
        "graph_installs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("user_id", text(length=200), nullable=False),
        sa.Column("state", text(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", text(length=64), nullable=True),
        sa.Column("claimed_at", ts, nullable=True),
        sa.Column("reason", text(), nullable=False),
        sa.Column("chat_id", text(length=512), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["followup_rounds.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "user_id"),
    )
    op.create_index("ix_graph_installs_org_id", "graph_installs", ["org_id"], unique=False)
    op.create_index("ix_graph_installs_round_id", "graph_installs", ["round_id"], unique=False)

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
    for name, indexes in (
        ("graph_installs", ("ix_graph_installs_round_id", "ix_graph_installs_org_id")),
        ("group_mappings", ("ix_group_mappings_org_id",)),
        ("people", ("ix_people_upn", "ix_people_org_id")),
    ):
        for index in indexes:
            op.drop_index(index, table_name=name)
        op.drop_table(name)
    op.drop_column("round_sends", "on_behalf")
    op.drop_column("followups", "for_name")
    op.drop_column("followups", "for_id")
    op.drop_index("ix_substitutions_org_id", table_name=TABLE)
    op.drop_table(TABLE)
