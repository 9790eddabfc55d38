"""Safe access to one deployed path under a root: its parts, its lstat, its digest, a link's destination.

Nothing here follows a symlink: a path whose way from the root crosses a
link or a non-directory is treated as absent, and a file is read only when
it is not itself a link, so a hostile root cannot make install or verify
read outside it.  The walk of a whole root is in rootfs.walk.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
from pathlib import Path

from ..model import EntryKind

CHUNK = 1024 * 1024


def path_parts(path: str) -> tuple[str, ...]:
    """Components of an absolute deployed path; ValueError for one that could leave the root."""
    if not path.startswith("/"):
        raise ValueError(f"{path}: deployed path is not absolute")
    parts = tuple(p for p in path.split("/") if p not in ("", "."))
    if ".." in parts or "\0" in path:
        raise ValueError(f"{path}: deployed path would land outside the root")
    return parts


def link_destination(path: str, target: str) -> str:
    """Where a link at ``path`` with ``target`` points: absolute and normalised, nothing followed."""
    if not target.startswith("/"):
        target = posixpath.join(posixpath.dirname(path), target)
    return "/" + posixpath.normpath(target).lstrip("/")


def kind_of(st_mode: int) -> EntryKind | None:
    """The entry kind of an st_mode, None for a device, fifo or socket."""
    if stat.S_ISREG(st_mode):
        return EntryKind.FILE
    if stat.S_ISDIR(st_mode):
        return EntryKind.DIR
    if stat.S_ISLNK(st_mode):
        return EntryKind.SYMLINK
    return None


def lstat_in_root(root: Path, parts: tuple[str, ...]) -> os.stat_result | None:
    """lstat of root/parts, or None when it, or a directory on the way, is missing or not a real directory."""
    cur = root
    for i, part in enumerate(parts):
        cur = cur / part
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return None
        if i < len(parts) - 1 and not stat.S_ISDIR(st.st_mode):
            return None
        if i == len(parts) - 1:
            return st
    return os.lstat(root)


def file_digest(path: Path | str, algo: str = "sha256", *, dir_fd: int | None = None) -> str:
    """Hex digest of a regular file, streamed in 1 MiB chunks, never through a symlink."""
    h = hashlib.new(algo)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()
