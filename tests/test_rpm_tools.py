"""RPM output proven by the real tools: rpmbuild, rpm --root, rpm -V, rpmlint; native and system agree."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import EXAMPLE_NAMES, EXAMPLES
from rpm_oracle import assert_rpmfile_agrees
from tooling import require_root, require_tools

from pkgtool.errors import ToolError
from pkgtool.formats.rpm.header import SENSE_SCRIPTS
from pkgtool.formats.rpm.native import build_rpm
from pkgtool.formats.rpm.reader import read_header, read_rpm
from pkgtool.formats.rpm.spec import generate_rpm
from pkgtool.formats.rpm.system import build_rpm_system, rpmbuild_defines
from pkgtool.install.apply import install
from pkgtool.model import ResolvedRelation
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import verify_artifact
from pkgtool.verify.root import verify_root

pytestmark = pytest.mark.tools

EPOCH = 1736121600


@dataclass(frozen=True)
class Built:
    resolved: object
    system: Path
    srpm: Path
    native: Path
    generated: Path


def _build(project: Path, out: Path) -> Built:
    r = resolve_dir(project, "fedora", source_date_epoch=EPOCH)
    paths = build_rpm_system(r, out / "system")
    rpm = next(p for p in paths if not p.name.endswith(".src.rpm"))
    srpm = next(p for p in paths if p.name.endswith(".src.rpm"))
    native = build_rpm(r, out / "native")
    generate_rpm(r, out / "generated")
    return Built(r, rpm, srpm, native, out / "generated")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Built]:
    require_tools("rpmbuild", "rpm")
    return {ex: _build(EXAMPLES / ex, tmp_path_factory.mktemp(ex)) for ex in EXAMPLE_NAMES}


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def _rpm_root(root: Path, package: Path) -> None:
    (root / "etc").mkdir(parents=True)
    shutil.copy("/etc/passwd", root / "etc/passwd")
    shutil.copy("/etc/group", root / "etc/group")
    db = ["--root", str(root), "--dbpath", "/var/lib/rpm"]
    _run("rpm", *db, "--initdb")
    _run("rpm", *db, "-i", "--nodeps", "--noscripts", str(package))


# ---------------------------------------------------------------- rpmbuild


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_rpmbuild_ba_builds_the_generated_spec(built, example, tmp_path):
    b = built[example]
    spec = b.generated / f"{b.resolved.package.name}.spec"
    defines = rpmbuild_defines(b.resolved, tmp_path)
    i = defines.index("_sourcedir " + str(tmp_path / "SOURCES"))
    defines[i] = f"_sourcedir {b.generated}"
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH))
    proc = subprocess.run(["rpmbuild", "-ba", *defines, str(spec)], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list((tmp_path / "RPMS").rglob("*.rpm")) and list((tmp_path / "SRPMS").glob("*.src.rpm"))
    assert b.srpm.exists()


def test_rpmbuild_failure_carries_command_and_output(built, tmp_path):
    r = built["vdsm-hook-acme"].resolved
    missing = ResolvedRelation(name="pkgtool-no-such-build-dependency")
    broken = dataclasses.replace(r, relations={**r.relations, "build-requires": (missing,)})
    with pytest.raises(ToolError) as info:
        build_rpm_system(broken, tmp_path)
    assert info.value.command[0] == "rpmbuild"
    assert "pkgtool-no-such-build-dependency" in info.value.output
    assert not list(tmp_path.glob("*.rpm"))


# ---------------------------------------------------------------- native == system


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_native_and_system_agree_entry_by_entry(built, example):
    b = built[example]
    native, system = read_rpm(b.native), read_rpm(b.system)
    assert [o.path for o in native.entries] == [o.path for o in system.entries]
    for n, s in zip(native.entries, system.entries, strict=True):
        assert (n.kind, n.mode, n.owner, n.group, n.target, n.config) == (
            s.kind,
            s.mode,
            s.owner,
            s.group,
            s.target,
            s.config,
        ), n.path
        assert (n.size, n.digest) == (s.size, s.digest), n.path
    assert native.relations == system.relations
    assert native.scripts == system.scripts
    assert (native.name, native.version, native.release, native.arch, native.summary) == (
        system.name,
        system.version,
        system.release,
        system.arch,
        system.summary,
    )
    # Requires(pre) for account creation: the same in both
    script_deps = [
        {(d.name, d.flags & SENSE_SCRIPTS) for d in read_header(p).dependencies("requires") if d.flags & 0x200}
        for p in (b.native, b.system)
    ]
    assert script_deps[0] == script_deps[1]


# rpmbuild adds requires of its own from file contents (RPMSENSE_FIND_REQUIRES: shebangs); the native writer does not.
FIND_REQUIRES = 1 << 14


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_rpm_sees_the_same_package_from_both(built, example):
    require_tools("rpm", "rpm2cpio")
    b = built[example]

    def q(package: Path, *args: str) -> str:
        return _run("rpm", "-qp", *args, str(package)).stdout

    assert q(b.native, "--dump") == q(b.system, "--dump")
    files = "[%{FILENAMES} %{FILEFLAGS} %{FILEMODES:octal} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEDIGESTS}\n]"
    assert q(b.native, "--qf", files) == q(b.system, "--qf", files)
    assert q(b.native, "--scripts", "--changelog") == q(b.system, "--scripts", "--changelog")
    for kind in ("PROVIDE", "CONFLICT", "OBSOLETE", "RECOMMEND", "SUGGEST"):
        fmt = f"[%{{{kind}NAME}} %{{{kind}FLAGS}} %{{{kind}VERSION}}\n]"
        assert q(b.native, "--qf", fmt) == q(b.system, "--qf", fmt), kind
    requires = [
        {line for line in q(p, "--qf", "[%{REQUIRENAME} %{REQUIREFLAGS} %{REQUIREVERSION}\n]").splitlines()
         if not int(line.split()[1]) & FIND_REQUIRES}
        for p in (b.native, b.system)
    ]  # fmt: skip
    assert requires[0] == requires[1]
    # the payloads are the same cpio archive, byte for byte
    cpio = [subprocess.run(["rpm2cpio", str(p)], capture_output=True, check=True).stdout for p in (b.native, b.system)]
    assert cpio[0] == cpio[1]


@pytest.mark.parametrize("backend", ["native", "system"])
@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_rpmfile_reads_what_pkgtool_reads(built, example, backend):
    """rpmfile, an independent reader, agrees with pkgtool's reader on both builds of every example."""
    assert_rpmfile_agrees(getattr(built[example], backend))


