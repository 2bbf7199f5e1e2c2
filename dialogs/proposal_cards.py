"""KSAU's decision from one card (core.proposal_sets): every reallocation proposal of
the round with a tick box, a field for the decision reference and "Registrera beslut".

The card is Adaptive Card 1.5 with Universal Actions: "Registrera beslut" is an
`Action.Execute` (verb DECIDE_VERB, falling back to an `Action.Submit` with
{"action": DECIDE_VERB} for clients without Universal Actions), and its `refresh`
(verb SHOW_VERB) makes a reopened card show the set as it is now: once decided,
"Beslutat KSAU 2025-06-24 § 5: 3 av 4 förslag, registrerat av …" with what
became of each proposal. Before the set is sent (the round's close) the card shows the
proposals as they are now, preliminary, with nothing to tick; its refresh names the
round's period, so that once sent it shows the set. The toggles are "p1", "p2", … (the proposal's number),
the reference "decision"; the data carries the set's id. What a card sends is
checked again by the services and the core: only ksau records, each ticked
proposal against the ledger as it is then, and the first decision closes the set.
"""

from __future__ import annotations

import json
import re
from typing import Any

from microsoft_agents.hosting.core import TurnContext

from core.errors import DomainError
from core.model import parse_decision
from core.proposal_sets import ProposalItem, ProposalSetView, may_decide, may_see
from dialogs import texts
from dialogs.card_actions import InvokeBody, card_response, message_response, register
from dialogs.cards import MAX_CARD_BYTES, Card, _execute, _input_text, _refresh, _text, _title, card
from dialogs.ports import RoundServicesPort
from dialogs.round_cards import card_activity, card_update
from dialogs.submissions import card_id
from dialogs.turn import call, identity_of, rounds_of, viewer_of

DECIDE_VERB = "ksau_decide"
"""The verb of "Registrera beslut" (and the `action` of its Action.Submit fallback)."""
SHOW_VERB = "ksau_proposals"
"""The verb of the card's refresh: the set as it is now, for the one who opens it."""
ITEMS_BUDGET = MAX_CARD_BYTES - 8_000
"""Bytes the proposals of one card may take: the rest is for the heading, the
decision field, the actions and the message text around the card."""

_TICK = re.compile(r"p(\d{1,6})")
_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _size(element: dict[str, Any]) -> int:
    return len(json.dumps(element, ensure_ascii=False).encode("utf-8"))


def _line(view: ProposalSetView, item: ProposalItem) -> str:
    return texts.proposals_line(
        item.number,
        item.amount,
        view.title(item.from_measure),
        item.from_measure,
        view.title(item.to_measure),
        item.to_measure,
    )


def _fate(view: ProposalSetView, number: int) -> tuple[str, str]:
    """What became of proposal `number` in the set's decision: (text, colour)."""
    d = view.proposal_set.decision
    assert d is not None
    if number in d.recorded:
        return texts.PROPOSAL_RECORDED, "Good"
    for n, reason in d.refused:
        if n == number:
            return texts.proposal_refused(reason), "Attention"
    return texts.PROPOSAL_NOT_TICKED, "Default"


