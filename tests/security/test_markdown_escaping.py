"""Item 8: a person's text never becomes markup in what the bot sends. An
attacker who named a measure `[Klicka här](https://evil.example)` got a link
in the June round card that everyone answering for the measure received from
the bot; the escalation list, the reallocation proposals and the round's
status did the same with titles, unit names and person names.

Every card the bot can send (every builder in dialogs/cards.py and
dialogs/round_cards.py) and every message of dialogs/texts.py is built here
with hostile text in every place a person's text goes (titles, descriptions,
target groups, performers, notes, names, unit names, decision references),
and parsed as Teams reads it: CommonMark with autolinked bare addresses,
strikethrough and tables. Nothing may come out as a link, an image, emphasis,
code, a heading, HTML, a quote, a rule or a table, and there may be no more
bold or list items than the same card or message has with ordinary text. The
text a person sees still reads as it was written."""

from __future__ import annotations

import html
import inspect
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, get_type_hints

import pytest
from markdown_it import MarkdownIt
from sqlalchemy.engine import Engine

from bot.round_services import RoundServices
from bot.services import Services
from core.balances import FundBalance, Share
from core.entries import AllocationEntry, ReallocationEntry
from core.model import NOT_GIVEN, Body, Decision, FollowUp, Status, Unit
from core.needs import NeedEntry, NeedKind, Period, Recruitment
from core.needs_report import LinkedMeasure, NeedView
from core.proposal_sets import ProposalItem, ProposalSet, ProposalSetView, SetDecision
from core.proposals import Proposal
from core.round_report import RoundReport, committee_rates
from core.rounds import CardNeeds, CommitteeGap, LateList, OpenPlan, plan_round
from dialogs import cards, overview, proposal_cards, round_cards, texts

LINE = (
    "Mentorskap [Klicka här](https://evil.example/login) **fet** __fet__ _x_ *y* <at>Anna</at> "
    "![img](http://evil.example/a.png) https://evil.example/x www.evil.com a@evil.com "
    "`kod` ~~struken~~ <b>html</b> &lt;i&gt; <https://evil.example> \\*"
)
"""One line of everything that makes markup inline (a title or a name is one line)."""

LINES = (
    "# rubrik\n- lista\n+ plus\n* stjärna\n1. nummer\n2) parentes\n> citat\n    indragen kod\n"
    "```\nstaket\n```\n| a | b |\n|---|---|\n---\nSetext\n===\n" + LINE
)
"""A note or description: every block-level construct too, one per line."""

ORDINARY_LINE = "Vanlig text"
ORDINARY_LINES = "Vanlig text\nmed två rader"

FORBIDDEN = {
    "link_open",
    "image",
    "em_open",
    "code_inline",
    "code_block",
    "fence",
    "heading_open",
    "html_inline",
    "html_block",
    "hr",
    "blockquote_open",
    "s_open",
    "table_open",
}
"""What our own texts never make: any of these can only come from a person's text."""
COUNTED = ("strong_open", "bullet_list_open", "ordered_list_open", "list_item_open")
"""What our own texts make (bold, lists): a person's text must not add any."""

_md = MarkdownIt("commonmark", {"linkify": True}).enable(["linkify", "strikethrough", "table"])


def _tokens(markdown: str) -> Iterator[Any]:
    for token in _md.parse(markdown):
        yield token
        yield from token.children or ()


def _shape(markdown: str) -> Counter[str]:
    return Counter(t.type for t in _tokens(markdown))


def _seen(markdown: str) -> str:
    """The text a person sees when `markdown` is rendered."""
    return html.unescape(re.sub(r"<[^>]+>", "", _md.render(markdown)))


