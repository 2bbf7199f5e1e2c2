"""Item 6, tamper evidence: the append-only tables refuse every statement that
rewrites history (UPDATE, DELETE, REPLACE, TRUNCATE) on both databases, and
what a table owner changes behind the triggers breaks the keyed seal, which
`kompetensbot validate` names."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from bot.config import Settings, StartRefused, check_ledger_key
from bot.data_services import load_example
from bot.services import Services
from cli.main import main as cli
from core.model import Role, Status
from storage.migrate import alembic_config, upgrade
from storage.seal import KEY_VARIABLE, LedgerKeyMismatch, canonical, ledger_key, stored_row, verify

KEY = "tamper-test-key-0123456789abcdef0123456789"
OTHER_KEY = "another-key-fedcba9876543210fedcba987654"
FUND_SEQ = 1  # the example's first entry: the fund of 78 000 000 kr

# Statements that rewrite the ledger's history, per database.
SQLITE_ATTACKS = [
    # REPLACE fires no DELETE trigger: this rewrote the fund from 78 to 90 mkr.
    "REPLACE INTO ledger_entries (id, org_id, seq, kind, year, amount, recurring, decision_id, author, "
    "author_id, created_at) SELECT id, org_id, seq, kind, year, 90000000, recurring, decision_id, author, "
    "author_id, created_at FROM ledger_entries WHERE seq = 1",
    # ... and this zeroed a spend.
    "REPLACE INTO followups (id, org_id, seq, measure_id, period, status, spent, forecast, "
    "usable_as_planned, note, author, author_id, created_at) SELECT id, org_id, seq, measure_id, "
    "period, status, 0, forecast, usable_as_planned, note, author, author_id, created_at "
    "FROM followups WHERE seq = 1",
    "INSERT OR REPLACE INTO decisions SELECT * FROM decisions WHERE id = 1",
    "REPLACE INTO seals SELECT * FROM seals WHERE seq = 1",
    "INSERT INTO ledger_entries SELECT * FROM ledger_entries WHERE seq = 1 "
    "ON CONFLICT (id) DO UPDATE SET amount = 90000000",
]
POSTGRES_ATTACKS = [
    "TRUNCATE ledger_entries CASCADE",
    "TRUNCATE followups",
    "TRUNCATE decisions CASCADE",
    "TRUNCATE measures CASCADE",
    "TRUNCATE role_grants",
    "TRUNCATE seals",
    "TRUNCATE seal_keys",
    "INSERT INTO ledger_entries SELECT * FROM ledger_entries WHERE seq = 1 "
    "ON CONFLICT (id) DO UPDATE SET amount = 90000000",
]
BOTH_ATTACKS = [
    "UPDATE ledger_entries SET amount = 90000000 WHERE seq = 1",
    "DELETE FROM followups",
    "UPDATE decisions SET reference = 'KS 2099-01-01'",
    "UPDATE measures SET units = 'FSKN' WHERE units = 'GVN'",
    "DELETE FROM measures WHERE parent_id IS NOT NULL",
    "DELETE FROM decisions",
    "UPDATE seals SET link = 'x'",
    "DELETE FROM seals",
    "UPDATE seal_keys SET fingerprint = 'x'",
    "UPDATE role_grants SET role = 'ksau'",
    "DELETE FROM role_grants",  # a grant goes only with its revocation stored
]


def _fund(engine: Engine) -> int:
    with engine.connect() as conn:
        query = text(f"SELECT amount FROM ledger_entries WHERE seq = {FUND_SEQ}")
        return int(conn.execute(query).scalar_one())


def _attacks(engine: Engine) -> list[str]:
    own = SQLITE_ATTACKS if engine.dialect.name == "sqlite" else POSTGRES_ATTACKS
    return own + BOTH_ATTACKS


def test_every_statement_that_rewrites_history_is_refused(example_engine: Engine) -> None:
    Services(example_engine, org="malmo").grant_role(None, "anna", Role.CHEF, "GVN")
    allowed = []
    for statement in _attacks(example_engine):
        try:
            with example_engine.begin() as conn:
                conn.execute(text(statement))
        except DBAPIError as refused:
            assert "append-only" in str(refused.orig), statement
        else:
            allowed.append(statement)
    assert allowed == []
    assert _fund(example_engine) == 78_000_000
    with example_engine.connect() as conn:
        assert verify(conn, 1).problems == ()


def _as_owner_without_triggers(engine: Engine, statement: str) -> None:
    """What a table owner can do: switch the triggers off and rewrite a row."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for name in (
                conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
            ):
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            for table in ("ledger_entries", "followups", "seals"):
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        conn.execute(text(statement))


