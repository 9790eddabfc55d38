"""The packages to publish: found, copied into the output's private staging directory, then read.

Every package is copied first and the copy is what gets read, checked, signed and
published, so a file changed or swapped after it was read cannot slip in.  Copies get
numbered names; no name of an input ever becomes a path in the output.  Packages are
told apart by their content (magic bytes and headers), never by their file names.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ArtifactError, UsageError
from ..formats.read import read_artifact
from ..model import ArtifactInfo
from ..sources.regular import open_regular

_CHUNK = 1 << 20
SUFFIXES = (".rpm", ".deb")


@dataclass(frozen=True)
class Staged:
    """One package: where the user had it, its private copy, what the reader found, and its digest."""

    origin: Path
    copy: Path
    info: ArtifactInfo
    sha256: str
    size: int


def find_packages(inputs: Sequence[Path], out: Path | None = None) -> list[Path]:
    """Files named on the command line, and the .rpm / .deb regular files under directories named there.

    A walk skips ``out`` and its temporary siblings: `publish dist/ --out dist/repo` must not
    publish the previous repository's (signed) copies again.
    """
    skip = _skipped(out)
    found: list[Path] = []
    for item in inputs:
        try:
            st = os.stat(item)
        except OSError as exc:
            raise ArtifactError(f"{item}: cannot read: {exc.strerror}") from None
        if stat.S_ISDIR(st.st_mode):
            found.extend(_walk(item, skip))
        else:
            found.append(item)  # its type and format are checked when it is copied and read
    if not found:
        names = ", ".join(str(i) for i in inputs)
        raise UsageError(f"no .rpm or .deb packages in {names}", hint="give package files or directories holding them")
    return list(dict.fromkeys(found))


def _skipped(out: Path | None):
    if out is None:
        return lambda _path: False
    real = os.path.realpath(out)
    parent, name = os.path.split(real)

    def skip(path: str) -> bool:
        real_path = os.path.realpath(path)
        head, tail = os.path.split(real_path)
        return real_path == real or (head == parent and tail.startswith(f".{name}.pkgtool-tmp-"))

    return skip


def _walk(top: Path, skip) -> Iterable[Path]:
    # Symlinks are not followed: a link in a build directory must not publish what it points at.
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not skip(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.endswith(SUFFIXES) and stat.S_ISREG(os.lstat(path).st_mode):
                yield path


def stage(paths: Sequence[Path], staging: Path) -> list[Staged]:
    """Copy each package into ``staging`` and read the copy; identical copies are published once."""
    staging.mkdir(mode=0o700)
    out: list[Staged] = []
    seen: set[str] = set()
    for number, path in enumerate(paths):
        copy = staging / f"{number:06d}"
        digest, size = _copy(path, copy)
        if digest in seen:
            copy.unlink()
            continue
        seen.add(digest)
        try:
            info = read_artifact(copy)
        except ArtifactError as exc:
            # The reader names the private copy; the user knows the file by its own name.
            raise ArtifactError(str(exc).replace(str(copy), str(path)), exc.diagnostics, exc.hint) from None
        out.append(Staged(path, copy, info, digest, size))
    return out


def _copy(src: Path, dest: Path) -> tuple[str, int]:
    fd, _ = open_regular(str(src), ArtifactError)
    sha = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "rb") as fh, open(dest, "xb") as out:
        while chunk := fh.read(_CHUNK):
            sha.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return sha.hexdigest(), size
