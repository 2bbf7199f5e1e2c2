"""The Teams app package: the zip an administrator uploads to Teams.

`manifest/manifest.json` in the repository is a template that itself validates
against the Teams schema: its app id and bot id are the all-zero GUID
(`PLACEHOLDER_ID`), and its developer name and URLs are example values.
`build_package` fills in the real ids and the settings read from the
environment and returns the files of the zip; `write_package` writes it.

The zip holds, at its root: manifest.json, every language file the manifest
names (en.json) and the two icons (color.png, outline.png).

Settings (environment variables, read when the package is built):

- KOMPETENSBOT_DEVELOPER_NAME  the publisher shown in Teams (at most 32 characters)
- KOMPETENSBOT_WEBSITE_URL     the support page
- KOMPETENSBOT_PRIVACY_URL     the privacy statement
- KOMPETENSBOT_TERMS_URL       the terms of use

The URLs must be https. A setting left unset keeps the template's example
value, and `unset_settings` names it, so the command line can warn.

`webApplicationInfo` (issue 22) names the bot's app registration in Entra ID, so
that Teams' admin center shows the Microsoft Graph permissions an administrator
consents to for the app (README "Microsoft Graph: samtycke och behörigheter"): its
`id` is the registration's client id (CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID,
read when the package is built) and its `resource` `api://botid-<client id>`, or
KOMPETENSBOT_WEB_APP_RESOURCE. Without a client id the package has no
webApplicationInfo (the template's placeholder is removed).

With a registration per city (issue 23, bot.registrations), `kompetensbot package --city
<slug>` gives the city's registration's client id as `client_id` (and, unless given, as the
app id and bot id): each city uploads its own package to its own tenant.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import DomainError, RuleError

MANIFEST_DIR = Path(__file__).resolve().parent.parent / "manifest"
"""The template: manifest.json, its language files and icons (the repository's manifest/)."""

PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
"""The app id and bot id in the template, replaced when the package is built."""

ICONS = ("color.png", "outline.png")
DEFAULT_OUT = Path("build/kompetensbot.zip")

_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
"""The Teams schema's guid pattern (definitions/guid)."""

_ZIP_TIME = (2025, 1, 1, 0, 0, 0)
"""A fixed time stamp for the zip's entries, so the same input gives the same bytes."""

DEVELOPER_NAME_MAX = 32
URL_MAX = 2048


@dataclass(frozen=True, slots=True)
class Setting:
    env: str
    path: tuple[str, str]
    """Where the value goes in the manifest: (object, key)."""


SETTINGS = (
    Setting("KOMPETENSBOT_DEVELOPER_NAME", ("developer", "name")),
    Setting("KOMPETENSBOT_WEBSITE_URL", ("developer", "websiteUrl")),
    Setting("KOMPETENSBOT_PRIVACY_URL", ("developer", "privacyUrl")),
    Setting("KOMPETENSBOT_TERMS_URL", ("developer", "termsOfUseUrl")),
)


CLIENT_ID_ENV = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"
RESOURCE_ENV = "KOMPETENSBOT_WEB_APP_RESOURCE"


def _refuse(code: str, message: str, field: str | None = None) -> DomainError:
    return DomainError(RuleError(code, message, field))


def parse_guid(text: str | None, option: str) -> str:
    """The GUID in `text`, in lower case; a malformed one, or the template's
    placeholder, is refused with a Swedish message naming `option`."""
    value = (text or "").strip()
    if not _GUID.fullmatch(value):
        shown = " ".join(value.split())  # on one line
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise _refuse(
            "bad_guid",
            f"{option} ska vara ett GUID som 12345678-9abc-def0-1234-56789abcdef0, inte '{shown}'.",
            option,
        )
    if value == PLACEHOLDER_ID:
        raise _refuse(
            "placeholder_guid",
            f"{option} får inte vara {PLACEHOLDER_ID}: det är mallens platshållare. "
            "Ange id:t från botens Azure-registrering.",
            option,
        )
    return value.lower()


def _setting_value(setting: Setting, text: str) -> str:
    value = text.strip()
    if setting.env == "KOMPETENSBOT_DEVELOPER_NAME":
        if not value or len(value) > DEVELOPER_NAME_MAX:
            raise _refuse(
                "bad_setting",
                f"{setting.env} ska vara 1–{DEVELOPER_NAME_MAX} tecken, inte {len(value)}.",
                setting.env,
            )
        return value
    if not re.match(r"https://[^\s/]+\.[^\s/]+", value) or len(value) > URL_MAX or re.search(r"\s", value):
        raise _refuse("bad_setting", f"{setting.env} ska vara en https-adress, inte '{value}'.", setting.env)
    return value


def unset_settings(environ: Mapping[str, str] | None = None) -> list[str]:
    """The settings left unset (the package keeps the template's example value)."""
    env = os.environ if environ is None else environ
    return [s.env for s in SETTINGS if not env.get(s.env, "").strip()]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    except FileNotFoundError:
        raise _refuse("missing_template", f"Mallfilen {path} saknas.") from None


def language_files(manifest: Mapping[str, Any]) -> list[str]:
    """The language files the manifest names (additionalLanguages, defaultLanguageFile)."""
    info = manifest.get("localizationInfo") or {}
    names = [lang["file"] for lang in info.get("additionalLanguages", [])]
    if info.get("defaultLanguageFile"):
        names.append(info["defaultLanguageFile"])
    return list(dict.fromkeys(names))


def build_manifest(
    app_id: str,
    bot_id: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    template_dir: Path = MANIFEST_DIR,
    client_id: str | None = None,
) -> dict[str, Any]:
    """The template's manifest with the ids and settings filled in. `bot_id`
    defaults to `app_id` (an Azure Bot registered with the app's own id);
    `client_id`: the registration webApplicationInfo names (default: CLIENT_ID_ENV's)."""
    env = os.environ if environ is None else environ
    app = parse_guid(app_id, "--app-id")
    bot = parse_guid(bot_id, "--bot-id") if bot_id is not None else app
    manifest = _read_json(template_dir / "manifest.json")
    manifest["id"] = app
    for b in manifest.get("bots", []):
        b["botId"] = bot
    for setting in SETTINGS:
        raw = env.get(setting.env, "")
        if raw.strip():
            section, key = setting.path
            manifest[section][key] = _setting_value(setting, raw)
    manifest.pop("webApplicationInfo", None)
    registration = client_id if client_id is not None else env.get(CLIENT_ID_ENV, "")
    if registration.strip():
        client = parse_guid(registration, CLIENT_ID_ENV if client_id is None else "--city")
        resource = env.get(RESOURCE_ENV, "").strip() or f"api://botid-{client}"
        if not re.fullmatch(r"api://\S{1,2040}", resource):
            raise _refuse(
                "bad_setting",
                f"{RESOURCE_ENV} ska vara en adress som börjar med api://, inte '{resource}'.",
                RESOURCE_ENV,
            )
        manifest["webApplicationInfo"] = {"id": client, "resource": resource}
    return manifest


def build_package(
    app_id: str,
    bot_id: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    template_dir: Path = MANIFEST_DIR,
    client_id: str | None = None,
) -> dict[str, bytes]:
    """The files of the zip, by name: manifest.json, its language files, the icons."""
    manifest = build_manifest(app_id, bot_id, environ=environ, template_dir=template_dir, client_id=client_id)
    files = {"manifest.json": (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")}
    names = [*language_files(manifest), *(manifest["icons"][k] for k in ("color", "outline"))]
    for name in names:
        path = template_dir / name
        if not path.is_file():
            raise _refuse("missing_template", f"Mallfilen {path} saknas.")
        files[name] = path.read_bytes()
    return files


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """The zip of `files`, all at its root, with fixed time stamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def write_package(
    out: Path,
    app_id: str,
    bot_id: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    template_dir: Path = MANIFEST_DIR,
    client_id: str | None = None,
) -> dict[str, Any]:
    """Writes the zip to `out` (through a temporary file, so a refused or failed
    build leaves nothing behind) and returns the manifest in it."""
    files = build_package(app_id, bot_id, environ=environ, template_dir=template_dir, client_id=client_id)
    data = zip_bytes(files)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kompetensbot-", suffix=".zip", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    manifest: dict[str, Any] = json.loads(files["manifest.json"])
    return manifest
