"""Build the binary package(s) of a map with a backend of its format, and describe what was written."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..model import Resolved
from . import BuildOptions, backends, format_for


@dataclass(frozen=True)
class Artifact:
    path: str
    distro: str
    format: str  # 'rpm' | 'deb' | 'src.rpm' | 'dsc' | 'tar'
    backend: str
    sha256: str
    size: int

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "distro": self.distro,
            "format": self.format,
            "backend": self.backend,
            "sha256": self.sha256,
            "size": self.size,
        }


def _format_of(path: Path) -> str:
    name = path.name
    for suffix in (".src.rpm", ".rpm", ".deb", ".dsc", ".buildinfo", ".changes"):
        if name.endswith(suffix):
            return suffix[1:]
    return "tar" if ".tar" in name else "file"


def describe(path: Path, distro: str, backend: str) -> Artifact:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return Artifact(str(path), distro, _format_of(path), backend, h.hexdigest(), path.stat().st_size)


def build(resolved: Resolved, out_dir: Path, backend: str = "native", timeout: float | None = None) -> list[Artifact]:
    """Build the binary package(s) of ``resolved`` into ``out_dir``; return what was written."""
    fmt = format_for(resolved.profile.family)
    builders = fmt.builders()
    if backend not in builders:
        known = backends()
        if backend not in known:
            raise UsageError(f"unknown backend {backend!r}; choose one of: {', '.join(known)}")
        raise UsageError(f"backend {backend!r} does not build {fmt.family} packages ({resolved.profile.id})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = builders[backend](resolved, out_dir, BuildOptions(timeout=timeout))
    return [describe(Path(p), resolved.profile.id, backend) for p in paths if Path(p).is_file()]
