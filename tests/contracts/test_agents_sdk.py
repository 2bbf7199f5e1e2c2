"""The Agents SDK's private APIs that bot/ relies on (microsoft-agents-* ~=1.9.0)."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import RestChannelServiceClientFactory
from microsoft_agents.hosting.core.authorization.jwt import _authorize_request
from microsoft_agents.hosting.core.connector.client import (
    UserTokenClient,
    connector_client,
    user_token_client,
)
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient
from microsoft_agents.hosting.dialogs import DialogExtensions

from bot.proactive import _Outgoing
from tests.contracts import broken, fingerprint

DIALOGS = "microsoft-agents-hosting-dialogs"
CORE = "microsoft-agents-hosting-core"


def test_dialog_extensions_internal_run_is_there_and_takes_what_run_dialog_passes() -> None:
    api = "DialogExtensions._internal_run"
    used_by = "bot/teams_bot.py (run_dialog, for a request from another agent)"
    run = getattr(DialogExtensions, "_internal_run", None)
    assert run is not None, broken(api, DIALOGS, used_by, "is gone")
    assert inspect.iscoroutinefunction(run), broken(
        api, DIALOGS, used_by, "is no longer a coroutine function"
    )
    parameters = list(inspect.signature(run).parameters)
    assert parameters == ["context", "dialog_id", "dialog_context"], broken(
        api, DIALOGS, used_by, f"takes {parameters}, not (context, dialog_id, dialog_context)"
    )


def test_dialog_extensions_is_the_version_run_dialog_copies() -> None:
    """bot/teams_bot.py's run_dialog is DialogExtensions.run_dialog/_internal_run/__inner_run
    of SDK 1.9 without the state snapshot trace: a change there belongs in our copy."""
    found = fingerprint(DialogExtensions)
    assert found == "d1d2180922c117b7", broken(
        "DialogExtensions (run_dialog, _internal_run, __inner_run)",
        DIALOGS,
        "bot/teams_bot.py (run_dialog copies them)",
        f"has changed (source fingerprint {found}); carry the change into run_dialog, then put the new "
        "fingerprint here",
    )


class _NoConnections:
    def get_token_provider(self, *args: Any) -> Any:
        raise AssertionError("not called here")


def test_the_client_factory_keeps_its_connection_manager_and_token_service_where_we_read_them() -> None:
    used_by = "bot/clients.py (PooledClientFactory)"
    connections = _NoConnections()
    factory = RestChannelServiceClientFactory(connections)  # type: ignore[arg-type]  # a stand-in: only kept
    assert getattr(factory, "_connection_manager", None) is connections, broken(
        "RestChannelServiceClientFactory._connection_manager",
        CORE,
        used_by,
        "no longer holds the connections",
    )
    for name in ("_token_service_endpoint", "_token_service_audience"):
        value = getattr(factory, name, None)
        assert isinstance(value, str) and value, broken(
            f"RestChannelServiceClientFactory.{name}",
            CORE,
            used_by,
            f"is no longer a non-empty str: {value!r}",
        )
    anonymous = getattr(RestChannelServiceClientFactory, "_ANONYMOUS_TOKEN_PROVIDER", None)
    assert anonymous is not None and inspect.iscoroutinefunction(anonymous.get_access_token), broken(
        "RestChannelServiceClientFactory._ANONYMOUS_TOKEN_PROVIDER",
        CORE,
        used_by,
        "is gone or not a token provider",
    )


def test_the_client_factory_methods_pooled_client_factory_reimplements_are_unchanged() -> None:
    """PooledClientFactory does what the SDK's create_connector_client and
    create_user_token_client do (a token from the connection manager), on a pooled session."""
    for method, expected in (
        (RestChannelServiceClientFactory.create_connector_client, "2b51ef20b40a895f"),
        (RestChannelServiceClientFactory.create_user_token_client, "8fe9774b59511df3"),
    ):
        found = fingerprint(method)
        assert found == expected, broken(
            f"RestChannelServiceClientFactory.{method.__name__}",
            CORE,
            "bot/clients.py (PooledClientFactory reimplements it)",
            f"has changed (source fingerprint {found}); carry the change into PooledClientFactory, then put "
            "the new fingerprint here",
        )


def test_the_clients_take_a_session() -> None:
    used_by = "bot/clients.py (PooledClientFactory passes its pooled session)"
    for client in (TeamsConnectorClient, UserTokenClient):
        parameters = inspect.signature(client.__init__).parameters
        assert "session" in parameters, broken(f"{client.__name__}(session=...)", CORE, used_by, "is gone")


def test_the_clients_look_up_get_product_info_in_their_module() -> None:
    """bot/clients.py replaces each client module's get_product_info by a cached one (the SDK
    reads package metadata on every client construction); that works only while the
    constructors look the name up in their own module."""
    used_by = "bot/clients.py (_cache_product_info)"
    for module, constructor in (
        (connector_client, connector_client.ConnectorClient.__init__),
        (user_token_client, UserTokenClient.__init__),
    ):
        api = f"{module.__name__}.get_product_info"
        assert callable(getattr(module, "get_product_info", None)), broken(api, CORE, used_by, "is gone")
        assert "get_product_info" in constructor.__code__.co_names, broken(
            api, CORE, used_by, "is no longer what the client's constructor calls"
        )


def test_the_adapter_keeps_its_client_factory_where_we_read_it() -> None:
    used_by = "bot/app.py (closing the pooled clients) and bot/proactive.py (outbound_of)"
    factory = RestChannelServiceClientFactory(_NoConnections())  # type: ignore[arg-type]  # a stand-in
    adapter = CloudAdapter(channel_service_client_factory=factory)
    assert getattr(adapter, "_channel_service_client_factory", None) is factory, broken(
        "ChannelServiceAdapter._channel_service_client_factory",
        CORE,
        used_by,
        "no longer holds the factory (our getattr would quietly find None)",
    )


def test_an_activity_can_drop_its_id_from_the_fields_it_sends() -> None:
    """bot/proactive.py's _Outgoing keeps an outgoing activity's id unset when the SDK sets it
    to None, through pydantic's __pydantic_fields_set__ and the instance __dict__."""
    api = "Activity.__pydantic_fields_set__ / __dict__"
    used_by = "bot/proactive.py (_Outgoing)"

    activity = _Outgoing.model_validate({"type": "message", "id": "1", "text": "hej"})
    activity.id = None
    sent = activity.model_dump(by_alias=True, exclude_unset=True)
    assert activity.id is None and "id" not in sent and sent["text"] == "hej", broken(
        api, "pydantic", used_by, f"no longer leaves the id out: {sent}"
    )


