"""The SDK's `Storage` interface over storage.bot_state: dialog and user
state in the database, with optimistic concurrency.

Dialog state holds SDK objects (DialogState, PromptOptions, Activity); they
are written as JSON through dialogs.state_codec.

The version a turn read travels inside the state document under "_version";
a write names it, and a write whose version is stale is refused (StaleWrite)
rather than silently overwriting another turn's state.

A turn's state can be read ahead, with the claim of the activity
(storage.turn_start.begin_turn): `prefetched` hands those rows to the turn's
first read of the same keys instead of a second query.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from microsoft_agents.hosting.core.storage import Storage, StoreItem
from sqlalchemy.engine import Engine

from dialogs import state_codec
from storage.bot_state import StateItem, StateStore

VERSION = "_version"
StoreItemT = TypeVar("StoreItemT", bound=StoreItem)

_PREFETCHED: ContextVar[tuple[SqlStorage, dict[str, StateItem | None]] | None] = ContextVar(
    "kompetensbot_prefetched_state", default=None
)


class SqlStorage(Storage):
    def __init__(self, engine: Engine):
        self.engine = engine
        self.store = StateStore(engine)

    @contextmanager
    def prefetched(self, keys: list[str], found: dict[str, StateItem]) -> Iterator[None]:
        """Within the block (one turn's task), the first read of `keys` is answered
        from `found` (the rows read ahead; a key not in it is not stored)."""
        token = _PREFETCHED.set((self, {key: found.get(key) for key in keys}))
        try:
            yield
        finally:
            _PREFETCHED.reset(token)

    def _take_prefetched(self, keys: list[str]) -> dict[str, StateItem] | None:
        current = _PREFETCHED.get()
        if current is None or current[0] is not self:
            return None
        ahead = current[1]
        if not all(key in ahead for key in keys):
            return None
        taken = {key: ahead.pop(key) for key in keys}  # once: a later read asks the database
        return {key: item for key, item in taken.items() if item is not None}

    async def read(
        self, keys: list[str], *, target_cls: type[StoreItemT], **kwargs: Any
    ) -> dict[str, StoreItemT]:
        if not keys:
            raise ValueError("Storage.read(): keys are required")
        items = self._take_prefetched(list(keys))
        if items is None:
            items = await asyncio.to_thread(self.store.read, list(keys))
        return {
            key: target_cls.from_json_to_store_item(  # type: ignore[misc]  # the SDK's classmethod is typed to return StoreItem, not the class it is called on
                {**state_codec.load(item.data), VERSION: item.version}
            )
            for key, item in items.items()
        }

    async def write(self, changes: dict[str, StoreItem]) -> None:
        if not changes:
            raise ValueError("Storage.write(): changes are required")
        for key, item in changes.items():
            data = state_codec.dump(dict(item.store_item_to_json()))
            expected = data.pop(VERSION, None)
            version = await asyncio.to_thread(self.store.write, key, data, expected)
            state = getattr(item, "state", None)
            if isinstance(state, dict):  # the next save in this turn names the new version
                state[VERSION] = version

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("Storage.delete(): keys are required")
        await asyncio.to_thread(self.store.delete, list(keys))
