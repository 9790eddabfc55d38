"""Python byte-code in RPMs: the native writer makes the same __pycache__ files rpmbuild does, for the profile's Python."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from tooling import require_root, require_tools

from pkgtool.errors import ToolError
from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.deb.system import build_deb_system
from pkgtool.formats.rpm import bytecode
from pkgtool.formats.rpm.native import build_rpm
from pkgtool.formats.rpm.spec import render_spec
from pkgtool.formats.rpm.system import build_rpm_system
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import verify_artifact
from pkgtool.verify.root import verify_root

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

# A helper module beside a hook: not executable (the hook runner would run it), byte-compiled.
[[file]]
src = "hooks/_pycdemo_helper.py"
dst = "{libexecdir}/vdsm/hooks/before_vm_start/_pycdemo_helper.py"
mode = "0644"

[python]
compile = ["{libexecdir}/vdsm/hooks/before_vm_start"]
"""


def _project(root: Path) -> Path:
    (root / "lib").mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "hooks").mkdir()
    (root / "hooks" / "_pycdemo_helper.py").write_text("def helper():\n    return 1\n")
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
def built(project, tmp_path_factory) -> Iterator[dict]:
    require_tools("rpmbuild", "rpm", "python3.12")
    saved = os.environ["PATH"]
    _with_python("3.12")
    out = tmp_path_factory.mktemp("out")
    r = resolve_dir(project, "fedora", source_date_epoch=EPOCH)
    system = next(p for p in build_rpm_system(r, out / "system") if not p.name.endswith(".src.rpm"))
    yield {
        "native": build_rpm(r, out / "native"),
        "again": build_rpm(r, out / "again"),
        "system": system,
        "resolved": r,
    }
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
    hooks = "/usr/libexec/vdsm/hooks/before_vm_start/__pycache__"
    assert native == [
        site,
        f"{site}/__init__.cpython-312.opt-1.pyc",
        f"{site}/__init__.cpython-312.pyc",
        f"{site}/util.cpython-312.opt-1.pyc",
        f"{site}/util.cpython-312.pyc",
        hooks,
        f"{hooks}/_pycdemo_helper.cpython-312.opt-1.pyc",
        f"{hooks}/_pycdemo_helper.cpython-312.pyc",
    ]


@pytest.mark.parametrize("backend", ["native", "system"])
def test_verify_accepts_the_bytecode(built, backend) -> None:
    report = verify_artifact(built["resolved"], built[backend])
    assert report.ok, report


def test_native_bytecode_is_reproducible(built) -> None:
    assert built["native"].read_bytes() == built["again"].read_bytes()


def test_pyc_imports_with_the_target_interpreter(built, tmp_path) -> None:
    require_tools("rpm2cpio", "cpio")
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


# ---------------------------------------------------------------- Debian: compiled on the host, never shipped

# What a chrooted maintainer script needs to run the host's real py3compile / py3clean on the root.
DEB_SEED = ("/bin/sh", "/usr/bin/python3.11", "/usr/bin/py3compile", "/usr/bin/py3clean", "/usr/bin/dpkg")
DEB_SEED += ("/usr/bin/dpkg-query", "/usr/bin/sed", "/usr/bin/find", "/usr/bin/xargs", "/usr/bin/rm", "/usr/bin/rmdir")


@pytest.fixture(scope="module")
def debs(project, tmp_path_factory) -> dict:
    require_tools("dpkg-buildpackage", "dh", "dpkg-deb")
    out = tmp_path_factory.mktemp("debs")
    r = resolve_dir(project, "debian", source_date_epoch=EPOCH)
    system = next(p for p in build_deb_system(r, out / "system") if p.suffix == ".deb")
    return {"native": build_deb(r, out / "native"), "system": system, "resolved": r}


