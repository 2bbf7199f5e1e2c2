"""The live overview card ("översikt", issue 20): per unit allocated, spent, forecast and
remaining; the measures by status and how many are overdue; the latest follow-up round's
response rate and, for those who get the list (HR for its own units, stadskontoret for
all), who has not answered.

The card refreshes itself (Universal Actions: a `refresh` with an Action.Execute of
OVERVIEW_VERB, for the Teams id of the person it was sent to) and has an "Uppdatera" button
of the same verb. Every invoke is answered for whoever sends it, with their permissions on
the bot's date, read again: the card's data names nobody and is refused unless it is the
card's own. Only in a personal chat.

The figures are those of the command line for the same person and day: the units'
money is `kompetensbot funds --user X --json` (the year the chat takes), the measures
`kompetensbot measures --user X --year Y --json` (a city without a fund: without `--year`, the
measures of every year, and no money table but a line saying there is no fund), the round
`kompetensbot followup status --period P --user X --json` (P: the city's latest round). A city
of hundreds of units or thousands of measures is summarised, never listed: at most UNITS_SHOWN
units with the total of all, counts of measures, at most LATE_SHOWN committees without answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from microsoft_agents.hosting.core import TurnContext

from core.balances import FundBalance
from core.errors import DomainError
from core.model import Status
from core.permissions import Action, can
from core.round_report import RoundReport
from core.rounds import LateList, MeasureState
from core.rules import years
from core.views import MeasureView
from dialogs import texts
from dialogs.card_actions import InvokeBody, card_response, message_response, register
from dialogs.cards import Card, _execute, _facts, _refresh, _text, _title, _unit_cells, card
from dialogs.round_cards import card_activity
from dialogs.turn import call, principal_of, queries, rounds_of, today_of, viewer_of, who

OVERVIEW_VERB = "overview"
OVERVIEW_DATA = {"action": OVERVIEW_VERB}
"""The data of the card's refresh and button: nothing else (no person, unit or year)."""

UNITS_SHOWN = 30
"""Units listed on the card at most (the total row counts every unit the person sees)."""
LATE_SHOWN = 12
"""Committees without answers listed at most (the most answers missing first)."""
NAMES_SHOWN = 4
"""People named per committee at most."""


@dataclass(frozen=True, slots=True)
class Overview:
    """What the card shows, as the services answered it for one person on one day."""

    org_name: str
    as_of: date
    city_wide: bool
    balance: FundBalance
    measures: tuple[MeasureView, ...]
    report: RoundReport | None
    late: LateList | None
    no_fund: bool = False
    """The city has no fund decided for the year nor up to it, and no money moved to a unit
    (Hägersten-Liljeholmen: needs and measures only): the money table would be all zeros and
    the year's measures none, so the card says there is no fund and counts every year's
    measures (issue 21)."""


async def gather(turn_context: TurnContext) -> Overview:
    """The overview for the speaker (their identity, their roles) on the bot's date;
    DomainError when they may see nothing."""
    identity, services = who(turn_context)
    user, today = identity.user_id, today_of(turn_context)
    ledger = await call(queries(services).summary_ledger)
    year = years.default_year(ledger, today)
    city = queries(services, user, today)
    balance = await call(city.funds, user, year, None, as_of=today)
    no_fund = not ledger.has_fund(year) and not balance.units  # default_year: none decided up to it
    views = await call(city.measures, user, year=None if no_fund else year, as_of=today)
    principal = await principal_of(turn_context)
    rounds = rounds_of(turn_context)
    report = await call(rounds.latest_report, user, today)
    late = None
    if report is not None:
        try:
            late = await call(rounds.late_list, user, today, report.round.id)
        except DomainError:  # not theirs to see (a chef, KSAU): the response rate only
            late = None
    return Overview(
        org_name=identity.org_name,
        as_of=today,
        city_wide=can(principal, Action.READ),
        balance=balance,
        measures=tuple(views),
        report=report,
        late=late,
        no_fund=no_fund,
    )


def overview_card(o: Overview, viewer: str | None, *, units_shown: int = UNITS_SHOWN) -> Card:
    """The card (see the module); `viewer`: the Teams id it refreshes itself for."""
    b = o.balance
    body: list[dict[str, Any]] = [
        _title(texts.overview_title(o.org_name, None if o.no_fund else b.year)),
        _text(texts.overview_as_of(o.as_of, o.city_wide), isSubtle=True, spacing="None"),
    ]
    if o.no_fund:  # no table of zeros: what there is, the measures, follows
        body.append(_text(texts.overview_no_fund(b.year), separator=True))
        body.extend(_measures(o.measures, all_years=True))
        body.extend(_round(o.report, o.late))
        return _with_actions(body, viewer)
    body += [
        _text(texts.OVERVIEW_MONEY, weight="Bolder", separator=True),
        _figures(
            [texts.LABEL_ALLOCATED, texts.LABEL_SPENT, texts.LABEL_FORECAST, texts.LABEL_REMAINING], True
        ),
    ]
    units = list(b.units)
    for u in units[:units_shown]:  # the name on a line of its own: four amounts fill a phone's width
        name, *amounts = _unit_cells(u)
        body.extend([_text(name, weight="Bolder", separator=True), _figures(amounts)])
    if len(units) > units_shown:
        body.append(_text(texts.overview_more_units(len(units) - units_shown), isSubtle=True))
    if len(units) != 1:
        body.append(_text(texts.LABEL_TOTAL, weight="Bolder", separator=True))
        body.append(
            _figures([texts.kr(x) for x in (b.allocated, b.spent, b.forecast, b.remaining)], bold=True)
        )
    body.extend(_measures(o.measures))
    body.extend(_round(o.report, o.late))
    return _with_actions(body, viewer)


