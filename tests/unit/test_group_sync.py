"""Roles from Entra groups (issue 22): which grants a sync adds and takes back
(core.group_sync.plan_sync), table-tested, and the group id and failure texts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest

from core.errors import InputError
from core.group_sync import (
    GrantChange,
    GroupMapping,
    GroupRead,
    HeldGrant,
    Member,
    granted_by_group,
    group_of,
    plan_sync,
    read_failure,
    read_group_id,
)
from core.model import Role

G1 = "11111111-1111-1111-1111-111111111111"
G2 = "22222222-2222-2222-2222-222222222222"
ANNA, PER, EVA = "anna", "per", "eva"
HR, CHEF, STK = Role.HR, Role.CHEF, Role.CITY_OFFICE
HAND = "cli:admin"

Change = tuple[str, Role, str | None, str]  # user, role, unit, group


def by_group(group: str) -> str:
    return granted_by_group(group)


@dataclass(frozen=True)
class Case:
    name: str
    mappings: list[tuple[str, Role, str | None]]
    members: dict[str, list[str] | None]  # None: the group's read failed
    held: list[tuple[str, Role, str | None, str]] = field(default_factory=list)
    add: set[Change] = field(default_factory=set)
    revoke: set[Change] = field(default_factory=set)
    held_back: set[Change] = field(default_factory=set)


CASES = [
    Case(
        "a member added to the group gets the role",
        [(G1, HR, "FSKN")],
        {G1: [ANNA]},
        add={(ANNA, HR, "FSKN", G1)},
    ),
    Case(
        "a member who holds the grant from the group gets nothing new",
        [(G1, HR, "FSKN")],
        {G1: [ANNA]},
        held=[(ANNA, HR, "FSKN", by_group(G1))],
    ),
    Case(
        "a person removed from the group loses the grant the sync made",
        [(G1, HR, "FSKN")],
        {G1: []},
        held=[(ANNA, HR, "FSKN", by_group(G1))],
        revoke={(ANNA, HR, "FSKN", G1)},
    ),
    Case(
        "in two groups that give the role: leaving one keeps it",
        [(G1, HR, "FSKN"), (G2, HR, "FSKN")],
        {G1: [], G2: [ANNA]},
        held=[(ANNA, HR, "FSKN", by_group(G1))],
    ),
    Case(
        "in two groups that give the role: one grant, named after the first group",
        [(G1, HR, "FSKN"), (G2, HR, "FSKN")],
        {G1: [ANNA], G2: [ANNA, PER]},
        add={(ANNA, HR, "FSKN", G1), (PER, HR, "FSKN", G2)},
    ),
    Case(
        "in two groups that give the role: leaving both loses it",
        [(G1, HR, "FSKN"), (G2, HR, "FSKN")],
        {G1: [], G2: []},
        held=[(ANNA, HR, "FSKN", by_group(G1))],
        revoke={(ANNA, HR, "FSKN", G1)},
    ),
    Case(
        "a grant made by hand is kept after leaving the group, and nothing is added beside it",
        [(G1, HR, "FSKN")],
        {G1: [ANNA]},
        held=[(ANNA, HR, "FSKN", HAND), (PER, HR, "FSKN", HAND)],
    ),
    Case(
        "a grant made by hand for another unit is no reason to skip the group's unit",
        [(G1, HR, "FSKN")],
        {G1: [ANNA]},
        held=[(ANNA, HR, "GSN", HAND)],
        add={(ANNA, HR, "FSKN", G1)},
    ),
    Case(
        "a failed read changes nothing: no grant added, none taken back",
        [(G1, HR, "FSKN")],
        {G1: None},
        held=[(ANNA, HR, "FSKN", by_group(G1))],
        held_back={(ANNA, HR, "FSKN", G1)},
    ),
    Case(
        "a failed read of one group keeps the role another group made, for the same role and unit",
        [(G1, HR, "FSKN"), (G2, HR, "FSKN")],
        {G1: [PER], G2: None},
        held=[(ANNA, HR, "FSKN", by_group(G1))],
        add={(PER, HR, "FSKN", G1)},
        held_back={(ANNA, HR, "FSKN", G1)},
    ),
    Case(
        "a failed read of a group for another role does not hold back this one's",
        [(G1, HR, "FSKN"), (G2, CHEF, "FSKN")],
        {G1: [], G2: None},
        held=[(ANNA, HR, "FSKN", by_group(G1)), (PER, CHEF, "FSKN", by_group(G2))],
        revoke={(ANNA, HR, "FSKN", G1)},
        held_back={(PER, CHEF, "FSKN", G2)},
    ),
    Case(
        "a group mapped to two units gives both",
        [(G1, HR, "FSKN"), (G1, HR, "GSN")],
        {G1: [ANNA]},
        add={(ANNA, HR, "FSKN", G1), (ANNA, HR, "GSN", G1)},
    ),
    Case(
        "a group mapped to two units: leaving it loses both",
        [(G1, HR, "FSKN"), (G1, HR, "GSN")],
        {G1: []},
        held=[(ANNA, HR, "FSKN", by_group(G1)), (ANNA, HR, "GSN", by_group(G1))],
        revoke={(ANNA, HR, "FSKN", G1), (ANNA, HR, "GSN", G1)},
    ),
    Case(
        "a mapping removed: the grants it made go",
        [],
        {},
        held=[(ANNA, HR, "FSKN", by_group(G1)), (EVA, STK, None, HAND)],
        revoke={(ANNA, HR, "FSKN", G1)},
    ),
    Case(
        "a group that now gives another unit: the old unit's grant goes, the new one is added",
        [(G1, HR, "GSN")],
        {G1: [ANNA]},
        held=[(ANNA, HR, "FSKN", by_group(G1))],
        add={(ANNA, HR, "GSN", G1)},
        revoke={(ANNA, HR, "FSKN", G1)},
    ),
    Case(
        "a city-wide role from a group",
        [(G1, STK, None)],
        {G1: [EVA]},
        held=[(PER, STK, None, by_group(G1))],
        add={(EVA, STK, None, G1)},
        revoke={(PER, STK, None, G1)},
    ),
    Case(
        "a mapped group missing from the reads counts as not read",
        [(G1, HR, "FSKN"), (G2, HR, "FSKN")],
        {G1: []},
        held=[(ANNA, HR, "FSKN", by_group(G1))],
        held_back={(ANNA, HR, "FSKN", G1)},
    ),
]


def _changes(changes: Iterable[GrantChange]) -> set[Change]:
    return {(c.user, c.role, c.unit, c.group_id) for c in changes}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_plan_sync(case: Case) -> None:
    mappings = [GroupMapping(g, role, unit) for g, role, unit in case.mappings]
    reads = {
        g: GroupRead(g, tuple(Member(u) for u in users)) if users is not None else GroupRead(g, error="403")
        for g, users in case.members.items()
    }
    held = [HeldGrant(*h) for h in case.held]
    plan = plan_sync(mappings, reads, held)
    assert _changes(plan.add) == case.add
    assert _changes(plan.revoke) == case.revoke
    assert _changes(plan.held_back) == case.held_back


def test_a_hand_grant_is_never_the_syncs() -> None:
    assert group_of(HAND) is None
    assert group_of("") is None
    assert group_of(by_group(G1)) == G1


@pytest.mark.parametrize(
    "text, stored",
    [
        (G1, G1),
        ("  3F2B9C1E-8D4A-4E57-9B1F-2C6D7E8F9A01 ", "3f2b9c1e-8d4a-4e57-9b1f-2c6d7e8f9a01"),
        ("{3f2b9c1e-8d4a-4e57-9b1f-2c6d7e8f9a01}", "3f2b9c1e-8d4a-4e57-9b1f-2c6d7e8f9a01"),
    ],
)
def test_a_group_id_is_an_object_id(text: str, stored: str) -> None:
    assert read_group_id(text) == stored


@pytest.mark.parametrize(
    "text",
    [
        "HR Förskola",
        "hr-forskola@malmo.se",
        "3f2b9c1e-8d4a-4e57-9b1f-2c6d7e8f9a0",
        "3f2b9c1e8d4a4e579b1f2c6d7e8f9a01x",
        "",
    ],
)
def test_anything_else_is_refused_in_swedish(text: str) -> None:
    with pytest.raises(InputError) as refused:
        read_group_id(text)
    assert "är inget objekt-id i Entra ID" in refused.value.message
    assert "GUID" in refused.value.message


def test_a_403_names_the_permission_and_the_administrators_step() -> None:
    text = read_failure(G1, 403, "Authorization_RequestDenied")
    assert "GroupMember.Read.All" in text
    assert "Bevilja administratörsmedgivande" in text
    assert G1 in text and "ändrades inte" in text


def test_a_404_says_the_group_is_gone() -> None:
    text = read_failure(G1, 404, "Request_ResourceNotFound")
    assert "finns inte i Entra ID" in text and "roles unmap-group" in text


def test_no_answer_says_why_and_that_the_next_sync_tries_again() -> None:
    text = read_failure(G1, 0, reason="Microsoft Graph svarade inte: ClientConnectorError")
    assert "ClientConnectorError" in text and "Nästa synk försöker igen" in text
