"""What an earlier install of the same package left that this one no longer has, as rpm -U and dpkg see it.

The earlier install's manifest lists its entries.  Each one the new map no longer deploys is
removed by the install (journaled like a replaced file, so a failure or a kill restores it),
except a config file the user changed since: it is kept where it is and recorded in the new
manifest under ``kept`` (dpkg keeps a modified obsolete conffile in place; rpm would rename
it .rpmsave: keeping the name keeps the service that reads it working).  Directories the
package owned go when they are empty, as both package managers do.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..bookkeeping import bookkeeping_reason
from ..rootfs.paths import file_digest, lstat_in_root, path_parts
from .manifest import read_manifest


@dataclass(frozen=True)
class Stale:
    path: str
    parts: tuple[str, ...]
    kind: str  # 'file' | 'symlink' | 'dir'
    mode: int


@dataclass
class Previous:
    """The earlier install's leftovers: to remove (files and links, then empty dirs) and to keep."""

    remove: list[Stale] = field(default_factory=list)
    dirs: list[Stale] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def previous_content(root: Path, package: str, deployed: set[str]) -> Previous:
    """Entries of the root's manifest for ``package`` that are not in ``deployed`` and are still there."""
    out = Previous()
    if not root.is_dir():
        return out
    doc = read_manifest(root, package)
    if doc is None:
        return out
    entries = [e for e in doc.get("entries", []) if isinstance(e, dict)]
    earlier_kept = [p for p in doc.get("kept", []) if isinstance(p, str)]
    for e in entries:
        path = e.get("path")
        if not isinstance(path, str) or path in deployed or bookkeeping_reason(path):
            continue
        try:
            parts = path_parts(path)
        except ValueError:
            continue  # a damaged manifest: never reach outside the root for it
        st = lstat_in_root(root, parts) if parts else None
        if st is None:
            continue
        kind = e.get("kind")
        mode = stat.S_IMODE(st.st_mode)
        if kind == "dir" and e.get("owned") is True and stat.S_ISDIR(st.st_mode):
            out.dirs.append(Stale(path, parts, "dir", mode))
        elif kind == "symlink" and stat.S_ISLNK(st.st_mode):
            out.remove.append(Stale(path, parts, "symlink", mode))
        elif kind == "file" and stat.S_ISREG(st.st_mode):
            if e.get("config", "none") != "none" and _changed(root, parts, e.get("sha256")):
                out.kept.append(path)
            else:
                out.remove.append(Stale(path, parts, "file", mode))
        # Anything else (a file that is now a directory, a link that is now a file) is no longer
        # what the package put there: someone else's, left alone.
    for path in earlier_kept:
        if path not in deployed and path not in out.kept and _there(root, path):
            out.kept.append(path)
    out.dirs.sort(key=lambda s: s.parts, reverse=True)  # deepest first
    out.kept.sort()
    return out


def _there(root: Path, path: str) -> bool:
    try:
        return lstat_in_root(root, path_parts(path)) is not None
    except ValueError:
        return False


def _changed(root: Path, parts: tuple[str, ...], recorded: object) -> bool:
    try:
        return file_digest(os.path.join(root, *parts)) != recorded
    except OSError:
        return True
