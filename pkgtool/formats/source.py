"""Write the distro's source package of a map (a .src.rpm; a .dsc with its tarballs and _source.changes)."""

from __future__ import annotations

from pathlib import Path

from ..errors import ArtifactError
from ..model import Resolved
from . import format_for
from .build import Artifact, describe


def check_file_name_parts(resolved: Resolved) -> None:
    """The map's names and version become file names in out_dir: each must stay one plain path component.

    The loader's grammar already keeps '/' out; this holds the line for a map built in code
    (or a grammar loosened later), before anything is written.
    """
    pkg = resolved.package
    parts = {"name": pkg.name, "source": pkg.source or pkg.name, "version": pkg.version, "release": pkg.release}
    for key, value in parts.items():
        if not value or "/" in value or "\0" in value or ".." in value or value.startswith("."):
            raise ArtifactError(
                f"package.{key} {value!r} cannot name a source package file (a '/', '..' or leading '.')",
                hint="use letters, digits and . + ~ - in names and versions",
            )


def source_package(resolved: Resolved, out_dir: Path) -> list[Artifact]:
    """Written natively, no distro tool needed; what a build service (COPR, Launchpad) takes as an upload."""
    check_file_name_parts(resolved)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = format_for(resolved.profile.family).source_package(resolved, out_dir)
    return [describe(p, resolved.profile.id, "native") for p in paths]
