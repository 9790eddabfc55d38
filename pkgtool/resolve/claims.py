"""Which package a map item belongs to, from the origin its entries carry."""

from __future__ import annotations

from ..model import Layout


def claimant(layout: Layout, origin: str) -> str:
    """The package ('' for the main one) of the map item an origin names (``file[3] attr[0]`` -> files[3])."""
    head = origin.split(" ", 1)[0]
    table, _, index = head.partition("[")
    specs = {"tree": layout.trees, "file": layout.files, "dir": layout.dirs, "symlink": layout.symlinks}.get(table)
    if specs is None or not index.endswith("]"):
        return ""
    i = int(index[:-1])
    return specs[i].package if i < len(specs) else ""
