"""Everything RPM: names, the spec renderer, scriptlets, the native writer (header, payload), rpmbuild, the reader.

``RpmFormat`` is RPM's side of the seam (formats/base.py); its methods import
the modules that do the work only when called.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...errors import ArtifactError
from ...model import ArtifactInfo, Entry, Family, Observed, Resolved
from ..base import Builder, BuildOptions, Choices, PackageFormat, register

MAGIC = b"\xed\xab\xee\xdb"  # the lead's first four bytes


class RpmFormat(PackageFormat):
    family = Family.RPM
    suffix = ".rpm"
    noarch = "noarch"

    def generate(self, resolved: Resolved, out_dir: Path) -> list[Path]:
        from .spec import generate_rpm

        return list(generate_rpm(resolved, out_dir))

    def source_package(self, resolved: Resolved, out_dir: Path) -> list[Path]:
        from .srpm import write_srpm

        return [write_srpm(resolved, out_dir)]

    def builders(self) -> Mapping[str, Builder]:
        return {"native": self._build_native, "system": self._build_system}

    @staticmethod
    def _build_native(resolved: Resolved, out_dir: Path, options: BuildOptions) -> list[Path]:
        from .native import build_rpm

        # One .rpm per binary package of the map, the main one first.
        return [build_rpm(p, out_dir) for p in resolved.packages]

    @staticmethod
    def _build_system(resolved: Resolved, out_dir: Path, options: BuildOptions) -> list[Path]:
        from .system import build_rpm_system

        return build_rpm_system(resolved, out_dir, timeout=options.timeout)

    def sniff(self, head: bytes) -> bool:
        return head[:4] == MAGIC

    def read(self, path: Path, *, binary_only: bool = False) -> ArtifactInfo:
        from .reader import is_source_rpm, read_rpm

        if binary_only and is_source_rpm(path):
            raise ArtifactError(f"{path}: a source package (.src.rpm); verify the binary .rpm built from it")
        return read_rpm(path)

    def implied_relations(self, resolved: Resolved) -> dict[str, dict[str, Choices]]:
        """The Provides that [replaces] implies, with or without the dist tag (releases() accepts either)."""
        from .facts import implied_provides, package_evr

        bare = implied_provides(resolved, package_evr(resolved, dist=False))
        return {
            "provides": {
                full.name: tuple(dict.fromkeys((("=", full.version), ("=", plain.version))))
                for full, plain in zip(implied_provides(resolved), bare, strict=True)
            }
        }

    def releases(self, resolved: Resolved) -> frozenset[str]:
        # rpmbuild writes Release: N%{?dist}; a package built without the dist macro is accepted too.
        release = resolved.package.release
        return frozenset((release, release + resolved.profile.dist_tag))

    def rewrites_shebangs(self, resolved: Resolved) -> bool:
        from .shebangs import mangles

        return mangles(resolved)

    def config_difference(self, resolved: Resolved, entry: Entry, observed: Observed) -> tuple[str, str] | None:
        # RPM carries the map's marking itself: %config or %config(noreplace).
        if observed.config is entry.config:
            return None
        return entry.config.value, observed.config.value


register(RpmFormat())
