"""pkgtool build --arch: one arch-dependent map built natively for several architectures, with the real readers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from tooling import require_tools

from pkgtool.arches import arch_list
from pkgtool.errors import UsageError
from pkgtool.formats.build import build, for_arch
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import verify_artifact

EPOCH = "1736121600"

MAP = """\
schema = 2

[package]
name = "archy"
version = "1.0"
summary = "A package built per architecture"
description = "Its files differ per architecture in a real package."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"
arch = "{arch}"

[[file]]
src = "tool"
dst = "{{bindir}}/archy"
mode = "0755"

[[subpackage]]
name = "-data"
summary = "Data of archy"
arch = "noarch"

[[file]]
src = "data"
dst = "{{datadir}}/archy/data"
package = "-data"
"""


def _project(top, arch):
    top.mkdir(parents=True)
    (top / "pkgtool.toml").write_text(MAP.format(arch=arch))
    (top / "tool").write_text("#!/bin/sh\necho archy\n")
    (top / "data").write_text("data\n")
    return top


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    return subprocess.run(
        [sys.executable, "-m", "pkgtool", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_arch_list_accepts_either_spelling_once():
    assert arch_list("x86_64,arm64,amd64,aarch64") == ("x86_64", "aarch64")
    with pytest.raises(UsageError, match="did you mean 'aarch64'"):
        arch_list("x86_64,aarch46")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return _project(tmp_path_factory.mktemp("arch") / "p", "x86_64")


@pytest.mark.tools
@pytest.mark.parametrize(("distro", "reader"), [("fedora", "rpm"), ("debian", "dpkg-deb")])
def test_cli_builds_each_arch_natively(project, tmp_path, distro, reader):
    require_tools(reader)
    proc = _cli("build", str(project), "--distro", distro, "--arch", "x86_64,arm64", "--out", str(tmp_path), "--json")
    assert proc.returncode == 0, proc.stderr
    arts = [a["path"] for a in json.loads(proc.stdout)["artifacts"]]
    names = sorted(os.path.basename(p) for p in arts)
    if distro == "fedora":
        # One main package per arch; the noarch data package once (each arch writes it byte-identical).
        assert names == [
            "archy-1.0-1.fc40.aarch64.rpm",
            "archy-1.0-1.fc40.x86_64.rpm",
            "archy-data-1.0-1.fc40.noarch.rpm",
        ], names
        for path in arts:
            arch = subprocess.run(["rpm", "-qp", "--qf", "%{ARCH}", path], capture_output=True, text=True).stdout
            assert path.endswith(f".{arch}.rpm"), (path, arch)
    else:
        assert names == ["archy-data_1.0-1_all.deb", "archy_1.0-1_amd64.deb", "archy_1.0-1_arm64.deb"], names
        for path in arts:
            arch = subprocess.run(["dpkg-deb", "-f", path, "Architecture"], capture_output=True, text=True).stdout
            assert path.endswith(f"_{arch.strip()}.deb"), (path, arch)


@pytest.mark.tools
def test_library_build_per_arch_verifies(project, tmp_path):
    r = resolve_dir(project, "fedora", source_date_epoch=int(EPOCH))
    arts = build(r, tmp_path, "native", arches=("aarch64",))
    (main,) = [a for a in arts if a.path.endswith(".aarch64.rpm")]
    ported = for_arch(r, "aarch64")
    assert [p.package.arch for p in ported.packages] == ["aarch64", "noarch"]
    report = verify_artifact(ported, main.path)
    assert report.ok, report.to_text()
    # The same map built twice for one arch is byte-identical (SOURCE_DATE_EPOCH).
    again = build(r, tmp_path / "again", "native", arches=("aarch64",))
    assert [a.sha256 for a in again] == [a.sha256 for a in arts]


def test_noarch_map_refuses_other_arch(tmp_path):
    top = _project(tmp_path / "p", "noarch")
    proc = _cli("build", str(top), "--distro", "fedora", "--arch", "x86_64", "--out", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stderr
    assert "--arch x86_64: this map is noarch" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_unknown_arch_and_system_backend_are_usage_errors(project, tmp_path):
    proc = _cli("build", str(project), "--distro", "fedora", "--arch", "armel64", "--out", str(tmp_path))
    assert proc.returncode == 2 and "no architecture pkgtool knows" in proc.stderr, proc.stderr
    foreign = "aarch64" if os.uname().machine != "aarch64" else "x86_64"
    proc = _cli("build", str(project), "-d", "fedora", "--arch", foreign, "--backend", "system", "--out", str(tmp_path))
    assert proc.returncode == 2 and "builds for this host" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
