"""Read an artifact (.rpm / .deb) into an ArtifactInfo, by its magic bytes, and render it."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from enum import Enum
from pathlib import Path


def inspect_artifact(path: Path):
    """Any artifact, source packages included: inspect only lists what is inside."""
    from .formats.read import read_artifact

    return read_artifact(path)


def _plain(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value):
        # A mode as people and every other --json of pkgtool write it: "0644", not 420.
        return {
            f.name: f"{v:04o}" if f.name == "mode" and isinstance(v, int) else _plain(v)
            for f in dataclasses.fields(value)
            for v in (getattr(value, f.name),)
        }
    return value


def to_dict(info) -> dict:
    return _plain(info)


# Anything that is not plain printable text: backslash, controls (C0, DEL, C1), format
# characters (bidi overrides), line and paragraph separators, and undecodable bytes.
_UNSAFE = re.compile(r"[\\\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAMED = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _char(c: str) -> str:
    if c in _NAMED:
        return _NAMED[c]
    n = ord(c)
    if 0xDC80 <= n <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{n - 0xDC00:02x}"
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def escape(value: object) -> str:
    """One field for a terminal: a name cannot start a new line, move the cursor or hide text.

    Backslash is escaped too, so the printed form is unambiguous; JSON output stays exact.
    """
    text = str(value)
    if _UNSAFE.search(text) is None and text.isprintable():
        return text
    return "".join(
        _char(c) if _UNSAFE.match(c) or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text
    )


def render_text(info) -> str:
    q = escape
    version = f"{q(info.epoch)}:" if info.epoch else ""
    head = f"{q(info.name)} {version}{q(info.version)}-{q(info.release)} {q(info.arch)}"
    lines = [f"{head} ({info.format.value}): {q(info.summary)}"]
    for kind, rels in info.relations.items():
        if rels:
            text = ", ".join(f"{q(r.name)} {q(r.op)} {q(r.version)}".strip() for r in rels)
            lines.append(f"  {kind}: {text}")
    for e in info.entries:
        kind = e.kind.value if e.kind else "other"
        flags = "c" if e.config.value != "none" else " "
        link = f" -> {q(e.target)}" if e.target is not None else ""
        lines.append(f"  {e.mode:04o} {q(e.owner)}:{q(e.group)} {e.size:>10} {kind:<7} {flags} {q(e.path)}{link}")
    return "\n".join(lines)
