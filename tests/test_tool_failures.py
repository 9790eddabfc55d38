"""rpmbuild / dpkg-buildpackage missing, failing or hanging: reported with the command line and the output.

Fake tools are put first on PATH; the hanging one also leaves a grandchild
behind, which the timeout must stop too.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import EXAMPLES
from typer.testing import CliRunner

from pkgtool.cli import app
from pkgtool.errors import ToolError
from pkgtool.formats.tools import run_tool

PROJECT = EXAMPLES / "libvirt-hook-acme"
TOOL = {"fedora": "rpmbuild", "debian": "dpkg-buildpackage"}


def _fake(bin_dir: Path, name: str, body: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    p = bin_dir / name
    p.write_text("#!/bin/sh\n" + body)
    p.chmod(0o755)


def _build(distro: str, out: Path, *extra: str):
    res = CliRunner().invoke(app, ["build", str(PROJECT), "-d", distro, "--backend", "system", "-o", str(out), *extra])
    output = (res.stdout or "") + (res.stderr or "")
    assert res.exception is None or isinstance(res.exception, SystemExit), output
    assert "Traceback" not in output
    return res.exit_code, output


@pytest.mark.parametrize("distro", ["fedora", "debian"])
def test_tool_missing(distro: str, tmp_path: Path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, output = _build(distro, tmp_path / "out")
    assert code == 1, output
    assert f"{TOOL[distro]} is not installed" in output
    assert not any((tmp_path / "out").glob("*.*")), "no artifact from a build that did not run"


@pytest.mark.parametrize("distro", ["fedora", "debian"])
def test_tool_failing_output_and_command_reported(distro: str, tmp_path: Path, monkeypatch):
    bin_dir = tmp_path / "bin"
    _fake(bin_dir, TOOL[distro], 'echo "fake build log line"\necho "error: the fake tool broke" >&2\nexit 3\n')
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    code, output = _build(distro, tmp_path / "out")
    assert code == 1, output
    assert f"{TOOL[distro]} failed with exit code 3" in output
    assert f"command: {TOOL[distro]}" in output
    assert "fake build log line" in output and "error: the fake tool broke" in output
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]


@pytest.mark.parametrize("distro", ["fedora", "debian"])
def test_tool_hanging_is_stopped_by_timeout(distro: str, tmp_path: Path, monkeypatch):
    bin_dir = tmp_path / "bin"
    pidfile = tmp_path / "grandchild.pid"
    _fake(
        bin_dir,
        TOOL[distro],
        f'echo "started, now hanging"\nsleep 300 &\necho $! > {pidfile}\nwait\n',
    )
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    start = time.monotonic()
    code, output = _build(distro, tmp_path / "out", "--timeout", "2")
    took = time.monotonic() - start
    assert code == 1, output
    assert took < 30, f"the timeout did not stop the build ({took:.1f} s)"
    assert f"{TOOL[distro]} timed out after 2 s" in output
    assert f"command: {TOOL[distro]}" in output
    assert "started, now hanging" in output
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    assert not _alive(pid), "the hanging tool's child process survived the timeout"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_run_tool_error_carries_everything(tmp_path: Path):
    script = tmp_path / "tool"
    script.write_text("#!/bin/sh\necho out; echo err >&2; exit 7\n")
    script.chmod(0o755)
    with pytest.raises(ToolError) as err:
        run_tool([str(script), "--flag", "a b"])
    e = err.value
    assert e.returncode == 7
    assert e.command == (str(script), "--flag", "a b")
    assert "out" in e.output and "err" in e.output
    assert "exit code 7" in str(e)
