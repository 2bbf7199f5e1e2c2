"""Issue 22 through the Bot Framework protocol (the real aiohttp app, an anonymous server with
roles, the bot's date 2025-06-05): HR of Förskolenämnden names Per Persson as substitute for
Bo Ek, a chef of her committee, confirms with "ja", and Bo and Per are told in their own chats
with the bot (proactive messages through their stored conversations, to the connector stub);
"nej" to a second one writes nothing; Bo's "jag är tillbaka" ends nothing (his absence has not
begun) and lists it, and he takes it away with "avsluta min frånvaro 16/6–11/7", Per told."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.clock import clock_for
from bot.services import Services
from core.model import Role
from storage.db import make_engine
from storage.unit_of_work import UnitOfWork
from tests.http.harness import ConnectorStub, activity
from tests.http.inprocess import InProcessBot

JUNE = date(2025, 6, 5)
HR, BO, PER = "aad-hr-fskn", "aad-bo", "aad-per"


def _send(app: InProcessBot, stub: ConnectorStub, user: str, name: str, text: str) -> list[dict[str, Any]]:
    conversation = f"conv-{user}"
    before = len(stub.activities(conversation))
    status, _ = app.post(
        activity(text, service_url=stub.url, user_id=user, name=name, conversation_id=conversation)
    )
    assert status in (200, 201, 202), status
    return [a for a in stub.activities(conversation)[before:] if a.get("type") == "message"]


def test_hr_names_a_substitute_and_the_absent_chef_is_told_in_his_chat(database_url: str) -> None:
    engine = make_engine(database_url)
    services = Services(engine, org="malmo", clock=clock_for(JUNE))
    services.grant_role(None, HR, Role.HR, "FSKN")
    services.grant_role(None, BO, Role.CHEF, "FSKN")
    services.grant_role(None, PER, Role.CHEF, "GVN")
    stub = ConnectorStub().start()
    app = InProcessBot(database_url, demo=False, anonymous_requested=True, today=JUNE).start()

    def substitutions() -> list[tuple[str, str, date, date, date | None]]:
        with UnitOfWork(engine) as repo:
            return [(s.absent, s.substitute, s.first, s.last, s.ended_on) for s in repo.substitutions()]

    try:
        _send(app, stub, BO, "Bo Ek", "hej")  # Bo and Per have written to the bot: known by name
        _send(app, stub, PER, "Per Persson", "hej")

        [question] = _send(app, stub, HR, "Hanna Holm", "Per Persson ersätter Bo 16/6–11/7")
        assert question["text"].startswith("Per Persson ersätter Bo Ek 16 juni–11 juli 2025.")
        assert "Stämmer det?" in question["text"]
        assert substitutions() == []
        saved, told, told_per = _send(app, stub, HR, "Hanna Holm", "ja")
        assert saved["text"] == "Sparat: Per Persson ersätter Bo Ek 16 juni–11 juli 2025."
        assert told["text"] == "Jag har skickat ett meddelande om det till Bo Ek."
        assert told_per["text"] == "Jag har skickat ett meddelande om det till Per Persson."
        assert substitutions() == [(BO, PER, date(2025, 6, 16), date(2025, 7, 11), None)]
        [notice] = [a for a in stub.activities(f"conv-{BO}") if "har angett att" in (a.get("text") or "")]
        assert notice["text"].startswith(
            "Hanna Holm har angett att Per Persson ersätter dig 16 juni–11 juli 2025. Under tiden får "
            "Per Persson läsa och följa upp Förskolenämndens insatser och svara på uppföljningen för dig, "
            "inget annat."
        )
        [made] = [a for a in stub.activities(f"conv-{PER}") if "ersättare" in (a.get("text") or "")]
        assert made["text"] == (
            "Hanna Holm har gjort dig till ersättare för Bo Ek 16 juni–11 juli 2025: du får läsa och följa "
            "upp Förskolenämndens insatser och svara på uppföljningen för hen."
        )

        _send(app, stub, HR, "Hanna Holm", "Per Persson ersätter Bo 1/8–8/8")
        [not_saved] = _send(app, stub, HR, "Hanna Holm", "nej")
        assert not_saved["text"] == "Okej, jag sparade ingen ersättare. Inget är ändrat."
        assert len(substitutions()) == 1

        [none] = _send(app, stub, BO, "Bo Ek", "jag är tillbaka")  # not yet away: nothing ended
        assert none["text"].startswith(
            "Du har ingen frånvaro som pågår i dag (5 juni 2025). Kommande: 16 juni"
        )
        [ask] = _send(app, stub, BO, "Bo Ek", "avsluta min frånvaro 16/6–11/7")
        assert ask["text"].startswith("Ska jag avsluta din frånvaro från 16 juni 2025?")
        gone, told_per = _send(app, stub, BO, "Bo Ek", "ja")
        assert gone["text"] == "Din frånvaro från 16 juni 2025 är borttagen (Per Persson ersätter inte)."
        assert told_per["text"] == "Jag har skickat ett meddelande om det till Per Persson."
        assert substitutions() == [(BO, PER, date(2025, 6, 16), date(2025, 7, 11), date(2025, 6, 16))]
        assert any(
            a.get("text")
            == "Bo Ek har avslutat sin frånvaro från 16 juni 2025: du är inte längre ersättare för hen."
            for a in stub.activities(f"conv-{PER}")
        )
        assert not app.errors.records, app.errors.lines()
    finally:
        app.stop()
        stub.stop()
        engine.dispose()
