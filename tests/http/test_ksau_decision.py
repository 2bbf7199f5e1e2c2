"""Issue 20, KSAU's decision from a card, through the Bot Framework protocol: the
application in this process (tests/http/inprocess.py) with a stand-in connector
(tests/http/harness.py: ConnectorStub) that records every card sent and updated.

Stadskontoret sends the proposals ("skicka omfördelningsförslagen till KSAU");
the round's sender gives each ksau member one card (a tick box per proposal, the
decision field, "Registrera beslut" as Action.Execute); a member's invoke
records the ticked proposals through the reallocation rule, a proposal whose
basis changed since is refused with the reason, the unticked are not decided;
the same invoke again records nothing new; another member's copy is refused
with who decided and when, and every sent card is updated to say it."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date
from typing import Any

from bot.adapter import create_adapter
from bot.clock import clock_for
from bot.config import Settings
from bot.proactive import Sender
from bot.round_runner import RoundRunner
from bot.round_services import RoundServices
from bot.services import Services
from core.entries import ReallocationEntry
from core.model import Role, Status
from core.rounds import SendKind
from storage.db import make_engine
from tests.http.harness import ConnectorStub, activity
from tests.http.inprocess import InProcessBot

TODAY = date(2025, 6, 24)
STK, KARIN, KALLE = "aad-stk", "aad-karin", "aad-kalle"
NAMES = {STK: "Sara Stadskontoret", KARIN: "Karin Ksau", KALLE: "Kalle Ksau"}


def _say(app: InProcessBot, stub: ConnectorStub, user: str, text: str | None, value: Any = None) -> str:
    before = len(stub.received)
    body = activity(
        text, service_url=stub.url, user_id=user, name=NAMES[user], conversation_id=f"c-{user}", value=value
    )
    assert app.post(body)[0] in (200, 202)
    return "\n".join(a.get("text") or "" for a in stub.received[before:])


def _invoke(
    app: InProcessBot, stub: ConnectorStub, user: str, verb: str, data: dict[str, Any], *, auto=False
):
    body = activity(
        None,
        service_url=stub.url,
        user_id=user,
        name=NAMES[user],
        conversation_id=f"c-{user}",
        activity_type="invoke",
        value={
            "action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": "automatic" if auto else "manual",
        },
    )
    body["name"] = "adaptiveCard/action"
    status, answer = app.post(body)
    assert status == 200, answer
    return json.loads(answer)


def _tick(engine) -> None:
    adapter, _ = create_adapter(Settings(database_url="sqlite://"), storage=None)
    runner = RoundRunner(engine, Sender(adapter, None), auto_open=False)
    asyncio.run(asyncio.wait_for(runner.tick(TODAY), 60))


def _cards(stub: ConnectorStub, user: str) -> list[dict[str, Any]]:
    return [
        att["content"]
        for a in stub.activities(f"c-{user}")
        for att in a.get("attachments") or []
        if att.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def _reallocations(services: Services) -> list[ReallocationEntry]:
    return [e for e in services.ledger().entries if isinstance(e, ReallocationEntry)]


def test_ksau_decides_from_one_card_and_every_copy_shows_the_decision(database_url) -> None:
    engine = make_engine(database_url)
    services = Services(engine, org="malmo", clock=clock_for(TODAY))  # reported on the bot's day
    for user, role in ((STK, Role.CITY_OFFICE), (KARIN, Role.KSAU), (KALLE, Role.KSAU)):
        services.grant_role(None, user, role, None)
    rounds = RoundServices(engine, org="malmo", clock=clock_for(TODAY))
    rounds.open(None, "2025-06")
    stub = ConnectorStub().start()
    app = InProcessBot(database_url, demo=False, today=TODAY, service_urls=stub.url.rstrip("/")).start()
    try:
        for user in NAMES:
            _say(app, stub, user, "hej")  # each has the bot: a stored 1:1 conversation
        # Asked while the round is open, the proposals are preliminary: one so far, nothing to tick.
        _say(app, stub, KARIN, "vilka förslag finns?")
        [early] = _cards(stub, KARIN)
        assert "Preliminära förslag" in json.dumps(early, ensure_ascii=False)
        assert "Input.Toggle" not in json.dumps(early) and "actions" not in early
        assert "Ingen uppföljningsomgång är stängd ännu" in _say(
            app, stub, STK, "skicka omfördelningsförslagen till KSAU"
        )
        # Two more measures report a need (on top of the example's 660 000 kr for measure 1).
        for ref, forecast in (("2", 3_500_000), ("3", 2_700_000)):
            services.add_followup(
                None,
                ref,
                period="2025-06",
                status=Status.ONGOING,
                spent=1_000_000,
                forecast=forecast,
                usable_as_planned=True,
                amount_confirmed=True,
            )
        # Only stadskontoret sends; KSAU asking to send is refused.
        assert "behörighet" in _say(app, stub, KARIN, "skicka omfördelningsförslagen till KSAU")
        # Closing the round from chat sends the set as it is then: the new proposals included.
        assert "Stänga uppföljningen juni 2025?" in _say(app, stub, STK, "stäng junirundan")
        said = _say(app, stub, STK, "ja")
        assert "(3 förslag) skickas nu till 2 av 2 med rollen ksau" in said, said
        _tick(engine)
        [_, karins] = _cards(stub, KARIN)
        [kalles] = _cards(stub, KALLE)
        assert karins["version"] == "1.5" and karins["refresh"]["userIds"] == [f"29:{KARIN}"]
        toggles = [
            i["id"] for c in karins["body"] if c["type"] == "Container" for i in c["items"] if "id" in i
        ]
        assert toggles == ["p1", "p2", "p3"]
        assert "**1. 660 000 kr** från Yrkeslärare i vård och omsorg (id 15)" in json.dumps(
            karins, ensure_ascii=False
        )
        [action] = karins["actions"]
        assert action["type"] == "Action.Execute" and action["fallback"]["type"] == "Action.Submit"
        set_id = action["data"]["set_id"]
        sends = [s for s in rounds.sends("2025-06") if s.kind == SendKind.PROPOSALS]
        assert sorted(s.recipient for s in sends) == [KALLE, KARIN]
        assert all(s.state == "sent" and s.activity_id for s in sends)
        # Sending again sends nothing new; asking for the proposals gives the same card.
        assert "redan skickade" in _say(app, stub, STK, "skicka omfördelningsförslagen till KSAU")
        before = len(_cards(stub, KALLE))
        _say(app, stub, KALLE, "vilka förslag på omfördelning finns?")
        asked = _cards(stub, KALLE)[before:]
        assert len(asked) == 1 and asked[0]["actions"][0]["data"] == {"set_id": set_id}
        view = rounds.proposals(KARIN)
        items = view.proposal_set.items
        # Proposal 2's source reports again since the cards went out (a late answer to the
        # closed June round, recorded with its reason, as stadskontoret records one).
        changed = items[1].from_measure
        latest = services.ledger().latest_followup(changed, 2025)
        assert latest is not None
        services.add_followup(
            None,
            str(changed),
            period="2025-06",
            status=Status.ONGOING,
            spent=latest.spent,
            forecast=latest.forecast + 1_000,
            usable_as_planned=True,
            amount_confirmed=True,
            after_close_reason="Sent svar, inkommet per e-post.",
        )
        entries = len(_reallocations(services))
        ticked = {"set_id": set_id, "p1": "true", "p2": "true", "p3": "false"}
        # A bad reference, or one not by KSAU: a Swedish message naming the form; nothing written.
        bad = _invoke(app, stub, KARIN, "ksau_decide", {**ticked, "decision": "i juni"})
        assert bad["type"] == "application/vnd.microsoft.activity.message"
        assert "Beslutet registrerades inte" in bad["value"] and '"KSAU 2025-06-24 § 5"' in bad["value"]
        ks = _invoke(app, stub, KARIN, "ksau_decide", {**ticked, "decision": "KS 2025-06-24 § 5"})
        assert "arbetsutskott" in ks["value"]
        # A card never decides by itself: an automatic invoke of the verb records nothing.
        auto = _invoke(
            app, stub, KARIN, "ksau_decide", {**ticked, "decision": "KSAU 2025-06-24 § 5"}, auto=True
        )
        assert "Beslutet registrerades inte" in auto["value"] and "inget har sparats" in auto["value"]
        # Only ksau records.
        stk = _invoke(app, stub, STK, "ksau_decide", {**ticked, "decision": "KSAU 2025-06-24 § 5"})
        assert "behörighet" in stk["value"]
        assert len(_reallocations(services)) == entries
        # Karin records: proposal 1 goes through, 2 is refused with the reason, 3 not decided.
        done = _invoke(app, stub, KARIN, "ksau_decide", {**ticked, "decision": "KSAU 2025-06-24 § 5"})
        assert done["type"] == "application/vnd.microsoft.card.adaptive"
        shown = json.dumps(done["value"], ensure_ascii=False)
        assert "Beslutat KSAU 2025-06-24 § 5: 1 av 3 förslag, registrerat av Karin Ksau" in shown
        assert "Underlaget har ändrats sedan förslaget skickades" in shown and "Inte beslutat" in shown
        assert "actions" not in done["value"]
        moved = _reallocations(services)[entries:]
        assert [(e.from_measure, e.to_measure, e.amount) for e in moved] == [
            (items[0].from_measure, items[0].to_measure, items[0].amount)
        ]
        assert moved[0].decision.reference == "KSAU 2025-06-24 § 5" and moved[0].author_id == KARIN
        # A double click: the same answer, recorded once.
        again = _invoke(app, stub, KARIN, "ksau_decide", {**ticked, "decision": "KSAU 2025-06-24 § 5"})
        assert again == done
        # Kalle's copy is refused with who decided and when; nothing written.
        late = _invoke(
            app, stub, KALLE, "ksau_decide", {**ticked, "p3": "true", "decision": "KSAU 2025-06-24 § 6"}
        )
        late_text = json.dumps(late["value"], ensure_ascii=False)
        assert "Beslutet registrerades inte" in late_text and "redan beslutade" in late_text
        assert "registrerat av Karin Ksau 2025-06-24" in late_text
        # So is an old per-proposal card (Action.Submit, action "record_reallocation").
        old = {
            "action": "record_reallocation",
            "from": items[0].from_measure,
            "to": items[0].to_measure,
            "amount": items[0].amount,
            "year": 2025,
            "once": uuid.uuid4().hex,
            "decision": "KSAU 2025-06-24 § 7",
        }
        refused = _say(app, stub, KALLE, None, old)
        assert "registrerades inte" in refused and "redan beslutade" in refused and "Karin Ksau" in refused
        assert len(_reallocations(services)) == entries + 1
        # Kalle's card, reopened (its refresh), shows the decision.
        refreshed = _invoke(app, stub, KALLE, "ksau_proposals", {"set_id": set_id}, auto=True)
        assert "Beslutat KSAU 2025-06-24 § 5: 1 av 3 förslag" in json.dumps(
            refreshed["value"], ensure_ascii=False
        )
        # The next tick updates every member's sent card in place.
        before = len(stub.received)
        _tick(engine)
        updates = [a for a in stub.received[before:] if a.get("id") in {s.activity_id for s in sends}]
        assert len(updates) == 2
        assert all(
            "Beslutat KSAU 2025-06-24 § 5: 1 av 3 förslag" in json.dumps(u, ensure_ascii=False)
            for u in updates
        )
        before = len(stub.received)
        _tick(engine)
        assert stub.received[before:] == []  # updated once
    finally:
        app.stop()
        stub.stop()
        engine.dispose()
