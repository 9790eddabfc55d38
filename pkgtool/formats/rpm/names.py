"""Names every RPM backend gives a package: arch, release with the dist tag, file name."""

from __future__ import annotations

import platform

from ...model import Resolved


def rpm_arch(resolved: Resolved) -> str:
    arch = resolved.package.arch
    return platform.machine() if arch == "native" else arch


def rpm_release(resolved: Resolved) -> str:
    """The release as rpmbuild writes it for ``Release: N%{?dist}``."""
    return resolved.package.release + resolved.profile.dist_tag


def rpm_file_name(resolved: Resolved) -> str:
    pkg = resolved.package
    return f"{pkg.name}-{pkg.version}-{rpm_release(resolved)}.{rpm_arch(resolved)}.rpm"
