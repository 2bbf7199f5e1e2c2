"""The follow-up round's rules: Swedish working days, the June and December
dates for 2025-2027, who gets which card, what is due on a date, the
answers from a card, the results and the reallocation proposals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.calendar import add_working_days, is_working_day, midsummer_eve, working_days_between
from core.errors import DomainError, InputError, RuleViolation
from core.model import Principal, Role, RoleGrant, Status
from core.proposals import propose
from core.round_answers import answers_to_followups, field_name, parse_answers
from core.round_report import Risk, round_report
from core.rounds import (
    MeasureState,
    Phase,
    Round,
    SendKind,
    assign,
    committee_gaps,
    due_sends,
    late_list_units,
    measure_state,
    plan_round,
)
from core.rules import check_reallocation
from tests.unit.builders import KSAU, malmo_small

# --- the calendar ------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "eve"), [(2025, date(2025, 6, 20)), (2026, date(2026, 6, 19)), (2027, date(2027, 6, 25))]
)
def test_midsummer_eve_is_the_friday_before_midsummer_day(year: int, eve: date) -> None:
    assert midsummer_eve(year) == eve
    assert eve.weekday() == 4
    assert not is_working_day(eve)


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 6, 6),  # nationaldagen
        date(2025, 12, 24),  # julafton
        date(2025, 12, 31),  # nyårsafton
        date(2025, 5, 29),  # Kristi himmelsfärd
        date(2026, 4, 3),  # långfredagen
        date(2025, 6, 7),  # a Saturday
    ],
)
def test_holidays_eves_and_weekends_are_not_working_days(day: date) -> None:
    assert not is_working_day(day)


def test_working_days_skip_the_national_day() -> None:
    # 2 June 2025 is a Monday; 6 June (Friday) is the national day.
    assert add_working_days(date(2025, 6, 2), 5) == date(2025, 6, 10)
    assert add_working_days(date(2025, 6, 10), -5) == date(2025, 6, 2)
    assert working_days_between(date(2025, 6, 2), date(2025, 6, 10)) == 5


# --- the June and December dates ----------------------------------------------------


@pytest.mark.parametrize(
    ("period", "opens", "deadline", "reminders", "escalate"),
    [
        # 1 June 2025 is a Sunday; midsommarafton 20 June; 6 June is a holiday.
        (
            "2025-06",
            date(2025, 6, 2),
            date(2025, 6, 19),
            (date(2025, 6, 10), date(2025, 6, 18)),
            date(2025, 6, 23),
        ),
        # midsommarafton 19 June 2026 (a Friday): the deadline is Thursday 18 June.
        (
            "2026-06",
            date(2026, 6, 1),
            date(2026, 6, 18),
            (date(2026, 6, 8), date(2026, 6, 17)),
            date(2026, 6, 22),
        ),
        # midsommarafton moves to 25 June in 2027.
        (
            "2027-06",
            date(2027, 6, 1),
            date(2027, 6, 24),
            (date(2027, 6, 8), date(2027, 6, 23)),
            date(2027, 6, 28),
        ),
        # December: deadline before julafton, escalation after the Christmas holidays.
        (
            "2025-12",
            date(2025, 12, 1),
            date(2025, 12, 23),
            (date(2025, 12, 8), date(2025, 12, 22)),
            date(2025, 12, 29),
        ),
        (
            "2026-12",
            date(2026, 12, 1),
            date(2026, 12, 23),
            (date(2026, 12, 8), date(2026, 12, 22)),
            date(2026, 12, 28),
        ),
        (
            "2027-12",
            date(2027, 12, 1),
            date(2027, 12, 23),
            (date(2027, 12, 8), date(2027, 12, 22)),
            date(2027, 12, 27),
        ),
    ],
)
def test_default_round_dates(period, opens, deadline, reminders, escalate) -> None:
    plan = plan_round(period)
    assert (plan.opens, plan.deadline, plan.reminders, plan.escalate_on) == (
        opens,
        deadline,
        reminders,
        escalate,
    )


def test_a_round_can_be_configured_and_refuses_a_deadline_before_it_opens() -> None:
    plan = plan_round("2025-06", opens=date(2025, 6, 9), deadline=date(2025, 6, 13), reminder_after=2)
    assert plan.reminders == (date(2025, 6, 11), date(2025, 6, 12))
    assert plan_round("2025-06", reminder_after=None, reminder_before_deadline=None).reminders == ()
    with pytest.raises(RuleViolation, match="före öppningsdagen"):
        plan_round("2025-06", opens=date(2025, 6, 10), deadline=date(2025, 6, 9))
    with pytest.raises(InputError):
        plan_round("juni")


def test_the_round_phase_follows_the_date() -> None:
    r = Round(1, plan_round("2025-06"))
    assert r.phase(date(2025, 6, 1)) == Phase.PLANNED
    assert r.phase(date(2025, 6, 2)) == Phase.OPEN
    assert r.phase(date(2025, 6, 19)) == Phase.OPEN
    assert r.phase(date(2025, 6, 20)) == Phase.PAST_DEADLINE
    closed = Round(1, r.plan, closed_at=datetime(2025, 6, 10, tzinfo=UTC))
    assert closed.phase(date(2025, 6, 10)) == Phase.CLOSED


# --- recipients and what is due ----------------------------------------------------


def _book():
    book = malmo_small()
    a = book.measure("Mentorskap", "FSKN")
    b = book.measure("Språkombud", "FSKN", responsible="aad-anna")
    c = book.measure("Yrkeslärare", "GVN")
    d = book.measure("Malmö Lär", "SBN", "TN")
    book.measure("Utan pengar", "GVN")
    book.grant(a, "FSKN", 1_000_000).grant(b, "FSKN", 500_000).grant(c, "GVN", 2_000_000)
    book.grant(d, "SBN", 300_000).grant(d, "TN", 100_000)
    grants = [
        RoleGrant("aad-fskn-hr", Role.HR, "FSKN"),
        RoleGrant("aad-gvn-hr", Role.HR, "GVN"),
        RoleGrant("aad-stk", Role.CITY_OFFICE),
        RoleGrant("aad-chef", Role.CHEF, "FSKN"),
    ]
    return book, grants, (a, b, c, d)


def test_each_person_gets_one_card_for_all_their_measures() -> None:
    book, grants, (a, b, c, d) = _book()
    assignments = assign(book.ledger, grants, 2025)
    # The responsible person gets their measure; HR gets the rest of the unit;
    # a measure with no HR holder in any of its units is unassigned; one without money is not asked about.
    assert assignments.cards == {"aad-fskn-hr": (a,), "aad-anna": (b,), "aad-gvn-hr": (c,)}
    assert assignments.unassigned == (d,)


def test_what_is_due_follows_the_dates_and_the_answers() -> None:
    book, grants, (a, b, c, _d) = _book()
    r = Round(7, plan_round("2025-06"))
    assert due_sends(r, date(2025, 5, 30), book.ledger, grants, set()) == []
    prompts = due_sends(r, date(2025, 6, 2), book.ledger, grants, set())
    assert {(s.recipient, s.kind) for s in prompts} == {
        ("aad-anna", SendKind.PROMPT),
        ("aad-fskn-hr", SendKind.PROMPT),
        ("aad-gvn-hr", SendKind.PROMPT),
    }
    sent = {(s.recipient, s.kind) for s in prompts}
    # Nothing new the same day or before the reminder.
    assert due_sends(r, date(2025, 6, 9), book.ledger, grants, sent) == []
    # GVN answers; on the reminder day only the others are reminded.
    book.followup(c, 100_000, 2_000_000)
    reminders = due_sends(r, date(2025, 6, 10), book.ledger, grants, sent)
    assert {(s.recipient, s.kind) for s in reminders} == {
        ("aad-anna", SendKind.REMINDER_1),
        ("aad-fskn-hr", SendKind.REMINDER_1),
    }
    sent |= {(s.recipient, s.kind) for s in reminders}
    book.followup(b, 0, 500_000)
    # A missed first reminder is not sent late: only the latest one is.
    last = due_sends(r, date(2025, 6, 18), book.ledger, grants, sent)
    assert [(s.recipient, s.kind) for s in last] == [("aad-fskn-hr", SendKind.REMINDER_2)]
    # After the deadline: FSKN's HR lead and stadskontoret get the list of the
    # late units (FSKN, and SBN/TN whose shared measure nobody could be asked about).
    assert due_sends(r, date(2025, 6, 20), book.ledger, grants, sent) == []
    escalation = due_sends(r, date(2025, 6, 23), book.ledger, grants, sent)
    assert {(s.recipient, s.kind, s.units) for s in escalation} == {
        ("aad-fskn-hr", SendKind.ESCALATION, ("FSKN",)),
        ("aad-stk", SendKind.ESCALATION, ("FSKN", "SBN", "TN")),
    }
    assert a not in {f.measure_id for f in book.ledger.followups}
    closed = Round(7, r.plan, closed_at=datetime(2025, 6, 23, tzinfo=UTC))
    assert due_sends(closed, date(2025, 6, 23), book.ledger, grants, sent) == []


# --- answers from a card ------------------------------------------------------------------


def test_a_card_answer_becomes_follow_ups_of_the_round() -> None:
    book, grants, (a, _b, _c, _d) = _book()
    values = {
        field_name(a, "status"): "Pågående",
        field_name(a, "spent"): "200 tkr",
        field_name(a, "forecast"): "0,9 mkr",
        field_name(a, "usable"): "nej",
        field_name(a, "note"): "Startar i augusti",
    }
    [answer] = parse_answers(book.ledger, (a,), values)
    assert (answer.status, answer.spent, answer.forecast, answer.usable_as_planned) == (
        Status.ONGOING,
        200_000,
        900_000,
        False,
    )
    who = Principal("aad-fskn-hr", tuple(g for g in grants if g.user == "aad-fskn-hr"))
    r = Round(7, plan_round("2025-06"))
    at = datetime(2025, 6, 5, tzinfo=UTC)
    [followup] = answers_to_followups(
        book.ledger, who, r, [answer], author="Anna", at=at, as_of=date(2025, 6, 5)
    )
    assert (followup.period, followup.author, followup.measure_id) == ("2025-06", "Anna", a)
    with pytest.raises(RuleViolation, match="stängde för svar 19 juni 2025"):
        answers_to_followups(book.ledger, who, r, [answer], author="Anna", at=at, as_of=date(2025, 6, 20))


def test_an_answer_before_the_round_opens_says_when_it_opens_not_to_ask_for_a_late_answer() -> None:
    book, grants, (a, _b, _c, _d) = _book()
    values = {
        field_name(a, "status"): "Pågående",
        field_name(a, "spent"): "0 kr",
        field_name(a, "forecast"): "1 kr",
    }
    answers = parse_answers(book.ledger, (a,), values)
    who = Principal("aad-fskn-hr", tuple(g for g in grants if g.user == "aad-fskn-hr"))
    december = Round(8, plan_round("2025-12"))
    at = datetime(2025, 6, 10, tzinfo=UTC)
    with pytest.raises(RuleViolation) as refused:
        answers_to_followups(
            book.ledger, who, december, answers, author="Anna", at=at, as_of=date(2025, 6, 10)
        )
    assert refused.value.message == (
        "Uppföljningen december 2025 har inte öppnat än. Den öppnar 1 december 2025, och svar kan lämnas "
        "och ändras från då till och med 23 december 2025."
    )


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"status": "Klar", "spent": "-5 kr", "forecast": "1 kr"}, "utfall"),
        ({"status": "Kanske", "spent": "0 kr", "forecast": "1 kr"}, "Okänd status"),
        ({"status": "Klar", "spent": "0 kr"}, "prognos för året saknas"),
        ({"status": "Klar", "spent": "0 kr", "forecast": "10" + "0" * 30}, "prognos"),
        ({"status": "Klar", "spent": "0 kr", "forecast": "1 kr", "usable": "kanske"}, '"ja" eller "nej"'),
        ({"status": ["Klar"], "spent": "0 kr", "forecast": "1 kr"}, "ska vara text"),
        ({}, "Svaret är tomt"),
    ],
)
def test_a_bad_card_answer_is_refused_with_its_measure_named(values: dict[str, object], problem: str) -> None:
    book, _grants, (a, _b, _c, _d) = _book()
    with pytest.raises(DomainError) as refused:
        parse_answers(book.ledger, (a,), {field_name(a, k): v for k, v in values.items()})
    assert problem in refused.value.message
    if values:
        assert "Mentorskap" in refused.value.message


def test_a_forged_answer_for_a_measure_not_on_the_card_is_refused() -> None:
    book, _grants, (a, _b, c, _d) = _book()
    forged = {
        field_name(c, "status"): "Klar",
        field_name(c, "spent"): "0 kr",
        field_name(c, "forecast"): "0 kr",
    }
    with pytest.raises(InputError, match="inte finns på ditt uppföljningskort"):
        parse_answers(book.ledger, (a,), forged)


# --- results and proposals -------------------------------------------------------------


def test_the_report_shows_answers_unused_money_risks_and_proposals() -> None:
    book, grants, (a, b, c, d) = _book()
    book.followup(a, 50_000, 400_000, Status.ONGOING)  # 600 000 unused, forecast under half
    book.followup(b, 0, 500_000, Status.NOT_STARTED)  # not started in June
    book.followup(c, 1_500_000, 2_400_000)  # needs 400 000 more
    r = Round(7, plan_round("2025-06"))
    report = round_report(r, book.ledger, grants, date(2025, 6, 20))
    assert (report.recipients, report.answered_recipients) == (3, 3)
    risks = {m.measure_id: m.risks for m in report.measures}
    assert risks[a] == (Risk.LOW_FORECAST,)
    assert risks[b] == (Risk.NOT_STARTED,)
    assert risks[c] == ()
    assert risks[d] == (Risk.NO_ANSWER,)
    fskn = next(u for u in report.units if u.code == "FSKN")
    assert (fskn.allocated, fskn.forecast, fskn.unused) == (1_500_000, 900_000, 600_000)
    # The shared measure's money is split exactly between its units.
    sbn, tn = (next(u for u in report.units if u.code == code) for code in ("SBN", "TN"))
    assert sbn.allocated + tn.allocated == 400_000
    [proposal] = report.proposals
    assert (proposal.from_measure, proposal.to_measure, proposal.amount) == (a, c, 400_000)
    # A proposal is within the rules: KSAU can record it as it stands.
    from core.entries import ReallocationEntry

    entry = ReallocationEntry(2025, a, c, proposal.amount, KSAU, "ksau", datetime(2025, 6, 20, tzinfo=UTC))
    assert check_reallocation(book.ledger, entry) == []
    # A chef sees only their unit's part.
    mine = round_report(r, book.ledger, grants, date(2025, 6, 20), units={"FSKN"})
    assert {m.measure_id for m in mine.measures} == {a, b}
    assert [u.code for u in mine.units] == ["FSKN"]


def test_proposals_prefer_the_same_unit_and_never_move_more_than_is_unused() -> None:
    book = malmo_small()
    giver_other = book.measure("GVN-överskott", "GVN")
    giver_same = book.measure("FSKN-överskott", "FSKN")
    taker = book.measure("FSKN-behov", "FSKN")
    taker2 = book.measure("GVN-behov", "GVN")
    for mid, unit, amount in (
        (giver_other, "GVN", 1_000_000),
        (giver_same, "FSKN", 300_000),
        (taker, "FSKN", 500_000),
        (taker2, "GVN", 200_000),
    ):
        book.grant(mid, unit, amount)
    book.followup(giver_other, 0, 200_000)  # 800 000 unused
    book.followup(giver_same, 0, 100_000)  # 200 000 unused
    book.followup(taker, 0, 1_000_000)  # needs 500 000
    book.followup(taker2, 0, 900_000)  # needs 700 000
    proposals = propose(book.ledger, 2025)
    moved = {(p.from_measure, p.to_measure): p.amount for p in proposals}
    # The larger need first, from its own unit; then FSKN's own money first.
    assert moved == {
        (giver_other, taker2): 700_000,
        (giver_same, taker): 200_000,
        (giver_other, taker): 100_000,
    }
    assert sum(a for (src, _), a in moved.items() if src == giver_other) <= 800_000
    assert propose(book.ledger, 2026) == []


# --- every measure accounted for (issue 17) ---------------------------------------------


def test_every_measure_of_the_round_is_answered_asked_or_has_no_recipient() -> None:
    """Issue 17 item 13: a measure nobody can be asked about is not dropped: it is
    "ingen mottagare" with its units, and counts in the report beside the answered
    and the asked-but-not-answered ones."""
    book, grants, (a, b, c, d) = _book()
    book.followup(c, 100_000, 2_000_000)
    assignments = assign(book.ledger, grants, 2025)
    answered = {c}
    assert {m: measure_state(m, assignments, answered) for m in (a, b, c, d)} == {
        a: MeasureState.NOT_ANSWERED,
        b: MeasureState.NOT_ANSWERED,
        c: MeasureState.ANSWERED,
        d: MeasureState.NO_RECIPIENT,
    }
    report = round_report(Round(7, plan_round("2025-06")), book.ledger, grants, date(2025, 6, 20))
    assert {m.measure_id: m.state for m in report.measures}[d] == MeasureState.NO_RECIPIENT
    assert [m.measure_id for m in report.no_recipient] == [d]
    assert report.no_recipient_units == {"SBN": 1, "TN": 1}
    assert sum(report.count(s) for s in MeasureState) == len(report.measures) == 4
    assert {m.measure_id: m.asked for m in report.measures}[b] == ("aad-anna",)


def test_a_round_with_nobody_asked_is_not_said_to_be_all_answered() -> None:
    """Stranger retest: a chef whose units had no recipient read "Svar: 0 av 0 personer
    (100%)"; nobody asked is said as such, and one person is "1 person"."""
    book, grants, _ = _book()
    nobody = round_report(  # SBN and TN: a shared measure nobody can be asked about
        Round(7, plan_round("2025-06")), book.ledger, grants, date(2025, 6, 20), units={"SBN", "TN"}
    )
    assert nobody.people_answered == "ingen person tillfrågad"
    report = round_report(Round(7, plan_round("2025-06")), book.ledger, grants, date(2025, 6, 20))
    people = "person" if report.recipients == 1 else "personer"
    assert report.people_answered == f"0 av {report.recipients} {people} (0%)"