def proposals_card(
    view: ProposalSetView, *, may_decide: bool, viewer: str | None = None, note: str = ""
) -> Card:
    """The set as one card: open (tick boxes, the decision field and "Registrera beslut"
    for one who may decide), decided (the decision and each proposal's fate), or
    preliminary (not sent to KSAU yet: the proposals only, nothing to decide from).
    `viewer`: the Teams id the card refreshes itself for (none: no refresh).
    `note`: a line at the top (why a submission was refused). A set too large for one
    card shows as many proposals as fit and says how many more there are."""
    s = view.proposal_set
    decided = s.decision
    may_decide = may_decide and not view.preliminary
    body: list[dict[str, Any]] = [_title(texts.proposals_card_title(s.period, len(s.items)))]
    if note:
        body.append(_text(note, weight="Bolder", color="Attention"))
    if decided is not None:
        body.append(_text(texts.proposals_decided(decided, len(s.items)), weight="Bolder", color="Good"))
    elif view.preliminary:
        body.append(_text(texts.PROPOSALS_PRELIMINARY, weight="Bolder"))
    else:
        body.append(_text(texts.PROPOSALS_INTRO if may_decide else texts.PROPOSALS_READ_ONLY))
    used = shown = 0
    for item in s.items:
        items: list[dict[str, Any]] = [
            _text(_line(view, item)),
            _text(
                texts.proposals_basis(item.basis_unused, item.basis_period, item.same_unit),
                isSubtle=True,
                size="Small",
                spacing="None",
            ),
        ]
        if decided is not None:
            fate, colour = _fate(view, item.number)
            items.append(_text(fate, color=colour, spacing="Small"))
        elif may_decide:
            items.append(
                {
                    "type": "Input.Toggle",
                    "id": f"p{item.number}",
                    "title": texts.PROPOSALS_TICK,
                    "value": "false",
                    "valueOn": "true",
                    "valueOff": "false",
                }
            )
        container = {"type": "Container", "separator": True, "items": items}
        size = _size(container)
        if used + size > ITEMS_BUDGET:
            body.append(_text(texts.proposals_more(len(s.items) - shown), weight="Bolder"))
            break
        body.append(container)
        used += size
        shown += 1
    actions = None
    if decided is None and may_decide:
        body.append(
            _input_text(
                "decision",
                texts.LABEL_DECISION,
                placeholder=texts.PLACEHOLDER_KSAU_DECISION,
                required=True,
            )
        )
        data = {"set_id": s.id}
        submit = {
            "type": "Action.Submit",
            "title": texts.PROPOSALS_DECIDE_BUTTON,
            "data": {"action": DECIDE_VERB, **data},
        }
        actions = [_execute(DECIDE_VERB, texts.PROPOSALS_DECIDE_BUTTON, data, fallback=submit)]
    # A sent set refreshes by its id; a preliminary one by its round, so that once sent it shows the set.
    which: dict[str, Any] = {"period": s.period} if view.preliminary else {"set_id": s.id}
    return card(body, actions, refresh=_refresh(SHOW_VERB, which, viewer) if viewer else None)


def ticked_numbers(data: dict[str, Any]) -> set[int]:
    """The proposals ticked on a submitted card ("p3": "true"), by number."""
    found = set()
    for key, value in data.items():
        match = _TICK.fullmatch(key) if isinstance(key, str) else None
        if match and (value is True or (isinstance(value, str) and value.strip().lower() == "true")):
            found.add(int(match.group(1)))
    return found


def may_decide_proposals(services: RoundServicesPort, user: str) -> bool:
    """Whether `user` records KSAU's decision (core.proposal_sets.may_decide)."""
    return may_decide(services.principal(user))


def may_see_proposals(services: RoundServicesPort, user: str) -> bool:
    """Whether `user` sees the proposals (core.proposal_sets.may_see)."""
    return may_see(services.principal(user))


async def decide_from_card(turn_context: TurnContext, data: dict[str, Any]) -> tuple[Card | None, str]:
    """Record the decision a card submitted: (the card to show now, or None to leave it
    as it is; a message, "" when the card says it all)."""
    identity = identity_of(turn_context)
    services = rounds_of(turn_context)
    set_id = card_id(data.get("set_id"))
    if set_id is None:
        return None, texts.proposals_refused(texts.BAD_PROPOSAL_CARD)
    text = data.get("decision")
    if not isinstance(text, str) or not text.strip():
        return None, texts.proposals_refused(texts.DECISION_MISSING)
    try:
        decision = parse_decision(text.strip())
    except DomainError as problem:
        return None, texts.proposals_bad_decision(problem.message)
    try:
        done = await call(
            services.decide_proposals,
            identity.user_id,
            set_id,
            ticked_numbers(data),
            decision,
            identity.name or "",
        )
    except DomainError as problem:
        refusal = texts.proposals_refused(problem.message)
        if not any(e.code == "set_decided" for e in problem.errors):
            return None, refusal
        try:  # decided already: the card shows by whom and when, and says this one was not recorded
            view = await call(services.proposal_set, identity.user_id, set_id)
        except DomainError:
            return None, refusal
        return proposals_card(view, may_decide=True, viewer=viewer_of(turn_context), note=refusal), refusal
    d = done.view.proposal_set.decision
    assert d is not None
    said = texts.proposals_decided(d, len(done.view.proposal_set.items))
    return proposals_card(done.view, may_decide=True, viewer=viewer_of(turn_context)), said


