"""A map with sub-packages through the real Debian tools: dpkg-buildpackage -b, the native writer, dpkg --root, verify."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from subpkg_map import write_project
from test_deb_system import _seed_root
from tooling import require_root, require_tools

from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.deb.reader import read_deb
from pkgtool.formats.deb.system import build_deb_system
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import verify_artifact
from pkgtool.verify.root import verify_root

pytestmark = pytest.mark.tools

EPOCH = 1736121600
NAMES = ["acme-hooks", "acme-hooks-helper", "acme-hooks-net"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    require_tools("dpkg-buildpackage", "dh", "dpkg-deb")
    out = tmp_path_factory.mktemp("subpkg-deb")
    r = resolve_dir(write_project(out / "project"), "debian", source_date_epoch=EPOCH)
    system = [p for p in build_deb_system(r, out / "system", timeout=300) if p.suffix == ".deb"]
    native = [build_deb(p, out / "native") for p in r.packages]
    return r, {read_deb(p).name: p for p in system}, {read_deb(p).name: p for p in native}


def _fields(deb: Path) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True).stdout


def test_dpkg_buildpackage_makes_one_deb_per_package(built):
    _, system, native = built
    assert sorted(system) == sorted(native) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_native_and_system_agree_entry_by_entry(built, name):
    _, system, native = built
    n, s = read_deb(native[name]), read_deb(system[name])
    assert [(o.path, o.kind, o.mode, o.owner, o.group, o.target, o.config, o.digest) for o in n.entries] == [
        (o.path, o.kind, o.mode, o.owner, o.group, o.target, o.config, o.digest) for o in s.entries
    ]
    assert n.relations == s.relations and n.scripts == s.scripts
    assert (n.version, n.release, n.arch, n.summary) == (s.version, s.release, s.arch, s.summary)
    # The whole control file, Installed-Size aside: Source:, the own-version Depends, Breaks.
    strip = lambda text: [x for x in text.splitlines() if not x.startswith("Installed-Size")]  # noqa: E731
    assert strip(_fields(native[name])) == strip(_fields(system[name]))


def test_own_version_relations_expanded(built):
    _, system, _ = built
    fields = _fields(system["acme-hooks-net"])
    assert "Depends: acme-hooks (= 1.2-3), acme-hooks-helper" in fields
    assert "Breaks: acme-net-hook (<< 1.2)" in fields
    assert "Source: acme-hooks" in fields


@pytest.mark.parametrize("backend", ["native", "system"])
def test_each_package_verifies_as_artifact(built, backend):
    r, system, native = built
    debs = {"native": native, "system": system}[backend]
    for p in r.packages:
        report = verify_artifact(p, debs[p.package.name])
        assert report.ok, report.to_text()


@pytest.mark.parametrize("backend", ["native", "system"])
def test_dpkg_root_install_and_verify_per_package(built, backend, tmp_path):
    require_root()
    require_tools("dpkg", "ldd")
    r, system, native = built
    debs = {"native": native, "system": system}[backend]
    root = tmp_path / "root"
    _seed_root(root)
    # No --force-depends: the net hook's exact dependency on the main package must be met by it.
    proc = subprocess.run(
        ["dpkg", f"--root={root}", "-i", *(str(debs[n]) for n in NAMES)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    status = (root / "var/lib/dpkg/status").read_text()
    assert status.count("Status: install ok installed") == 3
    for p in r.packages:
        report = verify_root(p, root, others=r.packages)
        assert report.ok, report.to_text()
    # dpkg refuses to remove the main package the net hook depends on exactly.
    proc = subprocess.run(["dpkg", f"--root={root}", "-r", "acme-hooks"], capture_output=True, text=True)
    assert proc.returncode != 0 and "acme-hooks-net depends on acme-hooks (= 1.2-3)" in proc.stderr, proc.stderr
