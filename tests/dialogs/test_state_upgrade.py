"""Review finding 8: a dialog in progress saved before an upgrade that changed
its steps (issue 17 added the decision and the dates to the measure dialog and
the implausible-amount question to the follow-up) is not resumed at the wrong
step: it is stopped, the person told so in Swedish, and nothing is saved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.model import Role
from dialogs import state_codec, texts
from tests.dialogs.conftest import Chat, counts, decide

OLD_STATES = json.loads((Path(__file__).parent / "old_dialog_states.json").read_text(encoding="utf-8"))
KEY = "test/conversations/convo1"
"""The harness's conversation: the key the old state was saved under."""


def _with_old_state(chat: Chat, name: str) -> Chat:
    chat.storage._memory[KEY] = json.dumps(OLD_STATES[name], ensure_ascii=False)
    return chat


@pytest.mark.parametrize(
    ("user", "role", "unit", "old", "answer"),
    [
        ("hanna", Role.HR, "FSKN", "submit_at_confirm", "ja"),  # the old summary's "ja": it would save
        ("anna", Role.CHEF, "GVN", "followup_at_forecast", "4 mkr"),
    ],
)
def test_a_dialog_saved_before_the_upgrade_is_stopped_with_a_note(
    chat_as, services, user, role, unit, old, answer
) -> None:
    """Issue 17 review finding 8: the answer to a question asked before the upgrade gets
    the note (it resumed at another step: a wrong question or an error), nothing is
    saved, and the next message starts afresh."""
    before = counts(services)
    chat = _with_old_state(chat_as(user, role, unit), old)
    [note] = chat.say(answer)
    assert note.text == texts.DIALOG_STOPPED_BY_UPDATE
    assert note.text.startswith("Det du höll på med avbröts när kompetensbot uppdaterades")
    assert counts(services) == before
    stored = json.loads(chat.storage._memory[KEY])
    assert "DialogState" not in stored  # dropped, not kept to be told again
    if old == "submit_at_confirm":
        assert chat.say("ny insats")[-1].text == texts.ASK_TITLE  # the new dialog, from its start
    else:
        assert chat.say("jag vill lämna en uppföljning")[-1].text.startswith(texts.ASK_MEASURE)
    assert chat.say("avbryt")  # and it goes on as usual
    assert counts(services) == before


def test_a_stack_saved_now_is_resumed() -> None:
    """The layout mark: a stack saved by this version loads as saved; an unmarked
    (older) one loads as OutdatedDialogState, an empty old one as nothing to say."""
    from microsoft_agents.hosting.dialogs import DialogInstance, DialogState

    state = DialogState([DialogInstance("MainDialog", {"stepIndex": 1})])
    data = json.loads(json.dumps(state_codec.dump({"DialogState": state})))
    assert data["DialogState"]["layout"] == state_codec.LAYOUT
    back = state_codec.load(data)["DialogState"]
    assert type(back) is DialogState and back.dialog_stack[0].id == "MainDialog"
    old = state_codec.load(OLD_STATES["submit_at_confirm"])["DialogState"]
    assert isinstance(old, state_codec.OutdatedDialogState) and not old.dialog_stack
    empty = state_codec.load({"DialogState": {state_codec.TAG: "DialogState", "dialog_stack": []}})
    assert type(empty["DialogState"]) is DialogState


# --- review of issue 19, item 10: old or forged state is checked, never a traceback --------


def _forge(chat: Chat, change) -> None:
    """Change the stored conversation state as JSON (`change` gets the decoded document)."""
    [key] = chat.storage._memory
    document = json.loads(chat.storage._memory[key])
    change(document)
    chat.storage._memory[key] = json.dumps(document, ensure_ascii=False)


def _set_everywhere(document, key: str, value) -> int:
    """Set `key` to `value` in every dict of `document` that has it; how many."""
    found = 0
    if isinstance(document, dict):
        if key in document:
            document[key] = value
            found += 1
        for inner in document.values():
            found += _set_everywhere(inner, key, value)
    elif isinstance(document, list):
        for inner in document:
            found += _set_everywhere(inner, key, value)
    return found


def _measure_at_confirmation(chat: Chat) -> None:
    chat.say("ny insats")
    for answer in ("Mentorskap", "-", "-", "-", "-", "2025-12-31", "-", "300 tkr"):
        chat.say(answer)
    assert decide(chat, "FSKN 2025-02-05 § 5").text == texts.CONFIRM_MEASURE  # no need (issue 21)


