"""The dialogs through the real Teams handler (bot.teams_bot.KompetensBot)."""

from __future__ import annotations

import asyncio

import pytest
from microsoft_agents.activity import Activity, ActivityTypes, ChannelAccount, ChannelId
from microsoft_agents.hosting.core import Storage
from microsoft_agents.testing import TestAdapter

from core.model import Role
from dialogs import texts
from tests.dialogs.conftest import JsonStorage

teams_bot = pytest.importorskip("bot.teams_bot")

USER = "user1"  # the TestAdapter's user id; made the sender's object id, as Teams sends it


def converse(bot, adapter: TestAdapter, message: str | Activity) -> list[str]:
    activity = adapter.create_activity(message) if isinstance(message, str) else message
    # As from Teams: the handler serves msteams only, and knows a person by their object id.
    activity.channel_id = ChannelId("msteams")
    sender = activity.from_property or adapter.create_activity("").from_property
    if sender is not None and not sender.aad_object_id:
        sender.aad_object_id = sender.id
    activity.from_property = sender
    asyncio.run(adapter.process_activity(adapter.claims_identity, activity, bot.on_turn))
    texts_sent = []
    while (sent := adapter.get_next_reply()) is not None:
        if sent.type == ActivityTypes.message:
            texts_sent.append(sent.text or "")
    return texts_sent


def test_the_handler_answers_through_the_main_dialog(example_engine, services) -> None:
    services.grant_role(None, USER, Role.CITY_OFFICE, None)
    bot = teams_bot.KompetensBot(example_engine, JsonStorage())
    [reply] = converse(bot, TestAdapter(), "Hur mycket finns kvar för förskolenämnden?")
    assert "15 000 000 kr kvar" in reply and "KS 2025-03-05" in reply


def test_the_handler_welcomes_and_refuses_an_unknown_user(example_engine) -> None:
    bot = teams_bot.KompetensBot(example_engine, JsonStorage(), demo=True)
    adapter = TestAdapter()
    update = Activity(type=ActivityTypes.conversation_update, members_added=[ChannelAccount(id=USER)])
    [welcome] = converse(bot, adapter, update)
    assert "demoläge" in welcome
    plain = teams_bot.KompetensBot(example_engine, JsonStorage())
    assert converse(plain, adapter, "saldo GVN") == [texts.no_access("User 1", USER)]


def test_a_person_with_no_role_is_told_the_id_an_administrator_grants_a_role_to(example_engine) -> None:
    """Issue 17, Also: a person with no role is told their id (the Entra object id
    that `kompetensbot roles grant` takes), not only that they have no role."""
    bot = teams_bot.KompetensBot(example_engine, JsonStorage())
    [reply] = converse(bot, TestAdapter(), "Hur mycket finns kvar för förskolenämnden?")
    assert "Du har ingen behörighet i kompetensbot ännu" in reply
    assert f"Ge dem ditt id i kompetensbot: {USER} (kompetensbot roles grant {USER} hr --unit KOD" in reply


def test_a_dialog_carries_on_with_a_new_handler_over_the_same_storage(example_engine, services) -> None:
    services.grant_role(None, USER, Role.HR, "FSKN")
    storage = JsonStorage()
    adapter = TestAdapter()
    converse(teams_bot.KompetensBot(example_engine, storage), adapter, "ny insats")
    # A "restart": a new handler and dialog objects, the state only in storage.
    replies = converse(teams_bot.KompetensBot(example_engine, storage), adapter, "Mentorskap")
    assert replies == [texts.ASK_DESCRIPTION]


def test_the_sql_storage_keeps_a_dialog_across_a_restart(example_engine, services) -> None:
    from bot.state_storage import SqlStorage

    services.grant_role(None, USER, Role.HR, "FSKN")
    storage: Storage = SqlStorage(example_engine)
    adapter = TestAdapter()
    converse(teams_bot.KompetensBot(example_engine, storage), adapter, "ny insats")
    replies = converse(
        teams_bot.KompetensBot(example_engine, SqlStorage(example_engine)), adapter, "Mentorskap"
    )
    assert replies == [texts.ASK_DESCRIPTION]
