"""Build the binary package(s) of a map with a backend of its format, and describe what was written."""

from __future__ import annotations

import dataclasses
import hashlib
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..arches import canonical
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


def for_arch(resolved: Resolved, arch: str) -> Resolved:
    """``resolved`` built for ``arch`` (canonical): every arch-dependent package of it; noarch ones stay noarch."""

    def one(r: Resolved) -> Resolved:
        pkg = r.layout.package
        if pkg.arch == "noarch":
            return r
        layout = dataclasses.replace(r.layout, package=dataclasses.replace(pkg, arch=arch))
        return dataclasses.replace(r, layout=layout, subpackages=tuple(one(s) for s in r.subpackages))

    return one(resolved)


def check_arches(arch: str, arches: Sequence[str], backend: str) -> None:
    """Refuse --arch values the map or the backend cannot build (UsageError); ``arch`` is the map's."""
    if arch == "noarch" and any(a != "noarch" for a in arches):
        other = next(a for a in arches if a != "noarch")
        raise UsageError(
            f"--arch {other}: this map is noarch ([package] arch), one package for every architecture",
            hint="build it without --arch, or set [package] arch for an architecture-dependent package",
        )
    if arch != "noarch" and "noarch" in arches:
        raise UsageError(
            f"--arch noarch: this map is built per architecture ([package] arch = {arch!r})",
            hint="name the architectures to build, such as --arch x86_64,aarch64",
        )
    host = canonical(platform.machine()) or platform.machine()
    foreign = [a for a in arches if a not in ("noarch", "native", host)]
    if foreign and backend != "native":
        raise UsageError(
            f"--arch {foreign[0]}: the {backend} backend builds for this host ({host}) only",
            hint="use --backend native to build for other architectures",
        )


def build(
    resolved: Resolved,
    out_dir: Path,
    backend: str = "native",
    timeout: float | None = None,
    arches: Sequence[str] = (),
) -> list[Artifact]:
    """Build the binary package(s) of ``resolved`` into ``out_dir``, once per arch of ``arches`` (canonical names;
    none: the map's own arch); return what was written, the arches in the order given."""
    if arches:
        check_arches(resolved.package.arch, arches, backend)
        built = [a for arch in arches for a in build(for_arch(resolved, arch), out_dir, backend, timeout)]
        # A noarch sub-package is written once per arch, byte-identical (reproducible): listed once.
        return list({a.path: a for a in built}.values())
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
