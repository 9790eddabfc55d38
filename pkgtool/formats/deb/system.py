"""Build a .deb the distro's way: dpkg-buildpackage -us -uc on the generated debian/ tree."""

from __future__ import annotations

import os
from pathlib import Path

from ...atomic import temp_dir
from ...model import Resolved
from ..tools import DEFAULT_TIMEOUT, run_tool
from .debian_dir import generate_deb, tree_name

# What dpkg-buildpackage leaves beside the tree; everything else in the work dir is scratch.
_RESULT_SUFFIXES = (".deb", ".dsc", ".tar.gz", ".tar.xz", ".tar.zst", ".tar.bz2", ".buildinfo", ".changes")


def build_deb_system(resolved: Resolved, out_dir: Path, timeout: float | None = None) -> list[Path]:
    """Generate the source package in a private temp dir, build it, move the results to ``out_dir``.

    Returns the .deb first, then the source package files (.dsc, tarballs),
    .buildinfo and .changes.  A failing build raises ToolError holding the
    command and its whole output.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with temp_dir(prefix=".pkgtool-deb-", dir=out_dir) as work:
        work_dir = Path(work)
        generate_deb(resolved, work_dir)
        env = {
            # Every date in the build (changelog, mtimes, buildinfo) from the map, never the clock.
            "SOURCE_DATE_EPOCH": str(resolved.source_date_epoch),
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
            # The caller's options (nocheck, parallel=, notrimdch...) would change what is built.
            "DEB_BUILD_OPTIONS": "",
            "DEB_BUILD_PROFILES": "",
        }
        run_tool(
            ["dpkg-buildpackage", "-us", "-uc"],
            cwd=work_dir / tree_name(resolved),
            env=env,
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        )
        results = sorted(
            (p for p in work_dir.iterdir() if p.is_file() and p.name.endswith(_RESULT_SUFFIXES)),
            key=lambda p: (not p.name.endswith(".deb"), p.name),
        )
        moved = []
        for p in results:
            dest = out_dir / p.name
            # Same filesystem (the work dir is inside out_dir): a rename is atomic.
            os.replace(p, dest)
            moved.append(dest)
    return moved
