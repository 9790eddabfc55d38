"""Start-up: each command imports only what it uses (issue #18).  Structural, never timed.

Every command pays for what its import chain loads (`python -X importtime -m pkgtool ...`):
typer is the one framework it needs; the writers, lint rules, templates, compressors and readers
are imported inside the commands that use them.  These tests run real command lines in a fresh
interpreter and look at sys.modules when it exits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO

# Records sys.modules at exit (before json is imported for the dump), whatever the exit code.
DRIVER = """
import atexit, sys
def _dump(path=sys.argv[1]):
    names = sorted(sys.modules)
    import json
    with open(path, "w") as f:
        json.dump(names, f)
atexit.register(_dump)
sys.argv = ["pkgtool", *sys.argv[2:]]
from pkgtool.entry import main
main()
"""

# Never needed by any command: rich (typer's help/traceback styling, switched off on the app),
# and the packages only tests use.
NEVER = {"rich", "pygments", "markdown_it", "rpmfile", "pydantic", "hypothesis"}

# What `import pkgtool.cli` may load of pkgtool: the command line, the error root (not the
# diagnostics and model its annotations name) and the kind names init's help lists.  Anything
# else is imported inside the command that uses it.
CLI_CHAIN = {"pkgtool", "pkgtool.entry", "pkgtool.atomic", "pkgtool.errors"}
CLI_CHAIN_PREFIXES = ("pkgtool.cli", "pkgtool.kinds")

# Heavy or command-specific: not before a command asks for them.
HEAVY = {"jinja2", "debian", "zstandard", "tomllib", "hashlib", "tarfile", "concurrent", "multiprocessing", "queue"}
# Of pkgtool: the stages only some commands use.
ELSEWHERE = ("pkgtool.verify", "pkgtool.install", "pkgtool.publish", "pkgtool.export", "pkgtool.bundle")
ELSEWHERE += ("pkgtool.inspection", "pkgtool.scaffold", "pkgtool.manpages", "pkgtool.adopt", "pkgtool.bump")


def loaded(tmp_path: Path, *args: str) -> set[str]:
    out = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(out), *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return set(json.loads(out.read_text()))


def tops(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def under(modules: set[str], *packages: str) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_version_loads_nothing_but_the_entry_point(tmp_path: Path):
    mods = loaded(tmp_path, "--version")
    assert {m for m in mods if m.startswith("pkgtool")} == {"pkgtool", "pkgtool.entry"}
    assert {"typer", "signal", "enum"} & mods == set()


@pytest.mark.parametrize("args", [("--help",), ("build", "--help"), ("-q", "lint", "--help")], ids=" ".join)
def test_the_command_line_alone_loads_only_its_chain(tmp_path: Path, args: tuple[str, ...]):
    mods = loaded(tmp_path, *args)
    extra = sorted(
        m for m in mods if m.startswith("pkgtool") and m not in CLI_CHAIN and not m.startswith(CLI_CHAIN_PREFIXES)
    )
    assert extra == [], f"import these inside the commands that use them: {extra}"
    assert tops(mods) & (NEVER | HEAVY) == set()


def test_a_deb_build_loads_no_rpm_writer_and_no_other_stage(tmp_path: Path):
    mods = loaded(
        tmp_path, "-q", "build", str(EXAMPLES / "vdsm-hook-acme"), "--distro", "debian", "--out", str(tmp_path / "o")
    )
    assert "pkgtool.formats.deb.native" in mods  # it did build
    assert tops(mods) & (NEVER | {"jinja2", "debian"}) == set()
    assert under(mods, "pkgtool.formats.rpm.writer", "pkgtool.formats.rpm.native", *ELSEWHERE) == []


def test_an_rpm_build_loads_no_deb_writer_and_no_other_stage(tmp_path: Path):
    mods = loaded(
        tmp_path, "-q", "build", str(EXAMPLES / "vdsm-hook-acme"), "--distro", "fedora", "--out", str(tmp_path / "o")
    )
    assert "pkgtool.formats.rpm.writer" in mods
    assert tops(mods) & (NEVER | {"jinja2", "debian"}) == set()
    assert under(mods, "pkgtool.formats.deb.native", *ELSEWHERE) == []


def test_listing_profiles_loads_no_lint_and_no_builder(tmp_path: Path):
    mods = loaded(tmp_path, "distros", "--json")
    assert tops(mods) & (NEVER | {"jinja2", "debian", "zstandard", "tarfile", "hashlib"}) == set()
    assert under(mods, "pkgtool.lint", "pkgtool.formats", "pkgtool.archive", "pkgtool.resolve", *ELSEWHERE) == []


def test_explaining_rules_loads_the_rules_but_no_builder(tmp_path: Path):
    # The rule registry comes with lint's context (formats' facts); no writer, archive or resolve.
    mods = loaded(tmp_path, "explain", "--list")
    assert "pkgtool.lint.registry" in mods
    assert tops(mods) & (NEVER | {"jinja2", "debian", "zstandard", "tarfile"}) == set()
    assert under(mods, "pkgtool.formats.deb.native", "pkgtool.formats.rpm.writer", "pkgtool.archive") == []
    assert under(mods, "pkgtool.resolve", *ELSEWHERE) == []


def test_the_guard_sees_a_heavy_import(tmp_path: Path):
    """The driver reports what a command really loads: `inspect` of a .deb reads it with its reader."""
    mods = loaded(tmp_path, "inspect", str(tmp_path / "missing.deb"))
    assert "pkgtool.inspection" in mods


def _documented_byte_code_line() -> str:
    """The README's line that compiles an installed environment (its block is marked as run here)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    marker = text.index("tests/test_import_budget.py runs this line")
    block = text[marker:].split("```sh\n", 1)[1].split("```", 1)[0]
    (line,) = [x for x in block.splitlines() if x.strip()]
    assert "compileall" in line
    return line


@pytest.mark.slow
def test_the_documented_byte_code_line_compiles_what_pkgtool_imports(tmp_path: Path):
    # Byte-code goes to an empty prefix, so what is there afterwards was written by the line.
    prefix = tmp_path / "pycache"
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(prefix), "PYTHONDONTWRITEBYTECODE": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # python3: this venv's
    proc = subprocess.run(
        ["bash", "-c", _documented_byte_code_line()], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    probe = (
        "import json, sys, sysconfig, pkgtool.cli, jinja2, zstandard\n"
        "lib = sysconfig.get_path('purelib')\n"
        "print(json.dumps([(m.__file__, m.__cached__) for m in list(sys.modules.values())\n"
        "    if getattr(m, '__cached__', None) and m.__file__.startswith(lib)]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    pairs = json.loads(out.stdout)
    assert any("/typer/" in f for f, _ in pairs) and any("/jinja2/" in f for f, _ in pairs)
    missing = [f for f, cached in pairs if not Path(cached).is_file()]
    assert missing == [], f"imported without byte-code after the documented line: {missing[:5]}"
