"""Remaining funds: for a named unit, for the user's own units, or for the whole
fund of a year; every figure with where it comes from (the decision behind the
allocation, the follow-ups behind the spend, the KSAU decisions behind any
reallocation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Any

from microsoft_agents.hosting.core import MessageFactory, TurnContext
from microsoft_agents.hosting.dialogs import (
    DialogTurnResult,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)

from core.balances import FundBalance, UnitBalance, fund_balance, measure_balance
from core.entries import ReallocationEntry
from core.errors import DomainError, PermissionDenied
from core.ledger import Ledger
from core.permissions import Action, can, visible_units
from core.rules import years
from core.rules.years import latest_decided_fund_year, latest_year_with_money
from core.vocabulary import Figure, Intent
from dialogs import cards, texts
from dialogs.answers import Route, begins
from dialogs.cancel_and_help_dialog import CancelAndHelpDialog
from dialogs.needs_answers import answer_roles_money
from dialogs.ports import CityServices
from dialogs.prompts import (
    CHOICE_PROMPT,
    SEARCH,
    choice,
    did_you_mean_options,
    search_again,
)
from dialogs.status_dialog import StatusDialog, did_you_mean_validator, understood_options
from dialogs.steps import end_dialog, options_of, values_of
from dialogs.turn import call, my_units, principal_of, queries, today_of, who
from dialogs.understanding import Candidate, Pick, Resolution, Understanding, decide_measure, decide_unit


class RemainingFundsDialog(CancelAndHelpDialog):
    """Options (JSON): {"year": int | None, "units": [candidate dicts], "rest": str,
    "unit": code | None}. Without a unit named, the user's own units (all units for
    those who see the whole city)."""

    def __init__(self) -> None:
        super().__init__(RemainingFundsDialog.__name__)
        self.add_dialog(TextPrompt(CHOICE_PROMPT, did_you_mean_validator))
        self.add_dialog(WaterfallDialog(WaterfallDialog.__name__, [self.unit_step, self.answer_step]))
        self.initial_dialog_id = WaterfallDialog.__name__  # type: ignore[assignment]  # the SDK declares it None

    async def answer_at_once(self, turn_context: TurnContext, options: dict[str, Any]) -> bool:
        """Answer without beginning the dialog when the options settle the unit
        (MainDialog.answer_at_once); False when the dialog has to ask."""
        settled, code, _ = _settle(options)
        if not settled:
            return False
        await answer(turn_context, code, options.get("year"), asked_of(options))
        return True

    async def unit_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = options_of(step)
        settled, code, ask = _settle(options)
        if settled:
            return await step.next(code)
        if await answer_roles_money(step.context, str(options.get("rest") or ""), options.get("year")):
            return await end_dialog(step)  # "… går till omvårdnadspersonalen": a role of the needs, no unit
        if ask is None:  # a name that is no unit
            _, services = who(step.context)
            ledger = await call(queries(services).summary_ledger)
            named = options.get("rest") or Candidate.from_dict(options["units"][0]).label
            await step.context.send_activity(texts.unknown_unit(named, ledger.units.values()))
            return await end_dialog(step)
        values_of(step)["asked"] = len(ask.options)
        choices = [choice(c.key, c.label, [c.key]) for c in ask.options]
        return await step.prompt(
            CHOICE_PROMPT,
            did_you_mean_options(choices, allow_none=True),
        )

    async def answer_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result == SEARCH:  # another name typed at "Menade du …?": searched anew
            return await end_dialog(step, search_again(Intent.REMAINING, now=True))
        code = step.result if isinstance(step.result, str) else None
        if values_of(step).get("asked") == 1 and code is None:  # "nej": the name again
            return await end_dialog(step, search_again(Intent.REMAINING))
        if values_of(step).get("asked") and code is None:
            await step.context.send_activity(texts.NO_CHOICE)
            return await end_dialog(step)
        await answer(step.context, code, options_of(step).get("year"), asked_of(options_of(step)))
        return await end_dialog(step)


@dataclass(frozen=True, slots=True)
class Asked:
    """What a money question asks beyond its unit and year (issue 19).

    Attributes:
      figure: the figure asked for, the answer's headline (core.vocabulary.Figure's value).
      codes: two or more units named: each answered briefly.
      together: the sum of `codes` is asked.
      own: the person's own units (their roles' units) are meant.
      whole: the whole city is asked for ("totalt i hela staden", "alla nämnder").
    """

    figure: str | None = None
    codes: tuple[str, ...] = ()
    together: bool = False
    own: bool = False
    whole: bool = False


def asked_of(options: dict[str, Any]) -> Asked:
    figure = options.get("figure")
    return Asked(
        figure=str(figure) if figure in texts.FIGURE_LABELS else None,
        codes=tuple(str(c) for c in options.get("codes") or ()),
        together=bool(options.get("together")),
        own=bool(options.get("own")),
        whole=bool(options.get("whole")),
    )


async def answer(
    turn_context: TurnContext, code: str | None, year: int | None, asked: Asked | None = None
) -> None:
    """Send the funds of `code` (None: the units asked, the user's own units or the whole
    fund): one message, a card with a short summary as its text, or a text alone where
    there are no figures to show; the figure asked for is the headline."""
    asked = asked or Asked()
    identity, services = who(turn_context)
    ledger = await call(queries(services).summary_ledger)
    today = today_of(turn_context)  # every figure as known on the bot's date (issue 17 item 6)
    year = year or years.default_year(ledger, today)
    if code is None and asked.own:
        mine = await my_units(turn_context)
        if mine is None:
            return
        if len(mine) == 1:
            code = mine[0]
        elif mine:
            asked = replace(asked, codes=tuple(mine))
    if code is None and asked.codes:
        await _send_units(turn_context, services, year, asked, today)
        return
    try:
        fund = await call(
            queries(services, identity.user_id, today).funds, identity.user_id, year, code, as_of=today
        )
        principal = await principal_of(turn_context)
    except DomainError as refused:
        await turn_context.send_activity(texts.refused(refused.message))
        return
    if code is None and asked.whole and not asked.own and not can(principal, Action.READ):
        # the whole city asked by one who sees only their own units: said, before their units' answer
        visible = visible_units(principal, ledger.units)
        await turn_context.send_activity(texts.only_own_figures(visible))
    if code is not None:
        balance = fund.unit(code)
        if balance is None:
            unit = ledger.units[code]
            latest = await call(
                queries(services, as_of=today).derived,
                ("funds-latest", year, (code,)),
                partial(_latest, year=year, codes=(code,)),
                today,
            )
            await turn_context.send_activity(texts.unit_has_no_funds(unit.name, code, year, latest))
            return
        await _send_unit(turn_context, services, year, code, today, asked.figure)
    elif can(principal, Action.READ):
        if not fund.decided and not fund.units:
            latest = await call(
                queries(services, as_of=today).derived,
                ("funds-latest-fund", year),
                partial(_latest_fund, year=year),
                today,
            )
            await turn_context.send_activity(texts.no_fund(year, latest))
            return
        await _send_fund(turn_context, services, year, today, asked.figure)
    elif len(fund.units) == 1:
        await _send_unit(turn_context, services, year, fund.units[0].code, today, asked.figure)
    elif not fund.units:
        codes = tuple(sorted(visible_units(principal, ledger.units)))
        latest = await call(
            queries(services, as_of=today).derived,
            ("funds-latest", year, codes),
            partial(_latest, year=year, codes=codes),
            today,
        )
        if len(codes) == 1 and latest is not None:
            unit = ledger.units[codes[0]]
            await turn_context.send_activity(texts.unit_has_no_funds(unit.name, unit.code, year, latest))
            return
        said = texts.no_funds(year)
        await turn_context.send_activity(said + (" " + texts.latest_money(year, latest) if latest else ""))
    else:
        content = cards.funds_card(fund, title=texts.funds_card_title(year, None))
        text = texts.units_funds(fund)
        if asked.figure is not None and asked.figure != Figure.REMAINING.value:  # kvar: units_funds' headline
            text = _headline(asked.figure, texts.OWN_UNITS, year, fund.units) + "\n" + text
        await turn_context.send_activity(MessageFactory.attachment(cards.attachment(content), text))


def _headline(figure: str, who_: str, year: int, units: Sequence[UnitBalance]) -> str:
    """The figure asked for, of `units` together, as an answer's first line."""
    return texts.figure_headline(
        figure,
        who_,
        year,
        sum(u.allocated for u in units),
        sum(u.spent for u in units),
        sum(u.forecast for u in units),
    )


