"""Item 4 (open by mistake), migrations apart, the start-up line and logging
(item 12): `kompetensbot serve` starts anonymous only when asked to and then
only on loopback; partial, misnamed or multi-tenant credentials, and demo or a
fixed date beside credentials, stop it before anything is served (exit 2, one
line on stderr); it does not migrate and refuses an outdated schema; it says
in one timestamped line how it runs.

Most tests run `kompetensbot serve`'s command line in this process with the
server's run loop replaced (nothing is served); a few whole-server ones are slow."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from sqlalchemy import inspect, text

from bot import app as bot_app
from cli import main as cli
from storage.db import make_engine, normalise_url
from storage.migrate import current, head, upgrade
from tests.conftest import PG_URL
from tests.http.conftest import _prepare
from tests.http.harness import TEST_LEDGER_KEY, BotServer, free_port, stop_process, wait_until_up

PREFIX = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TENANT_ID = "99999999-8888-7777-6666-555555555555"
CREDENTIALS = {
    PREFIX + "CLIENTID": CLIENT_ID,
    PREFIX + "CLIENTSECRET": "hemligt",
    PREFIX + "TENANTID": TENANT_ID,
}
MODE_VARIABLES = (
    "KOMPETENSBOT_ANONYMOUS",
    "KOMPETENSBOT_DEMO",
    "KOMPETENSBOT_TODAY",
    "KOMPETENSBOT_HOST",
    "KOMPETENSBOT_ENTRA_CALLERS",
    "KOMPETENSBOT_LOG",
    "MicrosoftAppId",
    "MicrosoftAppPassword",
    "MicrosoftAppTenantId",
    "MicrosoftAppType",
)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('modes') / 'bot.db'}"
    _prepare(url)
    return url


class Served:
    """What `serve` would have served: the run loop's arguments, if it got there."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, app: Any, **kwargs: Any) -> None:
        self.calls.append(kwargs)


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch, database: str, capsys: pytest.CaptureFixture[str]):
    """`kompetensbot serve ARGS` with ENV (and nothing else of the mode's settings):
    (exit code, stderr, what was served)."""

    def clean() -> None:
        for name in list(os.environ):
            if name.startswith("CONNECTIONS__") or name in MODE_VARIABLES:
                monkeypatch.delenv(name)
        # The module's database is sealed with the test key by the first server with
        # credentials (serve needs a key then); every run here uses that key.
        monkeypatch.setenv("KOMPETENSBOT_LEDGER_KEY", TEST_LEDGER_KEY)

    levels = {
        name: logging.getLogger(name).level
        for name in (
            "kompetensbot",
            "microsoft_agents",
            "microsoft_agents.activity.activity",
            "aiohttp.access",
        )
    }

    def run(
        *args: str, env: dict[str, str] | None = None, database_url: str | None = None
    ) -> tuple[int, str, Served]:
        clean()
        served = Served()
        monkeypatch.setattr(web, "run_app", served)  # aiohttp.web.run_app, which the bot serves with
        monkeypatch.setattr(bot_app, "settle_memory", lambda: None)
        monkeypatch.setenv("DATABASE_URL", database_url or database)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = cli.main(["serve", "--port", "3978", *args])
        return code, capsys.readouterr().err, served

    yield run
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _refused(result: tuple[int, str, Served], *names: str) -> None:
    code, err, served = result
    assert served.calls == [], "the server was started"
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("kompetensbot: "), err
    assert "Servern startade inte" in err
    for name in names:
        assert name in err, (name, err)


# --- item 4: open by mistake ----------------------------------------------------------------


def test_no_credentials_and_no_mode_asked_for_does_not_start_anonymous(serve) -> None:
    _refused(serve(), PREFIX + "CLIENTID", PREFIX + "CLIENTSECRET", PREFIX + "TENANTID", "--anonymous")


