"""The seam between the stages and the package formats: one PackageFormat per family.

Each format (formats/rpm/, formats/deb/) implements this class once, in its
package's ``__init__``, and registers an instance there; generate, build, read
and verify then ask the registry for the format of a profile's family and
never name a family themselves.  A format says:

- what its source package is (``generate``: spec + tarball, debian/ + orig) and
  how it is written as the distro's own upload (``source_package``: .src.rpm, .dsc);
- which backends write its binary package (``builders``), all called the same
  way: ``builder(resolved, out_dir, BuildOptions) -> written paths``;
- how to recognise and read one of its artifacts (``sniff``, ``read``);
- what verify must expect of an artifact beyond the map's entries
  (``implied_relations``, ``releases``, ``noarch``, ``config_difference``,
  ``owner_set_by_script``).

Methods import their implementation when called, so registering a format costs
nothing at start-up (no Jinja2, no compressors, no readers).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..errors import PkgtoolError
from ..model import ArtifactInfo, Entry, Family, Observed, Resolved


@dataclass(frozen=True)
class BuildOptions:
    """What every backend is given besides the map; a backend ignores what it has no use for."""

    timeout: float | None = None  # seconds before an external tool is stopped; None: its default


# builder(resolved, out_dir, options) -> the files written into out_dir, the binary package first
Builder = Callable[[Resolved, Path, BuildOptions], list[Path]]

# The (operator, version) pairs that satisfy one expected relation; the first is shown in a report.
Choices = tuple[tuple[str, str], ...]


class PackageFormat(ABC):
    family: ClassVar[Family]
    suffix: ClassVar[str]  # of its binary package file: '.rpm', '.deb'
    noarch: ClassVar[str]  # how its binary package names the map's 'noarch'
    # Map relation kinds its packages cannot tell apart -> the kind its reader reports them as.
    folded_relations: ClassVar[Mapping[str, str]] = {}

    # ---------------------------------------------------------------- outputs

    @abstractmethod
    def generate(self, resolved: Resolved, out_dir: Path) -> list[Path]:
        """Write the source package into ``out_dir`` (which exists); return its top-level paths."""

    @abstractmethod
    def source_package(self, resolved: Resolved, out_dir: Path) -> list[Path]:
        """Write the distro's source package (.src.rpm; .dsc + tarballs + _source.changes) natively; main file first."""

    @abstractmethod
    def builders(self) -> Mapping[str, Builder]:
        """Backend name -> builder of the binary package, in the order they are offered."""

    # ---------------------------------------------------------------- artifacts

    @abstractmethod
    def sniff(self, head: bytes) -> bool:
        """Whether ``head`` (the first 8 bytes of a file) starts one of this format's packages."""

    @abstractmethod
    def read(self, path: Path, *, binary_only: bool = False) -> ArtifactInfo:
        """Read one of this format's packages; ``binary_only`` refuses a source package (ArtifactError)."""

    # ---------------------------------------------------------------- what verify expects

    @abstractmethod
    def implied_relations(self, resolved: Resolved) -> dict[str, dict[str, Choices]]:
        """Relation kind -> name -> choices the format derives by itself (from [replaces]), beyond the map's."""

    @abstractmethod
    def releases(self, resolved: Resolved) -> frozenset[str]:
        """The release strings a binary package of ``resolved`` may carry."""

    @abstractmethod
    def config_difference(self, resolved: Resolved, entry: Entry, observed: Observed) -> tuple[str, str] | None:
        """(expected, actual) when a regular file's config marking in the package is not the map's."""

    def rewrites_shebangs(self, resolved: Resolved) -> bool:
        """Whether the format's build rewrites #!/usr/bin/env lines of executables (RPM: brp-mangle-shebangs)."""
        return False

    def owner_set_by_script(self, path: str, scripts: Mapping[str, str]) -> bool:
        """Whether the package's scripts, not its payload, give ``path`` its owner (payload then says root)."""
        return False


_FORMATS: dict[Family, PackageFormat] = {}


def register(fmt: PackageFormat) -> PackageFormat:
    """Called by each format package for itself; the order of registration is the order formats are listed."""
    _FORMATS[fmt.family] = fmt
    return fmt


def format_for(family: Family) -> PackageFormat:
    try:
        return _FORMATS[family]
    except KeyError:
        raise PkgtoolError(f"no package format is registered for the {family} family") from None


def all_formats() -> tuple[PackageFormat, ...]:
    return tuple(_FORMATS.values())


def backends() -> tuple[str, ...]:
    """Every backend name some format offers, in order of first offer."""
    return tuple(dict.fromkeys(name for fmt in _FORMATS.values() for name in fmt.builders()))