async def _send_units(
    turn_context: TurnContext, services: CityServices, year: int, asked: Asked, today: date
) -> None:
    """Two or more units (named, or one's own), each briefly with the figure asked for first,
    and their sum when asked ("tillsammans"): exact kronor, added as integers. A unit the
    person may not read is left out and said so, the others answered (review item 7); none
    they may read: the refusal."""
    identity, _ = who(turn_context)
    ledger = await call(queries(services).summary_ledger)
    balances: list[UnitBalance] = []
    lines: list[str] = []
    shown: list[str] = []
    hidden: list[str] = []
    fund: FundBalance | None = None
    refusal = ""
    try:
        for code in asked.codes:
            try:
                fund = await call(
                    queries(services, identity.user_id, today).funds,
                    identity.user_id,
                    year,
                    code,
                    as_of=today,
                )
            except PermissionDenied as refused:
                hidden.append(code)
                refusal = refusal or refused.message
                continue
            shown.append(code)
            balance = fund.unit(code)
            if balance is None:
                unit = ledger.units.get(code)
                lines.append(texts.unit_brief_no_money(unit.name if unit else code, code, year))
                continue
            balances.append(balance)
            lines.append(
                texts.unit_brief(
                    balance.name, code, asked.figure, balance.allocated, balance.spent, balance.forecast
                )
            )
        if hidden and not shown:
            await turn_context.send_activity(texts.refused(refusal))
            return
        visible = visible_units(await principal_of(turn_context), ledger.units) if hidden else []
    except DomainError as refused:
        await turn_context.send_activity(texts.refused(refused.message))
        return
    sums = (
        sum(b.allocated for b in balances),
        sum(b.spent for b in balances),
        sum(b.forecast for b in balances),
    )
    if asked.own:  # one's own units: their sum is the headline ("Utfall för dina nämnder 2025: …")
        figure = asked.figure or Figure.REMAINING.value
        lines.insert(0, _headline(figure, texts.OWN_UNITS, year, balances))
    else:
        lines.insert(0, texts.units_header(shown, year))
    if hidden:
        lines.insert(0, texts.units_not_visible(hidden, visible))
    if asked.together and len(shown) > 1:
        lines.append(texts.together_line(asked.figure, *sums))
    text = "\n".join(lines)
    if fund is None or not balances:
        await turn_context.send_activity(text)
        return
    content = cards.funds_card(
        replace(fund, units=tuple(balances)), title=texts.funds_card_title(year, ", ".join(shown))
    )
    await turn_context.send_activity(MessageFactory.attachment(cards.attachment(content), text))


