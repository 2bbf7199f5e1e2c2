"""The Teams activity handler: who is speaking, a welcome, the conversation
references for proactive messages, leased claims of activities (a retry is
answered by nothing while its turn runs or after it finished, and handled
again when the turn's process stopped), and the main dialog for everything
typed or submitted.

Who is served (checked before anything is read or stored):
  - channel `msteams` only (the Agents Playground speaks it too): any other
    activity is logged and nothing is done;
  - a serviceUrl that bot.outbound allows: otherwise nothing is sent, stored
    or done (the server refuses such a request before it gets here);
  - the person is their Entra (AAD) object id, `from.aadObjectId`: a
    message without one is refused politely; only in demo mode is `from.id`
    taken instead;
  - with credentials (`tenant_rule`), the activity's tenant must be linked
    to a city (`kompetensbot tenants link`), or be the registration's own
    tenant when there is exactly one city; another tenant, or none, is
    refused politely.

Where: in a group chat or a team channel only "hjälp" is answered there;
anything else is answered in the person's personal chat with the bot (their
stored one, or one created through the connector), with one sentence in the
group saying so, or, when that cannot be done, a sentence asking them to
write to the bot directly. Dialog state outside personal chats is kept per
person (bot.conversation_state.PersonalConversationState). The dialogs get the turn's
services from the turn state (bot.turn_services, dialogs.ports)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any, cast

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationReference,
    InvokeResponse,
)
from microsoft_agents.hosting.core import ActivityHandler, Storage, TurnContext
from microsoft_agents.hosting.core.app.state.conversation_state import ConversationState
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
from bot.clock import today
from bot.conversation_state import PersonalConversationState, TenantUserState, tenant_of
from bot.file_offers import UploadPolicy, handle_file_consent
from bot.outbound import OutboundPolicy
from bot.proactive import Sender, outbound_of, registrations_of
from bot.replies import ReplyRetries
from bot.state_storage import SqlStorage
from bot.turn_services import serve_turn
from core.model import Principal
from core.text import person_name
from dialogs import MainDialog, state_codec, texts
from dialogs.card_actions import INVOKE_NAME, handle_card_action, message_response
from dialogs.file_offers import CONSENT_INVOKE
from dialogs.main_dialog import takes_over
from dialogs.round_turns import handle_round_turn
from dialogs.turn import Identity, call, identity_of, queries, set_identity, who
from dialogs.understanding import Intent, intent_of
from storage.bot_state import CLAIM_LEASE, personal_references
from storage.read_model import CitySnapshot, Freshness, read_models
from storage.turn_start import Arrival, TurnStart, begin_turn

log = logging.getLogger("kompetensbot.bot")

CONVERSATION_STATE = "kompetensbot.conversation_state"
USER_STATE = "kompetensbot.user_state"
TEAMS_CHANNEL = "msteams"
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


async def _drop_state_traces(_context: TurnContext, activities: list[Any], next_send: Any) -> Any:
    """The dialogs send a "BotState" trace with the raw dialog state every
    turn; it is never for a user, and on the emulator channel it cannot even
    be serialised. Drop it before it is sent."""
    activities[:] = [a for a in activities if not (a.type == ActivityTypes.trace and a.name == "BotState")]
    return await next_send() if activities else []


async def _not_replies(_context: TurnContext, activities: list[Any], next_send: Any) -> Any:
    """Sent as new messages: the activity they would answer is in another conversation."""
    for outgoing in activities:
        outgoing.reply_to_id = None
    return await next_send()


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
        outbound: OutboundPolicy | None = None,
        tenant_rule: bool = False,
        own_tenant: str | None = None,
        app_id: str | None = None,
        claim_lease: timedelta = CLAIM_LEASE,
        uploads: UploadPolicy | None = None,
    ):
        """`outbound`: where replies may go (None: the adapter's policy, bot.proactive.outbound_of);
        `tenant_rule`: only linked tenants, or `own_tenant` when there is one city (with credentials);
        `app_id`: the bot's client id, for a personal chat created from a group (None: anonymous;
        with registrations per city, the one the turn's token was for);
        `uploads`: where an accepted file may be uploaded (None: Microsoft's file hosts, bot.file_offers)."""
        self.engine = engine
        self.claim_lease = claim_lease
        self.finisher = Finisher(engine)
        self.storage = storage
        self.demo = demo
        self.today = today
        self.dialog = dialog or MainDialog()
        self.replies = replies
        self.outbound = outbound
        self.tenant_rule = tenant_rule
        self.own_tenant = own_tenant
        self.app_id = app_id
        self.uploads = uploads or UploadPolicy()

    async def on_turn(self, turn_context: TurnContext) -> None:  # type: ignore[override]  # the SDK types the context as its TurnContextProtocol; the dialogs need the concrete TurnContext it always passes
        activity = turn_context.activity
        if not self._served_here(activity) or not self._answerable(turn_context):
            return
        turn_context.on_send_activities(_drop_state_traces)
        if self.replies is not None:  # after the traces are dropped: only real replies are retried
            turn_context.on_send_activities(self.replies.handler)
        sender = activity.from_property or ChannelAccount(id="")
        user_id = sender.aad_object_id or (sender.id if self.demo else None) or ""
        if not user_id:
            log.warning("activity %s without from.aadObjectId: refused", activity.id)
            if activity.type == ActivityTypes.message:
                await turn_context.send_activity(texts.NO_OBJECT_ID)
            return
        tenant = tenant_of(activity)
        if self.tenant_rule and not tenant:
            log.warning("activity %s without a tenant: refused", activity.id)
            if activity.type == ActivityTypes.message:
                await turn_context.send_activity(texts.NO_TENANT)
            return
        # Not linked: served by the only city only anonymously or from the registration's own tenant.
        only_city = not self.tenant_rule or (self.own_tenant is not None and tenant == self.own_tenant)
        conversation_state = PersonalConversationState(self.storage)
        user_state = TenantUserState(self.storage)
        state_keys = self._state_keys(turn_context, conversation_state, user_state)
        kind = getattr(activity.conversation, "conversation_type", None) or "personal"
        claim = activity.type in (ActivityTypes.message, ActivityTypes.invoke) and activity.id
        read: list[tuple[CitySnapshot, Principal | None]] = []  # what the turn's services need not read again

        message = activity.type == ActivityTypes.message

        def start_turn() -> TurnStart:
            # storage.turn_start: the dedupe claim, the city, the conversation reference, the
            # state, and for a message whether the city's data changed and the person's roles.
            arrival = Arrival(
                conversation_id=activity.conversation.id,
                activity_id=activity.id if claim else None,
                tenant_id=tenant,
                reference=self._reference(turn_context),
                user_id=user_id if kind == "personal" else "",
                conversation_type=kind,
                state_keys=tuple(state_keys),
                roles_of=user_id if message and not self.demo else None,
                only_city=only_city,
                lease=self.claim_lease,
                on=today(self.today),
            )
            start = begin_turn(self.engine, arrival)
            if message and start.org is not None:  # the turn's services then read neither again
                fresh: Freshness = start.org
                read.append((read_models(self.engine).current(self.engine, fresh), start.roles))
            return start

        start: TurnStart = await asyncio.to_thread(start_turn)
        if not start.first:
            log.info("activity %s is being answered or was: ignored", activity.id)
            if activity.type == ActivityTypes.invoke:
                await _answer_repeated_invoke(turn_context)
            return
        conversation_id = activity.conversation.id
        held = (
            HeldClaim(self.finisher, conversation_id, activity.id, self.claim_lease)
            if claim and activity.id
            else None
        )
        identity = await self._identify(turn_context, start.org, user_id, sender)
        if identity is None:
            if held is not None:
                held.finish()
            return
        set_identity(turn_context, identity)
        services = serve_turn(
            turn_context,
            self.engine,
            identity,
            self.today,
            app_id=self._app_id(turn_context),
            outbound=self._policy(turn_context),
        )
        for snapshot, roles in read:
            services.city.prime(snapshot, user_id, roles)
        turn_context.turn_state[CONVERSATION_STATE] = conversation_state
        turn_context.turn_state[USER_STATE] = user_state
        storage = self.storage  # state_keys are read only for SqlStorage (_state_keys)
        prefetch = _nothing()
        if isinstance(storage, SqlStorage) and state_keys:
            prefetch = storage.prefetched(state_keys, start.states or {})
        with prefetch:
            await super().on_turn(turn_context)
            await conversation_state.save(turn_context)
            await user_state.save(turn_context)
        if held is not None:  # the turn ran to its end (bot.claims: not after an error)
            held.finish()

    def _policy(self, turn_context: TurnContext) -> OutboundPolicy | None:
        return self.outbound or outbound_of(turn_context.adapter)

    def _app_id(self, turn_context: TurnContext) -> str | None:
        """The app id this turn's proactive messages go as: the registration the incoming
        token was for (its audience, bot.registrations), else the bot's own `app_id`."""
        identity = getattr(turn_context, "identity", None)
        audience = identity.claims.get("aud") if identity is not None and identity.claims else None
        found = registrations_of(turn_context.adapter).for_app_id(
            audience if isinstance(audience, str) else None
        )
        return found.app_id if found else self.app_id

    def _served_here(self, activity: Any) -> bool:
        """An activity from Teams whose serviceUrl may be answered (see the module)."""
        if str(activity.channel_id or "") != TEAMS_CHANNEL:
            log.warning(
                "activity %s from channel %r: only msteams is served", activity.id, activity.channel_id
            )
            return False
        return True

    def _answerable(self, turn_context: TurnContext) -> bool:
        policy = self._policy(turn_context)
        url = turn_context.activity.service_url
        if policy is None or (not url and turn_context.activity.delivery_mode == "expectReplies"):
            return True
        decision = policy.check(url)
        if not decision:
            log.warning("activity %s: serviceUrl refused (%s)", turn_context.activity.id, decision.reason)
        return bool(decision)

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
            log.warning("tenant %s is served by no city: refused", tenant_of(turn_context.activity))
            if turn_context.activity.type == ActivityTypes.message:
                await turn_context.send_activity(texts.TENANT_NOT_LINKED)
            return None
        return Identity(
            org_slug=org.slug,
            org_name=org.name,
            user_id=user_id,
            name=person_name(sender.name or ""),  # one line, capped (tryout 2 item 5)
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

    async def on_members_added_activity(  # type: ignore[override]  # the SDK types the context as its TurnContextProtocol; the dialogs need the concrete TurnContext it always passes
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        identity = identity_of(turn_context)
        if any(m.id for m in members_added):
            await turn_context.send_activity(texts.welcome(identity.name, identity.demo))

    async def on_message_activity(self, turn_context: TurnContext) -> None:  # type: ignore[override]  # the SDK types the context as its TurnContextProtocol; the dialogs need the concrete TurnContext it always passes
        identity = identity_of(turn_context)
        kind = getattr(turn_context.activity.conversation, "conversation_type", None) or "personal"
        if kind != "personal":
            text = _MENTION.sub(" ", turn_context.activity.text or "").strip()
            if text and intent_of(text) == Intent.HELP:
                await turn_context.send_activity(texts.HELP)
                return
            if text and intent_of(text) == Intent.EXPORT_FILE:  # only a personal chat takes a file
                await turn_context.send_activity(texts.FILE_ONLY_PERSONAL)
                return
            await self._answer_privately(turn_context, identity)
            return
        refusal = await self._no_role(turn_context)
        if refusal:
            await turn_context.send_activity(refusal)
            return
        if await handle_round_turn(turn_context):
            return
        conversation_state = cast(ConversationState, turn_context.turn_state[CONVERSATION_STATE])  # on_turn's
        await run_dialog(self.dialog, turn_context, conversation_state)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:  # type: ignore[override]  # the SDK types the context as its TurnContextProtocol; the dialogs need the concrete TurnContext it always passes
        """A card's Action.Execute (dialogs.card_actions): answered in the HTTP response;
        a person without a role is told so there. A file consent card's accept or decline
        (bot.file_offers): answered with 200, what happened told in the chat. Other
        invokes: the SDK's answer."""
        if turn_context.activity.name == INVOKE_NAME:
            refusal = await self._no_role(turn_context)
            body = message_response(refusal) if refusal else await handle_card_action(turn_context)
            return InvokeResponse(status=200, body=body)
        if turn_context.activity.name == CONSENT_INVOKE:
            refusal = await self._no_role(turn_context)
            if refusal:
                await turn_context.send_activity(refusal)
                return InvokeResponse(status=200)
            return await handle_file_consent(turn_context, self.uploads)
        return await super().on_invoke_activity(turn_context)

    async def _no_role(self, turn_context: TurnContext) -> str | None:
        """What a person without any role is told (None: they have one, or this is the demo)."""
        identity = identity_of(turn_context)
        if identity.demo:
            return None
        _, services = who(turn_context)  # the turn's services: read once per turn
        principal = await call(queries(services, identity.user_id).principal, identity.user_id)
        return None if principal.grants else texts.no_access(identity.name, identity.user_id)

    async def _answer_privately(self, turn_context: TurnContext, identity: Identity) -> None:
        """A message in a group chat or a team channel, answered in the person's
        personal chat: their stored one, or one created through the connector;
        the group hears one sentence about it (or, failing that, to write directly)."""
        activity = turn_context.activity
        tenant = tenant_of(activity) or ""
        policy = self._policy(turn_context)
        stored = await asyncio.to_thread(personal_references, self.engine, identity.user_id, tenant)
        reference = next((r for r in stored if policy is None or policy.check(r.get("serviceUrl"))), None)
        sender = activity.from_property
        if reference is None and tenant and sender is not None and sender.id:
            creator = Sender(turn_context.adapter, self._app_id(turn_context), outbound=policy)
            created = await creator.create_conversation_result(
                activity.service_url,
                tenant,
                sender.id,
                user_name=sender.name,
                attempts=2,
                city=identity.org_slug,
            )
            reference = created.reference if created.ok else None
        if reference is None:
            log.info("no personal chat with %s: asked to write directly", identity.user_id)
            await turn_context.send_activity(texts.WRITE_TO_ME_DIRECTLY)
            return
        # The same message from the same person to the same bot, in the personal chat.
        where = ConversationReference.model_validate(reference)
        private = activity.model_copy(deep=True)
        private.conversation = where.conversation.model_copy(update={"conversation_type": "personal"})
        private.service_url = where.service_url
        private.id = f"{activity.id}/private" if activity.id else None  # a claim of its own
        private.reply_to_id = None  # type: ignore[assignment]  # the SDK types it str; None: a new message

        async def private_turn(context: TurnContext) -> None:
            context.on_send_activities(_not_replies)  # the message is in another conversation
            await self.on_turn(context)

        await turn_context.send_activity(texts.ANSWERING_PRIVATELY)
        await turn_context.adapter.process_activity(turn_context.identity, private, private_turn)


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
        run: DialogTurnResult = await DialogExtensions._internal_run(
            turn_context, dialog.id, await dialog_set.create_context(turn_context)
        )
        return run
    await conversation_state.load(turn_context)
    if isinstance(conversation_state.get_value(DIALOG_STATE), state_codec.OutdatedDialogState):
        # A dialog in progress saved before an upgrade changed its steps: not resumed, said.
        conversation_state.delete_value(DIALOG_STATE)
        await turn_context.send_activity(texts.DIALOG_STOPPED_BY_UPDATE)
        return None
    answer_at_once = getattr(dialog, "answer_at_once", None)
    if answer_at_once is not None:
        current = conversation_state.get_value(DIALOG_STATE)  # read only: nothing stored when absent
        active = isinstance(current, DialogState) and bool(current.dialog_stack)
        # "fortsätt" (a dialog left unfinished, dialogs.main_dialog.takes_over) runs the dialogs
        if not active and not takes_over(turn_context) and await answer_at_once(turn_context):
            return None
    dialog_set = DialogSet(accessor)
    dialog_set.add(dialog)
    dialog_context = await dialog_set.create_context(turn_context)
    for key, service in turn_context.turn_state.items():
        dialog_context.services[key] = service
    manager = DialogStateManager(dialog_context)
    await manager.load_all_scopes()  # type: ignore[no-untyped-call]  # unannotated in the SDK
    turn_context.turn_state[manager.__class__.__name__] = manager
    while True:
        try:
            result: DialogTurnResult = await dialog_context.continue_dialog()  # type: ignore[no-untyped-call]  # unannotated in the SDK
            if result.status == DialogTurnStatus.Empty:
                result = await dialog_context.begin_dialog(dialog.id)
            break
        except Exception as error:
            handled = await dialog_context.emit_event(DialogEvents.error, error, bubble=True, from_leaf=True)
            if not handled:
                raise
    await manager.save_all_changes()  # type: ignore[no-untyped-call]  # unannotated in the SDK
    return result


async def _answer_repeated_invoke(turn_context: TurnContext) -> None:
    """An invoke Teams sent again with the same id (it retries after a slow answer), while the
    first is answered or after: nothing is done again. A card's action is answered that the
    click was received (not the SDK's 501, which bot.http_limits answers as a button the bot
    does not use); a file consent card's answer with 200 and no body."""
    name = turn_context.activity.name
    if name == INVOKE_NAME:
        response = InvokeResponse(status=200, body=message_response(texts.CARD_ACTION_REPEATED))
    elif name == CONSENT_INVOKE:
        response = InvokeResponse(status=200)
    else:
        return
    value = response.model_dump(by_alias=True, exclude_none=True)
    await turn_context.send_activity(Activity(value=value, type=ActivityTypes.invoke_response))
