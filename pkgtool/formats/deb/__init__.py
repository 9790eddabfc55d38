"""Everything Debian: facts, the debian/ tree renderer, maintainer scripts, the native writer, dpkg-buildpackage, the reader.

``DebFormat`` is Debian's side of the seam (formats/base.py); its methods import
the modules that do the work only when called.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...model import SCRIPT_REQUIRES, ArtifactInfo, ConfigKind, Entry, Family, Observed, Resolved
from ..base import Builder, BuildOptions, Choices, PackageFormat, register

MAGIC = b"!<arch>\n"  # an ar archive


class DebFormat(PackageFormat):
    family = Family.DEB
    suffix = ".deb"
    noarch = "all"
    # Requires(pre) ... become Pre-Depends or Depends, which the reader reports as requires.
    folded_relations = dict.fromkeys(SCRIPT_REQUIRES, "requires")

    def generate(self, resolved: Resolved, out_dir: Path) -> list[Path]:
        from .debian_dir import generate_deb

        return list(generate_deb(resolved, out_dir))

    def source_package(self, resolved: Resolved, out_dir: Path) -> list[Path]:
        from .dsc import write_source_package

        return write_source_package(resolved, out_dir)

    def builders(self) -> Mapping[str, Builder]:
        return {"native": self._build_native, "system": self._build_system}

    @staticmethod
    def _build_native(resolved: Resolved, out_dir: Path, options: BuildOptions) -> list[Path]:
        from .native import build_deb

        # One .deb per binary package of the map, the main one first.
        return [build_deb(p, out_dir) for p in resolved.packages]

    @staticmethod
    def _build_system(resolved: Resolved, out_dir: Path, options: BuildOptions) -> list[Path]:
        from .system import build_deb_system

        return build_deb_system(resolved, out_dir, timeout=options.timeout)

    def sniff(self, head: bytes) -> bool:
        return head == MAGIC

    def read(self, path: Path, *, binary_only: bool = False) -> ArtifactInfo:
        from .reader import read_deb

        return read_deb(path)  # a .deb is always a binary package

    def implied_relations(self, resolved: Resolved) -> dict[str, dict[str, Choices]]:
        """The Breaks that [replaces] implies (Policy 7.6.1), and python3:any for Python modules (dh_python3)."""
        from .facts import implied_breaks
        from .python import python_depends

        return {
            "breaks": {r.name: ((r.op, r.version),) for r in implied_breaks(resolved)},
            "requires": {r.name: (("", ""),) for r in python_depends(resolved)},
        }

    def releases(self, resolved: Resolved) -> frozenset[str]:
        return frozenset((resolved.package.release,))

    def config_difference(self, resolved: Resolved, entry: Entry, observed: Observed) -> tuple[str, str] | None:
        # Debian knows only conffiles: the map's config files and every file under the profile's auto dirs.
        from .facts import is_conffile

        want, have = is_conffile(resolved, entry), observed.config is not ConfigKind.NONE
        if want == have:
            return None
        return ("conffile" if want else "none"), ("conffile" if have else "none")

    def owner_set_by_script(self, path: str, scripts: Mapping[str, str]) -> bool:
        # The payload is root:root; other owners are dpkg-statoverride calls in postinst.
        return any("dpkg-statoverride" in text and path in text for text in scripts.values())


register(DebFormat())
