"""Binary package builders behind one small interface: (family, backend) -> builder function."""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..model import Family, Resolved

BACKENDS = ("native", "system")

# (family, backend) -> (module, function); imported lazily so that start-up stays cheap.
_BUILDERS: dict[tuple[Family, str], tuple[str, str]] = {
    (Family.RPM, "native"): ("pkgtool.formats.rpm.native", "build_rpm"),
    (Family.DEB, "native"): ("pkgtool.formats.deb.native", "build_deb"),
    (Family.RPM, "system"): ("pkgtool.formats.rpm.system", "build_rpm_system"),
    (Family.DEB, "system"): ("pkgtool.formats.deb.system", "build_deb_system"),
}


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
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    family = resolved.profile.family
    if (family, backend) not in _BUILDERS:
        raise UsageError(f"backend {backend!r} builds only {Family.RPM} packages, not {family} ({resolved.profile.id})")
    module, func = _BUILDERS[(family, backend)]
    builder = getattr(importlib.import_module(module), func)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = builder(resolved, out_dir, timeout=timeout) if backend == "system" else [builder(resolved, out_dir)]
    return [describe(Path(p), resolved.profile.id, backend) for p in paths if Path(p).is_file()]
