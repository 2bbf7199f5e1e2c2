"""Issue 20, the round from chat (stadskontoret; HR for its own units): the round's questions
answered per committee with the core's dates, opening and closing with a summary and a
yes/no (only "ja" does it; only stadskontoret may), and an extra reminder now, to each person
at most once a Swedish day per round, recorded with the person's id."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.clock import clock_for
from bot.round_services import RoundServices
from core.dates import format_date
from core.model import Role
from core.rounds import Phase, plan_round
from storage.rounds import SendState
from storage.tables import FollowUpRoundRow, RoundReminderRow, RoundSendRow, table

JUNE = date(2025, 6, 5)
OFFICE = "aad-stadskontoret-1"
FOLLOWUP_FORM = "Vilken insats"  # the follow-up dialog's first question: never begun by these


def rounds(engine, today: date = JUNE) -> RoundServices:
    return RoundServices(engine, org="malmo", clock=clock_for(today))


def _rows(engine, row):
    with engine.connect() as conn:
        return conn.execute(select(table(row)).order_by(table(row).c.id)).all()


@pytest.fixture
def city(example_engine, services):
    """HR for FSKN and GSN (each gets a card for their committee's measures) and stadskontoret."""
    services.grant_role(None, "hr-fskn", Role.HR, "FSKN")
    services.grant_role(None, "hr-gsn", Role.HR, "GSN")
    services.grant_role(None, OFFICE, Role.CITY_OFFICE, None)
    return example_engine


def test_stadskontoret_opens_the_june_round_after_a_summary_and_ja(city, chat_as) -> None:
    office = chat_as(OFFICE, today=JUNE)
    summary = office.said("öppna junirundan")
    plan = plan_round("2025-06")  # the core's dates, as `followup open --period 2025-06` plans them
    assert "Öppna uppföljningen juni 2025?" in summary
    assert f"Öppnar: {format_date(plan.opens)}" in summary
    assert f"Sista dag: {format_date(plan.deadline)}" in summary
    assert "Påminnelser: " + ", ".join(format_date(d) for d in plan.reminders) in summary
    assert f"Eskalering: {format_date(plan.escalate_on)}" in summary
    assert "kort till 2 personer" in summary and "45 insatser med pengar 2025" in summary
    assert _rows(city, FollowUpRoundRow) == []  # nothing before "ja"

    done = office.said("ja")
    assert "Uppföljningen juni 2025 är öppnad: 2 kort går ut nu" in done
    [row] = _rows(city, FollowUpRoundRow)
    assert (row.period, row.created_by, row.closed_at) == ("2025-06", OFFICE, None)
    sends = _rows(city, RoundSendRow)  # enqueued for the round runner, as a tick records them
    assert sorted((s.recipient, s.kind, s.state) for s in sends) == [
        ("hr-fskn", "prompt", SendState.PENDING),
        ("hr-gsn", "prompt", SendState.PENDING),
    ]
    # The same core rules as `followup open`: a second round for the period is refused.
    assert "Det finns redan en uppföljningsomgång för 2025-06" in office.said("starta uppföljningen för juni")


@pytest.mark.parametrize("answer", ["nej", "kanske", "vänta lite"])
def test_anything_but_ja_opens_nothing(city, chat_as, answer) -> None:
    office = chat_as(OFFICE, today=JUNE)
    assert "Öppna uppföljningen juni 2025?" in office.said("starta uppföljningen för juni")
    assert "omgången öppnades inte. Inget har ändrats." in office.said(answer)
    assert _rows(city, FollowUpRoundRow) == [] and _rows(city, RoundSendRow) == []


@pytest.mark.parametrize(
    ("user", "role", "unit"),
    [("hr-x", Role.HR, "FSKN"), ("chef-x", Role.CHEF, "GVN"), ("ksau-x", Role.KSAU, None)],
)
def test_only_those_who_manage_rounds_may_open_or_close(city, chat_as, user, role, unit) -> None:
    person = chat_as(user, role, unit, today=JUNE)
    refused = person.said("öppna junirundan")
    assert "Du har inte behörighet att öppna och stänga uppföljningsomgångar" in refused
    assert "ja" not in person.say("öppna junirundan")[0].actions  # no yes/no is asked
    rounds(city).open(None, "2025-06")
    assert "Du har inte behörighet att öppna och stänga" in person.said("stäng rundan")
    person.said("ja")
    [row] = _rows(city, FollowUpRoundRow)
    assert row.closed_at is None


def test_stadskontoret_closes_the_round_after_ja_recorded_with_their_id(city, chat_as) -> None:
    rounds(city).open(None, "2025-06")
    office = chat_as(OFFICE, today=JUNE)
    summary = office.said("stäng rundan")
    assert "Stänga uppföljningen juni 2025?" in summary and "Sista dag: 19 juni 2025 (öppen)" in summary
    assert "omgången stängdes inte" in office.said("nej")
    assert _rows(city, FollowUpRoundRow)[0].closed_at is None
    office.said("stäng junirundan")
    assert "Uppföljningen juni 2025 är stängd" in office.said("Ja")
    [row] = _rows(city, FollowUpRoundRow)
    assert row.closed_at is not None and row.closed_by == OFFICE
    assert "Uppföljningen juni 2025 är redan stängd (stängdes 5 juni 2025)" in office.said("stäng junirundan")
    assert "Det finns ingen öppen uppföljningsomgång att stänga." in office.said("stäng rundan")
    # As after `followup close`: the round is closed and owes no more sends.
    assert rounds(city).find("2025-06").phase(JUNE) == Phase.CLOSED
    assert rounds(city).enqueue_due(JUNE) == 0


def test_a_question_while_ja_or_nej_is_asked_is_answered_and_the_question_asked_again(city, chat_as) -> None:
    """A stranger asked "hur många har svarat hittills?" before answering "ja" to closing: the
    confirmation was left, and the "ja" then closed nothing and said nothing of it."""
    rounds(city).open(None, "2025-06")
    office = chat_as(OFFICE, today=JUNE)
    assert "Stänga uppföljningen juni 2025?" in office.said("stäng rundan")
    answered = office.said("hur många har svarat hittills?")
    assert "Per nämnd" in answered  # the round's status, per committee
    assert "Stänga uppföljningen juni 2025?" in answered  # and the question again
    for other in ("vad betyder prognos?", "saldo GVN"):  # any question answered at once: the same
        answered = office.said(other)
        assert (
            "Stänga uppföljningen juni 2025?" in answered
            and _rows(city, FollowUpRoundRow)[0].closed_at is None
        )
    again = office.said("vänta, hur många får kort?")  # a question it cannot answer here: asked again
    assert "Stänga uppföljningen juni 2025?" in again and _rows(city, FollowUpRoundRow)[0].closed_at is None
    assert "Uppföljningen juni 2025 är stängd" in office.said("ja")
    assert _rows(city, FollowUpRoundRow)[0].closed_by == OFFICE


def test_the_round_at_a_glance_per_committee_with_the_cores_dates(city, chat_as) -> None:
    rounds(city).open(None, "2025-06")
    office = chat_as(OFFICE, today=JUNE)
    for question in ("hur går junirundan?", "Hur många har svarat", "hur gar junirundan", "svarsfrekvens?"):
        said = office.said(question)
        assert "**Uppföljningen juni 2025** (sista dag 19 juni 2025, öppen)" in said, question
        assert "Datum: öppnade 2 juni 2025, nästa påminnelse 10 juni 2025, eskalering 23 juni 2025" in said
        assert "Per nämnd (besvarade av tillfrågade insatser, utan mottagare):" in said
        assert "Förskolenämnden (FSKN): 0 av 4 besvarade" in said
        assert "Grundskolenämnden (GSN): 0 av 14 besvarade" in said
        assert "Kulturnämnden (KN): ingen tillfrågad, 2 utan mottagare" in said
        assert 'Skriv "vem har inte svarat"' in said
        assert FOLLOWUP_FORM not in said
    dates = office.said("när är sista dag?")
    assert "Sista dag: 19 juni 2025" in dates and "Nästa påminnelse: 10 juni 2025" in dates
    assert "Eskalering: 23 juni 2025" in dates
    # HR sees its own committee only, with the names of who has not answered there.
    hr = chat_as("hr-fskn", today=JUNE)
    own = hr.said("hur går junirundan?")
    assert "Förskolenämnden (FSKN): 0 av 4 besvarade" in own and "GSN" not in own
    late = hr.said("vem har inte svarat?")
    assert "Förskolenämnden (FSKN)" in late and "hr-fskn" in late and "Grundskolenämnden" not in late
    everyone = office.said("vem har inte svarat?")
    assert "hr-fskn" in everyone and "hr-gsn" in everyone and "Kulturnämnden (KN)" in everyone
    # A chef may see the round's figures for their unit, not the names.
    chef = chat_as("chef-gsn", Role.CHEF, "GSN", today=JUNE)
    said = chef.said("vem har inte svarat?")
    assert "visas bara för stadskontoret och för nämndens HR" in said and "hr-gsn" not in said
    assert "Grundskolenämnden (GSN): 0 av 14 besvarade" in said


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("starta junirundan", "Öppna uppföljningen juni 2025?"),
        ("öppna junirundan", "Öppna uppföljningen juni 2025?"),
        ("Starta uppföljningen för juni", "Öppna uppföljningen juni 2025?"),
        ("kan du öppna decemberrundan", "Öppna uppföljningen december 2025?"),
        ("öppna uppföljningsrundan 2025-12", "Öppna uppföljningen december 2025?"),
        ("påminn de som inte svarat", "Det finns ingen öppen uppföljningsomgång att påminna om."),
        ("stäng rundan", "Det finns ingen öppen uppföljningsomgång att stänga."),
        ("när öppnar junirundan?", "Det finns ingen uppföljningsomgång ännu."),
    ],
)
def test_the_round_requests_never_fall_back_or_start_the_follow_up_form(
    city, chat_as, message, expected
) -> None:
    said = chat_as(OFFICE, today=JUNE).said(message)
    assert expected in said
    assert FOLLOWUP_FORM not in said and "Jag förstod inte" not in said