def test_an_owner_who_rewrites_the_fund_behind_the_triggers_is_named_by_the_chain(
    example_engine: Engine,
) -> None:
    _as_owner_without_triggers(
        example_engine, f"UPDATE ledger_entries SET amount = 90000000 WHERE seq = {FUND_SEQ}"
    )
    with example_engine.connect() as conn:
        report = verify(conn, 1)
    first = report.problems[0]
    assert (first.kind, first.row_id, first.seq) == ("ledger", 1, 2)  # seal 1 is its decision
    assert "liggarpost nr 1 (anslag 90 000 000 kr för 2025)" in first.message
    assert "stämmer inte med sitt sigill" in first.message


def test_an_owner_who_zeroes_a_spend_by_replace_or_adds_a_row_is_named(example_engine: Engine) -> None:
    replace = (
        "REPLACE INTO followups (id, org_id, seq, measure_id, period, status, spent, forecast, "
        "usable_as_planned, note, author, author_id, created_at) SELECT id, org_id, seq, measure_id, "
        "period, status, 0, forecast, usable_as_planned, note, author, author_id, created_at "
        "FROM followups WHERE seq = 1"
    )
    if example_engine.dialect.name != "sqlite":
        replace = "UPDATE followups SET spent = 0 WHERE seq = 1"
    _as_owner_without_triggers(example_engine, replace)
    with example_engine.begin() as conn:  # a row written past kompetensbot (INSERT is allowed)
        conn.execute(
            text(
                "INSERT INTO ledger_entries (org_id, seq, kind, year, amount, recurring, decision_id, "
                "author, author_id, created_at) SELECT org_id, 999, 'fund', 2025, 12000000, false, "
                "decision_id, author, author_id, created_at FROM ledger_entries WHERE seq = 1"
            )
        )
    with example_engine.connect() as conn:
        report = verify(conn, 1)
    messages = [p.message for p in report.problems]
    assert messages[0].startswith("uppföljning nr 1 (insats ") and "utfall 0 kr" in messages[0]
    added = "liggarpost nr 999 (anslag 12 000 000 kr för 2025) (id 67) saknar sigill"
    assert any(m.startswith(added) for m in messages)


def test_validate_names_the_rewritten_entry_and_prints_the_head(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    load_example(sqlite_engine, "malmo-2025")
    monkeypatch.setenv("DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    assert cli(["validate"]) == 0
    before = capsys.readouterr().out
    assert "Liggaren stämmer" in before and "Sigillet stämmer för malmo" in before
    head = next(line for line in before.splitlines() if line.startswith("Kedjans huvud för malmo: nr "))
    assert "utvecklingsnyckeln" in before  # no KOMPETENSBOT_LEDGER_KEY here: said so

    _as_owner_without_triggers(sqlite_engine, "UPDATE ledger_entries SET amount = 90000000 WHERE seq = 1")
    assert cli(["validate"]) == 1
    after = capsys.readouterr().out
    assert "Liggaren stämmer" not in after
    assert (
        "Sigillet bryts för malmo vid sigill nr 2: liggarpost nr 1 (anslag 90 000 000 kr för 2025) (id 1) "
        "stämmer inte med sitt sigill" in after
    )
    assert head in after  # the head is printed: an operator compares it with the one kept elsewhere


def test_the_migration_seals_rows_written_before_it(sqlite_engine: Engine, monkeypatch) -> None:
    """A city in use before the seal: its rows, an old follow-up whose author is
    only a name among them, are sealed by the upgrade, with the key set."""
    load_example(sqlite_engine, "malmo-2025")
    config = alembic_config(sqlite_engine)
    with sqlite_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0006")
    with sqlite_engine.begin() as conn:  # a follow-up as 0006 stored it: the author a name
        conn.execute(
            text(
                "INSERT INTO followups (org_id, seq, measure_id, period, status, spent, forecast, "
                "usable_as_planned, note, author, created_at) SELECT org_id, 99, measure_id, '2025-09', "
                "status, 100, forecast, usable_as_planned, '', 'Anna Andersson', created_at "
                "FROM followups WHERE seq = 1"
            )
        )
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    upgrade(sqlite_engine)
    with sqlite_engine.connect() as conn:
        report = verify(conn, 1, ledger_key())
        sealed = conn.execute(text("SELECT count(*) FROM seals")).scalar_one()
        rows = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM ledger_entries) + (SELECT count(*) FROM followups) "
                "+ (SELECT count(*) FROM decisions) + (SELECT count(*) FROM role_grants) "
                "+ (SELECT count(*) FROM measures)"
            )
        ).scalar_one()
    assert report.problems == () and not report.development and sealed == rows == report.length
    old = Services(sqlite_engine, org="malmo").ledger().followups[-1]
    assert (old.author, old.author_id) == ("Anna Andersson", "")  # stays, shown by its name
    with sqlite_engine.connect() as conn:  # the development key cannot vouch for this chain
        assert verify(conn, 1, ledger_key({})).unverifiable