@pytest.mark.parametrize("queue", [[], ["ingen_sådan"], "inte en lista"])
def test_a_bad_edit_queue_goes_on_as_usual(chat_as, queue) -> None:
    chat = chat_as("hanna", Role.HR, "FSKN")
    _measure_at_confirmation(chat)
    assert chat.say("ändra titeln")[0].text == texts.ASK_TITLE  # the queue: back to the confirmation
    _forge(chat, lambda d: _set_everywhere(d, "edit_queue", queue))
    [reply] = chat.say("Ny titel")
    assert reply.text == texts.ASK_DESCRIPTION  # on from the title, as a first time through


def test_an_unknown_field_to_change_is_asked_again(chat_as) -> None:
    chat = chat_as("hanna", Role.HR, "FSKN")
    _measure_at_confirmation(chat)
    assert chat.say("nej")[0].text == texts.NOT_SAVED_FORM_BACK

    def forge(document) -> None:
        forged = [c for c in _all(document, "choices") if c and isinstance(c[0], dict)]
        assert forged
        for choices in forged:
            choices[0]["key"] = "ingen_sådan"

    _forge(chat, forge)
    [again] = chat.say("nämnd")
    assert again.text == texts.NOT_SAVED_FORM_BACK  # asked again
    assert chat.say("belopp")[0].text.startswith("Hur mycket")


def _all(document, key: str) -> list[Any]:
    found: list[Any] = []
    if isinstance(document, dict):
        if key in document:
            found.append(document[key])
        for inner in document.values():
            found += _all(inner, key)
    elif isinstance(document, list):
        for inner in document:
            found += _all(inner, key)
    return found


def test_an_unknown_kind_to_search_is_ignored(chat_as, monkeypatch) -> None:
    from tests.dialogs.test_dialog_traps import _one_candidate

    _one_candidate(monkeypatch)
    chat = chat_as("sara", Role.CITY_OFFICE)
    chat.say("saldo förskolnämnd")
    assert chat.say("nej")[0].text == texts.SEARCH_AGAIN
    assert _set_everywhere(json.loads(next(iter(chat.storage._memory.values()))), "heard_as", "x") == 1
    _forge(chat, lambda d: _set_everywhere(d, "heard_as", "ingen_sådan_fråga"))
    replies = chat.say("grundskolenämnden")
    assert replies and all(r.text for r in replies)  # an answer in Swedish, no ValueError


@pytest.mark.parametrize(
    "record",
    [
        {"at": "2025-10-01T10:00:00+00:00", "title": "X"},  # no dialog, no "what"
        {"dialog": [], "what": "en påbörjad insats", "at": "i går"},
        "inte ett record",
    ],
)
def test_a_forged_kept_dialog_is_nothing_to_resume(chat_as, record) -> None:
    chat = chat_as("hanna", Role.HR, "FSKN")
    _measure_at_confirmation(chat)
    chat.say("saldo förskolan")  # kept
    _forge(chat, lambda d: d.__setitem__("KeptDialog", record))
    assert chat.say("fortsätt")[0].text == texts.NOTHING_TO_RESUME


def test_a_kept_dialog_that_is_no_form_is_nothing_to_resume(chat_as) -> None:
    chat = chat_as("hanna", Role.HR, "FSKN")
    _measure_at_confirmation(chat)
    chat.say("saldo förskolan")
    _forge(
        chat, lambda d: _set_everywhere(d["KeptDialog"]["dialog"]["dialog_stack"][0], "id", "NoSuchDialog")
    )
    assert chat.say("fortsätt")[0].text == texts.NOTHING_TO_RESUME


def test_a_forged_status_guess_is_not_taken(chat_as, services) -> None:
    before = counts(services)
    chat = chat_as("anna", Role.CHEF, "GVN")
    chat.say("uppföljning Yrkeslärarsatsning")
    chat.say("2025-10")
    chat.say("påbörjd")  # refused, with a guess kept
    _forge(chat, lambda d: _set_everywhere(d, "guess", "Inte en status"))
    [again] = chat.say("ja")
    assert texts.ASK_STATUS in again.text  # asked again, not "Inte en status" taken
    assert chat.say("pågår")[0].text == texts.ASK_SPENT
    assert counts(services) == before
