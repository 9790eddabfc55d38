"""Reading pkgtool.toml: bytes within the limits, UTF-8, TOML, and the line of every key.

The limits are checked by the position scanner before tomllib runs, so a
hostile map is refused in milliseconds (see README, Security).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, Severity
from ..errors import LayoutError
from ..model import Location
from .tomlpos import LimitExceeded, Limits, Positions, check_limits

MAP_NAME = "pkgtool.toml"


def display_path(path: Path) -> str:
    """The path as the user recognises it: relative to the working directory when under it."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _map_file(project_dir: str | Path) -> Path:
    path = Path(project_dir)
    if path.name == MAP_NAME and not path.is_dir():
        return path
    return path / MAP_NAME


def _syntax_error(display: str, message: str, line: int | None, hint: str = "") -> LayoutError:
    diag = Diagnostic(
        "toml-syntax", Severity.ERROR, message, Location(display, "", line), hint or "see https://toml.io/en/v1.0.0"
    )
    return LayoutError(f"{display}: not valid TOML: {message}", diagnostics=[diag])


_TOMLLIB_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


# The largest map read; with ``Limits`` (nesting, array length, keys) checked before the TOML
# parser runs, no map costs more than seconds.  See README "Security".
MAX_MAP_BYTES = 4 << 20
MAP_LIMITS = Limits()


def _too_large(display: str, message: str, line: int | None) -> LayoutError:
    diag = Diagnostic(
        "limit-exceeded",
        Severity.ERROR,
        message,
        Location(display, "", line),
        "pkgtool's limits are in README's Security section; split the map or use [[tree]] for many files",
    )
    return LayoutError(f"{display}: {message}", diagnostics=[diag])


def _parse(path: Path, display: str) -> tuple[dict[str, Any], Positions]:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_MAP_BYTES + 1)
    except FileNotFoundError:
        raise LayoutError(
            f"{display}: no such file",
            hint="run `pkgtool init --kind KIND` to write one, or pass the project directory",
        ) from None
    except OSError as exc:
        raise LayoutError(f"{display}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_MAP_BYTES:
        raise _too_large(display, f"the map is larger than {MAX_MAP_BYTES >> 20} MiB", None)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _syntax_error(display, f"not UTF-8 text (byte {exc.start})", line) from None
    try:
        # Before tomllib, which takes seconds on deep nesting: the scan is linear and stops at a limit.
        positions = check_limits(text, MAP_LIMITS)
    except LimitExceeded as exc:
        raise _too_large(display, f"the map has {exc.message}", exc.line) from None
    try:
        return tomllib.loads(text), positions
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOMLLIB_POS.search(msg)
        if m:
            line: int | None = int(m.group(1))
            msg = f"{msg[: m.start()]} (column {m.group(2)})"
        elif msg.endswith("(at end of document)"):
            line = text.count("\n") + (0 if text.endswith("\n") else 1) or 1
        else:
            line = None
        raise _syntax_error(display, msg, line) from None
    except RecursionError:
        raise _syntax_error(display, "values nested too deeply", None) from None
