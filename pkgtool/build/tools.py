"""Running external tools (rpmbuild, dpkg-buildpackage, ...): command line and output kept for the error."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

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
    try:
        proc = subprocess.run(
            list(cmd),
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.output.decode("utf-8", "replace") if exc.output else ""
        raise ToolError(f"{cmd[0]} timed out after {timeout:g} s", command=cmd, output=out) from None
    out = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise ToolError(
            f"{cmd[0]} failed with exit code {proc.returncode}", command=cmd, output=out, returncode=proc.returncode
        )
    return out
