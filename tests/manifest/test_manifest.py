"""The Teams app manifest, its English language file and its icons, checked
against the official Teams schemas (offline, from @microsoft/app-manifest)
and against what the bot understands."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

from PIL import Image

from cli.teams_package import PLACEHOLDER_ID, language_files
from dialogs.understanding import Intent, understand
from tests.manifest.schemas import (
    MANIFEST_DIR,
    ROOT,
    describe,
    local_schema_path,
    teams_errors,
    teams_versions,
)

SCHEMA_URL = "https://developer.microsoft.com/json-schemas/teams/v{}/MicrosoftTeams.schema.json"
LOCALIZATION_URL = (
    "https://developer.microsoft.com/json-schemas/teams/v{}/MicrosoftTeams.Localization.schema.json"
)
NODE_CHECK = Path(__file__).with_name("validate_manifest.js")

COMMANDS = {
    "kvar": Intent.REMAINING,
    "status": Intent.STATUS,
    "ny insats": Intent.SUBMIT_MEASURE,
    "uppföljning": Intent.FOLLOW_UP,
    "försenade": Intent.STATUS,
    "ej påbörjade": Intent.STATUS,
    "hjälp": Intent.HELP,
    "avbryt": Intent.CANCEL,
    "översikt": Intent.OVERVIEW,  # issue 20: the live overview card
}
"""Every command in the manifest's command list and what the bot makes of it."""


def pixels(image: Image.Image) -> list[tuple[int, ...]]:
    """The image's pixels, row by row, as tuples of its bands."""
    data, bands = image.tobytes(), len(image.getbands())
    return [tuple(data[i : i + bands]) for i in range(0, len(data), bands)]


