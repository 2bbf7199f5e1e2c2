"""A stand-in for Microsoft Graph (issue 22), for the tests: an aiohttp app on
127.0.0.1 in a thread of its own, like the connector stand-ins of tests/http/harness.py.

One `Tenant` holds what Graph and Teams both know about a city's tenant: its users
(id, displayName, userPrincipalName, mail), who has the app installed (and so a 1:1
chat with the bot), the Entra groups and their members, and which application
permissions the administrator has consented to. `GraphStandIn` answers Graph's
requests from it; `TeamsConnectorStub` is the connector stand-in of the round tests
(`ThrottlingConnectorStub`) that, like Teams, refuses createConversation and sends to
a person who does not have the app (403 "BotNotInConversationRoster") and accepts
once the app is installed, through Graph or by the person.

Graph, as the stand-in answers it (every path under the base URL `graph.url`, which
is KOMPETENSBOT_GRAPH_URL for the bot; errors are Graph's `{"error": {"code",
"message"}}`):

  POST /users/{id}/teamwork/installedApps   {"teamsApp@odata.bind": ".../appCatalogs/teamsApps/{catalog id}"}
       201 (no body) installed; 409 "Conflict" already installed; 403 "Forbidden" without
       TeamsAppInstallation.ReadWriteSelfForUser.All (or ReadWriteForUser.All);
       404 "NotFound" an unknown user or catalog app; 400 no bind
  GET  /users/{id}/teamwork/installedApps?$expand=teamsAppDefinition&$filter=teamsApp/id eq '{catalog id}'
       (also teamsApp/externalId eq '{manifest id}', teamsAppDefinition/teamsAppId eq '…'):
       {"value": [{"id": installation id, "teamsApp": …, "teamsAppDefinition": …}]}
  GET  /users/{id}/teamwork/installedApps/{installation id}/chat
       {"id": "19:{user}_{bot app id}@unq.gbl.spaces", "chatType": "oneOnOne", …}
  GET  /appCatalogs/teamsApps?$filter=externalId eq '{manifest id}'   (AppCatalog.Read.All)
       {"value": [{"id": catalog id, "externalId": manifest id, "displayName", "distributionMethod"}]}
  GET  /groups/{id}                          (GroupMember.Read.All) {"id", "displayName"}
  GET  /groups/{id}/transitiveMembers[/microsoft.graph.user]   (GroupMember.Read.All; the cast:
       users only) paged: `$top` (default
       `tenant.page_size`), `@odata.nextLink` with a `$skiptoken`; users as
       {"@odata.type": "#microsoft.graph.user", "id", "displayName", "userPrincipalName",
       "mail"}, and nested groups themselves as "#microsoft.graph.group" entries (their
       members are listed too, once); 403 without consent, 404 "Request_ResourceNotFound"
  GET  /users?$search="displayName:Per"      (User.Read.All; the header ConsistencyLevel:
       eventual is required, as in Graph: 400 without) also "mail:…", "userPrincipalName:…",
       several joined with OR; `$filter=userPrincipalName eq '…'` / `mail eq '…'`
  GET  /users/{id}                           (User.Read.All) a user, or 404

Fault injection: `graph.fault(pattern, status=…, retry_after=…, delay=…, times=…)`
answers the next `times` requests whose "METHOD path" matches the regular expression
with `status` (429 with Retry-After, 503, …) or only delays them (`status=None`);
`graph.install_delay` delays every install's answer, after (`install_commits_first`,
the default) or before the app is installed, so a process killed while it waits has
either installed or not.

Counts: `graph.calls` counts every request by kind ("install", "installed_apps",
"chat", "catalog", "group", "members", "users", "user"); `graph.requests` lists them
(time, method, path with query, status, Authorization header); `tenant.installs`
counts the installs that took place per user (a 409 is not one), `graph.install_posts`
every install request per user: "nobody installed twice" is
`max(tenant.installs.values()) <= 1`.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import web

from tests.http.harness import ThrottlingConnectorStub, free_port

INSTALL = "TeamsAppInstallation.ReadWriteSelfForUser.All"
CATALOG = "AppCatalog.Read.All"
GROUPS = "GroupMember.Read.All"
USERS = "User.Read.All"
ALL_PERMISSIONS = frozenset({INSTALL, CATALOG, GROUPS, USERS})

# Other permissions Graph accepts for the same reads (a broader one also does).
_ACCEPTED = {
    INSTALL: {INSTALL, "TeamsAppInstallation.ReadWriteForUser.All"},
    CATALOG: {CATALOG, "AppCatalog.ReadWrite.All", "Directory.Read.All"},
    GROUPS: {GROUPS, "Group.Read.All", "Directory.Read.All"},
    USERS: {USERS, "Directory.Read.All"},
}

KIND = web.RequestKey("kind", str)  # what kind of call a request was, for `calls`

MANIFEST_ID = "00000000-0000-0000-0000-000000000000"  # manifest/manifest.json's id
CATALOG_ID = "c0ffee00-aaaa-4bbb-8ccc-000000000001"  # the id the city's upload got in its catalog
BOT_APP_ID = "11111111-2222-3333-4444-555555555555"


@dataclass
class TenantUser:
    id: str
    display_name: str
    upn: str
    mail: str
    installation: str | None = None  # the app's installation id, when installed

    def as_graph(self) -> dict[str, Any]:
        return {
            "@odata.type": "#microsoft.graph.user",
            "id": self.id,
            "displayName": self.display_name,
            "userPrincipalName": self.upn,
            "mail": self.mail,
        }


@dataclass
class TenantGroup:
    id: str
    display_name: str
    members: list[str] = field(default_factory=list)  # user ids and group ids, in order


class Tenant:
    """What Graph and Teams know about one tenant (see the module). Thread-safe:
    both stand-ins answer from their own threads."""

    def __init__(
        self,
        *,
        consented: Iterable[str] = ALL_PERMISSIONS,
        manifest_id: str = MANIFEST_ID,
        catalog_id: str = CATALOG_ID,
        bot_app_id: str = BOT_APP_ID,
        app_name: str = "kompetensbot",
        page_size: int = 100,
    ) -> None:
        self.consented: set[str] = set(consented)
        self.manifest_id = manifest_id
        self.catalog_id = catalog_id
        self.bot_app_id = bot_app_id
        self.app_name = app_name
        self.page_size = page_size
        self.users: dict[str, TenantUser] = {}
        self.groups: dict[str, TenantGroup] = {}
        self.installs: Counter[str] = Counter()  # installs that took place, per user
        self.conversations: dict[str, str] = {}  # conversation id -> user id
        self.lock = threading.RLock()

    # -- the tenant's state ---------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        *,
        upn: str | None = None,
        mail: str | None = None,
        installed: bool = False,
        conversation: str | None = None,
    ) -> TenantUser:
        """A user of the tenant; `installed`: the person has the app (opened the bot
        themselves), and `conversation` is the 1:1 conversation id the bot stored then."""
        local = re.sub(r"[^a-z0-9.]+", ".", (name or user_id).lower()).strip(".")
        user = TenantUser(
            user_id, name or user_id, upn or f"{local}@malmo.example", mail or f"{local}@malmo.example"
        )
        with self.lock:
            self.users[user_id] = user
            if installed:
                user.installation = self._installation_id(user_id)
            if conversation:
                self.conversations[conversation] = user_id
        return user

    def add_group(self, group_id: str, name: str, members: Iterable[str] = ()) -> TenantGroup:
        """An Entra group; members are user ids or other groups' ids (nested)."""
        with self.lock:
            group = self.groups[group_id] = TenantGroup(group_id, name, list(members))
        return group

    def consent(self, *permissions: str) -> None:
        with self.lock:
            self.consented.update(permissions)

    def revoke(self, *permissions: str) -> None:
        with self.lock:
            self.consented.difference_update(permissions)

    def allows(self, permission: str) -> bool:
        with self.lock:
            return bool(self.consented & _ACCEPTED[permission])

    def _installation_id(self, user_id: str) -> str:
        return f"inst-{uuid.uuid5(uuid.NAMESPACE_URL, user_id + '/' + self.catalog_id).hex}"

    def install(self, user_id: str) -> bool:
        """Install the app for a user (what Graph's POST does); False when it was already."""
        with self.lock:
            user = self.users[user_id]
            if user.installation:
                return False
            user.installation = self._installation_id(user_id)
            self.installs[user_id] += 1
            return True

    def uninstall(self, user_id: str) -> None:
        """The person (or an administrator) removed the app: Teams refuses the bot's sends."""
        with self.lock:
            self.users[user_id].installation = None

    def has_app(self, user_id: str) -> bool:
        with self.lock:
            user = self.users.get(user_id)
            return bool(user and user.installation)

    def chat_id(self, user_id: str) -> str:
        """The 1:1 chat of a user with the bot, as Graph names it."""
        return f"19:{user_id}_{self.bot_app_id}@unq.gbl.spaces"

    def user_of(self, conversation_id: str) -> str | None:
        """Whose 1:1 conversation this is: a chat Graph named, one the connector created,
        or one registered with `add_user(conversation=…)`; None when unknown."""
        with self.lock:
            if conversation_id in self.conversations:
                return self.conversations[conversation_id]
            found = re.fullmatch(
                r"19:(.+)_" + re.escape(self.bot_app_id) + r"@unq\.gbl\.spaces", conversation_id
            )
            if found and found.group(1) in self.users:
                return found.group(1)
        return None

    def missing_app(self) -> list[str]:
        with self.lock:
            return [u for u, user in self.users.items() if not user.installation]

    def members_of(self, group_id: str) -> list[dict[str, Any]]:
        """transitiveMembers: users and nested groups, each once, depth first."""
        seen: set[str] = set()
        out: list[dict[str, Any]] = []

        def walk(gid: str) -> None:
            for member in self.groups[gid].members:
                if member in seen:
                    continue
                seen.add(member)
                if member in self.groups:
                    nested = self.groups[member]
                    out.append(
                        {
                            "@odata.type": "#microsoft.graph.group",
                            "id": nested.id,
                            "displayName": nested.display_name,
                        }
                    )
                    walk(member)
                elif member in self.users:
                    out.append(self.users[member].as_graph())

        with self.lock:
            seen.add(group_id)
            walk(group_id)
        return out


