"""The house's shape holds: imports only run down the floors of the flow, and modules stay small.

docs/architecture.md draws these floors; a new module goes on one of them, and this test says where
an import would run back up (a lower floor reaching for a higher one), which is how cycles between
stages start.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "pkgtool"

# Floors, low to high: a module may import its own floor and the ones below, never above.
FLOORS: tuple[tuple[str, ...], ...] = (
    (
        "errors",
        "diagnostics",
        "data",
        "atomic",
        "globs",
        "templating",
        "kinds",
        "model",
        "frozen",
        "links",
        "bookkeeping",
        "printable",
        "arches",
    ),
    ("layout", "profiles", "profile_values", "sources"),
    ("resolve",),
    ("project", "rootfs", "archive"),
    ("formats",),
    ("lint", "install", "verify", "inspection", "scaffold", "adopt", "export", "publish", "bump", "bundle"),
    (
        "parallel",
        "cli",
        "cli_support",
        "cli_delivery",
        "cli_bump",
        "cli_completion",
        "cli_output",
        "cli_bundle",
        "cli_docs",
        "cli_source",
        "cli_select",
        "manpages",
        "entry",
        "__main__",
        "__init__",
    ),
)
FLOOR = {name: level for level, names in enumerate(FLOORS) for name in names}

# Modules longer than this say in their docstring why they are one module.
MAX_LINES = 400


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def _top(path: Path) -> str:
    """The first component below pkgtool/: the unit a floor is assigned to."""
    rel = path.relative_to(PKG)
    return rel.parts[0].removesuffix(".py")


def _imported_tops(path: Path, text: str | None = None) -> set[str]:
    """Every pkgtool top-level unit this module imports, at module level or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8") if text is None else text)
    rel = path.relative_to(PKG)
    package = list(rel.parts[:-1])  # the module's package, below pkgtool
    tops: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                parts = base + (node.module.split(".") if node.module else [])
                if parts:
                    tops.add(parts[0])
                else:  # "from . import x" at the top of pkgtool
                    tops.update(alias.name for alias in node.names)
            elif node.module and node.module.split(".")[0] == "pkgtool":
                parts = node.module.split(".")[1:]
                tops.update([parts[0]] if parts else [alias.name for alias in node.names])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "pkgtool" and len(parts) > 1:
                    tops.add(parts[1])
    return tops


def test_every_unit_has_a_floor():
    units = {_top(p) for p in _modules()}
    assert units - FLOOR.keys() == set(), "give each new top-level module or package a floor in FLOORS"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_imports_run_down_the_floors(path: Path):
    here = _top(path)
    upward = sorted(t for t in _imported_tops(path) if t in FLOOR and FLOOR[t] > FLOOR[here])
    assert upward == [], f"{path.relative_to(PKG)} (floor {FLOOR[here]}) imports from a higher floor: {upward}"


def test_no_module_names_in_strings():
    """Code is found by imports, not by module-name strings handed to importlib."""
    offenders = [str(p.relative_to(PKG)) for p in _modules() if "importlib" in p.read_text(encoding="utf-8")]
    assert offenders == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_modules_are_small_or_say_why(path: Path):
    lines = path.read_text(encoding="utf-8").count("\n")
    if lines <= MAX_LINES:
        return
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert "One module because" in doc, (
        f"{path.relative_to(PKG)} has {lines} lines; split it or say why in its docstring"
    )


def test_the_floor_test_sees_an_upward_import():
    """The scanner is not vacuous: relative, absolute and deferred imports upward are all found."""
    text = (
        "from ..model import Entry\n"
        "from ..formats import format_for\n"
        "def f():\n"
        "    from pkgtool.install.apply import install\n"
        "    import pkgtool.cli\n"
    )
    tops = _imported_tops(PKG / "resolve" / "fake.py", text)
    assert tops == {"model", "formats", "install", "cli"}
    assert [t for t in tops if FLOOR[t] > FLOOR["resolve"]] != []
