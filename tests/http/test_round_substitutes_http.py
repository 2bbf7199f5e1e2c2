"""Issue 22's round test, through the Bot Framework protocol (the real aiohttp app in this
process, a connector stub) on the 2025 example: Anna is HR for Förskolenämnden, Per for
Gymnasie- och vuxenutbildningsnämnden; both have the bot. The June round opens and Anna gets
her card on 2 June. She is away from 9 June with Per as her substitute: on 9 June Per gets one
handover card ("Du ersätter Anna Andersson: … insatser väntar på svar") and Anna nothing, then
or on any later tick while she is away. Per answers from the card (Action.Execute); the answers
are stored as given by Per for Anna, and `followup status --json`, its text, the export and the
answered card say so. Per still sees no other committee (HVON's money is refused him) and
cannot submit a measure for FSKN."""

from __future__ import annotations

import asyncio
import csv
import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.adapter import create_adapter
from bot.clock import clock_for
from bot.config import Settings
from bot.proactive import Sender
from bot.round_runner import RoundRunner
from bot.round_services import RoundServices
from bot.services import Services
from cli.main import main
from core.model import Role
from core.substitutes import Substitution
from storage.db import make_engine
from storage.unit_of_work import units_of
from tests.http.harness import ConnectorStub, activity
from tests.http.inprocess import InProcessBot

ANNA = "4f1c2d3e-0000-4000-8000-0000000000a1"
PER = "4f1c2d3e-0000-4000-8000-0000000000b2"
PROMPT_DAY, AWAY_FROM, REMINDER_DAY = date(2025, 6, 2), date(2025, 6, 9), date(2025, 6, 10)


def _post(app: InProcessBot, body: dict[str, Any]) -> Any:
    status, answer = app.post(body)
    assert status in (200, 201, 202), (status, answer)
    return json.loads(answer) if answer else None


def _say(app: InProcessBot, stub: ConnectorStub, user: str, name: str, text: str) -> list[str]:
    """What the bot answers `user` in their personal chat."""
    before = len(stub.activities(f"conv-{user}"))
    _post(app, activity(text, service_url=stub.url, user_id=user, name=name, conversation_id=f"conv-{user}"))
    return [json.dumps(a, ensure_ascii=False) for a in stub.activities(f"conv-{user}")[before:]]


def _cards(stub: ConnectorStub, user: str) -> list[dict[str, Any]]:
    """The cards sent to `user` (a message with a text; an update in place is the card alone)."""
    return [a for a in stub.activities(f"conv-{user}") if a.get("attachments") and a.get("text")]


def _updates(stub: ConnectorStub, user: str) -> list[str]:
    """The cards sent to `user` updated in place, as JSON."""
    found = [a for a in stub.activities(f"conv-{user}") if a.get("attachments") and not a.get("text")]
    return [json.dumps(a, ensure_ascii=False) for a in found]


