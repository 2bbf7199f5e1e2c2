"""Fixtures for the app package tests: the Teams schemas from node_modules
(skipped with a reason when they are not installed, except in CI, where they
must be) and node for the package's own validator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.manifest.schemas import APP_MANIFEST_PACKAGE, MANIFEST_DIR, NPM_INSTALL, ROOT, in_ci


def _missing(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} (CI must install it: {NPM_INSTALL})")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def teams_schemas() -> Path:
    """The installed @microsoft/app-manifest package."""
    if not (APP_MANIFEST_PACKAGE / "package.json").is_file():
        _missing(
            f"the Teams schemas are not installed: run `{NPM_INSTALL}` in {ROOT} "
            "(installs @microsoft/app-manifest from package.json into node_modules/)"
        )
    return APP_MANIFEST_PACKAGE


@pytest.fixture(scope="session")
def node(teams_schemas: Path) -> str:
    """The node binary, with fs-extra installed beside @microsoft/app-manifest."""
    found = shutil.which("node")
    if not found:
        _missing("node is not installed: the package's own validator (AppManifestUtils) needs it")
    if not (ROOT / "node_modules" / "fs-extra" / "package.json").is_file():
        _missing(f"fs-extra is not installed beside @microsoft/app-manifest: run `{NPM_INSTALL}` in {ROOT}")
    return str(found)


@pytest.fixture
def manifest() -> dict[str, Any]:
    """The template manifest in the repository."""
    return json.loads((MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture
def language_file() -> dict[str, Any]:
    return json.loads((MANIFEST_DIR / "en.json").read_text(encoding="utf-8"))
