"""The stock echo bot on botbuilder 4.17.1 (the Bot Framework SDK the Agents SDK
replaces), wired as its samples wire it and tuned in no way: an ActivityHandler
that echoes, botbuilder's CloudAdapter with ConfigurationBotFrameworkAuthentication.
Runs in its own venv, which bench/turns.py creates:

    build/bench-venv-botbuilder/bin/python bench/echo_botbuilder.py --port 3980
"""

from __future__ import annotations

import argparse
import os

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.core.integration import aiohttp_error_middleware
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication


class DefaultConfig:
    APP_ID = os.environ.get("MicrosoftAppId", "")
    APP_PASSWORD = os.environ.get("MicrosoftAppPassword", "")
    APP_TYPE = os.environ.get("MicrosoftAppType", "MultiTenant")
    APP_TENANTID = os.environ.get("MicrosoftAppTenantId", "")


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3980)
    args = parser.parse_args()

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(DefaultConfig()))
    bot = EchoBot()

    async def messages(req: web.Request) -> web.Response:
        return await adapter.process(req, bot)

    async def healthz(_req: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(middlewares=[aiohttp_error_middleware])
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