def test_the_committees_with_missing_answers_are_each_listed_once() -> None:
    """Issue 17 item 14: one line per committee with missing answers: its measures
    asked and not answered, those with no recipient, and the people asked; a shared
    measure counts for each of its committees, an answered committee is not listed."""
    book, grants, (a, b, c, d) = _book()
    book.followup(c, 100_000, 2_000_000)
    gaps = committee_gaps(book.ledger, assign(book.ledger, grants, 2025), {c})
    assert [(g.unit, g.not_answered, g.no_recipient, g.asked, g.late) for g in gaps] == [
        ("FSKN", (a, b), (), ("aad-anna", "aad-fskn-hr"), ("aad-anna", "aad-fskn-hr")),
        ("SBN", (), (d,), (), ()),
        ("TN", (), (d,), (), ()),
    ]
    only = committee_gaps(book.ledger, assign(book.ledger, grants, 2025), {c}, units={"TN"})
    assert [g.unit for g in only] == ["TN"]


def test_who_may_see_who_has_not_answered() -> None:
    """Issue 17 item 14: the names ("visa alla") go to those the escalation goes to:
    stadskontoret every committee, an HR lead their own, nobody else."""
    units = ["FSKN", "GVN", "SBN"]
    assert late_list_units(Principal("stk", (RoleGrant("stk", Role.CITY_OFFICE),)), units) == units
    assert late_list_units(Principal("hr", (RoleGrant("hr", Role.HR, "GVN"),)), units) == ["GVN"]
    assert late_list_units(Principal("c", (RoleGrant("c", Role.CHEF, "GVN"),)), units) == []
    assert late_list_units(Principal("k", (RoleGrant("k", Role.KSAU),)), units) == []


