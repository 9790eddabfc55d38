"""Python byte-code in RPMs: the native writer makes the same __pycache__ files rpmbuild does, for the profile's Python."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from tooling import require_tools

from pkgtool.errors import ToolError
from pkgtool.formats.rpm import bytecode
from pkgtool.formats.rpm.native import build_rpm
from pkgtool.formats.rpm.spec import render_spec
from pkgtool.formats.rpm.system import build_rpm_system
from pkgtool.project import resolve_dir

EPOCH = 1736121600
MAP = """\
schema = 1

[package]
name = "pyc-demo"
version = "1.0"
release = "1"
summary = "Byte-code demo"
description = "A site-packages module."
license = "MIT"
maintainer = "A <a@example.org>"
arch = "noarch"

[[tree]]
src = "lib/"
dst = "{python3_sitelib}/pycdemo/"
mode = "0644"

[[file]]
src = "bin/pycdemo"
dst = "{bindir}/pycdemo"
mode = "0755"
"""


def _project(root: Path) -> Path:
    (root / "lib").mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "pkgtool.toml").write_text(MAP)
    (root / "lib" / "__init__.py").write_text("VALUE = 42\n")
    (root / "lib" / "util.py").write_text(
        textwrap.dedent('''\
        """Docstring dropped at -OO only."""
        def answer():
            assert True
            return 42
        ''')
    )
    (root / "bin" / "pycdemo").write_text("#!/usr/bin/python3\nimport pycdemo\n")
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return _project(tmp_path_factory.mktemp("pyc") / "src")


def _with_python(version: str) -> None:
    """Put a runnable pythonX.Y first on PATH (pyenv's shim runs only versions pyenv has activated)."""
    for bindir in sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin")):
        os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ['PATH']}"


@pytest.fixture(scope="module")
def built(project, tmp_path_factory) -> Iterator[dict[str, Path]]:
    require_tools("rpmbuild", "rpm", "python3.12")
    saved = os.environ["PATH"]
    _with_python("3.12")
    out = tmp_path_factory.mktemp("out")
    r = resolve_dir(project, "fedora", source_date_epoch=EPOCH)
    system = next(p for p in build_rpm_system(r, out / "system") if not p.name.endswith(".src.rpm"))
    yield {"native": build_rpm(r, out / "native"), "again": build_rpm(r, out / "again"), "system": system}
    os.environ["PATH"] = saved


def _listing(rpm: Path) -> list[str]:
    out = subprocess.run(["rpm", "-qlp", str(rpm)], check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "__pycache__" in line]


def test_pyc_paths_follow_cache_from_source() -> None:
    assert bytecode.pyc_path("/a/b.py", "3.12", 0) == "/a/__pycache__/b.cpython-312.pyc"
    assert bytecode.pyc_path("/a/b.py", "3.9", 1) == "/a/__pycache__/b.cpython-39.opt-1.pyc"


def test_native_lists_the_pycache_files_rpmbuild_makes(built) -> None:
    native = _listing(built["native"])
    assert native == _listing(built["system"])
    site = "/usr/lib/python3.12/site-packages/pycdemo/__pycache__"
    assert native == [
        site,
        f"{site}/__init__.cpython-312.opt-1.pyc",
        f"{site}/__init__.cpython-312.pyc",
        f"{site}/util.cpython-312.opt-1.pyc",
        f"{site}/util.cpython-312.pyc",
    ]


def test_native_bytecode_is_reproducible(built) -> None:
    assert built["native"].read_bytes() == built["again"].read_bytes()


def test_pyc_imports_with_the_target_interpreter(built, tmp_path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    rpm2cpio = subprocess.run(["rpm2cpio", str(built["native"])], check=True, capture_output=True).stdout
    subprocess.run(["cpio", "-idm", "--quiet"], input=rpm2cpio, cwd=root, check=True)
    site = root / "usr/lib/python3.12/site-packages"
    py = shutil.which("python3.12")
    # Sources gone: the import can only come from the .pyc (sourceless import from __pycache__ is not allowed,
    # so load each cache file explicitly with the interpreter's own loader).
    check = (
        "import importlib.util, sys, pathlib\n"
        "for f in sorted(pathlib.Path(sys.argv[1]).rglob('*.pyc')):\n"
        "    data = f.read_bytes()\n"
        "    assert data[:4] == importlib.util.MAGIC_NUMBER, f\n"
        "    spec = importlib.util.spec_from_file_location('m' + str(abs(hash(f))), f)\n"
        "    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
        "print('ok')\n"
    )
    done = subprocess.run([py, "-c", check, str(site)], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr
    # The timestamp .pyc names the installed source's mtime (SOURCE_DATE_EPOCH): no recompile on import.
    pyc = (site / "pycdemo/__pycache__/util.cpython-312.pyc").read_bytes()
    assert int.from_bytes(pyc[4:8], "little") == 0 and int.from_bytes(pyc[8:12], "little") == EPOCH


def test_spec_compiles_site_packages_only_without_python_rpm_macros(project) -> None:
    spec = render_spec(resolve_dir(project, "fedora", source_date_epoch=EPOCH))
    assert "%{!?py_byte_compile:%global pkgtool_compile_sitelib 1}" in spec
    assert "%py_byte_compile %{python3} %{buildroot}/usr/lib/python3.12/site-packages" in spec
    assert "/__pycache__/util.cpython-312.opt-1.pyc" in spec


def test_missing_interpreter_refuses_rather_than_wrong_bytecode(project, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.12 here
    r = resolve_dir(project, "fedora", source_date_epoch=EPOCH)
    with pytest.raises(ToolError, match=r"python3\.12 is not on PATH.*no package was written"):
        build_rpm(r, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
