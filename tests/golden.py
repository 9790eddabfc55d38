"""Golden files: compare rendered text with tests/golden/...; PKGTOOL_UPDATE_GOLDEN=1 rewrites them."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE = os.environ.get("PKGTOOL_UPDATE_GOLDEN") == "1"


def assert_golden(relpath: str, actual: str) -> None:
    path = GOLDEN_DIR / relpath
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        raise AssertionError(f"golden file {path} missing; run: PKGTOOL_UPDATE_GOLDEN=1 make test")
    expected = path.read_text(encoding="utf-8")
    if expected != actual:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), actual.splitlines(keepends=True), str(path), "rendered"
            )
        )
        raise AssertionError(f"{relpath} differs from its golden file (PKGTOOL_UPDATE_GOLDEN=1 to accept):\n{diff}")