def node_validate(node: str, manifest_path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [node, str(NODE_CHECK), str(manifest_path)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return json.loads(done.stdout)


# --- against the official schemas --------------------------------------------------


def test_the_manifest_is_on_the_newest_schema_the_package_bundles(teams_schemas, manifest) -> None:
    newest = teams_versions()[-1]
    assert manifest["manifestVersion"] == newest
    assert manifest["$schema"] == SCHEMA_URL.format(newest)
    assert local_schema_path(manifest["$schema"]).is_file()


def test_the_manifest_validates(teams_schemas, manifest) -> None:
    errors = teams_errors(manifest)
    assert not errors, describe(errors)


def test_the_language_file_validates_against_the_localization_schema(
    teams_schemas, manifest, language_file
) -> None:
    assert language_file["$schema"] == LOCALIZATION_URL.format(manifest["manifestVersion"])
    errors = teams_errors(language_file)
    assert not errors, describe(errors)


def test_the_schemas_catch_a_broken_manifest_and_language_file(
    teams_schemas, manifest, language_file
) -> None:
    manifest["id"] = "not-a-guid"
    manifest["bots"][0]["scopes"] = ["personal", "everywhere"]
    del manifest["developer"]["privacyUrl"]
    where = {"/".join(map(str, e.absolute_path)) for e in teams_errors(manifest)}
    assert {"id", "bots/0/scopes/1", "developer"} <= where
    language_file["bots[0].commandLists[0].commands[0].title"] = "x" * 129
    language_file["name.colour"] = "blå"
    assert len(teams_errors(language_file)) == 2


def test_the_package_s_own_validator_accepts_the_manifest(node, tmp_path) -> None:
    result = node_validate(node, MANIFEST_DIR / "manifest.json")
    assert result["errors"] == []
    assert result["schema"].endswith("/MicrosoftTeams.schema.json")


def test_the_package_s_own_validator_refuses_a_broken_manifest(node, manifest, tmp_path) -> None:
    manifest["accentColor"] = "blue"
    manifest["bots"][0]["botId"] = "nope"
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    errors = node_validate(node, path)["errors"]
    assert any(e.startswith("/accentColor ") for e in errors), errors
    assert any(e.startswith("/bots/0/botId ") for e in errors), errors


# --- what it says --------------------------------------------------------------------


def test_the_template_has_placeholder_ids(manifest) -> None:
    assert manifest["id"] == PLACEHOLDER_ID
    assert [b["botId"] for b in manifest["bots"]] == [PLACEHOLDER_ID]


def test_swedish_by_default_with_an_english_language_file(manifest, language_file) -> None:
    info = manifest["localizationInfo"]
    assert info["defaultLanguageTag"] == "sv-se"
    assert info["additionalLanguages"] == [{"languageTag": "en", "file": "en.json"}]
    assert language_files(manifest) == ["en.json"]
    assert manifest["name"]["short"] == language_file["name.short"] == "kompetensbot"
    assert "kompetensutvecklingsmedel" in manifest["description"]["full"]
    assert "competence development" in language_file["description.full"]
    for role in ("Chefer", "HR", "Stadskontoret"):
        assert role in manifest["description"]["full"]


def test_a_bot_in_the_personal_and_team_scopes(manifest) -> None:
    (bot,) = manifest["bots"]
    assert set(bot["scopes"]) == {"personal", "team"}
    assert bot.get("isNotificationOnly", False) is False
    for command_list in bot["commandLists"]:
        assert set(command_list["scopes"]) <= set(bot["scopes"])


def test_every_command_is_one_the_bot_understands(manifest) -> None:
    (command_list,) = manifest["bots"][0]["commandLists"]
    titles = [c["title"] for c in command_list["commands"]]
    assert titles == list(COMMANDS)
    for title, intent in COMMANDS.items():
        assert understand(title, [], [], date(2025, 10, 1)).intent == intent, title
    assert all(c["description"] for c in command_list["commands"])


def test_the_language_file_translates_every_command_and_keeps_its_words(manifest, language_file) -> None:
    """Teams puts a command's title into the message box, and the bot reads Swedish:
    the English file keeps the Swedish titles and translates the descriptions."""
    (command_list,) = manifest["bots"][0]["commandLists"]
    for i, command in enumerate(command_list["commands"]):
        assert language_file[f"bots[0].commandLists[0].commands[{i}].title"] == command["title"]
        english = language_file[f"bots[0].commandLists[0].commands[{i}].description"]
        assert english and english != command["description"]
    keys = [k for k in language_file if k.startswith("bots[")]
    assert len(keys) == 2 * len(command_list["commands"])


def test_the_developer_urls_are_https(manifest) -> None:
    developer = manifest["developer"]
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert developer[key].startswith("https://"), key


# --- icons -------------------------------------------------------------------------


def test_the_color_icon_is_192_pixels(manifest) -> None:
    with Image.open(MANIFEST_DIR / manifest["icons"]["color"]) as image:
        assert image.format == "PNG"
        assert image.size == (192, 192)


def test_the_outline_icon_is_white_on_transparent_32_pixels(manifest) -> None:
    with Image.open(MANIFEST_DIR / manifest["icons"]["outline"]) as image:
        assert image.format == "PNG"
        assert image.size == (32, 32)
        assert image.mode == "RGBA"
        found = pixels(image)
    drawn = [p for p in found if p[3]]
    assert all(p[:3] == (255, 255, 255) for p in drawn), "the outline may only be white"
    assert sum(1 for p in found if p[3] == 0) > len(found) / 2, "the background must be transparent"
    assert sum(1 for p in found if p[3] == 255) > 100, "the outline must be visible"
    assert all(found[i][3] == 0 for i in (0, 31, 32 * 31, 32 * 32 - 1)), "the corners must be transparent"


def test_the_icons_are_what_make_icons_draws(manifest) -> None:
    """A changed drawing needs `python manifest/make_icons.py` and the PNGs committed."""
    spec = importlib.util.spec_from_file_location("make_icons", MANIFEST_DIR / "make_icons.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, drawn in (("color", module.color_icon()), ("outline", module.outline_icon())):
        with Image.open(MANIFEST_DIR / manifest["icons"][name]) as stored:
            assert stored.mode == drawn.mode and stored.size == drawn.size
            difference = max(abs(a - b) for a, b in zip(stored.tobytes(), drawn.tobytes(), strict=True))
            assert difference <= 8, f"{name}.png differs from what make_icons.py draws"


def test_the_accent_colour_is_the_color_icon_s_background(manifest) -> None:
    accent = tuple(int(manifest["accentColor"][i : i + 2], 16) for i in (1, 3, 5))
    with Image.open(MANIFEST_DIR / manifest["icons"]["color"]) as image:
        assert image.convert("RGB").getpixel((2, 2)) == accent


def test_the_bot_supports_files_for_the_exports_in_the_chat(manifest) -> None:
    """Issue 20: the XLSX exports are offered through Teams' file consent card, which
    Teams shows only for a bot whose manifest says it supports files (in personal chats)."""
    (bot,) = manifest["bots"]
    assert bot["supportsFiles"] is True
    assert "personal" in bot["scopes"]
