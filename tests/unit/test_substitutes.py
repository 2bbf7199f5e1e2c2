"""Issue 22, substitutes during absence: who answers for whom on a day, table-tested
(active, expired, ended early, substitute also away, a loop, limited to units)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from core.errors import PermissionDenied
from core.model import Principal, Role, RoleGrant
from core.permissions import Action, can, require
from core.rules.substitutes import check_substitution
from core.substitutes import (
    Answerer,
    Substitution,
    SubstitutionEnded,
    Why,
    answerer,
    effective,
    replay,
    stand_in_grants,
)

JUNE_9, JULY_11 = date(2025, 6, 9), date(2025, 7, 11)
ANNA_AWAY = Substitution("anna", "per", JUNE_9, JULY_11, seq=1)
HR = ("hr-1", "hr-2")
CITY = ("sk-1",)


def who(subs: list[Substitution], on: date, unit: str | None = "FSKN", person: str = "anna") -> Answerer:
    return answerer(subs, person, on, unit, unit_hr=HR, city_office=CITY)


@pytest.mark.parametrize(
    ("subs", "on", "unit", "user", "why"),
    [
        ([], JUNE_9, "FSKN", "anna", Why.SELF),  # nobody away
        ([ANNA_AWAY], date(2025, 6, 8), "FSKN", "anna", Why.SELF),  # not yet away
        ([ANNA_AWAY], JUNE_9, "FSKN", "per", Why.SUBSTITUTE),  # first day
        ([ANNA_AWAY], JULY_11, "FSKN", "per", Why.SUBSTITUTE),  # last day, included
        ([ANNA_AWAY], date(2025, 7, 12), "FSKN", "anna", Why.SELF),  # expired
        # ended early: from 1 July she answers herself again
        ([Substitution("anna", "per", JUNE_9, JULY_11, ended_on=date(2025, 7, 1))], date(2025, 7, 1),
         "FSKN", "anna", Why.SELF),
        # the substitute is away too: no chain to per's own substitute, the unit's HR answers
        ([ANNA_AWAY, Substitution("per", "olle", JUNE_9, JULY_11, seq=2)], JUNE_9, "FSKN", "hr-1",
         Why.UNIT_HR),
        # a loop (anna → per, per → anna, both away): neither is followed
        ([ANNA_AWAY, Substitution("per", "anna", JUNE_9, JULY_11, seq=2)], JUNE_9, "FSKN", "hr-1",
         Why.UNIT_HR),
        # the unit's first HR holder away as well: the next one
        ([ANNA_AWAY, Substitution("per", "x", JUNE_9, JULY_11), Substitution("hr-1", "y", JUNE_9, JULY_11)],
         JUNE_9, "FSKN", "hr-2", Why.UNIT_HR),
        # every HR holder away: stadskontoret
        ([ANNA_AWAY, Substitution("per", "x", JUNE_9, JULY_11), Substitution("hr-1", "y", JUNE_9, JULY_11),
          Substitution("hr-2", "z", JUNE_9, JULY_11)], JUNE_9, "FSKN", "sk-1", Why.CITY_OFFICE),
        # limited to GVN: for FSKN's measures she answers herself, for GVN's per does
        ([Substitution("anna", "per", JUNE_9, JULY_11, units=frozenset({"GVN"}))], JUNE_9, "FSKN", "anna",
         Why.SELF),
        ([Substitution("anna", "per", JUNE_9, JULY_11, units=frozenset({"GVN"}))], JUNE_9, "GVN", "per",
         Why.SUBSTITUTE),
        # a later substitution of the same days replaces the earlier one
        ([ANNA_AWAY, Substitution("anna", "kim", JUNE_9, JULY_11, seq=2)], JUNE_9, "FSKN", "kim",
         Why.SUBSTITUTE),
    ],
)  # fmt: skip
def test_who_answers_for_anna(subs: list[Substitution], on: date, unit: str, user: str, why: Why) -> None:
    found = who(subs, on, unit)
    assert (found.user, found.why) == (user, why)
    assert found.on_behalf == (user != "anna")


def test_nobody_answers_when_everyone_is_away() -> None:
    everyone = [Substitution(p, "x", JUNE_9, JULY_11) for p in ("anna", "per", "x", *HR, *CITY)]
    found = who([Substitution("anna", "per", JUNE_9, JULY_11, seq=9), *everyone], JUNE_9)
    assert (found.user, found.why) == (None, Why.NOBODY)


def test_a_substitution_is_refused_naming_what_is_wrong() -> None:
    bad = Substitution("anna", "anna", JULY_11, JUNE_9, units=frozenset({"XYZ"}))
    assert [e.code for e in check_substitution(bad, {"FSKN", "GVN"})] == [
        "own_substitute",
        "substitution_backwards",
        "unknown_unit",
    ]
    assert check_substitution(ANNA_AWAY, {"FSKN"}) == []


ANNA_GRANTS = (RoleGrant("anna", Role.HR, "FSKN"), RoleGrant("anna", Role.CITY_OFFICE))


@pytest.mark.parametrize(
    ("subs", "on", "units"),
    [
        ([ANNA_AWAY], date(2025, 6, 8), set()),  # before she is away: nothing
        ([ANNA_AWAY], JUNE_9, {"FSKN"}),  # her unit grant, never her city-wide one
        ([ANNA_AWAY], date(2025, 7, 12), set()),  # expired
        ([Substitution("anna", "per", JUNE_9, JULY_11, units=frozenset({"GVN"}))], JUNE_9, set()),
        ([ANNA_AWAY, Substitution("per", "olle", JUNE_9, JULY_11, seq=2)], JUNE_9, set()),  # per away
        ([ANNA_AWAY, Substitution("anna", "kim", JUNE_9, JULY_11, seq=2)], JUNE_9, set()),  # replaced
    ],
)
def test_what_per_stands_in_for(subs: list[Substitution], on: date, units: set[str]) -> None:
    found = stand_in_grants(subs, ANNA_GRANTS, "per", on)
    assert {g.unit for g in found} == units and all(g.user == "anna" for g in found)


def test_a_substitute_reads_and_follows_up_the_absent_units_and_nothing_else() -> None:
    per = Principal(
        "per", (RoleGrant("per", Role.CHEF, "GVN"),), stand_in=(RoleGrant("anna", Role.HR, "FSKN"),)
    )
    assert can(per, Action.READ, ["FSKN"]) and can(per, Action.FOLLOW_UP, ["FSKN"])
    for action in (Action.SUBMIT_MEASURE, Action.ASSESS_NEEDS, Action.REMIND_ROUND, Action.REALLOCATE):
        assert not can(per, action, ["FSKN"])
    assert not can(per, Action.READ, ["HVON"]) and not can(per, Action.READ)  # nothing city-wide
    assert can(per, Action.FOLLOW_UP, ["GVN"])  # their own grant as before


def test_an_early_end_is_replayed_onto_its_substitution() -> None:
    made = Substitution("anna", "per", JUNE_9, JULY_11, seq=1)
    later = Substitution("olle", "per", JUNE_9, JULY_11, seq=2)
    ended = replay([made, later, SubstitutionEnded(1, date(2025, 6, 20), seq=3)])
    assert [s.ended_on for s in ended] == [date(2025, 6, 20), None]
    assert not ended[0].applies(date(2025, 6, 20)) and ended[0].applies(date(2025, 6, 19))


def test_a_refusal_tells_the_substitute_what_they_may_do_for_the_absent() -> None:
    per = Principal(
        "per", (RoleGrant("per", Role.CHEF, "GVN"),), stand_in=(RoleGrant("anna", Role.HR, "FSKN"),)
    )
    with pytest.raises(PermissionDenied) as refused:
        require(per, Action.SUBMIT_MEASURE, ["FSKN"])
    assert "Som ersättare får du läsa och följa upp för FSKN." in refused.value.errors[0].message


def _d(day: int, month: int) -> date:
    return date(2025, month, day)


OLLE_JULY = Substitution("anna", "olle", _d(1, 7), _d(11, 7), seq=1)
PER_SUMMER = Substitution("anna", "per", _d(16, 6), _d(11, 7), seq=2)


@pytest.mark.parametrize(
    ("subs", "since", "rows"),
    [
        ([], _d(17, 6), []),
        # a later substitution for overlapping days wins them: Olle's days are Per's
        ([OLLE_JULY, PER_SUMMER], _d(17, 6), [("per", _d(16, 6), _d(11, 7), ())]),
        # the earlier one later: Olle takes 1-11 July from Per, who keeps the rest
        (
            [replace(PER_SUMMER, seq=1), replace(OLLE_JULY, seq=2)],
            _d(17, 6),
            [("per", _d(16, 6), _d(30, 6), ()), ("olle", _d(1, 7), _d(11, 7), ())],
        ),
        # the same substitute for all units and again for FSKN: one row, for all
        (
            [PER_SUMMER, replace(PER_SUMMER, units=frozenset({"FSKN"}), seq=3)],
            _d(17, 6),
            [("per", _d(16, 6), _d(11, 7), ())],
        ),
        # a later one for FSKN beside an earlier one for all: both shown for those days
        (
            [PER_SUMMER, replace(OLLE_JULY, units=frozenset({"FSKN"}), seq=3)],
            _d(16, 6),
            [
                ("per", _d(16, 6), _d(11, 7), ()),
                ("olle", _d(1, 7), _d(11, 7), ("FSKN",)),
            ],
        ),
        # ended early: only its days before the end
        ([replace(PER_SUMMER, ended_on=_d(20, 6))], _d(17, 6), [("per", _d(16, 6), _d(19, 6), ())]),
        # Olle's days over by `since`: only Per's after them
        (
            [replace(PER_SUMMER, seq=1), replace(OLLE_JULY, first=_d(16, 6), last=_d(18, 6), seq=2)],
            _d(20, 6),
            [("per", _d(19, 6), _d(11, 7), ())],
        ),
        # over before `since`: nothing
        ([replace(PER_SUMMER, last=_d(16, 6))], _d(17, 6), []),
    ],
)
def test_each_days_substitute_once(
    subs: list[Substitution], since: date, rows: list[tuple[str, date, date, tuple[str, ...]]]
) -> None:
    got = [(s.substitute, s.first, s.last, tuple(sorted(s.units))) for s in effective(subs, "anna", since)]
    assert got == rows