def test_only_the_classic_bot_framework_names_do_not_start_anonymous(serve) -> None:
    env = {"MicrosoftAppId": CLIENT_ID, "MicrosoftAppPassword": "hemligt", "MicrosoftAppTenantId": TENANT_ID}
    _refused(serve(env=env), "MicrosoftAppId", PREFIX + "CLIENTID")
    _refused(serve(env={"MicrosoftAppPassword": "hemligt"}), "MicrosoftAppPassword", PREFIX + "CLIENTSECRET")
    # ... not even when anonymous mode is asked for: the operator meant credentials.
    _refused(serve("--anonymous", env={"MicrosoftAppId": CLIENT_ID}), "MicrosoftAppId")


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        pytest.param(
            {
                PREFIX + "CLIENTSECRET": "hemligt",
                PREFIX + "TENANTID": TENANT_ID,
                PREFIX + "CLIENTDI": CLIENT_ID,
            },
            [PREFIX + "CLIENTID", PREFIX + "CLIENTDI"],
            id="CLIENTID misspelt",
        ),
        pytest.param(
            {
                PREFIX + "CLIENTSECRET": "hemligt",
                PREFIX + "TENANTID": TENANT_ID,
                PREFIX + "CLIENT_ID": CLIENT_ID,
            },
            [PREFIX + "CLIENTID", PREFIX + "CLIENT_ID"],
            id="CLIENT_ID, a name the SDK does not read",
        ),
        pytest.param(
            {PREFIX + "CLIENTID": CLIENT_ID, PREFIX + "TENANTID": TENANT_ID},
            [PREFIX + "CLIENTSECRET"],
            id="no secret",
        ),
        pytest.param(
            {PREFIX + "CLIENTID": CLIENT_ID, PREFIX + "CLIENTSECRET": "hemligt"},
            [PREFIX + "TENANTID"],
            id="no tenant",
        ),
        pytest.param({PREFIX + "CLIENTSECRET": "hemligt"}, [PREFIX + "CLIENTID"], id="a secret alone"),
    ],
)
def test_partial_credentials_stop_the_server_naming_what_is_missing(serve, env, missing) -> None:
    _refused(serve(env=env), *missing)
    _refused(serve("--anonymous", env=env), *missing)


@pytest.mark.parametrize(
    "tenant", ["common", "organizations", "consumers", "malmo.onmicrosoft.com", "x" * 300]
)
def test_a_tenant_that_is_not_one_guid_stops_the_server(serve, tenant: str) -> None:
    code, err, served = serve(env={**CREDENTIALS, PREFIX + "TENANTID": tenant})
    _refused((code, err, served), PREFIX + "TENANTID", "GUID")
    assert len(err) < 400


def test_an_authority_of_another_tenant_or_anonymous_allowed_stops_the_server(serve) -> None:
    authority = {PREFIX + "AUTHORITY": "https://login.microsoftonline.com/common"}
    _refused(serve(env={**CREDENTIALS, **authority}), PREFIX + "AUTHORITY")
    _refused(serve(env={**CREDENTIALS, PREFIX + "ANONYMOUS_ALLOWED": "true"}), PREFIX + "ANONYMOUS_ALLOWED")


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        pytest.param(["--demo"], {}, "--demo", id="--demo"),
        pytest.param([], {"KOMPETENSBOT_DEMO": "1"}, "--demo", id="KOMPETENSBOT_DEMO=1"),
        pytest.param(["--anonymous"], {}, "--anonymous", id="--anonymous"),
        pytest.param([], {"KOMPETENSBOT_ANONYMOUS": "1"}, "--anonymous", id="KOMPETENSBOT_ANONYMOUS=1"),
        pytest.param(["--today", "2025-06-02"], {}, "--today", id="--today"),
        pytest.param([], {"KOMPETENSBOT_TODAY": "2025-06-02"}, "KOMPETENSBOT_TODAY", id="KOMPETENSBOT_TODAY"),
    ],
)
def test_demo_anonymous_or_a_fixed_date_beside_credentials_stop_the_server(serve, args, env, named) -> None:
    _refused(serve(*args, env={**CREDENTIALS, **env}), named)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "192.168.1.10", "bot.example.se", "127.0.0.1.evil.example"]
)
@pytest.mark.parametrize("mode", ["--anonymous", "--demo"])
def test_anonymous_mode_on_an_address_other_than_loopback_does_not_start(serve, host: str, mode: str) -> None:
    _refused(serve(mode, "--host", host), "127.0.0.1", host)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_anonymous_mode_asked_for_starts_on_loopback(serve, host: str) -> None:
    for args, env in ((["--anonymous"], {}), ([], {"KOMPETENSBOT_ANONYMOUS": "1"}), (["--demo"], {})):
        code, _err, served = serve(*args, "--host", host, env=env)
        assert code == 0 and [c["host"] for c in served.calls] == [host]


def test_credentials_complete_start_and_may_bind_other_interfaces(serve) -> None:
    code, _err, served = serve("--host", "0.0.0.0", env=CREDENTIALS)
    assert code == 0 and [c["host"] for c in served.calls] == ["0.0.0.0"]


