"""The connector stand-in for the benchmark, in a process of its own: it
answers every reply a bot sends (POST/PUT under /v3/conversations/...) as the
channel's connector service would, counts them per conversation and keeps
each conversation's last message text, so the load generator can check that
every turn was answered and what it said.

    .venv/bin/python bench/connector.py --port 3990

GET /_stats -> {"replies": N, "conversations": {id: count}}
GET /_last?conversation=ID -> {"texts": [... the last 20 message texts ...]}
POST /_reset clears the counters.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import defaultdict, deque

from aiohttp import web


def make_app() -> web.Application:
    counts: dict[str, int] = defaultdict(int)
    last: dict[str, deque[str]] = defaultdict(lambda: deque(maxlen=20))
    ids = itertools.count(1)

    async def reply(request: web.Request) -> web.Response:
        body = await request.read()
        conversation = request.match_info.get("conversation", "")
        counts[conversation] += 1
        try:
            activity = json.loads(body)
        except ValueError:
            return web.json_response({"error": "invalid JSON"}, status=400)
        if isinstance(activity, dict) and activity.get("type") == "message":
            text = activity.get("text") or ""
            if activity.get("attachments"):
                text += " " + json.dumps(activity["attachments"], ensure_ascii=False)
            last[conversation].append(text)
        return web.json_response({"id": f"reply-{next(ids)}"}, status=200)

    async def create(_request: web.Request) -> web.Response:
        return web.json_response({"id": f"conv-{next(ids)}"}, status=201)

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response({"replies": sum(counts.values()), "conversations": dict(counts)})

    async def last_texts(request: web.Request) -> web.Response:
        return web.json_response({"texts": list(last.get(request.query.get("conversation", ""), ()))})

    async def reset(_request: web.Request) -> web.Response:
        counts.clear()
        last.clear()
        return web.json_response({})

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/_stats", stats)
    app.router.add_get("/_last", last_texts)
    app.router.add_post("/_reset", reset)
    app.router.add_post("/v3/conversations", create)
    app.router.add_post("/v3/conversations/{conversation}/activities", reply)
    app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", reply)
    app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", reply)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3990)
    args = parser.parse_args()
    web.run_app(make_app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