def _markdown_of(card: dict[str, Any]) -> list[str]:
    """Every Markdown text of a card, in order: TextBlocks and facts."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(node["text"])
            if node.get("type") == "FactSet":
                for fact in node["facts"]:
                    found.extend([fact["title"], fact["value"]])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def _raw_of(card: dict[str, Any]) -> list[str]:
    """Text that is not Markdown: ChoiceSet titles and input values."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Input.ChoiceSet":
                found.extend(c["title"] for c in node["choices"])
            if str(node.get("type", "")).startswith("Input.") and "value" in node:
                found.append(str(node["value"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def assert_no_live_markup(hostile: list[str], ordinary: list[str], what: str) -> str:
    """Compare the Markdown pieces made with hostile text against the same
    pieces made with ordinary text; return all that is seen of the hostile ones."""
    assert len(hostile) == len(ordinary), what
    for bad, good in zip(hostile, ordinary, strict=True):
        shape = _shape(bad)
        live = sorted(set(shape) & FORBIDDEN)
        assert not live, f"{what}: {live} from {bad!r}"
        for kind in COUNTED:
            assert shape[kind] == _shape(good)[kind], f"{what}: extra {kind} from {bad!r}"
    return "\n".join(_seen(m) for m in hostile)


def assert_reads_as_written(seen: str, *written: str) -> None:
    """Every line of what was written is seen as it was written (a line's
    leading spaces aside)."""
    flat = re.sub(r"[ \t]+", " ", seen)
    for text in written:
        for line in text.splitlines():
            assert line.strip() in flat, (line, seen)


# --- the hostile world -----------------------------------------------------------------

Texts = dict[str, str]


def words(hostile: bool, *, stored_before_cleaning: bool = False) -> Texts:
    """The person-written values, hostile or ordinary. `stored_before_cleaning`:
    titles and names with line breaks, as rows stored before names were made
    one line (core.text.clean_name) may hold."""
    one, many = (LINE, LINES) if hostile else (ORDINARY_LINE, ORDINARY_LINES)
    if stored_before_cleaning:
        one = many
    return {
        "title": one,
        "unit": one,
        "code": "*X*_Y_" if hostile else "XY",
        "name": one,
        "note": many,
        "description": many,
        "paragraph": "_5_" if hostile else "5",
        "period": "2025-06",
    }


def decision(w: Texts) -> Decision:
    return Decision(Body.KSAU, date(2025, 6, 20), paragraph=w["paragraph"])


def followup(w: Texts, measure_id: int = 1) -> FollowUp:
    return FollowUp(
        measure_id,
        "2025-06",
        Status.ONGOING,
        100,
        200,
        False,
        w["note"],
        w["name"],
        datetime(2025, 6, 10, 12, tzinfo=UTC),
    )


def need(w: Texts) -> NeedEntry:
    """A competence need whose role, key and source are a person's text (issue 21)."""
    return NeedEntry(
        w["code"],
        "FSKN",
        w["title"],
        NeedKind.UPSKILLING,
        w["description"],
        Recruitment.SHORTAGE,
        Period(2025, 2026),
        w["title"],
        date(2025, 1, 10),
        w["name"],
        datetime(2025, 1, 10, tzinfo=UTC),
    )


def allocation(w: Texts) -> AllocationEntry:
    return AllocationEntry(2025, w["code"], 1_000, False, decision(w), "u", datetime(2025, 3, 5, tzinfo=UTC))


def reallocation(w: Texts) -> ReallocationEntry:
    return ReallocationEntry(2025, 1, 2, 500, decision(w), "u", datetime(2025, 6, 24, tzinfo=UTC))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real fund balance and round report from the Malmö example, to put hostile names into."""
    from bot.data_services import load_example
    from storage.db import make_engine
    from storage.migrate import upgrade

    engine: Engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('md') / 'md.db'}")
    upgrade(engine)
    load_example(engine, "malmo-2025")
    rounds = RoundServices(engine, org="malmo")
    rounds.open(None, "2025-06")
    report = rounds.report(None, "2025-06", date(2025, 6, 10))
    fund = Services(engine, org="malmo").funds(None, 2025)
    engine.dispose()
    return {"fund": fund, "report": report}


def fund_of(world: dict[str, Any], w: Texts) -> FundBalance:
    fund: FundBalance = world["fund"]
    units = tuple(
        replace(u, name=w["unit"], code=w["code"], followups=(followup(w),), allocations=(allocation(w),))
        for u in fund.units[:3]
    )
    return replace(fund, units=units, fund_entries=())


def report_of(world: dict[str, Any], w: Texts) -> RoundReport:
    report: RoundReport = world["report"]
    measures = tuple(
        replace(m, title=w["title"], risks=("försenad",), note=w["note"], author=w["name"])
        for m in report.measures[:3]
    )
    ids = [m.measure_id for m in measures]
    units = tuple(replace(u, name=w["unit"], unused=1_000) for u in report.units[:3])
    return replace(
        report, measures=measures, units=units, proposals=(Proposal(2025, ids[0], ids[1], 1_000, True),)
    )


# --- every card ------------------------------------------------------------------------


def every_card(world: dict[str, Any], w: Texts) -> Iterator[tuple[str, dict[str, Any]]]:
    """(builder, card) for every card builder, fed with the person-written values `w`."""
    fund = fund_of(world, w)
    sources = [
        texts.source_spent(texts.followup_source(followup(w), w["title"])),
        texts.reallocation_source(reallocation(w), w["title"], w["title"]),
    ]
    yield (
        "funds_card",
        cards.funds_card(
            fund, title=texts.funds_card_title(2025, w["unit"]), sources=sources, whole_fund=True
        ),
    )
    yield "funds_card", cards.funds_card(replace(fund, units=fund.units[:1]), title="Saldo")
    yield (
        "funds_card",
        cards.funds_card(
            replace(fund, units=fund.units[:1]),
            title="Saldo",
            details=texts.unit_details(
                fund.units[0], [(reallocation(w), w["title"], w["title"])], shared=True
            ),
            sources=[
                texts.source_spent(texts.followup_source(followup(w), w["title"], Share(w["code"], 10, 5, 8)))
            ],
        ),
    )
    yield (
        "measure_card",
        cards.measure_card(
            title=w["title"],
            measure_id=1,
            units=(w["code"], w["code"]),
            status=Status.ONGOING,
            overdue=True,
            end=date(2025, 5, 31),
            allocated=1_000,
            spent=100,
            forecast=200,
            funding_refs=[decision(w).reference],
            shares=[(w["code"], 500), (w["code"], 500)],
            followup_text=texts.latest_followup(followup(w)),
        ),
    )
    yield "submit_measure_form", cards.submit_measure_form([(w["code"], w["unit"])])
    yield "followup_form", cards.followup_form([(1, w["title"])], period="2025-06", measure_id=1)
    yield (
        "measure_summary",
        cards.measure_summary(
            heading=texts.MEASURE_RECEIPT_TITLE,
            unit=w["unit"],
            title=w["title"],
            description=w["description"],
            end=date(2025, 12, 31),
            amount=1_000,
            target_group=w["description"],
            start=date(2025, 1, 1),
            performer=w["name"],
            measure_id=5,
            decision=decision(w).reference,
        ),
    )
    yield (
        "followup_summary",
        cards.followup_summary(
            heading=texts.FOLLOWUP_RECEIPT_TITLE,
            title=w["title"],
            period="2025-06",
            status="Pågående",
            spent=100,
            forecast=200,
            usable=True,
            note=w["note"],
            seq=3,
            author=texts.reported_by(w["name"]),
        ),
    )
    measures = [
        round_cards.CardMeasure(1, w["title"], (w["code"],), 1_000),
        round_cards.CardMeasure(2, w["title"], (w["code"], w["code"]), 2_000, followup(w, 2)),
        # issue 21: linked to a need with a hostile role and key, and an answer with people reached
        round_cards.CardMeasure(
            3, w["title"], (w["code"],), 3_000, replace(followup(w, 3), reached=12), CardNeeds((need(w),), 1)
        ),
    ]
    yield (
        "prompt_card",
        round_cards.prompt_card(
            7, "2025-06", date(2025, 6, 19), measures, reminder=True, possibly_repeated=True
        ),
    )
    yield "answered_card", round_cards.answered_card("2025-06", date(2025, 6, 19), measures, complete=False)
    summary = round_cards.EscalationSummary(date(2025, 6, 19), 3, 2, 1, 2, True, (w["title"], w["title"]))
    lines = [
        round_cards.EscalationLine(w["code"], w["unit"], 2, 1, 3),
        round_cards.EscalationLine("A", w["unit"], 0, 1, 0),
    ]
    yield "escalation_card", round_cards.escalation_card(7, "2025-06", summary, lines)
    items = (
        ProposalItem(1, 2025, 1, 2, 1_000, True, 5_000, "2025-06", 3),
        ProposalItem(2, 2025, 2, 1, 2_000, False, 6_000, "2025-06", 4),
    )
    open_set = ProposalSet(9, 7, "2025-06", 2025, items, "stk", datetime(2025, 6, 20, tzinfo=UTC))
    view = ProposalSetView(open_set, {1: w["title"], 2: w["title"]}, ("ksau-1",))
    yield "proposals_card", proposal_cards.proposals_card(view, may_decide=True, viewer="29:x")
    reason = f"Underlaget har ändrats: {w['title']}"
    decided = SetDecision(
        decision(w).reference,
        "ksau-1",
        w["name"],
        datetime(2025, 6, 24, 8, tzinfo=UTC),
        (1,),
        ((2, reason),),
        (),
    )
    view = ProposalSetView(replace(open_set, decision=decided), view.titles, view.members)
    yield (
        "proposals_card",
        proposal_cards.proposals_card(view, may_decide=True, note=texts.proposals_refused(reason)),
    )
    yield from overview_cards(world, w)


def overview_cards(world: dict[str, Any], w: Texts) -> Iterator[tuple[str, dict[str, Any]]]:
    """Issue 20: the overview, with hostile unit names and codes, names of people who have
    not answered, and the city's name."""
    report = report_of(world, w)
    gap = CommitteeGap(w["code"], (1, 2), (3,), ("p1", "p2"), ("p1", "p2"))
    late = LateList(report.round, (gap, gap), {w["code"]: w["unit"]}, {}, {"p1": w["name"]}, {})
    view = overview.Overview(w["name"], date(2025, 6, 10), True, fund_of(world, w), (), report, late)
    yield "overview_card", overview.overview_card(view, "29:viewer", units_shown=2)
    yield "fitting_card", overview.fitting_card(view, "29:viewer")


def _builders() -> set[str]:
    found = set()
    for module in (cards, round_cards, proposal_cards, overview):
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_") or name == "card":
                continue
            if get_type_hints(fn).get("return") == cards.Card:
                found.add(name)
    return found


def test_every_card_builder_is_checked(world) -> None:
    built = {name for name, _ in every_card(world, words(True))}
    assert _builders() - built == set(), "add the new card builder to every_card"


@pytest.mark.parametrize("old_rows", [False, True], ids=["one-line names", "names with line breaks"])
def test_a_hostile_title_name_or_note_makes_no_markup_in_any_card(world, old_rows: bool) -> None:
    hostile = list(every_card(world, words(True, stored_before_cleaning=old_rows)))
    ordinary = list(every_card(world, words(False, stored_before_cleaning=old_rows)))
    for (name, bad), (_, good) in zip(hostile, ordinary, strict=True):
        seen = assert_no_live_markup(_markdown_of(bad), _markdown_of(good), name)
        if name not in ("submit_measure_form", "followup_form"):  # a form shows names only in its choices
            assert_reads_as_written(seen, LINE)
        if name in ("answered_card", "measure_summary", "followup_summary"):
            assert_reads_as_written(seen, LINES)
        for raw in _raw_of(bad):  # not Markdown: shown as given, never with backslashes
            assert "\\[Klicka" not in raw and "\\*\\*" not in raw, (name, raw)
    forms = dict(hostile)
    name = LINES if old_rows else LINE
    assert f"{name} ({words(True)['code']})" in _raw_of(forms["submit_measure_form"])
    assert name in _raw_of(forms["followup_form"])


def test_the_round_card_shows_a_note_being_edited_as_written(world) -> None:
    w = words(True)
    card = round_cards.prompt_card(
        7, "2025-06", date(2025, 6, 19), [round_cards.CardMeasure(2, w["title"], ("GVN",), 1, followup(w, 2))]
    )
    assert w["note"] in _raw_of(card)  # the input's value: what the person wrote, to edit


# --- every message ---------------------------------------------------------------------

Call = Callable[[dict[str, Any], Texts], str]

MESSAGES: dict[str, Call] = {
    "allocation_source": lambda _, w: texts.allocation_source(allocation(w)),
    "already_saved_followup": lambda _, w: texts.already_saved_followup(w["title"], "2025-06"),
    "already_saved_measure": lambda _, w: texts.already_saved_measure(1, w["title"]),
    "already_saved_reallocation": lambda _, w: texts.already_saved_reallocation(
        500, w["title"], w["title"], 7
    ),
    "ask_amount": lambda _, w: texts.ask_amount(w["unit"], 1_000, 2025),
    "ask_decision": lambda _, w: texts.ask_decision(w["unit"], w["code"]),
    "funding_sources": lambda _, w: texts.funding_sources([w["title"], NOT_GIVEN]),
    "decision_fact": lambda _, w: texts.decision_fact([w["title"], NOT_GIVEN]),
    "confirm_implausible": lambda _, w: texts.confirm_implausible(
        [f'Utfallet 9 000 000 kr är mer än dubbelt så mycket som medlen för "{w["title"]}", 4 000 000 kr.']
    ),
    "decision_ref": lambda _, w: texts.decision_ref(decision(w)),
    "did_you_mean": lambda _, w: (
        texts.did_you_mean([w["title"], w["title"]], allow_none=True)
        + texts.did_you_mean([w["title"]], allow_none=False)
    ),
    "followup_saved": lambda _, w: texts.followup_saved(w["title"], "2025-06", 2),
    "followup_source": lambda _, w: (
        texts.followup_source(followup(w), w["title"])
        + texts.followup_source(followup(w), w["title"], Share(w["code"], 10, 5, 8))
    ),
    "form_refused": lambda _, w: texts.form_refused(
        [
            texts.unit_not_allowed(w["unit"], [w["code"]]),
            texts.measure_not_allowed(w["title"]),
            texts.unknown_category_value(w["title"], ["A"]),
            texts.unknown_categories(w["title"], ["A"]),
            texts.field_missing(texts.LABEL_TITLE),
        ]
    ),
    "fund_details": lambda world, w: "\n".join(
        texts.fund_details(fund_of(world, w), 2, [decision(w).reference], latest=fund_of(world, w))
        + texts.fund_details(replace(fund_of(world, w), fund_entries=world["fund"].fund_entries), 1, [])
    ),
    "funds_card_title": lambda _, w: texts.funds_card_title(2025, w["unit"]),
    "greeting": lambda _, w: texts.greeting(w["name"]),
    "latest_followup": lambda _, w: texts.latest_followup(followup(w)),
    "measure_chosen": lambda _, w: texts.measure_chosen(w["title"]),
    # issue 19: the answers that use what was understood, and the dialogs that keep a form
    "figure_headline": lambda _, w: texts.figure_headline("kvar", w["unit"], 2025, 1_000, 0, 1_000),
    "unit_brief": lambda _, w: texts.unit_brief(w["unit"], w["code"], None, 1_000, 0, 1_000),
    "unit_brief_no_money": lambda _, w: texts.unit_brief_no_money(w["unit"], w["code"], 2025),
    "units_header": lambda _, w: texts.units_header([w["code"], "GVN"], 2025),
    "share_answer": lambda _, w: texts.share_answer(
        figure=None,
        unit_name=w["unit"],
        code=w["code"],
        title=w["title"],
        measure_id=1,
        units=[w["code"], "GVN"],
        share=Share(w["code"], 1_000, 0, 1_000),
        allocated=2_000,
        spent=0,
        forecast=2_000,
        shares=[(w["code"], 1_000), ("GVN", 1_000)],
        funding_refs=[w["title"]],
    ),
    "measure_brief": lambda _, w: texts.measure_brief(
        w["title"], [w["code"]], 1, Status.ONGOING, False, None, 1_000, 0, 1_000
    ),
    "sub_measure_brief": lambda _, w: texts.sub_measure_brief(
        w["title"], [w["code"]], 2, Status.ONGOING, False, w["title"], 1
    ),
    "filtered_header": lambda _, w: texts.filtered_header("klar", 1, w["unit"], 2025),
    "no_filtered": lambda _, w: texts.no_filtered("slutar", w["unit"], 2025, (9, 9)),
    "no_unit_measures": lambda _, w: texts.no_unit_measures(w["unit"]),
    "units_list": lambda _, w: texts.units_list([Unit(w["code"], w["unit"])]),
    "kept_offer": lambda _, w: texts.kept_offer("en påbörjad insats", w["title"]),
    "kept_replaced": lambda _, w: texts.kept_replaced("en påbörjad insats", w["title"]),
    "question_not_answered": lambda _, w: texts.question_not_answered(w["title"]),
    "ask_again": lambda _, w: texts.ask_again(texts.ask_amount(w["unit"], 1_000, 2025)),
    "only_own_figures": lambda _, w: texts.only_own_figures([w["code"], "GVN"]),
    "units_not_visible": lambda _, w: texts.units_not_visible([w["code"]], ["GVN"]),
    "units_measures_not_visible": lambda _, w: texts.units_measures_not_visible([w["code"]], ["GVN"]),
    "measure_heading": lambda _, w: texts.measure_heading(w["title"], [w["code"]], 1),
    "measure_line": lambda _, w: texts.measure_line(w["title"], [w["code"]], Status.ONGOING, True, None),
    "measure_saved": lambda _, w: texts.measure_saved(1, w["title"], w["unit"], 1_000),
    "measure_status": lambda _, w: texts.measure_status(
        title=w["title"],
        units=[w["code"]],
        measure_id=1,
        status=Status.ONGOING,
        overdue=True,
        end=date(2025, 5, 31),
        allocated=1_000,
        spent=100,
        forecast=200,
        funding_refs=[decision(w).reference],
        shares=[(w["code"], 1), (w["code"], 2)],
        followup=followup(w),
        reallocations=[texts.reallocation_source(reallocation(w), w["title"], w["title"])],
        parent=w["title"],
    ),
    "no_access": lambda _, w: texts.no_access(w["name"]),
    "your_id": lambda _, w: texts.your_id(w["name"]),
    "escalation_own": lambda _, w: texts.escalation_own([w["title"], w["title"]], 2, w["name"]),
    "escalation_intro": lambda _, w: texts.escalation_intro(
        date(2025, 6, 19), 3, 1, 2, 1, city_wide=False, for_name=w["name"]
    ),
    "escalation_line": lambda _, w: texts.escalation_line(w["unit"], w["code"], 2, 1, 3),
    "late_people_committee": lambda _, w: texts.late_people_committee(w["unit"], w["code"]),
    "late_people_person": lambda _, w: texts.late_people_person(w["name"], [w["title"], w["title"]]),
    "late_people_nobody": lambda _, w: texts.late_people_nobody([w["title"], w["title"]]),
    "no_free_money": lambda _, w: texts.no_free_money(w["unit"], 2025),
    "no_not_started": lambda _, w: texts.no_not_started(w["code"]),
    "no_overdue": lambda _, w: texts.no_overdue(date(2025, 6, 1), w["code"]),
    "not_started_header": lambda _, w: texts.not_started_header(2, w["code"]),
    "not_your_unit": lambda _, w: texts.not_your_unit(w["unit"], [w["unit"], w["unit"]]),
    "unit_not_found": lambda _, w: texts.unit_not_found(w["unit"], [w["unit"], w["unit"]]),
    "numbered": lambda _, w: texts.numbered("Vilken?", [w["title"], w["title"]]),
    "overdue_header": lambda _, w: texts.overdue_header(date(2025, 6, 1), 2, w["code"]),
    "plain": lambda _, w: texts.plain(w["note"]),
    "reallocation_recorded": lambda _, w: texts.reallocation_recorded(
        1_000, w["title"], w["title"], decision(w).reference, 9
    ),
    "reallocation_refused": lambda _, w: texts.reallocation_refused(f'Insatsen "{w["title"]}" finns inte.'),
    "reallocation_source": lambda _, w: texts.reallocation_source(reallocation(w), w["title"], w["title"]),
    "refused": lambda _, w: texts.refused(f'Jag hittar ingen insats "{w["title"]}".'),
    "reported_by": lambda _, w: texts.reported_by(w["name"]),
    "round_answer_refused": lambda _, w: texts.round_answer_refused(f'Insatsen "{w["title"]}" finns inte.'),
    "round_status": lambda world, w: texts.round_status(
        report_of(world, w), committee_rates(report_of(world, w)), date(2025, 6, 10), names_hint=True
    ),
    "save_failed": lambda _, w: texts.save_failed(f'Insatsen "{w["title"]}" för 2025 finns redan (id 1).'),
    "source_spent": lambda _, w: texts.source_spent(texts.followup_source(followup(w), w["title"])),
    "unit_chosen": lambda _, w: texts.unit_chosen(w["unit"]),
    "unit_details": lambda world, w: "\n".join(
        texts.unit_details(
            fund_of(world, w).units[0],
            [(reallocation(w), w["title"], w["title"])],
            fund_decided=False,
            shared=True,
        )
    ),
    "unit_funds": lambda world, w: (
        texts.unit_funds(fund_of(world, w).units[0])
        + texts.unit_funds(fund_of(world, w).units[0], fund_decided=False)
    ),
    "unit_has_no_funds": lambda world, w: texts.unit_has_no_funds(
        w["unit"], w["code"], 2025, fund_of(world, w)
    ),
    "unit_measures_header": lambda _, w: texts.unit_measures_header(w["unit"], 3),
    "units_funds": lambda world, w: texts.units_funds(fund_of(world, w)),
    "unknown_measure": lambda _, w: texts.unknown_measure(w["title"], [w["title"], w["title"]], 2),
    "unknown_unit": lambda _, w: texts.unknown_unit(w["unit"], [Unit(w["code"], w["unit"])]),
    "welcome": lambda _, w: texts.welcome(w["name"], True),
    # issue 20: KSAU's decision from a card
    "proposals_line": lambda _, w: texts.proposals_line(1, 1_000, w["title"], 1, w["title"], 2),
    "proposals_decided": lambda _, w: texts.proposals_decided(
        SetDecision(
            decision(w).reference, "aad-x", w["name"], datetime(2025, 6, 24, 8, tzinfo=UTC), (1,), (), (2,)
        ),
        2,
    ),
    "proposal_refused": lambda _, w: texts.proposal_refused(f"Underlaget för {w['title']} har ändrats."),
    "proposals_refused": lambda _, w: texts.proposals_refused(f"Redan beslutat av {w['name']}."),
    "proposals_bad_decision": lambda _, w: texts.proposals_bad_decision(f"Okänt organ: {w['title']}"),
    # issue 20: the overview card
    "overview_title": lambda _, w: texts.overview_title(w["name"], 2025),
    "overview_late_line": lambda _, w: texts.overview_late_line(
        w["unit"], w["code"], 2, [w["name"], w["name"]], 3
    ),
}
"""Every message function of texts that is given a person's text, called with it."""

PROBLEMS = {
    "unit_not_allowed",
    "measure_not_allowed",
    "unknown_categories",
    "unknown_category_value",
    "field_missing",
    "field_wrong_type",
    "title_too_long",
    "text_too_long",
    "yes_no_field",
    "forecast_below_spent",
}
"""Refusals as plain text: escaped once where they are sent (form_refused, prompts.refuse)."""

NO_PERSON_TEXT = {
    "round_card_closed_line",
    "fund_funds",
    "fund_not_decided",
    "latest_fund",
    "latest_money",
    "no_fund",
    "ask_categories",
    "ask_forecast",
    "ask_period",
    "categories_text",
    "day",
    "escalation_part",
    "escalation_show_all",
    "late_people_heading",
    "escalation_text",
    "escalation_title",
    "kr",
    "list_more",
    "my_measures_header",
    "no_funds",
    "overdue_note",
    "round_answer_saved",
    "round_answered_line",
    "round_card_title",
    "round_more_measures",
    "round_partly_answered_line",
    "round_prompt_text",
    "round_reminder_text",
    "status_word",
    "yes_no",
}
"""Messages made only of our own words, numbers, dates and periods."""
NO_PERSON_TEXT |= {  # issue 20: our words, figures, periods and dates only
    "proposals_card_title",
    "proposals_text",
    "proposals_basis",
    "proposals_more",
    "proposals_sent",
}
NO_PERSON_TEXT |= {"confirm_measure_despite", "dates_questioned", "dates_again"}  # dates only
NO_PERSON_TEXT |= {  # issue 19: our words, figures, dates and the glossary's terms only
    "also_offer",
    "answer_after",
    "figures_brief",
    "together_line",
    "glossary_answer",
    "measures_brief_header",
    "no_measure_ids",
    "round_dates",
    "what_to_change",
    "still_doing",
}


NO_PERSON_TEXT |= {  # issue 20: our words, figures, dates and periods only
    "overview_as_of",
    "overview_more_units",
    "overview_round_title",
    "overview_count",
    "overview_late_total",
    "overview_late_more",
}
# issue 20: the round from chat
MESSAGES |= {
    "reminders_sent": lambda _, w: texts.reminders_sent("2025-06", 3, [w["code"], w["code"]]),
    "reminders_nobody": lambda _, w: texts.reminders_nobody("2025-06", [w["code"]]),
    "round_open_summary": lambda _, w: texts.round_open_summary(
        OpenPlan(plan_round("2025-06"), 45, 2, {w["code"]: 3, "GVN": 1}), date(2025, 6, 5)
    ),
}
NO_PERSON_TEXT |= {"round_close_summary", "round_opened_in_chat", "round_closed_in_chat"}  # periods, counts


# issue 21: competence needs in the chat (roles, competences, sources, areas, titles: a person's text)
def need_view(w: Texts, *, stale: bool = True, visible: bool = True) -> NeedView:
    need = NeedEntry(
        key=w["code"],
        unit=w["code"],
        role=w["title"],
        kind=NeedKind.UPSKILLING,
        competence=w["title"],
        recruitment=Recruitment.SHORTAGE,
        period=Period(2024, 2026),
        source=w["title"],
        assessed=date(2022, 11, 1),
        author=w["name"],
        at=datetime(2025, 5, 2, tzinfo=UTC),
        area=w["unit"],
        people=10,
        retirements=3,
        source_date=date(2022, 10, 1),
    )
    measure = LinkedMeasure(7, w["title"], (w["code"],), Status.ONGOING, 1_000, None, 5, None, True, visible)
    finished = LinkedMeasure(8, w["title"], (w["code"],), Status.DONE, 0, None, None, None, False, True)
    return NeedView(need, (measure, finished), True, 500, stale, 1)


MESSAGES |= {
    "need_source": lambda _, w: texts.need_source(need_view(w).need, True),
    "need_item": lambda _, w: (
        texts.need_item(need_view(w), 2025, money=True) + texts.need_item(need_view(w, visible=False), 2025)
    ),
    "needs_uncovered": lambda _, w: (
        texts.needs_uncovered(
            [need_view(w)], [need_view(w), need_view(w)], 2025, unit=w["code"], roles=[w["title"]]
        )
        + texts.needs_uncovered([], [need_view(w)], 2025)
    ),
    "needs_retiring": lambda _, w: texts.needs_retiring([need_view(w)], 2025, unit=w["code"]),
    "needs_list": lambda _, w: texts.needs_list([need_view(w)], 2025, unit=w["code"], roles=[w["title"]]),
    "no_needs_for": lambda _, w: texts.no_needs_for(w["code"], [w["title"]]),
    "unknown_role": lambda _, w: texts.unknown_role(w["title"], [w["title"], w["title"]]),
    "needs_money": lambda _, w: (
        texts.needs_money(
            [(w["title"], 500, True), (w["title"], 300, False)], 2025, 200, [need_view(w)], roles=[w["title"]]
        )
        + texts.needs_money([(w["title"], 500, True)], 2025, 0, [need_view(w)], unit=w["code"])
    ),
    "sources_line": lambda _, w: texts.sources_line([need_view(w), need_view(w, stale=False)]),
    # the need a new measure answers
    "ask_need": lambda _, w: texts.ask_need(w["unit"]),
    "no_unit_needs": lambda _, w: texts.no_unit_needs(w["unit"]),
    "measure_linked": lambda _, w: texts.measure_linked(texts.need_label(w["code"], w["title"], "Ledarskap")),
}
MESSAGES |= {  # issue 21: one need by its id, a city without a fund, a need chosen by its role
    "need_detail": lambda _, w: (
        texts.need_detail(need_view(w), 2025, [need_view(w).need, need_view(w).need], asked=2025)
        + texts.need_detail(need_view(w, visible=False), 2026, [need_view(w).need], asked=2030)
    ),
    "needs_money_no_fund": lambda _, w: texts.needs_money_no_fund(
        [need_view(w), need_view(w, visible=False)], 2018, unit=w["code"], roles=[w["title"]]
    ),
    "unknown_need": lambda _, w: (
        texts.unknown_need(f'Behovet "{w["title"]}" finns inte. Kända behov: {w["code"]}.', reads_needs=True)
        + texts.unknown_need(f'Behovet "{w["title"]}" finns inte. Kända behov: inga.', reads_needs=False)
    ),
    "which_need": lambda _, w: texts.which_need(
        [
            texts.need_label(w["code"], w["title"], "Ledarskap"),
            texts.need_label("B2", w["title"], "Introduktion"),
        ]
    ),
}
NO_PERSON_TEXT |= {"no_needs_in_year"}  # years only
PROBLEMS |= {"need_not_offered", "need_label"}  # plain text: escaped where sent (form_refused, plain)


def test_every_message_function_is_checked() -> None:
    public = {
        name
        for name, fn in inspect.getmembers(texts, inspect.isfunction)
        if fn.__module__ == texts.__name__ and not name.startswith("_")
    }
    unchecked = public - set(MESSAGES) - PROBLEMS - NO_PERSON_TEXT
    assert not unchecked, f"say how these treat a person's text: {sorted(unchecked)}"


@pytest.mark.parametrize("old_rows", [False, True], ids=["one-line names", "names with line breaks"])
@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_a_hostile_title_name_or_note_makes_no_markup_in_a_message(world, name: str, old_rows: bool) -> None:
    bad = MESSAGES[name](world, words(True, stored_before_cleaning=old_rows))
    good = MESSAGES[name](world, words(False, stored_before_cleaning=old_rows))
    seen = assert_no_live_markup([bad], [good], name)
    if name in FIRST_NAME_ONLY:
        assert ("Hej #!" if old_rows else "Hej Mentorskap!") in seen
        return
    assert "Mentorskap" in seen or "rubrik" in seen or "*X*_Y_" in seen or "_5_" in seen, (name, seen)
    if "Mentorskap" in seen:  # a refusal quotes a person's text cut at 80 characters (core.errors.echo)
        assert_reads_as_written(seen, LINE if "…" not in seen else LINE[:70])


NO_PERSON_TEXT |= {  # issue 20, files in the chat: years, periods and month names only
    "measures_file_description",
    "round_file_description",
    "no_measures_to_export",
    "no_round_for",
}

FIRST_NAME_ONLY = {"greeting", "no_access", "welcome"}


@pytest.mark.parametrize("greet", [texts.greeting, texts.no_access, lambda n: texts.welcome(n, False)])
def test_a_hostile_first_name_is_greeted_as_written(greet) -> None:
    name = "[Eva](https://evil.example)**x** Ek"
    seen = assert_no_live_markup([greet(name)], [greet("Eva Ek")], "greeting")
    assert "Hej [Eva](https://evil.example)**x**!" in seen


def test_a_refusal_quoting_a_hostile_answer_is_escaped_once() -> None:
    problem = texts.unknown_categories("[x](https://evil.example) **a**", ["A"])
    seen = assert_no_live_markup([texts.form_refused([problem])], [texts.form_refused(["x"])], "refusal")
    assert "[x](https://evil.example) **a**" in seen  # not "\\[x\\]…": escaped once, not twice


# issue 21: the competence needs a measure answers, and how many people it has reached
MESSAGES |= {
    "need_name": lambda _, w: texts.need_name(w["title"], "Kompetenshöjning", w["code"]),
    "answers_needs": lambda _, w: texts.answers_needs(
        [texts.need_name(w["title"], "Introduktion", w["code"])] * 4, 2
    ),
    "round_card_needs": lambda _, w: texts.round_card_needs(
        [texts.need_name(w["title"], "Introduktion", w["code"])], 0
    ),
    "ask_reached": lambda _, w: texts.ask_reached([texts.need_name(w["title"], "Ledarskap", w["code"])], 1),
}
NO_PERSON_TEXT |= {"people", "reached_line"}  # a number of people
# the strangers' findings on the follow-up form, people reached and the overview (issue 21)
MESSAGES |= {
    "confirm_checked": lambda _, w: texts.confirm_checked(
        [f'Prognosen 9 000 000 kr är mer än dubbelt så mycket som medlen för "{w["title"]}".', "40 nådda."],
        amount=True,
        reached=True,
    ),
    "followup_form_reached_hint": lambda _, w: texts.followup_form_reached_hint(
        [(w["title"], [w["code"]])] * 4
    ),
    "reached_not_linked": lambda _, w: texts.reached_not_linked(w["title"]),
}
NO_PERSON_TEXT |= {"forecast_over_money", "reached_over_people", "overview_no_fund"}  # figures, a year


def test_the_round_card_names_a_hostile_need_as_written(world) -> None:
    """Issue 21: a need's role and key are a person's text: on the round card they are shown as
    written and make no markup; the people reached is the input's value as given."""
    w = words(True)
    measure = round_cards.CardMeasure(
        3, "Titel", ("FSKN",), 3_000, replace(followup(w, 3), reached=12), CardNeeds((need(w),), 0)
    )
    card = round_cards.prompt_card(7, "2025-06", date(2025, 6, 19), [measure])
    [line] = [t for t in _markdown_of(card) if t.startswith("Svarar mot behov")]
    assert not set(_shape(line)) & FORBIDDEN
    assert_reads_as_written(_seen(line), LINE)
    assert "12" in _raw_of(card)


# issue 22: substitutes in the round (the absent person's and the substitute's names: a person's text)
MESSAGES |= {
    "handover_line": lambda _, w: texts.handover_line(w["name"], 3),
    "handover_text": lambda _, w: texts.handover_text("2025-06", w["name"], 1, reminder=True),
    "given_by": lambda _, w: texts.given_by(w["name"], w["name"]),
    "measure_for": lambda _, w: texts.measure_for(texts.plain(w["title"]), w["name"]),
    "escalation_for": lambda _, w: texts.escalation_for(w["name"]),
    "genitive": lambda _, w: texts.genitive(w["name"]),
    "stand_in_no_submit": lambda _, w: texts.stand_in_no_submit([w["code"]]),
    "round_intro": lambda _, w: texts.round_intro(date(2025, 6, 19), [("", 2), (w["name"], 3)], 1),
}


def test_a_handover_card_names_a_hostile_absent_person_as_written() -> None:
    """Issue 22: the handover card and the answered card name the absent person and who
    answered for them as written, and make no markup of their names."""

    def both(w: Texts) -> list[Any]:
        answer = replace(followup(w, 3), for_id="aad-anna", for_name=w["name"])
        measure = round_cards.CardMeasure(3, w["title"], ("FSKN",), 3_000, None, for_name=w["name"])
        return [
            round_cards.prompt_card(7, "2025-06", date(2025, 6, 19), [measure], handover=w["name"]),
            round_cards.answered_card(
                "2025-06", date(2025, 6, 19), [replace(measure, answer=answer)], complete=True
            ),
        ]

    for bad, good in zip(both(words(True)), both(words(False)), strict=True):
        seen = assert_no_live_markup(_markdown_of(bad), _markdown_of(good), "handover")
        assert_reads_as_written(seen, LINE)


# issue 22: substitutes (names are a person's text; unit codes are the city's)
MESSAGES |= {
    "substitute_confirm": lambda _, w: (
        texts.substitute_confirm(w["name"], None, date(2025, 6, 16), date(2025, 7, 11), [w["code"]])
        + texts.substitute_confirm(w["name"], w["name"], date(2025, 6, 16), date(2025, 7, 11), ())
    ),
    "substitute_saved": lambda _, w: (
        texts.substitute_saved(w["name"], None, date(2025, 6, 16), date(2025, 7, 11), (), written=True)
        + texts.substitute_saved(
            w["name"], w["name"], date(2025, 6, 16), date(2025, 7, 11), (), written=False
        )
    ),
    "substitute_notice_set": lambda _, w: texts.substitute_notice_set(
        w["name"], w["name"], date(2025, 6, 16), date(2025, 7, 11), [w["code"]]
    ),
    "substitute_notice_ended": lambda _, w: texts.substitute_notice_ended(w["name"], date(2025, 6, 20)),
    "absent_not_told": lambda _, w: texts.absent_not_told(w["name"], w["title"]),
    "absent_told": lambda _, w: texts.absent_told(w["name"]),
    "substitutes_ended": lambda _, w: (
        texts.substitutes_ended(w["name"], date(2025, 6, 20), [w["name"]])
        + texts.substitutes_ended(None, date(2025, 6, 20), [w["name"]])
    ),
    "substitutes_list": lambda _, w: texts.substitutes_list(
        [
            texts.SubstituteLine(
                w["name"], w["name"], date(2025, 6, 16), date(2025, 7, 11), (w["code"],), True
            ),
            texts.SubstituteLine(w["name"], w["name"], date(2025, 6, 16), date(2025, 6, 16), (), False, True),
        ]
    ),
}
MESSAGES |= {
    "substitute_end_confirm": lambda _, w: (
        texts.substitute_end_confirm(w["name"], date(2025, 6, 20), [w["name"]])
        + texts.substitute_end_confirm(None, date(2025, 6, 20), [w["name"]])
    ),
}
MESSAGES |= {  # the tester's findings (issue 22): committees by name, what a substitute is told
    "substitute_confirm_again": lambda _, w: texts.substitute_confirm_again(
        w["name"], w["name"], date(2025, 7, 1), date(2025, 7, 11), [w["code"]]
    ),
    "substitute_end_confirm_again": lambda _, w: (
        texts.substitute_end_confirm_again(w["name"], date(2025, 6, 20))
        + texts.substitute_end_confirm_again(None, date(2025, 6, 20))
    ),
    "substitute_notice_appointed": lambda _, w: (
        texts.substitute_notice_appointed(
            w["name"], w["name"], date(2025, 7, 1), date(2025, 7, 11), (), [w["name"]]
        )
        + texts.substitute_notice_appointed(w["name"], None, date(2025, 7, 1), date(2025, 7, 11), [w["code"]])
    ),
    "substitute_notice_removed": lambda _, w: (
        texts.substitute_notice_removed(w["name"], w["name"], date(2025, 6, 20))
        + texts.substitute_notice_removed(w["name"], None, date(2025, 6, 20))
    ),
    "substitute_rights": lambda _, w: (
        texts.substitute_rights(w["name"], w["name"], [w["name"]], ["KSAU"])
        + texts.substitute_rights(w["name"], None, (), ["stadskontoret"])
    ),
    "substitute_when": lambda _, w: texts.substitute_when(w["name"]) + texts.substitute_when(None),
    "which_person": lambda _, w: texts.which_person(w["name"]),
}
NO_PERSON_TEXT |= {"absence_days"}  # dates only
