"""What the outbound, identity and channel tests share: a trap (a listening
socket on another loopback address that counts the connections it gets),
activities as an attacker shapes them, and the stored references."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from storage.tables import ConversationRefRow, table

REFS = table(ConversationRefRow)  # typed columns (SQLModel types ConversationRefRow.user_id as a str)


class Trap:
    """A listening socket on 127.0.0.2 (an address the bot is never told to
    use): every connection it accepts is counted and closed at once. A test
    names it as the "foreign" serviceUrl and asserts it got nothing."""

    def __init__(self, host: str = "127.0.0.2") -> None:
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self._socket.listen(16)
        self._socket.settimeout(0.2)
        self.host, self.port = self._socket.getsockname()[:2]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            connection.close()

    def __enter__(self) -> Trap:
        self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._stop.set()
        self._thread.join(2)
        self._socket.close()


def stored_references(engine: Engine) -> list[dict[str, Any]]:
    """Every stored conversation reference: conversation, user, type and serviceUrl."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                REFS.c.conversation_id,
                REFS.c.user_id,
                REFS.c.conversation_type,
                REFS.c.reference,
            )
        ).all()
    return [
        {
            "conversation": r.conversation_id,
            "user": r.user_id,
            "type": r.conversation_type,
            "serviceUrl": json.loads(r.reference).get("serviceUrl"),
        }
        for r in rows
    ]
