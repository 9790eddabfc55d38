"""Read an artifact (.rpm / .deb) into an ArtifactInfo, by its magic bytes, and render it."""

from __future__ import annotations

import dataclasses
from enum import Enum
from pathlib import Path

from .printable import escape


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