def _latest(ledger: Ledger, year: int, codes: tuple[str, ...]) -> FundBalance | None:
    """The latest other year in which any of `codes` had money, showing only them."""
    found = latest_year_with_money(ledger, codes, besides=year)
    return None if found is None else fund_balance(ledger, found).only(set(codes))


def _latest_fund(ledger: Ledger, year: int) -> FundBalance | None:
    """The fund named when `year` has none decided (core.rules.years.latest_decided_fund_year)."""
    found = latest_decided_fund_year(ledger, besides=year)
    return None if found is None else fund_balance(ledger, found)


def _settle(options: dict[str, Any]) -> tuple[bool, str | None, Resolution | None]:
    """Which unit the options ask about: (True, its code or None for "my
    units", None) when settled; (False, None, resolution) when the dialog has
    to ask which one; (False, None, None) when the name is no unit."""
    if options.get("unit"):
        return True, options["unit"], None
    candidates = [Candidate.from_dict(c) for c in options.get("units", [])]
    if not candidates:
        return (False, None, None) if options.get("rest") else (True, None, None)
    resolution = decide_unit(candidates)
    if resolution.pick == Pick.ONE and resolution.chosen is not None:
        return True, resolution.chosen.key, None
    return False, None, resolution if resolution.pick == Pick.ASK else None


def _reallocations(ledger: Ledger, code: str, year: int) -> list[tuple[ReallocationEntry, str, str]]:
    found = []
    for entry in ledger.reallocations(year):
        source, target = ledger.measures.get(entry.from_measure), ledger.measures.get(entry.to_measure)
        units = set(source.units if source else ()) | set(target.units if target else ())
        if code in units:
            found.append(
                (
                    entry,
                    source.title if source else str(entry.from_measure),
                    target.title if target else str(entry.to_measure),
                )
            )
    return found


async def _send_unit(
    turn_context: TurnContext,
    services: CityServices,
    year: int,
    code: str,
    today: date,
    figure: str | None = None,
) -> None:
    """A unit's money for the year as known on the bot's date `today` (the caller
    checked that the person may see it). The answer is the same for everyone who
    may: it is rendered once per version of the city's data."""
    rendered = partial(_unit_answer, year=year, code=code, figure=figure)
    text, content = await call(
        queries(services, as_of=today).derived, ("funds-unit", year, code, figure), rendered, today
    )
    await turn_context.send_activity(MessageFactory.attachment(cards.attachment(content), text))


