"""Source-package writers: RPM spec + tarball, or debian/ tree + orig tarball, chosen by the profile's family."""

from __future__ import annotations

import importlib
from pathlib import Path

from ..model import Family, Resolved

_GENERATORS: dict[Family, tuple[str, str]] = {
    Family.RPM: ("pkgtool.formats.rpm.spec", "generate_rpm"),
    Family.DEB: ("pkgtool.formats.deb.debian_dir", "generate_deb"),
}


def generate(resolved: Resolved, out_dir: Path) -> list[Path]:
    module, func = _GENERATORS[resolved.profile.family]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return list(getattr(importlib.import_module(module), func)(resolved, out_dir))
