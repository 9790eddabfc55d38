"""Sharing the resolved entries out between the main package and its [[subpackage]]s.

Every explicit entry belongs to the package its map item names (`package =`,
else the main one).  Each package also carries the parent directories its
entries need: a parent made by another package's item is needed but not
owned; an implicit parent is owned by the main package when the main package
has something below it, else by every sub-package below it (rpm and dpkg
both let several packages own one directory), and the others need it only.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from ..model import Entry, Layout, Package, Profile, ResolvedRelation, SubPackage
from .claims import claimant


def sub_layout(layout: Layout, sub: SubPackage) -> Layout:
    """The layout as seen from one sub-package: its own [package], relations and scripts."""
    package: Package = dataclasses.replace(
        layout.package,
        name=sub.name,
        summary=sub.summary,
        description=sub.description,
        arch=sub.arch,
        kind=sub.kind,
        source=layout.package.name,
    )
    return dataclasses.replace(
        layout,
        package=package,
        relations=sub.relations,
        scripts=sub.scripts,
        subpackages=(),
        units=(),
        tmpfiles=(),
        users=(),
        groups=(),
        variants={},
    )


def _needed(entry: Entry) -> Entry:
    return dataclasses.replace(entry, owned=False, implicit=True)


def share_out(layout: Layout, entries: Sequence[Entry]) -> dict[str, tuple[Entry, ...]]:
    """Package name ('' for the main one) -> its entries, sorted by path, parents included."""
    names = ["", *(s.name for s in layout.subpackages)]
    explicit = {e.path: claimant(layout, e.origin) for e in entries if not e.implicit}
    needs: dict[str, set[str]] = {}
    for path, pkg in explicit.items():
        parent = path.rpartition("/")[0]
        while parent:
            seen = needs.setdefault(parent, set())
            if pkg in seen:
                break  # the parents above were walked for this package already
            seen.add(pkg)
            parent = parent.rpartition("/")[0]
    out: dict[str, list[Entry]] = {n: [] for n in names}
    for e in entries:
        if not e.implicit:
            owner = explicit[e.path]
            out[owner].append(e)
            for other in needs.get(e.path, ()):
                if other != owner:
                    out[other].append(_needed(e))
            continue
        needers = needs.get(e.path) or {claimant(layout, e.origin)}
        owners = {""} if "" in needers else needers
        for pkg in sorted(needers):
            out[pkg].append(e if pkg in owners else _needed(e))
    return {n: tuple(sorted(v, key=lambda e: e.path)) for n, v in out.items()}


_OWN = re.compile(r"\{(version|release|evr)\}")


def own_versions(rels: tuple[ResolvedRelation, ...], layout: Layout, profile: Profile) -> tuple[ResolvedRelation, ...]:
    """Relations on the package's own version: `version` gets the value, `own` keeps the text for the writers.

    The release is the one the binary packages carry (with the profile's dist tag, empty
    outside the RPM family), so native builds and verify compare literal values while the
    spec and debian/control write the macros and substvars that expand to the same.
    """
    if not any("{" in r.version for r in rels):
        return rels
    pkg = layout.package
    release = pkg.release + profile.dist_tag
    evr = f"{pkg.version}-{release}" if pkg.epoch is None else f"{pkg.epoch}:{pkg.version}-{release}"
    values = {"version": pkg.version, "release": release, "evr": evr}
    return tuple(
        dataclasses.replace(r, version=_OWN.sub(lambda m: values[m.group(1)], r.version), own=r.version)
        if "{" in r.version
        else r
        for r in rels
    )
