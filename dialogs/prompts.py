"""Prompts and validators shared by the dialogs: choices and yes/no in Swedish
(the SDK's ChoicePrompt and ConfirmPrompt recognisers are English), and the
retry prompt that says why an answer was refused.

A choice is a JSON dict {"key": str, "label": str, "names": [str, ...]}: the
key is returned, the label shown, and the label or any of the names (or the
number, or a close enough spelling) accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from microsoft_agents.activity import ActionTypes, Activity, Attachment, CardAction, InputHints
from microsoft_agents.hosting.core import MessageFactory
from microsoft_agents.hosting.dialogs import PromptOptions, PromptValidatorContext
from rapidfuzz import fuzz

from core import vocabulary
from core.lookup import distinctive
from core.model import normalise
from dialogs import texts
from dialogs.steps import validations_of
from dialogs.understanding import Intent, match_needs

TEXT_PROMPT = "TextPrompt"
CHOICE_PROMPT = "ChoicePrompt"
YES_NO_PROMPT = "YesNoPrompt"

MAX_SUGGESTED = 3
"""Suggested-action buttons at most: Teams shows only the first three of a message's
suggested actions, so a longer list is numbered in the text instead (answered by
number or name), lest the fourth choice seem not to exist."""
MAX_BUTTON_TITLE = 60
FUZZY_CHOICE = 85.0

_YES = vocabulary.YES  # the words people type: core.vocabulary
_NONE = vocabulary.NONE


def question(text: str, actions: Sequence[str] = (), attachments: Sequence[Attachment] = ()) -> Activity:
    """A message that expects an answer, with optional imBack buttons and cards.

    Buttons for the first MAX_SUGGESTED actions only (all Teams would show): a caller with
    more choices lists them all in the text, numbered."""
    if actions:
        buttons = [
            CardAction(type=ActionTypes.im_back, title=_button_title(a), value=a)
            for a in actions[:MAX_SUGGESTED]
        ]
        activity = MessageFactory.suggested_actions(buttons, text, None, InputHints.expecting_input)
    else:
        activity = MessageFactory.text(text, None, InputHints.expecting_input)
    if attachments:
        activity.attachments = list(attachments)
    return activity


def _button_title(text: str) -> str:
    return text if len(text) <= MAX_BUTTON_TITLE else text[: MAX_BUTTON_TITLE - 1] + "…"


def text_options(text: str, *, validations: dict[str, Any] | None = None) -> PromptOptions:
    return PromptOptions(
        prompt=question(text),
        retry_prompt=question(f"{texts.TEXT_ONLY} {text}"),
        validations=validations or {},
    )


def refuse(prompt_context: PromptValidatorContext, reason: str) -> bool:
    """Set the retry prompt to the reason followed by the question again; return False."""
    prompt = prompt_context.options.prompt
    again = prompt.text if prompt is not None and prompt.text else ""
    retry = prompt.model_copy(deep=True) if prompt is not None else question("")
    retry.text = f"{texts.plain(reason)}\n\n{again}".strip()  # a reason may quote the answer
    retry.attachments = None  # type: ignore[assignment]  # the SDK types it a list; None leaves it out of the JSON
    retry.input_hint = InputHints.expecting_input
    prompt_context.options.retry_prompt = retry
    return False


def answer_text(prompt_context: PromptValidatorContext) -> str | None:
    """The typed answer, or None when the message carried no text (a card, a file)."""
    if not prompt_context.recognized.succeeded:
        return None
    value = prompt_context.recognized.value
    return value if isinstance(value, str) else None


# --- choices ---------------------------------------------------------------------


def choice(key: str, label: str, names: Sequence[str] = ()) -> dict[str, Any]:
    return {"key": key, "label": label, "names": [n for n in names if n]}


def choice_options(
    text: str, choices: Sequence[dict[str, Any]], *, allow_none: bool = False, listed: bool = False
) -> PromptOptions:
    """`listed`: `text` already lists the choices, numbered (else they are
    numbered under it when there are more than Teams shows as buttons)."""
    labels = [c["label"] for c in choices]
    actions = [*labels, texts.NONE_OF_THESE] if allow_none else labels
    if len(actions) > MAX_SUGGESTED:
        actions = []
        if not listed:
            text = texts.numbered(text, labels, allow_none=allow_none)
    return PromptOptions(
        prompt=question(text, actions),
        retry_prompt=question(f"{texts.CHOICE_RETRY} {text}", actions),
        validations={"choices": list(choices), "allow_none": allow_none},
    )


def did_you_mean_options(choices: Sequence[dict[str, Any]], *, allow_none: bool = False) -> PromptOptions:
    """ "Menade du …?" over close candidates, each listed once, numbered. Another name
    typed there is a new search (the result is SEARCH: the dialog ends with `search_again`)."""
    labels = [c["label"] for c in choices]
    text = texts.did_you_mean(labels, allow_none=allow_none)
    options = choice_options(text, choices, allow_none=allow_none, listed=len(labels) > 1)
    validations_of(options)["search"] = True
    return options


SEARCH = "__search__"
"""The result of a "Menade du …?" answered with another name: it is searched anew."""


def search_again(kind: Intent, *, now: bool = False) -> dict[str, Any]:
    """What a dialog ends with when its "Menade du …?" was answered "nej" (`now` False:
    the main dialog asks for the name again and searches the answer as `kind`) or with
    another name (`now`: the message itself is searched as `kind`)."""
    return {"search_again": kind.value, "now": now}


def match_choice(text: str, choices: Sequence[dict[str, Any]]) -> int | None:
    """The index of the choice `text` names: its number, its label or a name (any case),
    or the one clearly closest spelling; None when unclear."""
    raw = text.strip().rstrip(".").strip()
    if raw.isdigit():
        number = int(raw)
        return number - 1 if 1 <= number <= len(choices) else None
    key = normalise(raw)
    if not key:
        return None
    for i, c in enumerate(choices):
        if any(normalise(n) == key for n in (c["label"], c["key"], *c.get("names", ()))):
            return i
    scores = sorted(
        (
            (max(_spelling(key, normalise(n)) for n in (c["label"], *c.get("names", ()))), i)
            for i, c in enumerate(choices)
        ),
        reverse=True,
    )
    if scores and scores[0][0] >= FUZZY_CHOICE and (len(scores) == 1 or scores[1][0] < scores[0][0] - 5):
        return scores[0][1]
    return None


def _spelling(typed: str, name: str) -> float:
    """How closely `typed` spells `name` (0-100): all of it with typos, its beginning
    or a part of it, or its words in another order. Not WRatio: its partial token
    matching scored a whole sentence ("jag vill lämna en uppföljning") 85 against a
    long title that shares two of its words. Generic endings are left out
    (core.lookup.distinctive), and a short name (a code) is only taken whole:
    "gymnasienämnden" was read as Miljönämnden for "mn" and "nämnden"."""
    typed, name = distinctive(typed), distinctive(name)  # "nämnden" shared says nothing
    if not typed or not name:
        return 0.0
    scores = [fuzz.ratio(typed, name), fuzz.token_set_ratio(typed, name)]
    if min(len(typed), len(name)) >= 5:  # a code is no "part" of a word: "mn" in "gymnasienämnden"
        scores.append(fuzz.partial_ratio(typed, name))
    return max(scores)


def _none_of_them(key: str, validations: dict[str, Any]) -> bool:
    """Whether the answer (normalised) is "ingen" where that is an answer."""
    return bool(validations.get("allow_none")) and (key in _NONE or key == texts.NONE_OF_THESE)


def _needs_named(text: str, validations: dict[str, Any]) -> list[str]:
    """The needs an answer names where the choices are competence needs (validations "needs":
    [{"key", "role", "kind"}], issue 21): dialogs.understanding.match_needs."""
    needs = validations.get("needs")
    if not isinstance(needs, list):
        return []
    offered = [
        (str(n["key"]), str(n["role"]), str(n["kind"]))
        for n in needs
        if isinstance(n, dict) and {"key", "role", "kind"} <= n.keys()
    ]
    return match_needs(text, offered)


def need_choices(needs: Sequence[tuple[str, str, str]]) -> list[dict[str, str]]:
    """The needs of a choice of competence needs as its validations keep them (JSON): each need's
    key, role and kind, for an answer by role or kind ("förskollärare", "introduktion")."""
    return [{"key": key, "role": role, "kind": kind} for key, role, kind in needs]


def _refuse_which(
    prompt_context: PromptValidatorContext, choices: Sequence[dict[str, Any]], keys: list[str]
) -> bool:
    """An answer that names several needs: which of them, each listed (buttons for a few)."""
    labels = [str(c["label"]) for c in choices if c["key"] in keys]
    prompt_context.options.retry_prompt = question(texts.which_need(labels), labels)
    return False


async def choice_validator(prompt_context: PromptValidatorContext) -> bool:
    """Accepts a choice (the result is its key) or, when allowed, "ingen" (the result is None);
    of competence needs also by role or kind, asking which where several fit (issue 21)."""
    validations = validations_of(prompt_context.options)
    choices = validations.get("choices", [])
    text = answer_text(prompt_context)
    if text is None:
        return refuse(prompt_context, texts.TEXT_ONLY)
    key = normalise(text).strip(" .!")
    if len(choices) == 1 and key in _YES:
        prompt_context.recognized.value = choices[0]["key"]
        return True
    if _none_of_them(key, validations):
        prompt_context.recognized.value = None
        return True
    named = [k for k in _needs_named(text, validations) if any(c["key"] == k for c in choices)]
    if len(named) > 1:
        return _refuse_which(prompt_context, choices, named)
    if named:
        prompt_context.recognized.value = named[0]
        return True
    index = match_choice(text, choices)
    place = _place(text) if index is None else None
    if place is not None:  # "den andra", "nummer två", "sista": by its place in the list
        index = len(choices) - 1 if place == -1 else place - 1
        if not 0 <= index < len(choices):
            return refuse(prompt_context, texts.CHOICE_RETRY)
    if index is None and _about_the_choices(key):  # "ingen av dem" where a choice is needed, "bägge"
        return refuse(prompt_context, texts.CHOICE_RETRY)
    if index is None and validations.get("search") and _a_name(text):
        prompt_context.recognized.value = SEARCH  # another name: a new search, not "which of these?"
        return True
    if index is None:
        return refuse(prompt_context, texts.CHOICE_RETRY)
    prompt_context.recognized.value = choices[index]["key"]
    return True


def _place(text: str) -> int | None:
    """The place an answer to a choice names ("den andra": 2, "nummer 3": 3, "sista": -1), or None."""
    words = [w for w in normalise(text).strip(" .!?").split() if w not in vocabulary.POSITION_FILLERS]
    if len(words) != 1:
        return None
    word = words[0]
    if word.isdigit():
        return int(word)
    return vocabulary.ORDINALS.get(word) or vocabulary.NUMBER_WORDS.get(word)


def _about_the_choices(key: str) -> bool:
    """Whether an answer speaks of the choices rather than naming one: "ingen av dem", "bägge"."""
    return key in _NONE or any(word in vocabulary.BOTH for word in key.split())


def _a_name(text: str) -> bool:
    """Whether an answer to "Menade du …?" reads as a name: a word of five letters or more,
    and no yes or no ("grundskolenämnden", not "den blåa", "3" or "nej")."""
    key = normalise(text).strip(" .!?")
    return parse_yes_no(text) is None and any(len(w) >= 5 and w.isalpha() for w in key.split())


def asks_something_else(prompt_id: str, options: PromptOptions | None, text: str, intent: Intent) -> bool:
    """Whether `text`, sent while the prompt `prompt_id` waits, is a new request
    rather than an answer: the prompt takes one of a few answers (a choice, yes
    or no), `text` is none of them, and its keywords name a request (`intent`,
    from `intent_of`: "ny insats", "saldo GVN", "uppföljning"). Free-text
    questions (a description, a note) never count: any text answers them."""
    if prompt_id not in (CHOICE_PROMPT, YES_NO_PROMPT) or intent == Intent.UNKNOWN:
        return False
    if prompt_id == YES_NO_PROMPT:
        return parse_yes_no(text) is None
    validations = validations_of(options)
    if _none_of_them(normalise(text).strip(" .!"), validations) or _needs_named(text, validations):
        return False
    return match_choice(text, validations.get("choices", [])) is None


# --- yes / no ---------------------------------------------------------------------


def parse_yes_no(text: str) -> bool | None:
    """Yes, no or neither, by core.vocabulary (the same words as the cards and the command line)."""
    return vocabulary.yes_no(text)


def yes_no_options(text: str, attachments: Sequence[Attachment] = ()) -> PromptOptions:
    actions = [texts.YES, texts.NO]
    return PromptOptions(
        prompt=question(text, actions, attachments),
        retry_prompt=question(f"{texts.YES_NO_RETRY} {text}", actions),
    )


async def yes_no_validator(prompt_context: PromptValidatorContext) -> bool:
    text = answer_text(prompt_context)
    answer = parse_yes_no(text) if text is not None else None
    if answer is None:
        return refuse(prompt_context, texts.YES_NO_RETRY)
    prompt_context.recognized.value = answer
    return True
