"""The follow-up round in chat: an answer submitted from the round's card,
and "svara på uppföljningen", which shows the person's card again.

An answer is all or nothing: every problem is named (with its measure), and
nothing is written unless the whole answer is right. The card shows the
measures already answered with their answers filled in, so a submitted card
carries them again: a measure whose answer is unchanged is not written again
(RoundServices.answer leaves it out in the write, under the city's write lock, so two
identical answers at once are one follow-up; the receipt counts only what changed). Once
saved, the cards the person got in this conversation (the prompt, any
reminder, the card they submitted from) are updated in place to show the
answer.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import Any

from microsoft_agents.hosting.core import TurnContext

from core import vocabulary
from core.errors import AlreadySaved, DomainError, PermissionDenied
from core.model import parse_decision
from core.proposal_sets import check_set_open
from core.round_answers import NOTHING_CHANGED
from core.round_report import RoundReport, committee_rates
from core.rounds import LateList, Phase, late_list_units, next_reminder
from core.rules.followup import IMPLAUSIBLE
from core.text import person_name, without_marks
from dialogs import proposal_cards, texts
from dialogs.card_actions import InvokeBody, card_response, message_response, register
from dialogs.cards import MAX_CARD_BYTES, Card
from dialogs.ports import RoundServicesPort
from dialogs.round_cards import (
    RECORD_REALLOCATION_ACTION,
    ROUND_ANSWER_ACTION,
    ROUND_CARD_VERB,
    ROUND_LATE_PEOPLE_ACTION,
    answered_card,
    card_activity,
    card_measures,
    card_update,
    prompt_card,
)
from dialogs.submissions import card_id, card_number, once_key
from dialogs.turn import already_saved, call, identity_of, rounds_of, today_of, viewer_of
from dialogs.understanding import clean

log = logging.getLogger("kompetensbot.rounds")


@functools.cache
def _phrases(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """The phrases as `clean` makes the text, folded (computed once, not every turn)."""
    return tuple(without_marks(clean(phrase)) for phrase in phrases)


def _says_any(text: str, phrases: tuple[str, ...]) -> bool:
    """Whether the text, as `clean` makes it and folded, contains one of the phrases."""
    key = without_marks(clean(text or ""))
    return any(phrase in key for phrase in _phrases(phrases))


_YEAR = re.compile(r"\b(20\d\d)\b")
_PERIOD = re.compile(r"\b(20\d\d)-(0[1-9]|1[0-2])\b")


def named_period(text: str) -> tuple[int | None, int | None]:
    """(month, year) named in a request ("junirundan", "december 2025", "2025-06"); None each
    when not named."""
    found = _PERIOD.search(text or "")
    if found:
        return int(found.group(2)), int(found.group(1))
    key = clean(text or "")
    month = next((i for i, name in enumerate(vocabulary.MONTHS, 1) if re.search(rf"\b{name}", key)), None)
    year = _YEAR.search(key)
    return month, int(year.group(1)) if year else None


def wants_round_card(text: str) -> bool:
    return _says_any(text, vocabulary.ROUND_WANTS)


async def handle_round_turn(turn_context: TurnContext) -> bool:
    """Handle the turn if it is about the round; False to let the dialogs have it."""
    activity = turn_context.activity
    value = activity.value if isinstance(activity.value, dict) else None
    if value is not None and value.get("action") == ROUND_ANSWER_ACTION:
        await _answer(turn_context, value)
        return True
    if value is not None and value.get("action") == proposal_cards.DECIDE_VERB:
        await proposal_cards.decide_submitted(turn_context, value)
        return True
    if value is not None and value.get("action") == RECORD_REALLOCATION_ACTION:
        await _record_reallocation(turn_context, value)
        return True
    if value is not None and value.get("action") == ROUND_LATE_PEOPLE_ACTION:
        if _unknown_round(_round_id(value)):
            await turn_context.send_activity(texts.refused(texts.ROUND_CARD_UNKNOWN))
            return True
        await _show_late_people(turn_context, _round_id(value))
        return True
    if value is None and activity.text and wants_late_people(activity.text):
        await _show_late_people(turn_context, None)
        return True
    if value is None and activity.text and _says_any(activity.text, vocabulary.PROPOSALS_SEND_WANTS):
        await proposal_cards.send_proposals_from_chat(turn_context)
        return True
    if value is None and activity.text and _says_any(activity.text, vocabulary.PROPOSALS_WANTS):
        may_see = proposal_cards.may_see_proposals
        if bool(await call(may_see, rounds_of(turn_context), identity_of(turn_context).user_id)):
            await proposal_cards.show_proposals(turn_context)
        else:  # a chef or HR: the proposals are KSAU's to decide; how reallocation goes
            await turn_context.send_activity(texts.REALLOCATION_INFO)
        return True
    if value is None and activity.text and wants_round_status(activity.text):
        await _show_status(turn_context, activity.text)
        return True
    if value is None and activity.text and wants_round_card(activity.text):
        await _show_card(turn_context)
        return True
    return False


def wants_late_people(text: str) -> bool:
    """ "visa alla" (the escalation's follow-up), said as the whole message."""
    return without_marks(clean(text or "")) in _phrases(vocabulary.LATE_PEOPLE_WANTS)


LATE_MESSAGE_BUDGET = MAX_CARD_BYTES - 2_000
"""Bytes one "visa alla" message may take (the same limit as a card)."""


def late_people_messages(late: LateList) -> list[str]:
    """Who has not answered, per committee (every committee with a missing
    answer, each person with the titles they have not answered, and the
    measures with no recipient), as few messages as fit: each at most
    LATE_MESSAGE_BUDGET bytes."""
    if not late.committees:
        return [texts.NO_ONE_LATE]
    lines: list[str] = []
    for gap in late.committees:
        lines.append("")
        lines.append(texts.late_people_committee(late.unit_names.get(gap.unit, gap.unit), gap.unit))
        for person in gap.late:
            mine = [late.titles.get(m, str(m)) for m in late.cards.get(person, ()) if m in gap.not_answered]
            lines.append(texts.late_people_person(late.shown(person), mine))  # "… (ersättare: …)"
        if gap.no_recipient:
            lines.append(texts.late_people_nobody([late.titles.get(m, str(m)) for m in gap.no_recipient]))
    heading = texts.late_people_heading(late.round.period)
    messages: list[list[str]] = [[heading]]
    used = _bytes(heading)
    for line in lines:
        size = _bytes(line) + 1
        if size > LATE_MESSAGE_BUDGET:  # one person with hundreds of long titles: cut, never dropped
            line = line.encode("utf-8")[: LATE_MESSAGE_BUDGET // 2].decode("utf-8", "ignore") + " …"
            size = _bytes(line) + 1
        if used + size > LATE_MESSAGE_BUDGET:
            messages.append([heading])
            used = _bytes(heading)
        messages[-1].append(line)
        used += size
    return ["\n".join(m).replace("\n\n\n", "\n\n") for m in messages]


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


async def _show_late_people(turn_context: TurnContext, round_id: int | None) -> None:
    """The escalation's "visa alla": the names, for those who get the escalation."""
    identity = identity_of(turn_context)
    services = rounds_of(turn_context)
    try:
        late = await call(services.late_list, identity.user_id, today_of(turn_context), round_id)
    except DomainError as problem:
        await turn_context.send_activity(texts.refused(problem.message))
        return
    for message in late_people_messages(late):
        await turn_context.send_activity(message)


def wants_round_status(text: str) -> bool:
    return _says_any(text, vocabulary.ROUND_STATUS_WANTS)


async def _latest_report(turn_context: TurnContext, text: str = "") -> RoundReport | None:
    """The report of the round the message means (the month or year it names, else the round
    RoundServices.current means) as far as the person may see it; None (and why said) when
    there is none or it is not theirs to see."""
    identity = identity_of(turn_context)
    month, year = named_period(text)
    try:
        report = await call(
            rounds_of(turn_context).latest_report, identity.user_id, today_of(turn_context), month, year
        )
    except DomainError as problem:
        await turn_context.send_activity(texts.refused(problem.message))
        return None
    if report is None:
        await turn_context.send_activity(texts.refused(texts.NO_ROUND_YET))
    return report


async def _show_status(turn_context: TurnContext, text: str = "") -> None:
    """The results of the round the message means (see _latest_report), as far as the person
    may see them: its dates, the response rate per committee (issue 20), money, risks and
    proposals."""
    identity = identity_of(turn_context)
    services = rounds_of(turn_context)
    report = await _latest_report(turn_context, text)
    if report is None:
        return
    principal = await call(services.principal, identity.user_id)
    names_hint = bool(late_list_units(principal, [u.code for u in report.units]))
    await turn_context.send_activity(
        texts.round_status(
            report,
            committee_rates(report),
            next_reminder(report.round.plan, report.as_of),
            names_hint=names_hint,
        )
    )
    if report.proposals and bool(await call(proposal_cards.may_decide_proposals, services, identity.user_id)):
        await proposal_cards.show_proposals(turn_context)  # one card for every proposal (issue 20)


def _positive_int(value: Any, limit: int = 10**12) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 13:
        value = int(value.strip())
    if isinstance(value, int) and 0 < value <= limit:
        return value
    return None


async def _record_reallocation(turn_context: TurnContext, value: dict[str, Any]) -> None:
    """A KSAU decision on a proposal, in one step: checked by the core's
    reallocation rule like any other (KSAU role, decision reference, unused
    money, decided measures), written as one ledger entry."""
    identity = identity_of(turn_context)
    source, target, amount = (_positive_int(value.get(k)) for k in ("from", "to", "amount"))
    # Every such card carried its year: one without (or with 0) is not the bot's, and would
    # have passed the check below (an attacker recorded a decided proposal again so).
    year = _positive_int(value.get("year"), 9999)
    if source is None or target is None or amount is None or year is None:
        await turn_context.send_activity(texts.reallocation_refused(texts.BAD_PROPOSAL_CARD))
        return
    # an old card for a proposal KSAU has decided on from the set's card
    decided = await call(rounds_of(turn_context).decided_proposal, year, source, target)
    if decided is not None:
        problems = check_set_open(decided.proposal_set)
        await turn_context.send_activity(texts.reallocation_refused(problems[0].message))
        return
    decision_text = value.get("decision")
    if not isinstance(decision_text, str) or not decision_text.strip():
        await turn_context.send_activity(texts.reallocation_refused(texts.DECISION_MISSING))
        return
    services = rounds_of(turn_context)
    try:
        decision = parse_decision(decision_text.strip())  # the core refuses one over core.limits.MAX_DECISION
        entry = await call(
            services.reallocate,
            identity.user_id,
            str(source),
            str(target),
            amount,
            decision,
            once_key(value),
        )
        ledger = await call(services.ledger)
    except AlreadySaved as done:
        said = await already_saved(turn_context, done)
        await turn_context.send_activity(texts.reallocation_refused(said))
        return
    except DomainError as problem:
        await turn_context.send_activity(texts.reallocation_refused(problem.message))
        return
    await turn_context.send_activity(
        texts.reallocation_recorded(
            entry.amount,
            ledger.measures[entry.from_measure].title,
            ledger.measures[entry.to_measure].title,
            entry.decision.reference,
            entry.seq,
        )
    )


async def _show_card(turn_context: TurnContext) -> None:
    identity = identity_of(turn_context)
    services = rounds_of(turn_context)
    try:
        mine = await call(services.my_card, identity.user_id, today_of(turn_context))
    except DomainError as problem:
        await turn_context.send_activity(texts.refused(problem.message))
        return
    plan = mine.round.plan
    content = prompt_card(
        mine.round.id,
        plan.period,
        plan.deadline,
        card_measures(mine.ledger, mine.round, mine.measure_ids, mine.needs, mine.for_names),
        viewer=viewer_of(turn_context),
    )
    await turn_context.send_activity(card_activity(texts.round_prompt_text(plan.period), content))


def _round_id(value: dict[str, Any]) -> int | None:
    return card_number(value.get("round_id"))


def _unknown_round(round_id: int | None) -> bool:
    """A round id no stored round can have (0, negative, 2**63 or more): it "finns inte"."""
    return round_id is not None and card_id(round_id) is None


@dataclass(frozen=True, slots=True)
class _Judged:
    """What became of an answer from a round card: `said` is the receipt when `saved`,
    else the refusal (or that nothing changed); nothing is written unless saved."""

    said: str
    saved: bool = False
    round_id: int = 0
    complete: bool = False


async def _judge(turn_context: TurnContext, value: dict[str, Any]) -> _Judged:
    """Save the answers of a submitted round card, all or nothing (see the module)."""
    identity = identity_of(turn_context)
    round_id = _round_id(value)
    if _unknown_round(round_id):
        return _Judged(texts.round_answer_refused(texts.ROUND_CARD_UNKNOWN))
    if round_id is None:
        return _Judged(
            texts.round_answer_refused(
                'Kortet saknar omgång. Skriv "svara på uppföljningen" för att få ett nytt kort.'
            )
        )
    services = rounds_of(turn_context)
    as_of = today_of(turn_context)
    try:
        round_, stored, complete = await call(
            services.answer,
            identity.user_id,
            round_id,
            value,
            as_of=as_of,
            author=person_name(identity.name) or identity.user_id,
        )
    except DomainError as problem:
        if any(e.code == NOTHING_CHANGED for e in problem.errors):  # the card's saved answers again
            return _Judged(texts.ROUND_NOTHING_CHANGED)
        hint = texts.IMPLAUSIBLE_IN_CARD if any(e.code == IMPLAUSIBLE for e in problem.errors) else ""
        return _Judged(texts.round_answer_refused(problem.message + hint))
    plan = round_.plan
    receipt = texts.round_answer_saved(len(stored), complete, plan.period, plan.deadline)
    return _Judged(receipt, saved=True, round_id=round_id, complete=complete)


async def _answer(turn_context: TurnContext, value: dict[str, Any]) -> None:
    """A round card's answer sent as a message (Action.Submit: a client without Universal
    Actions): the receipt or the refusal as a message, the cards updated in place."""
    judged = await _judge(turn_context, value)
    await turn_context.send_activity(judged.said)
    if judged.saved:
        await _update_cards(turn_context, rounds_of(turn_context), judged.round_id, judged.complete)


async def _update_cards(
    turn_context: TurnContext,
    services: RoundServicesPort,
    round_id: int,
    complete: bool,
    *,
    but: str | None = None,
) -> None:
    """Show the answer in the cards of this conversation (best effort: the
    answer is saved whatever happens here; a tick updates what is left), but the
    card `but` (the one an invoke's answer replaces itself)."""
    identity = identity_of(turn_context)
    activity = turn_context.activity
    try:
        mine = await call(services.my_card, identity.user_id, today_of(turn_context), round_id)
    except DomainError:
        return

    sends = await call(services.card_sends, round_id, identity.user_id)
    sent = [s for s in sends if s.activity_id and s.conversation_id == activity.conversation.id]
    ids = {s.activity_id for s in sent if s.kind.value not in ("escalation", "proposals")}
    if activity.reply_to_id:
        ids.add(activity.reply_to_id)
    ids.discard(but)
    plan = mine.round.plan
    content = answered_card(
        plan.period,
        plan.deadline,
        card_measures(mine.ledger, mine.round, mine.measure_ids, mine.needs, mine.for_names),
        complete=complete,
        round_id=round_id,
        viewer=viewer_of(turn_context),
    )
    for activity_id in sorted(i for i in ids if i):
        update = card_update(content, activity_id)
        try:
            await turn_context.update_activity(update)
        except Exception as problem:  # noqa: BLE001 - the answer is saved; the tick retries the card
            log.warning("could not update card %s: %s", activity_id, type(problem).__name__)
            continue
    if complete:
        await call(services.mark_answered, [s.id for s in sent])


# --- issue 19: the round's questions, answered with what exists ------------------------------


def asks_who_is_late(text: str) -> bool:
    return _says_any(text, vocabulary.ROUND_LATE_QUESTIONS)


def asks_round_dates(text: str) -> bool:
    return _says_any(text, vocabulary.ROUND_DATE_QUESTIONS)


async def answer_round_question(turn_context: TurnContext, text: str) -> None:
    """A question about the follow-up round (Intent.ROUND), never a dialog: who has not
    answered (the escalation's list, for those who get it; the round's status for everyone
    else), the round's dates, or else the round's status as "hur går uppföljningen" shows it."""
    identity = identity_of(turn_context)
    services = rounds_of(turn_context)
    as_of = today_of(turn_context)
    month, year = named_period(text)
    if asks_who_is_late(text):
        try:
            late = await call(services.late_list, identity.user_id, as_of, None, month=month, year=year)
        except PermissionDenied as refused:  # not theirs to see: the round's status, as far as they may
            await turn_context.send_activity(texts.refused(refused.message))
            late = None
        except DomainError:
            late = None  # no round (of the month named): the round's status says so
        if late is not None:
            for message in late_people_messages(late):
                await turn_context.send_activity(message)
            return
    elif asks_round_dates(text):
        report = await _latest_report(turn_context, text)
        if report is None:
            return
        r = report.round
        plan = r.plan
        await turn_context.send_activity(
            texts.round_dates(
                plan.period,
                plan.opens,
                plan.deadline,
                plan.reminders,
                r.phase(as_of).value,
                plan.escalate_on,
                next_reminder(plan, as_of),
            )
        )
        return
    await _show_status(turn_context, text)


# --- issue 20: the round's cards answered through Universal Actions ------------------------


async def answer_from_card(turn_context: TurnContext, data: dict[str, Any], automatic: bool) -> InvokeBody:
    """The round card's Action.Execute ("round_answer"): judged as the Action.Submit fallback
    is (`_answer`). Saved: the receipt as a message, as before, and the card in the answer
    (the saved answers, refreshing itself); the person's other cards in the conversation are
    updated in place. Refused: the reason, and the card stays as it is. A card never saves
    by itself: an automatic (refresh) invoke of this verb is refused."""
    if automatic:
        return message_response(texts.CARD_ACTION_MALFORMED)
    judged = await _judge(turn_context, data)
    if not judged.saved:
        return message_response(judged.said)
    await turn_context.send_activity(judged.said)
    services = rounds_of(turn_context)
    shown = await _card_now(turn_context, judged.round_id, reminder=False, answered=True)
    await _update_cards(
        turn_context, services, judged.round_id, judged.complete, but=turn_context.activity.reply_to_id
    )
    if isinstance(shown, str):  # saved, but the card cannot be read back: the receipt says it all
        return message_response(judged.said)
    return card_response(shown)


async def card_now(turn_context: TurnContext, data: dict[str, Any], automatic: bool) -> InvokeBody:
    """The round card's refresh ("round_card"): the card as it is now for the person who
    opens it (their identity, never an id in the data): their saved answers once every
    measure is answered, else the card to answer with the answers so far filled in. A round
    that is not theirs is refused with the reason."""
    round_id = _round_id(data)
    if round_id is None or _unknown_round(round_id):
        return message_response(texts.refused(texts.ROUND_CARD_UNKNOWN))
    shown = await _card_now(turn_context, round_id, reminder=data.get("reminder") is True)
    return message_response(shown) if isinstance(shown, str) else card_response(shown)


async def _card_now(
    turn_context: TurnContext, round_id: int, *, reminder: bool, answered: bool = False
) -> Card | str:
    """The round card of `round_id` as it is now for the speaker, or the refusal's text:
    the answered card when every measure is answered (or, `answered`, just after a save:
    the receipt's card), else the card to answer."""
    identity = identity_of(turn_context)
    try:
        mine = await call(rounds_of(turn_context).my_card, identity.user_id, today_of(turn_context), round_id)
    except DomainError as problem:
        return texts.refused(problem.message)
    plan = mine.round.plan
    measures = card_measures(mine.ledger, mine.round, mine.measure_ids, mine.needs, mine.for_names)
    viewer = viewer_of(turn_context)
    complete = all(m.answer is not None for m in measures)
    if mine.round.phase(today_of(turn_context)) == Phase.CLOSED:  # nothing more to answer: shown only
        return answered_card(
            plan.period,
            plan.deadline,
            measures,
            complete=complete,
            round_id=round_id,
            viewer=viewer,
            closed=True,
        )
    if complete or (answered and any(m.answer is not None for m in measures)):
        return answered_card(
            plan.period, plan.deadline, measures, complete=complete, round_id=round_id, viewer=viewer
        )
    return prompt_card(round_id, plan.period, plan.deadline, measures, reminder=reminder, viewer=viewer)


register(ROUND_ANSWER_ACTION, answer_from_card)
register(ROUND_CARD_VERB, card_now)
# --- issue 20: "påminn de som inte svarat" ------------------------------------------------------


async def remind_now(turn_context: TurnContext) -> None:
    """An extra reminder of the open round now, to those who have not answered (HR: its own
    units' recipients), at most once a Swedish day per round (RoundServices.remind): recorded
    for the round runner, which sends it like every round send."""
    identity = identity_of(turn_context)
    services = rounds_of(turn_context)
    try:
        sent = await call(services.remind, identity.user_id, today_of(turn_context))
    except DomainError as problem:
        await turn_context.send_activity(texts.refused(problem.message))
        return
    units = sent.units
    if not sent.recipients:
        await turn_context.send_activity(texts.reminders_nobody(sent.round.period, units))
        return
    await turn_context.send_activity(texts.reminders_sent(sent.round.period, sent.recipients, units))
