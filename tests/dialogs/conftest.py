"""A chat harness for the dialogs: the SDK's TestAdapter, the main dialog run as
the Teams handler runs it, conversation state kept as JSON (as the database
keeps it) so that any non-JSON value in a dialog's state fails here, and the
identity and today's date set in the turn state."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar, cast

import pytest
from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import Storage, StoreItem, TurnContext
from microsoft_agents.hosting.core.app.state.conversation_state import ConversationState
from microsoft_agents.testing import TestAdapter
from sqlalchemy.engine import Engine

from bot.clock import clock_for
from bot.services import Services
from bot.teams_bot import run_dialog
from bot.turn_services import serve_turn
from core.model import Role
from dialogs import MainDialog, state_codec, texts
from dialogs.turn import Identity, set_identity

StoreItemT = TypeVar("StoreItemT", bound=StoreItem)

TODAY = date(2025, 10, 1)
FSKN = "Förskolenämnden (FSKN)"
FSKN_NEEDS = [
    texts.need_label("FSKN-1", "Förskollärare", "Kompetenshöjning"),
    texts.need_label("FSKN-2", "Förskollärare", "Introduktion"),
    texts.need_label("FSKN-3", "Barnskötare", "Kompetenshöjning"),
    texts.need_label("FSKN-4", "Rektor", "Ledarskap"),
]
"""The competence needs of the example's Förskolenämnden (issue 21), as the measure dialog
offers them."""
MAX_MESSAGE_BYTES = 80_000


class JsonStorage(Storage):
    """Storage that keeps every item as JSON text, as a database does (in `_memory`, by key,
    where the tests read it): MemoryStorage's own memory holds JSON objects, not text."""

    def __init__(self) -> None:
        self._memory: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def write(self, changes: dict[str, StoreItem]) -> None:
        encoded = {
            key: json.dumps(state_codec.dump(item.store_item_to_json()), ensure_ascii=False)
            for key, item in changes.items()
        }
        async with self._lock:
            self._memory.update(encoded)

    async def read(
        self, keys: list[str], *, target_cls: type[StoreItemT], **kwargs: Any
    ) -> dict[str, StoreItemT]:
        async with self._lock:
            found = {k: self._memory[k] for k in keys if k in self._memory}
        # cast: the SDK types its static from_json_to_store_item to return StoreItem, not target_cls.
        return {
            k: cast(StoreItemT, target_cls.from_json_to_store_item(state_codec.load(json.loads(v))))
            for k, v in found.items()
        }

    async def delete(self, keys: list[str]) -> None:
        """As MemoryStorage deletes."""
        if not keys:
            raise ValueError("Storage.delete(): Keys are required when deleting.")
        async with self._lock:
            for key in keys:
                if key == "":
                    raise ValueError("MemoryStorage.delete(): key cannot be empty")
                self._memory.pop(key, None)


def card_content(content: object) -> dict[str, Any]:
    """An attachment's content, which the SDK types as any object: here an Adaptive Card."""
    assert isinstance(content, dict), content
    return content


@dataclass
class Reply:
    """What the user sees of one bot message."""

    text: str
    cards: list[dict[str, Any]]
    actions: list[str]
    activity: Activity

    def card_text(self) -> str:
        return json.dumps(self.cards, ensure_ascii=False)


@dataclass
class Chat:
    """One user chatting with the bot: `say` returns the bot's replies to that turn."""

    engine: Engine
    user_id: str
    name: str = "Anna Andersson"
    demo: bool = False
    today: date = TODAY
    storage: JsonStorage = field(default_factory=JsonStorage)
    adapter: TestAdapter = field(default_factory=TestAdapter)

    def __post_init__(self) -> None:
        self.dialog = MainDialog()

    async def turn(self, context: TurnContext) -> None:
        identity = Identity(
            org_slug="malmo", org_name="Malmö stad", user_id=self.user_id, name=self.name, demo=self.demo
        )
        set_identity(context, identity)
        serve_turn(context, self.engine, identity, self.today)  # as the Teams handler does
        state = ConversationState(self.storage)
        await state.load(context)
        await run_dialog(self.dialog, context, state)  # as the Teams handler runs it
        await state.save(context)

    def say(self, message: str | dict[str, Any]) -> list[Reply]:
        if isinstance(message, str):
            activity = self.adapter.create_activity(message)
        else:  # a card submission: a message with a value and no text
            activity = self.adapter.create_activity("")
            activity.text = None
            activity.value = message
        asyncio.run(self.adapter.process_activity(self.adapter.claims_identity, activity, self.turn))
        replies = []
        while (sent := self.adapter.get_next_reply()) is not None:
            if sent.type != ActivityTypes.message:
                continue
            size = len(json.dumps(sent.model_dump(mode="json", by_alias=True, exclude_none=True)).encode())
            assert size < MAX_MESSAGE_BYTES, f"a message of {size} bytes"
            replies.append(
                Reply(
                    text=sent.text or "",
                    cards=[card_content(a.content) for a in sent.attachments or []],
                    actions=[
                        str(a.value)
                        for a in (sent.suggested_actions.actions if sent.suggested_actions else [])
                    ],
                    activity=sent,
                )
            )
        return replies

    def said(self, message: str | dict[str, Any]) -> str:
        """Everything the bot answered, text and cards, as one string."""
        return "\n".join(r.text + "\n" + r.card_text() for r in self.say(message))


@pytest.fixture
def services(example_engine: Engine) -> Services:
    """The city's services on the chat's date (one clock, issue 17 item 6): what a
    test writes here is stamped on TODAY, as the chat's own writes are."""
    return Services(example_engine, org="malmo", clock=clock_for(TODAY))


def grant(services: Services, user: str, role: Role, unit: str | None = None) -> None:
    services.grant_role(None, user, role, unit)


def counts(services: Services) -> tuple[int, int, int]:
    """(entries, measures, follow-ups) in the ledger: nothing written leaves them unchanged."""
    ledger = services.ledger()
    return len(ledger.entries), len(ledger.measures), len(ledger.followups)


@pytest.fixture
def chat_as(example_engine: Engine, services: Services):
    """chat_as("anna", Role.CHEF, "GVN") → a Chat for anna holding that role."""

    def make(user: str, role: Role | None = None, unit: str | None = None, **kwargs: Any) -> Chat:
        if role is not None:
            grant(services, user, role, unit)
        return Chat(example_engine, user, **kwargs)

    return make


def need_question(unit: str = FSKN, needs: Sequence[str] = FSKN_NEEDS) -> str:
    """ "Vilket behov svarar insatsen mot?" for `unit` as the chat asks it: the needs and "Inget
    behov" numbered under it (more than Teams shows as buttons)."""
    return texts.numbered(texts.ask_need(unit), [*needs, texts.NO_NEED])


def decide(chat: Chat, decision: str, *, need: str = "inget") -> Reply:
    """The decision given, then "Vilket behov svarar insatsen mot?" (issue 21: asked because the
    example's Förskolenämnden has competence needs) answered with `need` ("inget": none); the
    one reply to that answer (the confirmation, as a rule)."""
    [question] = chat.say(decision)
    assert question.text == need_question(), question.text
    [reply] = chat.say(need)
    return reply
