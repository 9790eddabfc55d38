"""File flags of [[file]] (lang, verify, config = "replace") through rpmbuild, the native writer, rpm -V and verify."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest
from golden import assert_golden
from test_deb_system import _seed_root
from tooling import require_root, require_tools

from pkgtool.errors import LayoutError, ResolveError
from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.deb.system import build_deb_system
from pkgtool.formats.rpm.native import build_rpm
from pkgtool.formats.rpm.reader import read_rpm
from pkgtool.formats.rpm.spec_paths import files_lines, install_lines
from pkgtool.formats.rpm.system import build_rpm_system
from pkgtool.layout.load import load_layout
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import verify_artifact
from pkgtool.verify.root import verify_root

EPOCH = 1736121600

MAP = """\
schema = 2

[package]
name = "flagged"
version = "1.0"
summary = "Files with every file flag"
description = "A package whose files carry lang, verify and config flags."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"

[[file]]
src = "msg.de"
dst = "{datadir}/flagged/de/msg"
lang = "de"

[[file]]
src = "msg.pt"
dst = "{datadir}/flagged/pt_BR/msg"
lang = "pt_BR"

[[file]]
src = "state"
dst = "{datadir}/flagged/state"
verify = ["not md5", "not size", "not mtime"]

[[file]]
src = "owned"
dst = "{datadir}/flagged/owned"
verify = ["not filedigest", "not owner", "not mode"]

[[file]]
src = "flagged.conf"
dst = "{sysconfdir}/flagged.conf"
config = "replace"

[[file]]
src = "keep.conf"
dst = "{sysconfdir}/flagged-keep.conf"
config = "noreplace"
verify = ["not mtime"]

[[dir]]
path = "{localstatedir}/log/flagged"

[[file]]
dst = "{localstatedir}/log/flagged/flagged.log"
ghost = true
config = "noreplace"
mode = "0640"

[[dir]]
path = "/run/flagged"
ghost = true
mode = "0750"

[[symlink]]
path = "{sysconfdir}/flagged/hooks/qemu"
target = "{datadir}/flagged/state"
absolute = true

[[symlink]]
path = "{datadir}/flagged/current"
target = "de/msg"
absolute = true

