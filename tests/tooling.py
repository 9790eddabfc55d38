"""Gating of real-tool tests: skip when a tool is missing, fail instead under PKGTOOL_REQUIRE_TOOLS=1 (CI)."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest

REQUIRE = os.environ.get("PKGTOOL_REQUIRE_TOOLS") == "1"


def require_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = f"needs {', '.join(missing)} (install with: make tools)"
        if REQUIRE:
            pytest.fail(msg + " -- PKGTOOL_REQUIRE_TOOLS=1 forbids skipping")
        pytest.skip(msg)


def require_root() -> None:
    if os.geteuid() != 0:
        msg = "needs root (rpm --root / dpkg --root into a throwaway root)"
        if REQUIRE:
            pytest.fail(msg + " -- PKGTOOL_REQUIRE_TOOLS=1 forbids skipping")
        pytest.skip(msg)


def snapshot(top: Path) -> dict[str, tuple]:
    """Every path under ``top``: (kind, mode, sha256) of files, link targets, dir modes. {} if absent."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            rel = str(p.relative_to(top))
            if stat.S_ISREG(st.st_mode):
                out[rel] = ("file", stat.S_IMODE(st.st_mode), hashlib.sha256(p.read_bytes()).hexdigest())
            elif stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            else:
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
    return out


def demo_layout(root: Path, kind: str = "app", **kw):
    """A minimal in-memory Layout named demo 1.0 rooted at ``root``; ``kw`` are Layout fields."""
    from pkgtool.model import Layout, Package

    pkg = Package(
        name="demo",
        version="1.0",
        summary="Demo",
        description="Demo.",
        license="MIT",
        maintainer="A <a@example.org>",
        kind=kind,
    )
    kw.setdefault("relations", {})
    return Layout(root=root, source_file=root / "pkgtool.toml", schema=1, package=pkg, **kw)


def sigint_at_line(fn, fire_at, pick=None) -> tuple[str, bool]:
    """Run ``fn()`` with a SIGINT handled at its ``fire_at``-th line of pkgtool code: (where, interrupted).

    ``where`` is "file:line (function)" of the line it fired at, "" if ``fn`` ran fewer lines.

    Python runs a signal's handler between two bytecodes of the main thread, so calling the
    handler that is current at a line, there, is what a Ctrl-C arriving at that moment does.
    ``pick(filename)``, when given, limits the lines counted to the files it accepts.
    """
    import signal
    import sys

    import pkgtool

    ours, lines, where = os.path.dirname(pkgtool.__file__) + os.sep, [0], [""]

    def local(frame, event, arg):
        if event == "line":
            lines[0] += 1
            if lines[0] == fire_at:
                code = frame.f_code
                where[0] = f"{code.co_filename[len(ours) :]}:{frame.f_lineno} ({code.co_name})"
                handler = signal.getsignal(signal.SIGINT)
                if callable(handler):
                    handler(signal.SIGINT, frame)
        return local

    def on_call(frame, event, arg):
        name = frame.f_code.co_filename
        return local if name.startswith(ours) and (pick is None or pick(name)) else None

    sys.settrace(on_call)
    try:
        fn()
    except KeyboardInterrupt:
        return where[0], True
    finally:
        sys.settrace(None)
    return where[0], False
