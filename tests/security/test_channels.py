"""Item 9: money and measures are answered only in a personal chat.

Before: "saldo FSKN" asked in a team channel was answered in the channel,
for every member to read, and in a group chat one person could answer
another person's dialog (the dialog state was the conversation's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from microsoft_agents.activity import Activity

from bot.conversation_state import conversation_state_key
from dialogs import texts
from tests.http.conftest import database_url  # noqa: F401 - the fixture
from tests.http.harness import ConnectorStub, ThrottlingConnectorStub, activity
from tests.http.inprocess import InProcessBot

CHANNEL = "19:kompetens@thread.tacv2;messageid=1700000000000"
GROUP = "19:abc123@thread.v2"
ANNA = "aad-anna"
BERTIL = "aad-bertil"


def in_group(
    text: str, stub_url: str, conversation: str, kind: str, user: str = ANNA, **extra: Any
) -> dict[str, Any]:
    """A message in a team channel or group chat, with the bot @mentioned as Teams sends it."""
    body = activity(
        f"<at>kompetensbot</at> {text}",
        service_url=stub_url,
        conversation_id=conversation,
        user_id=user,
        name=user.removeprefix("aad-").title(),
        **extra,
    )
    body["conversation"]["conversationType"] = kind
    body["conversation"]["isGroup"] = True
    return body


@pytest.fixture
def served(database_url) -> Iterator[tuple[InProcessBot, ConnectorStub]]:  # noqa: F811
    stub = ConnectorStub().start()
    bot = InProcessBot(database_url, demo=True).start()  # anonymous, loopback only
    try:
        yield bot, stub
    finally:
        bot.stop()
        stub.stop()


def test_saldo_asked_in_a_team_channel_is_answered_in_the_personal_chat(served) -> None:
    bot, stub = served
    personal = activity("hej", service_url=stub.url, conversation_id="a:anna-personal", user_id=ANNA)
    assert bot.post(personal)[0] == 202
    before = len(stub.texts("a:anna-personal"))
    status, _ = bot.post(in_group("saldo FSKN", stub.url, CHANNEL, "channel"))
    assert status == 202
    assert stub.texts(CHANNEL) == [texts.ANSWERING_PRIVATELY]
    private = stub.texts("a:anna-personal")[before:]
    assert private and "kr" in private[0] and "FSKN" not in stub.texts(CHANNEL)[0]


def test_without_a_personal_chat_one_is_created_and_the_answer_goes_there(served) -> None:
    bot, stub = served
    status, _ = bot.post(in_group("saldo FSKN", stub.url, GROUP, "groupChat"))
    assert status == 202
    assert stub.texts(GROUP) == [texts.ANSWERING_PRIVATELY]
    [created] = [a for a in stub.received if a.get("members")]  # the create-conversation request
    assert created["members"][0]["id"] == f"29:{ANNA}" and created.get("isGroup") is False
    elsewhere = [
        a
        for a in stub.activities()
        if a.get("type") == "message" and (a.get("conversation") or {}).get("id") not in (GROUP, None)
    ]
    assert elsewhere and "kr" in (elsewhere[0].get("text") or "")


def test_when_no_personal_chat_can_be_made_the_person_is_asked_to_write_directly(database_url) -> None:  # noqa: F811
    with ThrottlingConnectorStub(
        per_conversation_rate=None, global_rate=None, create_statuses={f"29:{ANNA}": 403}
    ) as stub:
        bot = InProcessBot(database_url, demo=True).start()
        try:
            assert bot.post(in_group("saldo FSKN", stub.url, CHANNEL, "channel"))[0] == 202
        finally:
            bot.stop()
        said = [s["activity"].get("text") for s in stub.sends()]
    assert said == [texts.WRITE_TO_ME_DIRECTLY]


def test_help_may_be_answered_in_the_channel(served) -> None:
    bot, stub = served
    assert bot.post(in_group("hjälp", stub.url, CHANNEL, "channel"))[0] == 202
    assert stub.texts(CHANNEL) == [texts.HELP]
    assert [a for a in stub.received if a.get("members")] == []  # no private chat made for it


def test_in_a_group_chat_nobody_answers_another_persons_dialog(served) -> None:
    """Anna starts a new measure from the group chat; Bertil's answer in the same
    chat goes to Bertil's own chat, and Anna's dialog still waits for her."""
    bot, stub = served
    for user, conversation in ((ANNA, "a:anna-personal"), (BERTIL, "a:bertil-personal")):
        bot.post(activity("hej", service_url=stub.url, conversation_id=conversation, user_id=user))
    anna_before, bertil_before = len(stub.texts("a:anna-personal")), len(stub.texts("a:bertil-personal"))
    bot.post(in_group("ny insats", stub.url, GROUP, "groupChat", user=ANNA))
    asked_anna = stub.texts("a:anna-personal")[anna_before:]
    assert asked_anna, "Anna's dialog started in her own chat"
    bot.post(in_group("Mentorskap", stub.url, GROUP, "groupChat", user=BERTIL))
    assert stub.texts("a:anna-personal")[anna_before:] == asked_anna  # nothing more for Anna
    assert stub.texts("a:bertil-personal")[bertil_before:]  # Bertil got his own answer
    assert stub.texts(GROUP) == [texts.ANSWERING_PRIVATELY] * 2


def test_group_dialog_state_is_kept_per_person() -> None:
    def key(kind: str, user: str) -> str:
        body = activity(
            "x", service_url="https://smba.trafficmanager.net/emea/", conversation_id=GROUP, user_id=user
        )
        body["conversation"]["conversationType"] = kind
        return conversation_state_key(Activity.model_validate(body))

    assert key("groupChat", ANNA) != key("groupChat", BERTIL)
    assert key("channel", ANNA) != key("channel", BERTIL)
    assert key("groupChat", ANNA).endswith(f"/users/{ANNA}")
    # the SDK's own key inside the tenant (issue 23: another city's token cannot reach it)
    assert key("personal", ANNA) == f"msteams/tenants/tenant-malmo/conversations/{GROUP}"
