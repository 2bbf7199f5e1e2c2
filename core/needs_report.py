"""What a reader sees of a city's competence needs (issue 21): each need with the
measures linked to it, whether they answer it in a year, its part of their money,
and whether its assessment is stale; within the person's permissions.

The command line (`kompetensbot needs`) and the chat ("vilka behov saknar
insatser?", "behov socialsekreterare", "hur mycket satsar vi på
förskollärare?") render these plain values; the rules of what is uncovered and
how money is split are core.needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from core.ledger import Ledger
from core.model import Principal, Status
from core.needs import (
    NeedEntry,
    NeedLinkEntry,
    Needs,
    Period,
    Recruitment,
    RoleMoney,
    covers,
    is_stale,
    money_per_role,
    need_key,
    split_measure,
    uncovered,
)
from core.permissions import Action, can, can_any
from core.text import name_key, without_marks


@dataclass(frozen=True, slots=True)
class LinkedMeasure:
    """A measure linked to a need, as the need's reader sees it.

    Attributes:
      id, title, units: the measure's.
      status: its current status (its latest follow-up's, else its own).
      money: its allocation in the report's year (0 without money that year).
      share: the link's share of its money in basis points, or None (the rest shared equally).
      people: how many people the link says the measure reaches for this need, if given.
      reached: how many people its latest follow-up of the year says it has reached, if given.
      answers: whether it answers the need in the report's year (core.needs.covers).
      visible: whether the reader may read the measure; when not, only that a
        measure of another committee answers is shown (no title, no money).
    """

    id: int
    title: str
    units: tuple[str, ...]
    status: Status
    money: int
    share: int | None
    people: int | None
    reached: int | None
    answers: bool
    visible: bool


@dataclass(frozen=True, slots=True)
class NeedView:
    """A need as its reader sees it: the current assessment, its measures, and
    what follows from them in the report's year."""

    need: NeedEntry
    measures: tuple[LinkedMeasure, ...]
    covered: bool
    money: int
    """The need's part of its measures' money in the year (core.needs.money_per_role)."""
    stale: bool
    """The assessment is more than two years old on the report's day."""
    assessments: int
    """How many assessments the need has had (the last is `need`)."""

    @property
    def at_risk(self) -> tuple[LinkedMeasure, ...]:
        """Its linked measures that no longer answer it in the year (finished without
        money left, reported "Ej slutförd", forecast to use nothing)."""
        return tuple(m for m in self.measures if not m.answers)


@dataclass(frozen=True, slots=True)
class NeedsReport:
    """The needs a person may read, in a year, as of a day.

    Attributes:
      year: the year money and coverage are counted in.
      today: the day staleness is judged on.
      needs: the needs asked for, in the order asked (see `needs_report`).
      total: how many needs the person may read in all (before `uncovered`,
        `unit`, `role` narrowed them).
      money: the year's money split over every need of the city; `by_role`
        below is the readable part.
      by_role: the linked measures' money per role, of the needs the person may
        read (of `unit`, when asked), roles named as first written, largest first.
      unclaimed: the money of the person's linked measures no need claims.
      shared_roles: roles whose money comes from a measure shared with another
        role's need, or that leaves money unclaimed (named as in `by_role`).
      units: the units the person may read.
      unlinked: the money in the year of the measures the person may read (of
        `unit`, when asked) that answer no need (linked to none), and how many
        they are: with `by_role` and `unclaimed` it is all of those measures' money.
      other_years: the periods of the needs the person may read that do not
        cover `year` (a plan of 2018–2019 asked about in 2025), earliest first.
    """

    year: int
    today: date
    needs: tuple[NeedView, ...]
    total: int
    by_role: tuple[tuple[str, int], ...]
    unclaimed: int
    shared_roles: frozenset[str]
    units: tuple[str, ...]
    other_years: tuple[Period, ...] = ()
    unlinked: tuple[int, int] = (0, 0)


def role_key(text: str) -> str:
    """A role as it is matched: case, spaces and å/ä/ö aside ("Förskollärare" = "forskollarare")."""
    return " ".join(without_marks(name_key(text)).split())


def _linked(ledger: Ledger, who: Principal, link: NeedLinkEntry, year: int) -> LinkedMeasure | None:
    measure = ledger.measures.get(link.measure_id)
    if measure is None:
        return None
    latest = ledger.latest_followup(measure.id, year)
    return LinkedMeasure(
        id=measure.id,
        title=measure.title,
        units=measure.units,
        status=ledger.current_status(measure.id),
        money=ledger.measure_allocated(measure.id, year),
        share=link.share,
        people=link.people,
        reached=latest.reached if latest is not None else None,
        answers=covers(ledger, measure.id, year),
        visible=can_any(who, Action.READ, measure.units),
    )


_ORDER = {r: i for i, r in enumerate(Recruitment)}


def shortage_order(view: NeedView) -> tuple[int, int, str]:
    """Shortage roles first (SKR's scale in order), then the most retirements, then by id."""
    need = view.need
    return (_ORDER[need.recruitment], -(need.retirements or 0), need_key(need.key))


def _unlinked(needs: Needs, ledger: Ledger, who: Principal, year: int, unit: str | None) -> tuple[int, int]:
    """The money in `year` of the measures `who` may read (of `unit`, when given) that no active
    link names, and their number."""
    linked = set(needs.linked_measures())
    money = [
        allocated
        for m in ledger.measures.values()
        if m.id not in linked
        and can_any(who, Action.READ, m.units)
        and (unit is None or unit in m.units)
        and (allocated := ledger.measure_allocated(m.id, year)) > 0
    ]
    return sum(money), len(money)


def _span(period: Period) -> tuple[int, int]:
    return (period.first, period.last)


def needs_report(
    needs: Needs,
    ledger: Ledger,
    who: Principal,
    year: int,
    today: date,
    *,
    unit: str | None = None,
    role: str | None = None,
    only_uncovered: bool = False,
    hard_to_recruit_retiring: bool = False,
) -> NeedsReport:
    """The needs `who` may read (those of units they may read) whose period covers
    `year`, in that year, judged on `today`.

    `unit`: only that unit's needs. `role`: only needs of that role (matched by
    `role_key`). `only_uncovered`: only needs no linked measure answers in the
    year, in core.needs.uncovered's order (shortage first, then retirements).
    `hard_to_recruit_retiring`: only shortage roles with retirements within two
    years, most retirements first. Otherwise by unit, then by id."""
    everything = [n for n in needs.current.values() if can(who, Action.READ, [n.unit])]
    readable = [n for n in everything if n.period.covers(year)]
    money: RoleMoney = money_per_role(needs, ledger, year)
    chosen: Iterable[NeedEntry] = readable
    if unit is not None:
        chosen = [n for n in chosen if n.unit == unit]
    if role is not None:
        wanted = role_key(role)
        chosen = [n for n in chosen if role_key(n.role) == wanted]
    if only_uncovered:
        missing = {need_key(n.key) for n in uncovered(needs, ledger, year)}
        chosen = [n for n in chosen if need_key(n.key) in missing]
    if hard_to_recruit_retiring:
        chosen = [n for n in chosen if n.recruitment == Recruitment.SHORTAGE and (n.retirements or 0) > 0]
    views = []
    for need in chosen:
        linked = tuple(
            found
            for link in needs.links_of_need(need.key)
            if (found := _linked(ledger, who, link, year)) is not None
        )
        views.append(
            NeedView(
                need=need,
                measures=linked,
                covered=any(m.answers for m in linked),
                money=money.by_need.get(need.key, 0),
                stale=is_stale(need, today),
                assessments=len(needs.history(need.key)),
            )
        )
    if only_uncovered or hard_to_recruit_retiring:
        views.sort(key=shortage_order)
    else:
        views.sort(key=lambda v: (v.need.unit, need_key(v.need.key)))
    by_role: dict[str, int] = {}
    names: dict[str, str] = {}
    counted = [n for n in readable if unit is None or n.unit == unit]  # money of the unit asked about
    for need in counted:
        part = money.by_need.get(need.key, 0)
        if part:
            name = names.setdefault(role_key(need.role), need.role)
            by_role[name] = by_role.get(name, 0) + part
    mine = sorted({link.measure_id for n in counted for link in needs.links_of_need(n.key)})
    unclaimed = sum(
        split_measure(
            money.by_measure[m], [link for link in needs.links_of_measure(m) if needs.get(link.need)]
        )[1]
        for m in mine
        if m in money.by_measure
    )
    return NeedsReport(
        year=year,
        today=today,
        needs=tuple(views),
        total=len(readable),
        by_role=tuple(sorted(by_role.items(), key=lambda item: (-item[1], role_key(item[0])))),
        unclaimed=unclaimed,
        # named as by_role names them: the money may have met the role written another way first
        shared_roles=frozenset(
            n for n in by_role if role_key(n) in {role_key(r) for r in money.shared_roles}
        ),
        units=tuple(sorted({n.unit for n in readable})),
        unlinked=_unlinked(needs, ledger, who, year, unit),
        other_years=tuple(sorted({n.period for n in everything if not n.period.covers(year)}, key=_span)),
    )
