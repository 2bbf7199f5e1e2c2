"""The container (README "Containers"), checked without a container engine: this machine has
the docker client but no engine and no registry, so the image is never built here. Instead:

- the Dockerfile is linted with hadolint (every rule, style included) and compose.yaml is
  checked against the Compose specification's JSON schema (check-jsonschema's vendored copy);
- the image's own commands, read from the Dockerfile (ENV, ENTRYPOINT, CMD, HEALTHCHECK) and
  compose.yaml (each service's command, the settings of .env.example filled in), run as they
  are on this machine, with the venv in the place of the image's /opt/venv, against a fresh
  database: the migration migrates, the entry point serves, and the health check exits 0
  while it serves and 1 once it is stopped. SQLite, and PostgreSQL when
  KOMPETENSBOT_TEST_DATABASE_URL is set (a schema of its own, in the URL, dropped after).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bot.config import PREFIX
from bot.registrations import SDK_NAMES
from cli.health import default_url
from cli.main import main
from storage.db import make_engine
from storage.migrate import current, head
from tests.http.harness import TEST_LEDGER_KEY, free_port
from tests.security.test_modes import blank  # noqa: F401 - fixture: an empty database, SQLite or a PG schema

pytestmark = (
    pytest.mark.slow
)  # the image's commands as processes: start early (tests/conftest.py orders them)

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
VENV_BIN = Path(sys.executable).parent
IMAGE_VENV = "/opt/venv"


# --- reading the Dockerfile ------------------------------------------------------------------


@dataclass
class Stage:
    """One FROM … stage of the Dockerfile, as the image it makes would run."""

    base: str
    env: list[tuple[str, str]] = field(default_factory=list)  # in order: a value may name an earlier one
    run: list[str] = field(default_factory=list)
    copy: list[list[str]] = field(default_factory=list)
    expose: list[int] = field(default_factory=list)
    user: str | None = None
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    healthcheck_options: dict[str, str] = field(default_factory=dict)


def instructions(text: str) -> Iterator[tuple[str, str]]:
    """(INSTRUCTION, its arguments) with continuation lines joined and comments left out."""
    logical = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue  # Docker drops comment lines, also between continued lines
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        word, _, rest = logical.partition(" ")
        yield word.upper(), rest.strip()
        logical = ""
    assert not logical, f"the Dockerfile ends inside a continued line: {logical!r}"


def exec_form(text: str, what: str) -> list[str]:
    """A JSON array (exec form): the process gets the signals itself, no shell between."""
    value = json.loads(text)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), f"{what}: {text!r}"
    return value


def read_dockerfile(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for word, rest in instructions(text):
        if word == "FROM":
            stages.append(Stage(base=rest.split()[0]))
            continue
        stage = stages[-1]
        if word == "ENV":
            for pair in shlex.split(rest):  # NAME=value NAME=value …
                name, _, value = pair.partition("=")
                stage.env.append((name, value))
        elif word == "RUN":
            stage.run.append(rest)
        elif word == "COPY":
            stage.copy.append(shlex.split(rest))
        elif word == "EXPOSE":
            stage.expose += [int(port.split("/")[0]) for port in rest.split()]
        elif word == "USER":
            stage.user = rest
        elif word == "ENTRYPOINT":
            stage.entrypoint = exec_form(rest, "ENTRYPOINT in exec form")
        elif word == "CMD":
            stage.cmd = exec_form(rest, "CMD in exec form")
        elif word == "HEALTHCHECK":
            options, _, command = rest.partition("CMD ")
            stage.healthcheck_options = dict(o.lstrip("-").split("=", 1) for o in options.split())
            stage.healthcheck = exec_form(command, "HEALTHCHECK CMD in exec form")
    return stages


STAGES = read_dockerfile(DOCKERFILE.read_text())
IMAGE = STAGES[-1]


def image_env(stage: Stage) -> dict[str, str]:
    """The environment the image's processes start with, on this machine: a bare one (no
    setting of the developer's shell leaks in), then the Dockerfile's ENV in order, $NAME
    expanded as Docker does and the image's /opt/venv read as this venv."""
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
    if "TMPDIR" in os.environ:
        env["TMPDIR"] = os.environ["TMPDIR"]
    for name, value in stage.env:
        value = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), value)
        env[name] = value.replace(IMAGE_VENV + "/bin", str(VENV_BIN))
    return env