def _unit_answer(
    ledger: Ledger, year: int, code: str, figure: str | None = None
) -> tuple[str, dict[str, Any]]:
    fund = fund_balance(ledger, year)
    balance = fund.unit(code)
    assert balance is not None
    titles = {m.id: m.title for m in ledger.measures.values()}
    reallocations = _reallocations(ledger, balance.code, balance.year)
    latest_first = sorted(balance.followups, key=lambda f: (f.period, f.seq), reverse=True)
    shares = {}  # a shared measure's follow-up is shown with the unit's share first
    for f in latest_first:
        measure = measure_balance(ledger, f.measure_id, year)
        if len(measure.shares) > 1:
            shares[f.measure_id] = measure.share(code)
    text = texts.unit_funds(balance, fund_decided=fund.decided)
    if figure is not None and figure != Figure.REMAINING.value:
        text = _headline(figure, f"{balance.name} ({balance.code})", year, [balance]) + "\n" + text
    details = texts.unit_details(balance, reallocations, fund_decided=fund.decided, shared=bool(shares))
    sources = [  # as many as the card shows: the latest first
        texts.source_spent(
            texts.followup_source(f, titles.get(f.measure_id, str(f.measure_id)), shares.get(f.measure_id))
        )
        for f in latest_first[: texts.MAX_SOURCE_LINES]
    ]
    if len(latest_first) > texts.MAX_SOURCE_LINES:
        sources.append(texts.list_more(len(latest_first) - texts.MAX_SOURCE_LINES))
    sources += [texts.reallocation_source(e, s, t) for e, s, t in reallocations]
    content = cards.funds_card(
        replace(fund, units=(balance,)),
        title=texts.funds_card_title(balance.year, f"{balance.name} ({balance.code})"),
        sources=sources,
        details=details,
    )
    return text, content


async def _send_fund(
    turn_context: TurnContext, services: CityServices, year: int, today: date, figure: str | None = None
) -> None:
    """The whole fund of the year as known on the bot's date `today`, for those who
    see every unit (checked by the caller)."""
    rendered = partial(_fund_answer, year=year, figure=figure)
    text, content = await call(
        queries(services, as_of=today).derived, ("funds-fund", year, figure), rendered, today
    )
    await turn_context.send_activity(MessageFactory.attachment(cards.attachment(content), text))


def _fund_answer(ledger: Ledger, year: int, figure: str | None = None) -> tuple[str, dict[str, Any]]:
    fund = fund_balance(ledger, year)
    followups = {(f.measure_id, f.period, f.seq) for u in fund.units for f in u.followups}
    refs = sorted({e.decision.reference for e in ledger.reallocations(fund.year)})
    latest = None if fund.decided else _latest_fund(ledger, year)
    text = texts.fund_funds(fund)
    if figure is not None and figure != Figure.REMAINING.value and fund.decided:
        text = _headline(figure, texts.WHOLE_CITY, year, fund.units) + "\n" + text
    details = texts.fund_details(fund, len(followups), refs, latest)
    content = cards.funds_card(
        fund, title=texts.funds_card_title(fund.year, None), whole_fund=True, details=details
    )
    return text, content


@begins(Intent.REMAINING, RemainingFundsDialog)
def remaining_route(heard: Understanding) -> Route:
    """ "kvar för förskolan", "saldo GVN", "utfall stadskontoret": the units and year named,
    the figure asked for as the headline. Measures named surely are answered as measures
    (a unit also named that shares one: its share); two or more units each briefly
    (their sum "tillsammans"); "vi", "vår" the person's own units. A measure named without
    a unit ("hur mycket finns kvar i Chefsutveckling") is the measure's status."""
    figure = heard.figure.value if heard.figure is not None else None
    settled = understood_options(heard, figure or Figure.REMAINING.value)
    if settled is not None:
        return StatusDialog.__name__, settled
    asked: dict[str, Any] = {"year": heard.year, "figure": figure, "whole": heard.whole_fund}
    if len(heard.unit_codes) >= 2:
        return RemainingFundsDialog.__name__, asked | {
            "codes": list(heard.unit_codes),
            "together": heard.together,
        }
    if heard.unit_codes:
        return RemainingFundsDialog.__name__, asked | {"unit": heard.unit_codes[0]}
    if heard.own and not heard.units:
        return RemainingFundsDialog.__name__, asked | {"own": True, "together": heard.together}
    measures = [c.as_dict() for c in heard.measures]
    if not heard.units and decide_measure(heard.measures).pick != Pick.NONE:
        return StatusDialog.__name__, {"measures": measures}
    units = [c.as_dict() for c in heard.units]
    rest = "" if heard.measures else heard.rest
    return RemainingFundsDialog.__name__, asked | {"units": units, "rest": rest}
