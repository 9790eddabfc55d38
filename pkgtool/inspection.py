"""Read an artifact (.rpm / .deb) into an ArtifactInfo, by its magic bytes, and render it."""

from __future__ import annotations

import dataclasses
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
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def to_dict(info) -> dict:
    return _plain(info)


def render_text(info) -> str:
    version = f"{info.epoch}:" if info.epoch else ""
    lines = [f"{info.name} {version}{info.version}-{info.release} {info.arch} ({info.format.value}): {info.summary}"]
    for kind, rels in info.relations.items():
        if rels:
            text = ", ".join(f"{r.name} {r.op} {r.version}".strip() for r in rels)
            lines.append(f"  {kind}: {text}")
    for e in info.entries:
        kind = e.kind.value if e.kind else "other"
        flags = "c" if e.config.value != "none" else " "
        link = f" -> {e.target}" if e.target is not None else ""
        lines.append(f"  {e.mode:04o} {e.owner}:{e.group} {e.size:>10} {kind:<7} {flags} {e.path}{link}")
    return "\n".join(lines)
