"""Errors as values (beancount style) and the exceptions that carry them.

Every message is Swedish and meant for the user: it names the problem and,
where there is one, the allowed form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RuleError:
    """One broken rule or one bad input.

    Attributes:
      code: a stable machine-readable code, e.g. "fund_exceeded".
      message: the Swedish sentence shown to the user.
      field: the input field or column the problem is in, if any.
    """

    code: str
    message: str
    field: str | None = None


class DomainError(Exception):
    """A refused operation: carries every problem found, not just the first."""

    def __init__(self, errors: RuleError | Sequence[RuleError]):
        self.errors: tuple[RuleError, ...] = (errors,) if isinstance(errors, RuleError) else tuple(errors)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return " ".join(e.message for e in self.errors)

    @property
    def code(self) -> str:
        return self.errors[0].code if self.errors else "error"


class InputError(DomainError):
    """Input that could not be understood (an amount, a date, a unit name)."""


class Ambiguous(InputError):
    """Input that fits several things, or one only fairly well (a person's name, issue 22):
    `choices` (key, label) to ask which; `typed`: the text as typed."""

    def __init__(self, errors: RuleError, typed: str, choices: Sequence[tuple[str, str]]):
        super().__init__(errors)
        self.typed = typed
        self.choices = tuple(choices)


class RuleViolation(DomainError):
    """Input that was understood but breaks a rule of the domain."""


class PermissionDenied(DomainError):
    """The user's roles do not allow the operation."""


class NotFound(DomainError):
    """A referenced unit, measure, fund or decision does not exist."""


ECHO_LIMIT = 80
"""Characters of a person's own text that a message quotes back at most."""


def echo(text: str) -> str:
    """A person's text as a message quotes it: stripped, and cut at ECHO_LIMIT
    characters ("…" after), so a pasted page is not sent back whole."""
    shown = text.strip()
    return shown if len(shown) <= ECHO_LIMIT else shown[: ECHO_LIMIT - 1] + "…"


def input_error(code: str, message: str, field: str | None = None) -> InputError:
    return InputError(RuleError(code, message, field))


class AlreadySaved(DomainError):
    """A write whose `once` key was used before: it was saved then, not now.
    `saved` names what that write saved: ("measure", id), ("followup",
    measure id, period), ("entry", seq); None when not known (a key stored
    before this was recorded)."""

    def __init__(self, errors: RuleError, saved: tuple[Any, ...] | None = None):
        super().__init__(errors)
        self.saved = saved