def _deb_field(deb: Path, flag: str, *args: str) -> str:
    return subprocess.run(["dpkg-deb", flag, str(deb), *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("backend", ["native", "system"])
def test_deb_ships_no_bytecode_and_depends_on_python3(debs, backend) -> None:
    deb = debs[backend]
    assert "__pycache__" not in _deb_field(deb, "-c")
    assert _deb_field(deb, "-f", "Depends").strip() == "python3:any"
    assert _deb_field(deb, "-I", "postinst") == _deb_field(debs["native"], "-I", "postinst")
    assert _deb_field(deb, "-I", "prerm") == _deb_field(debs["native"], "-I", "prerm")
    assert verify_artifact(debs["resolved"], deb).ok


def test_deb_maintainer_scripts_are_dh_python3s(debs) -> None:
    postinst = _deb_field(debs["native"], "-I", "postinst")
    prerm = _deb_field(debs["native"], "-I", "prerm")
    assert "\tpy3compile -p pyc-demo\n" in postinst and "pypy3compile -p pyc-demo || true" in postinst
    assert "\tpy3compile -p pyc-demo /usr/libexec/vdsm/hooks/before_vm_start\n" in postinst
    assert "\tpy3clean -p pyc-demo\n" in prerm
    subprocess.run(["sh", "-n", "-c", postinst + prerm], check=True)


def _seed_python_root(root: Path) -> None:
    (root / "var/lib/dpkg/info").mkdir(parents=True)
    (root / "var/lib/dpkg/updates").mkdir()
    (root / "var/lib/dpkg/status").touch()
    libs: set[str] = set()
    for host in DEB_SEED:
        dest = root / host.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.realpath(host), dest)
        ldd = subprocess.run(["ldd", host], capture_output=True, text=True).stdout
        libs.update(w for w in ldd.split() if w.startswith("/"))
    for lib in libs:
        dest = root / lib.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.realpath(lib), dest)
    (root / "usr/bin/python3").symlink_to("python3.11")
    (root / "dev").mkdir()
    os.mknod(root / "dev/null", 0o20666, os.makedev(1, 3))
    skip = shutil.ignore_patterns("test", "__pycache__", "idlelib", "tkinter", "lib2to3", "ensurepip", "*-packages")
    shutil.copytree("/usr/lib/python3.11", root / "usr/lib/python3.11", symlinks=True, ignore=skip)
    shutil.copytree("/usr/share/python3", root / "usr/share/python3", symlinks=True)  # py3compile's debpython