def test_a_writer_with_another_key_is_refused_and_writes_nothing(example_engine: Engine, monkeypatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    check_ledger_key(Settings(database_url="", ledger_key=KEY), example_engine)  # takes over from the dev key
    services = Services(example_engine, org="malmo")
    measure = next(m for m in services.ledger().measures.values() if m.title == "Yrkeslärarsatsning")

    def report() -> None:
        services.add_followup(
            None, str(measure.id), period="2025-09", status=Status.ONGOING, spent=1, forecast=1,
            usable_as_planned=True,
        )  # fmt: skip

    report()
    before = len(services.ledger().followups)
    monkeypatch.setenv(KEY_VARIABLE, OTHER_KEY)
    with pytest.raises(LedgerKeyMismatch, match="inte den nyckel databasen förseglades med.*Inget sparades"):
        report()
    monkeypatch.delenv(KEY_VARIABLE)
    with pytest.raises(LedgerKeyMismatch, match=f"{KEY_VARIABLE} saknas här"):
        report()
    assert len(services.ledger().followups) == before
    with pytest.raises(StartRefused, match="startar inte.*inte den nyckel databasen förseglades med"):
        check_ledger_key(Settings(database_url="", ledger_key=OTHER_KEY), example_engine)
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    with example_engine.connect() as conn:
        chain = verify(conn, 1)
    assert chain.problems == () and chain.development  # the example's rows: the dev key, then ours


def test_serve_with_credentials_refuses_to_start_without_a_ledger_key(sqlite_engine: Engine) -> None:
    credentials = {"CONNECTIONS": {"SERVICE_CONNECTION": {"SETTINGS": {"CLIENTID": "app"}}}}
    for key, reason in (("", f"{KEY_VARIABLE} saknas"), ("kort", "för kort")):
        with pytest.raises(StartRefused, match=reason):
            check_ledger_key(Settings(database_url="", sdk=credentials, ledger_key=key), sqlite_engine)
    check_ledger_key(Settings(database_url="", sdk=credentials, ledger_key=KEY), sqlite_engine)


@pytest.mark.postgres
def test_the_chain_is_the_same_on_sqlite_and_postgresql(sqlite_engine: Engine, pg_engine: Engine) -> None:
    """The canonical bytes are the stored fields, not how a driver returns them:
    the same rows give the same bytes on both databases (a measure's creation
    time is the one field the test's clock does not set: it is taken as equal)."""
    at = datetime(2025, 3, 5, 9, 30, 15, 123456, tzinfo=UTC)
    sealed = []
    for engine in (sqlite_engine, pg_engine):
        load_example(engine, "malmo-2025", clock=lambda: at)
        services = Services(engine, org="malmo", clock=lambda: at)
        services.add_followup(
            None, "1", period="2025-03", status=Status.ONGOING, spent=5, forecast=5,
            usable_as_planned=False, note=unicodedata.normalize("NFD", "Åsa Öberg: ändrad plan"),
        )  # fmt: skip
        with engine.connect() as conn:
            rows = []
            for s in conn.execute(text("SELECT kind, row_id FROM seals ORDER BY seq")).all():
                row = dict(stored_row(conn, s.kind, s.row_id))
                if s.kind == "measure":
                    row["created_at"] = at
                rows.append(canonical(s.kind, row))
            sealed.append(rows)
    assert len(sealed[0]) > 100 and sealed[0] == sealed[1]
    assert "Åsa Öberg".encode() in sealed[0][-1]  # text sealed in NFC, however it was written


def test_switching_the_seal_back_to_the_public_key_is_named(example_engine: Engine, monkeypatch) -> None:
    """An owner cannot launder rewritten rows by declaring them sealed with the
    development key (which anyone can compute) from some point on."""
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    check_ledger_key(Settings(database_url="", ledger_key=KEY), example_engine)
    with example_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO seal_keys (fingerprint, development, since_seal, created_at) "
                "SELECT fingerprint, development, 1000, created_at FROM seal_keys WHERE development"
            )
        )
    with example_engine.connect() as conn:
        first = verify(conn, 1).problems[0]
    assert first.kind == "key" and "tillbaka till utvecklingsnyckeln" in first.message
