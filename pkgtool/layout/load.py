"""Read and validate pkgtool.toml into a frozen Layout; every problem of a file is reported at once.

Each diagnostic names the file, the key path (``tree[2].mode``) and the line
(found by layout.tomlpos, since tomllib gives none).  ``[distro.<id>]``
tables are merged into the top level and each variant is validated fully;
a problem written once is reported once, at the place it was written.

The work is split by what it holds: reading.py (bytes, limits, TOML),
grammar.py (keys and value grammars), fields.py (one value), tables.py
(arrays of tables and the whole map).  This module is the entry point.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..diagnostics import Diagnostic, sort_key
from ..errors import LayoutError
from ..model import Layout
from .grammar import NAME_RE
from .reading import MAP_NAME, MAX_MAP_BYTES, _map_file, _parse, display_path
from .tables import Validator

__all__ = ["MAP_NAME", "MAX_MAP_BYTES", "NAME_RE", "display_path", "load_layout"]


def _unique(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    out = []
    for d in diags:
        if d not in seen:
            seen.add(d)
            out.append(d)
    return sorted(out, key=sort_key)


def load_layout(project_dir: str | Path) -> Layout:
    """Read ``<project_dir>/pkgtool.toml`` (or that file itself) and validate every key.

    Raises LayoutError with one diagnostic per problem found in the file.
    """
    source = _map_file(project_dir).absolute()
    display = display_path(source)
    doc, positions = _parse(source, display)
    validator = Validator(display, positions)
    layout = validator.layout(doc, source.parent, source)
    diags = _unique(validator.diags)
    if diags or layout is None:
        count = len(diags)
        raise LayoutError(f"{display}: {count} problem{'s' if count != 1 else ''} in the layout map", diagnostics=diags)
    return layout
