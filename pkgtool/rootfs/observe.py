"""Read what is installed under a root directory, for verify: one Observed per path.

Nothing here follows a symlink: a link is observed as a link, and a path
whose way from the root crosses a link is treated as absent, so a hostile
root cannot make verify read outside it.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
from pathlib import Path

from ..model import EntryKind, Observed, Resolved
from .accounts import Accounts, load_accounts

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


def observe(root: Path, path: str, accounts: Accounts) -> Observed | None:
    """One path under root as found there, or None when absent."""
    try:
        parts = path_parts(path)
    except ValueError:
        return None  # resolve refuses such paths; here it simply cannot be observed
    st = lstat_in_root(root, parts)
    if st is None:
        return None
    kind = kind_of(st.st_mode)
    real = root / path.lstrip("/")
    digest = target = None
    if kind is EntryKind.FILE:
        digest = file_digest(real)
    elif kind is EntryKind.SYMLINK:
        target = os.readlink(real)
    return Observed(
        path=path,
        kind=kind,
        mode=0o777 if kind is EntryKind.SYMLINK else stat.S_IMODE(st.st_mode),
        owner=accounts.user_name(st.st_uid),
        group=accounts.group_name(st.st_gid),
        size=st.st_size if kind is EntryKind.FILE else 0,
        digest=digest or "",
        digest_algo="sha256" if digest else "",
        target=target,
    )


def read_root(resolved: Resolved, root: Path | str) -> list[Observed]:
    """Every entry path found under root, and every other path inside the package's owned directories."""
    root = Path(root)
    accounts = load_accounts(root)
    seen: dict[str, Observed] = {}
    walked: set[str] = set()
    for entry in resolved.entries:
        obs = observe(root, entry.path, accounts)
        if obs is not None:
            seen[entry.path] = obs
    # Extras: walk the owned directories as they really are (no link followed).
    for entry in resolved.entries:
        if entry.kind is not EntryKind.DIR or not entry.owned:
            continue
        obs = seen.get(entry.path)
        if obs is None or obs.kind is not EntryKind.DIR:
            continue
        _walk(root, entry.path, accounts, seen, walked)
    return sorted(seen.values(), key=lambda o: o.path)


def _walk(root: Path, dirpath: str, accounts: Accounts, seen: dict[str, Observed], walked: set[str]) -> None:
    if dirpath in walked:
        return
    walked.add(dirpath)
    real = root / dirpath.lstrip("/")
    try:
        names = sorted(os.listdir(real))
    except OSError:
        return
    for name in names:
        child = dirpath.rstrip("/") + "/" + name
        obs = seen.get(child)
        if obs is None:
            obs = observe(root, child, accounts)
            if obs is None:
                continue
            seen[child] = obs
        if obs.kind is EntryKind.DIR:
            _walk(root, child, accounts, seen, walked)
