"""`pkgtool publish`: built .rpm and .deb files -> RPM repositories per distro and one APT repository, signed on request.

The whole output is written into a private directory beside ``--out`` and swapped in
at the end (atomic.atomic_dir), so a reader of the repository sees the old one or the
new one, never half of each, and nothing of an earlier run is reused.  Same packages and
SOURCE_DATE_EPOCH give the same bytes.  The layout::

    OUT/rpm/DISTRO/Packages/NAME-VERSION-RELEASE.ARCH.rpm
    OUT/rpm/DISTRO/repodata/repomd.xml (+ .asc), primary/filelists/other.xml.gz
    OUT/rpm/DISTRO/RPM-GPG-KEY-KEYID
    OUT/apt/pool/COMPONENT/I/SOURCE/PACKAGE_VERSION_ARCH.deb
    OUT/apt/dists/SUITE/Release, InRelease, Release.gpg
    OUT/apt/dists/SUITE/COMPONENT/binary-ARCH/Packages, Packages.xz
    OUT/apt/KEY-KEYID.asc

Repositories are kinds of a package family, so this stage picks the writer by the family
each package's reader reported.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import atomic_dir
from ..errors import PkgtoolError, UsageError
from ..model import Family
from .apt_repo import AptOptions, check_options, write_apt_repo
from .collect import Staged, find_packages, stage
from .rpm_repo import createrepo, place_rpms

TOP_NAMES = frozenset({"rpm", "apt"})  # what a published --out holds at its top


@dataclass(frozen=True)
class PublishOptions:
    apt: AptOptions = field(default_factory=AptOptions)
    sign: bool = False
    key_id: str | None = None
    source_date_epoch: int | None = None


@dataclass(frozen=True)
class Repository:
    kind: str  # 'rpm' | 'apt'
    name: str  # the distro of an rpm repository, the suite of the apt one
    path: Path
    packages: tuple[str, ...]  # relative to path
    signed: bool

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "path": str(self.path),
            "packages": list(self.packages),
            "signed": self.signed,
        }


def check_out_dir(out: Path) -> None:
    """--out must be new, empty, or an earlier publish output: it is replaced whole."""
    if not os.path.lexists(out):
        return
    if os.path.islink(out) or not out.is_dir():
        raise UsageError(f"--out {out} is not a directory")
    stray = sorted(set(os.listdir(out)) - TOP_NAMES)
    if stray:
        raise UsageError(
            f"--out {out} holds {', '.join(stray[:3])}{', ...' if len(stray) > 3 else ''}, which publish did not write",
            hint="publish replaces --out whole; give a new or empty directory, or an earlier publish output",
        )


def publish(inputs: Sequence[Path], out: Path, options: PublishOptions) -> list[Repository]:
    """Publish the packages of ``inputs`` (files or directories) into ``out``; return the repositories written."""
    from ..profiles import list_profiles

    check_options(options.apt)
    check_out_dir(out)
    paths = find_packages(inputs, out)
    epoch = int(time.time()) if options.source_date_epoch is None else options.source_date_epoch
    signer = None
    if options.sign:
        from .signing import find_signer

        signer = find_signer(options.key_id, epoch)
    dist_tags = {p.id: p.dist_tag for p in list_profiles() if p.family is Family.RPM}
    names: dict[str, str] = {}
    try:
        with atomic_dir(out) as tmp:
            names[str(tmp)] = str(out)
            staged = stage(paths, tmp / ".incoming")
            names.update({str(pkg.copy): str(pkg.origin) for pkg in staged})
            repos = _write(staged, tmp, out, options, dist_tags, signer, epoch)
    except PkgtoolError as exc:
        _name_for_user(exc, names)
        raise
    except OSError as exc:  # a full disk, a file system that refuses a name: an error, not a traceback
        error = PkgtoolError(f"cannot write the repository {out}: {exc.strerror or exc}")
        _name_for_user(error, names)
        raise error from None
    return repos


def _name_for_user(exc: PkgtoolError, names: dict[str, str]) -> None:
    """Errors about a private copy name the user's file; paths in the staging directory name --out."""
    message = exc.message
    for private, public in sorted(names.items(), key=lambda kv: -len(kv[0])):  # copies before their directory
        message = message.replace(private, public)
    exc.message, exc.args = message, (message,)


def _write(staged, tmp: Path, out: Path, options: PublishOptions, dist_tags, signer, epoch: int) -> list[Repository]:
    by_family: dict[Family, list[Staged]] = {}
    for pkg in staged:
        by_family.setdefault(pkg.info.format, []).append(pkg)
    repos: list[Repository] = []
    if Family.RPM in by_family:
        repos += _rpm(by_family[Family.RPM], tmp, out, dist_tags, signer, epoch)
    if Family.DEB in by_family:
        repos.append(_apt(by_family[Family.DEB], tmp, out, options.apt, signer, epoch))
    shutil.rmtree(tmp / ".incoming")
    _settle(tmp, epoch)
    return repos


def _rpm(packages, tmp: Path, out: Path, dist_tags, signer, epoch: int) -> list[Repository]:
    placed = place_rpms(packages, tmp / "rpm", dist_tags)
    if signer is not None:
        signer.sign_rpms([p for files in placed.values() for p in files])
    repos = []
    for distro, files in placed.items():
        repo = tmp / "rpm" / distro
        createrepo(repo, epoch)
        if signer is not None:
            repomd = repo / "repodata" / "repomd.xml"
            signer.detach_sign(repomd, repomd.with_name("repomd.xml.asc"))
            signer.export_public(repo / f"RPM-GPG-KEY-{signer.long_id}")
        names = tuple(f"Packages/{p.name}" for p in files)
        repos.append(Repository("rpm", distro, out / "rpm" / distro, names, signer is not None))
    return repos


def _apt(packages, tmp: Path, out: Path, options: AptOptions, signer, epoch: int) -> Repository:
    top = tmp / "apt"
    to_sign = write_apt_repo(packages, top, options, epoch)
    if signer is not None:
        for release in to_sign:
            signer.clearsign(release, release.with_name("InRelease"))
            signer.detach_sign(release, release.with_name("Release.gpg"))
        signer.export_public(top / f"KEY-{signer.long_id}.asc")
    names = tuple(sorted(str(p.relative_to(top)) for p in (top / "pool").rglob("*.deb")))
    return Repository("apt", options.suite, out / "apt", names, signer is not None)


def _settle(top: Path, epoch: int) -> None:
    """Every file 0644, every directory 0755, every mtime the epoch: a copy or rsync of two runs shows no change."""
    for dirpath, dirnames, filenames in os.walk(top, topdown=False):
        for name in filenames:
            path = os.path.join(dirpath, name)
            os.chmod(path, 0o644)
            os.utime(path, (epoch, epoch))
        for name in dirnames:
            path = os.path.join(dirpath, name)
            os.chmod(path, 0o755)
            os.utime(path, (epoch, epoch))