[[symlink]]
path = "{datadir}/flagged/relative"
target = "{datadir}/flagged/state"
"""

QF = "[%{FILEFLAGS:fflags}|%{FILELANGS}|%{FILEVERIFYFLAGS}|%{FILELINKTOS}|%{FILENAMES}\n]"


def write_project(top):
    top.mkdir(parents=True, exist_ok=True)
    (top / "pkgtool.toml").write_text(MAP)
    for name in ("msg.de", "msg.pt", "state", "owned", "flagged.conf", "keep.conf"):
        (top / name).write_text(f"{name}\n")
    return top


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    return resolve_dir(write_project(tmp_path_factory.mktemp("flags") / "p"), "fedora", source_date_epoch=EPOCH)


@pytest.fixture(scope="module")
def built(tmp_path_factory, resolved):
    require_tools("rpmbuild", "rpm")
    out = tmp_path_factory.mktemp("flags-rpm")
    system = [p for p in build_rpm_system(resolved, out / "system") if not p.name.endswith(".src.rpm")]
    return {"system": system[0], "native": build_rpm(resolved, out / "native")}


def test_flags_resolve_into_entries(resolved):
    by = resolved.by_path()
    assert by["/usr/share/flagged/de/msg"].lang == "de"
    assert by["/usr/share/flagged/state"].no_verify == ("md5", "size", "mtime")
    # Aliases are canonical, and the order is rpm's bit order, whatever the map's order.
    assert by["/usr/share/flagged/owned"].no_verify == ("md5", "user", "mode")
    assert by["/etc/flagged.conf"].config == "config"


def test_spec_install_and_files_lines(resolved):
    text = "\n".join(["%install", *install_lines(resolved), "", "%files", *files_lines(resolved)]) + "\n"
    assert_golden("rpm/file_flags.files", text)


@pytest.mark.tools
def test_native_and_rpmbuild_headers_agree(built):
    outs = {k: _run("rpm", "-qp", "--qf", QF, str(p)).stdout for k, p in built.items()}
    assert outs["native"] == outs["system"]
    lines = set(outs["native"].splitlines())
    # RPMVERIFY_ALL less md5|size|mtime = 0x23, less md5|user|mode = 0x49; %config alone is "c".
    assert {
        "|de|4294967295||/usr/share/flagged/de/msg",
        "|pt_BR|4294967295||/usr/share/flagged/pt_BR/msg",
        f"||{0xFFFFFFFF & ~0x23}||/usr/share/flagged/state",
        f"||{0xFFFFFFFF & ~0x49}||/usr/share/flagged/owned",
        "c||4294967295||/etc/flagged.conf",
        f"cn||{0xFFFFFFFF & ~0x20}||/etc/flagged-keep.conf",
        # absolute = true keeps the target absolute (a relative one made absolute); without it, relative.
        "||4294967295|/usr/share/flagged/state|/etc/flagged/hooks/qemu",
        "||4294967295|/usr/share/flagged/de/msg|/usr/share/flagged/current",
        "||4294967295|state|/usr/share/flagged/relative",
        # %ghost: in the header with its flags, never verified for content, size 0 and no cpio member.
        f"cng||{0xFFFFFFFF & ~0x27}||/var/log/flagged/flagged.log",
        f"g||{0xFFFFFFFF & ~0x27}||/run/flagged",
    } <= lines
    for path in built.values():
        sizes = _run("rpm", "-qp", "--qf", "[%{FILESIZES} %{FILENAMES}\n]", str(path)).stdout
        assert "0 /var/log/flagged/flagged.log" in sizes.splitlines()
        members = subprocess.run(
            f"rpm2cpio {path} | cpio -t --quiet", shell=True, capture_output=True, text=True, check=True
        ).stdout.split()
        assert "./var/log/flagged" in members and "./var/log/flagged/flagged.log" not in members
        assert "./run/flagged" not in members


@pytest.mark.tools
@pytest.mark.parametrize("backend", ["native", "system"])
def test_rpm_verifies_as_artifact_with_its_ghosts(built, resolved, backend):
    report = verify_artifact(resolved, built[backend])
    assert report.ok, report.to_text()
    info = read_rpm(built[backend])
    ghost = {o.path: o for o in info.entries}["/var/log/flagged/flagged.log"]
    assert (ghost.mode & 0o7777, ghost.size, ghost.digest) == (0o640, 0, "")


@pytest.mark.tools
@pytest.mark.parametrize("backend", ["native", "system"])
def test_rpm_root_install_then_rpm_v_and_verify_honour_flags(built, resolved, backend, tmp_path):
    require_root()
    root = tmp_path / "root"
    db = ["--root", str(root), "--dbpath", "/var/lib/rpm"]
    _run("rpm", *db, "--initdb")
    res = _run("rpm", *db, "-i", "--nodeps", "--noscripts", str(built[backend]), check=False)
    assert res.returncode == 0, res.stderr
    v = _run("rpm", *db, "-V", "--nodeps", "flagged", check=False)
    assert v.returncode == 0 and v.stdout == "", v.stdout + v.stderr
    (root / "run").mkdir()  # a system directory (the ghost's parent), which a booted system has
    # Change what the flags waive, and one thing they do not.
    (root / "usr/share/flagged/state").write_text("grown since install\n")
    owned = root / "usr/share/flagged/owned"
    owned.write_text("OWNED\n")  # same size, other digest: only md5 changes
    owned.chmod(0o600)
    os.utime(owned, (EPOCH, EPOCH))
    (root / "usr/share/flagged/de/msg").write_text("changed\n")
    v = _run("rpm", *db, "-V", "--nodeps", "flagged", check=False)
    assert [line.split()[-1] for line in v.stdout.splitlines()] == ["/usr/share/flagged/de/msg"], v.stdout
    report = verify_root(resolved, root)
    assert [m.path for m in report.mismatches] == ["/usr/share/flagged/de/msg"], report.to_text()
    assert report.mismatches[0].problems == ("digest",)
    # rpm makes no ghost; one the system made is the package's (rpm -qf) and held to its mode.
    assert not (root / "var/log/flagged/flagged.log").exists()
    (root / "var/log/flagged/flagged.log").write_text("a log line\n")
    (root / "var/log/flagged/flagged.log").chmod(0o640)
    owner = _run("rpm", *db, "-qf", "/var/log/flagged/flagged.log").stdout.strip()
    assert owner.startswith("flagged-1.0-1")
    assert [m.path for m in verify_root(resolved, root).mismatches] == ["/usr/share/flagged/de/msg"]
    (root / "var/log/flagged/flagged.log").chmod(0o666)
    assert "/var/log/flagged/flagged.log" in [m.path for m in verify_root(resolved, root).mismatches]


@pytest.fixture(scope="module")
def debs(tmp_path_factory):
    require_tools("dpkg-buildpackage", "dh", "dpkg-deb")
    out = tmp_path_factory.mktemp("flags-deb")
    r = resolve_dir(write_project(out / "p"), "debian", source_date_epoch=EPOCH)
    system = [p for p in build_deb_system(r, out / "system", timeout=300) if p.suffix == ".deb"]
    return r, {"system": system[0], "native": build_deb(r, out / "native")}


@pytest.mark.tools
@pytest.mark.parametrize("backend", ["native", "system"])
def test_deb_plain_files_conffiles_and_dh_link_targets(debs, backend):
    r, built = debs
    report = verify_artifact(r, built[backend])
    assert report.ok, report.to_text()
    listing = _run("dpkg-deb", "-c", str(built[backend])).stdout
    # Debian has no %lang or %verify; links follow dh_link (Policy 10.5): absolute across top-level
    # directories, relative inside one, whatever absolute says.
    assert "./etc/flagged/hooks/qemu -> /usr/share/flagged/state" in listing, listing
    assert "./usr/share/flagged/current -> de/msg" in listing, listing
    conffiles = _run("dpkg-deb", "-I", str(built[backend]), "conffiles").stdout.split()
    assert {"/etc/flagged.conf", "/etc/flagged-keep.conf"} <= set(conffiles)
    # Debian has no ghost: not in the package; postinst makes it, postrm purge removes it.
    assert "flagged.log" not in listing and "./run/flagged" not in listing


@pytest.mark.tools
@pytest.mark.parametrize("backend", ["native", "system"])
def test_deb_ghosts_made_by_postinst_and_purged(debs, backend, tmp_path):
    _, built = debs
    control = tmp_path / "control"
    _run("dpkg-deb", "-e", str(built[backend]), str(control))
    root = tmp_path / "root"
    (root / "var/log/flagged").mkdir(parents=True)
    env = {**os.environ, "DPKG_ROOT": str(root)}

    def script(name: str, *args: str) -> None:
        proc = subprocess.run(["sh", str(control / name), *args], env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr

    script("postinst", "configure", "")
    log, run = root / "var/log/flagged/flagged.log", root / "run/flagged"
    assert log.read_bytes() == b"" and log.stat().st_mode & 0o7777 == 0o640
    assert run.is_dir() and run.stat().st_mode & 0o7777 == 0o750
    log.write_text("kept across upgrades\n")
    script("postinst", "configure", "0.9-1")
    assert log.read_text() == "kept across upgrades\n"
    script("postrm", "purge")
    assert not log.exists() and not run.exists()


@pytest.mark.tools
@pytest.mark.parametrize("backend", ["native", "system"])
def test_dpkg_root_install_makes_ghosts_and_purge_removes_them(debs, backend, tmp_path):
    require_root()
    require_tools("dpkg", "ldd")
    r, built = debs
    root = tmp_path / "root"
    _seed_root(root)
    for tool in ("install", "rm", "rmdir"):  # what postinst and postrm run for the ghosts, inside the root
        host = shutil.which(tool)
        (root / "usr/bin").mkdir(parents=True, exist_ok=True)
        shutil.copy2(host, root / "usr/bin" / tool)
        for lib in _run("ldd", host).stdout.split():
            if lib.startswith("/") and not (root / lib.lstrip("/")).exists():
                (root / lib.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(os.path.realpath(lib), root / lib.lstrip("/"))
    (root / "run").mkdir()
    (root / "dev").mkdir()  # a root has /dev/null, which postinst copies into an empty ghost
    os.mknod(root / "dev/null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    proc = _run("dpkg", f"--root={root}", "--force-depends", "-i", str(built[backend]), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    log = root / "var/log/flagged/flagged.log"
    assert log.read_bytes() == b"" and log.stat().st_mode & 0o7777 == 0o640
    assert (root / "run/flagged").stat().st_mode & 0o7777 == 0o750
    report = verify_root(r, root)
    assert report.ok, report.to_text()
    proc = _run("dpkg", f"--root={root}", "--purge", "flagged", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not log.exists() and not (root / "run/flagged").exists()


@pytest.mark.tools
def test_deb_lintian_no_errors(debs):
    require_tools("lintian")
    _, built = debs
    proc = _run("lintian", "--no-cfg", *(str(p) for p in built.values()), check=False)
    errors = [x for x in (proc.stdout + proc.stderr).splitlines() if x.startswith("E:")]
    assert errors == []


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("verify", '["md5"]', "is not 'not ATTRIBUTE'"),
        ("verify", '["not sizes"]', "did you mean 'size'?"),
        ("verify", '"not md5"', "an array of strings"),
        ("lang", '"German"', "is not a locale name"),
        ("config", '"replaced"', '"replace" or "noreplace"'),
    ],
)
def test_bad_flag_values_are_located_errors(tmp_path, key, value, needle):
    top = write_project(tmp_path / "p")
    text = MAP.replace('lang = "de"', f"{key} = {value}") if key != "lang" else MAP.replace('"de"', value, 1)
    (top / "pkgtool.toml").write_text(text)
    with pytest.raises(LayoutError) as exc:
        load_layout(top)
    (diag,) = exc.value.diagnostics
    text = diag.to_text()
    assert needle in text and diag.location.key.startswith(f"file[0].{key}") and diag.location.line == 14, text


def test_ghost_with_src_is_a_located_error(tmp_path):
    top = write_project(tmp_path / "p")
    (top / "pkgtool.toml").write_text(MAP.replace('lang = "de"', "ghost = true"))
    with pytest.raises(LayoutError) as exc:
        load_layout(top)
    (diag,) = exc.value.diagnostics
    assert diag.location.key == "file[0].src" and diag.location.line == 12, diag.to_text()
    assert "is a ghost: it ships no content" in diag.message and diag.hint == "remove src"


def test_ghost_names_one_file(tmp_path):
    top = write_project(tmp_path / "p")
    (top / "pkgtool.toml").write_text(MAP.replace('flagged/flagged.log"', 'flagged/"'))
    with pytest.raises(ResolveError) as exc:
        resolve_dir(top, "fedora", source_date_epoch=EPOCH)
    assert [d.location.key for d in exc.value.diagnostics] == ["file[6].dst"], exc.value


def test_the_committed_schema_accepts_every_flag():
    import json
    import tomllib

    import jsonschema

    from pkgtool.layout.schema import schema_text

    validator = jsonschema.Draft202012Validator(json.loads(schema_text()))
    assert list(validator.iter_errors(tomllib.loads(MAP))) == []
    with_src = MAP.replace("ghost = true\nconfig", 'ghost = true\nsrc = "state"\nconfig')
    assert [e.json_path for e in validator.iter_errors(tomllib.loads(with_src))] == ["$.file[6]"]
