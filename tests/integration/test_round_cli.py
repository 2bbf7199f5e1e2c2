"""The June round from the command line, as issue 5's "done when" reads:
with the 2025 example and a handful of installed users, `followup tick
--as-of 2025-06-02` sends each responsible person one card, a second tick
sends nothing new, `--as-of 2025-06-10` reminds only those who have not
answered, and `followup status` shows the answers, the unused money and the
reallocation proposals. The cards go to a local stand-in for the Teams
connector service."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.clock import clock_for
from bot.round_services import RoundServices
from bot.services import Services
from core.model import Role
from core.round_answers import field_name
from core.rounds import SendKind
from storage.bot_state import save_conversation_reference
from storage.db import make_engine
from tests.http.harness import ThrottlingConnectorStub
from tests.integration.test_cli import Kb, city, kb, loaded_example  # noqa: F401,F811 - fixtures
from tests.integration.test_proactive import stored_reference

PEOPLE = {"aad-fskn": "FSKN", "aad-gsn": "GSN", "aad-gvn": "GVN", "aad-hvon": "HVON"}


@pytest.fixture
def stub():
    with ThrottlingConnectorStub(global_rate=None) as connector:
        yield connector


@pytest.fixture
def installed(city: str, stub: ThrottlingConnectorStub) -> str:  # noqa: F811
    """The example with four HR leads and stadskontoret who have the bot installed."""
    people: dict[str, tuple[Role, str | None]] = {p: (Role.HR, u) for p, u in PEOPLE.items()}
    _install(city, stub, {**people, "aad-stk": (Role.CITY_OFFICE, None)})
    return city


def _install(
    city: str,
    stub: ThrottlingConnectorStub,
    people: dict[str, tuple[Role, str | None]],  # noqa: F811
    names: dict[str, str] | None = None,
) -> None:
    """Grants each person a role and installs the bot for them (a stored conversation)."""
    engine = make_engine(city)
    services = Services(engine)
    for person, (role, unit) in people.items():
        services.grant_role(None, person, role, unit)
    for person in people:
        reference = stored_reference(stub.url, f"conv-{person}", person)
        if names and person in names:
            reference["user"]["name"] = names[person]
        save_conversation_reference(
            engine,
            org_id=1,
            tenant_id="tenant-malmo",
            user_id=person,
            conversation_id=f"conv-{person}",
            conversation_type="personal",
            reference=reference,
        )
    engine.dispose()


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
    # Issue 20: an Action.Execute (Action.Submit for older clients) that refreshes itself for her.
    assert content["actions"][0]["type"] == "Action.Execute"
    assert content["actions"][0]["fallback"]["type"] == "Action.Submit"
    assert content["refresh"]["userIds"] == ["29:aad-fskn"]

    again = kb("followup", "tick", "--as-of", "2025-06-02")
    assert "Skickade: 0" in again.out
    assert kb("followup", "tick", "--as-of", "2025-06-09").code == 0
    assert cards_to(stub) == {"conv-aad-fskn": 1, "conv-aad-gsn": 1, "conv-aad-hvon": 1}

    # FSKN's HR lead answers every measure on the card, on the day it opens.
    engine = make_engine(installed)
    rounds = RoundServices(engine, clock=clock_for(date(2025, 6, 2)))
    round_ = rounds.find("2025-06")
    mine = rounds.my_card("aad-fskn", round_.plan.opens)
    values: dict[str, str] = {}
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

    # By 16 June the example's answers of GVN (12 June) and Undersköterskeutbildning (16 June) are in.
    status = kb("followup", "status", "--period", "2025-06", "--as-of", "2025-06-16", "--json")
    assert status.code == 0, status.err
    report = status.json()
    assert (report["recipients"], report["answered_recipients"]) == (4, 2)
    assert report["sends"]["prompt"] == {"sent": 3}
    assert report["sends"]["reminder-1"] == {"sent": 2}
    fskn = next(u for u in report["units"] if u["code"] == "FSKN")
    assert fskn["forecast"] == 1_000_000 * len(mine.measure_ids) and fskn["unused"] > 0
    assert report["unused"] >= fskn["unused"]
    assert any(p["to"] == 1 for p in report["proposals"])  # Undersköterskeutbildning needs more
    text = kb("followup", "status", "--period", "2025-06", "--as-of", "2025-06-16").out
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


@pytest.fixture
def three_people(city: str, stub: ThrottlingConnectorStub) -> str:  # noqa: F811
    """The example as issue 17 found it: HR for FSKN, HR for GVN and stadskontoret,
    all with the bot installed; nobody else has a role."""
    _install(
        city,
        stub,
        {"aad-fskn": (Role.HR, "FSKN"), "aad-gvn": (Role.HR, "GVN"), "aad-stk": (Role.CITY_OFFICE, None)},
        {"aad-fskn": "Anna Andersson", "aad-gvn": "Gustav Berg", "aad-stk": "Sara Ek"},
    )
    return city


def test_measures_with_nobody_to_ask_are_counted_with_their_units_before_anything_is_sent(
    three_people: str,
    stub: ThrottlingConnectorStub,
    kb: Kb,  # noqa: F811
) -> None:
    """Issue 17 item 13: with hr FSKN, hr GVN and stadskontoret, most measures have
    nobody to send to. `followup open` says so, with the units, before a card goes
    out, and `followup status` accounts for every measure: answered, asked and not
    answered, or no recipient."""
    opened = kb("followup", "open", "--period", "2025-06", "--as-of", "2025-05-20")
    assert opened.code == 0, opened.err
    assert stub.sends() == []  # nothing sent yet
    report = kb("followup", "status", "--period", "2025-06", "--as-of", "2025-06-02", "--json").json()
    measures = report["measures"]
    nobody = [m for m in measures if m["state"] == "ingen mottagare"]
    no_recipient = [m for m in measures if not m["asked"]]
    units = {u for m in no_recipient for u in m["units"]}
    # Every unit with money but FSKN and GVN has measures nobody can be asked about.
    assert units == {u["code"] for u in report["units"]} - {"FSKN", "GVN"} and len(units) == 12
    assert len(no_recipient) > len(measures) / 2
    assert report["no_recipient"]["measures"] == len(no_recipient)
    assert {u["code"] for u in report["no_recipient"]["units"]} == units
    counts = (report["measures_answered"], report["measures_not_answered"], report["measures_no_recipient"])
    assert sum(counts) == len(measures) and counts[2] == len(nobody) > 0
    assert f"Ingen mottagare för {len(no_recipient)} av {len(measures)} insatser, i 12 nämnder" in opened.out
    for code in units:
        assert f"({code}): " in opened.out, code
    assert "Grundskolenämnden (GSN): 14 insatser" in opened.out
    assert "roles grant <AAD-objekt-id> hr --unit KOD" in opened.out
    text = kb("followup", "status", "--period", "2025-06", "--as-of", "2025-06-02").out
    assert f"Ingen mottagare för {len(no_recipient)} av {len(measures)} insatser, i 12 nämnder" in text
    assert (
        f"Insatser i omgången: {len(measures)} ({counts[0]} besvarade, {counts[1]} tillfrågade utan svar, "
        f"{counts[2]} utan mottagare och utan svar)." in text
    )


def test_reach_with_everyone_reachable_names_the_measures_nobody_is_asked_about(
    three_people: str,
    kb: Kb,  # noqa: F811
) -> None:
    """Issue 22, testers: `followup reach` said "Alla mottagare kan nås" and nothing of the
    measures no card goes out for; it names them, counted per committee, as `followup open` does."""
    result = kb("followup", "reach", "--period", "2025-06", "--as-of", "2025-05-20")
    assert result.code == 0, result.err
    data = kb("followup", "reach", "--period", "2025-06", "--as-of", "2025-05-20", "--json").json()
    assert data["unreachable"] == [] and data["recipients"] > 0
    nobody = data["no_recipient"]["measures"]
    units = {u["code"]: u["measures"] for u in data["no_recipient"]["units"]}
    assert len(nobody) > 10 and "FSKN" not in units and units["GSN"] > 0
    assert (
        f"Alla mottagare kan nås, men {len(nobody)} obesvarade insatser har ingen mottagare alls (se nedan)."
        in result.out
    )
    assert f"Ingen mottagare för {len(nobody)} obesvarade insatser, i {len(units)} nämnder" in result.out
    assert f"Grundskolenämnden (GSN): {units['GSN']} insatser" in result.out
    assert "roles grant <AAD-objekt-id> hr --unit KOD" in result.out


def _texts(activity: dict[str, Any]) -> str:
    """What a person reads in a message: its text and every text of its card."""
    found = [activity.get("text") or ""]
    for attachment in activity.get("attachments") or []:
        for element in attachment["content"]["body"]:
            found.append(element.get("text") or "")
    return "\n".join(found)


def test_the_escalation_lists_every_committee_with_missing_answers_and_speaks_to_its_reader(
    three_people: str,
    stub: ThrottlingConnectorStub,
    kb: Kb,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Issue 17 items 13 and 14: stadskontoret's escalation is one line per committee
    with missing answers (waiting, no recipient, people asked), every such committee,
    counting the measures nobody was asked about, not "1 person har inte svarat";
    the people's names are in "Visa alla" and the export; an HR lead is told "du"."""
    assert kb("followup", "open", "--period", "2025-06", "--as-of", "2025-05-20").code == 0
    assert kb("followup", "tick", "--as-of", "2025-06-02").code == 0
    assert kb("followup", "tick", "--as-of", "2025-06-23").code == 0
    report = kb("followup", "status", "--period", "2025-06", "--as-of", "2025-06-23", "--json").json()
    committees = report["committees"]
    assert len(committees) == 13  # every unit with money has a measure without an answer
    [city_office] = stub.sends("conv-aad-stk")
    seen = _texts(city_office["activity"])
    assert "har inte svarat för sina insatser" not in seen and "… och" not in seen
    missing = report["measures_not_answered"] + report["measures_no_recipient"]
    assert f"svar saknas för {missing} insatser i 13 nämnder" in seen
    assert f"och {report['measures_no_recipient']} har ingen mottagare" in seen
    lines = [line for line in seen.splitlines() if line.startswith("- **")]
    assert len(lines) == 13
    for c in committees:
        n = c["not_answered"]
        waiting = f"{n} insats väntar" if n == 1 else f"{n} insatser väntar"
        asked = f"{c['asked']} person tillfrågad" if c["asked"] == 1 else f"{c['asked']} personer tillfrågade"
        [line] = [line for line in lines if f"({c['code']})**" in line]
        assert line.endswith(f"{waiting} på svar, {c['no_recipient']} utan mottagare, {asked}"), line
    gsn = next(line for line in lines if "(GSN)" in line)
    assert "utan mottagare" in gsn and "0 personer tillfrågade" in gsn
    assert "Anna Andersson" not in seen  # the names come with "Visa alla"
    assert city_office["activity"]["attachments"][0]["content"]["actions"][0]["title"] == "Visa alla"
    assert len(json.dumps(city_office["activity"], ensure_ascii=False).encode("utf-8")) < 60_000
    # FSKN's HR lead has not answered: the list speaks to her.
    hr = _texts(stub.sends("conv-aad-fskn")[-1]["activity"])
    assert "i den nämnd som du är HR för" in hr and "Du har själv inte svarat för 4 insatser" in hr
    assert "Stärka formell kompetens" in hr
    # The names are in the export.
    assert kb("followup", "export", "--period", "2025-06", "--out", str(tmp_path / "r.csv")).code == 0
    with (tmp_path / "r.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    fskn = [r for r in rows if r["Nämnd"] == "FSKN"]
    assert fskn and all(r["Tillfrågade"] == "Anna Andersson (aad-fskn)" for r in fskn)
    assert {r["Läge"] for r in rows} == {"besvarad", "tillfrågad, ej besvarad", "ingen mottagare"}
    assert kb("followup", "export", "--period", "2025-06", "--out", str(tmp_path / "r.xlsx")).code == 0
    late = list(load_workbook(tmp_path / "r.xlsx")["Saknade svar"].values)
    assert late[0] == ("Nämnd", "Kod", "Person", "Id", "Obesvarade insatser")
    assert ("Förskolenämnden", "FSKN", "Anna Andersson", "aad-fskn") in [row[:4] for row in late]
    assert {row[1] for row in late[1:]} == {c["code"] for c in committees}


def test_a_round_the_tick_opens_says_which_units_have_no_recipient(
    three_people: str,
    stub: ThrottlingConnectorStub,
    kb: Kb,  # noqa: F811
) -> None:
    """Issue 17 item 13: a round opened by the tick (not `followup open`) also says
    how many measures have nobody to ask, and in which units."""
    ticked = kb("followup", "tick", "--as-of", "2025-06-02")
    assert ticked.code == 0, ticked.err
    assert "Öppnade uppföljningsomgången malmo 2025-06." in ticked.out
    assert "i 12 nämnder" in ticked.out and "Grundskolenämnden (GSN): 14 insatser" in ticked.out


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


def test_status_and_export_on_a_day_count_only_the_answers_reported_by_then(
    city: str,
    kb: Kb,
    tmp_path: Path,  # noqa: F811
) -> None:
    """Review finding 2 (issue 17 item 6): the round's figures use the clock as the funds do.
    On 5 June 2025 Yrkeslärarsatsning's June follow-up (reported 12 June) is not an answer
    yet: status and export say "tillfrågad, ej besvarad", not "besvarad"; on 20 June it is."""
    grants = Services(make_engine(city))
    grants.grant_role(None, "aad-gvn", Role.HR, "GVN")
    assert kb("followup", "open", "--period", "2025-06", "--as-of", "2025-05-20").code == 0

    def yrkes(as_of: str) -> dict[str, Any]:
        report = kb("followup", "status", "--period", "2025-06", "--as-of", as_of, "--json").json()
        return next(m for m in report["measures"] if m["title"] == "Yrkeslärarsatsning")

    early = yrkes("2025-06-05")
    assert early["state"] == "tillfrågad, ej besvarad" and not early["answered"] and early["spent"] == 0
    assert yrkes("2025-06-20")["state"] == "besvarad"
    text = kb("followup", "status", "--period", "2025-06", "--as-of", "2025-06-05").out
    assert "Svar: 0 av 1 person (0%); 0 av " in text
    out = tmp_path / "early.csv"
    exported = kb("followup", "export", "--period", "2025-06", "--as-of", "2025-06-05", "--out", str(out))
    assert exported.code == 0, exported.err
    with out.open(encoding="utf-8-sig") as f:
        [row] = [r for r in csv.DictReader(f, delimiter=";") if r["Insats"] == "Yrkeslärarsatsning"]
    assert row["Svarat"] == "Nej" and row["Läge"] == "tillfrågad, ej besvarad"


def test_a_tick_on_the_settings_date_reports_the_opened_round_on_that_date(
    three_people: str,
    stub: ThrottlingConnectorStub,
    kb: Kb,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review finding 3 (issue 17 item 6): `followup tick` without --as-of on the settings'
    date 2025-06-02 opens the June round and accounts for its measures on that day (none
    answered yet: the example's answers come 10-18 June), not on the machine's date."""
    monkeypatch.setenv("KOMPETENSBOT_TODAY", "2025-06-02")
    ticked = kb("followup", "tick")
    assert ticked.code == 0, ticked.err
    assert "Öppnade uppföljningsomgången malmo 2025-06." in ticked.out
    assert "Insatser i omgången: 45 (0 besvarade, " in ticked.out


def test_followup_propose_sends_one_card_to_each_ksau_member_once(
    city: str,
    stub: ThrottlingConnectorStub,
    kb: Kb,  # noqa: F811
) -> None:
    """Issue 20: `kompetensbot followup propose --period 2025-06` sends a closed round's
    proposals to everyone with the ksau role, one card each, sent at once and once. The
    close with nobody in the ksau role says why none went; an open round's are not sent."""
    assert kb("followup", "open", "--period", "2025-06", "--as-of", "2025-05-20").code == 0
    early = kb("followup", "propose", "--period", "2025-06", "--as-of", "2025-06-24")
    assert early.code == 2 and "Uppföljningen juni 2025 är inte stängd" in early.err
    closed = kb("followup", "close", "--period", "2025-06")
    assert closed.code == 0 and "Uppföljningen juni 2025 är stängd" in closed.out
    assert "Inga omfördelningsförslag skickades till KSAU: Ingen har rollen ksau" in closed.out
    _install(city, stub, {"aad-ksau-1": (Role.KSAU, None), "aad-ksau-2": (Role.KSAU, None)})
    sent = kb("followup", "propose", "--period", "2025-06", "--as-of", "2025-06-24")
    assert sent.code == 0, sent.err
    assert "(1 förslag) skickas nu till 2 av 2 med rollen ksau" in sent.out and "Skickade: 2" in sent.out
    assert cards_to(stub) == {"conv-aad-ksau-1": 1, "conv-aad-ksau-2": 1}
    content = stub.sends("conv-aad-ksau-1")[0]["activity"]["attachments"][0]["content"]
    assert content["actions"][0]["verb"] == "ksau_decide" and "660 000 kr" in str(content)
    again = kb("followup", "propose", "--period", "2025-06", "--as-of", "2025-06-24")
    assert again.code == 0 and "redan skickade" in again.out
    assert cards_to(stub) == {"conv-aad-ksau-1": 1, "conv-aad-ksau-2": 1}
    status = kb("followup", "status", "--period", "2025-06", "--as-of", "2025-06-24")
    assert "omfördelningsförslag" in status.out
    refused = kb("followup", "propose", "--period", "2025-12")
    assert refused.code == 2 and "Det finns ingen uppföljningsomgång för 2025-12" in refused.err


def test_followup_close_sends_the_proposals_to_each_ksau_member(
    city: str,
    stub: ThrottlingConnectorStub,
    kb: Kb,  # noqa: F811
) -> None:
    """Issue 20: `followup close` sends KSAU's card with the close, one to each ksau member
    (recorded for the round's sender, as a close from chat does)."""
    _install(city, stub, {"aad-ksau-1": (Role.KSAU, None), "aad-ksau-2": (Role.KSAU, None)})
    assert kb("followup", "open", "--period", "2025-06", "--as-of", "2025-05-20").code == 0
    closed = kb("followup", "close", "--period", "2025-06")
    assert closed.code == 0, closed.err
    assert "(1 förslag) skickas nu till 2 av 2 med rollen ksau" in closed.out
    engine = make_engine(city)
    try:
        sends = RoundServices(engine).sends("2025-06")
    finally:
        engine.dispose()
    assert sorted(s.recipient for s in sends if s.kind == SendKind.PROPOSALS) == ["aad-ksau-1", "aad-ksau-2"]
