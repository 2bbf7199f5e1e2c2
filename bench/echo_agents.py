"""The stock echo bot on the Microsoft 365 Agents SDK (the version kompetensbot
uses), wired as the SDK's samples wire it and tuned in no way: an
ActivityHandler that echoes, the SDK's CloudAdapter, its JWT middleware,
`start_agent_process`. The benchmark's yardstick.

    .venv/bin/python bench/echo_agents.py --port 3979
"""

from __future__ import annotations

import argparse
import os

from aiohttp.web import Application, Request, Response, run_app
from microsoft_agents.activity import Activity, TurnContextProtocol, load_configuration_from_env
from microsoft_agents.hosting.aiohttp import (
    CloudAdapter,
    jwt_authorization_middleware,
    start_agent_process,
)
from microsoft_agents.hosting.core import (
    ActivityHandler,
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    ConnectionManager,
    MessageFactory,
)


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContextProtocol[Activity]) -> None:
        await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))


def connections() -> tuple[ConnectionManager, AgentAuthConfiguration]:
    """The samples' MsalConnectionManager when a client id is configured; without
    one, the SDK's anonymous provider (as kompetensbot runs locally)."""
    config = load_configuration_from_env(dict(os.environ))
    settings = config.get("CONNECTIONS", {}).get("SERVICE_CONNECTION", {}).get("SETTINGS", {})
    if settings.get("CLIENTID"):
        from microsoft_agents.authentication.msal import MsalConnectionManager

        msal = MsalConnectionManager(**config)
        return msal, msal.get_default_connection_configuration()
    anonymous = AgentAuthConfiguration(anonymous_allowed=True)
    manager = ConnectionManager(
        provider_factory=lambda _config: AnonymousTokenProvider(),
        connections_configurations={"SERVICE_CONNECTION": anonymous},
    )
    return manager, anonymous


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3979)
    args = parser.parse_args()

    manager, auth_configuration = connections()
    adapter = CloudAdapter(connection_manager=manager)
    agent = EchoBot()

    async def entry_point(req: Request) -> Response:
        response = await start_agent_process(req, req.app["agent_app"], req.app["adapter"])
        # Optional only in the SDK's signature: its CloudAdapter.process always answers.
        assert response is not None
        return response

    async def healthz(_req: Request) -> Response:
        return Response(text="ok")

    app = Application(middlewares=[jwt_authorization_middleware])
    app.router.add_post("/api/messages", entry_point)
    app.router.add_get("/healthz", healthz)
    app["agent_configuration"] = auth_configuration
    app["agent_app"] = agent
    app["adapter"] = adapter
    run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
