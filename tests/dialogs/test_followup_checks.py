"""Issue 17 items 4, 5 and 6 in chat: implausible amounts are confirmed in chat
and refused in cards, a closed round's period takes no follow-ups, and the
bot's date is the one clock."""

from __future__ import annotations

from datetime import date
from typing import Any

from microsoft_agents.testing import TestAdapter

from bot.round_services import RoundServices
from bot.teams_bot import KompetensBot
from core.model import Role
from core.round_answers import field_name
from dialogs import texts
from tests.dialogs.conftest import Chat, JsonStorage, Reply, counts
from tests.dialogs.test_followup_dialog import _form as followup_form
from tests.dialogs.test_followup_dialog import _measure_id
from tests.dialogs.test_round_turns import USER, submit, text_of, turn

TRILLION = "1 000 000 000 000 kr"


def _round_answer(round_id: int, measure: int, spent: str, forecast: str) -> dict[str, Any]:
    """The June round card's answer for one measure: Pågående, with its spent and forecast."""
    return {
        "action": "round_answer",
        "round_id": round_id,
        field_name(measure, "status"): "Pågående",
        field_name(measure, "spent"): spent,
        field_name(measure, "forecast"): forecast,
    }


def _chat_to_the_note(chat: Chat, spent: str, forecast: str, period: str = "") -> list[Reply]:
    chat.say("jag vill lämna en uppföljning")
    chat.say("Yrkeslärarsatsning")
    for answer in (period, "pågår", spent, forecast, "ja"):
        chat.say(answer)
    return chat.say("-")


def _form(services, **fields) -> dict[str, Any]:
    """The follow-up form for Yrkeslärarsatsning, September, with no note."""
    return followup_form(services, **{"note": "", **fields})


# --- item 4 -----------------------------------------------------------------------


def test_chat_asks_to_confirm_a_spend_over_twice_the_money_and_saves_only_on_yes(chat_as, services) -> None:
    """Issue 17 item 4: 1 000 000 000 000 kr spent on a 4 mkr measure is questioned,
    naming the amount and the measure's money; "ja" then saves it as written."""
    before = counts(services)
    chat = chat_as("anna", Role.CHEF, "GVN")
    [question] = _chat_to_the_note(chat, TRILLION, TRILLION)
    assert f"Utfallet {TRILLION} är mer än dubbelt så mycket som medlen för" in question.text
    assert "Yrkeslärarsatsning" in question.text and "4 000 000 kr" in question.text
    assert "Stämmer beloppet?" in question.text
    assert counts(services) == before
    [summary] = chat.say("ja")
    assert summary.text == texts.CONFIRM_FOLLOWUP
    [receipt] = chat.say("ja")
    assert receipt.text.startswith("Klart!")
    latest = services.ledger().latest_followup(_measure_id(services, "Yrkeslärarsatsning"))
    assert latest.spent == 10**12


def test_chat_saves_nothing_when_the_implausible_amount_is_not_confirmed(chat_as, services) -> None:
    """Issue 17 item 4: "nej" to the question saves nothing. Tryout item 4 (issue 19): it asks
    that amount again and keeps the other answers (it threw the whole follow-up away)."""
    before = counts(services)
    chat = chat_as("anna", Role.CHEF, "GVN")
    _chat_to_the_note(chat, "1 mkr", "9 mkr")
    said, forecast = chat.say("nej")
    assert said.text == texts.AMOUNT_AGAIN
    assert forecast.text == texts.ask_forecast(1_000_000)
    assert counts(services) == before
    [summary] = chat.say("3 mkr")
    assert summary.text == texts.CONFIRM_FOLLOWUP
    assert "3 000 000 kr" in summary.card_text() and "1 000 000 kr" in summary.card_text()
    [receipt] = chat.say("ja")
    assert receipt.text.startswith("Klart!")
    latest = services.ledger().latest_followup(_measure_id(services, "Yrkeslärarsatsning"))
    assert (latest.spent, latest.forecast) == (1_000_000, 3_000_000)


def test_no_to_an_implausible_spend_asks_the_spend_again(chat_as) -> None:
    """Tryout item 4: 900 mkr as spent, "nej": the spend asked again (and the forecast after it,
    never below the spend); the period, status and note kept."""
    chat = chat_as("anna", Role.CHEF, "GVN")
    _chat_to_the_note(chat, "900 mkr", "900 mkr")
    said, spent = chat.say("nej")
    assert (said.text, spent.text) == (texts.AMOUNT_AGAIN, texts.ASK_SPENT)
    assert chat.say("1 mkr")[0].text == texts.ask_forecast(1_000_000)
    [summary] = chat.say("2 mkr")
    assert summary.text == texts.CONFIRM_FOLLOWUP
    assert "Pågående" in summary.card_text() and "2 000 000 kr" in summary.card_text()


