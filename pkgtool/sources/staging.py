"""The final content of every source file: the layout's tree with its [[patch]]es applied.

Patches are never applied to the user's tree.  Without patches the layout
root itself is yielded; with patches, only the files that something reads
(entries' sources, scripts, the patches' own targets) are copied into a
temporary directory, patched there, and the directory is removed afterwards.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..diagnostics import Diagnostic, Severity
from ..errors import ResolveError
from ..model import EntryKind, Location, Resolved
from .patching import apply_patch, patch_targets


def _read_patch(resolved: Resolved, rel: str, loc: Location | None) -> bytes:
    norm = posixpath.normpath(rel)
    full = resolved.root / norm
    real = os.path.realpath(full)
    root_real = os.path.realpath(resolved.root)
    if rel.startswith("/") or norm.startswith("../") or not real.startswith(root_real + os.sep):
        raise _error("unsafe-path", f"patch {rel!r} is outside the layout directory", loc)
    try:
        return full.read_bytes()
    except OSError as exc:
        raise _error("missing-source", f"patch {rel!r} cannot be read: {exc.strerror}", loc) from None


def _error(rule: str, message: str, loc: Location | None) -> ResolveError:
    return ResolveError(message, [Diagnostic(rule, Severity.ERROR, message, loc)])


def needed_sources(resolved: Resolved) -> set[str]:
    """Relative paths of every file a consumer reads: entries' sources and scripts."""
    needed = {e.source for e in resolved.entries if e.kind is EntryKind.FILE and e.source}
    needed.update(posixpath.normpath(s) for s in resolved.layout.scripts.values())
    return needed


def _copy(root: Path, rel: str, dest: Path) -> None:
    src = root / rel
    if not src.is_file():
        return  # a patch creating a file, or a source resolve has already reported
    out = dest / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, out)  # follows a symlink inside the tree, keeps mode and mtime


@contextmanager
def staged_sources(resolved: Resolved) -> Iterator[Path]:
    """Yield a directory where every Entry.source (relative) has its final, patched content."""
    patches = resolved.layout.patches
    if not patches:
        yield resolved.root
        return
    texts = [(p, _read_patch(resolved, p.file, p.loc)) for p in patches]
    needed = needed_sources(resolved)
    for p, data in texts:
        needed.update(patch_targets(data, p.strip))
    with tempfile.TemporaryDirectory(prefix="pkgtool-src-") as tmp:
        dest = Path(tmp)
        for rel in sorted(needed):
            _copy(resolved.root, rel, dest)
        for p, data in texts:
            apply_patch(data, dest, p.strip, patch_name=p.file)
        yield dest


def patched_text(resolved: Resolved, rel: str) -> bytes:
    """The final content of one source file (for a consumer that needs just one)."""
    with staged_sources(resolved) as tree:
        return (tree / rel).read_bytes()
