"""--out that cannot be written: one-screen error, exit 2 (input) or 1 (a build that failed), nothing half-written.

The read-only and full file systems are small tmpfs mounts; without the right
to mount (not root, no CAP_SYS_ADMIN) those tests skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hostile_harness import CASES, check_run, cli, leftovers

from pkgtool.cli_support import MAX_SCREEN_LINES


def _project(tmp_path: Path, payload: int = 0) -> Path:
    project = tmp_path / "project"
    shutil.copytree(CASES / "41-script-macros-and-heredoc", project, ignore=shutil.ignore_patterns("case.toml"))
    if payload:
        (project / "a.txt").write_bytes(os.urandom(payload))  # incompressible
    return project


COMMANDS = [
    ["build", "-d", "fedora"],
    ["build", "-d", "debian"],
    ["generate", "-d", "fedora"],
    ["generate", "-d", "debian"],
    ["source", "-d", "fedora"],
    ["source", "-d", "debian"],
    ["build", "-d", "fedora,debian"],
]


def _one_screen(output: str) -> None:
    assert "Traceback" not in output
    assert len(output.splitlines()) <= MAX_SCREEN_LINES, output


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_out_under_a_regular_file(args: list[str], tmp_path: Path):
    project = _project(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n")
    for out in (blocker, blocker / "sub" / "out"):
        run = cli([args[0], str(project), *args[1:], "-o", str(out)])
        check_run(run, exit_code=2, contains=["--out", "which is not a directory"])
        _one_screen(run.output)
    assert blocker.read_text() == "not a directory\n"


@pytest.fixture
def tmpfs(tmp_path: Path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()

    def mount(size: str, read_only: bool = False) -> Path:
        opts = f"size={size}" + (",ro" if read_only else "")
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(mnt)], capture_output=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
        return mnt

    yield mount
    subprocess.run(["umount", str(mnt)], capture_output=True)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_out_on_a_read_only_file_system(args: list[str], tmp_path: Path, tmpfs):
    project = _project(tmp_path)
    mnt = tmpfs("1m", read_only=True)
    run = cli([args[0], str(project), *args[1:], "-o", str(mnt / "out")])
    check_run(run, exit_code=2, contains=["read-only file system"])
    _one_screen(run.output)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_out_on_a_full_file_system(args: list[str], tmp_path: Path, tmpfs):
    project = _project(tmp_path, payload=300_000)
    mnt = tmpfs("128k")
    out = mnt / "out"
    run = cli([args[0], str(project), *args[1:], "-o", str(out)])
    check_run(run, exit_code=1, contains=["No space left on device"])
    _one_screen(run.output)
    written = [p for p in out.rglob("*") if not p.is_dir()] if out.exists() else []
    assert written == [] and leftovers(mnt) == [], written