def test_one_rule_says_who_gets_every_committees_list_and_the_report_has_the_totals() -> None:
    """Review finding 9: one core rule (gets_every_late_list) for who gets every committee's
    list of missing answers: the escalation's recipients, "visa alla" (late_list_units) and
    the escalation's city-wide wording agree for every kind of person; the escalation's
    totals are the report's (missing = waiting + without a recipient)."""
    import json

    from core.rounds import escalation_recipients, gets_every_late_list, principal_of
    from dialogs.round_cards import escalation_activities

    book, grants, (a, b, c, d) = _book()
    people = [
        *grants,
        RoleGrant("k", Role.KSAU),
        RoleGrant("both", Role.HR, "FSKN"),
        RoleGrant("both", Role.CITY_OFFICE),
    ]
    book.followup(c, 100_000, 2_000_000)
    late = {"FSKN", "SBN", "TN"}
    recipients = escalation_recipients(book.ledger, people, late)
    for user in {g.user for g in people}:
        who = principal_of(people, user)
        assert set(recipients.get(user, ())) == set(late_list_units(who, sorted(late))), user
        assert (set(recipients.get(user, ())) == late) == gets_every_late_list(who), user
    assert set(recipients) == {"aad-fskn-hr", "aad-stk", "both"}
    round_ = Round(7, plan_round("2025-06"))
    report = round_report(round_, book.ledger, people, date(2025, 6, 23))
    assert (report.missing, report.waiting, report.missing_no_recipient) == (3, 2, 1)
    names = {code: code for code in book.ledger.units}
    for user, city_wide in (("aad-stk", True), ("both", True), ("aad-fskn-hr", False)):
        [activity] = escalation_activities(round_, report, user, people, names)
        seen = json.dumps([x.content for x in activity.attachments or []], ensure_ascii=False)
        assert "svar saknas för 3 insatser" in seen, user
        assert ("Namnen står också i exporten" in seen) == city_wide, user
