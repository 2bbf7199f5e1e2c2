"""The Teams activity handler: who is speaking, a welcome, the conversation
references for proactive messages, leased claims of activities (a retry is
answered by nothing while its turn runs or after it finished, and handled
again when the turn's process stopped), and the main dialog for everything
typed or submitted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from microsoft_agents.activity import ActivityTypes, ChannelAccount
from microsoft_agents.hosting.core import ActivityHandler, Storage, TurnContext
from microsoft_agents.hosting.core.app.state.conversation_state import ConversationState
from microsoft_agents.hosting.core.state.user_state import UserState
from microsoft_agents.hosting.dialogs import (
    Dialog,
    DialogEvents,
    DialogExtensions,
    DialogSet,
    DialogState,
    DialogTurnResult,
    DialogTurnStatus,
)
from microsoft_agents.hosting.dialogs.memory import DialogStateManager
from sqlalchemy.engine import Engine

from bot.claims import Finisher, HeldClaim
from bot.identity import Identity, identity_of, set_identity
from bot.replies import ReplyRetries
from bot.state_storage import SqlStorage
from dialogs import MainDialog, texts
from dialogs.context import TODAY_KEY, TURN_CACHE_KEY, call, who
from dialogs.round_turns import handle_round_turn
from storage.bot_state import CLAIM_LEASE
from storage.read_model import Freshness, read_models
from storage.turn_start import Arrival, TurnStart, begin_turn

log = logging.getLogger("kompetensbot.bot")

CONVERSATION_STATE = "kompetensbot.conversation_state"
USER_STATE = "kompetensbot.user_state"


def tenant_of(activity: Any) -> str | None:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") or {}
    if isinstance(tenant, dict) and tenant.get("id"):
        return str(tenant["id"])
    conversation = activity.conversation
    return getattr(conversation, "tenant_id", None) if conversation else None


@contextmanager
def _nothing() -> Iterator[None]:
    yield


async def _drop_state_traces(_context: TurnContext, activities: list[Any], next_send: Any) -> Any:
    """The dialogs send a "BotState" trace with the raw dialog state every
    turn; it is never for a user, and on the emulator channel it cannot even
    be serialised. Drop it before it is sent."""
    activities[:] = [a for a in activities if not (a.type == ActivityTypes.trace and a.name == "BotState")]
    return await next_send() if activities else []


class KompetensBot(ActivityHandler):
    """One instance serves every turn: nothing per turn is kept on `self`
    (the SDK's AgentState caches on its instance, so states are made per turn)."""

    def __init__(
        self,
        engine: Engine,
        storage: Storage,
        *,
        demo: bool = False,
        dialog: Dialog | None = None,
        replies: ReplyRetries | None = None,
        today: date | None = None,
        claim_lease: timedelta = CLAIM_LEASE,
    ):
        self.engine = engine
        self.claim_lease = claim_lease
        self.finisher = Finisher(engine)
        self.storage = storage
        self.demo = demo
        self.today = today
        self.dialog = dialog or MainDialog(engine)
        self.replies = replies

    async def on_turn(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        activity = turn_context.activity
        turn_context.on_send_activities(_drop_state_traces)
        if self.replies is not None:  # after the traces are dropped: only real replies are retried
            turn_context.on_send_activities(self.replies.handler)
        conversation_state = ConversationState(self.storage)
        user_state = UserState(self.storage)
        state_keys = self._state_keys(turn_context, conversation_state, user_state)
        sender = activity.from_property or ChannelAccount(id="")
        user_id = sender.aad_object_id or sender.id or ""
        kind = getattr(activity.conversation, "conversation_type", None) or "personal"
        claim = activity.type in (ActivityTypes.message, ActivityTypes.invoke) and activity.id
        cache: dict[Any, Any] = {}
        turn_context.turn_state[TURN_CACHE_KEY] = cache  # the dialogs' services read it (dialogs.context.who)

        message = activity.type == ActivityTypes.message

        def start_turn() -> TurnStart:
            # storage.turn_start: the dedupe claim, the city, the conversation reference, the
            # state, and for a message whether the city's data changed and the person's roles.
            arrival = Arrival(
                conversation_id=activity.conversation.id,
                activity_id=activity.id if claim else None,
                tenant_id=tenant_of(activity),
                reference=self._reference(turn_context),
                user_id=user_id if kind == "personal" else "",
                conversation_type=kind,
                state_keys=tuple(state_keys),
                roles_of=user_id if message and not self.demo else None,
                lease=self.claim_lease,
            )
            start = begin_turn(self.engine, arrival)
            if message and start.org is not None:  # the turn's services then read neither again
                fresh: Freshness = start.org
                cache[("snapshot", fresh.slug)] = read_models(self.engine).current(self.engine, fresh)
                if start.roles is not None:
                    cache[("principal", fresh.slug, user_id)] = start.roles
            return start

        start: TurnStart = await asyncio.to_thread(start_turn)
        if not start.first:
            log.info("activity %s is being answered or was: ignored", activity.id)
            return
        conversation_id = activity.conversation.id
        held = HeldClaim(self.finisher, conversation_id, activity.id, self.claim_lease) if claim else None
        identity = await self._identify(turn_context, start.org, user_id, sender)
        if identity is None:
            if held is not None:
                held.finish()
            return
        set_identity(turn_context, identity)
        if self.today is not None:
            turn_context.turn_state[TODAY_KEY] = self.today
        turn_context.turn_state[CONVERSATION_STATE] = conversation_state
        turn_context.turn_state[USER_STATE] = user_state
        with self.storage.prefetched(state_keys, start.states or {}) if state_keys else _nothing():
            await super().on_turn(turn_context)
            await conversation_state.save(turn_context)
            await user_state.save(turn_context)
        if held is not None:  # the turn ran to its end (bot.claims: not after an error)
            held.finish()

    def _state_keys(self, turn_context: TurnContext, *states: Any) -> list[str]:
        """The turn's state keys, to read them with the claim (SqlStorage only)."""
        if not isinstance(self.storage, SqlStorage) or self.storage.engine is not self.engine:
            return []
        try:
            return [state.get_storage_key(turn_context) for state in states]
        except (TypeError, ValueError, AttributeError):  # the SDK refuses the activity later, as before
            return []

    async def _identify(
        self, turn_context: TurnContext, org: Any, user_id: str, sender: ChannelAccount
    ) -> Identity | None:
        if org is None:
            if turn_context.activity.type == ActivityTypes.message:
                await turn_context.send_activity(texts.TENANT_NOT_LINKED)
            return None
        return Identity(
            org_slug=org.slug,
            org_name=org.name,
            user_id=user_id,
            name=sender.name or "",
            demo=self.demo,
            org_id=org.org_id,
        )

    @staticmethod
    def _reference(turn_context: TurnContext) -> dict[str, Any] | None:
        """Where the conversation is reached proactively (None: not stored for this activity)."""
        activity = turn_context.activity
        if activity.type not in (
            ActivityTypes.message,
            ActivityTypes.conversation_update,
            ActivityTypes.installation_update,
            ActivityTypes.invoke,
        ):
            return None
        return activity.get_conversation_reference().model_dump(mode="json", by_alias=True, exclude_none=True)

    async def on_members_added_activity(  # type: ignore[override]
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        identity = identity_of(turn_context)
        if any(m.id for m in members_added):
            await turn_context.send_activity(texts.welcome(identity.name, identity.demo))

    async def on_message_activity(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        identity = identity_of(turn_context)
        if not identity.demo:
            _, services = who(turn_context, self.engine)  # the turn's services: read once per turn
            principal = await call(services.principal, identity.user_id)
            if not principal.grants:
                await turn_context.send_activity(texts.no_access(identity.name))
                return
        if await handle_round_turn(self.engine, turn_context):
            return
        conversation_state: ConversationState = turn_context.turn_state[CONVERSATION_STATE]
        await run_dialog(self.dialog, turn_context, conversation_state)


DIALOG_STATE = "DialogState"
"""The conversation-state property that holds the dialog stack."""


async def run_dialog(
    dialog: Dialog, turn_context: TurnContext, conversation_state: ConversationState
) -> DialogTurnResult | None:
    """`DialogExtensions.run_dialog` (SDK 1.9) without its state snapshot trace,
    and without the dialogs when no dialog is active and the dialog answers
    the message at once (`answer_at_once`, MainDialog's; None is returned).

    The SDK's version deep-copies the whole dialog memory every turn into a
    "BotState" trace activity, meant for the Bot Framework Emulator, which
    `_drop_state_traces` then drops unsent. This is the same run (the turn's
    services mapped into the dialog context, the memory scopes loaded and
    saved, errors bubbled to the dialogs' error handlers) without building
    it. Requests from a parent bot to a skill (not a Teams chat) take the SDK's
    own path."""
    accessor = conversation_state.create_property(DIALOG_STATE)
    claims = turn_context.identity
    if claims is not None and claims.is_agent_claim():
        dialog_set = DialogSet(accessor)
        dialog_set.add(dialog)
        return await DialogExtensions._internal_run(  # type: ignore[no-any-return]
            turn_context, dialog.id, await dialog_set.create_context(turn_context)
        )
    answer_at_once = getattr(dialog, "answer_at_once", None)
    if answer_at_once is not None:
        await conversation_state.load(turn_context)
        current = conversation_state.get_value(DIALOG_STATE)  # read only: nothing stored when absent
        active = isinstance(current, DialogState) and bool(current.dialog_stack)
        if not active and await answer_at_once(turn_context):
            return None
    dialog_set = DialogSet(accessor)
    dialog_set.add(dialog)
    dialog_context = await dialog_set.create_context(turn_context)
    for key, service in turn_context.turn_state.items():
        dialog_context.services[key] = service
    manager = DialogStateManager(dialog_context)
    await manager.load_all_scopes()
    turn_context.turn_state[manager.__class__.__name__] = manager
    while True:
        try:
            result = await dialog_context.continue_dialog()
            if result.status == DialogTurnStatus.Empty:
                result = await dialog_context.begin_dialog(dialog.id)
            break
        except Exception as error:
            handled = await dialog_context.emit_event(DialogEvents.error, error, bubble=True, from_leaf=True)
            if not handled:
                raise
    await manager.save_all_changes()
    return result