# --- migrations apart -----------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables) as a URL: an SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL-testerna kräver KOMPETENSBOT_TEST_DATABASE_URL")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    base = normalise_url(PG_URL)
    try:
        yield f"{base}{'&' if '?' in base else '?'}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_serve_on_an_empty_database_refuses_and_creates_nothing(serve, blank: str) -> None:
    result = serve("--anonymous", database_url=blank)
    _refused(result, "kompetensbot db upgrade")
    engine = make_engine(blank)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_serve_on_an_outdated_schema_refuses_and_changes_nothing(serve, blank: str) -> None:
    engine = make_engine(blank)
    upgrade(engine, "0005")
    result = serve("--anonymous", database_url=blank)
    _refused(result, "kompetensbot db upgrade", "0005", str(head()))
    assert current(engine) == "0005"
    engine.dispose()


# --- the start-up line and logging (item 12) ------------------------------------------------


def test_the_start_up_line_names_the_mode_the_app_id_and_the_cities(serve, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="kompetensbot"):
        code, _err, _served = serve(env=CREDENTIALS)
    assert code == 0
    lines = [
        r.getMessage() for r in caplog.records if r.name == "kompetensbot.app" and "serving" in r.getMessage()
    ]
    assert len(lines) == 1
    assert "mode credentials" in lines[0] and f"app id {CLIENT_ID}" in lines[0]
    assert "Malmö stad (malmo)" in lines[0]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kompetensbot"):
        serve("--demo")
    demo = [r for r in caplog.records if r.name == "kompetensbot.app" and "serving" in r.getMessage()]
    assert len(demo) == 1 and demo[0].levelno == logging.WARNING
    assert "mode demo" in demo[0].getMessage() and "app id none" in demo[0].getMessage()


def test_logging_is_configured_once_with_timestamps_and_serve_keeps_its_info(serve, monkeypatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: calls.append(kwargs))
    code, _err, _served = serve("--anonymous")
    assert code == 0
    assert len(calls) == 1
    (handler,) = calls[0]["handlers"]
    record = logging.LogRecord("kompetensbot.app", logging.INFO, __file__, 1, "hej", None, None)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO kompetensbot.app: hej", handler.format(record))
    assert logging.getLogger("kompetensbot").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("microsoft_agents").getEffectiveLevel() == logging.WARNING


# --- whole servers ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_real_server_with_credentials_logs_its_start_with_a_timestamp(
    database: str, tmp_path: Path
) -> None:
    server = BotServer(database, env=CREDENTIALS).start()
    try:
        text = server.log.read_text()
    finally:
        server.stop()
    assert re.search(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO kompetensbot\.app: kompetensbot serving on 127\.0\.0\.1:\d+: "
        rf"mode credentials .*app id {CLIENT_ID}, tenant {TENANT_ID}, cities: Malmö stad \(malmo\)$",
        text,
        re.MULTILINE,
    ), text


@pytest.mark.slow
def test_a_real_server_without_a_mode_exits_2_and_serves_nothing(database: str, tmp_path: Path) -> None:
    port = free_port()
    exe = Path(sys.executable).parent / "kompetensbot"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("CONNECTIONS__") and k not in MODE_VARIABLES
    }
    env["KOMPETENSBOT_LEDGER_KEY"] = TEST_LEDGER_KEY  # the module's database is sealed with it
    result = subprocess.run(
        [str(exe), "serve", "--port", str(port)],
        env={**env, "DATABASE_URL": database},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and PREFIX + "CLIENTID" in result.stderr
    # and with the mode asked for, the same command serves
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(exe), "serve", "--anonymous", "--port", str(port)],
            env={**env, "DATABASE_URL": database},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(process, f"http://127.0.0.1:{port}/healthz", log, "the server", 30)
    finally:
        stop_process(process)
    assert "mode anonymous" in log.read_text()


@pytest.mark.parametrize(
    "urls", ["http://bot.example.se", "https://smba.trafficmanager.net/emea/", "*", "http://localhost.:1"]
)
def test_a_service_url_list_that_is_not_origins_stops_the_server_in_one_line(serve, urls: str) -> None:
    """It started, logged its start line and then died with a traceback."""
    code, err, served = serve(env={**CREDENTIALS, "KOMPETENSBOT_SERVICE_URLS": urls})
    _refused((code, err, served), "KOMPETENSBOT_SERVICE_URLS")
