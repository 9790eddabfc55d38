"""Write the source package of a map: whatever its format calls one (RPM spec + tarball, debian/ tree + orig)."""

from __future__ import annotations

from pathlib import Path

from ..model import Resolved
from . import format_for


def generate(resolved: Resolved, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return format_for(resolved.profile.family).generate(resolved, out_dir)
