"""Which answer each kind of question gets: one registry, filled beside the answers.

A kind of question (core.vocabulary.Intent, with its words in core.vocabulary.QUESTIONS)
is answered either at once, by a function that sends the reply (`@replies(kind)`, or
`canned(kind, text)` for a fixed text), or by beginning a dialog (`@begins(kind,
SomeDialog)` on a function that turns what was understood into the dialog's options).
The main dialog routes every message through `answer_for(kind)`; it has no branch per
kind. Adding a question: its words in core/vocabulary.py, its answer (a function here
in dialogs/quick_answers.py, or a dialog module with `@begins`) and its texts in
dialogs/texts.py; nothing else (README: "Adding a question").

The entries are registered when their modules are imported; `load()` imports the
modules listed in `ANSWER_MODULES`, so "who answers STATUS?" is found by reading that
list (tests/dialogs/test_answers.py fails naming a module that registers an answer
but is not listed).
`problems()` names every kind without exactly one answer and every answer whose kind
has no words (tests/dialogs/test_answers.py holds it at none).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.dialogs import Dialog

from core import vocabulary
from core.vocabulary import Intent, Phrases
from dialogs.understanding import Understanding

Route = tuple[str, dict[str, Any]]
"""A dialog's id and the options it begins with."""


class DialogClass(Protocol):
    """A dialog's class, constructed without arguments (its id is its name)."""

    __name__: str

    def __call__(self) -> Dialog: ...


Send = Callable[[TurnContext, Understanding], Awaitable[None]]
"""An answer given in the turn: sends its reply."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A question answered at once, in the turn it is asked, by `send`."""

    kind: Intent
    send: Send
    where: str
    """The answer's module and name, for the guard test's messages."""


@dataclass(frozen=True, slots=True)
class Begin:
    """A question answered by beginning a dialog.

    Attributes:
      kind: the question.
      dialog: the dialog's class (constructed without arguments; the main dialog adds it).
      route: what was understood → the dialog to begin (its id; usually `dialog`'s) and its options.
      saves: the dialog saves something: leaving it for another question keeps what was
        answered for a day ("fortsätt" resumes it), and asking its question again while it
        runs goes on where it is.
      where: the route's module and name.
    """

    kind: Intent
    dialog: DialogClass
    route: Callable[[Understanding], Route]
    saves: bool
    where: str

    @property
    def dialog_id(self) -> str:
        return self.dialog.__name__


Answer = Reply | Begin

_REGISTERED: list[Answer] = []
_SendT = TypeVar("_SendT", bound=Send)
_RouteT = TypeVar("_RouteT", bound=Callable[[Understanding], Route])


def _where(function: Callable[..., object]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def replies(kind: Intent) -> Callable[[_SendT], _SendT]:
    """Register the decorated `async def answer(context, heard)` as `kind`'s answer, given at once."""

    def register(send: _SendT) -> _SendT:
        _REGISTERED.append(Reply(kind, send, _where(send)))
        return send

    return register


def begins(kind: Intent, dialog: DialogClass, *, saves: bool = False) -> Callable[[_RouteT], _RouteT]:
    """Register `dialog` as `kind`'s answer; the decorated function gives the dialog's
    options (and may name another registered dialog to begin instead)."""

    def register(route: _RouteT) -> _RouteT:
        _REGISTERED.append(Begin(kind, dialog, route, saves, _where(route)))
        return route

    return register


def canned(kind: Intent, text: str) -> None:
    """Register a fixed text as `kind`'s answer ("tack" → "Varsågod!")."""

    async def send(context: TurnContext, heard: Understanding) -> None:
        await context.send_activity(text)

    send.__qualname__ = f"canned({kind.name})"
    replies(kind)(send)


_loaded = False


ANSWER_MODULES = (
    "dialogs.quick_answers",
    "dialogs.remaining_funds_dialog",
    "dialogs.status_dialog",
    "dialogs.submit_measure_dialog",
    "dialogs.followup_dialog",
    "dialogs.file_offers",
    "dialogs.round_dialog",
    "dialogs.needs_answers",
    "dialogs.substitute_dialog",
)
"""The modules that register answers (`@replies`, `@begins`, `canned`): a new one is added here."""


def load() -> None:
    """Import the modules of `ANSWER_MODULES` once, so that each registers its answers."""
    global _loaded
    if _loaded:
        return
    for name in ANSWER_MODULES:
        importlib.import_module(name)
    _loaded = True


def registered() -> tuple[Answer, ...]:
    """Every registered answer, in the order registered."""
    load()
    return tuple(_REGISTERED)


def answer_for(kind: Intent) -> Answer:
    """`kind`'s answer; the fallback kind's for a kind without one (the guard test keeps there being none)."""
    global _by_kind
    if _by_kind is None or len(_by_kind[0]) != len(_REGISTERED):
        entries = registered()
        by_kind: dict[Intent, Answer] = {}
        for entry in entries:
            by_kind.setdefault(entry.kind, entry)
        _by_kind = (entries, by_kind)
    found = _by_kind[1].get(kind)
    return found if found is not None else _by_kind[1][vocabulary.FALLBACK]


_by_kind: tuple[tuple[Answer, ...], dict[Intent, Answer]] | None = None
"""The registered answers answer_for last saw, and each kind's first."""


def dialogs_begun() -> tuple[DialogClass, ...]:
    """Every dialog a question begins, once each, in the order registered."""
    return tuple(dict.fromkeys(e.dialog for e in registered() if isinstance(e, Begin)))


def saving_dialogs() -> frozenset[str]:
    """The ids of the dialogs that save something (`Begin.saves`)."""
    return frozenset(e.dialog_id for e in registered() if isinstance(e, Begin) and e.saves)


def problems(
    kinds: Iterable[Intent] = Intent,
    questions: Iterable[Phrases] = vocabulary.QUESTIONS,
    answers: Iterable[Answer] | None = None,
    fallback: Intent = vocabulary.FALLBACK,
) -> list[str]:
    """What a half-added question lacks, one line each (none when every kind is whole):
    a kind with no answer or more than one, a kind (the fallback aside) without words in
    the vocabulary, a kind with two rows of words, an answer for a kind that is not one."""
    kinds = list(kinds)
    answers = registered() if answers is None else tuple(answers)
    rows: dict[Intent, int] = {}
    worded: set[Intent] = set()
    for phrases in questions:
        rows[phrases.kind] = rows.get(phrases.kind, 0) + 1
        if phrases.has_words():
            worded.add(phrases.kind)
    found = []
    for kind in kinds:
        given = [a.where for a in answers if a.kind == kind]
        if not given:
            found.append(f"{kind.name}: no answer registered (dialogs.answers: @replies, @begins or canned)")
        elif len(given) > 1:
            found.append(f"{kind.name}: {len(given)} answers registered ({', '.join(given)}); one only")
        if kind != fallback and kind not in worded:
            found.append(f"{kind.name}: no words in core.vocabulary.QUESTIONS")
        if rows.get(kind, 0) > 1:
            found.append(f"{kind.name}: {rows[kind]} rows in core.vocabulary.QUESTIONS; one only")
    for answer in answers:
        if answer.kind not in kinds:
            found.append(f"{answer.where} answers {answer.kind.name}, not a kind in core.vocabulary.Intent")
    return found
