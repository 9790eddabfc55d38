"""Every command docs/publish.md and README's Publish section show runs, as shown, in a scratch directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO
from publish_fixtures import EPOCH, make_key, stop_agent
from tooling import require_tools

pytestmark = pytest.mark.tools


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", text, flags=re.S | re.M)


def _run(script: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    # The venv's bin first: `pkgtool` is the one of this checkout.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    full = {**os.environ, "PATH": path, **env}
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=full, capture_output=True, text=True, timeout=600
    )


def _scratch(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(EXAMPLES)
    return work


def test_docs_publish_commands_run(tmp_path):
    require_tools("createrepo_c", "gpg", "gpg-agent", "rpmsign", "rpm")
    blocks = sh_blocks((REPO / "docs/publish.md").read_text())
    assert len(blocks) == 2
    work = _scratch(tmp_path)
    try:
        proc = _run("\n".join(blocks), work, {})
        assert proc.returncode == 0, proc.stdout + proc.stderr
    finally:
        stop_agent(work / "gnupg")
    assert proc.stdout.count("digests signatures OK") == 2
    assert proc.stderr.count('Good signature from "Example Repo <repo@example.org>"') == 2
    assert sorted(p.name for p in (work / "repo/rpm/fedora/Packages").iterdir()) == [
        "convirt-0.9.0-1.fc40.noarch.rpm",
        "vdsm-hook-acme-1.2.0-1.fc40.noarch.rpm",
    ]


def test_readme_publish_commands_run(tmp_path):
    require_tools("createrepo_c", "gpg", "gpg-agent", "rpmsign")
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Publish") :]
    section = section[: section.index("\n### ", 1)]  # up to the next heading
    (block,) = sh_blocks(section)
    work = _scratch(tmp_path)
    home = tmp_path / "gnupg"
    make_key(home, "Example Repo <repo@example.org>")
    try:
        proc = _run(block, work, {"GNUPGHOME": str(home), "SOURCE_DATE_EPOCH": str(EPOCH)})
    finally:
        stop_agent(home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "rpm fedora: repo/rpm/fedora (1 package, signed)" in proc.stdout
    assert (work / "repo/apt/dists/stable/InRelease").is_file()