async def _decide(turn_context: TurnContext, data: dict[str, Any], automatic: bool) -> InvokeBody:
    """ "Registrera beslut". A card never decides by itself: an automatic (refresh) invoke
    of this verb is refused, and nothing is written."""
    if automatic:
        return message_response(texts.proposals_refused(texts.CARD_ACTION_MALFORMED))
    content, message = await decide_from_card(turn_context, data)
    return card_response(content) if content is not None else message_response(message)


async def _show(turn_context: TurnContext, data: dict[str, Any], automatic: bool) -> InvokeBody:
    identity = identity_of(turn_context)
    services = rounds_of(turn_context)
    set_id = card_id(data.get("set_id"))
    period = data.get("period")
    if set_id is None and not (isinstance(period, str) and _PERIOD.fullmatch(period)):
        return message_response(texts.proposals_refused(texts.BAD_PROPOSAL_CARD))
    try:
        if set_id is not None:
            view = await call(services.proposal_set, identity.user_id, set_id)
        else:  # a preliminary card: the round's proposals now (the set, once it is sent)
            view = await call(services.proposals, identity.user_id, period)
        may = bool(await call(may_decide_proposals, services, identity.user_id))
    except DomainError as problem:
        return message_response(texts.refused(problem.message))
    return card_response(proposals_card(view, may_decide=may, viewer=viewer_of(turn_context)))


register(DECIDE_VERB, _decide)
register(SHOW_VERB, _show)


# --- the chat ---------------------------------------------------------------------------


async def decide_submitted(turn_context: TurnContext, value: dict[str, Any]) -> None:
    """The Action.Submit fallback of "Registrera beslut" (a client without Universal
    Actions): the same decision, answered with a message and the card updated in place."""
    content, message = await decide_from_card(turn_context, value)
    if content is not None:
        if turn_context.activity.reply_to_id:
            try:
                await turn_context.update_activity(card_update(content, turn_context.activity.reply_to_id))
            except Exception:  # noqa: BLE001 - the decision is recorded; the card's refresh shows it
                pass
    await turn_context.send_activity(message)


async def show_proposals(turn_context: TurnContext) -> None:
    """ "vilka förslag finns?": the proposals as one card (RoundServices.proposals: the set
    sent to KSAU, else the latest round's proposals now, preliminary)."""
    identity = identity_of(turn_context)
    services = rounds_of(turn_context)
    try:
        view = await call(services.proposals, identity.user_id, None)
        may = bool(await call(may_decide_proposals, services, identity.user_id))
    except DomainError as problem:
        await turn_context.send_activity(texts.refused(problem.message))
        return
    content = proposals_card(view, may_decide=may, viewer=viewer_of(turn_context))
    await turn_context.send_activity(card_activity(texts.proposals_text(view.proposal_set.period), content))


async def send_proposals_from_chat(turn_context: TurnContext, period: str | None = None) -> None:
    """ "skicka omfördelningsförslagen till KSAU" (stadskontoret), and a round closed from
    chat: the round's proposals (`period`, else the latest closed round's) to everyone with
    the ksau role, as the round sends them; when none can go, the reason is said."""
    identity = identity_of(turn_context)
    services = rounds_of(turn_context)
    try:
        sent = await call(services.send_proposals, identity.user_id, period)
    except DomainError as problem:
        await turn_context.send_activity(texts.refused(problem.message))
        return
    s = sent.view.proposal_set
    await turn_context.send_activity(
        texts.proposals_sent(s.period, len(s.items), sent.members, sent.new_sends)
    )