# --- reading compose.yaml and .env.example -------------------------------------------------


def read_compose() -> dict[str, Any]:
    compose = YAML(typ="safe").load(COMPOSE.read_text())
    assert isinstance(compose, dict)
    return compose


def kompetensbot_services(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the image (Dockerfile), by name."""
    return {
        name: service for name, service in compose["services"].items() if service.get("build") in (".", "./")
    }


ENV_LINE = re.compile(r"^#?([A-Z][A-Z0-9_]*)=(.*)$")


def env_example() -> dict[str, str | None]:
    """.env.example's settings: value, or None for one commented out (optional)."""
    found: dict[str, str | None] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        m = ENV_LINE.match(line.strip())
        if m:
            found[m.group(1)] = None if line.startswith("#") else m.group(2)
    return found


TEST_SETTINGS = {
    "POSTGRES_PASSWORD": "0123456789abcdef",
    f"{PREFIX}CLIENTID": "00000000-0000-4000-8000-0000000000b0",
    f"{PREFIX}CLIENTSECRET": "test-secret-not-used",
    f"{PREFIX}TENANTID": "00000000-0000-4000-8000-0000000000c1",
    "KOMPETENSBOT_LEDGER_KEY": TEST_LEDGER_KEY,
}
"""What a city writes into .env, made up (no request leaves this machine: nothing here asks
Entra for a token, that happens only when the bot sends)."""

STAYS_HERE = {
    # Group sync would ask Microsoft Graph after a minute with these credentials; the test is
    # over long before, and so that it stays so on a slow machine, it is off.
    "KOMPETENSBOT_GROUP_SYNC_SECONDS": "0",
}


def dot_env() -> dict[str, str]:
    """The .env of compose.yaml, as a city fills in .env.example."""
    values = {name: value for name, value in env_example().items() if value is not None}
    unfilled = sorted(name for name, value in values.items() if not value and name not in TEST_SETTINGS)
    assert not unfilled, f".env.example asks for settings this test does not fill in: {unfilled}"
    return {name: value or TEST_SETTINGS[name] for name, value in values.items()}


def command_of(service: Mapping[str, Any]) -> list[str]:
    """What the container runs: the image's entry point, then the service's command or the CMD."""
    command = service.get("command")
    if command is None:
        return IMAGE.entrypoint + IMAGE.cmd
    assert isinstance(command, list), f"command in exec form (a list): {command!r}"
    return IMAGE.entrypoint + command


# --- the linters ---------------------------------------------------------------------------


def hadolint(path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """hadolint with every rule at every level failing (style too), no configuration of this
    machine's read (an explicit one)."""
    config = tmp_path / "hadolint.yaml"
    config.write_text("failure-threshold: style\n")
    return subprocess.run(
        [str(VENV_BIN / "hadolint"), "--config", str(config), "--format", "json", "--no-color", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    result = hadolint(DOCKERFILE, tmp_path)
    assert result.returncode == 0 and json.loads(result.stdout) == [], result.stdout + result.stderr


def test_hadolint_refuses_what_it_should(tmp_path: Path) -> None:
    """The linter really runs: the same Dockerfile on an unpinned base and installing an
    unpinned package (no lock, no hashes) is refused, each rule named."""
    bad = DOCKERFILE.read_text().replace(
        "FROM python:3.11-slim-bookworm AS build", "FROM python:latest AS build", 1
    )
    bad = bad.replace("--require-hashes -r requirements/main.txt", "kompetensbot", 1)
    assert bad.count("python:latest") == 1 and "--require-hashes -r" not in bad
    (tmp_path / "Dockerfile").write_text(bad)
    result = hadolint(tmp_path / "Dockerfile", tmp_path)
    codes = {finding["code"] for finding in json.loads(result.stdout)}
    assert result.returncode == 1 and {"DL3007", "DL3013"} <= codes, result.stdout


def compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(VENV_BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            "-o",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_yaml_follows_the_compose_specification(tmp_path: Path) -> None:
    result = compose_schema(COMPOSE)
    assert result.returncode == 0 and json.loads(result.stdout)["status"] == "ok", result.stdout


def test_the_compose_schema_refuses_what_it_should(tmp_path: Path) -> None:
    """The schema really checks: a condition Compose does not know is refused, by path."""
    bad = COMPOSE.read_text().replace("service_completed_successfully", "service_finished")
    (tmp_path / "compose.yaml").write_text(bad)
    result = compose_schema(tmp_path / "compose.yaml")
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["status"] == "fail"
    assert any("service_finished" in e["best_deep_match"]["message"] for e in report["errors"]), report


# --- what the image holds --------------------------------------------------------------------


def test_the_image_installs_the_lock_and_every_package() -> None:
    """The build stage installs requirements/main.txt with its hashes, then the project without
    dependencies, and copies every package pyproject.toml packs (a package left out would be
    missing in the image only); .dockerignore lets each through and keeps .env out."""
    build = STAGES[0]
    assert any("--require-hashes -r requirements/main.txt" in run for run in build.run), build.run
    assert any("--no-deps ." in run for run in build.run), build.run
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = {pattern.rstrip("*") for pattern in find["include"]}
    copied = {args[0] for args in build.copy if not args[0].startswith("--")}
    assert packages | {"pyproject.toml", "requirements/main.txt"} <= copied, copied
    allowed = {
        line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line[:1] == "!"
    }
    assert copied <= allowed, copied - allowed
    assert ".env" not in allowed and "*" in (ROOT / ".dockerignore").read_text().splitlines()


def test_the_image_runs_as_a_user_without_rights() -> None:
    assert IMAGE.user and IMAGE.user.split(":")[0] not in ("root", "0"), IMAGE.user
    assert any(args[:1] == ["--from=build"] for args in IMAGE.copy), "the venv comes from the build stage"


def test_compose_runs_the_migration_once_before_two_servers_behind_the_proxy() -> None:
    """compose.yaml: the database is healthy before the migration runs, the migration has
    ended with 0 before a server starts, two servers run the image's CMD, and the proxy's
    configuration balances /api/messages over exactly those, on the port the image exposes."""
    compose = read_compose()
    services = kompetensbot_services(compose)
    db = compose["services"]["db"]
    assert db.get("healthcheck"), "the database needs a health check for service_healthy"
    migrate = services["migrate"]
    assert command_of(migrate) == ["kompetensbot", "db", "upgrade"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"
    servers = sorted(name for name, s in services.items() if command_of(s) == IMAGE.entrypoint + IMAGE.cmd)
    assert len(servers) == 2 and IMAGE.entrypoint + IMAGE.cmd == ["kompetensbot", "serve"], servers
    for name in servers:
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    proxy = compose["services"]["proxy"]
    assert len(proxy["ports"]) == 1
    (mount,) = [v for v in proxy["volumes"] if v.startswith("./deploy/")]
    config = (ROOT / mount.split(":")[0]).read_text()
    block = config.split("handle /api/messages", 1)[1].split("\n\t}", 1)[0]
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", block)
    assert upstreams, block
    assert sorted(upstreams.group(1).split()) == [f"{name}:{IMAGE.expose[0]}" for name in servers]
    assert "health_uri /healthz" in block


def test_every_setting_in_env_example_is_read() -> None:
    """A misspelt name in .env.example would be ignored without a word: each one is read by
    compose.yaml, by our code, or is one of the SDK's registration settings."""
    sources = COMPOSE.read_text() + "".join(
        p.read_text() for package in ("bot", "storage", "cli") for p in (ROOT / package).rglob("*.py")
    )
    for name in env_example():
        if name.startswith(PREFIX):
            assert name.removeprefix(PREFIX) in SDK_NAMES, name
        else:
            assert f'"{name}"' in sources or f"${{{name}" in sources, f"{name} is read nowhere"


# --- the health check --------------------------------------------------------------------------


def test_the_health_check_finds_the_server_the_environment_starts() -> None:
    """The container's check asks the port serve listens on (PORT, else KOMPETENSBOT_PORT,
    else 3978), on loopback when serve listens on every address."""
    assert default_url({}) == "http://127.0.0.1:3978/healthz"
    assert default_url({"KOMPETENSBOT_HOST": "0.0.0.0", "KOMPETENSBOT_PORT": "4000"}) == (
        "http://127.0.0.1:4000/healthz"
    )
    assert default_url({"PORT": "8000", "KOMPETENSBOT_PORT": "4000"}) == "http://127.0.0.1:8000/healthz"
    assert default_url({"KOMPETENSBOT_HOST": "::"}) == "http://[::1]:3978/healthz"


class _Answers503(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"status": "fel", "database": "svarar inte"}).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


def test_health_says_the_database_does_not_answer(capsys: pytest.CaptureFixture[str]) -> None:
    """A server up whose database does not answer (503) is unhealthy, and says why."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers503)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/healthz"
        assert main(["health", "--url", url]) == 1
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err
    assert f"{url} svarade 503 (databasen: svarar inte); väntat 200" in err, err


def test_health_refuses_an_address_that_is_not_http(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", "--url", "127.0.0.1:3978/healthz"]) == 2
    assert "--url ska vara en http- eller https-adress" in capsys.readouterr().err


# --- the image's commands, run here --------------------------------------------------------------


def container_env(service: Mapping[str, Any], database_url: str, port: int) -> dict[str, str]:
    """A service's environment as Compose gives it: the image's, then .env (env_file), then
    its `environment` (DATABASE_URL: here the test's database), and the port (PORT, as a
    platform that chooses the port sets it)."""
    assert service["env_file"] == ".env"
    environment = dict(service.get("environment") or {})
    assert set(environment) == {"DATABASE_URL"}, environment
    return {**image_env(IMAGE), **dot_env(), "DATABASE_URL": database_url, "PORT": str(port), **STAYS_HERE}


def health(env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The image's HEALTHCHECK, as Docker runs it (exec form, the container's environment)."""
    timeout = float(IMAGE.healthcheck_options["timeout"].rstrip("s"))
    return subprocess.run(
        IMAGE.healthcheck, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def test_the_image_migrates_serves_and_is_checked(blank: str, tmp_path: Path) -> None:
    """compose.yaml's migrate runs `kompetensbot db upgrade` to the newest schema; then the
    image's entry point serves on every address (credentials in .env), the HEALTHCHECK exits
    0 while it serves, a stop (SIGTERM, as docker stop sends) ends it within compose's grace
    period, and the HEALTHCHECK then exits 1 saying nobody listens."""
    services = kompetensbot_services(read_compose())
    port = free_port()
    workdir = tmp_path / "app"  # the image's WORKDIR
    workdir.mkdir()

    migrate = services["migrate"]
    done = subprocess.run(
        command_of(migrate),
        env=container_env(migrate, blank, port),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Databasen är uppgraderad"), done.stdout
    engine = make_engine(blank, pool_size=1)
    try:
        assert current(engine) == head()
    finally:
        engine.dispose()

    server = services["bot-a"]
    env = container_env(server, blank, port)
    assert env["KOMPETENSBOT_HOST"] == "0.0.0.0"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command_of(server), env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while (checked := health(env, workdir)).returncode != 0:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, checked.stderr + log.read_text()
            time.sleep(0.2)
        assert checked.stdout.startswith(f"kompetensbot svarar: http://127.0.0.1:{port}/healthz gav 200")
        assert "mode credentials" in log.read_text() and f"0.0.0.0:{port}" in log.read_text()

        process.send_signal(signal.SIGTERM)
        grace = float(str(server["stop_grace_period"]).rstrip("s"))
        assert process.wait(grace) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)

    down = health(env, workdir)
    assert down.returncode == 1, down
    assert (
        f"kompetensbot svarar inte på http://127.0.0.1:{port}/healthz: ingen server lyssnar där"
        in down.stderr
    )


def test_the_image_without_credentials_does_not_serve(tmp_path: Path) -> None:
    """The image listens on every address, which anonymous mode may not: asked to run without
    the registration it stops at once (exit 2) and says where it may listen; nothing listens,
    nothing is written. (Without credentials and without asking, serve names the registration's
    settings to set: tests/security/test_modes.py.)"""
    env = {
        **image_env(IMAGE),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}",
        "PORT": str(free_port()),
        "KOMPETENSBOT_ANONYMOUS": "1",
    }
    done = subprocess.run(
        IMAGE.entrypoint + IMAGE.cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done
    assert "lyssnar servern bara på 127.0.0.1, ::1 eller localhost, inte på 0.0.0.0" in done.stderr, done
    assert not (tmp_path / "k.db").exists()
