"""Human output: severity colours on a terminal only (not piped, not with NO_COLOR or --no-color), --quiet, --verbose."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest
from lint_cases import CASES, write_project
from test_cli import run

ESC = "\x1b["
RED_ERROR = "\x1b[1;31merror\x1b[0m"
YELLOW_WARNING = "\x1b[33mwarning\x1b[0m"


def on_terminal(*args: str, env: dict | None = None) -> str:
    """Run pkgtool with stdout and stderr on a pseudo-terminal; what the terminal showed."""
    leader, follower = pty.openpty()
    full = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}  # colour unless the test says otherwise
    full.update(env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "pkgtool", *args], stdout=follower, stderr=follower, stdin=subprocess.DEVNULL, env=full
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()


@pytest.fixture(scope="module")
def findings_project(tmp_path_factory):
    """One error (world-writable) and one warning (config-outside-etc)."""
    ww = next(c for c in CASES if c.rule == "world-writable")
    warn = next(c for c in CASES if c.rule == "config-outside-etc")
    root = tmp_path_factory.mktemp("colours") / "p"
    case = ww.__class__(**{**ww.__dict__, "body": ww.body + "\n" + warn.body, "files": {**ww.files, **warn.files}})
    return write_project(root, case)


def test_findings_are_coloured_on_a_terminal(findings_project):
    shown = on_terminal("lint", str(findings_project), "--distro", "fedora")
    assert RED_ERROR in shown and YELLOW_WARNING in shown
    assert "[world-writable]" in shown and "[config-outside-etc]" in shown


@pytest.mark.parametrize(
    ("args", "env"),
    [(("--no-color",), None), ((), {"NO_COLOR": "1"})],
    ids=["--no-color", "NO_COLOR"],
)
def test_no_colour_when_asked(findings_project, args, env):
    shown = on_terminal(*args, "lint", str(findings_project), "--distro", "fedora", env=env)
    assert "[world-writable]" in shown and ESC not in shown


def test_no_colour_when_piped(findings_project):
    proc = run("lint", str(findings_project), "--distro", "fedora", env={"NO_COLOR": ""})
    assert "error: " in proc.stdout and ESC not in proc.stdout + proc.stderr


def test_quiet_says_only_errors(findings_project, tmp_path):
    proc = run("--quiet", "lint", str(findings_project), "--distro", "fedora")
    assert proc.returncode == 1
    assert (
        "[world-writable]" in proc.stdout and "config-outside-etc" not in proc.stdout and "note(s)" not in proc.stdout
    )
    proc = run("-q", "build", "examples/vdsm-hook-acme", "--distro", "fedora", "--out", str(tmp_path / "d"))
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""


def test_verbose_says_each_file_written(tmp_path):
    out = tmp_path / "gen"
    proc = run("--verbose", "generate", "examples/vdsm-hook-acme", "--distro", "debian", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    written = {line.removeprefix("wrote ") for line in proc.stdout.splitlines() if line.startswith("wrote ")}
    on_disk = {str(p) for p in out.rglob("*") if p.is_file()}
    assert written == on_disk and any(p.endswith("/debian/control") for p in written)
    proc = run("generate", "examples/vdsm-hook-acme", "--distro", "debian", "--out", str(tmp_path / "g2"))
    assert "wrote " not in proc.stdout


def test_quiet_and_verbose_together_is_a_usage_error():
    proc = run("-q", "-v", "distros")
    assert proc.returncode == 2 and "do not go together" in proc.stderr
