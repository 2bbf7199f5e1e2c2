"""Contract tests: one per private API of a library that our code relies on.

SQLAlchemy, psycopg and the Agents SDK are pinned to a minor version in pyproject.toml. Our
code uses a few of their private names (an underscore, or a function of theirs we copied),
each for a measured reason written beside it. A release may change any of them without
notice; each test here fails on such a change with a message naming the private API, the
library version installed and the file of ours to fix, so an upgrade breaks here, loudly,
and not in production.

A fingerprint test (a hash of a library function we copied) fails on any change to that
function: read the library's new version, carry the change into our copy (or decide it does
not matter), then put the new hash in the test.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
from typing import Any


def broken(api: str, distribution: str, used_by: str, what: str) -> str:
    """The failure message of a contract test."""
    version = importlib.metadata.version(distribution)
    return (
        f"CONTRACT BROKEN: {api} ({distribution} {version}, a private API) {what}. "
        f"It is used by {used_by}: read the library's change, fix that use, then this test."
    )


def fingerprint(obj: Any) -> str:
    """sha256 of the source of a library function or class (the first 16 hex digits)."""
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]
