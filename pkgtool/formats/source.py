"""Write the distro's source package of a map (a .src.rpm; a .dsc with its tarballs and _source.changes)."""

from __future__ import annotations

from pathlib import Path

from ..model import Resolved
from . import format_for
from .build import Artifact, describe


def source_package(resolved: Resolved, out_dir: Path) -> list[Artifact]:
    """Written natively, no distro tool needed; what a build service (COPR, Launchpad) takes as an upload."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = format_for(resolved.profile.family).source_package(resolved, out_dir)
    return [describe(p, resolved.profile.id, "native") for p in paths]
