"""A map with sub-packages through the real RPM tools: rpmbuild -ba, the native writer, rpm --root, verify."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from subpkg_map import write_project
from tooling import require_root, require_tools

from pkgtool.formats.rpm.native import build_rpm
from pkgtool.formats.rpm.reader import read_rpm
from pkgtool.formats.rpm.spec import generate_rpm
from pkgtool.formats.rpm.system import build_rpm_system, rpmbuild_defines
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import verify_artifact
from pkgtool.verify.root import verify_root

pytestmark = pytest.mark.tools

EPOCH = 1736121600
NAMES = ["acme-hooks", "acme-hooks-helper", "acme-hooks-net"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    require_tools("rpmbuild", "rpm")
    out = tmp_path_factory.mktemp("subpkg-rpm")
    r = resolve_dir(write_project(out / "project"), "fedora", source_date_epoch=EPOCH)
    system = [p for p in build_rpm_system(r, out / "system") if not p.name.endswith(".src.rpm")]
    native = [build_rpm(p, out / "native") for p in r.packages]
    generate_rpm(r, out / "generated")
    return r, {read_rpm(p).name: p for p in system}, {read_rpm(p).name: p for p in native}, out / "generated"


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def test_rpmbuild_ba_builds_one_rpm_per_package(built, tmp_path):
    r, system, native, generated = built
    assert sorted(system) == sorted(native) == NAMES
    defines = rpmbuild_defines(r, tmp_path)
    for d in ("SOURCES", "SPECS"):
        (tmp_path / d).mkdir(exist_ok=True)
    for f in generated.iterdir():
        shutil.copy(f, tmp_path / "SOURCES")
    res = _run("rpmbuild", "-ba", *defines, str(generated / "acme-hooks.spec"), check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    made = sorted(p.name for p in (tmp_path / "RPMS").rglob("*.rpm"))
    assert [n.rsplit("-", 2)[0] for n in made] == NAMES
    assert len(list((tmp_path / "SRPMS").glob("acme-hooks-1.2-3*.src.rpm"))) == 1


@pytest.mark.parametrize("name", NAMES)
def test_native_and_system_agree_entry_by_entry(built, name):
    _, system, native, _ = built
    n, s = read_rpm(native[name]), read_rpm(system[name])
    assert [(o.path, o.kind, o.mode, o.owner, o.group, o.target, o.config, o.digest) for o in n.entries] == [
        (o.path, o.kind, o.mode, o.owner, o.group, o.target, o.config, o.digest) for o in s.entries
    ]
    assert n.relations == s.relations and n.scripts == s.scripts
    assert (n.version, n.release, n.arch, n.summary) == (s.version, s.release, s.arch, s.summary)
    q = "%{SOURCERPM}"
    assert (
        _run("rpm", "-qp", "--qf", q, str(native[name])).stdout
        == _run("rpm", "-qp", "--qf", q, str(system[name])).stdout
    )


def test_own_version_relations_in_both(built):
    r, system, native, _ = built
    for rpm in (system["acme-hooks-net"], native["acme-hooks-net"]):
        reqs = _run("rpm", "-qp", "--requires", str(rpm)).stdout.splitlines()
        assert f"acme-hooks = 1.2-3{r.profile.dist_tag}" in reqs
        assert "acme-net-hook < 1.2" in _run("rpm", "-qp", "--obsoletes", str(rpm)).stdout.splitlines()


@pytest.mark.parametrize("backend", ["native", "system"])
def test_each_package_verifies_as_artifact(built, backend):
    r, system, native, _ = built
    rpms = {"native": native, "system": system}[backend]
    for p in r.packages:
        report = verify_artifact(p, rpms[p.package.name])
        assert report.ok, report.to_text()
    # The net hook's artifact is not the helper's package: verify says so.
    assert not verify_artifact(r.subpackages[0], rpms["acme-hooks-net"]).ok


@pytest.mark.parametrize("backend", ["native", "system"])
def test_rpm_root_install_and_verify_per_package(built, backend, tmp_path):
    require_root()
    r, system, native, _ = built
    rpms = {"native": native, "system": system}[backend]
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    shutil.copy("/etc/passwd", root / "etc/passwd")
    shutil.copy("/etc/group", root / "etc/group")
    db = ["--root", str(root), "--dbpath", "/var/lib/rpm"]
    _run("rpm", *db, "--initdb")
    # --nodeps: the empty root has no /bin/sh; the packages' own relations are checked below.
    res = _run("rpm", *db, "-i", "--nodeps", "--noscripts", *(str(rpms[n]) for n in NAMES), check=False)
    assert res.returncode == 0, res.stderr
    v = _run("rpm", *db, "-V", "--nodeps", *NAMES, check=False)
    assert v.returncode == 0 and v.stdout == "", v.stdout + v.stderr
    exact = f"acme-hooks = 1.2-3{r.profile.dist_tag}"
    # rpm knows the net hook needs exactly this main package: removing it alone is refused.
    erase = _run("rpm", *db, "-e", "--test", "acme-hooks", check=False)
    assert erase.returncode != 0 and f"{exact} is needed by (installed) acme-hooks-net" in erase.stderr, erase.stderr
    # /usr/libexec/acme belongs to the main package only
    owner = _run("rpm", *db, "-qf", "/usr/libexec/acme").stdout.split()
    assert [o.rsplit("-", 2)[0] for o in owner] == ["acme-hooks"]
    for p in r.packages:
        report = verify_root(p, root, others=r.packages)
        assert report.ok, report.to_text()
    # Without the others, the main package finds its sub-packages' files as extras below its directories.
    alone = verify_root(r, root)
    assert {m.path for m in alone.mismatches} >= {"/usr/libexec/acme/helpers/acme-helper"}
