"""`kompetensbot package`: the zip an administrator uploads to Teams.

The zip's manifest and language file validate against the official schemas,
the ids are filled in, the settings come from the environment, and a
malformed id or setting is refused with exit 2, one Swedish line on stderr
and nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cli.main import main
from cli.teams_package import PLACEHOLDER_ID, SETTINGS, build_package, zip_bytes
from tests.manifest.schemas import MANIFEST_DIR, ROOT, describe, teams_errors
from tests.manifest.test_manifest import node_validate

APP_ID = "1B2C3D4E-5F60-4718-89AB-CDEF01234567"
BOT_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


@pytest.fixture(autouse=True)
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)


def package(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(["package", *args])
    except SystemExit as exit_:  # argparse refuses before main's handlers
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_zip_holds_the_manifest_the_language_file_and_the_icons_at_its_root(capsys, tmp_path) -> None:
    out = tmp_path / "build" / "kompetensbot.zip"
    code, said, err = package(capsys, "--app-id", APP_ID, "--out", str(out))
    assert code == 0, err
    files = read_zip(out)
    assert sorted(files) == ["color.png", "en.json", "manifest.json", "outline.png"]
    for name in ("en.json", "color.png", "outline.png"):
        assert files[name] == (MANIFEST_DIR / name).read_bytes()
    manifest = json.loads(files["manifest.json"])
    assert manifest["id"] == APP_ID.lower()
    assert manifest["bots"][0]["botId"] == APP_ID.lower(), "the bot id defaults to the app id"
    assert str(out) in said and APP_ID.lower() in said


def test_the_packaged_manifest_and_language_file_validate(teams_schemas, capsys, tmp_path) -> None:
    out = tmp_path / "k.zip"
    assert package(capsys, "--app-id", APP_ID, "--bot-id", BOT_ID, "--out", str(out))[0] == 0
    files = read_zip(out)
    manifest = json.loads(files["manifest.json"])
    assert (manifest["id"], manifest["bots"][0]["botId"]) == (APP_ID.lower(), BOT_ID)
    errors = teams_errors(manifest)
    assert not errors, describe(errors)
    errors = teams_errors(json.loads(files["en.json"]))
    assert not errors, describe(errors)


def test_the_package_s_own_validator_accepts_the_packaged_manifest(node, capsys, tmp_path) -> None:
    out = tmp_path / "k.zip"
    assert package(capsys, "--app-id", APP_ID, "--out", str(out))[0] == 0
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(out) as archive:
        archive.extractall(unpacked)
    assert node_validate(node, unpacked / "manifest.json")["errors"] == []


def test_the_settings_come_from_the_environment(teams_schemas, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KOMPETENSBOT_DEVELOPER_NAME", "Malmö stad, stadskontoret")
    monkeypatch.setenv("KOMPETENSBOT_WEBSITE_URL", "https://malmo.se/kompetensbot")
    monkeypatch.setenv("KOMPETENSBOT_PRIVACY_URL", "https://malmo.se/kompetensbot/integritet")
    monkeypatch.setenv("KOMPETENSBOT_TERMS_URL", " https://malmo.se/kompetensbot/villkor ")
    out = tmp_path / "k.zip"
    code, _, err = package(capsys, "--app-id", APP_ID, "--out", str(out))
    assert code == 0 and err == ""
    manifest = json.loads(read_zip(out)["manifest.json"])
    assert manifest["developer"] == {
        "name": "Malmö stad, stadskontoret",
        "websiteUrl": "https://malmo.se/kompetensbot",
        "privacyUrl": "https://malmo.se/kompetensbot/integritet",
        "termsOfUseUrl": "https://malmo.se/kompetensbot/villkor",
    }
    assert not teams_errors(manifest)


def test_unset_settings_keep_the_example_values_and_are_named(capsys, tmp_path) -> None:
    code, _, err = package(capsys, "--app-id", APP_ID, "--out", str(tmp_path / "k.zip"))
    assert code == 0
    assert err.count("\n") == 1 and err.startswith("kompetensbot: obs: ")
    for setting in SETTINGS:
        assert setting.env in err
    template = json.loads((MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8"))
    manifest = json.loads(read_zip(tmp_path / "k.zip")["manifest.json"])
    assert manifest["developer"] == template["developer"]


def test_the_same_ids_give_the_same_bytes() -> None:
    assert zip_bytes(build_package(APP_ID, environ={})) == zip_bytes(build_package(APP_ID, environ={}))


BAD_IDS = [
    "",
    "nope",
    "1b2c3d4e-5f60-4718-89ab-cdef0123456",  # one digit short
    "1b2c3d4e-5f60-4718-89ab-cdef012345678",  # one digit too many
    "1b2c3d4e5f60471889abcdef01234567",  # no dashes
    "{1b2c3d4e-5f60-4718-89ab-cdef01234567}",
    "1b2c3d4e-5f60-4718-89ab-cdef0123456g",
    "1b2c3d4e-5f60-4718-89ab-cdef01234567\n2",
    PLACEHOLDER_ID,
]


@pytest.mark.parametrize("option", ["--app-id", "--bot-id"])
@pytest.mark.parametrize("bad", BAD_IDS)
def test_a_malformed_id_is_refused_and_nothing_is_written(capsys, tmp_path, option, bad) -> None:
    out = tmp_path / "build" / "kompetensbot.zip"
    args = (
        ["--app-id", bad, "--bot-id", BOT_ID]
        if option == "--app-id"
        else ["--app-id", APP_ID, "--bot-id", bad]
    )
    code, said, err = package(capsys, *args, "--out", str(out))
    assert code == 2
    assert said == ""
    assert err.startswith(f"kompetensbot: {option} ") and err.count("\n") == 1, err
    assert "GUID" in err or "platshållare" in err
    assert not (tmp_path / "build").exists(), "nothing may be written"


def test_a_refusal_leaves_an_earlier_package_untouched(capsys, tmp_path) -> None:
    out = tmp_path / "k.zip"
    assert package(capsys, "--app-id", APP_ID, "--out", str(out))[0] == 0
    before = out.read_bytes()
    assert package(capsys, "--app-id", "nope", "--out", str(out))[0] == 2
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.zip"]


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("KOMPETENSBOT_PRIVACY_URL", "http://malmo.se/integritet"),
        ("KOMPETENSBOT_WEBSITE_URL", "malmo.se"),
        ("KOMPETENSBOT_TERMS_URL", "https://malmo.se/villkor och mer"),
        ("KOMPETENSBOT_DEVELOPER_NAME", "x" * 33),
    ],
)
def test_a_bad_setting_is_refused_and_nothing_is_written(capsys, tmp_path, monkeypatch, env, value) -> None:
    monkeypatch.setenv(env, value)
    out = tmp_path / "build" / "k.zip"
    code, said, err = package(capsys, "--app-id", APP_ID, "--out", str(out))
    assert code == 2 and said == ""
    assert err.startswith(f"kompetensbot: {env} ska vara ") and err.count("\n") == 1, err
    assert not (tmp_path / "build").exists()


def test_the_app_id_is_required(capsys, tmp_path) -> None:
    code, _, err = package(capsys, "--out", str(tmp_path / "k.zip"))
    assert code == 2
    assert "--app-id" in err and err.startswith("kompetensbot: ")
    assert not list(tmp_path.iterdir())


def test_the_installed_command_writes_the_default_path(tmp_path) -> None:
    """`kompetensbot package` as an administrator runs it: build/kompetensbot.zip
    under the current directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOMPETENSBOT_")}
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "package", "--app-id", APP_ID],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(read_zip(tmp_path / "build" / "kompetensbot.zip")) == [
        "color.png",
        "en.json",
        "manifest.json",
        "outline.png",
    ]


