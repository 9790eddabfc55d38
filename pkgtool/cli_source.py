"""``pkgtool source``: the distro's own source package, written natively (cli.py registers it).

Thin over formats/source.py through the per-distro runner that generate and build use, so
several distros run in parallel and --json reports the same shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli_support import DirArg, DistroOpt, JsonOpt, run_per_distro

SourceOutOpt = Annotated[
    Path, typer.Option("--out", "-o", help="Output directory (per-distro subdirectories for several distros).")
]
SourceJobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", help="Parallel processes for several distros (default: cores).")
]


def source(
    directory: DirArg = Path("."),
    distro: DistroOpt = None,
    out: SourceOutOpt = Path("dist"),
    as_json: JsonOpt = False,
    jobs: SourceJobsOpt = None,
) -> None:
    """Write the distro's source package: a .src.rpm, or .dsc + orig/debian tarballs + _source.changes; no distro tools.

    Example: pkgtool source examples/convirt --distro el9,ubuntu --out srcpkg/
    """
    run_per_distro("source", directory, distro, out, "native", None, as_json, jobs)
