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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..atomic import temp_dir
from ..diagnostics import Diagnostic, Severity
from ..errors import ResolveError
from ..model import Entry, EntryKind, Location, PatchSpec, Resolved
from .generated import generated_sources
from .patching import PatchFormatError, apply_patch, parse_patch
from .regular import input_path, read_input
from .templates import fill, names_used, sed_expressions, template_values


def read_patch(resolved: Resolved, patch: PatchSpec) -> bytes:
    """A [[patch]] file's bytes, read through the checked path every command uses (inside the tree, regular)."""
    return read_input(resolved.root, patch.file, "patch", patch.loc)


def _error(rule: str, message: str, loc: Location | None) -> ResolveError:
    return ResolveError(message, [Diagnostic(rule, Severity.ERROR, message, loc)])


def needed_sources(resolved: Resolved) -> set[str]:
    """Relative paths of every file a consumer reads: entries' sources and scripts."""
    needed = set()
    for package in resolved.packages:  # one source tree for the main package and every sub-package
        needed.update(e.source for e in package.entries if e.kind is EntryKind.FILE and e.source)
        needed.update(posixpath.normpath(s) for s in package.layout.scripts.values())
    return needed


def checked_targets(resolved: Resolved, texts: list[tuple[PatchSpec, bytes]]) -> set[str]:
    """Every file the patches touch, each proven to stay inside the tree; ResolveError before any write.

    A target is refused when its name climbs out (``../``, absolute) or when a symlink in the
    layout on its way leads out: the staged copy of it would be read from, or written to, outside.
    """
    out: set[str] = set()
    for p, data in texts:
        try:
            sections = parse_patch(data)
        except PatchFormatError:
            continue  # apply_patch reports it, with its line, before it writes anything
        for fp in sections:
            try:
                rel = fp.target(p.strip)
            except ValueError:
                continue  # reported the same way by apply_patch
            norm = posixpath.normpath(rel)
            message = f"patch names a file outside the tree: {rel!r}"
            if rel.startswith("/") or norm == ".." or norm.startswith("../"):
                raise _target_error(p, fp.line, message, rel)
            try:
                input_path(resolved.root, norm, "patch target")
            except ResolveError:
                raise _target_error(p, fp.line, message + " (through a symlink)", rel) from None
            out.add(norm)
    return out


def check_patches(resolved: Resolved) -> None:
    """Every [[patch]] read through the checked path and every target proven inside the tree.

    For the commands that ship patches unapplied (generate): a source package must not carry a
    patch that rpmbuild or dpkg-source would apply outside its build directory.
    """
    checked_targets(resolved, [(p, read_patch(resolved, p)) for p in resolved.layout.patches])


def _target_error(p: PatchSpec, line: int, message: str, target: str) -> ResolveError:
    diag = Diagnostic("patch-failed", Severity.ERROR, message, Location(p.file, "", line), path=target)
    return ResolveError(f"{p.file}:{line}: {message}", [diag])


def _copy(root: Path, rel: str, dest: Path) -> None:
    src = root / rel
    if not src.is_file():
        return  # a patch creating a file, or a source resolve has already reported
    out = dest / rel
    if not os.path.realpath(out).startswith(os.path.realpath(dest) + os.sep):
        raise ResolveError(f"{rel!r} would be staged outside the staging directory")  # checked above; never
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, out)  # follows a symlink inside the tree, keeps mode and mtime


def templates(resolved: Resolved) -> list[Entry]:
    """The entries whose source is a template; a source deployed both filled and as it is is refused."""
    out = [e for e in resolved.files if e.template]
    if out:
        filled = {e.source for e in out}
        for e in resolved.files:
            if not e.template and e.source in filled:
                message = f"{e.source} is deployed as a template and as it is ({e.path}, {e.origin})"
                raise _error("conflict", message + ": copy the file, or set template = true on both", None)
    return out


def fill_templates(resolved: Resolved, tree: Path) -> None:
    """Fill each template's staged copy in place (a source deployed twice is filled once)."""
    values = template_values(resolved)
    done: set[str] = set()
    for e in templates(resolved):
        assert e.source is not None
        if e.source not in done:
            path = tree / e.source
            path.write_bytes(fill(path.read_bytes(), e, values))
            done.add(e.source)


def template_fills(resolved: Resolved) -> dict[str, list[str]]:
    """Deployed path -> the sed expressions that fill it, for the spec and debian/rules."""
    if not templates(resolved):
        return {}
    values = template_values(resolved)
    with staged_sources(resolved, fill_in=False) as tree:
        out = {}
        for e in templates(resolved):
            assert e.source is not None
            out[e.path] = sed_expressions(names_used((tree / e.source).read_bytes(), e, values), values)
        return out


@contextmanager
def staged_sources(resolved: Resolved, fill_in: bool = True) -> Iterator[Path]:
    """Yield a directory where every Entry.source (relative) has its final content: patched, templates filled."""
    patches = resolved.layout.patches
    filled = fill_in and bool(templates(resolved))
    generated = generated_sources(resolved.layout)
    if not patches and not filled and not generated:
        yield resolved.root
        return
    texts = [(p, read_patch(resolved, p)) for p in patches]
    needed = needed_sources(resolved) | checked_targets(resolved, texts)
    with temp_dir(prefix="pkgtool-src-") as tmp:
        dest = Path(tmp)
        for rel in sorted(needed - generated.keys()):  # a map file of a generated name is never read
            _copy(resolved.root, rel, dest)
        for rel, data in sorted(generated.items()):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).write_bytes(data)
            os.utime(dest / rel, (resolved.source_date_epoch, resolved.source_date_epoch))
        for p, data in texts:
            apply_patch(data, dest, p.strip, patch_name=p.file)
        if filled:
            fill_templates(resolved, dest)
        yield dest


def patched_text(resolved: Resolved, rel: str) -> bytes:
    """The final content of one source file (for a consumer that needs just one)."""
    with staged_sources(resolved) as tree:
        return (tree / rel).read_bytes()