@dataclass
class Fault:
    pattern: re.Pattern[str]
    status: int | None
    retry_after: float | None
    delay: float
    times: int


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"request-id": str(uuid.uuid4()), "date": time.strftime("%Y-%m-%dT%H:%M:%S")},
        }
    }
    return web.json_response(body, status=status, headers=headers)


def _forbidden(permission: str) -> web.Response:
    roles = " ".join(sorted(_ACCEPTED[permission]))
    return _error(
        403,
        "Forbidden" if permission == INSTALL else "Authorization_RequestDenied",
        f"Missing role permissions on the request. API requires one of '{roles}'. Roles on the request ''.",
    )


def _quoted(filter_text: str, name: str) -> str | None:
    """The value of `name eq '…'` in an OData $filter, or None."""
    found = re.search(re.escape(name) + r"\s+eq\s+'((?:[^']|'')*)'", filter_text, re.IGNORECASE)
    return found.group(1).replace("''", "'") if found else None


class GraphStandIn:
    """Microsoft Graph for one `Tenant`, on 127.0.0.1 (see the module)."""

    def __init__(self, tenant: Tenant | None = None, *, prefix: str = "/v1.0") -> None:
        self.tenant = tenant or Tenant()
        self.port = free_port()
        self.prefix = prefix.rstrip("/")
        self.install_delay = 0.0
        self.install_commits_first = True
        self.calls: Counter[str] = Counter()
        self.install_posts: Counter[str] = Counter()
        self.requests: list[dict[str, Any]] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        """The base URL (KOMPETENSBOT_GRAPH_URL)."""
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    # -- test controls -------------------------------------------------------

    def fault(
        self,
        pattern: str,
        *,
        status: int | None = 503,
        retry_after: float | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """The next `times` requests whose "METHOD /path" (without the prefix) matches
        `pattern` (re.search) wait `delay` seconds and are answered `status` (with
        Retry-After when given); `status=None` only delays them."""
        with self._lock:
            self._faults.append(Fault(re.compile(pattern), status, retry_after, delay, times))

    def count(self, kind: str) -> int:
        with self._lock:
            return self.calls[kind]

    # -- the server ------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application(middlewares=[self._middleware])
        p = self.prefix
        app.router.add_route("POST", p + "/users/{user}/teamwork/installedApps", self._install)
        app.router.add_route("GET", p + "/users/{user}/teamwork/installedApps", self._installed_apps)
        app.router.add_route(
            "GET", p + "/users/{user}/teamwork/installedApps/{installation}/chat", self._chat
        )
        app.router.add_route("GET", p + "/appCatalogs/teamsApps", self._catalog)
        app.router.add_route("GET", p + "/groups/{group}", self._group)
        app.router.add_route("GET", p + "/groups/{group}/transitiveMembers", self._members)
        app.router.add_route("GET", p + "/groups/{group}/transitiveMembers/{cast}", self._members)
        app.router.add_route("GET", p + "/users", self._users)
        app.router.add_route("GET", p + "/users/{user}", self._user)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> GraphStandIn:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"the Graph stand-in did not start on port {self.port}")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    def __enter__(self) -> GraphStandIn:
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.stop()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path[len(self.prefix) :] if request.path.startswith(self.prefix) else request.path
        line = f"{request.method} {path}"
        fault = None
        with self._lock:
            for f in self._faults:
                if f.times > 0 and f.pattern.search(line):
                    f.times -= 1
                    fault = f
                    break
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
                code = {429: "TooManyRequests", 503: "ServiceUnavailable"}.get(fault.status, "InjectedFault")
                response: web.StreamResponse = _error(
                    fault.status, code, "the stand-in was told to fail", headers
                )
                self._note(request, "fault", response.status)
                return response
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = _error(400, "BadRequest", f"Resource not found for the segment '{path}'.")
        self._note(request, request.get(KIND, "other"), response.status)
        return response

    def _note(self, request: web.Request, kind: str, status: int) -> None:
        with self._lock:
            self.calls[kind] += 1
            self.requests.append(
                {
                    "time": time.monotonic(),
                    "kind": kind,
                    "method": request.method,
                    "path": request.path_qs,
                    "status": status,
                    "authorization": request.headers.get("Authorization"),
                }
            )

    # -- teamwork ---------------------------------------------------------------

    async def _install(self, request: web.Request) -> web.Response:
        request[KIND] = "install"
        user_id = unquote(request.match_info["user"])
        with self._lock:
            self.install_posts[user_id] += 1
        tenant = self.tenant
        if not tenant.allows(INSTALL):
            return _forbidden(INSTALL)
        try:
            body = await request.json()
        except ValueError:
            body = None
        bind = body.get("teamsApp@odata.bind") if isinstance(body, dict) else None
        if not isinstance(bind, str) or "/appCatalogs/teamsApps/" not in bind:
            return _error(400, "BadRequest", "teamsApp@odata.bind is required")
        if bind.rsplit("/", 1)[-1] != tenant.catalog_id:
            return _error(404, "NotFound", "The app was not found in the tenant's app catalog.")
        if user_id not in tenant.users:
            return _error(404, "NotFound", f"User '{user_id}' was not found.")
        if self.install_delay and not self.install_commits_first:
            await asyncio.sleep(self.install_delay)
        installed = tenant.install(user_id)
        if self.install_delay and self.install_commits_first:
            await asyncio.sleep(self.install_delay)
        if not installed:
            return _error(409, "Conflict", "App is already installed for the user.")
        return web.Response(status=201)

    def _installation(self, user: TenantUser, expand: str) -> dict[str, Any]:
        t = self.tenant
        found: dict[str, Any] = {"id": user.installation}
        app = {"id": t.catalog_id, "externalId": t.manifest_id, "displayName": t.app_name}
        definition = {
            "id": f"def-{t.catalog_id}",
            "teamsAppId": t.catalog_id,
            "displayName": t.app_name,
            "version": "1.0.0",
        }
        if "teamsAppDefinition" in expand:
            found["teamsAppDefinition"] = definition
        if "teamsApp" in expand.replace("teamsAppDefinition", ""):
            found["teamsApp"] = app
        return found

    async def _installed_apps(self, request: web.Request) -> web.Response:
        request[KIND] = "installed_apps"
        user_id = unquote(request.match_info["user"])
        tenant = self.tenant
        if not tenant.allows(INSTALL):
            return _forbidden(INSTALL)
        with tenant.lock:
            user = tenant.users.get(user_id)
            if user is None:
                return _error(404, "NotFound", f"User '{user_id}' was not found.")
            apps = [self._installation(user, request.query.get("$expand", ""))] if user.installation else []
        where = request.query.get("$filter", "")
        if where:
            wanted = {
                _quoted(where, "teamsApp/id"),
                _quoted(where, "teamsAppDefinition/teamsAppId"),
            } - {None}
            external = _quoted(where, "teamsApp/externalId")
            if (wanted and tenant.catalog_id not in wanted) or (external and external != tenant.manifest_id):
                apps = []
        return web.json_response({"value": apps})

    async def _chat(self, request: web.Request) -> web.Response:
        request[KIND] = "chat"
        user_id = unquote(request.match_info["user"])
        tenant = self.tenant
        if not tenant.allows(INSTALL):
            return _forbidden(INSTALL)
        with tenant.lock:
            user = tenant.users.get(user_id)
            if user is None:
                return _error(404, "NotFound", f"User '{user_id}' was not found.")
            if not user.installation or user.installation != request.match_info["installation"]:
                return _error(404, "NotFound", "The app installation was not found.")
        chat_id = tenant.chat_id(user_id)
        return web.json_response(
            {
                "id": chat_id,
                "topic": None,
                "chatType": "oneOnOne",
                "tenantId": "tenant-malmo",
                "webUrl": f"https://teams.microsoft.com/l/chat/{quote(chat_id)}/0",
            }
        )

    async def _catalog(self, request: web.Request) -> web.Response:
        request[KIND] = "catalog"
        tenant = self.tenant
        if not tenant.allows(CATALOG):
            return _forbidden(CATALOG)
        where = request.query.get("$filter", "")
        external = _quoted(where, "externalId")
        entry = {
            "id": tenant.catalog_id,
            "externalId": tenant.manifest_id,
            "displayName": tenant.app_name,
            "distributionMethod": "organization",
        }
        found = [entry] if external is None or external == tenant.manifest_id else []
        return web.json_response({"value": found})

    # -- directory -----------------------------------------------------------------

    async def _group(self, request: web.Request) -> web.Response:
        request[KIND] = "group"
        tenant = self.tenant
        if not tenant.allows(GROUPS):
            return _forbidden(GROUPS)
        group = tenant.groups.get(unquote(request.match_info["group"]))
        if group is None:
            return _error(404, "Request_ResourceNotFound", "Resource does not exist.")
        return web.json_response({"id": group.id, "displayName": group.display_name})

    async def _members(self, request: web.Request) -> web.Response:
        request[KIND] = "members"
        tenant = self.tenant
        if not tenant.allows(GROUPS):
            return _forbidden(GROUPS)
        group_id = unquote(request.match_info["group"])
        if group_id not in tenant.groups:
            return _error(404, "Request_ResourceNotFound", f"Resource '{group_id}' does not exist.")
        members = tenant.members_of(group_id)
        cast = request.match_info.get("cast")  # the OData cast "microsoft.graph.user": users only
        if cast is not None:
            members = [m for m in members if m["@odata.type"] == f"#{cast}"]
        try:
            top = max(1, min(999, int(request.query.get("$top", tenant.page_size))))
            start = int(request.query.get("$skiptoken", "0"))
        except ValueError:
            return _error(400, "BadRequest", "Invalid $top or $skiptoken.")
        page: dict[str, Any] = {"value": members[start : start + top]}
        if start + top < len(members):
            page["@odata.nextLink"] = (
                f"{self.url}/groups/{quote(group_id)}/transitiveMembers{'/' + cast if cast else ''}"
                f"?$top={top}&$skiptoken={start + top}"
            )
        return web.json_response(page)

    async def _users(self, request: web.Request) -> web.Response:
        request[KIND] = "users"
        tenant = self.tenant
        if not tenant.allows(USERS):
            return _forbidden(USERS)
        search = request.query.get("$search", "")
        where = request.query.get("$filter", "")
        with tenant.lock:
            users = list(tenant.users.values())
        if search:
            if request.headers.get("ConsistencyLevel", "").lower() != "eventual":
                return _error(
                    400,
                    "Request_UnsupportedQuery",
                    "Request with $search query parameter only works through MSGraph with a special request "
                    "header: 'ConsistencyLevel: eventual'",
                )
            terms = re.findall(r'"(displayName|mail|userPrincipalName|givenName|surname):([^"]*)"', search)
            if not terms:
                return _error(400, "Request_UnsupportedQuery", "Unsupported or invalid query.")

            def hit(u: TenantUser) -> bool:
                fields = {"displayName": u.display_name, "mail": u.mail, "userPrincipalName": u.upn}
                for name, value in terms:
                    text = fields.get(name, u.display_name).lower()
                    words = [text, *re.split(r"[\s.@]+", text)]
                    if any(w.startswith(value.lower()) for w in words):
                        return True
                return False

            users = [u for u in users if hit(u)]
        if where:
            upn = _quoted(where, "userPrincipalName")
            mail = _quoted(where, "mail")
            users = [
                u
                for u in users
                if (upn is not None and u.upn.lower() == upn.lower())
                or (mail is not None and u.mail.lower() == mail.lower())
            ]
        top = int(request.query.get("$top", "100") or 100)
        return web.json_response({"value": [u.as_graph() for u in users[:top]]})

    async def _user(self, request: web.Request) -> web.Response:
        request[KIND] = "user"
        tenant = self.tenant
        if not tenant.allows(USERS):
            return _forbidden(USERS)
        key = unquote(request.match_info["user"])
        with tenant.lock:
            user = tenant.users.get(key) or next(
                (u for u in tenant.users.values() if u.upn.lower() == key.lower()), None
            )
        if user is None:
            return _error(404, "Request_ResourceNotFound", f"Resource '{key}' does not exist.")
        return web.json_response(user.as_graph())


