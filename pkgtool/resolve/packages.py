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
from collections.abc import Sequence

from ..model import Entry, Layout, Package, SubPackage
from .claims import claimant


def sub_layout(layout: Layout, sub: SubPackage) -> Layout:
    """The layout as seen from one sub-package: its own [package], relations and scripts."""
    package: Package = dataclasses.replace(
        layout.package, name=sub.name, summary=sub.summary, description=sub.description, arch=sub.arch, kind=sub.kind
    )
    return dataclasses.replace(
        layout, package=package, relations=sub.relations, scripts=sub.scripts, subpackages=(), variants={}
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