@pytest.mark.parametrize("backend", ["native", "system"])
def test_dpkg_root_install_compiles_and_purge_cleans(debs, tmp_path, backend) -> None:
    require_root()
    require_tools("dpkg", "ldd", "py3compile", "python3.11")
    root = tmp_path / "root"
    _seed_python_root(root)
    dpkg = ["dpkg", f"--root={root}", "--force-depends"]
    done = subprocess.run([*dpkg, "-i", str(debs[backend])], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    cache = root / "usr/lib/python3/dist-packages/pycdemo/__pycache__"
    assert sorted(p.name for p in cache.iterdir()) == ["__init__.cpython-311.pyc", "util.cpython-311.pyc"]
    helper = root / "usr/libexec/vdsm/hooks/before_vm_start"
    assert [p.name for p in (helper / "__pycache__").iterdir()] == ["_pycdemo_helper.cpython-311.pyc"]
    assert (helper / "_pycdemo_helper.py").stat().st_mode & 0o777 == 0o644
    # Byte-code py3compile made on the host is not an extra of the package.
    report = verify_root(debs["resolved"], root)
    assert report.ok, report.to_text()
    done = subprocess.run([*dpkg, "--purge", "pyc-demo"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (root / "usr/lib/python3/dist-packages/pycdemo").exists()
    assert not (root / "usr/libexec/vdsm").exists()


def test_cli_json_says_no_bytecode_was_made(project, tmp_path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # no interpreter of any version on PATH
    cmd = [sys.executable, "-m", "pkgtool", "build", "--distro", "fedora", "--out", str(tmp_path / "out"), "--json"]
    done = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 1
    (distro,) = json.loads(done.stdout)["distros"]
    assert distro["command"] == ["python3.12"]
    assert "python3.12 is not on PATH" in distro["error"] and "Install python3.12" in distro["error"]
    assert not list((tmp_path / "out").glob("*.rpm"))


@pytest.mark.parametrize(
    ("python", "message"),
    [
        ('compile = "{libexecdir}/x"', "python.compile"),
        ('compile = ["../../etc"]', "python.compile[0]"),
        ('compiles = ["{libexecdir}/x"]', "unknown key 'compiles'"),
    ],
)
def test_bad_python_table_is_a_located_error(tmp_path, python, message) -> None:
    root = _project(tmp_path / "src")
    (root / "pkgtool.toml").write_text(MAP.replace('compile = ["{libexecdir}/vdsm/hooks/before_vm_start"]', python))
    done = subprocess.run(
        [sys.executable, "-m", "pkgtool", "generate", "--distro", "fedora", "--out", str(tmp_path / "out")],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "pkgtool.toml" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_only_the_bytecode_of_a_map_module_is_not_an_extra() -> None:
    from pkgtool.model import Entry, EntryKind
    from pkgtool.verify.compare import _is_bytecode_of

    entries = {"/a/m.py": Entry("/a/m.py", EntryKind.FILE, 0o644, source="m.py")}
    assert _is_bytecode_of("/a/__pycache__", entries)
    assert _is_bytecode_of("/a/__pycache__/m.cpython-311.pyc", entries)
    assert _is_bytecode_of("/a/__pycache__/m.cpython-312.opt-1.pyc", entries)
    assert not _is_bytecode_of("/a/__pycache__/other.cpython-311.pyc", entries)
    assert not _is_bytecode_of("/b/__pycache__", entries)
    assert not _is_bytecode_of("/a/__pycache__/m.py", entries)


@pytest.mark.parametrize(("distro", "version"), [("el9", "3.9"), ("opensuse-leap", "3.6")])
def test_other_profiles_compile_with_their_python(project, tmp_path, distro, version) -> None:
    require_tools("rpm2cpio", "cpio", f"python{version}")
    saved = os.environ["PATH"]
    _with_python(version)
    try:
        r = resolve_dir(project, distro, source_date_epoch=EPOCH)
        rpm = build_rpm(r, tmp_path / "out")
        root = tmp_path / "root"
        root.mkdir()
        cpio = subprocess.run(["rpm2cpio", str(rpm)], check=True, capture_output=True).stdout
        subprocess.run(["cpio", "-idm", "--quiet"], input=cpio, cwd=root, check=True)
        tag = "cpython-" + version.replace(".", "")
        pycs = sorted(p.name for p in root.rglob("*.pyc"))
        assert f"util.{tag}.pyc" in pycs and f"util.{tag}.opt-1.pyc" in pycs
        check = (
            "import importlib.util, sys, pathlib\n"
            "for f in sorted(pathlib.Path(sys.argv[1]).rglob('*.pyc')):\n"
            "    assert f.read_bytes()[:4] == importlib.util.MAGIC_NUMBER, f\n"
            "    spec = importlib.util.spec_from_file_location('m', str(f))\n"
            "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
            "print('ok')\n"
        )
        done = subprocess.run([f"python{version}", "-c", check, str(root)], capture_output=True, text=True)
        assert done.stdout.strip() == "ok", done.stderr
    finally:
        os.environ["PATH"] = saved


def test_module_that_does_not_compile_is_a_located_error(tmp_path) -> None:
    require_tools("python3.12")
    root = _project(tmp_path / "src")
    (root / "lib" / "bad.py").write_text("x = 1\ndef x(:\n")
    saved = os.environ["PATH"]
    _with_python("3.12")
    try:
        cmd = [sys.executable, "-m", "pkgtool", "build", "--distro", "fedora", "--out", str(tmp_path / "out")]
        done = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    finally:
        os.environ["PATH"] = saved
    assert done.returncode == 2
    assert "lib/bad.py, line 2 (deployed as /usr/lib/python3.12/site-packages/pycdemo/bad.py)" in done.stderr
    assert "SyntaxError" in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.rglob("*.rpm"))


@pytest.mark.parametrize(
    "extra",
    [
        'python3_version = "3.12; rm -rf /"',
        "python_bytecode_opt = [0, 7]",
        'python_bytecode_invalidation = "sometimes"',
        'mangle_shebangs = "yes"',
    ],
)
def test_project_profile_python_keys_are_checked(tmp_path, extra) -> None:
    from pkgtool.errors import ProfileError
    from pkgtool.profiles import load_profile

    (tmp_path / "distros").mkdir()
    (tmp_path / "distros" / "fedora.toml").write_text(f"[extra]\n{extra}\n")
    with pytest.raises(ProfileError, match=extra.split(" ")[0]):
        load_profile("fedora", tmp_path)
