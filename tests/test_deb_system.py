"""Real tools: dpkg-buildpackage builds the generated trees; native and system .debs agree entry by entry,
install with dpkg --root into throwaway roots with the map's modes, pass verify_root and lintian.

How the throwaway root works (see docs/debian.md): dpkg --root chroots into the root to run maintainer
scripts, so an empty root fails at postinst ("unable to execute ... No such file").  With
--force-script-chrootless the scripts run on the host instead, where a packager script that does not
prefix its paths with ${DPKG_ROOT} writes to the host (convirt's post-install would create
/var/cache/convirt on the build machine).  So these tests seed the root with /bin/sh (dash), mkdir and
their libraries and let dpkg chroot: the scripts really run, and only inside the root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLE_NAMES, EXAMPLES
from tooling import require_root, require_tools

from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.deb.reader import read_deb
from pkgtool.formats.deb.system import build_deb_system
from pkgtool.model import EntryKind
from pkgtool.project import resolve_dir
from pkgtool.verify.root import verify_root

EPOCH = 1736121600
SEED_TOOLS = {"bin/sh": "/bin/dash", "bin/mkdir": "/bin/mkdir"}


def _resolved(example: str):
    return resolve_dir(EXAMPLES / example, "debian", source_date_epoch=EPOCH)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """{example: (resolved, native .deb, [system outputs])}, each built once."""
    require_tools("dpkg-buildpackage", "dh", "dpkg-deb")
    out = {}
    for ex in EXAMPLE_NAMES:
        r = _resolved(ex)
        base = tmp_path_factory.mktemp(ex)
        out[ex] = (r, build_deb(r, base / "native"), build_deb_system(r, base / "system", timeout=300))
    return out


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_dpkg_buildpackage_outputs(builds, example):
    r, _, outputs = builds[example]
    names = [p.name for p in outputs]
    v = f"{r.package.version}-{r.package.release}"
    assert names[0] == f"{r.package.name}_{v}_all.deb"
    assert f"{r.package.name}_{v}.dsc" in names
    assert f"{r.package.name}_{r.package.version}.orig.tar.gz" in names
    assert f"{r.package.name}_{v}.debian.tar.xz" in names
    assert all(p.exists() for p in outputs)
    assert not [p for p in outputs[0].parent.iterdir() if p.name.startswith(".")]  # temp work dir removed


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_native_and_system_agree_entry_by_entry(builds, example):
    _, native, outputs = builds[example]
    a, b = read_deb(native), read_deb(outputs[0])

    def shape(info):
        return {e.path: (e.kind, oct(e.mode), e.owner, e.group, e.target, e.config) for e in info.entries}

    sa, sb = shape(a), shape(b)
    assert sorted(sa) == sorted(sb)
    for path in sa:
        assert sa[path] == sb[path], path
    # same content too, except the gzip bytes of changelog.Debian.gz (same text inside)
    digests_a = {e.path: e.digest for e in a.entries if not e.path.endswith(".gz")}
    digests_b = {e.path: e.digest for e in b.entries if not e.path.endswith(".gz")}
    assert digests_a == digests_b
    assert a.relations == b.relations
    assert a.scripts == b.scripts
    fields_a = _control(native)
    fields_b = _control(outputs[0])
    assert fields_a == fields_b
    assert _ar_names(native) == _ar_names(outputs[0])


def _ar_names(deb: Path) -> list[str]:
    data, pos, names = deb.read_bytes(), 8, []
    while pos < len(data):
        size = int(data[pos + 48 : pos + 58])
        names.append(data[pos : pos + 16].decode().strip())
        pos += 60 + size + size % 2
    return names


def test_ubuntu_profile_compression_in_both_backends(tmp_path):
    require_tools("dpkg-buildpackage", "dh", "dpkg-deb")
    r = resolve_dir(EXAMPLES / "vdsm-hook-acme", "ubuntu", source_date_epoch=EPOCH)
    assert r.profile.compression == "zstd"
    native = build_deb(r, tmp_path / "native")
    system = build_deb_system(r, tmp_path / "system")[0]
    assert _ar_names(native) == _ar_names(system) == ["debian-binary", "control.tar.zst", "data.tar.zst"]
    assert {e.path: e.mode for e in read_deb(native).entries} == {e.path: e.mode for e in read_deb(system).entries}


def _control(deb: Path) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True).stdout


def _seed_root(root: Path) -> None:
    (root / "var/lib/dpkg/info").mkdir(parents=True)
    (root / "var/lib/dpkg/updates").mkdir()
    (root / "var/lib/dpkg/status").touch()
    libs: set[str] = set()
    for rel, host in SEED_TOOLS.items():
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(host, dest)
        ldd = subprocess.run(["ldd", host], capture_output=True, text=True).stdout
        libs.update(w for w in ldd.split() if w.startswith("/"))
    for lib in libs:
        dest = root / lib.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.realpath(lib), dest)


def _dpkg_install(root: Path, deb: Path) -> None:
    proc = subprocess.run(["dpkg", f"--root={root}", "--force-depends", "-i", str(deb)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    status = (root / "var/lib/dpkg/status").read_text()
    assert "Status: install ok installed" in status  # configured: postinst ran and succeeded


@pytest.mark.parametrize("backend", ["native", "system"])
@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_dpkg_root_install_has_map_modes_and_verifies(builds, tmp_path, example, backend):
    require_root()
    require_tools("dpkg", "ldd")
    r, native, outputs = builds[example]
    deb = native if backend == "native" else outputs[0]
    root = tmp_path / "root"
    _seed_root(root)
    _dpkg_install(root, deb)
    for e in r.entries:
        p = root / e.path.lstrip("/")
        st = p.lstat()
        if e.kind is EntryKind.SYMLINK:
            assert p.is_symlink(), e.path
            assert os.path.realpath(p) == os.path.realpath(root / e.target.lstrip("/")), e.path
            continue
        assert oct(st.st_mode & 0o7777) == oct(e.mode), e.path
        assert (st.st_uid, st.st_gid) == (0, 0), e.path
    if example == "convirt":
        provision = root / "var/cache/convirt/image_store/fedora_vm/provision.sh"
        assert provision.stat().st_mode & 0o7777 == 0o744
    report = verify_root(r, root)
    assert report.ok, report.to_dict()


def _lintian(paths: list[Path]) -> tuple[list[str], list[str]]:
    proc = subprocess.run(["lintian", "--no-cfg", *map(str, paths)], capture_output=True, text=True)
    lines = (proc.stdout + proc.stderr).splitlines()
    print("\n".join(lines))  # warnings listed in the test output (pytest -s or on failure)
    return [x for x in lines if x.startswith("E:")], [x for x in lines if x.startswith("W:")]


def test_lintian_no_errors_on_system_debs_and_dsc(builds):
    require_tools("lintian")
    paths = []
    for ex in EXAMPLE_NAMES:
        outputs = builds[ex][2]
        paths += [p for p in outputs if p.suffix in (".deb", ".dsc")]
    errors, _ = _lintian(paths)
    assert errors == []


def test_lintian_no_errors_on_native_debs(builds):
    require_tools("lintian")
    errors, _ = _lintian([builds[ex][1] for ex in EXAMPLE_NAMES])
    assert errors == []
