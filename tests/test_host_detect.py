"""Which profile applies without --distro: the host's os-release against each profile's [os_release],
and a built package's own release (its dist tag) and family (its magic bytes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO

from pkgtool.errors import UsageError
from pkgtool.project import detect_host, host_distro

OS_RELEASES = {
    "rhel9": ('ID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\n', "el9"),
    "alma9": ('ID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n', "el9"),
    "centos-stream9": ('ID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="9"\n', "el9"),
    "fedora40": ("ID=fedora\nVERSION_ID=40\n", "fedora"),
    "fedora41": ("ID=fedora\nVERSION_ID=41\n", "fedora"),
    "leap": ('ID="opensuse-leap"\nID_LIKE="suse opensuse"\nVERSION_ID="15.6"\n', "opensuse-leap"),
    "debian12": ('ID=debian\nVERSION_ID="12"\n', "debian"),
    "ubuntu": ('ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n', "ubuntu"),
    "mint": ('ID=linuxmint\nID_LIKE="ubuntu debian"\nVERSION_ID="22"\n', "ubuntu"),
}


def _file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "os-release"
    p.write_text(text)
    return p


@pytest.mark.parametrize("name", sorted(OS_RELEASES))
def test_host_profile_from_os_release(tmp_path, name):
    text, want = OS_RELEASES[name]
    match = detect_host(None, _file(tmp_path, text))
    assert match.profile == want
    assert want in match.note()


@pytest.mark.parametrize(
    "text",
    [
        'ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="8.9"\n',  # EL8 is not el9, nor fedora
        'ID="ol"\nID_LIKE="fedora"\nVERSION_ID="9.3"\n',  # fedora-like is not fedora
        'ID="arch"\n',
        "",
    ],
)
def test_no_match_is_an_error_listing_the_profiles(tmp_path, text):
    with pytest.raises(UsageError) as info:
        host_distro(None, _file(tmp_path, text))
    assert "--distro" in info.value.message
    for pid in ("el9", "fedora", "debian", "ubuntu", "opensuse-leap"):
        assert pid in info.value.hint


def test_env_points_at_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PKGTOOL_OS_RELEASE", str(_file(tmp_path, OS_RELEASES["alma9"][0])))
    assert host_distro(None) == "el9"


def _run(*args, env=None):
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "pkgtool", *args], cwd=REPO, env=full, capture_output=True, text=True)


def test_build_without_distro_says_which_profile(tmp_path):
    osr = _file(tmp_path, OS_RELEASES["alma9"][0])
    out = tmp_path / "out"
    proc = _run("build", str(EXAMPLES / "convirt"), "--out", str(out), "--json", env={"PKGTOOL_OS_RELEASE": str(osr)})
    assert proc.returncode == 0, proc.stderr
    assert "using profile el9" in proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["host"]["profile"] == "el9" and doc["host"]["fields"]["ID"] == "almalinux"
    assert [a["path"] for a in doc["artifacts"] if ".el9." in a["path"]]


def test_build_on_an_unknown_host_is_an_input_error(tmp_path):
    osr = _file(tmp_path, 'ID="rocky"\nVERSION_ID="8.9"\n')
    proc = _run("build", str(EXAMPLES / "convirt"), "--out", str(tmp_path / "o"), env={"PKGTOOL_OS_RELEASE": str(osr)})
    assert proc.returncode == 2
    assert "matches no distro profile" in proc.stderr and "el9" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("distro", ["el9", "opensuse-leap"])
def test_verify_artifact_takes_the_profile_from_its_release(tmp_path, distro):
    out = tmp_path / "out"
    proc = _run("build", str(EXAMPLES / "convirt"), "--distro", distro, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    rpm = next(p for p in out.rglob("*.rpm") if not p.name.endswith(".src.rpm"))
    # Named like a .deb: the family comes from the magic bytes, not the name.
    disguised = tmp_path / (rpm.stem + ".deb")
    disguised.write_bytes(rpm.read_bytes())
    osr = _file(tmp_path, OS_RELEASES["fedora40"][0])
    for art in (rpm, disguised):
        proc = _run("verify", str(EXAMPLES / "convirt"), str(art), env={"PKGTOOL_OS_RELEASE": str(osr)})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"profile {distro}" in proc.stderr


def test_verify_deb_says_which_profile_was_assumed(tmp_path):
    out = tmp_path / "out"
    assert _run("build", str(EXAMPLES / "convirt"), "--distro", "ubuntu", "--out", str(out)).returncode == 0
    deb = next(out.rglob("*.deb"))
    osr = _file(tmp_path, OS_RELEASES["fedora40"][0])
    proc = _run("verify", str(EXAMPLES / "convirt"), str(deb), env={"PKGTOOL_OS_RELEASE": str(osr)})
    assert "profile debian (assumed" in proc.stderr and "--distro" in proc.stderr
