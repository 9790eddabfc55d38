"""SIGTERM and SIGHUP (a CI cancel, a closed terminal) during `--backend system` builds.

A real pkgtool process is signalled while rpmbuild or dpkg-buildpackage runs under it; afterwards
no temporary directory (pkgtool-rpmbuild-*, .pkgtool-deb-*) and no process of the build is left,
and the command ended with one line and exit 128 + the signal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tooling import require_tools

MAP = """schema = 1
[package]
name = "cancelled"
version = "1.0"
summary = "Layout built by a run that is cancelled"
description = "Cancelled while the distro tool runs."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"

[[tree]]
src = "data/"
dst = "/usr/share/cancelled/"
"""

TOOLS = {"fedora": "rpmbuild", "debian": "dpkg-buildpackage"}


def _processes() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, command line, cwd) of every process we can see."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read().decode("utf-8", "replace")
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
            cwd = os.readlink(f"/proc/{name}/cwd")
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        out[int(name)] = (ppid, cmd, cwd)
    return out


def _descendants(pid: int) -> dict[int, tuple[int, str, str]]:
    procs = _processes()
    found, todo = {}, [pid]
    while todo:
        parent = todo.pop()
        for child, info in procs.items():
            if info[0] == parent and child not in found:
                found[child] = info
                todo.append(child)
    return found


def _left_behind(base: Path) -> list[str]:
    """Processes still alive that belong to this test's build (their command line or cwd is under base)."""
    mine = os.getpid()
    return [
        f"{pid}: {cmd} (in {cwd})"
        for pid, (_ppid, cmd, cwd) in _processes().items()
        if pid != mine and (str(base) in cmd or cwd.startswith(str(base)))
    ]


def _temp_dirs(*tops: Path) -> list[str]:
    return sorted(str(p) for top in tops for p in top.rglob("*") if "pkgtool-" in p.name)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("distros", [["fedora"], ["debian"], ["fedora", "debian"]], ids=["rpm", "deb", "both"])
def test_signal_during_system_build_leaves_nothing(sig, distros, tmp_path: Path):
    require_tools(*(TOOLS[d] for d in distros))
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "pkgtool.toml").write_text(MAP)
    for i in range(50):
        (project / "data" / f"f{i}.txt").write_text(f"file {i}\n" * 100)
    tmp, out = tmp_path / "tmp", tmp_path / "out"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "SOURCE_DATE_EPOCH": "1736121600"}
    cmd = [sys.executable, "-m", "pkgtool", "build", str(project), "-d", ",".join(distros)]
    cmd += ["--backend", "system", "-o", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        # Wait for the distro tool to run under pkgtool (a worker's child when there are several distros).
        deadline = time.monotonic() + 60
        tools: dict[int, tuple[int, str, str]] = {}
        while time.monotonic() < deadline and proc.poll() is None:
            tools = {p: i for p, i in _descendants(proc.pid).items() if any(t in i[1] for t in TOOLS.values())}
            if tools:
                break
            time.sleep(0.02)
        assert tools, f"no build tool seen under pkgtool: {proc.communicate(timeout=60)}"
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig, (proc.returncode, stdout, stderr)
    assert f"pkgtool: interrupted ({sig.name})" in stderr, stderr
    assert "Traceback" not in stderr, stderr
    # The killed tools' process groups are gone: give the kernel a moment to reap them.
    deadline = time.monotonic() + 10
    while _left_behind(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _left_behind(tmp_path) == []
    assert _temp_dirs(tmp, out) == []
    # Cancelled means cancelled: no worker builds on to the end and writes its packages.
    assert sorted(p.name for p in out.rglob("*") if p.suffix in (".rpm", ".deb")) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_commit_holds_sigterm_and_sighup_like_sigint(sig):
    """sigint_held guards commits (install's renames, atomic_dir's swap): a CI cancel waits for the end too."""
    from pkgtool.atomic import sigint_held

    got: list[int] = []

    def handler(signum, _frame):
        got.append(signum)

    previous = signal.signal(sig, handler)
    try:
        with sigint_held():
            os.kill(os.getpid(), sig)
            time.sleep(0.05)
            assert got == []  # held while the block runs
        assert got == [sig]  # delivered once, at its end, to the handler it would have met
    finally:
        signal.signal(sig, previous)


def test_a_stop_while_the_tool_starts_still_kills_it(tmp_path: Path, monkeypatch):
    """SIGTERM landing between the fork and run_tool knowing the child: the child is not left running."""
    from pkgtool.formats import tools

    real_popen = subprocess.Popen
    started: list[subprocess.Popen] = []

    def popen_then_signal(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        started.append(proc)
        os.kill(os.getpid(), signal.SIGTERM)  # before Popen has returned to run_tool
        time.sleep(0.05)
        return proc

    def on_term(signum, _frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, on_term)
    monkeypatch.setattr(tools.subprocess, "Popen", popen_then_signal)
    try:
        with pytest.raises(SystemExit):
            tools.run_tool(["sleep", "60"], cwd=tmp_path)
    finally:
        signal.signal(signal.SIGTERM, previous)
        left = [p for p in started if p.poll() is None]
        for p in left:  # a failing run must not leave its sleep behind
            p.kill()
            p.wait()
    assert len(started) == 1
    assert left == [], "the tool was left running"
