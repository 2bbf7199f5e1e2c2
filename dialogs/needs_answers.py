"""Questions about competence needs (issue 21), answered at once within the person's
permissions and with the needs' sources:

- "vilka behov saknar insatser?": the needs no linked measure answers in the year, shortage
  roles first, then the most retirements;
- "hur mycket satsar vi på förskollärare?": each role's part of the linked measures' money,
  saying when it is shared and what no need claims ("ej kopplat till behov");
- "vilka svårrekryterade yrken har pensionsavgångar?": shortage roles retiring within two years;
- "behov socialsekreterare", "behov FSKN": the needs of a role or a unit with their measures;
- "behov FSKN-3", "vilka insatser svarar mot FSKN-1?": one need by its id, with its measures,
  people and history (an id the person may not read is answered as an unknown one).

A money question whose subject is a role ("hur mycket pengar går till förskollärare?") is the
money per role (dialogs.understanding); a money question naming a role the vocabulary does not
know is answered so by the funds' dialog when the role is one of the person's needs
(`answer_roles_money`). In a city without a fund for the year the money per role is not "0 kr":
the linked measures are listed per role instead.

The needs come from the needs' use cases (dialogs.ports.NeedsPort, bot.needs_services), which
read only the units the person may read; a role is matched against the roles of those needs
(dialogs.understanding.match_roles), so a person never learns another committee's roles.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial

from microsoft_agents.hosting.core import TurnContext

from core.errors import DomainError, NotFound
from core.needs import need_key
from core.needs_report import NeedsReport, NeedView, role_key
from core.rules import years
from core.vocabulary import Intent, NeedsAsk
from dialogs import texts
from dialogs.answers import replies
from dialogs.turn import call, needs_of, queries, today_of, who
from dialogs.understanding import Understanding, match_roles, names_occupation, one_unit


@replies(Intent.NEEDS)
async def answer_needs(context: TurnContext, heard: Understanding) -> None:
    """Every needs question: what is asked (Understanding.needs), of a unit named surely and
    the roles the words name; a person with no readable needs is told how needs come in, one
    who names a committee they may not read that they may not (the core's refusal)."""
    identity, services = who(context)
    today = today_of(context)
    ledger = await call(queries(services).summary_ledger)
    year = heard.year or years.default_year(ledger, today)
    if heard.needs == NeedsAsk.ONE and heard.need:
        await _answer_one(context, heard.need, year, today)
        return
    unit = one_unit(heard)
    if unit is None and heard.unknown_unit:
        await context.send_activity(texts.unknown_unit(heard.unknown_unit, ledger.units.values()))
        return
    port = needs_of(context)
    asked = heard.needs or NeedsAsk.LIST
    ask = partial(
        port.report,
        identity.user_id,
        year,
        today=today,
        unit=unit,
        only_uncovered=asked == NeedsAsk.UNCOVERED,
        hard_to_recruit_retiring=asked == NeedsAsk.RETIRING,
    )
    try:
        # A committee the person may not read is refused first: not "no needs for your committees".
        first = await call(ask) if unit is not None else None
        readable = await call(port.report, identity.user_id, year, today=today)
        if readable.total == 0:
            found = readable.other_years
            await context.send_activity(texts.no_needs_in_year(year, found) if found else texts.NO_NEEDS)
            return
        report = first if first is not None else await call(ask)
    except DomainError as refused:  # a unit the person may not read, or no role at all
        await context.send_activity(texts.refused(refused.message))
        return
    known = list(dict.fromkeys(v.need.role for v in readable.needs))
    roles = match_roles(heard.subject, known) if heard.subject else []
    if heard.subject and not roles and asked in (NeedsAsk.LIST, NeedsAsk.MONEY):
        # words that name no role of the person's needs: an unknown role only when they name an
        # occupation ("behov bibliotekarie"); else they are the question's own words
        # ("hur fördelas våra pengar per yrkesgrupp?", "vilka behov har gsn förresten?")
        if names_occupation(heard.subject):
            await context.send_activity(texts.unknown_role(heard.subject, known))
            return
    in_scope = _of_roles([v for v in readable.needs if unit is None or v.need.unit == unit], roles)
    funded = ledger.has_fund(year)
    await context.send_activity(
        _answer(asked, report, _of_roles(report.needs, roles), in_scope, unit, roles, funded=funded)
    )


async def answer_roles_money(context: TurnContext, typed: str, year: int | None) -> bool:
    """A money question whose "unit" named no committee but a role of the needs the person may
    read ("hur mycket pengar går till omvårdnadspersonalen?"): answered as the needs' money per
    role (True); False when `typed` names no such role (the question is about a committee)."""
    if not typed.strip():
        return False
    identity, services = who(context)
    today = today_of(context)
    ledger = await call(queries(services).summary_ledger)
    try:
        readable = await call(
            needs_of(context).report, identity.user_id, year or years.default_year(ledger, today), today=today
        )
    except DomainError:  # no role: the money question's own answer says so
        return False
    if not match_roles(typed, [v.need.role for v in readable.needs]):
        return False
    heard = Understanding(Intent.NEEDS, year=year, needs=NeedsAsk.MONEY, subject=typed)
    await answer_needs(context, heard)
    return True


async def _answer_one(context: TurnContext, key: str, year: int, today: date) -> None:
    """ "behov FSKN-3": that need in a year its period covers (`year` when it does, else the
    nearest), its measures, people, source and history; an id the person may not read is
    answered as an unknown one, naming only the ids they may."""
    identity, _ = who(context)
    port = needs_of(context)
    try:
        need = await call(port.need, identity.user_id, key)
        history = await call(port.history, identity.user_id, key)
        shown = min(max(year, need.period.first), need.period.last)
        report = await call(port.report, identity.user_id, shown, today=today, unit=need.unit)
    except NotFound as missing:
        readable = await call(port.report, identity.user_id, year, today=today)
        some = readable.total > 0 or bool(readable.other_years)
        await context.send_activity(texts.unknown_need(missing.message, reads_needs=some))
        return
    except DomainError as refused:  # no role at all
        await context.send_activity(texts.refused(refused.message))
        return
    view = next(v for v in report.needs if need_key(v.need.key) == need_key(need.key))
    await context.send_activity(texts.need_detail(view, shown, history, asked=year))


def _of_roles(views: Sequence[NeedView], roles: Sequence[str]) -> list[NeedView]:
    """The views of needs of `roles` (all when none is named)."""
    if not roles:
        return list(views)
    wanted = {role_key(r) for r in roles}
    return [v for v in views if role_key(v.need.role) in wanted]


def _answer(
    asked: NeedsAsk,
    report: NeedsReport,
    views: list[NeedView],
    in_scope: list[NeedView],
    unit: str | None,
    roles: list[str],
    *,
    funded: bool,
) -> str:
    """The answer to `asked`: `views` are the needs the report gives for it (of the roles named),
    `in_scope` every readable need of the unit and roles asked about; `funded`: the city has a
    fund in the year (without one, no money is recorded on its measures: never "0 kr")."""
    year = report.year
    if asked == NeedsAsk.UNCOVERED:
        return texts.needs_uncovered(views, in_scope, year, unit=unit, roles=roles)
    if asked == NeedsAsk.RETIRING:
        return texts.needs_retiring(views, year, unit=unit)
    if not views:
        return texts.no_needs_for(unit, roles)
    if asked == NeedsAsk.MONEY and not funded:
        return texts.needs_money_no_fund(views, year, unit=unit, roles=roles)
    if asked == NeedsAsk.MONEY:
        rows = _money_rows(report, views, whole=unit is None and not roles)
        return texts.needs_money(
            rows, year, report.unclaimed, views, unit=unit, roles=roles, unlinked=report.unlinked
        )
    return texts.needs_list(views, year, unit=unit, roles=roles)


def _money_rows(
    report: NeedsReport, views: Sequence[NeedView], *, whole: bool
) -> list[tuple[str, int, bool]]:
    """Each role's money in the year, largest first, and whether it is shared: the report's own
    sums for every need the person may read (`whole`), else the needs' parts summed per role."""
    shared = {role_key(r) for r in report.shared_roles}
    if whole:
        return [(role, amount, role_key(role) in shared) for role, amount in report.by_role]
    sums: dict[str, int] = {}
    names: dict[str, str] = {}
    for view in views:
        name = names.setdefault(role_key(view.need.role), view.need.role)
        sums[name] = sums.get(name, 0) + view.money
    ordered = sorted(sums.items(), key=lambda item: (-item[1], role_key(item[0])))
    return [(role, amount, role_key(role) in shared) for role, amount in ordered]
