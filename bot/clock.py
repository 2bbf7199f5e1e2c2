"""One clock for the bot and the command line (issue 17 item 6).

The settings' date (`serve --today`, KOMPETENSBOT_TODAY; only for demos and
tests, production refuses it with credentials) is "today" everywhere when it
is set: follow-ups and other ledger rows are stamped on that date, figures
"hittills" count what was reported by then, and the command line's answers
that depend on today (`--as-of`'s default) take it. Without it, the real date.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime

from core.calendar import swedish_date
from core.errors import InputError, RuleError

TODAY_VARIABLE = "KOMPETENSBOT_TODAY"


def settings_today(env: Mapping[str, str] | None = None) -> date | None:
    """The date set in KOMPETENSBOT_TODAY, or None (the real date)."""
    text = (os.environ if env is None else env).get(TODAY_VARIABLE, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(
            RuleError(
                "bad_today",
                f'{TODAY_VARIABLE} ska vara ett datum som 2025-06-05, inte "{text[:40]}".',
                TODAY_VARIABLE,
            )
        ) from None


def today(fixed: date | None = None) -> date:
    """Today: `fixed` (the settings' date a caller already read), else
    KOMPETENSBOT_TODAY, else the real date in Sweden (whatever the server's zone)."""
    if fixed is not None:
        return fixed
    return settings_today() or swedish_date(utcnow())


def utcnow() -> datetime:
    return datetime.now(UTC)


def clock_for(fixed: date | None) -> Callable[[], datetime]:
    """The time stamps of writes: the real time, or with a fixed date that
    date at the real time of day (UTC), so rows written during a demo of the
    2025 example are dated in it, still in the order they were written."""
    if fixed is None:
        return utcnow

    def stamp() -> datetime:
        return datetime.combine(fixed, utcnow().time(), UTC)

    return stamp
