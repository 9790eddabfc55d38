"""Every command docs/commands.md and README's Everyday section show runs, as shown, in a scratch directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from conftest import EXAMPLES, REPO

AUTHOR_FREE = {"DEBFULLNAME": "", "DEBEMAIL": "", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", text, flags=re.S | re.M)


def _run(script: str, cwd: Path) -> subprocess.CompletedProcess:
    # The venv's bin first: `pkgtool` is the one of this checkout.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, "PATH": path, **AUTHOR_FREE}
    env.pop("SOURCE_DATE_EPOCH", None)
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _scratch(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(EXAMPLES)
    return work


def test_docs_commands_run(tmp_path):
    blocks = sh_blocks((REPO / "docs/commands.md").read_text())
    assert len(blocks) == 5
    work = _scratch(tmp_path)
    proc = _run("\n".join(blocks), work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # build, then bump: three entries on top of convirt's own, the version and release moved.
    assert (work / "dist/convirt-0.9.0-1.fc40.noarch.rpm").is_file()
    doc = tomllib.loads((work / "convirt/pkgtool.toml").read_text())
    assert (doc["package"]["version"], doc["package"]["release"]) == ("0.9.1", "2")
    assert [c["version"] for c in doc["changelog"]] == ["0.9.1-2", "0.9.1-2", "0.9.1-1", "0.9.0-1"]
    assert {c["date"] for c in doc["changelog"][:3]} == {"2026-01-01"}
    assert doc["changelog"][0]["author"] == "Jane Packager <jane@example.org>"
    # init took mytool in: no sample, the script executable, lint clean (the block ran it under -e).
    mytool = tomllib.loads((work / "mytool/pkgtool.toml").read_text())
    assert {f["src"]: f["mode"] for f in mytool["file"]} == {"bin/mytool": "0755", "etc/mytool.conf": "0644"}
    assert mytool["tree"] == [{"src": "share/", "dst": "{datadir}/mytool/share/", "mode": "0644"}]
    # completion scripts, and the output options.
    assert "_pkgtool_completion" in (work / "pkgtool.bash").read_text()
    assert (work / "_pkgtool").read_text().startswith("#compdef pkgtool")
    assert "complete --command pkgtool" in (work / "pkgtool.fish").read_text()
    assert any(line.startswith("wrote ") and line.endswith("/debian/control") for line in proc.stdout.splitlines())
    assert "\x1b[" not in proc.stdout + proc.stderr


def test_readme_everyday_commands_run(tmp_path):
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Everyday") : readme.index("### Publish")]
    (block,) = sh_blocks(section)
    work = _scratch(tmp_path)
    proc = _run(block, work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = tomllib.loads((work / "convirt/pkgtool.toml").read_text())
    assert doc["package"]["version"] == "0.9.1" and doc["changelog"][0]["changes"] == ["New upstream release 0.9.1"]
    assert "_pkgtool_completion" in (work / "pkgtool.bash").read_text()
