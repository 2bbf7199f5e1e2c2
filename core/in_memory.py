"""Answering in place: a question the turn can answer from what it has already
read runs on the event loop (dialogs.turn.call runs the methods of an
in-memory view, dialogs.ports.InMemory, without a thread hop), so it must
never read the database, which would block every other turn meanwhile.

`IN_PLACE` names the method running in place (None: none is); the storage
refuses a database connection while it is set (storage.db.make_engine:
`ReadInPlace`), so a view method that starts reading the database fails
loudly, in the tests first. A view asked something it cannot answer from
memory (another person, another day) raises `NotInMemory`, naming the method
that answers it from the database; `call` runs that one on a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

IN_PLACE: ContextVar[str | None] = ContextVar("kompetensbot.in_place", default=None)
"""The qualified name of the method running in place on the event loop, or None."""


class ReadInPlace(RuntimeError):
    """A method running in place (`IN_PLACE`) asked for a database connection."""

    def __init__(self, method: str) -> None:
        super().__init__(
            f"{method} runs in place on the event loop (it is an in-memory view's: "
            "core.in_memory) yet asked for a database connection: answer from what "
            "the turn has read, or raise NotInMemory so that it runs on a worker thread"
        )
        self.method = method


class NotInMemory(LookupError):
    """What a view raises, before reading anything, for a question it cannot
    answer from memory: `instead` answers it (from the database) when called
    with the same arguments."""

    def __init__(self, reason: str, instead: Callable[..., Any]) -> None:
        super().__init__(reason)
        self.instead = instead
