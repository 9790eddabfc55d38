"""An APT repository, written natively: pool/, dists/SUITE/COMPONENT/binary-ARCH/Packages(.xz), Release.

Stanzas are dpkg-scanpackages' (formats/deb/index.py): the control fields, then
Filename, Size, MD5sum, SHA1 and SHA256, fields in dpkg's order.  Pool paths are
``pool/COMPONENT/INITIAL/SOURCE/PACKAGE_VERSION_ARCH.deb``, made from checked control
fields.  ``Architecture: all`` packages are listed in every binary-ARCH index (apt then
needs no binary-all).  Release carries Date from SOURCE_DATE_EPOCH and the MD5Sum, SHA1
and SHA256 of each index, as apt-ftparchive writes them.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cmp_to_key
from pathlib import Path

from ..errors import ArtifactError, UsageError
from ..formats.deb.index import ARCH, DebIndexEntry, read_index_entry
from .collect import Staged
from .rpm_repo import NAME_MAX

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")  # a suite or component: one path component
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DEFAULT_ARCH = "amd64"


@dataclass(frozen=True)
class AptOptions:
    suite: str = "stable"
    component: str = "main"
    architectures: tuple[str, ...] = ()  # empty: the packages' own, or DEFAULT_ARCH when all are 'all'


@dataclass(frozen=True)
class _Placed:
    entry: DebIndexEntry
    filename: str  # relative to the repository's top, as in the Filename field
    size: int
    md5: str
    sha1: str
    sha256: str


def check_options(options: AptOptions) -> None:
    for what, value in (("--suite", options.suite), ("--component", options.component)):
        if not _WORD.fullmatch(value):
            raise UsageError(f"{what} {value!r} is not a single name (letters, digits, '.', '_', '+', '-')")
    for arch in options.architectures:
        if not ARCH.fullmatch(arch) or arch == "all":
            raise UsageError(f"--arch {arch!r} is not a Debian architecture name (such as amd64)")


def write_apt_repo(packages: Sequence[Staged], top: Path, options: AptOptions, epoch: int) -> list[Path]:
    """Move the staged .debs into TOP's pool and write the indices and Release; return the files to sign."""
    check_options(options)
    placed = _place(packages, top, options.component)
    concrete = sorted({p.entry.architecture for p in placed if p.entry.architecture != "all"})
    archs = list(options.architectures) or concrete or [DEFAULT_ARCH]
    for p in placed:
        if p.entry.architecture not in ("all", *archs):
            raise UsageError(
                f"{p.filename} is for {p.entry.architecture}, which is not among --arch {','.join(archs)}",
                hint="add its architecture to --arch, or leave --arch out",
            )
    dist = top / "dists" / options.suite
    indices: list[Path] = []
    for arch in sorted(archs):
        chosen = [p for p in placed if p.entry.architecture in (arch, "all")]
        text = "".join(p.entry.stanza(p.filename, p.size, p.md5, p.sha1, p.sha256) for p in _sorted(chosen))
        data = text.encode("utf-8")
        bindir = dist / options.component / f"binary-{arch}"
        bindir.mkdir(parents=True)
        (bindir / "Packages").write_bytes(data)
        (bindir / "Packages.xz").write_bytes(lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64))
        indices += [bindir / "Packages", bindir / "Packages.xz"]
    release = dist / "Release"
    release.write_bytes(_release(dist, indices, options, sorted(archs), epoch).encode("utf-8"))
    return [release]


def _place(packages: Sequence[Staged], top: Path, component: str) -> list[_Placed]:
    out: dict[str, _Placed] = {}
    origins: dict[str, Path] = {}
    for pkg in packages:
        entry = read_index_entry(pkg.copy)
        rel = f"pool/{component}/{entry.pool_dir}/{entry.file_name}"
        if any(len(part.encode()) > NAME_MAX for part in rel.split("/")):
            raise ArtifactError(f"{pkg.origin}: pool path {rel[:80]!r}... has a name longer than {NAME_MAX} bytes")
        if rel in out:
            raise UsageError(
                f"{pkg.origin} and {origins[rel]} are both {entry.file_name} but differ",
                hint="publish one build of each package version",
            )
        dest = top / rel
        if dest.resolve().parent != (top / "pool" / component / entry.pool_dir).resolve():
            raise ArtifactError(f"{pkg.origin}: pool path {rel!r} leaves the repository")  # never, names are checked
        dest.parent.mkdir(parents=True, exist_ok=True)
        data_md5, data_sha1 = _digests(pkg.copy)
        os.replace(pkg.copy, dest)
        os.chmod(dest, 0o644)
        out[rel] = _Placed(entry, rel, pkg.size, data_md5, data_sha1, pkg.sha256)
        origins[rel] = pkg.origin
    return list(out.values())


def _digests(path: Path) -> tuple[str, str]:
    md5, sha1 = hashlib.md5(), hashlib.sha1()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            md5.update(chunk)
            sha1.update(chunk)
    return md5.hexdigest(), sha1.hexdigest()


def _sorted(placed: list[_Placed]) -> list[_Placed]:
    from debian.debian_support import version_compare

    def cmp(a: _Placed, b: _Placed) -> int:
        if a.entry.package != b.entry.package:
            return -1 if a.entry.package < b.entry.package else 1
        by_version = version_compare(a.entry.version, b.entry.version)
        if by_version:
            return by_version
        return (a.entry.architecture > b.entry.architecture) - (a.entry.architecture < b.entry.architecture)

    return sorted(placed, key=cmp_to_key(cmp))


def release_date(epoch: int) -> str:
    """RFC 2822 in UTC, spelled without the locale: 'Mon, 06 Jan 2025 00:00:00 UTC'."""
    t = time.gmtime(epoch)
    return f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} UTC"


def _release(dist: Path, indices: list[Path], options: AptOptions, archs: list[str], epoch: int) -> str:
    lines = [
        f"Suite: {options.suite}",
        f"Codename: {options.suite}",
        f"Date: {release_date(epoch)}",
        f"Architectures: {' '.join(archs)}",
        f"Components: {options.component}",
    ]
    for field, algo in (("MD5Sum", "md5"), ("SHA1", "sha1"), ("SHA256", "sha256")):
        lines.append(f"{field}:")
        for path in indices:
            data = path.read_bytes()
            digest = hashlib.new(algo, data).hexdigest()
            lines.append(f" {digest} {len(data):16d} {path.relative_to(dist).as_posix()}")
    return "\n".join(lines) + "\n"
