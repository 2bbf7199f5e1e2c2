"""Issue 17, items 3 and 7: every figure names its real decision.

A committee decides as itself ("TN 2025-01-28 § 17"); the bundled example
cites each committee's own decision for its share of a shared measure; a
city holding the old example is told so by load-example; a decision that
nobody gave (saved by the chat and the form before) is flagged "beslut ej
angivet"; add-measure needs the real decision; migration 0011 keeps every
stored decision readable and the seal whole."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

import bot.data_services
import storage.seal
from bot.data_services import load_example
from bot.services import Services
from cli.main import main
from core.entries import MeasureFundingEntry
from core.model import NOT_GIVEN, Body, Decision, Measure, Role
from storage.examples import read_example
from storage.seal import verify
from storage.unit_of_work import UnitOfWork

# The KS decision of 2025-03-05 (seed 000): each committee decided for itself.
OWN_DECISIONS = {
    "TN": "TN 2025-01-28 § 17",
    "MN": "MN 2025-01-29 § 7",
    "SBN": "SBN 2025-01-29 § 10",
    "FRN": "FRN 2025-01-29 § 14",
    "KN": "KN 2025-01-28 § 11",
    "ASN": "ASN 2025-01-23 § 36",
    "FSN": "FSN 2025-01-27 § 4",
    "HVON": "HVON 2025-01-29 § 2",
    "SN": "SN 2025-02-02 § 6",
    "FSKN": "FSKN 2025-02-05 § 5",
    "GSN": "GSN 2025-01-29 § 8",
    "GVN": "GVN 2025-01-31 § 5",
}


def test_every_share_of_the_example_cites_its_own_committees_decision(example_engine: Engine) -> None:
    """Issue 17 item 7: TN's and MN's shares of "Malmö Lär – gemensam samordningsresurs"
    cited SBN's "Nämnd 2025-01-29 § 10", FRN's shares of the KN/FRN measures KN's
    "2025-01-28 § 11". Every share now cites its own committee's decision, by name."""
    ledger = Services(example_engine).ledger()
    checked = 0
    for measure in ledger.measures.values():
        for funding in ledger.fundings(measure.year, measure.id):
            if funding.unit in OWN_DECISIONS:
                assert funding.decision.reference == OWN_DECISIONS[funding.unit], (
                    measure.title,
                    funding.unit,
                )
                assert funding.decision.body == funding.unit
            else:  # stadskontoret's and the board's own money: KS's working committee
                assert funding.unit in ("STK", "KS") and funding.decision.body == Body.KSAU
            checked += 1
    assert checked == sum(len(m.get("funding", {})) for m in read_example("malmo-2025")["measures"])
    [malmo_lar] = [m for m in ledger.measures.values() if m.title == "Malmö Lär – gemensam samordningsresurs"]
    shares = {f.unit: f.decision.reference for f in ledger.fundings(2025, malmo_lar.id)}
    assert shares == {"SBN": "SBN 2025-01-29 § 10", "TN": "TN 2025-01-28 § 17", "MN": "MN 2025-01-29 § 7"}


def _old_example() -> dict[str, Any]:
    """The example as it was before issue 17: committees' decisions as "nämnd",
    every share of a shared measure citing the first committee's decision (and no
    competence needs: issue 21 added them)."""
    data = copy.deepcopy(read_example("malmo-2025"))
    data.pop("needs", None)
    for measure in data["measures"]:
        measure.pop("needs", None)
    for decision in data["decisions"].values():
        if decision["body"] not in ("KF", "KS", "KSAU"):
            decision["body"] = "nämnd"
    for measure in data["measures"]:
        if isinstance(measure["decision"], dict):
            measure["decision"] = measure["decision"][measure["units"][0]]
    return data


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def cli_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert _run(capsys, "db", "upgrade")[0] == 0
    return url