def _with_actions(body: list[dict[str, Any]], viewer: str | None) -> Card:
    """The card of `body` with its "Uppdatera" button and its refresh for `viewer`."""
    actions = [_execute(OVERVIEW_VERB, texts.OVERVIEW_BUTTON, dict(OVERVIEW_DATA), fallback="drop")]
    return card(
        body, actions, refresh=_refresh(OVERVIEW_VERB, dict(OVERVIEW_DATA), viewer) if viewer else None
    )


LABELS = (texts.LABEL_ALLOCATED, texts.LABEL_SPENT, texts.LABEL_FORECAST, texts.LABEL_REMAINING)


def _figures(cells: Sequence[str], bold: bool = False) -> dict[str, Any]:
    """Four amounts (or their labels) side by side, each a quarter of the card's width."""
    blocks = [_text(c, horizontalAlignment="Right") for c in cells]
    if bold:
        for block in blocks:
            block["weight"] = "Bolder"
    columns = [{"type": "Column", "width": "stretch", "items": [block]} for block in blocks]
    return {"type": "ColumnSet", "columns": columns, "spacing": "None"}


def _measures(views: Sequence[MeasureView], *, all_years: bool = False) -> list[dict[str, Any]]:
    """The measures by status; `all_years`: every year's (a city without a fund), said so."""
    by_status = Counter(v.status for v in views)
    facts = [(s.value, str(by_status.get(s, 0))) for s in Status]
    facts.append((texts.OVERVIEW_OVERDUE, str(sum(v.overdue for v in views))))
    facts.append((texts.OVERVIEW_ALL_MEASURES, str(len(views))))
    heading = texts.OVERVIEW_MEASURES_ALL_YEARS if all_years else texts.OVERVIEW_MEASURES
    return [_text(heading, weight="Bolder", separator=True), _facts(facts)]


def _round(report: RoundReport | None, late: LateList | None) -> list[dict[str, Any]]:
    if report is None:
        return [_text(texts.OVERVIEW_NO_ROUND, separator=True, isSubtle=True)]
    r = report.round
    title = texts.overview_round_title(r.period, r.phase(report.as_of).value, r.plan.deadline)
    answered = report.count(MeasureState.ANSWERED)
    out: list[dict[str, Any]] = [
        _text(title, weight="Bolder", separator=True),
        _facts(
            [
                (texts.OVERVIEW_ANSWERED_PEOPLE, report.people_answered),
                (texts.OVERVIEW_ANSWERED_MEASURES, texts.overview_count(answered, len(report.measures))),
            ]
        ),
    ]
    if late is None:
        return out
    out.append(_text(texts.OVERVIEW_LATE, weight="Bolder"))
    gaps = sorted(late.committees, key=lambda g: (-g.missing, g.unit))
    if not gaps:
        out.append(_text(texts.OVERVIEW_NO_ONE_LATE))
        return out
    people_late = {p for gap in gaps for p in gap.late}
    # A shared measure lacks its answer in each of its committees, but is one measure.
    missing = {m for gap in gaps for m in (*gap.not_answered, *gap.no_recipient)}
    out.append(_text(texts.overview_late_total(len(gaps), len(missing), len(people_late))))
    lines = []
    for gap in gaps[:LATE_SHOWN]:
        people = [late.shown(p) for p in gap.late]
        lines.append(
            texts.overview_late_line(
                late.unit_names.get(gap.unit, gap.unit),
                gap.unit,
                gap.missing,
                people[:NAMES_SHOWN],
                len(people) - min(len(people), NAMES_SHOWN),
            )
        )
    if len(gaps) > LATE_SHOWN:
        lines.append(texts.overview_late_more(len(gaps) - LATE_SHOWN))
    out.append(_text("\n".join(lines)))
    return out


def fitting_card(o: Overview, viewer: str | None) -> Card:
    """The card, with fewer units listed when long names would make it too large."""
    for shown in (UNITS_SHOWN, 15, 5):
        try:
            return overview_card(o, viewer, units_shown=shown)
        except ValueError:  # cards.card: over MAX_CARD_BYTES
            continue
    return overview_card(o, viewer, units_shown=0)


def _personal(turn_context: TurnContext) -> bool:
    kind = getattr(turn_context.activity.conversation, "conversation_type", None) or "personal"
    return kind == "personal"


async def send_overview(turn_context: TurnContext) -> None:
    """ "översikt" in a personal chat: the card, for the speaker."""
    try:
        overview = await gather(turn_context)
    except DomainError as refused:
        await turn_context.send_activity(texts.refused(refused.message))
        return
    content = fitting_card(overview, viewer_of(turn_context))
    await turn_context.send_activity(card_activity(texts.OVERVIEW_TEXT, content))


async def _overview_now(turn_context: TurnContext, data: dict[str, Any], automatic: bool) -> InvokeBody:
    """The card's refresh (as it is opened) or its "Uppdatera": the overview computed again
    for whoever sends the invoke; data other than the card's own is refused."""
    if data != OVERVIEW_DATA:
        return message_response(texts.OVERVIEW_FORGED)
    if not _personal(turn_context):
        return message_response(texts.OVERVIEW_PERSONAL_ONLY)
    try:
        overview = await gather(turn_context)
    except DomainError as refused:
        return message_response(texts.refused(refused.message))
    return card_response(fitting_card(overview, viewer_of(turn_context)))


register(OVERVIEW_VERB, _overview_now)