def _cli(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str):
    capsys.readouterr()
    with monkeypatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url)
        patch.setenv("KOMPETENSBOT_TODAY", REMINDER_DAY.isoformat())
        code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_anna_away_per_gets_one_handover_and_answers_for_her(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    services = Services(engine, org="malmo", clock=clock_for(PROMPT_DAY))
    services.grant_role(None, ANNA, Role.HR, "FSKN")
    services.grant_role(None, PER, Role.HR, "GVN")
    rounds = RoundServices(engine, org="malmo", clock=clock_for(PROMPT_DAY))
    rounds.open(None, "2025-06")
    fskn = rounds.my_card(ANNA, PROMPT_DAY).measure_ids
    stub = ConnectorStub().start()
    app = InProcessBot(database_url, demo=False, anonymous_requested=True, today=REMINDER_DAY).start()
    adapter, _auth = create_adapter(Settings(database_url="sqlite://"), storage=None)
    runner = RoundRunner(engine, Sender(adapter, None), auto_open=False)

    def tick(day: date) -> dict[str, int]:
        return dict(asyncio.run(asyncio.wait_for(runner.tick(day), 120)).outcomes)

    try:
        # both have the bot: they have written to it once
        _say(app, stub, ANNA, "Anna Andersson", "hej")
        _say(app, stub, PER, "Per Persson", "hej")
        # 2 June: Anna's card; Per has none (the example has answered every GVN measure)
        assert tick(PROMPT_DAY) == {"sent": 1}
        assert len(_cards(stub, ANNA)) == 1 and _cards(stub, PER) == []

        # Anna is away 9 June to 11 July; Per is her substitute
        uow = units_of(engine)("malmo", write=True)
        with uow as repo:
            repo.add_substitution(
                Substitution(ANNA, PER, AWAY_FROM, date(2025, 7, 11), by=ANNA), "Anna Andersson"
            )
            uow.commit()
        assert tick(AWAY_FROM) == {"sent": 1}
        [handover] = _cards(stub, PER)
        waiting = f"Du ersätter Anna Andersson: {len(fskn)} insatser väntar på svar"
        assert waiting in handover["text"]
        card = handover["attachments"][0]["content"]
        shown = json.dumps(card, ensure_ascii=False)
        assert waiting in shown and shown.count(", för Anna Andersson") == len(fskn)
        assert f"Hur går det för Anna Anderssons {len(fskn)} insatser?" in shown  # hers, not "dina"
        assert len(_cards(stub, ANNA)) == 1  # nothing to her
        # the reminder day: the handover's reminder to Per, nothing to Anna; ticks again: nothing
        assert tick(REMINDER_DAY) == {"sent": 1}
        assert "Påminnelse: Du ersätter Anna Andersson" in _cards(stub, PER)[-1]["text"]
        for day in (REMINDER_DAY, date(2025, 6, 11)):
            assert tick(day) == {}
        assert len(_cards(stub, ANNA)) == 1 and len(_cards(stub, PER)) == 2

        # Per answers from the handover card (Action.Execute), on 10 June
        data: dict[str, Any] = {"round_id": card["actions"][0]["data"]["round_id"]}
        for mid in fskn:
            data |= {f"m{mid}_status": "Pågående", f"m{mid}_spent": "100 tkr", f"m{mid}_forecast": "1 mkr"}
            data |= {f"m{mid}_usable": "Ja"}
        invoke = activity(
            None,
            service_url=stub.url,
            user_id=PER,
            name="Per Persson",
            conversation_id=f"conv-{PER}",
            activity_type="invoke",
            activity_id=str(uuid.uuid4()),
            value={
                "action": {"type": "Action.Execute", "verb": "round_answer", "data": data},
                "trigger": "manual",
            },
        )
        invoke["name"] = "adaptiveCard/action"
        answered = _post(app, invoke)
        assert answered["type"] == "application/vnd.microsoft.card.adaptive", answered
        assert json.dumps(answered["value"], ensure_ascii=False).count(
            "Per Persson för Anna Andersson"
        ) == len(fskn)
        june = [f for f in services.ledger().followups if f.period == "2025-06" and f.measure_id in fskn]
        assert {(f.author, f.author_id, f.for_id, f.for_name) for f in june} == {
            ("Per Persson", PER, ANNA, "Anna Andersson")
        }

        # every source says who gave it, and for whom
        code, out, err = _cli(
            database_url, monkeypatch, capsys, "followup", "status", "--period", "2025-06", "--json"
        )
        assert code == 0, err
        given = {m["id"]: m for m in json.loads(out)["measures"] if m["id"] in fskn}
        assert {
            (m["given_by"], m["given_by_id"], m["given_for"], m["given_for_id"]) for m in given.values()
        } == {("Per Persson", PER, "Anna Andersson", ANNA)}
        status = json.loads(out)  # Per was asked about her measures, and has answered them
        assert all(PER in m["asked"] for m in given.values()) and status["substitutes"] == [PER]
        code, out, err = _cli(database_url, monkeypatch, capsys, "followup", "status", "--period", "2025-06")
        assert out.count("lämnad av Per Persson för Anna Andersson") == len(fskn), out
        assert "personer (50%), varav 1 som ersättare för någon som är borta;" in out, out
        target = tmp_path / "uppfoljning.csv"
        code, out, err = _cli(
            database_url,
            monkeypatch,
            capsys,
            "followup",
            "export",
            "--period",
            "2025-06",
            "--out",
            str(target),
        )
        assert code == 0, err
        rows = list(csv.reader(target.open(encoding="utf-8-sig"), delimiter=";"))
        by = rows[0].index("Rapporterad av")
        assert [r[by] for r in rows[1:] if int(r[rows[0].index("Id")]) in fskn] == [
            "Per Persson för Anna Andersson"
        ] * len(fskn)
        # Anna has answered now (through Per): nothing more to anyone for her card, and her
        # card of 2 June says it is answered, and by whom
        assert tick(date(2025, 6, 18)) == {}
        assert len(_cards(stub, ANNA)) == 1 and len(_cards(stub, PER)) == 2
        assert _updates(stub, ANNA)[-1].count("Per Persson för Anna Andersson") == len(fskn)

        # Per still reads no other committee, and cannot submit a measure for FSKN
        said = " ".join(_say(app, stub, PER, "Per Persson", "saldo HVON"))
        assert "Du har inte behörighet att läsa för HVON. Dina roller: hr (GVN)." in said
        fskn_money = " ".join(_say(app, stub, PER, "Per Persson", "saldo FSKN"))  # hers, while she is away
        assert "behörighet" not in fskn_money and "15 000 000 kr" in fskn_money, fskn_money
        code, out, err = _cli(
            database_url,
            monkeypatch,
            capsys,
            "add-measure",
            "--unit",
            "FSKN",
            "--title",
            "Mentorskap för nya chefer",
            "--end",
            "31 december 2025",
            "--amount",
            "1 mkr",
            "--decision",
            "nämnd 2025-02-05 § 5",
            "--user",
            PER,
        )
        assert code != 0 and "behörighet att lämna in insatser" in err + out, (code, out, err)
        assert not app.errors.records, app.errors.lines()
    finally:
        app.stop()
        stub.stop()
        engine.dispose()


def test_an_absent_hr_leads_escalation_goes_to_her_substitute_and_the_list_names_him(
    database_url: str,
) -> None:
    """Anna (FSKN's HR lead) is away on the escalation day, 23 June, with FSKN unanswered: her
    list goes to Per, saying whose it is, and not to her; Per's "vem har inte svarat?" names
    her as "Anna Andersson (ersättare: Per Persson)"."""
    escalation_day = date(2025, 6, 23)
    engine = make_engine(database_url)
    services = Services(engine, org="malmo", clock=clock_for(PROMPT_DAY))
    services.grant_role(None, ANNA, Role.HR, "FSKN")
    services.grant_role(None, PER, Role.HR, "GVN")
    RoundServices(engine, org="malmo", clock=clock_for(PROMPT_DAY)).open(None, "2025-06")
    stub = ConnectorStub().start()
    app = InProcessBot(database_url, demo=False, anonymous_requested=True, today=escalation_day).start()
    adapter, _auth = create_adapter(Settings(database_url="sqlite://"), storage=None)
    runner = RoundRunner(engine, Sender(adapter, None), auto_open=False)
    try:
        _say(app, stub, ANNA, "Anna Andersson", "hej")
        _say(app, stub, PER, "Per Persson", "hej")
        asyncio.run(asyncio.wait_for(runner.tick(PROMPT_DAY), 120))
        uow = units_of(engine)("malmo", write=True)
        with uow as repo:
            repo.add_substitution(
                Substitution(ANNA, PER, date(2025, 6, 20), date(2025, 7, 11)), "Anna Andersson"
            )
            uow.commit()
        cards_before = len(_cards(stub, ANNA))
        result = asyncio.run(asyncio.wait_for(runner.tick(escalation_day), 120))
        assert result.outcomes["sent"] == 1, result.outcomes  # Per's; nobody else has the bot
        [escalation] = _cards(stub, PER)
        shown = json.dumps(escalation, ensure_ascii=False)
        assert "Du får listan i stället för Anna Andersson, som är borta" in shown
        assert "Förskolenämnden" in shown
        # whose committee and whose measures they are, not Per's own (he is chef for nothing there)
        assert "i den nämnd som Anna Andersson är HR för (du ersätter hen):" in shown, shown
        assert (
            "Anna Andersson har inte svarat för 4 insatser, och du svarar för dem som hens ersättare" in shown
        )
        assert "som du är HR för" not in shown and "Du har själv inte svarat" not in shown
        assert len(_cards(stub, ANNA)) == cards_before  # nothing to her while away
        said = " ".join(_say(app, stub, PER, "Per Persson", "vem har inte svarat?"))
        assert "Anna Andersson (ersättare: Per Persson)" in said, said
    finally:
        app.stop()
        stub.stop()
        engine.dispose()