def test_rpmfile_cross_check_notices_a_difference(built, monkeypatch):
    """The cross-check is not vacuous: a reader that got one owner wrong is caught."""
    import rpm_oracle

    path = built["convirt"].native
    info = read_rpm(path)
    wrong = dataclasses.replace(info.entries[0], owner="nobody")
    monkeypatch.setattr(rpm_oracle, "read_rpm", lambda p: dataclasses.replace(info, entries=(wrong, *info.entries[1:])))
    with pytest.raises(AssertionError):
        assert_rpmfile_agrees(path)


def test_system_build_is_reproducible(built, tmp_path):
    b = built["libvirt-hook-acme"]
    again = build_rpm_system(b.resolved, tmp_path)
    rpm = next(p for p in again if not p.name.endswith(".src.rpm"))
    assert rpm.read_bytes() == b.system.read_bytes()


def test_payload_compression_from_profile(built):
    for p in (built["convirt"].native, built["convirt"].system):
        out = _run("rpm", "-qp", "--qf", "%{PAYLOADCOMPRESSOR}", str(p)).stdout
        assert out == "zstd"


# ---------------------------------------------------------------- rpm --root, rpm -V, verify


def _disk_attrs(root: Path, resolved) -> dict[str, tuple]:
    out = {}
    for e in resolved.owned:
        p = root / e.path.lstrip("/")
        st = os.lstat(p)
        target = os.readlink(p) if stat.S_ISLNK(st.st_mode) else None
        mode = None if stat.S_ISLNK(st.st_mode) else stat.S_IMODE(st.st_mode)
        out[e.path] = (stat.S_IFMT(st.st_mode), mode, st.st_uid, st.st_gid, target)
    return out


@pytest.mark.parametrize("backend", ["native", "system"])
@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_rpm_root_install_matches_pkgtool_install(built, example, backend, tmp_path):
    require_root()
    b = built[example]
    root = tmp_path / "rpmroot"
    _rpm_root(root, getattr(b, backend))
    db = ["--root", str(root), "--dbpath", "/var/lib/rpm"]
    v = _run("rpm", *db, "-V", "--nodeps", b.resolved.package.name, check=False)
    assert v.returncode == 0 and v.stdout == "", v.stdout + v.stderr
    mine = tmp_path / "pkgtoolroot"
    mine.mkdir()
    install(b.resolved, mine)
    rpm_attrs, pkgtool_attrs = _disk_attrs(root, b.resolved), _disk_attrs(mine, b.resolved)
    for path in rpm_attrs:
        r_fmt, r_mode, r_uid, r_gid, r_target = rpm_attrs[path]
        p_fmt, p_mode, p_uid, p_gid, p_target = pkgtool_attrs[path]
        assert (r_fmt, r_mode, r_uid, r_gid) == (p_fmt, p_mode, p_uid, p_gid), path
        if r_target is not None:
            # rpm stores the relative form; both must land on the same place
            here = os.path.dirname(path)
            assert os.path.normpath(os.path.join(here, r_target)) == os.path.normpath(os.path.join(here, p_target))
    report = verify_root(b.resolved, root)
    assert report.ok, report.to_text()


