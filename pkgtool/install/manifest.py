"""The install manifest: what pkgtool installed into a root, kept there as its record (ROOT/.pkgtool/).

One hidden directory at the top of the root, which no package may deploy (bookkeeping.py),
so the rest of the root is exactly what the package would install.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..bookkeeping import MANIFEST_FORMAT, RECORDS_DIR, manifest_path
from ..model import Resolved
from ..rootfs.paths import path_parts

MANIFEST_DIR = RECORDS_DIR

__all__ = ["MANIFEST_DIR", "MANIFEST_FORMAT", "manifest_bytes", "manifest_path", "read_manifest"]


def manifest_bytes(
    resolved: Resolved, digests: Mapping[str, str], owners_applied: bool, kept: Sequence[str] = ()
) -> bytes:
    """The manifest of ``resolved`` as installed; ``digests`` maps each file's path to its sha256."""
    pkg = resolved.package
    doc = {
        "format": MANIFEST_FORMAT,
        "schema": 1,
        "package": pkg.name,
        "version": pkg.version,
        "release": pkg.release,
        "epoch": pkg.epoch,
        "distro": resolved.profile.id,
        "source_date_epoch": resolved.source_date_epoch,
        "owners_applied": owners_applied,
        # Modified config files of an earlier install the map no longer has, left in place.
        "kept": list(kept),
        "entries": [
            {
                "path": e.path,
                "kind": e.kind.value,
                "mode": f"{e.mode:04o}",
                "owner": e.owner,
                "group": e.group,
                "owned": e.owned,
                "config": e.config.value,
                "sha256": digests.get(e.path) or None,
                "target": e.target,
            }
            for e in resolved.entries
        ],
    }
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def read_manifest(root: Path | str, name: str) -> dict | None:
    """The install manifest of package ``name`` under root, or None when absent or unreadable."""
    from ..rootfs.paths import lstat_in_root

    parts = path_parts(manifest_path(name))
    st = lstat_in_root(Path(root), parts)
    if st is None or not stat.S_ISREG(st.st_mode):
        return None
    try:
        doc = json.loads(Path(root).joinpath(*parts).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == MANIFEST_FORMAT else None
