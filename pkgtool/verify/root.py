"""Hold an installed root against the map: its entries, the owners the install recorded, an interrupted install."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import PkgtoolError, UsageError
from ..model import Entry, EntryKind, Observed, Resolved
from ..rootfs.paths import file_digest
from .compare import ROOT_DIGEST, compare
from .report import Mismatch, VerifyReport

# ---------------------------------------------------------------- entry point


def verify_root(resolved: Resolved, root: Path | str, others: Sequence[Resolved] = ()) -> VerifyReport:
    """Hold an installed root directory against the entries.

    ``others`` are the map's other packages (``Resolved.packages``): what they deploy
    is no extra of this one when they are installed in the same root.
    """
    from ..install.manifest import read_manifest

    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"{root}: not a directory")
    notes: list[str] = []
    recorded: dict[str, tuple[str, str]] | None = None
    manifest = read_manifest(root, resolved.package.name)
    if manifest is not None:
        pkg = resolved.package
        if (manifest.get("version"), manifest.get("release")) != (pkg.version, pkg.release):
            notes.append(
                f"the install manifest records {manifest.get('version')}-{manifest.get('release')},"
                f" the map is {pkg.version}-{pkg.release}"
            )
        if manifest.get("owners_applied") is False:
            recorded = {
                e["path"]: (e["owner"], e["group"])
                for e in manifest.get("entries", [])
                if isinstance(e, dict) and {"path", "owner", "group"} <= e.keys()
            }
            notes.append("installed without root: owners checked against the install manifest, not the files")
    leftovers = _leftovers(resolved, root, manifest)
    kept = [p for p in (manifest or {}).get("kept", []) if isinstance(p, str)]
    if kept:
        notes.append("modified config files of an earlier install, kept: " + ", ".join(kept))
    from ..rootfs.accounts import load_accounts, with_declared
    from ..rootfs.walk import read_root

    seen = read_root(resolved, root, with_declared(load_accounts(root), resolved.layout))
    report = compare(
        resolved,
        seen.values(),
        subject=str(root),
        recorded_owners=recorded,
        notes=notes,
        content_diffs=_content_diffs(resolved, seen, root),
        elsewhere=frozenset(e.path for p in others if p is not resolved for e in p.entries),
    )
    if leftovers:
        report = replace(report, mismatches=(*report.mismatches, *leftovers))
    from ..bookkeeping import journal_name  # install.journal's pending(), without importing the journal

    if not os.path.lexists(os.path.join(root, journal_name(resolved.package.name))):
        return report
    # The files may be a mix of two versions until the journal is replayed: say so first.
    killed = Mismatch(
        "/" + journal_name(resolved.package.name),
        ("interrupted",),
        actual={"interrupted": f"an install of {resolved.package.name} into this root was interrupted"},
    )
    return replace(report, mismatches=(killed, *report.mismatches))


def _leftovers(resolved: Resolved, root: Path, manifest: dict | None) -> list[Mismatch]:
    """Paths the recorded install put there that the map no longer has and that are still in the root."""
    from ..rootfs.paths import lstat_in_root, path_parts

    if manifest is None:
        return []
    mapped = {e.path for e in resolved.entries}
    out = []
    for e in manifest.get("entries", []):
        if not isinstance(e, dict) or not isinstance(e.get("path"), str) or e["path"] in mapped:
            continue
        if e.get("kind") == "dir" and e.get("owned") is not True:
            continue
        try:
            there = lstat_in_root(root, path_parts(e["path"])) is not None
        except ValueError:
            continue
        if there:
            what = f"{e.get('kind', 'path')} installed by {manifest.get('package')} {manifest.get('version')}"
            out.append(Mismatch(e["path"], ("extra",), actual={"extra": f"{what}, still here and"}))
    return out


def _content_diffs(resolved: Resolved, seen: Mapping[str, Observed], root: Path) -> dict[str, tuple[str, str]]:
    """path -> (expected, actual) digest of every installed file whose bytes differ from its final source."""
    from ..rootfs.walk import SourceError, compare_contents

    file_kind = EntryKind.FILE
    files = [
        (e, obs.size)
        for e in resolved.entries
        if e.kind is file_kind and (obs := seen.get(e.path)) is not None and obs.kind is file_kind
    ]
    if not files:
        return {}
    from ..sources.staging import staged_sources  # late import keeps verify light

    top = str(root).rstrip("/")
    diffs: dict[str, tuple[str, str]] = {}
    with staged_sources(resolved) as staged:
        base = os.fspath(staged).rstrip("/") + "/"  # sources are relative: resolve refuses others
        todo = [(top + e.path, base + (e.source or ""), size) for e, size in files]
        for i, same in enumerate(compare_contents(todo)):
            if same is True:
                continue
            e = files[i][0]
            inst, src, _ = todo[i]
            if isinstance(same, SourceError):
                raise _source_error(e, same.error)
            if isinstance(same, OSError):
                raise _root_error(e, root, same)
            # Digests only to say how they differ; the bytes were compared already.
            try:
                want = file_digest(src, ROOT_DIGEST)
            except OSError as exc:
                raise _source_error(e, exc) from None
            try:
                have = file_digest(inst, ROOT_DIGEST)
            except OSError as exc:
                raise _root_error(e, root, exc) from None
            if want != have:  # else a read came up short: not a difference
                diffs[e.path] = (want, have)
    return diffs


def _source_error(entry: Entry, exc: OSError) -> PkgtoolError:
    return PkgtoolError(f"{entry.path}: cannot read its source {entry.source}: {exc.strerror}")


def _root_error(entry: Entry, root: Path, exc: OSError) -> PkgtoolError:
    return PkgtoolError(f"{entry.path}: cannot read it under {root}: {exc.strerror}")
