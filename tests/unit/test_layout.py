"""Which package may import which: the README's layout table, enforced.

The table under "## Layout" in README.md lists every top-level package of ours with, in its
last column, the packages of ours it may import: "nothing of ours", "everything", or names in
backticks (those after the first ";" are what it must never import, said for the reader; the
allowed ones come before it). These tests read that table, walk every .py file of each package
with ast (imports inside functions and under TYPE_CHECKING count, relative imports are
resolved) and name the file, the line and the rule of each import the table does not allow.

Besides our own packages, two packages keep libraries out (LIBRARIES_KEPT_OUT): the core stays
pure (no database, no HTTP, no SDK) and the dialogs never touch the database.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
NOT_OURS = {".venv", "node_modules", "build", ".git", "var"}

LIBRARIES_KEPT_OUT: dict[str, dict[str, str]] = {
    "core": {
        "sqlalchemy": "the core does no I/O: SQLAlchemy stays in storage/",
        "sqlmodel": "the core does no I/O: SQLModel stays in storage/",
        "aiohttp": "the core does no I/O: aiohttp stays in bot/",
        "microsoft_agents": "the core knows no SDK: the Agents SDK stays in bot/ and dialogs/",
    },
    "dialogs": {
        "sqlalchemy": "the dialogs reach the database only through dialogs/ports.py",
        "sqlmodel": "the dialogs reach the database only through dialogs/ports.py",
    },
}


@dataclass(frozen=True)
class Row:
    package: str
    allowed: frozenset[str] | None  # None: everything


def layout_table(text: str) -> dict[str, Row]:
    """The rows of the table under "## Layout", by package."""
    section = text.split("\n## Layout\n", 1)
    assert len(section) == 2, "README.md has no '## Layout' section"
    lines = [line.strip() for line in section[1].split("\n## ", 1)[0].splitlines()]
    table = [line for line in lines if line.startswith("|")]
    assert len(table) >= 3, "README.md's '## Layout' section has no table"
    header = [cell.strip().lower() for cell in table[0].strip("|").split("|")]
    assert header[0] == "package" and header[-1].startswith("may import"), (
        f"README.md's layout table should start with 'package' and end with 'may import': {header}"
    )
    rows: dict[str, Row] = {}
    for line in table[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        name = re.fullmatch(r"`(\w+)/`", cells[0])
        assert name, f"README.md's layout table: the first cell should be a package like `core/`: {line}"
        may = cells[-1]
        allowed: frozenset[str] | None
        if may == "everything":
            allowed = None
        elif may.startswith("nothing of ours"):
            allowed = frozenset()
        else:
            allowed = frozenset(re.findall(r"`(\w+)`", may.split(";", 1)[0]))
            assert allowed, f"README.md's layout table: cannot read 'may import' of {cells[0]}: {may!r}"
        rows[name.group(1)] = Row(name.group(1), allowed)
    return rows


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str  # absolute, e.g. "storage.repository" ("." and ".." resolved)

    @property
    def top(self) -> str:
        return self.module.split(".", 1)[0]

    def where(self, root: Path) -> str:
        return f"{self.path.relative_to(root)}:{self.line}"


def module_name(path: Path, root: Path) -> list[str]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports_of(path: Path, root: Path) -> list[Import]:
    """Every import in the file, at any depth (functions, classes, if TYPE_CHECKING, try)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name[:-1]
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(Import(path, node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                assert node.module is not None
                found.append(Import(path, node.lineno, node.module))
                continue
            if node.level - 1 > len(package) - 1:
                raise AssertionError(
                    f"{path.relative_to(root)}:{node.lineno}: a relative import above the top package"
                )
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                found.append(Import(path, node.lineno, ".".join([*base, node.module])))
            else:  # from . import a, b: each name is a module or a name of the package
                found.extend(Import(path, node.lineno, ".".join([*base, alias.name])) for alias in node.names)
    return found


def python_files(package: Path) -> list[Path]:
    return sorted(p for p in package.rglob("*.py") if not NOT_OURS.intersection(p.parts))


def wrong_imports(root: Path, rows: dict[str, Row], package: str) -> list[str]:
    """Each import in `package` the table does not allow, as 'file:line: rule'."""
    row = rows[package]
    ours = set(rows)
    problems: list[str] = []
    for path in python_files(root / package):
        for imported in imports_of(path, root):
            top = imported.top
            if top in ours and top != package and row.allowed is not None and top not in row.allowed:
                may = ", ".join(sorted(row.allowed)) or "nothing of ours"
                problems.append(
                    f"{imported.where(root)}: {package}/ imports {imported.module}; "
                    f"the README's layout table lets {package}/ import {may}"
                )
            reason = LIBRARIES_KEPT_OUT.get(package, {}).get(top)
            if reason:
                problems.append(f"{imported.where(root)}: {package}/ imports {imported.module}; {reason}")
    return problems


ROWS = layout_table(README.read_text(encoding="utf-8"))


def test_the_layout_table_names_every_package_of_ours_and_no_other() -> None:
    on_disk = {
        child.name
        for child in ROOT.iterdir()
        if child.is_dir() and child.name not in NOT_OURS and not child.name.startswith(".")
        if python_files(child)
    }
    assert not on_disk - set(ROWS), (
        f"packages missing from README.md's layout table: {sorted(on_disk - set(ROWS))}"
    )
    assert not set(ROWS) - on_disk, (
        f"README.md's layout table names packages that are not here: {sorted(set(ROWS) - on_disk)}"
    )


@pytest.mark.parametrize("package", sorted(ROWS))
def test_every_import_of_ours_is_one_the_layout_table_allows(package: str) -> None:
    if not (ROOT / package).is_dir():
        pytest.fail(f"README.md's layout table names {package}/, which is not here")
    problems = wrong_imports(ROOT, ROWS, package)
    assert not problems, "imports the layout table does not allow:\n" + "\n".join(problems)


def test_the_table_says_what_the_issue_asked() -> None:
    """The rules the refactoring of issue 18 settled; a change to them is a change to this test."""
    assert ROWS["core"].allowed == frozenset()
    assert ROWS["storage"].allowed == frozenset({"core"})
    assert ROWS["dialogs"].allowed == frozenset({"core"})
    assert ROWS["bot"].allowed == frozenset({"core", "storage", "dialogs"})
    assert ROWS["cli"].allowed == frozenset({"core", "storage", "bot", "dialogs"})


# The checker itself, on a made-up tree: a wrong import anywhere in a file is found.


def test_the_checker_finds_imports_in_functions_relative_ones_and_type_checking_ones(tmp_path: Path) -> None:
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "__init__.py").write_text("")
    (tmp_path / "core" / "money.py").write_text("from . import dates\nfrom .dates import x\n")
    (tmp_path / "dialogs").mkdir()
    (tmp_path / "dialogs" / "__init__.py").write_text("from .. import bot\n")
    (tmp_path / "dialogs" / "sub").mkdir()
    (tmp_path / "dialogs" / "sub" / "__init__.py").write_text("")
    (tmp_path / "dialogs" / "sub" / "deep.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "import core.money\n"
        "if TYPE_CHECKING:\n"
        "    from sqlalchemy import Engine\n"
        "def later():\n"
        "    import storage.repository\n"
        "    from .. import cards\n"
        "    from ..cards import card\n"
        "class Step:\n"
        "    def run(self):\n"
        "        from bot import services\n"
    )
    rows = {
        "core": Row("core", frozenset()),
        "dialogs": Row("dialogs", frozenset({"core"})),
        "storage": Row("storage", frozenset({"core"})),
        "bot": Row("bot", None),
    }
    assert wrong_imports(tmp_path, rows, "core") == []
    assert {i.module for i in imports_of(tmp_path / "core" / "money.py", tmp_path)} == {"core.dates"}
    deep = {i.module for i in imports_of(tmp_path / "dialogs" / "sub" / "deep.py", tmp_path)}
    assert deep == {"typing", "core.money", "sqlalchemy", "storage.repository", "dialogs.cards", "bot"}
    with pytest.raises(AssertionError, match="above the top package"):
        wrong_imports(tmp_path, rows, "dialogs")
    (tmp_path / "dialogs" / "__init__.py").write_text("")
    assert wrong_imports(tmp_path, rows, "dialogs") == [
        "dialogs/sub/deep.py:4: dialogs/ imports sqlalchemy; "
        "the dialogs reach the database only through dialogs/ports.py",
        "dialogs/sub/deep.py:6: dialogs/ imports storage.repository; "
        "the README's layout table lets dialogs/ import core",
        "dialogs/sub/deep.py:11: dialogs/ imports bot; the README's layout table lets dialogs/ import core",
    ]


def test_the_table_reader_takes_the_names_before_never() -> None:
    text = (
        "# x\n\n## Layout\n\n| package | what lives there | may import |\n|---|---|---|\n"
        "| `core/` | rules | nothing of ours |\n"
        "| `dialogs/` | talk | `core` (and the SDK); never `bot`, `storage` |\n"
        "| `tests/` | tests | everything |\n\n## Next\n| `x/` | y | z |\n"
    )
    assert layout_table(text) == {
        "core": Row("core", frozenset()),
        "dialogs": Row("dialogs", frozenset({"core"})),
        "tests": Row("tests", None),
    }
