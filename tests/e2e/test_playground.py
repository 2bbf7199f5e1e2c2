"""End to end: Anna Andersson (HR, Förskolenämnden) talks to kompetensbot in
Microsoft 365 Agents Playground, in a real browser, against a real server and
database. Every assertion is about what the page shows her.

The steps run in order in one conversation (the module's `session`): the
welcome, money left, a committee she may not see, a measure's status, a new
measure through its form card, two follow-ups (one answered question by
question with the suggested replies, one through its form card), and last
the June follow-up round: opened and sent with the command line (as cron
would), the card arrives by itself in her chat, she answers one measure in
it and the card is updated in place. Each step saves a screenshot under
build/e2e/.

The server takes 2025-06-05 as today (conftest.BOT_TODAY), inside the June
round, so the follow-ups of the earlier steps are for June 2025 too and the
round's card shows them already answered.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from tests.e2e.conftest import BOT_TODAY, Session
from tests.e2e.playground import ChatPage

pytestmark = pytest.mark.e2e

BOT_NAME = "kompetensbot"  # the bot's display name in .m365agentsplayground.yml
NEW_MEASURE = "Språkombud i förskolan"
NEW_MEASURE_CHOICE = f"{NEW_MEASURE} (FSKN)"
JUNE = "juni 2025"
JUNE_CARD = f"Uppföljning {JUNE} av kompetensutvecklingsmedlen"
JUNE_SUBMIT = "Skicka svaret"
JUNE_MEASURE = "Hälsofrämjande insatser (FSKN)"  # the measure answered in the June card
JUNE_NOTE = "Friskvårdsinspiratörer utbildas i höst."
FSKN_MEASURES = (
    "Verktyg för att möjliggöra kompetensutveckling",
    "Stärka kompetensen i yrkessvenska och i arbetet mot hedersrelaterat våld och förtryck samt "
    "gällande ”Trygga barnet”",
    "Hälsofrämjande insatser",
    "Stärka formell kompetens",
    NEW_MEASURE,
)


def default_period(today: date) -> tuple[str, str]:
    """The month a follow-up of a 2025 measure defaults to, and its Swedish name
    (this month while 2025 lasts, December 2025 after it)."""
    months = [
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ]
    month = today.month if today.year == 2025 else 12
    return f"2025-{month:02d}", f"{months[month - 1]} 2025"


@pytest.fixture
def page(session: Session) -> ChatPage:
    return session.page


def test_welcome(page: ChatPage) -> None:
    """Opening the chat, she is welcomed by the bot, in Swedish, with an example to try."""
    welcome = page.expect("Jag är kompetensbot")
    first = welcome[0]
    assert first.index == 0 and first.from_bot and first.author == BOT_NAME
    assert first.text.startswith("Hej!")
    assert 'Fråga till exempel "Hur mycket finns kvar för förskolenämnden?"' in first.text
    assert "demoläge" not in first.text  # the server runs without --demo
    page.screenshot("01-welcome")


def test_money_left_for_her_committee(page: ChatPage) -> None:
    answer = page.ask(
        "hur mycket finns kvar för förskolenämnden?",
        "Förskolenämnden (FSKN) 2025: 15 000 000 kr kvar",
        "Kompetensmedel 2025 – Förskolenämnden (FSKN)",
    )
    text, card = answer[0], answer[-1]
    assert not text.has_card  # the card's one-line summary (issue 17 item 10: no second copy of the figures)
    assert "Tilldelat: " not in text.text and "Ej fördelat på insatser" not in text.text
    assert card.has_card
    assert "Tilldelat: 15 000 000 kr – enligt beslut KS 2025-03-05" in card.text
    assert "Ej fördelat på insatser: 1 500 000 kr" in card.text
    for shown in ("Tilldelat", "Utfall", "Prognos", "Kvar", "15 000 000 kr", "13 500 000 kr"):
        assert shown in card.text  # no follow-up yet: the decision is the card's only source (above)
    page.screenshot("02-money-left")


def test_another_committee_is_refused(page: ChatPage) -> None:
    """Her role is hr for FSKN, granted to the AAD object id the Playground sends."""
    answer = page.ask("saldo GVN", "har inte behörighet att läsa för GVN")
    assert "Dina roller: hr (FSKN)" in answer[-1].text
    assert "Behörighet ges av stadskontorets HR-avdelning" in answer[-1].text
    assert not any("kr kvar" in m.text for m in answer)
    page.screenshot("03-other-committee-refused")


def test_status_of_a_measure(page: ChatPage) -> None:
    answer = page.ask(
        "status Stärka formell kompetens",
        "Stärka formell kompetens (FSKN, id 7): Ej påbörjad",
        "Kvar enligt prognos",
    )
    text, card = answer[0], answer[-1]
    assert "Tilldelat: 6 000 000 kr – enligt beslut FSKN 2025-02-05 § 5" in text.text
    assert "Ingen uppföljning är rapporterad ännu." in text.text
    assert card.has_card and card.text.startswith("Stärka formell kompetens")
    for shown in ("Status", "Slutdatum", "31 december 2025", "6 000 000 kr", "FSKN 2025-02-05 § 5"):
        assert shown in card.text
    page.screenshot("04-status")


def test_new_measure_with_its_form(page: ChatPage) -> None:
    """ "ny insats" starts the dialog and shows its form card; the card is filled in
    and sent with its button, as in Teams (Action.Submit)."""
    asked = page.say("ny insats")
    intro = page.expect(
        "Då lämnar vi in en ny insats", "Nämnd: Förskolenämnden (FSKN).", "Vad heter insatsen?", since=asked
    )
    form = next(m for m in intro if m.has_card)
    assert form.text.startswith("Ny insats")
    for label in (
        "Nämnd",
        "Insats",
        "Beskrivning",
        "Målgrupp",
        "Strategikategori",
        "Attrahera & rekrytera",
        "Startdatum",
        "Slutdatum",
        "Utförare",
        "Belopp",
        "Beslut",
        "Skicka in",
    ):
        assert label in form.text
    card = "Skicka in"  # the form is the message showing its button
    assert page.value("Nämnd", within=card, since=form.index) == "Förskolenämnden (FSKN)"

    # Sent empty, the card itself says what is missing, in Swedish, and sends nothing.
    page.click("Skicka in", within=card, since=form.index)
    page.expect("Titeln saknas.", "Slutdatum saknas.", "Belopp saknas.", "Beslut saknas.", since=form.index)
    page.screenshot("05-new-measure-form-incomplete", within=card, since=form.index)

    page.fill("Insats", NEW_MEASURE, within=card, since=form.index)
    page.fill("Beskrivning", "Utbildning av ett språkombud på varje förskola.", within=card, since=form.index)
    page.fill("Målgrupp", "Språkombud i förskolan", within=card, since=form.index)
    assert page.check("Behålla & utveckla", within=card, since=form.index)
    assert page.pick_date("Startdatum", "2025-09-01", within=card, since=form.index) == "1 september 2025"
    assert page.pick_date("Slutdatum", "2025-12-31", within=card, since=form.index) == "31 december 2025"
    page.fill("Utförare", "Malmö Lär", within=card, since=form.index)
    page.fill("Belopp", "300 tkr", within=card, since=form.index)
    page.fill("Beslut", "2025-02-05 § 5", within=card, since=form.index)  # the body: FSKN, the unit
    page.screenshot("05-new-measure-form", within=card, since=form.index)

    sent = page.click("Skicka in", within=card, since=form.index)
    # Summarised and asked, as in the chat, before anything is saved (issue 17 item 1).
    summary = page.expect("Vill du spara insatsen?", "Ny insats att spara", since=sent)
    assert any("Förskolenämnden (FSKN)" in m.text for m in summary if m.has_card)
    yes = page.say("ja")
    saved = page.expect(f"Klart! Insatsen {NEW_MEASURE} är sparad med id", "Insatsen är sparad", since=yes)
    assert "har fått 300 000 kr från Förskolenämnden (FSKN)." in saved[0].text
    receipt = next(m for m in saved if m.has_card)
    for shown in (
        NEW_MEASURE,
        "Förskolenämnden (FSKN)",
        "Utbildning av ett språkombud på varje förskola.",
        "Språkombud i förskolan",
        "Behålla & utveckla",
        "1 september 2025",
        "31 december 2025",
        "Malmö Lär",
        "300 000 kr",
        "Beslut",
        "FSKN 2025-02-05 § 5",
    ):
        assert shown in receipt.text
    # The empty card was never sent: the bot answered nothing in between.
    between = [m for m in page.messages()[form.index + 1 : saved[0].index] if m.from_bot]
    assert not any("Formuläret sparades inte" in m.text for m in between)
    page.screenshot("05-new-measure-saved")

    page.ask(
        "saldo FSKN",
        "Förskolenämnden (FSKN) 2025: 15 000 000 kr kvar",
        "Ej fördelat på insatser: 1 200 000 kr",
    )
    page.screenshot("05-new-measure-money-left")


def test_follow_up_question_by_question(page: ChatPage) -> None:
    """ "jag vill lämna en uppföljning", answered with the suggested replies and by typing."""
    period, period_name = default_period(BOT_TODAY)
    asked = page.say("jag vill lämna en uppföljning")
    page.expect("Då lämnar vi en uppföljning", "Vilken insats gäller uppföljningen?", since=asked)
    # Five measures: a numbered list (Teams shows only three suggested replies), not buttons.
    page.expect(NEW_MEASURE_CHOICE, "Svara med numret eller namnet.", since=asked)
    assert NEW_MEASURE_CHOICE not in page.buttons()
    page.screenshot("06-follow-up-choose-measure")

    step = page.say(NEW_MEASURE)
    page.expect(f'Vilken period (månad) gäller uppföljningen? Svara "{period}" för {period_name}', since=step)
    step = page.suggested(period)
    page.expect("Vilken status har insatsen nu?", since=step)
    step = page.suggested("Pågående")
    page.expect("Hur mycket har använts hittills (utfall)?", since=step)
    step = page.say("50 000 kr")
    page.expect("Hur mycket beräknas användas under hela året (prognos)?", "50 000 kr", since=step)
    step = page.say("300 000 kr")
    page.expect("Kan pengarna användas under året som planerat?", since=step)
    step = page.suggested("ja")
    page.expect("Skriv en kort kommentar", since=step)
    step = page.say("Första utbildningsdagen är genomförd.")
    summary = page.expect("Vill du spara uppföljningen?", "Uppföljning att spara", since=step)
    card = next(m for m in summary if m.has_card)
    for shown in (
        NEW_MEASURE,
        period_name,
        "Pågående",
        "50 000 kr",
        "300 000 kr",
        "Ja",
        "Första utbildningsdagen är genomförd.",
    ):
        assert shown in card.text
    page.screenshot("06-follow-up-summary")

    step = page.say("ja")
    saved = page.expect(
        f"Klart! Uppföljningen av {NEW_MEASURE} för {period_name} är sparad",
        "Uppföljningen är sparad",
        since=step,
    )
    receipt = next(m for m in saved if m.has_card)
    assert "Rapporterad av Anna Andersson." in receipt.text  # her name, from the Playground's config
    page.screenshot("06-follow-up-saved")

    status = page.ask(f"status {NEW_MEASURE}", f"{NEW_MEASURE} (FSKN, id ")
    assert "Utfall hittills: 50 000 kr, prognos för året: 300 000 kr" in status[0].text
    page.screenshot("06-follow-up-status")


def test_follow_up_with_its_form(page: ChatPage) -> None:
    """The follow-up form card: choice sets, amounts and a note, sent with its button."""
    asked = page.say("jag vill lämna en uppföljning")
    intro = page.expect("Då lämnar vi en uppföljning", "Spara uppföljningen", since=asked)
    form = next(m for m in intro if m.has_card)
    card = "Spara uppföljningen"
    page.choose("Insats", "Stärka formell kompetens (FSKN)", within=card, since=form.index)
    assert page.value("Status", within=card, since=form.index) == "Pågående"
    page.fill("Utfall hittills", "2 mkr", within=card, since=form.index)
    page.fill("Prognos för året", "5,5 mkr", within=card, since=form.index)
    page.choose("Kan användas som planerat", "Nej", within=card, since=form.index)
    page.fill("Kommentar", "Färre platser på högskolan än planerat.", within=card, since=form.index)
    page.screenshot("07-follow-up-form", within=card, since=form.index)

    sent = page.click("Spara uppföljningen", within=card, since=form.index)
    saved = page.expect(
        "Klart! Uppföljningen av Stärka formell kompetens", "Uppföljningen är sparad", since=sent
    )
    receipt = next(m for m in saved if m.has_card)
    for shown in (
        "2 000 000 kr",
        "5 500 000 kr",
        "Nej",
        "Färre platser på högskolan än planerat.",
        "Rapporterad av Anna Andersson.",
    ):
        assert shown in receipt.text
    page.screenshot("07-follow-up-saved")

    # 15 000 000 kr allocated, 2 050 000 kr reported as spent in the two follow-ups.
    page.ask(
        "hur mycket finns kvar för förskolenämnden?",
        "Förskolenämnden (FSKN) 2025: 12 950 000 kr kvar",
        "Utfall hittills: 2 050 000 kr",
    )
    page.screenshot("07-money-left-after-follow-ups")


def test_june_prompt_answered_in_its_card(session: Session, page: ChatPage) -> None:
    """The June round: `followup open` and `followup tick` send her card proactively,
    through the conversation she has had with the bot; she answers one measure in
    the card, gets a receipt, the card is updated in place and the round counts it."""
    opened = session.cli("followup", "open", "--period", "2025-06", "--as-of", "2025-06-02")
    assert "Uppföljningen juni 2025 (2025-06): öppen." in opened
    assert "Sista dag:     19 juni 2025" in opened
    before = len(page.messages())
    ticked = session.cli("followup", "tick", "--as-of", "2025-06-02")
    # One card: Anna is the only one with measures in the round (the HR role of FSKN).
    assert "Nya utskick att göra: 1. Skickade: 1," in ticked
    assert "misslyckade: 0, onåbara: 0, försöks igen senare: 0" in ticked

    intro = f"Dags för uppföljningen {JUNE} av kompetensutvecklingsmedlen."
    shown = page.expect(intro, JUNE_CARD, JUNE_SUBMIT, since=before)
    prompt = next(m for m in shown if m.has_card)
    assert prompt.from_bot and prompt.author == BOT_NAME
    assert prompt.text.startswith(JUNE_CARD)
    assert (
        "Hur går det för dina 3 insatser som saknar svar? 2 av kortets 5 insatser är redan besvarade."
        in (prompt.text)
        and "Svara senast 19 juni 2025." in prompt.text
    )
    for title in FSKN_MEASURES:
        assert f"{title} (FSKN)" in prompt.text
    card, at = JUNE_SUBMIT, prompt.index  # the card is the message showing its button

    def value(label: str, section: str) -> str:
        return page.value(label, within=card, since=at, section=section)

    # The two measures followed up in the earlier steps (June 2025) show their answers.
    assert value("Utfall hittills", NEW_MEASURE_CHOICE) == "50 000 kr"
    assert value("Prognos för året", "Stärka formell kompetens (FSKN)") == "5 500 000 kr"
    assert value("Utfall hittills", JUNE_MEASURE) == ""
    page.screenshot("08-june-prompt", within=intro, since=before, top=True)

    page.choose("Status", "Pågående", within=card, since=at, section=JUNE_MEASURE)
    page.fill("Utfall hittills", "400 000 kr", within=card, since=at, section=JUNE_MEASURE)
    page.fill("Prognos för året", "1,8 mkr", within=card, since=at, section=JUNE_MEASURE)
    assert value("Kan användas som planerat", JUNE_MEASURE) == "Ja"
    page.fill("Kommentar", JUNE_NOTE, within=card, since=at, section=JUNE_MEASURE)
    page.screenshot("08-june-card-filled", within=JUNE_MEASURE, since=at)

    sent = page.click(JUNE_SUBMIT, within=card, since=at)
    [receipt] = page.expect(f"Tack! Jag har sparat uppföljningen {JUNE} för 1 insats.", since=sent)
    # Only the measure she filled in: the two answered ones are not saved again.
    assert receipt.text.endswith("för 1 insats. Några av dina insatser saknar fortfarande svar.")

    # The card is updated in place (the same message, no new one): her answer,
    # the answers from before, the measures still unanswered, and no button.
    page.expect(
        "Tack, svaret är sparat. Några insatser saknar fortfarande svar: svara senast 19 juni 2025.", since=at
    )
    updated = page.messages()[at]
    assert updated.has_card and updated.text.startswith(JUNE_CARD)
    assert JUNE_SUBMIT not in updated.text
    assert updated.text.count("Inte besvarad ännu") == 2
    for shown_text in (
        JUNE_MEASURE,
        "400 000 kr",
        "1 800 000 kr",
        JUNE_NOTE,
        "5 500 000 kr",
        "Första utbildningsdagen är genomförd.",
    ):
        assert shown_text in updated.text
    assert len(page.messages()) == receipt.index + 1
    page.screenshot("08-june-card-answered", within=JUNE_CARD, since=at, top=True)
    page.screenshot("08-june-receipt")

    status = session.cli("followup", "status", "--period", "2025-06", "--as-of", "2025-06-05", "--json")
    report = json.loads(status)
    assert report["phase"] == "öppen" and report["sends"] == {"prompt": {"sent": 1}}
    assert (report["recipients"], report["answered_recipients"]) == (1, 0)  # two FSKN measures left
    answer = next(m for m in report["measures"] if m["title"] == "Hälsofrämjande insatser")
    assert answer["answered"] and answer["status"] == "Pågående" and answer["usable_as_planned"] is True
    assert (answer["spent"], answer["forecast"]) == (400_000, 1_800_000)
    fskn = next(u for u in report["units"] if u["code"] == "FSKN")
    assert (fskn["answered"], fskn["measures"]) == (3, 5)
    assert fskn["spent"] == 2_000_000 + 50_000 + 400_000


# --- issue 20: the round at a glance, the overview card and KSAU's decision ----------------------

OVERVIEW_TITLE = "Översikt: Malmö stad 2025"
DECISION = "KSAU 2025-06-05 § 5"  # taken by the bot's date (a later one is refused)
PROPOSALS_TITLE = f"Omfördelningsförslag efter uppföljningen {JUNE}"


def test_the_round_at_a_glance(page: ChatPage) -> None:
    """HR asks how the round goes: her committee's answers, with the round's dates."""
    [status] = page.ask("hur går junirundan?", "Förskolenämnden")
    assert "19 juni 2025" in status.text  # the round's last day, from the core's plan
    assert "3 av 5" in status.text or "3/5" in status.text  # FSKN: three of five measures answered
    page.screenshot("09-round-status")


def test_the_overview_card_refreshes_for_her(page: ChatPage) -> None:
    """ "översikt": one card with her committee's money, its measures and the round; its
    Uppdatera button (Action.Execute, an invoke) answers with the card computed again."""
    shown = page.ask("översikt", OVERVIEW_TITLE, "Uppdatera")
    card = next(m for m in shown if m.has_card)
    assert "Förskolenämnden" in card.text and "Grundskolenämnden" not in card.text  # only what she sees
    assert "2 450 000 kr" in card.text  # FSKN's spending so far (the June follow-ups), as funds says
    page.screenshot("10-overview", within=OVERVIEW_TITLE, since=card.index, top=True)
    page.click("Uppdatera", within=OVERVIEW_TITLE, since=card.index)
    refreshed = page.expect(OVERVIEW_TITLE, since=card.index)
    assert any("2 450 000 kr" in m.text for m in refreshed)


def test_ksau_records_its_decision_from_one_card(session: Session, page: ChatPage) -> None:
    """Two measures report needs, the round is closed with the command line (as the city office
    would) and KSAU's card arrives: she (given the ksau role too) ticks two of the proposals,
    writes the decision and records it; the card then shows the decision, and the money moved."""
    for measure, forecast in (("5", "2 400 000"), ("6", "3 800 000")):
        session.cli(
            "followup", "add", "--measure", measure, "--period", "2025-06", "--status", "Pågående",
            "--spent", "1 000 000", "--forecast", forecast,
        )  # fmt: skip
    session.cli("roles", "grant", session.user.aad_object_id, "ksau")
    closed = session.cli("followup", "close", "--period", "2025-06")
    sent = re.search(r"\((\d+) förslag\) skickas nu till 1 av 1 med rollen ksau", closed)
    assert sent, closed
    count = int(sent[1])
    assert count >= 2
    before = len(page.messages())
    session.cli("followup", "tick", "--as-of", "2025-06-05")
    [arrived] = [m for m in page.expect(PROPOSALS_TITLE, since=before) if m.has_card]
    at = arrived.index
    # The example's own proposal first (660 000 kr to another committee), then the two needs.
    assert "2. 400 000 kr från Stärka formell kompetens (id 7)" in arrived.text
    page.check("KSAU har beslutat förslaget", within=PROPOSALS_TITLE, since=at, section="2. 400 000 kr")
    page.check("KSAU har beslutat förslaget", within=PROPOSALS_TITLE, since=at, section="3. 200 000 kr")
    page.fill("Beslut", DECISION, within=PROPOSALS_TITLE, since=at)
    page.screenshot("11-ksau-card", within=PROPOSALS_TITLE, since=at, top=True)
    page.click("Registrera beslut", within=PROPOSALS_TITLE, since=at)
    page.expect(f"Beslutat {DECISION}: 2 av {count} förslag, registrerat av {session.user.name}", since=at)
    page.screenshot("11-ksau-decided", within=PROPOSALS_TITLE, since=at, top=True)
    measures = session.cli("measures", "--year", "2025", "--unit", "FSKN")
    assert "2 400 000 kr" in measures  # measure 5 got the 400 000 kr of proposal 2
