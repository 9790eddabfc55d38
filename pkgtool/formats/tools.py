"""Running external tools (rpmbuild, dpkg-buildpackage, ...): command line and output kept for the error."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..atomic import sigint_held
from ..errors import ToolError

DEFAULT_TIMEOUT = 600.0


def run_tool(
    cmd: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> str:
    """Run ``cmd``; return its combined output, or raise ToolError with the command and all output."""
    if shutil.which(cmd[0]) is None:
        raise ToolError(
            f"{cmd[0]} is not installed (needed for --backend system)",
            command=cmd,
            output="",
        )
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    # The tool runs in its own process group, so that a timeout or Ctrl-C stops its children too
    # (rpmbuild's %build shell, dpkg-buildpackage's debian/rules), not only the tool itself.
    # A stop signal (SIGINT, SIGTERM, SIGHUP) is held while the child starts: arriving between the
    # fork and ``proc`` being known, it would leave the tool running; it is delivered right after,
    # inside the try, so the tool's group is killed.
    proc: subprocess.Popen | None = None
    try:
        with sigint_held():
            proc = subprocess.Popen(
                list(cmd),
                cwd=cwd,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        raw, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        assert proc is not None
        _kill_group(proc)
        raw = _rest_of_output(proc)
        out = raw.decode("utf-8", "replace")
        raise ToolError(f"{cmd[0]} timed out after {timeout:g} s", command=cmd, output=out) from None
    except BaseException:
        if proc is not None:
            _kill_group(proc)
            proc.wait()
        raise
    out = raw.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise ToolError(
            f"{cmd[0]} failed with exit code {proc.returncode}", command=cmd, output=out, returncode=proc.returncode
        )
    return out


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _rest_of_output(proc: subprocess.Popen) -> bytes:
    """What the killed tool had written; a child that escaped the group cannot hold us up."""
    try:
        raw, _ = proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return b""
    return raw or b""
