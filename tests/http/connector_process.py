"""The connector stand-in (tests/http/harness.py: ThrottlingConnectorStub) in a
process of its own, as the real service is: when several bot processes send
at once, the stand-in's own event loop must not share a core's GIL with the
test's or bench's work, or its clock and its answers would lag behind what it
measures.

    with ConnectorProcess(per_conversation_rate=7, global_rate=None, tenant_rate=50) as stub:
        ... stub.url ...
        log = stub.call("send_log")

`call(name, *args)` runs the stand-in's method `name` there and returns its
result, which must pickle (hence send_log, throttled_log, arrival_log: the
records without their bodies). Times are time.monotonic() of the stand-in's
process: on Linux the same clock as every other process's.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

_STOP = "stop"


def _serve(conn: Any, kwargs: dict[str, Any]) -> None:
    from tests.http.harness import ThrottlingConnectorStub

    stub = ThrottlingConnectorStub(**kwargs).start()
    conn.send(stub.url)
    while True:
        name, args = conn.recv()
        if name == _STOP:
            stub.stop()
            conn.send((True, None))
            return
        try:
            conn.send((True, getattr(stub, name)(*args)))
        except Exception as problem:  # noqa: BLE001 - the caller raises it
            conn.send((False, f"{type(problem).__name__}: {problem}"))


class ConnectorProcess:
    """A ThrottlingConnectorStub(**kwargs) in a child process (see the module)."""

    def __init__(self, **kwargs: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, kwargs), daemon=True)
        self._process.start()
        if not self._conn.poll(30):
            self._process.kill()
            raise RuntimeError("the connector stand-in's process did not start")
        self.url: str = self._conn.recv()

    def call(self, name: str, *args: Any) -> Any:
        self._conn.send((name, args))
        ok, value = self._conn.recv()
        if not ok:
            raise RuntimeError(f"the connector stand-in's {name} failed: {value}")
        return value

    def stop(self) -> None:
        if self._process.is_alive():
            try:
                self.call(_STOP)
            except (EOFError, OSError):
                pass
            self._process.join(10)
        if self._process.is_alive():
            self._process.kill()

    def __enter__(self) -> ConnectorProcess:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stop()
