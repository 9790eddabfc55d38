"""`pkgtool export obs`: the directory an OBS package takes, built the way OBS builds it.

OBS turns the package's .dsc into a Debian source package with obs-build's own ``debtransform``
(/usr/lib/obs-build/debtransform on Debian, /usr/lib/build/debtransform on openSUSE), then runs
dpkg-source -x and dpkg-buildpackage on it; the rpm repositories get rpmbuild of the spec with the
package's files as SOURCES.  Both are done here, and pkgtool verify holds the results to the map.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO
from tooling import require_tools

EPOCH = "1700000000"
DEBTRANSFORMS = ("/usr/lib/obs-build/debtransform", "/usr/lib/build/debtransform")


def run(*args: str, cwd: Path = REPO, check: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    proc = subprocess.run(
        [sys.executable, "-m", "pkgtool", *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def tool(*cmd: str, cwd: Path) -> str:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def debtransform() -> str:
    found = next((p for p in DEBTRANSFORMS if os.path.exists(p)), None)
    if found is None:
        require_tools("debtransform")  # skips, or fails under PKGTOOL_REQUIRE_TOOLS=1: install obs-build
    return str(found)


def digests(top: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(top.iterdir())}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("obs") / "convirt"
    run("export", "obs", str(EXAMPLES / "convirt"), "--out", str(out), check=True)
    return out


@pytest.fixture(scope="module")
def obs_deb(exported: Path, tmp_path_factory) -> Path:
    """debtransform + dpkg-source -x + dpkg-buildpackage -b, as an OBS deb build does."""
    require_tools("perl", "dpkg-source", "dpkg-buildpackage", "dh", "fakeroot")
    work = tmp_path_factory.mktemp("debtransform")
    tool("perl", debtransform(), str(exported), str(exported / "convirt.dsc"), str(work), cwd=work)
    tool("dpkg-source", "-x", "convirt_0.9.0-1.dsc", "src", cwd=work)
    tool("dpkg-buildpackage", "-b", "-us", "-uc", cwd=work / "src")
    return work


def test_the_export_holds_both_sides(exported: Path) -> None:
    names = set(os.listdir(exported))
    assert {"convirt.spec", "convirt-0.9.0.tar.zst", "0001-paramiko-channel-timeout.patch"} <= names
    assert {"convirt.dsc", "convirt_0.9.0.orig.tar.gz", "debian.control", "debian.rules", "debian.changelog"} <= names
    assert "debian.compat" not in names  # debian.control says debhelper-compat (= 13)
    dsc = (exported / "convirt.dsc").read_text()
    assert "DEBTRANSFORM-TAR: convirt_0.9.0.orig.tar.gz\n" in dsc
    assert "Version: 0.9.0-1\n" in dsc and "Format: 1.0\n" in dsc
    # debtransform folds the map's patch into its diff with the map's strip level
    assert (exported / "debian.series").read_text() == "0001-paramiko-channel-timeout.patch -p1\n"
    assert (exported / "debian.changelog").read_text().startswith("convirt (0.9.0-1) ")


def test_debtransform_then_dpkg_buildpackage_builds_what_the_map_says(obs_deb: Path) -> None:
    dsc = (obs_deb / "convirt_0.9.0-1.dsc").read_text()
    assert "convirt_0.9.0-1.diff.gz" in dsc and "DEBTRANSFORM" not in dsc
    # the map's patch is applied in the unpacked tree
    patched = (obs_deb / "src/src/convirt/core/remote.py").read_text()
    original = (EXAMPLES / "convirt/src/convirt/core/remote.py").read_text()
    assert patched != original
    deb = obs_deb / "convirt_0.9.0-1_all.deb"
    proc = run("verify", str(EXAMPLES / "convirt"), "--distro", "debian", str(deb))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok" in proc.stdout


def test_rpmbuild_of_the_spec_with_the_package_files(exported: Path, tmp_path: Path) -> None:
    require_tools("rpmbuild", "zstd")
    tool(
        "rpmbuild", "-bb", "--define", f"_topdir {tmp_path}", "--define", f"_sourcedir {exported}",
        str(exported / "convirt.spec"), cwd=tmp_path,
    )  # fmt: skip
    (rpm,) = (tmp_path / "RPMS/noarch").glob("convirt-0.9.0-1*.noarch.rpm")
    proc = run("verify", str(EXAMPLES / "convirt"), "--distro", "fedora", str(rpm))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_export_is_reproducible(exported: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    proc = run("export", "obs", str(EXAMPLES / "convirt"), "--out", str(again), "--json", check=True)
    assert digests(again) == digests(exported)
    doc = json.loads(proc.stdout)
    assert doc["ok"] and doc["dsc"] == "convirt.dsc" and {f["name"] for f in doc["files"]} == set(digests(again))


def test_a_deb_profile_for_the_spec_is_refused(tmp_path: Path) -> None:
    proc = run("export", "obs", str(EXAMPLES / "convirt"), "--distro", "debian", "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "rpm-family profile" in proc.stderr
    assert not (tmp_path / "o").exists()


def _copy_convirt(tmp_path: Path) -> Path:
    project = tmp_path / "convirt"
    shutil.copytree(EXAMPLES / "convirt", project)
    return project


@pytest.mark.parametrize("hostile", ["_service", "debian.rules"])
def test_a_patch_named_like_an_obs_control_file_is_refused(tmp_path: Path, hostile: str) -> None:
    project = _copy_convirt(tmp_path)
    (project / "patches/0001-paramiko-channel-timeout.patch").rename(project / "patches" / hostile)
    toml = project / "pkgtool.toml"
    toml.write_text(toml.read_text().replace("patches/0001-paramiko-channel-timeout.patch", f"patches/{hostile}"))
    out = tmp_path / "out"
    proc = run("export", "obs", str(project), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert f"{hostile!r} would be an OBS control file" in proc.stderr and "pkgtool.toml" in proc.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["convirt"]  # nothing half-way


def test_a_name_with_shell_metacharacters_never_reaches_rules_or_dsc(tmp_path: Path) -> None:
    project = _copy_convirt(tmp_path)
    toml = project / "pkgtool.toml"
    toml.write_text(toml.read_text().replace('name = "convirt"', 'name = "convirt$(touch pwned)"', 1))
    proc = run("export", "obs", str(project), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "pkgtool.toml" in proc.stderr and "package.name" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_an_osc_checkout_is_never_replaced(tmp_path: Path) -> None:
    checkout = tmp_path / "home:me/convirt"
    (checkout / ".osc").mkdir(parents=True)
    (checkout / ".osc/_files").write_text("osc's own state")
    proc = run("export", "obs", str(EXAMPLES / "convirt"), "--out", str(checkout))
    assert proc.returncode == 2 and "is an osc checkout" in proc.stderr
    assert [p.name for p in checkout.iterdir()] == [".osc"] and (
        checkout / ".osc/_files"
    ).read_text() == "osc's own state"


def test_obs_release_makes_every_rebuild_a_newer_version(tmp_path: Path) -> None:
    """--obs-release: debtransform --release N (OBS's build counter) builds VERSION+N."""
    require_tools("perl", "dpkg-source", "dpkg-buildpackage", "dh", "fakeroot", "dpkg-deb")
    out = tmp_path / "convirt"
    run("export", "obs", str(EXAMPLES / "convirt"), "--out", str(out), "--obs-release", check=True)
    assert "DEBTRANSFORM-RELEASE: 1\n" in (out / "convirt.dsc").read_text()
    work = tmp_path / "work"
    work.mkdir()
    tool("perl", debtransform(), "--release", "7", str(out), str(out / "convirt.dsc"), str(work), cwd=work)
    tool("dpkg-source", "-x", "convirt_0.9.0-1+7.dsc", "src", cwd=work)
    assert (work / "src/debian/changelog").read_text().startswith("convirt (0.9.0-1+7) ")
    tool("dpkg-buildpackage", "-b", "-us", "-uc", cwd=work / "src")
    assert tool("dpkg-deb", "-f", str(work / "convirt_0.9.0-1+7_all.deb"), "Version", cwd=work) == "0.9.0-1+7\n"


def test_a_map_with_subpackages_builds_every_package_on_both_sides(tmp_path: Path) -> None:
    """vdsm-hooks-acme: three binary packages from one .dsc and one spec, each verified."""
    require_tools("perl", "dpkg-source", "dpkg-buildpackage", "dh", "fakeroot", "rpmbuild")
    project, out, work = EXAMPLES / "vdsm-hooks-acme", tmp_path / "obs", tmp_path / "deb"
    run("export", "obs", str(project), "--out", str(out), check=True)
    work.mkdir()
    tool("perl", debtransform(), str(out), str(out / "vdsm-hook-acme.dsc"), str(work), cwd=work)
    tool("dpkg-source", "-x", "vdsm-hook-acme_2.0.1-1.dsc", "src", cwd=work)
    tool("dpkg-buildpackage", "-b", "-us", "-uc", cwd=work / "src")
    # Fedora's rpmbuild defines %dist; Debian's has none, so the test gives the profile's.
    tool(
        "rpmbuild", "-bb", "--define", f"_topdir {tmp_path / 'rpm'}", "--define", f"_sourcedir {out}",
        "--define", "dist .fc40", str(out / "vdsm-hook-acme.spec"), cwd=tmp_path,
    )  # fmt: skip
    debs = sorted(work.glob("*.deb"))
    rpms = sorted((tmp_path / "rpm/RPMS/noarch").glob("*.rpm"))
    assert sorted(p.name.split("_")[0] for p in debs) == [
        "vdsm-hook-acme",
        "vdsm-hook-acme-bridge",
        "vdsm-hook-acme-smbios",
    ]
    assert len(rpms) == 3
    for distro, packages in (("debian", debs), ("fedora", rpms)):
        proc = run("verify", str(project), "--distro", distro, *map(str, packages))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout.count(", ok") == 3