def test_an_extra_reminder_goes_to_those_who_have_not_answered_once_a_swedish_day(city, chat_as) -> None:
    services = rounds(city)
    round_ = services.open(None, "2025-06")
    office = chat_as(OFFICE, today=JUNE)
    # Before the cards are recorded nobody has had one: the tick sends the card, not a reminder.
    assert "Ingen påminnelse skickades" in office.said("påminn de som inte svarat")
    assert _rows(city, RoundReminderRow) == []
    services.enqueue_due(JUNE)  # the cards (a tick)
    said = office.said("Påminn dom som inte har svarat")
    assert (
        "En extra påminnelse går nu ut till 2 personer som inte har svarat på uppföljningen juni 2025" in said
    )
    extra = [s for s in _rows(city, RoundSendRow) if s.kind.startswith("extra-")]
    assert sorted((s.recipient, s.state) for s in extra) == [
        ("hr-fskn", SendState.PENDING),
        ("hr-gsn", SendState.PENDING),
    ]
    assert len({s.kind for s in extra}) == 1  # keyed by the Swedish day: one a person a day
    [reminder] = _rows(city, RoundReminderRow)
    assert (reminder.round_id, reminder.by, reminder.recipients, reminder.units) == (round_.id, OFFICE, 2, "")
    # A second request the same day says when the last one went out, and by whom; nothing sent.
    again = office.said("skicka en påminnelse till de som inte svarat")
    assert "gick redan ut i dag kl. " in again and "av dig, till 2 personer" in again
    hr = chat_as("hr-fskn", today=JUNE)
    assert "gick redan ut i dag kl. " in hr.said("påminn de som inte svarat")
    assert len(_rows(city, RoundSendRow)) == 4 and len(_rows(city, RoundReminderRow)) == 1
    # The next day (the bot's date and clock on it) another may go out.
    next_day = chat_as(OFFICE, today=date(2025, 6, 6))
    assert "En extra påminnelse går nu ut till 2 personer" in next_day.said("påminn de som inte svarat")
    assert len(_rows(city, RoundReminderRow)) == 2