CLIENT_ID = "5c1e2d3f-4a5b-4c6d-8e7f-901234567890"


def test_web_application_info_names_the_registration_when_a_client_id_is_set(
    teams_schemas, capsys, tmp_path, monkeypatch
) -> None:
    """Issue 22: Teams' admin center shows the Graph permissions of the app registration
    that webApplicationInfo names; without a client id the package names none (not the
    template's placeholder)."""
    monkeypatch.delenv("KOMPETENSBOT_WEB_APP_RESOURCE", raising=False)
    monkeypatch.delenv("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID", raising=False)
    assert package(capsys, "--app-id", APP_ID, "--out", str(tmp_path / "none.zip"))[0] == 0
    assert "webApplicationInfo" not in json.loads(read_zip(tmp_path / "none.zip")["manifest.json"])

    monkeypatch.setenv("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID", CLIENT_ID.upper())
    assert package(capsys, "--app-id", APP_ID, "--out", str(tmp_path / "k.zip"))[0] == 0
    manifest = json.loads(read_zip(tmp_path / "k.zip")["manifest.json"])
    assert manifest["webApplicationInfo"] == {"id": CLIENT_ID, "resource": f"api://botid-{CLIENT_ID}"}
    assert not teams_errors(manifest), describe(teams_errors(manifest))

    monkeypatch.setenv("KOMPETENSBOT_WEB_APP_RESOURCE", "https://malmo.se/kompetensbot")
    code, said, err = package(capsys, "--app-id", APP_ID, "--out", str(tmp_path / "bad" / "k.zip"))
    assert code == 2 and said == "" and "KOMPETENSBOT_WEB_APP_RESOURCE" in err and "api://" in err
    assert not (tmp_path / "bad").exists()


