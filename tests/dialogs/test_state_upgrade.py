"""Review finding 8: a dialog in progress saved before an upgrade that changed
its steps (issue 17 added the decision and the dates to the measure dialog and
the implausible-amount question to the follow-up) is not resumed at the wrong
step: it is stopped, the person told so in Swedish, and nothing is saved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.model import Role
from dialogs import state_codec, texts
from tests.dialogs.conftest import Chat, counts

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
