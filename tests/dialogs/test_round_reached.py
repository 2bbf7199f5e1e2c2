"""Issue 21 in chat: the round card asks, per measure linked to a competence need, how many
people it has reached so far, and names the needs; the answer is stored with the follow-up
and shown where the follow-up is shown; a bad or forged number is refused with nothing written.
The follow-up dialog asks the same for a linked measure (skippable). Needs are made through
bot.needs_services.NeedServices, as the command line and the chat make them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from microsoft_agents.testing import TestAdapter
from sqlalchemy.engine import Engine

from bot.clock import clock_for
from bot.needs_services import NeedServices
from bot.round_services import RoundServices
from bot.teams_bot import KompetensBot
from core.model import Role
from core.needs import NeedEntry, NeedKind, Period, Recruitment
from core.round_answers import field_name
from dialogs import texts
from tests.dialogs.conftest import TODAY, Chat, JsonStorage, counts
from tests.dialogs.test_round_turns import USER, card_of, submit, text_of, turn

JUNE = date(2025, 6, 5)
HR = USER  # as the round card tests' Teams handler knows the person
REACHED_LABEL = "Hur många personer har insatsen nått hittills?"


def _need(key: str, unit: str, role: str, kind: NeedKind = NeedKind.UPSKILLING) -> NeedEntry:
    return NeedEntry(
        key=key,
        unit=unit,
        role=role,
        kind=kind,
        competence="Formell behörighet",
        recruitment=Recruitment.SHORTAGE,
        period=Period(2024, 2026),
        source="Kompetensförsörjningsplan 2024",
        assessed=date(2024, 3, 1),
        author="Stadskontoret",
        at=datetime(2025, 5, 2, 9, tzinfo=UTC),
    )


@pytest.fixture
def linked(example_engine: Engine, services) -> tuple[int, int, int]:
    """The June round open; HR for FSKN; of FSKN's measures the example links to no need, the
    first answers B1 (förskollärare) and GVN's G1 (a need FSKN's HR may not read); the second
    answers none. (first, second, round id)."""
    services.grant_role(None, HR, Role.HR, "FSKN")
    needs = NeedServices(example_engine, org="malmo", clock=clock_for(JUNE))
    fskn = sorted(m.id for m in services.ledger().measures.values() if m.units == ("FSKN",))
    # The example links two of FSKN's measures to its own needs (FSKN-1, FSKN-3): not these.
    first, second = [mid for mid in fskn if not needs.all_needs().links_of_measure(mid)][:2]
    needs.assess(None, _need("B1", "FSKN", "förskollärare"))
    needs.assess(None, _need("G1", "GVN", "yrkeslärare", NeedKind.INTRODUCTION))
    needs.link(None, "B1", str(first), author="Stadskontoret")
    needs.link(None, "G1", str(first), author="Stadskontoret")
    round_ = RoundServices(example_engine, org="malmo").open(None, "2025-06")
    return first, second, round_.id


def _containers(card: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """The round card's measures by id: the items of each measure's container."""
    found = {}
    for item in card["body"]:
        ids = [i["id"] for i in item.get("items", []) if i.get("id", "").endswith("_status")]
        if ids:
            found[int(ids[0][1:].split("_")[0])] = item["items"]
    return found


class Teams:
    """The person in Teams, through the real handler (the round's card and its answers go
    there, not to the dialogs): `card` asks for the round card, `send` submits one."""

    def __init__(self, engine: Engine, today: date = JUNE) -> None:
        self.bot = KompetensBot(engine, JsonStorage(), today=today)
        self.adapter = TestAdapter()

    def card(self) -> dict[str, Any]:
        [reply] = turn(self.bot, self.adapter, "svara på uppföljningen")
        return card_of(reply)

    def send(self, value: dict[str, Any]) -> str:
        return "\n".join(text_of(r) for r in turn(self.bot, self.adapter, submit(self.adapter, value)))


def _answer(round_id: int, mid: int, **fields: object) -> dict[str, Any]:
    base = {"status": "Pågående", "spent": "100 000 kr", "forecast": "300 000 kr", "usable": "ja"} | fields
    return {"action": "round_answer", "round_id": round_id} | {field_name(mid, k): v for k, v in base.items()}


def _reached_of(services, mid: int) -> list[int | None]:
    return [f.reached for f in services.ledger().followups if f.period == "2025-06" and f.measure_id == mid]


def test_the_round_card_asks_people_reached_only_for_a_measure_linked_to_a_need(
    linked, example_engine
) -> None:
    first, second, _ = linked
    measures = _containers(Teams(example_engine).card())
    ids = {i.get("id"): i for i in measures[first]}
    assert ids[field_name(first, "reached")]["label"] == REACHED_LABEL
    assert ids[field_name(first, "reached")]["type"] == "Input.Text"
    [line] = [i["text"] for i in measures[first] if i.get("text", "").startswith("Svarar mot behov")]
    # B1 named; GVN's need is counted, never named, to FSKN's HR
    assert line == "Svarar mot behov: förskollärare, kompetenshöjning (B1) och 1 behov till."
    assert "yrkeslärare" not in str(measures[first])
    assert field_name(second, "reached") not in {i.get("id") for i in measures[second]}
    assert not any(i.get("text", "").startswith("Svarar mot behov") for i in measures[second])


def test_people_reached_from_the_card_is_stored_and_shown(linked, chat_as, services, example_engine) -> None:
    first, second, round_id = linked
    teams = Teams(example_engine)
    before = counts(services)
    receipt = teams.send(_answer(round_id, first, reached="12 personer") | _answer(round_id, second))
    assert "sparat uppföljningen juni 2025 för 2 insatser" in receipt
    assert counts(services)[2] == before[2] + 2
    assert _reached_of(services, first) == [12] and _reached_of(services, second) == [None]

    # The card shown again has the number filled in; sent unchanged, nothing is written.
    card = teams.card()
    [reached] = [i for i in _containers(card).get(first, []) if i.get("id") == field_name(first, "reached")]
    assert reached["value"] == "12"
    assert "Inget är ändrat" in teams.send(_answer(round_id, first, reached="12") | _answer(round_id, second))
    assert counts(services)[2] == before[2] + 2

    # Where the follow-up is shown: the round's report (`followup status`), and the measure's status.
    report = RoundServices(example_engine, org="malmo").report(None, "2025-06", JUNE)
    assert {m.measure_id: m.reached for m in report.measures if m.measure_id in (first, second)} == {
        first: 12,
        second: None,
    }
    title = services.ledger().measures[first].title
    status = chat_as(HR, today=date(2025, 6, 30)).said(f"status {title}")
    assert "Insatsen har nått 12 personer hittills." in status


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("-3", "kan inte vara negativt"),
        ("tolv?", 'ska vara ett heltal, inte "tolv?"'),
        ("1,5", 'ska vara ett heltal, inte "1,5"'),
        (["12"], "fältet personer nådda hittills ska vara text"),  # a forged card
        (True, "fältet personer nådda hittills ska vara text"),
    ],
)
def test_a_bad_or_forged_number_is_refused_and_nothing_is_written(
    linked, example_engine, services, typed, said
) -> None:
    first, second, round_id = linked
    before = counts(services)
    refused = Teams(example_engine).send(_answer(round_id, first, reached=typed) | _answer(round_id, second))
    title = services.ledger().measures[first].title
    assert texts.round_answer_refused("").strip() in refused
    assert title in refused and said in refused
    assert "Skriv antalet personer med siffror, 0 eller fler" in refused
    assert counts(services) == before  # the good answer beside it is not saved either


@pytest.mark.parametrize("forged", [5, "5"])
def test_people_reached_forged_for_a_measure_linked_to_no_need_is_refused_naming_it(
    linked, example_engine, services, forged
) -> None:
    """The card asks how many people a measure has reached only when it answers a need: a card
    carrying a number for another measure (forged) is refused, naming that measure, and nothing
    of it is written (a tester's "m5_reached": 5 was stored and shown)."""
    first, second, round_id = linked
    before = counts(services)
    refused = Teams(example_engine).send(_answer(round_id, first) | _answer(round_id, second, reached=forged))
    title = services.ledger().measures[second].title
    assert texts.round_answer_refused("").strip() in refused
    assert f'"{title}" (id {second}): insatsen svarar inte mot något kompetensbehov' in refused, refused
    assert counts(services) == before
    assert _reached_of(services, second) == []


# --- the follow-up dialog -------------------------------------------------------------------------


def _to_the_note(chat: Chat, title: str) -> None:
    chat.say("jag vill lämna en uppföljning")
    for answer in (title, "", "Pågående", "100 000 kr", "300 000 kr", "ja"):
        chat.say(answer)


def test_the_followup_dialog_asks_people_reached_for_a_linked_measure(linked, chat_as, services) -> None:
    first, _second, _ = linked
    title = services.ledger().measures[first].title
    chat = chat_as(HR)
    _to_the_note(chat, title)
    [question] = chat.say("Enligt plan.")
    assert question.text == texts.ask_reached(["förskollärare, kompetenshöjning (B1)"], 1)
    assert REACHED_LABEL in question.text and question.actions == ["Hoppa över"]
    [again] = chat.say("tolv?")  # refused, the question asked again
    assert 'ska vara ett heltal, inte "tolv?"' in again.text and again.text.endswith(question.text)
    [confirm] = chat.say("12 personer")
    assert confirm.text == texts.CONFIRM_FOLLOWUP and "12 personer" in confirm.card_text()
    before = counts(services)
    [receipt] = chat.say("ja")
    assert "12 personer" in receipt.card_text()
    assert counts(services)[2] == before[2] + 1
    latest = max(services.ledger().followups, key=lambda f: f.seq)
    assert (latest.measure_id, latest.period, latest.reached) == (first, f"{TODAY:%Y-%m}", 12)


@pytest.mark.parametrize("skip", ["hoppa över", "vet inte", "Hoppa över"])
def test_people_reached_can_be_skipped_in_the_dialog(linked, chat_as, services, skip) -> None:
    first, _second, _ = linked
    chat = chat_as(HR)
    _to_the_note(chat, services.ledger().measures[first].title)
    chat.say("-")
    [confirm] = chat.say(skip)
    assert confirm.text == texts.CONFIRM_FOLLOWUP and "Personer nådda" not in confirm.card_text()
    chat.say("ja")
    latest = max(services.ledger().followups, key=lambda f: f.seq)
    assert (latest.measure_id, latest.reached) == (first, None)


def test_a_measure_that_answers_no_need_is_not_asked_and_back_goes_to_the_note(
    linked, chat_as, services
) -> None:
    _first, second, _ = linked
    chat = chat_as(HR)
    _to_the_note(chat, services.ledger().measures[second].title)
    [confirm] = chat.say("-")
    assert confirm.text == texts.CONFIRM_FOLLOWUP
    [note] = chat.say("tillbaka")  # the question never asked is stepped over
    assert note.text == texts.ASK_NOTE


def test_changing_people_reached_at_the_confirmation(linked, chat_as, services) -> None:
    first, _second, _ = linked
    chat = chat_as(HR)
    _to_the_note(chat, services.ledger().measures[first].title)
    chat.say("-")
    chat.say("12")
    [confirm] = chat.say("ändra personer till 15")
    assert confirm.text == texts.CONFIRM_FOLLOWUP and "15 personer" in confirm.card_text()
    chat.say("ja")
    assert max(services.ledger().followups, key=lambda f: f.seq).reached == 15
