"""Issue 22: the June round works out each send's recipient on the send's date. A person away
gets nothing while away; who answers for them (their substitute; a substitute away too: the
unit's other HR, then stadskontoret) gets one handover card, once per absent person, and its
reminders while the absence lasts; back before the deadline, the person gets what is due
then. Table-tested on core.rounds.due_sends with the substitutions passed in (pure).

June 2025: opens Monday 2 June, reminders 10 and 18 June, deadline 19 June, escalation 23 June.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.errors import DomainError
from core.model import Principal, Role, RoleGrant
from core.round_answers import answers_to_followups, parse_answers
from core.round_report import given_by, round_report
from core.rounds import (
    BEHALF_SEP,
    DueSend,
    LateList,
    Round,
    SendKind,
    due_sends,
    extra_reminder_sends,
    late_list_units,
    plan_round,
    send_kind,
    stored_key,
)
from core.substitutes import Substitution, stand_in_grants
from tests.unit.builders import malmo_small

ROUND = Round(7, plan_round("2025-06"))
PROMPT_DAY, BEFORE_REMINDER, REMINDER_1, REMINDER_2 = (
    date(2025, 6, 2),
    date(2025, 6, 9),
    date(2025, 6, 10),
    date(2025, 6, 18),
)
ESCALATION_DAY = date(2025, 6, 23)
ANNA = "4f1c2d3e-0000-4000-8000-0000000000a1"  # object ids are 36-character GUIDs
PER = "4f1c2d3e-0000-4000-8000-0000000000b2"
BO, EVA, STK = "aad-bo", "aad-eva", "aad-stk"


def _book(*, per_hr_fskn: bool = False):
    """FSKN's Mentorskap (a: its HR's), Språkombud (b: Anna's as responsible person), GVN's
    Yrkeslärare (c: its HR's). Anna is HR for FSKN and GVN, Bo for FSKN; Per is a chef of
    TN (no card of his own) or, with `per_hr_fskn`, HR for FSKN too."""
    book = malmo_small()
    a = book.measure("Mentorskap", "FSKN")
    b = book.measure("Språkombud", "FSKN", responsible=ANNA)
    c = book.measure("Yrkeslärare", "GVN")
    book.grant(a, "FSKN", 1_000_000).grant(b, "FSKN", 500_000).grant(c, "GVN", 2_000_000)
    grants = [
        RoleGrant(ANNA, Role.HR, "FSKN"),
        RoleGrant(ANNA, Role.HR, "GVN"),
        RoleGrant(BO, Role.HR, "FSKN"),
        RoleGrant(PER, Role.CHEF, "TN"),
        RoleGrant(STK, Role.CITY_OFFICE),
    ]
    if per_hr_fskn:
        grants.append(RoleGrant(PER, Role.HR, "FSKN"))
    return book, grants, (a, b, c)


def away(
    first: date, last: date, by: str = PER, who: str = ANNA, units: set[str] | None = None, seq: int = 1
):
    return Substitution(who, by, first, last, frozenset(units or ()), seq=seq)


def sends(dues: list[DueSend]) -> set[tuple[str, str, tuple[int, ...], bool]]:
    """(recipient, stored kind, measures, skipped) of what is due."""
    return {(d.recipient, d.stored_kind, d.measure_ids, bool(d.skip_reason)) for d in dues}


def keys(dues: list[DueSend]) -> set[tuple[str, str]]:
    return {(d.recipient, d.stored_kind) for d in dues}


def handover(kind: SendKind = SendKind.HANDOVER, absent: str = ANNA) -> str:
    return stored_key(kind, on_behalf=absent)


def test_away_on_the_prompt_day_the_substitute_gets_one_handover_and_anna_nothing_until_back() -> None:
    book, grants, (a, b, c) = _book()
    subs = [away(PROMPT_DAY, date(2025, 6, 13))]
    first = due_sends(ROUND, PROMPT_DAY, book.ledger, grants, set(), subs)
    assert sends(first) == {
        (BO, "prompt", (a,), False),
        (PER, handover(), (a, b, c), False),  # her card's unanswered measures, answered for her
    }
    sent = keys(first)
    assert due_sends(ROUND, PROMPT_DAY, book.ledger, grants, sent, subs) == []  # a second tick: nothing
    # the reminder day while she is away: the handover's reminder to Per, nothing to her
    reminders = due_sends(ROUND, REMINDER_1, book.ledger, grants, sent, subs)
    assert sends(reminders) == {
        (BO, "reminder-1", (a,), False),
        (PER, handover(SendKind.REMINDER_1), (a, b, c), False),
    }
    sent |= keys(reminders)
    # Per answers Språkombud for her; back on Monday 16 June she gets her card (what is due
    # then), which stands for the reminder she missed; Per gets nothing more
    book.followup(b, 100_000, 500_000)
    back = due_sends(ROUND, date(2025, 6, 16), book.ledger, grants, sent, subs)
    assert sends(back) == {
        (ANNA, "prompt", (a, b, c), False),
        (ANNA, "reminder-1", (a, b, c), True),
    }
    sent |= keys(back)
    last = due_sends(ROUND, REMINDER_2, book.ledger, grants, sent, subs)
    assert sends(last) == {(ANNA, "reminder-2", (a, b, c), False), (BO, "reminder-2", (a,), False)}


def test_away_from_a_reminder_day_the_handover_goes_out_once_and_the_reminder_to_the_substitute() -> None:
    book, grants, (a, b, c) = _book()
    subs = [away(BEFORE_REMINDER, date(2025, 7, 11))]
    sent = keys(due_sends(ROUND, PROMPT_DAY, book.ledger, grants, set(), subs))
    assert (ANNA, "prompt") in sent  # prompted on 2 June, before she went away
    ninth = due_sends(ROUND, BEFORE_REMINDER, book.ledger, grants, sent, subs)
    assert sends(ninth) == {(PER, handover(), (a, b, c), False)}
    sent |= keys(ninth)
    tenth = due_sends(ROUND, REMINDER_1, book.ledger, grants, sent, subs)
    assert sends(tenth) == {
        (BO, "reminder-1", (a,), False),
        (PER, handover(SendKind.REMINDER_1), (a, b, c), False),
    }
    sent |= keys(tenth)
    for day in (REMINDER_1, date(2025, 6, 11), date(2025, 6, 17)):  # later ticks: nothing to her
        assert due_sends(ROUND, day, book.ledger, grants, sent, subs) == []


def test_a_handover_that_first_goes_out_on_a_reminder_day_stands_for_that_reminder() -> None:
    book, grants, (a, b, c) = _book()
    sent = keys(due_sends(ROUND, PROMPT_DAY, book.ledger, grants, set()))
    dues = due_sends(ROUND, REMINDER_1, book.ledger, grants, sent, [away(REMINDER_1, date(2025, 7, 11))])
    assert sends(dues) == {
        (BO, "reminder-1", (a,), False),
        (PER, handover(), (a, b, c), False),
        (PER, handover(SendKind.REMINDER_1), (a, b, c), True),  # recorded as not needed
    }


def test_one_handover_per_substitute_and_absent_person_even_when_the_substitution_changes() -> None:
    book, grants, (a, b, c) = _book()
    first = [away(BEFORE_REMINDER, date(2025, 7, 11))]
    sent = keys(due_sends(ROUND, PROMPT_DAY, book.ledger, grants, set(), first))
    sent |= keys(due_sends(ROUND, BEFORE_REMINDER, book.ledger, grants, sent, first))
    sent |= keys(due_sends(ROUND, REMINDER_1, book.ledger, grants, sent, first))
    # the same substitution recorded again with other days: Per has had the handover
    again = [*first, away(date(2025, 6, 11), date(2025, 7, 4), seq=2)]
    assert due_sends(ROUND, date(2025, 6, 11), book.ledger, grants, sent, again) == []
    # Eva takes over from 12 June: she gets one of her own; Per no more cards for Anna
    eva = [*again, away(date(2025, 6, 12), date(2025, 7, 4), by=EVA, seq=3)]
    dues = due_sends(ROUND, date(2025, 6, 12), book.ledger, grants, sent, eva)
    assert sends(dues) == {
        (EVA, handover(), (a, b, c), False),
        (EVA, handover(SendKind.REMINDER_1), (a, b, c), True),  # the card stands for the reminder
    }


def test_a_substitute_away_too_hands_over_to_the_units_other_hr_then_stadskontoret() -> None:
    book, grants, (a, b, c) = _book()
    subs = [away(PROMPT_DAY, date(2025, 7, 11)), away(PROMPT_DAY, date(2025, 7, 11), by=EVA, who=PER, seq=2)]
    dues = due_sends(ROUND, PROMPT_DAY, book.ledger, grants, set(), subs)
    assert sends(dues) == {
        (BO, "prompt", (a,), False),  # Mentorskap is on Bo's own card: not handed over to him again
        (BO, handover(), (b,), False),  # FSKN's other HR: Anna's Språkombud
        (STK, handover(), (c,), False),  # GVN has no other HR: stadskontoret
    }


def test_a_substitution_limited_to_a_unit_hands_over_that_units_measures_only() -> None:
    book, grants, (a, b, c) = _book()
    subs = [away(PROMPT_DAY, date(2025, 7, 11), units={"FSKN"})]
    dues = due_sends(ROUND, PROMPT_DAY, book.ledger, grants, set(), subs)
    assert sends(dues) == {
        (ANNA, "prompt", (c,), False),  # GVN's measure is still hers
        (BO, "prompt", (a,), False),
        (PER, handover(), (a, b), False),
    }


def test_never_two_cards_with_the_same_measures_to_one_person_on_a_day() -> None:
    # Per is FSKN's HR himself: Mentorskap is on his own card and not handed over again
    book, grants, (a, b, c) = _book(per_hr_fskn=True)
    subs = [away(PROMPT_DAY, date(2025, 7, 11))]
    dues = due_sends(ROUND, PROMPT_DAY, book.ledger, grants, set(), subs)
    assert sends(dues) == {
        (BO, "prompt", (a,), False),
        (PER, "prompt", (a,), False),
        (PER, handover(), (b, c), False),
    }
    # two people away with the same substitute and the same unit's measures: one card of them
    book, grants, (a, b, c) = _book()
    both = [*subs, away(PROMPT_DAY, date(2025, 7, 11), who=BO, seq=2)]
    dues = due_sends(ROUND, PROMPT_DAY, book.ledger, grants, set(), both)
    per = [d for d in dues if d.recipient == PER and not d.skip_reason]
    measures = [m for d in per for m in d.measure_ids]
    assert sorted(measures) == sorted({a, b, c}) and len(measures) == len(set(measures))


def test_nothing_is_handed_over_when_everything_is_answered_or_nobody_can_answer() -> None:
    book, grants, (a, b, c) = _book()
    everyone = [away(PROMPT_DAY, date(2025, 7, 11), by=p, who=w, seq=i) for i, (w, p) in enumerate(
        [(ANNA, PER), (PER, BO), (BO, STK), (STK, ANNA)], start=1)]  # fmt: skip
    assert due_sends(ROUND, PROMPT_DAY, book.ledger, grants, set(), everyone) == []
    for mid in (a, b, c):
        book.followup(mid, 1, 2)
    assert (
        due_sends(ROUND, PROMPT_DAY, book.ledger, grants, set(), [away(PROMPT_DAY, date(2025, 7, 11))]) == []
    )


def test_an_absent_hr_leads_escalation_goes_to_who_answers_for_them() -> None:
    book, grants, (a, b, c) = _book()
    subs = [away(date(2025, 6, 20), date(2025, 7, 11))]
    dues = due_sends(ROUND, ESCALATION_DAY, book.ledger, grants, set(), subs)
    assert {(d.recipient, d.stored_kind, d.units, d.on_behalf) for d in dues} == {
        (BO, "escalation", ("FSKN",), ""),
        (STK, "escalation", ("FSKN", "GVN"), ""),
        (PER, stored_key(SendKind.ESCALATION, on_behalf=ANNA), ("FSKN", "GVN"), ANNA),
    }
    # back on 25 June (the round not closed): hers then
    sent = keys(dues)
    back = due_sends(
        ROUND, date(2025, 6, 25), book.ledger, grants, sent, [away(date(2025, 6, 20), date(2025, 6, 24))]
    )
    assert keys(back) == {(ANNA, "escalation")}


def test_the_lists_name_an_absent_person_with_their_substitute() -> None:
    book, grants, (a, b, c) = _book()
    report = round_report(
        ROUND, book.ledger, grants, ESCALATION_DAY, None, [away(date(2025, 6, 20), date(2025, 7, 11))]
    )
    assert report.away == {ANNA: PER}
    late = LateList(
        ROUND, report.committees, {}, {}, {ANNA: "Anna Andersson", PER: "Per Persson"}, {}, report.away
    )
    assert late.shown(ANNA) == "Anna Andersson (ersättare: Per Persson)"
    assert late.shown(BO) == BO
    # Per, standing in for her on the escalation day, gets her committees' lists ("visa alla")
    per = Principal(PER, (RoleGrant(PER, Role.CHEF, "TN"),))
    assert late_list_units(per, ["FSKN", "GVN", "TN"]) == []
    subs = [away(date(2025, 6, 20), date(2025, 7, 11))]
    stand_in = Principal(per.user, per.grants, stand_in=stand_in_grants(subs, grants, PER, ESCALATION_DAY))
    assert late_list_units(stand_in, ["FSKN", "GVN", "TN"]) == ["FSKN", "GVN"]


def test_an_extra_reminder_while_away_goes_to_who_answers_for_them() -> None:
    book, grants, (a, b, c) = _book()
    subs = [away(BEFORE_REMINDER, date(2025, 7, 11))]
    sent = keys(due_sends(ROUND, PROMPT_DAY, book.ledger, grants, set(), subs))
    sent |= keys(due_sends(ROUND, BEFORE_REMINDER, book.ledger, grants, sent, subs))
    day = date(2025, 6, 12)
    dues = extra_reminder_sends(ROUND, book.ledger, grants, sent, day, None, subs)
    assert sends(dues) == {
        (BO, "extra-2025-06-12", (a,), False),
        (PER, stored_key(SendKind.EXTRA, day, ANNA), (a, b, c), False),
    }


@pytest.mark.parametrize("kind", list(SendKind))
def test_every_kind_sent_on_behalf_of_a_guid_fits_the_stored_key(kind: SendKind) -> None:
    day = date(2025, 6, 12) if kind == SendKind.EXTRA else None
    stored = stored_key(kind, day, ANNA)
    assert len(stored) <= 32 and send_kind(stored) == kind and BEHALF_SEP in stored
    assert stored != stored_key(kind, day, PER)  # one key per absent person
    assert stored_key(kind, day) == DueSend("x", kind, day=day).stored_kind


def test_a_substitutes_answer_is_given_for_the_absent_person_and_only_where_he_stands_in() -> None:
    book, grants, (a, b, c) = _book()
    subs = [away(BEFORE_REMINDER, date(2025, 7, 11))]
    per = Principal(
        PER, (RoleGrant(PER, Role.CHEF, "TN"),), stand_in=stand_in_grants(subs, grants, PER, REMINDER_1)
    )
    values = {f"m{b}_status": "Pågående", f"m{b}_spent": "10 000 kr", f"m{b}_forecast": "500 000 kr"}
    answers = parse_answers(book.ledger, (a, b, c), values)
    at = datetime(2025, 6, 10, 9, tzinfo=UTC)
    [stored] = answers_to_followups(
        book.ledger, per, ROUND, answers, author="Per Persson", at=at, as_of=REMINDER_1,
        on_behalf={b: (ANNA, "Anna Andersson")},
    )  # fmt: skip
    assert (stored.author, stored.author_id, stored.for_id, stored.for_name) == (
        "Per Persson",
        PER,
        ANNA,
        "Anna Andersson",
    )
    assert given_by(stored.author, stored.for_name) == "Per Persson för Anna Andersson"
    # the day after she is back he no longer stands in: refused, nothing given
    back = Principal(
        PER,
        per.grants,
        stand_in=stand_in_grants([away(BEFORE_REMINDER, REMINDER_1)], grants, PER, date(2025, 6, 11)),
    )
    with pytest.raises(DomainError, match="behörighet att lämna uppföljning för FSKN"):
        answers_to_followups(
            book.ledger, back, ROUND, answers, author="Per Persson", at=at, as_of=date(2025, 6, 11)
        )


def test_the_report_counts_the_substitute_among_those_asked_and_his_answer_as_theirs() -> None:
    """`followup status`: Per, asked about Anna's measures by the handover, is one of the people
    asked about them, and counted as answered once he has answered them (a tester's "Svar: 0 av
    3 personer" after Per answered, with Per in no measure's `asked`)."""
    book, grants, (a, b, c) = _book()
    subs = [away(BEFORE_REMINDER, date(2025, 7, 11))]
    before = round_report(ROUND, book.ledger, grants, REMINDER_1, None, subs)
    assert {m.measure_id: m.asked for m in before.measures} == {
        a: (ANNA, PER, BO),
        b: (ANNA, PER),
        c: (ANNA, PER),
    }
    assert before.substitutes == (PER,)
    assert before.people_answered == "0 av 3 personer (0%), varav 1 som ersättare för någon som är borta"
    per = Principal(
        PER, (RoleGrant(PER, Role.CHEF, "TN"),), stand_in=stand_in_grants(subs, grants, PER, REMINDER_1)
    )
    at = datetime(2025, 6, 10, 9, tzinfo=UTC)
    values: dict[str, str] = {}
    for mid in (a, b, c):
        values |= {
            f"m{mid}_status": "Pågående",
            f"m{mid}_spent": "10 000 kr",
            f"m{mid}_forecast": "500 000 kr",
        }
    ledger = book.ledger
    for f in answers_to_followups(
        ledger, per, ROUND, parse_answers(ledger, (a, b, c), values), author="Per Persson", at=at,
        as_of=REMINDER_1, on_behalf={mid: (ANNA, "Anna Andersson") for mid in (a, b, c)},
    ):  # fmt: skip
        ledger = ledger.add_followup(f)
    after = round_report(ROUND, ledger, grants, REMINDER_1, None, subs)
    assert (after.recipients, after.answered_recipients) == (3, 3)
    # back on 16 June (ended early), Per is still among those asked: he gave the answers
    back = [away(BEFORE_REMINDER, date(2025, 6, 13))]
    later = round_report(ROUND, ledger, grants, date(2025, 6, 16), None, back)
    assert PER in {p for m in later.measures for p in m.asked} and later.substitutes == (PER,)
