"""Permissions are rules of the core: who may read and change what."""

from __future__ import annotations

import pytest

from core.errors import PermissionDenied
from core.model import ADMIN, Principal, Role, RoleGrant
from core.permissions import Action, can, can_any, require, visible_units

ALL = ["FSKN", "GVN", "TN"]


def person(*grants: tuple[Role, str | None]) -> Principal:
    return Principal("p", tuple(RoleGrant("p", r, u) for r, u in grants))


def test_chef_reads_own_unit_only() -> None:
    chef = person((Role.CHEF, "GVN"))
    assert can(chef, Action.READ, ["GVN"])
    assert not can(chef, Action.READ, ["FSKN"])
    assert visible_units(chef, ALL) == ["GVN"]
    assert not can(chef, Action.READ)  # not the whole city


def test_chef_can_follow_up_but_not_submit_measures() -> None:
    chef = person((Role.CHEF, "GVN"))
    assert can(chef, Action.FOLLOW_UP, ["GVN"])
    assert not can(chef, Action.SUBMIT_MEASURE, ["GVN"])


def test_hr_submits_for_own_unit_only() -> None:
    hr = person((Role.HR, "FSKN"))
    assert can(hr, Action.SUBMIT_MEASURE, ["FSKN"])
    assert not can(hr, Action.SUBMIT_MEASURE, ["GVN"])
    assert not can(hr, Action.SUBMIT_MEASURE, ["FSKN", "GVN"])  # a shared measure needs both
    assert can_any(hr, Action.FOLLOW_UP, ["FSKN", "GVN"])


def test_city_office_sees_and_changes_everything_but_reallocation() -> None:
    office = person((Role.CITY_OFFICE, None))
    assert visible_units(office, ALL) == ALL
    assert can(office, Action.READ)
    assert can(office, Action.ALLOCATE)
    assert can(office, Action.MANAGE_ROLES)
    assert not can(office, Action.REALLOCATE)


def test_only_ksau_records_reallocations() -> None:
    ksau = person((Role.KSAU, None))
    assert can(ksau, Action.REALLOCATE)
    assert can(ksau, Action.READ, ["TN"])
    assert not can(ksau, Action.ALLOCATE)
    for role, unit in ((Role.CHEF, "TN"), (Role.HR, "TN"), (Role.CITY_OFFICE, None)):
        assert not can(person((role, unit)), Action.REALLOCATE)


def test_nobody_without_a_role_reads_anything() -> None:
    nobody = Principal("okänd")
    assert visible_units(nobody, ALL) == []
    with pytest.raises(PermissionDenied) as refused:
        require(nobody, Action.READ, ["GVN"])
    assert "ingen roll" in refused.value.message
    assert "stadskontorets HR-avdelning" in refused.value.message
    # Issue 17, Also: and the id an administrator gives `roles grant`.
    assert refused.value.message.endswith("Ditt id för kompetensbot roles grant: okänd.")


def test_admin_may_do_everything() -> None:
    assert all(can(ADMIN, a, ALL) for a in Action)


def test_hr_reminds_its_own_units_and_stadskontoret_every_unit_but_only_stadskontoret_runs_rounds() -> None:
    """Issue 20: the new row remind_round (HR own, stadskontoret all); manage_rounds stays
    stadskontoret's, and chef and ksau may neither."""
    hr = person((Role.HR, "FSKN"))
    assert can(hr, Action.REMIND_ROUND, ["FSKN"])
    assert not can(hr, Action.REMIND_ROUND, ["GVN"])
    assert not can(hr, Action.REMIND_ROUND)  # not the whole city
    assert can_any(hr, Action.REMIND_ROUND, ["FSKN", "GVN"])
    assert not can(hr, Action.MANAGE_ROUNDS, ["FSKN"])
    office = person((Role.CITY_OFFICE, None))
    assert can(office, Action.REMIND_ROUND) and can(office, Action.REMIND_ROUND, ALL)
    assert can(office, Action.MANAGE_ROUNDS)
    for role, unit in ((Role.CHEF, "FSKN"), (Role.KSAU, None)):
        assert not can(person((role, unit)), Action.REMIND_ROUND, ["FSKN"])
        assert not can(person((role, unit)), Action.MANAGE_ROUNDS)
    with pytest.raises(PermissionDenied) as refused:
        require(person((Role.CHEF, "FSKN")), Action.REMIND_ROUND, ["FSKN"])
    assert "påminna om uppföljningen för FSKN" in refused.value.message


def test_the_docstring_table_has_a_row_for_every_action() -> None:
    import core.permissions as permissions

    table = permissions.__doc__ or ""
    for action in Action:
        assert f"| {action.name.lower():<18}|" in table, action.name
    assert "| remind_round      |      | own  | all           |      |" in table