def test_no_to_an_implausible_changed_forecast_asks_it_again(chat_as) -> None:
    """Tryout item 4: "ändra prognosen till 6 mkr" at the confirmation, then "nej" to
    "Stämmer beloppet?": the forecast asked again, nothing else lost."""
    chat = chat_as("anna", Role.CHEF, "GVN")
    _chat_to_the_note(chat, "1 mkr", "2 mkr")
    [question] = chat.say("ändra prognosen till 9 mkr")
    assert "Stämmer beloppet?" in question.text
    said, forecast = chat.say("nej")
    assert (said.text, forecast.text) == (texts.AMOUNT_AGAIN, texts.ask_forecast(1_000_000))
    [summary] = chat.say("3 mkr")
    assert summary.text == texts.CONFIRM_FOLLOWUP and "3 000 000 kr" in summary.card_text()


def test_a_plausible_amount_goes_straight_to_the_summary(chat_as) -> None:
    """Issue 17 item 4: up to twice the money nothing extra is asked."""
    chat = chat_as("anna", Role.CHEF, "GVN")
    [summary] = _chat_to_the_note(chat, "1 mkr", "8 mkr")
    assert summary.text == texts.CONFIRM_FOLLOWUP


def test_the_followup_form_refuses_an_implausible_amount_with_the_reason(chat_as, services) -> None:
    """Issue 17 item 4: a card cannot ask back: it is refused, with the reason."""
    before = counts(services)
    [reply] = chat_as("anna", Role.CHEF, "GVN").say(_form(services, spent=TRILLION, forecast=TRILLION))
    assert reply.text.startswith("Det gick inte att spara: Utfallet 1 000 000 000 000 kr är mer än dubbelt")
    assert "4 000 000 kr" in reply.text and "Kontrollera beloppet" in reply.text
    assert counts(services) == before


def test_the_round_card_refuses_an_implausible_amount_with_the_reason(example_engine, services) -> None:
    """Issue 17 item 4: the June round's card refuses it, naming the measure's money."""
    services.grant_role(None, USER, Role.HR, "GVN")
    round_ = RoundServices(example_engine, org="malmo").open(None, "2025-06")
    bot = KompetensBot(example_engine, JsonStorage(), today=date(2025, 6, 5))
    adapter = TestAdapter()
    measure = _measure_id(services, "Yrkeslärarsatsning")
    before = counts(services)
    value = _round_answer(round_.id, measure, TRILLION, TRILLION)
    [refused] = turn(bot, adapter, submit(adapter, value))
    assert text_of(refused).startswith("Svaret sparades inte.")
    assert f"Utfallet {TRILLION} är mer än dubbelt så mycket" in text_of(refused)
    assert "4 000 000 kr" in text_of(refused)
    assert counts(services) == before


# --- item 5 -----------------------------------------------------------------------


def _close_june(example_engine) -> None:
    rounds = RoundServices(example_engine, org="malmo")
    rounds.open(None, "2025-06")
    rounds.close(None, "2025-06")


def test_chat_refuses_a_closed_rounds_period_at_once(chat_as, services, example_engine) -> None:
    """Issue 17 item 5: after `followup close --period 2025-06` the chat does not
    take a 2025-06 follow-up: it says so at the period and asks again."""
    _close_june(example_engine)
    before = counts(services)
    chat = chat_as("anna", Role.CHEF, "GVN")
    chat.say("jag vill lämna en uppföljning")
    chat.say("Yrkeslärarsatsning")
    [again] = chat.say("juni 2025")
    assert again.text.startswith("Uppföljningen juni 2025 stängdes")
    assert "tar inte emot fler uppföljningar för 2025-06" in again.text
    assert again.text.endswith(texts.ask_period("2025-10"))
    for answer in ("2025-07", "pågår", "1 mkr", "4 mkr", "ja", "-", "ja"):
        chat.say(answer)
    assert counts(services) == (before[0], before[1], before[2] + 1)  # another period is taken
    assert {f.period for f in services.ledger().followups[-1:]} == {"2025-07"}


