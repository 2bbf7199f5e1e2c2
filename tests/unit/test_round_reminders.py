"""Issue 20: the extra reminder from chat reaches each person at most once a Swedish calendar
day (Europe/Stockholm: midnight is 22:00 UTC in summer, CEST, and 23:00 UTC in winter, CET) per
round, to those who had the card and have not answered (HR: its own units' recipients); a
request whose people all had today's is refused, saying when and by whom it went out."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.rounds import (
    REMINDED_TODAY,
    ROUND_NOT_OPEN,
    DueSend,
    ExtraReminder,
    Round,
    SendKind,
    chat_period,
    check_extra_reminder,
    extra_reminder_sends,
    next_reminder,
    plan_round,
    reminder_day,
    send_kind,
    swedish_time,
)
from tests.unit.test_rounds import _book

JUNE = Round(1, plan_round("2025-06"))
DECEMBER = Round(2, plan_round("2025-12"))


@pytest.mark.parametrize(
    ("at", "day"),
    [
        (datetime(2025, 6, 10, 21, 59, 59, tzinfo=UTC), date(2025, 6, 10)),  # 23:59:59 CEST
        (datetime(2025, 6, 10, 22, 0, 0, tzinfo=UTC), date(2025, 6, 11)),  # 00:00 CEST: the next day
        (datetime(2025, 12, 10, 22, 59, 59, tzinfo=UTC), date(2025, 12, 10)),  # 23:59:59 CET
        (datetime(2025, 12, 10, 23, 0, 0, tzinfo=UTC), date(2025, 12, 11)),  # 00:00 CET
        (datetime(2025, 6, 10, 23, 30), date(2025, 6, 11)),  # a time without zone is UTC
    ],
)
def test_the_day_is_the_swedish_calendar_day(at: datetime, day: date) -> None:
    assert reminder_day(at) == day


def _earlier(round_: Round, at: datetime, by: str = "aad-1") -> ExtraReminder:
    return ExtraReminder(round_.id, reminder_day(at), at, by, (), 3)


def test_a_second_request_the_same_swedish_day_is_refused_saying_when_and_by_whom() -> None:
    sent = datetime(2025, 6, 10, 6, 5, tzinfo=UTC)  # 08:05 in Sweden
    earlier = _earlier(JUNE, sent)
    late_evening = datetime(2025, 6, 10, 21, 59, tzinfo=UTC)  # 23:59 in Sweden: still the same day
    [refused] = check_extra_reminder(
        JUNE, date(2025, 6, 10), reminder_day(late_evening), earlier, "Anna Andersson"
    )
    assert refused.code == REMINDED_TODAY
    assert "gick redan ut i dag kl. 08:05 av Anna Andersson, till 3 personer" in refused.message
    assert "var och en får högst en extra påminnelse per dag" in refused.message
    after_midnight = datetime(2025, 6, 10, 22, 0, tzinfo=UTC)  # 00:00 on 11 June in Sweden
    assert check_extra_reminder(JUNE, date(2025, 6, 11), reminder_day(after_midnight), earlier) == []


def test_in_winter_the_day_turns_at_23_utc() -> None:
    sent = datetime(2025, 12, 3, 22, 30, tzinfo=UTC)  # 23:30 CET on 3 December
    earlier = _earlier(DECEMBER, sent)
    assert swedish_time(sent) == "23:30"
    same_day = reminder_day(datetime(2025, 12, 3, 22, 59, tzinfo=UTC))
    [refused] = check_extra_reminder(DECEMBER, date(2025, 12, 3), same_day, earlier)
    assert "kl. 23:30 av aad-1" in refused.message  # no name known: the person's id
    next_day = reminder_day(datetime(2025, 12, 3, 23, 0, tzinfo=UTC))
    assert check_extra_reminder(DECEMBER, date(2025, 12, 4), next_day, earlier) == []


def test_only_an_open_round_takes_an_extra_reminder() -> None:
    for as_of in (date(2025, 5, 30), date(2025, 6, 23)):  # before it opens, after its last day
        [refused] = check_extra_reminder(JUNE, as_of, as_of, None)
        assert refused.code == ROUND_NOT_OPEN
    closed = Round(1, JUNE.plan, closed_at=datetime(2025, 6, 12, tzinfo=UTC))
    [refused] = check_extra_reminder(closed, date(2025, 6, 12), date(2025, 6, 12), None)
    assert "stängd" in refused.message


def test_the_sends_are_keyed_by_the_day_and_read_back_as_extra_reminders() -> None:
    send = DueSend("p", SendKind.EXTRA, (1, 2), day=date(2025, 6, 10))
    assert send.stored_kind == "extra-2025-06-10" and len(send.stored_kind) <= 32  # round_sends.kind
    assert send_kind(send.stored_kind) == SendKind.EXTRA
    assert (
        send_kind("reminder-1") == SendKind.REMINDER_1
        and DueSend("p", SendKind.PROMPT).stored_kind == "prompt"
    )


def test_the_extra_reminder_goes_to_those_who_had_the_card_and_have_not_answered() -> None:
    book, grants, (a, b, c, _d) = _book()
    day = date(2025, 6, 10)
    # Nobody has had the card yet: the tick sends the card, not a reminder.
    assert extra_reminder_sends(JUNE, book.ledger, grants, set(), day) == []
    sent = {(p, SendKind.PROMPT) for p in ("aad-anna", "aad-fskn-hr", "aad-gvn-hr")}
    book.followup(c, 100_000, 2_000_000)  # GVN has answered
    everyone = extra_reminder_sends(JUNE, book.ledger, grants, sent, day)
    assert [(s.recipient, s.kind, s.measure_ids, s.stored_kind) for s in everyone] == [
        ("aad-anna", SendKind.EXTRA, (b,), "extra-2025-06-10"),
        ("aad-fskn-hr", SendKind.EXTRA, (a,), "extra-2025-06-10"),
    ]
    # An HR lead's reminder: only the recipients of its own units' unanswered measures.
    assert extra_reminder_sends(JUNE, book.ledger, grants, sent, day, units=["GVN"]) == []
    assert {
        s.recipient for s in extra_reminder_sends(JUNE, book.ledger, grants, sent, day, units=["FSKN"])
    } == {
        "aad-anna",
        "aad-fskn-hr",
    }


def test_the_next_reminder_and_the_period_a_request_means() -> None:
    plan = JUNE.plan
    assert next_reminder(plan, plan.opens) == plan.reminders[0]
    assert next_reminder(plan, plan.reminders[0]) == plan.reminders[0]  # today's is still to come
    assert next_reminder(plan, plan.deadline) is None
    assert chat_period(None, None, date(2025, 6, 5)) == "2025-06"
    assert chat_period(None, None, date(2025, 10, 1)) == "2025-12"
    assert chat_period(12, 2026, date(2025, 6, 5)) == "2026-12"


def test_the_round_a_question_means() -> None:
    from core.errors import NotFound
    from core.rounds import current_round

    june_2026 = Round(3, plan_round("2026-06"))
    closed_june = Round(1, JUNE.plan, closed_at=datetime(2025, 6, 25, tzinfo=UTC))
    on = date(2025, 6, 5)
    assert current_round([JUNE, DECEMBER], on) == JUNE  # open wins over the planned one
    assert current_round([JUNE, DECEMBER], date(2025, 6, 22)) == JUNE  # past its deadline, not closed
    assert current_round([JUNE, DECEMBER], on, month=12) == DECEMBER  # named wins
    assert current_round([closed_june, DECEMBER], date(2025, 7, 1)) == closed_june  # the latest opened
    assert current_round([DECEMBER, june_2026], on) == DECEMBER  # only planned: the first to open
    assert current_round([JUNE, june_2026], on, month=6) == JUNE
    assert current_round([JUNE, june_2026], on, month=6, year=2026) == june_2026
    assert current_round([], on, month=6) is None
    with pytest.raises(NotFound, match="ingen uppföljningsomgång för mars 2025"):
        current_round([JUNE], on, month=3, year=2025)
