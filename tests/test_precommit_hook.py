"""The pre-commit hook (.pre-commit-hooks.yaml) runs as pre-commit would: its entry plus the changed maps."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import EXAMPLES, REPO

HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())


def _hook() -> dict:
    (hook,) = [h for h in HOOKS if h["id"] == "pkgtool-lint"]
    return hook


def _run_hook(files: list[str], cwd: Path) -> subprocess.CompletedProcess:
    hook = _hook()
    argv = [*shlex.split(hook["entry"]), *hook.get("args", []), *files]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_hook_shape():
    hook = _hook()
    assert hook["entry"] == "pkgtool lint" and hook["language"] == "python"
    assert hook.get("pass_filenames", True) is True
    pattern = re.compile(hook["files"])
    assert pattern.search("examples/convirt/pkgtool.toml") and pattern.search("pkgtool.toml")
    assert not pattern.search("pkgtool.toml.orig") and not pattern.search("docs/layout-map.md")


def test_hook_lints_two_example_maps(tmp_path: Path):
    for name in ("convirt", "vdsm-hook-acme"):
        shutil.copytree(EXAMPLES / name, tmp_path / name)
    proc = _run_hook(["convirt/pkgtool.toml", "vdsm-hook-acme/pkgtool.toml"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 error(s)" in proc.stdout


def test_hook_fails_on_a_broken_map_and_names_it(tmp_path: Path):
    for name in ("broken", "vdsm-hook-acme"):
        shutil.copytree(EXAMPLES / name, tmp_path / name)
    proc = _run_hook(["vdsm-hook-acme/pkgtool.toml", "broken/pkgtool.toml"], tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "broken/pkgtool.toml:14: tree[0].mode" in proc.stdout
    assert "Traceback" not in proc.stderr
