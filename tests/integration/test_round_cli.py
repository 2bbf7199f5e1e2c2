"""The June round from the command line, as issue 5's "done when" reads:
with the 2025 example and a handful of installed users, `followup tick
--as-of 2025-06-02` sends each responsible person one card, a second tick
sends nothing new, `--as-of 2025-06-10` reminds only those who have not
answered, and `followup status` shows the answers, the unused money and the
reallocation proposals. The cards go to a local stand-in for the Teams
connector service."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.round_services import RoundServices
from bot.services import Services
from core.model import Role
from core.round_answers import field_name
from storage.bot_state import save_conversation_reference
from storage.db import make_engine
from tests.http.harness import ThrottlingConnectorStub
from tests.integration.test_cli import Kb, city, kb, loaded_example  # noqa: F401,F811 - fixtures
from tests.integration.test_proactive import stored_reference

PEOPLE = {"aad-fskn": "FSKN", "aad-gsn": "GSN", "aad-gvn": "GVN", "aad-hvon": "HVON"}


@pytest.fixture
def stub():  # type: ignore[no-untyped-def]
    with ThrottlingConnectorStub(global_rate=None) as connector:
        yield connector


@pytest.fixture
def installed(city: str, stub: ThrottlingConnectorStub) -> str:  # noqa: F811
    """The example with four HR leads and stadskontoret who have the bot installed."""
    engine = make_engine(city)
    services = Services(engine)
    for person, unit in PEOPLE.items():
        services.grant_role(None, person, Role.HR, unit)
    services.grant_role(None, "aad-stk", Role.CITY_OFFICE, None)
    for person in [*PEOPLE, "aad-stk"]:
        save_conversation_reference(
            engine,
            org_id=1,
            tenant_id="tenant-malmo",
            user_id=person,
            conversation_id=f"conv-{person}",
            conversation_type="personal",
            reference=stored_reference(stub.url, f"conv-{person}", person),
        )
    engine.dispose()
    return city


def cards_to(stub: ThrottlingConnectorStub) -> dict[str, int]:
    out: dict[str, int] = {}
    for send in stub.sends():
        out[send["conversation_id"]] = out.get(send["conversation_id"], 0) + 1
    return out


def test_the_june_round_from_open_to_status(
    installed: str,
    stub: ThrottlingConnectorStub,
    kb: Kb,  # noqa: F811
    tmp_path: Path,
) -> None:
    opened = kb("followup", "open", "--period", "2025-06", "--as-of", "2025-05-20")
    assert opened.code == 0, opened.err
    assert "Sista dag:     19 juni 2025" in opened.out and "10 juni 2025, 18 juni 2025" in opened.out
    assert kb("followup", "open", "--period", "2025-06").code == 2  # once per period

    first = kb("followup", "tick", "--as-of", "2025-06-02")
    assert first.code == 0, first.err
    # GVN's HR lead has answered every GVN measure already (the example's June
    # follow-ups), so gets nothing; everyone else with measures gets one card.
    assert cards_to(stub) == {"conv-aad-fskn": 1, "conv-aad-gsn": 1, "conv-aad-hvon": 1}
    card = stub.sends("conv-aad-fskn")[0]["activity"]
    assert "juni 2025" in card["text"]
    # No JSON nulls: the Teams emulator refuses a message with "id": null.
    assert None not in card.values()
    content = card["attachments"][0]["content"]
    assert content["actions"][0]["data"]["action"] == "round_answer"

    again = kb("followup", "tick", "--as-of", "2025-06-02")
    assert "Skickade: 0" in again.out
    assert kb("followup", "tick", "--as-of", "2025-06-09").code == 0
    assert cards_to(stub) == {"conv-aad-fskn": 1, "conv-aad-gsn": 1, "conv-aad-hvon": 1}

    # FSKN's HR lead answers every measure on the card.
    engine = make_engine(installed)
    rounds = RoundServices(engine)
    round_ = rounds.find("2025-06")
    mine = rounds.my_card("aad-fskn", round_.plan.opens)
    values = {}
    for mid in mine.measure_ids:
        values |= {field_name(mid, "status"): "Pågående", field_name(mid, "spent"): "100 tkr"}
        values |= {field_name(mid, "forecast"): "1 mkr", field_name(mid, "usable"): "nej"}
    _round, stored, complete = rounds.answer("aad-fskn", round_.id, values, as_of=round_.plan.opens)
    assert complete and len(stored) == len(mine.measure_ids)
    engine.dispose()

    reminder = kb("followup", "tick", "--as-of", "2025-06-10")
    assert reminder.code == 0, reminder.err
    assert cards_to(stub) == {"conv-aad-fskn": 1, "conv-aad-gsn": 2, "conv-aad-hvon": 2}
    assert "Påminnelse" in stub.sends("conv-aad-gsn")[1]["activity"]["text"]
    # FSKN's card was updated in place to say it is answered.
    assert [u["conversation_id"] for u in stub.updates()] == ["conv-aad-fskn"]
    assert "Tack, ditt svar är sparat" in str(stub.updates()[0]["activity"])

    status = kb("followup", "status", "--period", "2025-06", "--as-of", "2025-06-10", "--json")
    assert status.code == 0, status.err
    report = status.json()
    assert (report["recipients"], report["answered_recipients"]) == (4, 2)
    assert report["sends"]["prompt"] == {"sent": 3}
    assert report["sends"]["reminder-1"] == {"sent": 2}
    fskn = next(u for u in report["units"] if u["code"] == "FSKN")
    assert fskn["forecast"] == 1_000_000 * len(mine.measure_ids) and fskn["unused"] > 0
    assert report["unused"] >= fskn["unused"]
    assert any(p["to"] == 1 for p in report["proposals"])  # Undersköterskeutbildning needs more
    text = kb("followup", "status", "--period", "2025-06", "--as-of", "2025-06-10").out
    assert "Svar: 2 av 4 personer (50%)" in text and "Förslag till omfördelning" in text

    # After the deadline: the late units' HR leads and stadskontoret get the list once.
    assert kb("followup", "tick", "--as-of", "2025-06-23").code == 0
    assert kb("followup", "tick", "--as-of", "2025-06-24").code == 0
    escalations = {c: n for c, n in cards_to(stub).items()}
    assert escalations["conv-aad-stk"] == 1
    assert escalations["conv-aad-gsn"] == 3 and escalations["conv-aad-fskn"] == 1
    assert "saknade svar" in str(stub.sends("conv-aad-stk")[0]["activity"])

    for name in ("round.csv", "round.xlsx"):
        exported = kb("followup", "export", "--period", "2025-06", "--out", str(tmp_path / name))
        assert exported.code == 0, exported.err
    with (tmp_path / "round.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert rows[0][:3] == ["Nämnd", "Insats", "Id"] and len(rows) > 40
    sheet = load_workbook(tmp_path / "round.xlsx")["Omfördelningsförslag"]
    assert sheet.max_row >= 2

    closed = kb("followup", "close", "--period", "2025-06")
    assert "är stängd" in closed.out
    assert "var redan stängd" in kb("followup", "close", "--period", "2025-06").out


def test_round_commands_refuse_bad_input(city: str, kb: Kb) -> None:  # noqa: F811
    bad = kb("followup", "open", "--period", "juni")
    assert bad.code == 2 and bad.err.startswith("kompetensbot:") and "2025-06" in bad.err
    early = kb("followup", "open", "--period", "2025-06", "--opens", "2025-06-10", "--deadline", "2025-06-01")
    assert early.code == 2 and "före öppningsdagen" in early.err
    missing = kb("followup", "status", "--period", "2025-12")
    assert missing.code == 2 and "ingen uppföljningsomgång för 2025-12" in missing.err
    assert kb("followup", "open", "--period", "2025-06", "--user", "nobody").code == 2
    wrong = kb("followup", "export", "--period", "2025-06", "--out", "x.pdf")
    assert wrong.code == 2


def test_status_names_the_measures_sum_apart_from_the_units_allocation(city: str, kb: Kb) -> None:  # noqa: F811
    """Issue 17 item 12: `followup status` calls a unit's sum of its measures "Beviljat till
    insatser", not "Tilldelat" (which `funds` uses for the unit's allocation)."""
    assert kb("followup", "open", "--period", "2025-06", "--as-of", "2025-05-20").code == 0
    text = kb("followup", "status", "--period", "2025-06", "--as-of", "2025-06-10").out
    per_unit = text.split("Per nämnd:")[1].split("Insatser med risk")[0]
    assert "Beviljat till insatser" in per_unit and "Tilldelat" not in per_unit
    report = kb("followup", "status", "--period", "2025-06", "--as-of", "2025-06-10", "--json").json()
    fskn = next(u for u in report["units"] if u["code"] == "FSKN")
    assert fskn["granted_to_measures"] == 13_500_000 and "allocated" not in fskn
    funds = kb("funds", "--year", "2025", "--unit", "FSKN", "--json").json()
    assert funds["units"][0]["allocated"] == 15_000_000  # the unit's allocation: another figure