def test_hr_reminds_only_the_recipients_of_its_own_units(city, chat_as) -> None:
    services = rounds(city)
    services.open(None, "2025-06")
    services.enqueue_due(JUNE)
    hr = chat_as("hr-fskn", today=JUNE)
    said = hr.said("påminn de som inte svarat")
    assert "En extra påminnelse går nu ut till 1 person i FSKN" in said
    extra = [(s.recipient, s.kind[:6]) for s in _rows(city, RoundSendRow) if s.kind.startswith("extra-")]
    assert extra == [("hr-fskn", "extra-")]
    [reminder] = _rows(city, RoundReminderRow)
    assert (reminder.by, reminder.units) == ("hr-fskn", "FSKN")
    # A chef may not remind.
    chef = chat_as("chef-gsn", Role.CHEF, "GSN", today=JUNE)
    assert "Du har inte behörighet att påminna om uppföljningen" in chef.said("påminn de som inte svarat")


def test_one_hr_leads_reminder_leaves_the_others_theirs(city, chat_as) -> None:
    """HR for GSN reminds its own first: stadskontoret's reminder the same day still goes to
    those not reminded today (FSKN's), and HR for FSKN is then told when and by whom theirs
    went out. Nobody gets two the same day."""
    services = rounds(city)
    services.open(None, "2025-06")
    services.enqueue_due(JUNE)
    assert "går nu ut till 1 person i GSN" in chat_as("hr-gsn", today=JUNE).said("påminn de som inte svarat")
    office = chat_as(OFFICE, today=JUNE)
    assert "En extra påminnelse går nu ut till 1 person som inte" in office.said("påminn de som inte svarat")
    refused = chat_as("hr-fskn", today=JUNE).said("påminn de som inte svarat")
    assert "gick redan ut i dag kl. " in refused and f"av {OFFICE}, till 1 person." in refused
    again = office.said("påminn de som inte svarat")
    assert "gick redan ut i dag kl. " in again and "av dig, till 1 person." in again
    extra = sorted(s.recipient for s in _rows(city, RoundSendRow) if s.kind.startswith("extra-"))
    assert extra == ["hr-fskn", "hr-gsn"]  # one each
    assert [(r.by, r.units, r.recipients) for r in _rows(city, RoundReminderRow)] == [
        ("hr-gsn", "GSN", 1),
        (OFFICE, "", 1),
    ]


