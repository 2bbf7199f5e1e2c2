"""Questions about competence needs (issue 21), answered at once within the person's
permissions and with the needs' sources:

- "vilka behov saknar insatser?": the needs no linked measure answers in the year, shortage
  roles first, then the most retirements;
- "hur mycket satsar vi på förskollärare?": each role's part of the linked measures' money,
  saying when it is shared and what no need claims ("ej kopplat till behov");
- "vilka svårrekryterade yrken har pensionsavgångar?": shortage roles retiring within two years;
- "behov socialsekreterare", "behov FSKN": the needs of a role or a unit with their measures.

The needs come from the needs' use cases (dialogs.ports.NeedsPort, bot.needs_services), which
read only the units the person may read; a role is matched against the roles of those needs
(dialogs.understanding.match_roles), so a person never learns another committee's roles.
"""

from __future__ import annotations

from collections.abc import Sequence

from microsoft_agents.hosting.core import TurnContext

from core.errors import DomainError
from core.needs_report import NeedsReport, NeedView, role_key
from core.rules import years
from core.vocabulary import Intent, NeedsAsk
from dialogs import texts
from dialogs.answers import replies
from dialogs.turn import call, needs_of, queries, today_of, who
from dialogs.understanding import Understanding, match_roles, one_unit


@replies(Intent.NEEDS)
async def answer_needs(context: TurnContext, heard: Understanding) -> None:
    """Every needs question: what is asked (Understanding.needs), of a unit named surely and
    the roles the words name; a person with no readable needs is told how needs come in."""
    identity, services = who(context)
    today = today_of(context)
    ledger = await call(queries(services).summary_ledger)
    year = heard.year or years.default_year(ledger, today)
    unit = one_unit(heard)
    if unit is None and heard.unknown_unit:
        await context.send_activity(texts.unknown_unit(heard.unknown_unit, ledger.units.values()))
        return
    port = needs_of(context)
    asked = heard.needs or NeedsAsk.LIST
    try:
        readable = await call(port.report, identity.user_id, year, today=today)
        if readable.total == 0:
            found = readable.other_years
            await context.send_activity(texts.no_needs_in_year(year, found) if found else texts.NO_NEEDS)
            return
        report = await call(
            port.report,
            identity.user_id,
            year,
            today=today,
            unit=unit,
            only_uncovered=asked == NeedsAsk.UNCOVERED,
            hard_to_recruit_retiring=asked == NeedsAsk.RETIRING,
        )
    except DomainError as refused:  # a unit the person may not read, or no role at all
        await context.send_activity(texts.refused(refused.message))
        return
    known = list(dict.fromkeys(v.need.role for v in readable.needs))
    roles = match_roles(heard.subject, known) if heard.subject else []
    if heard.subject and not roles and asked in (NeedsAsk.LIST, NeedsAsk.MONEY):
        await context.send_activity(texts.unknown_role(heard.subject, known))
        return
    in_scope = _of_roles([v for v in readable.needs if unit is None or v.need.unit == unit], roles)
    await context.send_activity(_answer(asked, report, _of_roles(report.needs, roles), in_scope, unit, roles))


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
) -> str:
    """The answer to `asked`: `views` are the needs the report gives for it (of the roles named),
    `in_scope` every readable need of the unit and roles asked about."""
    year = report.year
    if asked == NeedsAsk.UNCOVERED:
        return texts.needs_uncovered(views, in_scope, year, unit=unit, roles=roles)
    if asked == NeedsAsk.RETIRING:
        return texts.needs_retiring(views, year, unit=unit)
    if not views:
        return texts.no_needs_for(unit, roles)
    if asked == NeedsAsk.MONEY:
        rows = _money_rows(report, views, whole=unit is None and not roles)
        return texts.needs_money(rows, year, report.unclaimed, views, unit=unit, roles=roles)
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
