"""Issue 20, the live overview card and the round's cards on Universal Actions, through
the Bot Framework protocol: the real aiohttp app in this process (InProcessBot), messages
answered through a stand-in connector (ConnectorStub), and "adaptiveCard/action" invokes
answered in the HTTP response's body, as Teams gets them.

The city: the 2025 example, on 5 June 2025 (inside the June round), with stadskontoret,
HR for FSKN and a chef of GVN."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.round_services import RoundServices
from bot.services import Services
from cli.main import main
from core.model import Role, Status
from core.round_answers import field_name
from dialogs import texts
from dialogs.cards import MAX_CARD_BYTES
from storage.db import make_engine
from tests.http.conftest import database_url  # noqa: F401 - the fixture
from tests.http.harness import ConnectorStub, activity
from tests.http.inprocess import InProcessBot
from tests.manifest.test_cards_schema import assert_valid

TODAY = date(2025, 6, 5)
CITY = "aad-city-office"
HR = "aad-hr-fskn"
CHEF = "aad-chef-gvn"
HR_GVN = "aad-hr-gvn"
NOBODY = "aad-no-role"
NAMES = {
    CITY: "Sara Stadskontoret",
    HR: "Anna Andersson",
    CHEF: "Gustav Chef",
    HR_GVN: "Greta Gymnasie",
    NOBODY: "Nils Ingen",
}


@dataclass
class City:
    app: InProcessBot
    stub: ConnectorStub
    engine: Engine
    url: str
    round_id: int

    def say(self, user: str, text: str) -> list[dict[str, Any]]:
        """The messages the bot sent for `text` in `user`'s personal chat."""
        conversation = f"personal-{user}-{uuid.uuid4().hex[:6]}"
        status, _ = self.app.post(
            activity(
                text,
                service_url=self.stub.url,
                conversation_id=conversation,
                user_id=user,
                name=NAMES[user],
            )
        )
        assert status in (200, 202)
        return self.stub.activities(conversation)

    def invoke(
        self,
        user: str,
        verb: str,
        data: Any,
        *,
        automatic: bool = False,
        conversation: str | None = None,
        kind: str = "personal",
        reply_to: str | None = None,
    ) -> dict[str, Any]:
        """The invoke response's body of a card's Action.Execute of `verb` (as Teams sends it)."""
        body = activity(
            None,
            service_url=self.stub.url,
            conversation_id=conversation or f"personal-{user}",
            user_id=user,
            name=NAMES[user],
            activity_type="invoke",
            value={
                "action": {"type": "Action.Execute", "verb": verb, "data": data},
                "trigger": "automatic" if automatic else "manual",
            },
        )
        body["name"] = "adaptiveCard/action"
        body["conversation"]["conversationType"] = kind
        if reply_to:
            body["replyToId"] = reply_to
        status, answer = self.app.post(body)
        assert status == 200, answer
        found: dict[str, Any] = json.loads(answer)
        return found


@pytest.fixture
def city(database_url: str) -> Iterator[City]:  # noqa: F811
    engine = make_engine(database_url)
    services = Services(engine, org="malmo")
    services.grant_role(None, CITY, Role.CITY_OFFICE, None)
    services.grant_role(None, HR, Role.HR, "FSKN")
    services.grant_role(None, CHEF, Role.CHEF, "GVN")
    services.grant_role(None, HR_GVN, Role.HR, "GVN")
    round_ = RoundServices(engine, org="malmo").open(None, "2025-06")
    stub = ConnectorStub().start()
    app = InProcessBot(database_url, demo=False, today=TODAY, service_urls=stub.url.rstrip("/")).start()
    try:
        yield City(app, stub, engine, database_url, round_.id)
    finally:
        app.stop()
        stub.stop()
        engine.dispose()