def test_a_closed_round_sends_no_extra_reminder(city, chat_as) -> None:
    services = rounds(city)
    services.open(None, "2025-06")
    services.enqueue_due(JUNE)
    services.close(None, "2025-06")
    said = chat_as(OFFICE, today=JUNE).said("påminn de som inte svarat")
    assert "Det finns ingen öppen uppföljningsomgång att påminna om." in said
    assert _rows(city, RoundReminderRow) == []


@pytest.fixture
def june_open_december_planned(city):
    """The June round open (its cards recorded) and December's planned (`followup open --period
    2025-12`: it opens in December), on 5 June."""
    services = rounds(city)
    services.open(None, "2025-06")
    services.enqueue_due(JUNE)
    services.open(None, "2025-12")
    return city


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("hur går junirundan?", "juni 2025"),
        ("hur går uppföljningen?", "juni 2025"),
        ("vem har inte svarat i juni?", "Uppföljningen juni 2025: de som inte har svarat"),
        ("vem har inte svarat?", "Uppföljningen juni 2025: de som inte har svarat"),
        ("när är sista dag?", "19 juni 2025"),
        ("översikt", "juni 2025"),
    ],
)
def test_with_december_planned_the_round_questions_mean_june(
    june_open_december_planned, chat_as, message, expected
) -> None:
    said = chat_as(OFFICE, today=JUNE).said(message)
    assert expected in said
    assert "december" not in said.lower()


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("hur går decemberrundan?", "december 2025"),
        ("vem har inte svarat i december?", "Uppföljningen december 2025: de som inte har svarat"),
    ],
)
def test_naming_december_answers_about_december(june_open_december_planned, chat_as, message, expected):
    said = chat_as(OFFICE, today=JUNE).said(message)
    assert expected in said and "juni 2025" not in said


def test_the_round_closed_and_reminded_is_the_open_one_not_the_planned(june_open_december_planned, chat_as):
    office = chat_as(OFFICE, today=JUNE)
    assert "En extra påminnelse går nu ut till 2 personer" in office.said("påminn de som inte svarat")
    assert "Stänga uppföljningen juni 2025?" in office.said("stäng rundan")
    office.said("nej")
    # A month no round has is said, never another round's.
    assert "Det finns ingen uppföljningsomgång för mars." in office.said("vem har inte svarat i mars?")


def test_the_rounds_report_names_the_people_only_to_those_who_get_the_late_list(city, services) -> None:
    """KSAU's `followup status`/export named everyone late, which "vem har inte svarat?" refuses
    it; HR sees its own committee's people, stadskontoret everyone; the counts stay the same."""
    services.grant_role(None, "ksau-1", Role.KSAU, None)
    rounds(city).open(None, "2025-06")
    office, ksau, hr = (rounds(city).report(u, "2025-06", JUNE) for u in (OFFICE, "ksau-1", "hr-gsn"))
    people = {p for p, _ in office.late}
    assert people == {"hr-fskn", "hr-gsn"}
    assert [p for p, _ in ksau.late] == ["(dold)", "(dold)"]  # counted, not named, not numbered
    assert not people & {p for m in ksau.measures for p in m.asked}
    assert not people & {p for g in ksau.committees for p in (*g.late, *g.asked)}
    assert [(g.unit, g.late) for g in hr.committees] == [("GSN", ("hr-gsn",))]  # HR: its own, named
    # every count as stadskontoret's
    assert [len(m.asked) for m in ksau.measures] == [len(m.asked) for m in office.measures]
    assert ksau.recipients == office.recipients and len(ksau.late) == len(office.late)