def test_the_form_refuses_a_closed_rounds_period(chat_as, services, example_engine) -> None:
    """Issue 17 item 5: the follow-up form meets the same rule."""
    _close_june(example_engine)
    before = counts(services)
    [reply] = chat_as("anna", Role.CHEF, "GVN").say(_form(services, period="2025-06"))
    assert "Uppföljningen juni 2025 stängdes" in reply.text and "Inget sparades" in reply.text
    assert counts(services) == before


def test_the_round_card_of_a_closed_round_says_the_same(example_engine, services) -> None:
    """Issue 17 item 5: the round card's refusal is the same rule's words."""
    services.grant_role(None, USER, Role.HR, "GVN")
    rounds = RoundServices(example_engine, org="malmo")
    round_ = rounds.open(None, "2025-06")
    rounds.close(None, "2025-06")
    bot = KompetensBot(example_engine, JsonStorage(), today=date(2025, 6, 5))
    adapter = TestAdapter()
    measure = _measure_id(services, "Yrkeslärarsatsning")
    value = _round_answer(round_.id, measure, "1 mkr", "4 mkr")
    [refused] = turn(bot, adapter, submit(adapter, value))
    assert "Uppföljningen juni 2025 stängdes" in text_of(refused)


# --- item 6 -----------------------------------------------------------------------


def test_a_followup_is_stamped_with_the_bots_date(chat_as, services) -> None:
    """Issue 17 item 6: with the bot's date 2025-06-05 a follow-up is stamped on
    that day, not on the machine's clock."""
    chat = chat_as("anna", Role.CHEF, "GVN", today=date(2025, 6, 5))
    chat.say("jag vill lämna en uppföljning")
    chat.say("Yrkeslärarsatsning")
    for answer in ("", "pågår", "1 mkr", "4 mkr", "ja", "-", "ja"):
        chat.say(answer)
    latest = max(services.ledger().followups, key=lambda f: f.seq)
    assert latest.period == "2025-06" and latest.at.date() == date(2025, 6, 5)


def test_spent_hittills_on_the_bots_date_leaves_out_later_followups(chat_as) -> None:
    """Issue 17 item 6: on 5 June 2025 the example's follow-ups of 10-18 June are
    not spent yet (Yrkeslärarsatsning's 1 350 000 kr is reported 12 June)."""
    june_5 = chat_as("anna", Role.CHEF, "GVN", today=date(2025, 6, 5))
    [status] = june_5.say("status Yrkeslärarsatsning")
    assert "Utfall hittills: 0 kr" in status.text and "1 350 000" not in status.text
    june_20 = chat_as("anna", today=date(2025, 6, 20))
    [later] = june_20.say("status Yrkeslärarsatsning")
    assert "Utfall hittills: 1 350 000 kr" in later.text


def test_a_round_card_answer_is_stamped_with_the_bots_date(example_engine, services) -> None:
    """Issue 17 item 6: the round card's answers are dated on the bot's date too."""
    services.grant_role(None, USER, Role.HR, "FSKN")
    round_ = RoundServices(example_engine, org="malmo").open(None, "2025-06")
    bot = KompetensBot(example_engine, JsonStorage(), today=date(2025, 6, 5))
    adapter = TestAdapter()
    measure = _measure_id(services, "Stärka formell kompetens")
    value = _round_answer(round_.id, measure, "1 mkr", "6 mkr")
    [receipt] = turn(bot, adapter, submit(adapter, value))
    assert text_of(receipt).startswith("Tack")
    latest = services.ledger().latest_followup(measure)
    assert latest.period == "2025-06" and latest.at.date() == date(2025, 6, 5)


def test_chat_refuses_a_period_before_the_measures_year_at_the_period(chat_as, services) -> None:
    """Tryout 2 item 8: "2000-01" was refused only after the whole follow-up (after the
    comment); now it is refused when the period is given, and the period is asked again."""
    before = counts(services)
    chat = chat_as("anna", Role.CHEF, "GVN")
    chat.say("jag vill lämna en uppföljning")
    chat.say("Yrkeslärarsatsning")
    [again] = chat.say("2000-01")
    assert again.text.startswith("Perioden 2000-01 ligger före")
    assert again.text.endswith(texts.ask_period("2025-10"))
    for answer in ("2025-07", "pågår", "1 mkr", "4 mkr", "ja", "-", "ja"):
        chat.say(answer)
    assert counts(services) == (before[0], before[1], before[2] + 1)
