"""RPM repositories: one per distro, the .rpm files under Packages/ and repodata/ by createrepo_c.

A package's distro is read from its header: the release ends with the dist tag of one
rpm-family profile (``1.fc40`` is fedora's).  File names in the repository are made
from the header's name, version, release and arch, each checked first; the input's
file name is never used.  createrepo_c runs on a fresh directory with the options that
make its output depend on the packages and SOURCE_DATE_EPOCH alone: no --update cache,
no sqlite databases (their pages carry nothing dnf needs and vary), timestamps set to
the revision, every package file's mtime set to it (primary.xml records it), gzip, one
worker.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ArtifactError, ToolError, UsageError
from ..formats.tools import run_tool
from .collect import Staged

# What rpm itself allows in the parts of a file name, without '/' and with no leading dot.
_NAME = re.compile(r"[A-Za-z0-9_+][A-Za-z0-9._+-]*")
_VERSION = re.compile(r"[A-Za-z0-9._+~^]+")
_ARCH = re.compile(r"[A-Za-z0-9_]+")
NAME_MAX = 255  # bytes in one file name


@dataclass(frozen=True)
class RpmRepo:
    distro: str
    path: Path
    packages: tuple[str, ...]  # file names under Packages/


def rpm_distro(pkg: Staged, dist_tags: dict[str, str]) -> str:
    """The profile whose dist tag ends the package's release; ArtifactError naming the file if none or several."""
    release = pkg.info.release
    hits = [d for d, tag in dist_tags.items() if tag and release.endswith(tag) and len(release) > len(tag)]
    longest = max((len(dist_tags[d]) for d in hits), default=0)
    hits = [d for d in hits if len(dist_tags[d]) == longest]
    if len(hits) == 1:
        return hits[0]
    known = ", ".join(f"{tag} ({d})" for d, tag in sorted(dist_tags.items()) if tag)
    if not hits:
        raise ArtifactError(
            f"{pkg.origin}: release {release!r} ends with no known dist tag, so its distro is unknown",
            hint=f"build it with an rpm profile (dist tags: {known})",
        )
    raise ArtifactError(f"{pkg.origin}: release {release!r} fits the dist tags of {', '.join(sorted(hits))}")


def rpm_file_name(pkg: Staged) -> str:
    info = pkg.info
    for what, value, pattern in (
        ("name", info.name, _NAME),
        ("version", info.version, _VERSION),
        ("release", info.release, _VERSION),
        ("arch", info.arch, _ARCH),
    ):
        if not pattern.fullmatch(value):
            raise ArtifactError(f"{pkg.origin}: header {what} {value[:80]!r} cannot be part of a file name")
    name = f"{info.name}-{info.version}-{info.release}.{info.arch}.rpm"
    if len(name.encode()) > NAME_MAX:
        raise ArtifactError(f"{pkg.origin}: its file name would be {len(name.encode())} bytes, more than {NAME_MAX}")
    return name


def is_source(pkg: Staged) -> bool:
    from ..formats.rpm.reader import is_source_rpm

    return is_source_rpm(pkg.copy)


def place_rpms(packages: Sequence[Staged], top: Path, dist_tags: dict[str, str]) -> dict[str, list[Path]]:
    """Move each staged .rpm to TOP/DISTRO/Packages/NAME; distro -> the placed files, sorted."""
    placed: dict[str, dict[str, Staged]] = {}
    for pkg in packages:
        if is_source(pkg):
            raise ArtifactError(f"{pkg.origin}: a source package (.src.rpm); a repository publishes binary packages")
        distro = rpm_distro(pkg, dist_tags)
        name = rpm_file_name(pkg)
        prior = placed.setdefault(distro, {}).get(name)
        if prior is not None:
            raise UsageError(
                f"{pkg.origin} and {prior.origin} are both {name} for {distro} but differ",
                hint="publish one build of each package version",
            )
        placed[distro][name] = pkg
    out: dict[str, list[Path]] = {}
    for distro, by_name in sorted(placed.items()):
        pkgdir = top / distro / "Packages"
        pkgdir.mkdir(parents=True)
        out[distro] = []
        for name in sorted(by_name):
            dest = pkgdir / name
            os.replace(by_name[name].copy, dest)
            os.chmod(dest, 0o644)
            out[distro].append(dest)
    return out


def createrepo(repo: Path, epoch: int) -> None:
    """repodata/ for the packages under ``repo``, by createrepo_c, the same bytes for the same packages."""
    if shutil.which("createrepo_c") is None:
        raise ToolError("createrepo_c is not installed (Debian package createrepo-c); it writes RPM repodata")
    for path in sorted((repo / "Packages").iterdir()):
        os.utime(path, (epoch, epoch))  # primary.xml records each file's mtime
    cmd = [
        "createrepo_c",
        "--quiet",
        "--no-database",
        "--set-timestamp-to-revision",
        f"--revision={epoch}",
        "--workers=1",
        "--checksum=sha256",
        "--repomd-checksum=sha256",
        "--general-compress-type=gz",
        "--unique-md-filenames",
        str(repo),
    ]
    run_tool(cmd, env={"LC_ALL": "C", "TZ": "UTC"})
