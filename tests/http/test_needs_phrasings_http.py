"""Issue 21 through the Bot Framework protocol (the real aiohttp app, an anonymous server with
roles, the bot's date 2025-06-05), as two strangers asked: HR of Förskolenämnden asks how much
money goes to a role in ordinary words and gets the money per role of the example's needs, not
"Menade du Förskolenämnden?"; she asks for a need by its id and gets that need; HR of
Grundskolenämnden asks for the same id and is answered as for an id that does not exist."""

from __future__ import annotations

from datetime import date

from bot.services import Services
from core.model import Role
from storage.db import make_engine
from tests.http.harness import ConnectorStub, activity
from tests.http.inprocess import InProcessBot

JUNE = date(2025, 6, 5)
HR_FSKN = "aad-hr-fskn"
HR_GSN = "aad-hr-gsn"


def _send(app: InProcessBot, stub: ConnectorStub, user: str, text: str) -> list[str]:
    conversation = f"conv-{user}"
    before = len(stub.activities(conversation))
    status, _ = app.post(
        activity(text, service_url=stub.url, user_id=user, name="HR", conversation_id=conversation)
    )
    assert status in (200, 201, 202), status
    return [a.get("text") or "" for a in stub.activities(conversation)[before:] if a.get("type") == "message"]


def test_money_per_role_in_ordinary_words_and_a_need_by_its_id(database_url: str) -> None:
    engine = make_engine(database_url)
    services = Services(engine, org="malmo")
    services.grant_role(None, HR_FSKN, Role.HR, "FSKN")
    services.grant_role(None, HR_GSN, Role.HR, "GSN")
    stub = ConnectorStub().start()
    app = InProcessBot(database_url, demo=False, anonymous_requested=True, today=JUNE).start()
    try:
        [money] = _send(app, stub, HR_FSKN, "hur mycket pengar går till förskollärare?")
        assert money.startswith("**Pengar till kompetensbehov för Förskollärare 2025**")
        assert "- Förskollärare: 6 000 000 kr" in money and "Menade du" not in money

        [money] = _send(app, stub, HR_FSKN, "hur mkt går till barnskötare?")
        assert "- Barnskötare: 3 500 000 kr" in money and "Jag hittar ingen nämnd" not in money

        [one] = _send(app, stub, HR_FSKN, "behov FSKN-3")
        assert one.startswith("**Behov FSKN-3: Barnskötare** (FSKN, Förskola)")
        assert "svarar mot behovet 2025" in one and "Behovet har bedömts en gång." in one

        [hidden] = _send(app, stub, HR_GSN, "FSKN-3")
        [unknown] = _send(app, stub, HR_GSN, "FSKN-99")
        assert hidden == unknown.replace("FSKN-99", "FSKN-3")
        assert (
            'Behovet "FSKN-3" finns inte bland behoven du kan se.' in hidden and "Barnskötare" not in hidden
        )
        assert not app.errors.records, app.errors.lines()
    finally:
        app.stop()
        stub.stop()
        engine.dispose()