NOT_IN_ROSTER = {
    "error": {
        "code": "BotNotInConversationRoster",
        "message": "The bot is not part of the conversation roster.",
    }
}


class TeamsConnectorStub(ThrottlingConnectorStub):
    """The connector stand-in with a tenant behind it: like Teams, it refuses a
    createConversation with a member who does not have the app, and a send or an update
    into a 1:1 conversation whose person does not have it (any more), with 403 and
    Teams' error "BotNotInConversationRoster"; it accepts them once the app is installed.
    Conversations it does not know (not the tenant's) are the plain stand-in's. Every
    other rule (limits, scripts, statuses) is `ThrottlingConnectorStub`'s."""

    def __init__(self, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tenant = tenant
        self.refused: list[tuple[str, str]] = []  # (what, user) refused for a missing app

    def _roster(self, request: web.Request, what: str, user: str) -> web.Response:
        with self._lock:
            self.refused.append((what, user))
        return self._answer(request, 403, NOT_IN_ROSTER)

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        members = body.get("members") or [{}]
        member = str(members[0].get("id") or "")
        user = member.removeprefix("29:")
        if user in self.tenant.users and not self.tenant.has_app(user):
            return self._roster(request, "create", user)
        response = await self._create_with(request, body, member)
        if response.status == 201 and user in self.tenant.users:
            with self.tenant.lock:
                self.tenant.conversations[f"a:{member}"] = user
        return response

    async def _send(self, request: web.Request) -> web.Response:
        user = self.tenant.user_of(request.match_info["conversation"])
        if user is not None and not self.tenant.has_app(user):
            return self._roster(request, "send", user)
        return await super()._send(request)

    async def _update(self, request: web.Request) -> web.Response:
        user = self.tenant.user_of(request.match_info["conversation"])
        if user is not None and not self.tenant.has_app(user):
            return self._roster(request, "update", user)
        return await super()._update(request)

    def cards_per_user(self) -> Counter[str]:
        """Accepted new messages per tenant user (whatever conversation id they went to)."""
        out: Counter[str] = Counter()
        for send in self.sends():
            user = self.tenant.user_of(send["conversation_id"])
            out[user or f"?{send['conversation_id']}"] += 1
        return out


@contextmanager
def stand_ins(
    tenant: Tenant | None = None, **connector: Any
) -> Iterator[tuple[Tenant, GraphStandIn, TeamsConnectorStub]]:
    """A tenant, Graph and the Teams connector over it, running; stopped after."""
    tenant = tenant or Tenant()
    connector.setdefault("global_rate", None)
    teams = TeamsConnectorStub(tenant, **connector)
    with GraphStandIn(tenant) as graph, teams:
        yield tenant, graph, teams