@pytest.mark.parametrize("backend", ["native", "system"])
@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_verify_artifact_passes_on_built_rpm(built, example, backend):
    b = built[example]
    report = verify_artifact(b.resolved, getattr(b, backend))
    assert report.ok, report.to_text()


def test_verify_artifact_fails_on_edited_map(built, tmp_path):
    project = tmp_path / "convirt"
    shutil.copytree(EXAMPLES / "convirt", project)
    toml = project / "pkgtool.toml"
    text = toml.read_text()
    assert 'path = "/var/cache/convirt/image_store/*/provision.sh"\nmode = "0744"' in text
    toml.write_text(
        text.replace('image_store/*/provision.sh"\nmode = "0744"', 'image_store/*/provision.sh"\nmode = "0700"')
    )
    edited = resolve_dir(project, "fedora", source_date_epoch=EPOCH)
    for artifact in (built["convirt"].native, built["convirt"].system):
        report = verify_artifact(edited, artifact)
        assert not report.ok
        bad = {m.path for m in report.mismatches}
        assert "/var/cache/convirt/image_store/fedora_vm/provision.sh" in bad
        assert "/var/cache/convirt/image_store/fedora_vm/provision.sh" in report.to_text()


# ---------------------------------------------------------------- rpmlint


@pytest.mark.parametrize("backend", ["native", "system"])
@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_rpmlint_reports_no_errors(built, example, backend):
    require_tools("rpmlint")
    b = built[example]
    name = b.resolved.package.name
    proc = _run(
        "rpmlint",
        "-c",
        str(b.generated / f"{name}-rpmlint.toml"),
        "-r",
        str(b.generated / f"{name}.rpmlintrc"),
        str(getattr(b, backend)),
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 errors" in proc.stdout
    assert "unused-rpmlintrc-filter" not in proc.stdout


# ---------------------------------------------------------------- hostile metadata

HOSTILE_TOML = """\
schema = 1

[package]
name = "hostile"
version = "1.0"
summary = "Hostile %(touch /tmp/pwned) summary 100%"
description = '''
A description with %{lua: os.execute("touch /tmp/pwned2")} in it.
%define foo bar
%files
Quotes ' " and $HOME and `id` stay text.
'''
license = "MIT"
maintainer = "Jane 'Q' Packager <jane@example.org>"

[requires]
bash = ">= 4"

[[file]]
src = "files/*"
dst = "/usr/share/hostile/"
mode = "0644"

[[dir]]
path = "/var/lib/hostile"
mode = "0750"

[scripts]
post-install = "scripts/post.sh"
"""

HOSTILE_NAMES = ("50%{name} [x].sh", "a b.txt", "it's.sh", "d$x`b`", 'q"uote', "x{y,z}*?")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Built:
    require_tools("rpmbuild", "rpm")
    for marker in ("/tmp/pwned", "/tmp/pwned2"):
        if os.path.exists(marker):
            os.unlink(marker)
    project = tmp_path_factory.mktemp("hostile-src")
    (project / "files").mkdir()
    (project / "scripts").mkdir()
    for i, name in enumerate(HOSTILE_NAMES):
        (project / "files" / name).write_text(f"content {i}\n")
    (project / "scripts/post.sh").write_text('echo "100% done %{name} $1" >/dev/null\n')
    (project / "pkgtool.toml").write_text(HOSTILE_TOML)
    return _build(project, tmp_path_factory.mktemp("hostile-out"))


def test_hostile_metadata_builds_and_runs_nothing(hostile):
    assert not os.path.exists("/tmp/pwned") and not os.path.exists("/tmp/pwned2")
    for artifact in (hostile.native, hostile.system):
        q = _run("rpm", "-qp", "--qf", "%{SUMMARY}\n%{DESCRIPTION}\n", str(artifact)).stdout
        assert q.startswith("Hostile %(touch /tmp/pwned) summary 100%\n")
        assert '%{lua: os.execute("touch /tmp/pwned2")}' in q
        assert "%define foo bar" in q and "%files" in q and "$HOME and `id`" in q
        listed = _run("rpm", "-qlp", str(artifact)).stdout.splitlines()
        for name in HOSTILE_NAMES:
            assert f"/usr/share/hostile/{name}" in listed
        scripts = _run("rpm", "-qp", "--scripts", str(artifact)).stdout
        assert 'echo "100% done %{name} $1"' in scripts
    assert [o.path for o in read_rpm(hostile.native).entries] == [o.path for o in read_rpm(hostile.system).entries]
    for artifact in (hostile.native, hostile.system):
        assert_rpmfile_agrees(artifact)


def test_hostile_rpm_installs_and_verifies(hostile, tmp_path):
    require_root()
    for artifact in (hostile.native, hostile.system):
        root = tmp_path / artifact.parent.name
        _rpm_root(root, artifact)
        v = _run("rpm", "--root", str(root), "--dbpath", "/var/lib/rpm", "-V", "--nodeps", "hostile", check=False)
        assert v.returncode == 0 and v.stdout == "", v.stdout
        for i, name in enumerate(HOSTILE_NAMES):
            assert (root / "usr/share/hostile" / name).read_text() == f"content {i}\n"
        assert verify_root(hostile.resolved, root).ok


# ---------------------------------------------------------------- scriptlet dispatch, run for real

DISPATCH_TOML = """\
schema = 1

[package]
name = "dispatch"
version = "{version}"
summary = "Records which maintainer script events ran"
description = "Test package."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"

[[file]]
src = "data.txt"
dst = "/usr/share/dispatch/data.txt"

[scripts]
{scripts}
"""


def _shell_root(root: Path) -> None:
    """A root where rpm can run scriptlets: /bin/sh (dash) and the C library it needs."""
    (root / "etc").mkdir(parents=True)
    shutil.copy("/etc/passwd", root / "etc/passwd")
    shutil.copy("/etc/group", root / "etc/group")
    (root / "bin").mkdir()
    shutil.copy(shutil.which("dash"), root / "bin/sh")
    for lib in _run("ldd", shutil.which("dash")).stdout.split():
        if lib.startswith("/") and os.path.exists(lib):
            dest = root / lib.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(lib, dest)
    (root / "tmp").mkdir()


@pytest.mark.parametrize("backend", ["native", "system"])
def test_scriptlets_run_exactly_on_their_events(backend, tmp_path):
    require_tools("rpmbuild", "rpm", "dash", "ldd")
    require_root()
    events = ("pre-install", "pre-upgrade", "post-install", "post-upgrade", "pre-remove", "post-remove", "purge")
    packages = []
    for version in ("1.0", "2.0"):
        project = tmp_path / f"src-{version}"
        (project / "s").mkdir(parents=True)
        (project / "data.txt").write_text(version)
        for ev in events:
            # the event's own argument must not leak in: the script sees no $1
            (project / "s" / f"{ev}.sh").write_text(f'echo "{ev} {version} [$1]" >> /tmp/log\nexit 0\n')
        scripts = "\n".join(f'{ev} = "s/{ev}.sh"' for ev in events)
        (project / "pkgtool.toml").write_text(DISPATCH_TOML.format(version=version, scripts=scripts))
        r = resolve_dir(project, "fedora", source_date_epoch=EPOCH)
        out = tmp_path / f"out-{version}"
        if backend == "native":
            packages.append(build_rpm(r, out))
        else:
            packages.append(next(p for p in build_rpm_system(r, out) if not p.name.endswith(".src.rpm")))
    root = tmp_path / "root"
    _shell_root(root)
    db = ["--root", str(root), "--dbpath", "/var/lib/rpm"]
    _run("rpm", *db, "--initdb")
    log = root / "tmp/log"
    _run("rpm", *db, "-i", "--nodeps", str(packages[0]))
    assert log.read_text().splitlines() == ["pre-install 1.0 []", "post-install 1.0 []"]
    log.unlink()
    _run("rpm", *db, "-U", "--nodeps", str(packages[1]))
    assert log.read_text().splitlines() == ["pre-upgrade 2.0 []", "post-upgrade 2.0 []"]
    log.unlink()
    _run("rpm", *db, "-e", "--nodeps", "dispatch")
    assert log.read_text().splitlines() == ["pre-remove 2.0 []", "post-remove 2.0 []", "purge 2.0 []"]
