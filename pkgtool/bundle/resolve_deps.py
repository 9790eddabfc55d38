"""Which RPMs a bundle carries, and whether every Requires of them is met by the image or the bundle.

The image is described by a text file (``--image-packages``): the output of ``rpm -qa --provides``
on the Node image, one capability a line (``NAME``, ``NAME = EVR`` or ``NAME(...)``), optionally
followed by ``rpm -qa --list`` output (lines starting with ``/``) so that file requirements such as
``/bin/sh`` are met too.  A requirement is met by name; versions are not compared (docs/bundle.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ResolveError, UsageError
from ..formats.rpm import header as rh
from ..formats.rpm.reader import read_header, read_rpm
from ..model import ArtifactInfo

MAX_IMAGE_LIST = 64 << 20  # rpm -qa --provides of a whole distribution is a few MiB


@dataclass(frozen=True)
class RpmFacts:
    path: Path
    name: str
    info: ArtifactInfo  # its entries, for the persistence warnings and verify --root
    requires: tuple[str, ...]  # capability names, rpmlib() ones left out
    provides: frozenset[str]  # capability names, its own name and its file paths


def rpm_facts(path: Path) -> RpmFacts:
    header = read_header(path)
    info = read_rpm(path)
    requires = tuple(
        sorted(
            {
                d.name
                for d in header.dependencies("requires")
                if not (d.flags & rh.SENSE_RPMLIB or d.name.startswith("rpmlib("))
            }
        )
    )
    provides = {d.name for d in header.dependencies("provides")} | {info.name}
    provides |= {e.path for e in info.entries}
    return RpmFacts(Path(path), info.name, info, requires, frozenset(provides))


def read_image_provides(path: Path) -> frozenset[str]:
    """Capability names (and file paths) of the image, from ``rpm -qa --provides`` [+ ``--list``] output."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_IMAGE_LIST + 1)
    except OSError as exc:
        raise UsageError(f"--image-packages {path}: cannot read: {exc.strerror}") from None
    if len(data) > MAX_IMAGE_LIST:
        raise UsageError(f"--image-packages {path}: larger than {MAX_IMAGE_LIST} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"--image-packages {path}: not UTF-8 (byte {exc.start})") from None
    names = set()
    for line in text.splitlines():
        line = line.strip()
        if line:
            # 'NAME = 1.0-1', 'NAME(x86-64) = 1.0', 'libc.so.6()(64bit)': the name is before any ' '
            names.add(line.split(" ", 1)[0])
    return frozenset(names)


@dataclass(frozen=True)
class DependencyPlan:
    carried: tuple[RpmFacts, ...]  # the map's RPMs, then the --with ones the image lacks
    left_out: tuple[str, ...]  # --with RPMs the image already has (file names)


def plan_dependencies(
    own: Sequence[RpmFacts], extra: Iterable[RpmFacts], image: frozenset[str] | None
) -> DependencyPlan:
    """Leave out --with RPMs the image has; fail naming a Requires neither the image nor the bundle meets."""
    extra = list(extra)
    if image is None:  # nothing known about the image: carry everything, check nothing
        return DependencyPlan((*own, *extra), ())
    kept = [r for r in extra if r.name not in image]
    left_out = tuple(r.path.name for r in extra if r.name in image)
    carried = (*own, *kept)
    bundled = frozenset().union(*(r.provides for r in carried))
    unmet = [(r, req) for r in carried for req in r.requires if req not in image and req not in bundled]
    if unmet:
        lines = [f"{r.path.name} requires {req}" for r, req in unmet]
        raise ResolveError(
            f"{lines[0]}, which neither the Node image nor the bundle provides"
            + (f" (and {len(lines) - 1} more: {'; '.join(lines[1:6])})" if len(lines) > 1 else ""),
            hint="add the RPM that provides it with --with FILE.rpm",
        )
    return DependencyPlan(carried, left_out)
