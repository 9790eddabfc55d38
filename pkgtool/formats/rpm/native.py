"""The native backend: pkgtool's own streaming RPM v4 writer (rpm_writer), no rpmbuild needed.

It writes what the generated spec makes rpmbuild write: the same paths,
modes, owners, link targets (relative), config/doc/license flags,
relations, scriptlets (the same bodies from render.scripts) and changelog,
so the backends can be compared entry by entry.  File content comes
from pkgtool.sources.staged_sources, i.e. with the map's patches applied.
"""

from __future__ import annotations

from pathlib import Path

from ...model import Resolved
from ...sources.staging import staged_sources
from .bytecode import compile_bytecode
from .names import rpm_arch, rpm_file_name, rpm_release
from .shebangs import mangle_shebangs
from .writer import write_rpm

__all__ = ["build_rpm", "rpm_arch", "rpm_file_name", "rpm_release"]


def build_rpm(resolved: Resolved, out_dir: Path) -> Path:
    """Write NAME-VERSION-RELEASE.ARCH.rpm into out_dir (atomically); byte-identical for equal input."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with (
        staged_sources(resolved) as src_dir,
        mangle_shebangs(resolved, Path(src_dir)) as mangled,
        compile_bytecode(mangled, Path(src_dir)) as with_pyc,
    ):
        return write_rpm(with_pyc, Path(src_dir), out_dir / rpm_file_name(resolved))