def test_load_example_on_the_old_example_says_so_and_how_to_start_afresh(
    cli_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 17 item 7: the ledger is append-only, so a city that loaded the old
    example keeps it; load-example says so, and how to start afresh."""
    with monkeypatch.context() as patch:
        patch.setattr(bot.data_services, "read_example", lambda name: _old_example())
        assert _run(capsys, "load-example", "malmo-2025")[0] == 0
    code, out, _ = _run(capsys, "load-example", "malmo-2025")
    assert code == 0
    assert "finns redan i databasen (Malmö stad), men i en äldre version" in out
    assert "6 andelar av gemensamma insatser hänvisar till en annan nämnds beslut" in out
    assert 'rätt är "TN 2025-01-28 § 17"' in out or 'rätt är "MN 2025-01-29 § 7"' in out or "FRN" in out
    assert "Nämndernas beslut saknar nämndens namn" in out
    assert "inget ändrades" in out and "ta bort var/kompetensbot.db" in out
    assert "load-example malmo-2025" in out
    # the old decisions are still read as they were stored
    code, out, _ = _run(capsys, "measure", "Malmö Lär – gemensam samordningsresurs")
    assert "beslut Nämnd 2025-01-29 § 10" in out
    assert _run(capsys, "validate")[0] == 0


def test_load_example_again_on_the_current_example_changes_nothing(
    cli_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(capsys, "load-example", "malmo-2025")[0] == 0
    code, out, _ = _run(capsys, "load-example", "malmo-2025")
    assert (code, out.strip()) == (
        0,
        "Exemplet malmo-2025 finns redan i databasen (Malmö stad); inget ändrades.",
    )


def _invented_grant(url_engine: Engine) -> Measure:
    """A measure saved as the chat saved it before issue 17: "Nämnd <the day of saving>"."""
    services = Services(url_engine)
    return services.submit_measure(
        None,
        Measure(
            id=0, title="Mentorskap för nya chefer", units=("FSKN",), year=2025, end_date=date(2025, 12, 31)
        ),
        {"FSKN": 1_000_000},
        Decision(Body.COMMITTEE, date(2025, 10, 1), title="Inlämnad via kompetensbot"),
    )


def test_a_decision_nobody_gave_is_flagged_in_measures_measure_and_validate(
    cli_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 17 item 3: measures already saved with an invented decision cannot be
    changed (append-only), and are flagged "beslut ej angivet" where they are shown."""
    from storage.db import make_engine

    assert _run(capsys, "load-example", "malmo-2025")[0] == 0
    measure = _invented_grant(make_engine(cli_url))

    code, out, _ = _run(capsys, "measures", "--unit", "FSKN")
    [row] = [line for line in out.splitlines() if "Mentorskap för nya chefer" in line]
    assert row.endswith(f"1 000 000 kr    0 kr  {NOT_GIVEN}") and out.splitlines()[0].endswith("Beslut")
    others = [line for line in out.splitlines() if "Stärka formell kompetens" in line]
    assert others and NOT_GIVEN not in others[0]

    code, out, _ = _run(capsys, "measure", str(measure.id))
    assert f"Källa: 1 000 000 kr från FSKN, {NOT_GIVEN}" in out and '"Nämnd 2025-10-01"' in out
    code, out, _ = _run(capsys, "measure", str(measure.id), "--json")
    assert json.loads(out)["decision_missing"] is True

    code, out, _ = _run(capsys, "validate")
    assert code == 0  # the ledger still replays: a flag, not a broken rule
    assert f'Obs: Insats {measure.id} "Mentorskap för nya chefer" (FSKN 2025): {NOT_GIVEN}.' in out
    assert "Liggaren stämmer" in out and "Sigillet stämmer" in out


def test_the_chat_flags_a_decision_nobody_gave(example_engine: Engine) -> None:
    """Issue 17 item 3: in chat, "status" shows the measure's money as "beslut ej angivet"."""
    from tests.dialogs.conftest import Chat

    measure = _invented_grant(example_engine)
    Services(example_engine).grant_role(None, "hanna", Role.HR, "FSKN")
    [reply] = Chat(example_engine, "hanna").say(f"status {measure.title}")
    assert f"Tilldelat: 1 000 000 kr – **{NOT_GIVEN}**" in reply.text
    assert "Nämnd 2025-10-01" not in reply.text
    assert '"Beslut"' in reply.card_text() and '"ej angivet"' in reply.card_text()


def test_add_measure_reads_the_readme_decision_as_the_units_own(
    cli_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 17 item 3: the README's `--decision "nämnd 2025-02-05 § 5"` with --unit FSKN
    is FSKN's own decision; money without a decision, or with another committee's, is refused."""
    assert _run(capsys, "load-example", "malmo-2025")[0] == 0
    base = (
        "add-measure",
        "--unit",
        "FSKN",
        "--end",
        "31 december 2025",
        "--year",
        "2025",
        "--amount",
        "1 mkr",
    )
    code, _, err = _run(capsys, *base, "--title", "Utan beslut")
    assert code == 2 and "Beslut saknas: pengar beviljas bara genom ett beslut" in err
    assert "Ange det med --decision" in err
    code, _, err = _run(capsys, *base, "--title", "Fel nämnd", "--decision", "SBN 2025-01-29 § 10")
    assert code == 2 and "kan inte beviljas genom Stadsbyggnadsnämndens beslut" in err
    code, _, err = _run(
        capsys, *base, "--title", "Mentorskap för nya chefer", "--decision", "nämnd 2025-02-05 § 5"
    )
    assert code == 0, err
    code, out, _ = _run(capsys, "measure", "Mentorskap för nya chefer")
    assert "Källa: 1 000 000 kr från FSKN, beslut FSKN 2025-02-05 § 5." in out


def test_a_delegation_decision_is_stored_with_who_decided_and_sealed(example_engine: Engine) -> None:
    """Issue 17 item 3: "delegationsbeslut 2025-05-12, förvaltningsdirektör" is a decision,
    kept with who decided (migration 0011), sealed: a changed delegate breaks the seal."""
    from core.model import parse_decision

    decision = parse_decision("delegationsbeslut 2025-05-12, förvaltningsdirektör", default_body="FSKN")
    services = Services(example_engine)
    measure = services.submit_measure(
        None,
        Measure(id=0, title="Delegerad insats", units=("FSKN",), year=2025, end_date=date(2025, 12, 31)),
        {"FSKN": 100_000},
        decision,
    )
    [funding] = services.ledger().fundings(2025, measure.id)
    assert funding.decision.reference == "FSKN delegationsbeslut 2025-05-12, förvaltningsdirektör"
    assert funding.decision.delegate == "förvaltningsdirektör"
    with UnitOfWork(example_engine) as repo:
        org_id = repo.org_id
    with example_engine.connect() as conn:
        assert verify(conn, org_id).problems == ()
    with example_engine.begin() as conn:  # the owner, behind the triggers
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER decisions_no_update"))
        else:
            conn.execute(text("ALTER TABLE decisions DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE decisions SET delegate = 'kommundirektör' WHERE delegate IS NOT NULL"))
    with example_engine.connect() as conn:
        [problem, *_] = verify(conn, org_id).problems
    assert problem.kind == "decision" and "stämmer inte med sitt sigill" in problem.message


def test_migration_0011_keeps_stored_decisions_readable_and_sealed(engine: Engine) -> None:
    """Issue 17 item 7: decisions stored before 0011 ("nämnd") read as they were and
    keep their seal; a delegation decision written after is sealed with its delegate."""
    from alembic import command

    from storage.migrate import alembic_config, current, head, upgrade

    def migrate(step: Any, revision: str) -> None:
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, revision)

    with pytest.MonkeyPatch.context() as patch:  # the old example, as a city loaded it
        patch.setattr(bot.data_services, "read_example", lambda name: _old_example())
        load_example(engine, "malmo-2025", clock=lambda: datetime(2025, 3, 6, tzinfo=UTC))
    with UnitOfWork(engine) as repo:
        org_id = repo.org_id
    migrate(command.downgrade, "0010")  # the schema and the seal as 0010 knew them
    with pytest.MonkeyPatch.context() as patch, engine.connect() as conn:
        patch.setattr("storage.seal.WHEN_SET", {})
        patch.delitem(storage.seal.FIELDS, "need")  # need_entries came with 0014
        patch.delitem(storage.seal.FIELDS, "substitution")  # substitutions came with 0015
        assert verify(conn, org_id).problems == ()
    upgrade(engine)
    assert current(engine) == head()  # upgraded to the latest migration
    services = Services(engine)
    ledger = services.ledger()
    refs = {f.decision.reference for f in ledger.entries if isinstance(f, MeasureFundingEntry)}
    assert "Nämnd 2025-01-29 § 10" in refs and not any(r.startswith("TN ") for r in refs)
    with engine.connect() as conn:
        assert verify(conn, org_id).problems == ()
    from core.model import parse_decision

    services.submit_measure(
        None,
        Measure(id=0, title="Efter uppgraderingen", units=("GVN",), year=2025, end_date=date(2025, 12, 31)),
        {"GVN": 50_000},
        parse_decision("delegationsbeslut 2025-05-12, förvaltningsdirektör", default_body="GVN"),
    )
    with engine.connect() as conn:
        assert verify(conn, org_id).problems == ()


def test_a_template_that_grants_money_needs_the_decision(
    cli_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 17 item 3: an import without --decision made up "Nämnd <today>: Beviljat enligt
    mall …"; now it imports nothing, and with "nämnd …" each row's committee decided."""
    assert _run(capsys, "load-example", "malmo-2025")[0] == 0
    path = tmp_path / "gvn.csv"
    path.write_text(
        "Nämnd;Insats;Beviljat belopp;Slutdatum\r\n"
        "gymnasiet;Handledarutbildning för APL;200 tkr;2025-12-31\r\n",
        encoding="utf-8-sig",
    )
    code, out, err = _run(capsys, "import", str(path), "--as-of", "2025-03-01")
    assert code == 2 and out == ""
    assert (
        "gvn.csv beviljar belopp" in err and "Ange det med --decision" in err and "Inget importerades" in err
    )
    code, _, err = _run(
        capsys, "import", str(path), "--as-of", "2025-03-01", "--decision", "nämnd 2025-01-31 § 5"
    )
    assert code == 0, err
    code, out, _ = _run(capsys, "measure", "Handledarutbildning för APL")
    assert "Källa: 200 000 kr från GVN, beslut GVN 2025-01-31 § 5." in out


def _counts(url: str) -> tuple[int, int]:
    """(measures, ledger entries) in the city: nothing written leaves them as they were."""
    from storage.db import make_engine

    ledger = Services(make_engine(url)).ledger()
    return len(ledger.measures), len(ledger.entries)


def test_add_measure_and_import_refuse_a_decision_not_yet_taken(
    cli_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 17 item 3 (review finding 4): a decision dated after today grants no money on
    the command line either (only the chat checked it): `add-measure --decision
    "FSKN 2099-01-01 § 1"` and `import --decision` are refused in Swedish, nothing written;
    "today" is the bot's (KOMPETENSBOT_TODAY)."""
    assert _run(capsys, "load-example", "malmo-2025")[0] == 0
    before = _counts(cli_url)
    base = ("add-measure", "--unit", "FSKN", "--end", "2025-12-31", "--year", "2025", "--amount", "100 tkr")
    code, out, err = _run(capsys, *base, "--title", "Framtida beslut", "--decision", "FSKN 2099-01-01 § 1")
    assert (code, out) == (2, "")
    assert "Beslutet FSKN 2099-01-01 § 1 är daterat 1 januari 2099, efter i dag" in err
    assert "Ange ett beslut som redan är fattat." in err
    assert _counts(cli_url) == before
    monkeypatch.setenv("KOMPETENSBOT_TODAY", "2025-06-05")  # the bot's today, as in make demo
    late = ("--title", "Beslut efter demodagen", "--decision", "FSKN 2025-06-20 § 1")
    code, _, err = _run(capsys, *base, *late)
    assert code == 2 and "efter i dag (5 juni 2025)" in err
    assert _counts(cli_url) == before
    path = tmp_path / "fskn.csv"
    path.write_text(
        "Nämnd;Insats;Beviljat belopp;Slutdatum\r\nFSKN;Språkombud i förskolan;50 tkr;2025-12-31\r\n",
        encoding="utf-8-sig",
    )
    code, out, err = _run(capsys, "import", str(path), "--decision", "nämnd 2099-01-01 § 1")
    assert code == 2 and out == ""
    assert "filen importerades inte" in err
    assert "Beslutet FSKN 2099-01-01 § 1 är daterat 1 januari 2099" in err
    assert _counts(cli_url) == before
    code, _, err = _run(capsys, "import", str(path), "--decision", "nämnd 2025-02-05 § 5")
    assert code == 0, err


def test_a_shared_measure_without_a_decision_is_refused_once_by_the_core(example_engine: Engine) -> None:
    """Review finding 4: the services leave the missing decision to the core (grant_measure),
    which says it once, in Swedish, for a measure shared by two committees; nothing written."""
    from core.errors import RuleViolation
    from core.rules.decision import DECISION_REQUIRED

    services = Services(example_engine)
    before = len(services.ledger().measures)
    measure = Measure(id=0, title="Gemensam utan beslut", units=("FSKN", "GSN"), year=2025)
    with pytest.raises(RuleViolation) as refused:
        services.submit_measure(None, measure, {"FSKN": 1_000, "GSN": 1_000}, None)
    assert refused.value.message == DECISION_REQUIRED
    assert len(services.ledger().measures) == before


def test_a_database_from_before_the_upgrade_is_told_to_upgrade(
    cli_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A city that installs this version and runs a command before `db upgrade` (its
    database at 0010, without 0011's column) is told to upgrade, not that the database
    "does not answer"."""
    from alembic import command

    from storage.db import make_engine
    from storage.migrate import alembic_config

    assert _run(capsys, "load-example", "malmo-2025")[0] == 0
    engine = make_engine(cli_url)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    engine.dispose()
    code, _out, err = _run(capsys, "measures", "--unit", "FSKN")
    assert code != 0
    assert "äldre schema än programmet. Kör först: kompetensbot db upgrade" in err
    assert _run(capsys, "db", "upgrade")[0] == 0
    assert _run(capsys, "measures", "--unit", "FSKN")[0] == 0