def test_the_jwt_middleware_whose_steps_the_app_takes_is_unchanged() -> None:
    """bot/app.py (_authorizer) takes the SDK's aiohttp JWT middleware's steps (the bearer token
    as `_extract_bearer_token` reads it, then `_authorize_request`) with the configuration of the
    registration the token is for, where the middleware takes the app's one configuration."""
    used_by = "bot/app.py (_authorizer)"
    module = importlib.import_module("microsoft_agents.hosting.aiohttp.jwt_authorization_middleware")
    found = fingerprint(module._jwt_authorization_middleware)
    assert found == "4e6c8c07ee2d4228", broken(
        "jwt_authorization_middleware._jwt_authorization_middleware",
        "microsoft-agents-hosting-aiohttp",
        used_by,
        f"has changed (source fingerprint {found}); carry the change into _authorizer, then put the new "
        "fingerprint here",
    )
    extract = getattr(module, "_extract_bearer_token", None)
    assert callable(extract) and extract("Bearer abc ") == "abc" and extract("Basic abc") is None, broken(
        "jwt_authorization_middleware._extract_bearer_token",
        "microsoft-agents-hosting-aiohttp",
        used_by,
        "is gone",
    )
    parameters = list(inspect.signature(_authorize_request).parameters)
    assert parameters == ["authorization_header", "auth_config"], broken(
        "authorization.jwt._authorize_request", CORE, used_by, f"takes {parameters}"
    )