# --- one registration per city (issue 23) ---------------------------------------------------

MALMO_APP = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
HL_APP = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"


@pytest.fixture
def two_registrations(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("CONNECTIONS__")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("KOMPETENSBOT_WEB_APP_RESOURCE", raising=False)
    monkeypatch.delenv("KOMPETENSBOT_REGISTRATIONS_FILE", raising=False)
    for connection, app, tenant in (
        ("MALMO", MALMO_APP, "a0a0a0a0-0000-4000-8000-a0a0a0a0a0a0"),
        ("HL", HL_APP, "b0b0b0b0-0000-4000-8000-b0b0b0b0b0b0"),
    ):
        monkeypatch.setenv(f"CONNECTIONS__{connection}__SETTINGS__CLIENTID", app)
        monkeypatch.setenv(f"CONNECTIONS__{connection}__SETTINGS__CLIENTSECRET", "hemligt")
        monkeypatch.setenv(f"CONNECTIONS__{connection}__SETTINGS__TENANTID", tenant)
    monkeypatch.setenv("KOMPETENSBOT_CITY_CONNECTIONS", "malmo:MALMO,hagersten-liljeholmen:HL")


@pytest.mark.parametrize(("city", "app"), [("malmo", MALMO_APP), ("hagersten-liljeholmen", HL_APP)])
def test_each_city_s_package_names_its_own_registration(
    two_registrations, teams_schemas, capsys, tmp_path, monkeypatch, city, app
) -> None:
    monkeypatch.chdir(tmp_path)
    code, said, err = package(capsys, "--city", city)
    assert code == 0, err
    out = tmp_path / "build" / f"kompetensbot-{city}.zip"
    manifest = json.loads(read_zip(out)["manifest.json"])
    assert (manifest["id"], manifest["bots"][0]["botId"]) == (app, app)
    assert manifest["webApplicationInfo"] == {"id": app, "resource": f"api://botid-{app}"}
    assert f"kompetensbot-{city}.zip" in said
    assert not teams_errors(manifest), describe(teams_errors(manifest))


def test_several_registrations_and_no_city_name_the_cities_and_write_nothing(
    two_registrations, capsys, tmp_path
) -> None:
    code, said, err = package(capsys, "--app-id", APP_ID, "--out", str(tmp_path / "k.zip"))
    assert code == 2 and said == ""
    assert err.startswith("kompetensbot: Registreringarna är 2") and err.count("\n") == 1, err
    assert "hagersten-liljeholmen, malmo" in err and "--city" in err
    assert not list(tmp_path.iterdir())


def test_a_city_without_a_registration_is_refused_naming_those_that_have_one(
    two_registrations, capsys, tmp_path
) -> None:
    code, said, err = package(capsys, "--city", "lund", "--out", str(tmp_path / "k.zip"))
    assert code == 2 and said == ""
    assert "Staden lund har ingen egen registrering" in err and "hagersten-liljeholmen, malmo" in err
    assert not list(tmp_path.iterdir())
