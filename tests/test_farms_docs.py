"""Every command docs/farms.md and README's "Building for many distros at scale" show runs, as shown."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import EXAMPLES, REPO
from tooling import require_tools

DEBTRANSFORM = "/usr/lib/obs-build/debtransform"  # the path docs/farms.md shows (Debian's obs-build)


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", text, flags=re.S | re.M)


def _run(script: str, cwd: Path) -> subprocess.CompletedProcess:
    # The venv's bin first: `pkgtool` is the one of this checkout.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, "PATH": path, "SOURCE_DATE_EPOCH": "1700000000"}
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def _scratch(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(EXAMPLES)
    return work


def test_docs_farms_commands_run(tmp_path: Path) -> None:
    require_tools("perl", "dpkg-source", "dpkg-buildpackage", "dh", "fakeroot", "rpmbuild", "zstd")
    if not os.path.exists(DEBTRANSFORM):
        require_tools("debtransform")  # skips, or fails under PKGTOOL_REQUIRE_TOOLS=1: install obs-build
    text = (REPO / "docs/farms.md").read_text()
    blocks = sh_blocks(text)
    assert len(blocks) == 4
    assert "osc commit" in text.split("```text", 1)[1]  # osc needs an OBS account: shown, not run
    work = _scratch(tmp_path)
    proc = _run("\n".join(blocks), work)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count("paths checked, ok") == 2  # the .deb from debtransform, the .rpm from the spec
    assert "DEBTRANSFORM-RELEASE: 1" in (work / "build/obs-release/convirt/convirt.dsc").read_text()
    for rel in (".github/workflows/pkgtool.yml", ".gitlab-ci.yml"):
        assert yaml.safe_load((work / rel).read_text())


def test_readme_farms_commands_run(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Building for many distros at scale") :]
    section = section[: section.index("\n### ", 1)]  # up to the next heading
    (block,) = [
        b for b in sh_blocks(section) if "pkgtool export" in b
    ]  # the source-package blocks: tests/test_source_packages.py
    work = _scratch(tmp_path)
    proc = _run(block, work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (work / "build/obs/convirt/convirt.dsc").is_file()
    assert (work / ".github/workflows/pkgtool.yml").is_file() and (work / ".gitlab-ci.yml").is_file()