def the_card(messages: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The one message with a card: its text and the card."""
    [message] = [m for m in messages if m.get("attachments")]
    content: dict[str, Any] = message["attachments"][0]["content"]
    return message.get("text") or "", content


def card_of(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["statusCode"] == 200 and answer["type"] == "application/vnd.microsoft.card.adaptive", answer
    content: dict[str, Any] = answer["value"]
    return content


def said(answer: dict[str, Any]) -> str:
    assert answer["statusCode"] == 200 and answer["type"] == "application/vnd.microsoft.activity.message", (
        answer
    )
    text: str = answer["value"]
    return text


def blocks(content: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every element of the card, depth first."""

    def walk(element: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield element
        for key in ("items", "columns"):
            for child in element.get(key, []):
                yield from walk(child)

    for element in content["body"]:
        yield from walk(element)


def text_of(content: dict[str, Any]) -> str:
    parts = []
    for e in blocks(content):
        if e.get("type") == "TextBlock":
            parts.append(e["text"])
        elif e.get("type") == "FactSet":
            parts.extend(f"{f['title']}: {f['value']}" for f in e["facts"])
    return "\n".join(parts)


def money_rows(content: dict[str, Any]) -> dict[str, list[str]]:
    """The money table: unit code (or "Totalt") → its four amounts (the line after its name)."""
    rows = {}
    body = content["body"]
    for name, amounts in zip(body, body[1:], strict=False):
        if name.get("type") != "TextBlock" or amounts.get("type") != "ColumnSet":
            continue
        cells = [c["items"][0]["text"] for c in amounts["columns"]]
        found = re.search(r"\(([^()]+)\)$", name["text"])
        if found:
            rows[found[1]] = cells
        elif name["text"] == texts.LABEL_TOTAL:
            rows[name["text"]] = cells
    return rows


def facts_after(content: dict[str, Any], heading: str) -> dict[str, str]:
    body = content["body"]
    at = next(i for i, e in enumerate(body) if e.get("type") == "TextBlock" and e["text"].startswith(heading))
    facts = next(e for e in body[at:] if e.get("type") == "FactSet")
    return {f["title"]: f["value"] for f in facts["facts"]}


def cli_json(
    city: City, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> Any:
    """`kompetensbot ARGS --json` on the bot's database, as its JSON."""
    monkeypatch.setenv("DATABASE_URL", city.url)
    monkeypatch.delenv("KOMPETENSBOT_TODAY", raising=False)
    capsys.readouterr()
    assert main([*args, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


# --- the overview ------------------------------------------------------------------------


def test_overview_in_a_personal_chat_is_a_card_that_refreshes_itself_for_the_one_who_asked(
    city: City,
) -> None:
    text, content = the_card(city.say(CITY, "översikt"))
    assert text == texts.OVERVIEW_TEXT
    assert_valid(content, "the overview card")
    assert content["version"] == "1.5"
    assert len(json.dumps(content, ensure_ascii=False).encode()) < MAX_CARD_BYTES
    assert content["refresh"] == {
        "action": {
            "type": "Action.Execute",
            "verb": "overview",
            "title": "Uppdatera",  # a client that offers the refresh as a button shows a title
            "data": {"action": "overview"},
        },
        "userIds": [f"29:{CITY}"],  # the viewer's Teams id: from.id of the message
    }
    [button] = content["actions"]
    assert (button["type"], button["verb"], button["title"]) == ("Action.Execute", "overview", "Uppdatera")
    shown = text_of(content)
    assert "Översikt: Malmö stad 2025" in shown and "för hela staden" in shown
    assert len(money_rows(content)) == 14 + 1  # 13 committees and KS, and the total
    assert "Uppföljningen juni 2025 (öppen, sista dag 19 juni 2025)" in shown
    assert texts.OVERVIEW_LATE in shown  # stadskontoret gets who has not answered
    # The same from "visa översikten" and "dashboard".
    for asked in ("visa översikten", "Dashboard"):
        _, again = the_card(city.say(CITY, asked))
        assert money_rows(again) == money_rows(content)


@pytest.mark.parametrize("user", [CITY, HR, CHEF])
def test_the_overview_has_the_figures_of_the_command_line_for_the_same_person_and_day(
    city: City, user: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # One answer in the round first, so that the response rate is not nothing.
    hr_card = city.invoke(
        HR, "round_card", {"action": "round_card", "round_id": city.round_id}, automatic=True
    )
    first = min(int(i["id"][1:].split("_")[0]) for i in blocks(card_of(hr_card)) if i.get("id"))
    city.invoke(HR, "round_answer", answer(city.round_id, first, "400 000 kr", "1,8 mkr"))

    content = card_of(city.invoke(user, "overview", {"action": "overview"}, automatic=True))
    as_of = ("--as-of", TODAY.isoformat(), "--user", user)
    funds = cli_json(city, monkeypatch, capsys, "funds", *as_of)
    rows = money_rows(content)
    units = {u["code"]: u for u in funds["units"]}
    assert set(rows) - {texts.LABEL_TOTAL} == set(units)
    for code, u in units.items():
        assert rows[code] == [texts.kr(u[k]) for k in ("allocated", "spent", "forecast", "remaining")], code
    if len(units) > 1:
        shown = funds["units_shown"]
        assert rows[texts.LABEL_TOTAL] == [
            texts.kr(shown[k]) for k in ("allocated", "spent", "forecast", "remaining")
        ]

    measures = cli_json(city, monkeypatch, capsys, "measures", "--year", str(funds["year"]), *as_of)
    facts = facts_after(content, texts.OVERVIEW_MEASURES)
    for status in Status:
        assert facts[status.value] == str(sum(m["status"] == status.value for m in measures)), status
    assert facts[texts.OVERVIEW_OVERDUE] == str(sum(m["overdue"] for m in measures))
    assert facts[texts.OVERVIEW_ALL_MEASURES] == str(len(measures))

    report = cli_json(city, monkeypatch, capsys, "followup", "status", "--period", "2025-06", *as_of)
    facts = facts_after(content, "Uppföljningen juni 2025")
    if report["recipients"]:
        people = f"{report['answered_recipients']} av {report['recipients']} person"
        assert facts[texts.OVERVIEW_ANSWERED_PEOPLE].startswith(people)
        assert f"({round(report['response_rate'] * 100)}%)" in facts[texts.OVERVIEW_ANSWERED_PEOPLE]
    else:  # nobody asked in the units the person sees (a chef: the cards go to HR)
        assert facts[texts.OVERVIEW_ANSWERED_PEOPLE] == "ingen person tillfrågad"
    measures_answered = f"{report['measures_answered']} av {len(report['measures'])}"
    assert facts[texts.OVERVIEW_ANSWERED_MEASURES] == measures_answered
    shown = text_of(content)
    if user == CHEF:
        assert texts.OVERVIEW_LATE not in shown
        return
    committees = report["committees"]
    # The measures without an answer, each once (a shared one lacks it in each of its committees):
    # with those answered, every measure of the round.
    missing = sum(not m["answered"] for m in report["measures"])
    assert missing + report["measures_answered"] == len(report["measures"])
    assert texts.overview_late_total(len(committees), missing, len(report["late"])) in shown
    # The committees with the most answers missing, each with its count; the rest counted.
    listed = re.findall(r"\(([A-ZÅÄÖ]+)\)\*\*: (\d+) insatser? utan svar", shown)
    by_code = {c["code"]: c["not_answered"] + c["no_recipient"] for c in committees}
    assert [(code, int(n)) for code, n in listed] == sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0]))[
        : len(listed)
    ]
    assert len(listed) == min(len(committees), 12)
    if len(committees) > 12:
        assert texts.overview_late_more(len(committees) - 12) in shown


def test_a_chef_sees_only_their_units_whatever_the_card_says(city: City) -> None:
    content = card_of(city.invoke(CHEF, "overview", {"action": "overview"}, automatic=True))
    assert set(money_rows(content)) == {"GVN"}
    shown = text_of(content)
    assert "för de nämnder du ser" in shown and "hela staden" not in shown
    assert texts.OVERVIEW_LATE not in shown  # who has not answered: HR and stadskontoret only
    assert content["refresh"]["userIds"] == [f"29:{CHEF}"]
    # The city office's own card, opened by the chef (it names the city office): the chef's figures.
    _, city_card = the_card(city.say(CITY, "översikt"))
    refreshed = card_of(city.invoke(CHEF, "overview", city_card["refresh"]["action"]["data"], automatic=True))
    assert set(money_rows(refreshed)) == {"GVN"}


def test_hr_sees_who_has_not_answered_in_its_own_units_only(city: City) -> None:
    content = card_of(city.invoke(HR, "overview", {"action": "overview"}, automatic=False))
    shown = text_of(content)
    assert set(money_rows(content)) == {"FSKN"}
    assert texts.OVERVIEW_LATE in shown
    assert set(re.findall(r"\(([A-ZÅÄÖ]+)\)\*\*", shown)) == {"FSKN"}
    assert NAMES[HR] in shown  # her own name: she has not answered yet


def test_a_forged_verb_or_data_is_refused_in_swedish_and_nothing_is_shown(city: City) -> None:
    forged = {"action": "overview", "user": CITY}
    assert said(city.invoke(CHEF, "overview", forged)) == texts.OVERVIEW_FORGED
    assert (
        said(city.invoke(CHEF, "overview", {"action": "overview", "unit": "FSKN"})) == texts.OVERVIEW_FORGED
    )
    assert said(city.invoke(CHEF, "overview", "GVN")) == texts.CARD_ACTION_MALFORMED
    assert said(city.invoke(CHEF, "översikt_alla", {"action": "overview"})) == texts.CARD_ACTION_UNKNOWN
    # Outside a personal chat: not shown there.
    group = city.invoke(CITY, "overview", {"action": "overview"}, conversation="group-1", kind="groupChat")
    assert said(group) == texts.OVERVIEW_PERSONAL_ONLY
    # A person without a role gets no figures, only who they are.
    assert said(city.invoke(NOBODY, "overview", {"action": "overview"})) == texts.no_access(
        NAMES[NOBODY], NOBODY
    )


# --- the round's cards on Action.Execute -------------------------------------------------------


def answer(round_id: int, measure: int, spent: str, forecast: str, **extra: Any) -> dict[str, Any]:
    """What Teams sends for the round card's button: its data with the card's inputs."""
    return {
        "action": "round_answer",
        "round_id": round_id,
        field_name(measure, "status"): "Pågående",
        field_name(measure, "spent"): spent,
        field_name(measure, "forecast"): forecast,
        field_name(measure, "usable"): "Ja",
        field_name(measure, "note"): "Enligt plan",
        **extra,
    }


def test_the_round_card_answers_through_an_invoke_and_shows_the_saved_answers_when_reopened(
    city: City,
) -> None:
    conversation = f"personal-{HR}"
    _, prompt = the_card(city.say(HR, "svara på uppföljningen"))
    assert_valid(prompt, "the round's prompt card")
    [button] = prompt["actions"]
    assert button["type"] == "Action.Execute" and button["verb"] == "round_answer"
    assert button["data"] == {"action": "round_answer", "round_id": city.round_id}
    # Clients without Universal Actions: the same button as before, a message with the same data.
    assert button["fallback"] == {"type": "Action.Submit", "title": button["title"], "data": button["data"]}
    assert prompt["refresh"]["userIds"] == [f"29:{HR}"]
    assert prompt["refresh"]["action"]["verb"] == "round_card"
    first = min(int(i["id"][1:].split("_")[0]) for i in blocks(prompt) if i.get("id"))

    before = len(city.stub.texts(conversation))
    reply = city.invoke(HR, "round_answer", answer(city.round_id, first, "400 000 kr", "1,8 mkr"))
    answered = card_of(reply)
    assert_valid(answered, "the answered card")
    shown = text_of(answered)
    assert "400 000 kr" in shown and "1 800 000 kr" in shown and texts.NOT_ANSWERED in shown
    assert answered["refresh"]["userIds"] == [f"29:{HR}"]
    assert "actions" not in answered
    # The receipt as before, as a message in the chat.
    receipts = city.stub.texts(conversation)[before:]
    assert any("Tack! Jag har sparat uppföljningen juni 2025 för 1 insats." in t for t in receipts), receipts

    # Reopened (the card's refresh): the card to answer the rest, her saved answer filled in.
    again = card_of(city.invoke(HR, "round_card", prompt["refresh"]["action"]["data"], automatic=True))
    values = {i["id"]: i.get("value") for i in blocks(again) if i.get("id")}
    assert (values[f"m{first}_spent"], values[f"m{first}_forecast"]) == ("400 000 kr", "1 800 000 kr")
    assert [a["verb"] for a in again["actions"]] == ["round_answer"]
    # The same again: nothing changed, nothing written, the card stays.
    same = city.invoke(HR, "round_answer", answer(city.round_id, first, "400 000 kr", "1,8 mkr"))
    assert said(same) == texts.ROUND_NOTHING_CHANGED
    saved = [f for f in Services(city.engine, org="malmo").ledger().followups if f.measure_id == first]
    assert [(f.spent, f.forecast) for f in saved if f.period == "2025-06"] == [(400_000, 1_800_000)]


def test_a_refused_round_answer_says_why_and_writes_nothing(city: City) -> None:
    _, prompt = the_card(city.say(HR, "svara på uppföljningen"))
    first = min(int(i["id"][1:].split("_")[0]) for i in blocks(prompt) if i.get("id"))
    before = Services(city.engine, org="malmo").ledger().followups
    refused = said(city.invoke(HR, "round_answer", answer(city.round_id, first, "massor", "1 mkr")))
    assert refused.startswith("Svaret sparades inte.")
    unknown = said(city.invoke(HR, "round_answer", answer(0, first, "1 kr", "1 kr")))
    assert unknown == texts.round_answer_refused(texts.ROUND_CARD_UNKNOWN)
    # A card never saves by itself: an automatic invoke of the answer's verb is refused.
    automatic = city.invoke(HR, "round_answer", answer(city.round_id, first, "1 kr", "1 kr"), automatic=True)
    assert said(automatic) == texts.CARD_ACTION_MALFORMED
    assert Services(city.engine, org="malmo").ledger().followups == before


def test_a_round_card_refreshed_by_someone_else_shows_their_own_measures_never_the_recipients(
    city: City,
) -> None:
    _, prompt = the_card(city.say(HR, "svara på uppföljningen"))
    hers = {i["id"] for i in blocks(prompt) if i.get("id")}
    data = prompt["refresh"]["action"]["data"]
    theirs = card_of(city.invoke(HR_GVN, "round_card", data, automatic=True))  # GVN's HR: their own
    assert "(GVN)" in text_of(theirs) and "(FSKN)" not in text_of(theirs)
    assert not hers & {i["id"] for i in blocks(theirs) if i.get("id")}
    assert theirs["refresh"]["userIds"] == [f"29:{HR_GVN}"]
    forged = said(
        city.invoke(CHEF, "round_card", {"action": "round_card", "round_id": 2**63}, automatic=True)
    )
    assert forged == texts.refused(texts.ROUND_CARD_UNKNOWN)
    nobody_here = said(city.invoke(CHEF, "round_card", data, automatic=True))
    assert "Du har inga insatser att svara för" in nobody_here


def test_a_round_card_opened_after_the_round_closed_shows_what_was_reported_only(city: City) -> None:
    """A second stranger's card still showed the form (and "Skicka svaret") after the close."""
    _, prompt = the_card(city.say(HR, "svara på uppföljningen"))
    first = min(int(i["id"][1:].split("_")[0]) for i in blocks(prompt) if i.get("id"))
    city.invoke(HR, "round_answer", answer(city.round_id, first, "400 000 kr", "1,8 mkr"))
    RoundServices(city.engine, org="malmo").close(None, "2025-06")
    again = card_of(city.invoke(HR, "round_card", prompt["refresh"]["action"]["data"], automatic=True))
    assert "actions" not in again and not [i for i in blocks(again) if i.get("id")]  # no form
    shown = text_of(again)
    assert texts.round_card_closed_line("2025-06") in shown and "400 000 kr" in shown


def test_a_refusal_under_the_card_is_plain_text_without_markdown(city: City) -> None:
    """Teams shows an invoke's message as plain text: a second stranger read '"250\\.000"
    saknar enhet' with the Markdown escape showing."""
    _, prompt = the_card(city.say(HR, "svara på uppföljningen"))
    first = min(int(i["id"][1:].split("_")[0]) for i in blocks(prompt) if i.get("id"))
    refused = said(city.invoke(HR, "round_answer", answer(city.round_id, first, "250.000", "1 mkr")))
    assert '"250.000" saknar enhet' in refused and "\\" not in refused and "**" not in refused
