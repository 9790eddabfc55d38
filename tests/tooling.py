"""Gating of real-tool tests: skip when a tool is missing, fail instead under PKGTOOL_REQUIRE_TOOLS=1 (CI)."""

from __future__ import annotations

import os
import shutil

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
