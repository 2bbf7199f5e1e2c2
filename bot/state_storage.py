"""The SDK's `Storage` interface over storage.bot_state: dialog and user
state in the database, with optimistic concurrency.

Dialog state holds SDK objects (DialogState, PromptOptions, Activity); they
are written as JSON through dialogs.state_codec.

The version a turn read travels inside the state document under "_version";
a write names it, and a write whose version is stale is refused (StaleWrite)
rather than silently overwriting another turn's state.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from microsoft_agents.hosting.core.storage import Storage, StoreItem
from sqlalchemy.engine import Engine

from dialogs import state_codec
from storage.bot_state import StateStore

VERSION = "_version"
StoreItemT = TypeVar("StoreItemT", bound=StoreItem)


class SqlStorage(Storage):
    def __init__(self, engine: Engine):
        self.store = StateStore(engine)

    async def read(
        self, keys: list[str], *, target_cls: type[StoreItemT], **kwargs: Any
    ) -> dict[str, StoreItemT]:
        if not keys:
            raise ValueError("Storage.read(): keys are required")
        items = await asyncio.to_thread(self.store.read, list(keys))
        return {
            key: target_cls.from_json_to_store_item(  # type: ignore[misc]
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
