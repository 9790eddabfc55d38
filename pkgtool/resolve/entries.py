"""The pieces entries are made of: Entry templates, path rules and limits, shared by the resolver's parts."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, fields
from operator import attrgetter
from pathlib import Path

from ..model import (
    Entry,
    EntryKind,
)

# '{name}' is a placeholder; '{{' and '}}' are literal braces.
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_]*)\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SRC_MAGIC = re.compile(r"[*?\[]")

# Roles of explicit entries, for conflict rules: a [[dir]] beats a directory a tree makes.
_ROLE_DIR = "dir"
_ROLE_TREE_DIR = "tree-dir"
_ROLE_IMPLICIT = "implicit"


_NO_RULES: frozenset[str] = frozenset()  # shared by the many entries that waive nothing
_new_entry = object.__new__
_by_name = attrgetter("name")

# Every field of Entry with its default; the fields without one (path, kind, mode) are always given.
_ENTRY_DEFAULTS: dict[str, object] = {f.name: None if f.default is MISSING else f.default for f in fields(Entry)}


def _template(**values: object) -> dict[str, object]:
    """Every field of an Entry: the defaults, overridden by ``values``."""
    return {**_ENTRY_DEFAULTS, **values}


def _entry(base: Mapping[str, object], /, **values: object) -> Entry:
    # Entries are built and adjusted (attrs, auto-config) here, then handed out frozen: filling the
    # instance __dict__ directly skips the frozen __init__'s 14 object.__setattr__ calls, and building
    # each Entry once (no mutable draft copied at the end) halves the objects the GC has to scan.
    entry = _new_entry(Entry)
    fields_ = entry.__dict__
    fields_.update(base)
    fields_.update(values)
    return entry


def _set(entry: Entry, **values: object) -> None:
    """Change an entry still private to the resolver (attrs, auto-config)."""
    entry.__dict__.update(values)


def _with_allow(rules: Sequence[str]) -> frozenset[str]:
    return frozenset(rules) if rules else _NO_RULES


_FILE = _template(kind=EntryKind.FILE)
_DIR = _template(kind=EntryKind.DIR)
_SYMLINK = _template(kind=EntryKind.SYMLINK, mode=0o777)
_IMPLICIT_DIR = _template(kind=EntryKind.DIR, mode=0o755, implicit=True)


def _glob(pattern: str, root_dir: str | Path) -> list[str]:
    import glob  # deferred: only a [[file]] with a pattern needs it

    return glob.glob(pattern, root_dir=root_dir)


# Linux's limits for a path (with its terminating NUL) and for one name in it.
PATH_MAX = 4096
NAME_MAX = 255


def unsafe_reason(path: str) -> str | None:
    """Why a deployed path is unsafe, or None: absolute, normalised, no control characters, not '/'."""
    if _CONTROL.search(path):
        return "contains a control character (NUL, newline, ...)"
    if not path.startswith("/"):
        return "is not absolute"
    if path == "/":
        return "is '/' itself"
    segments = path[1:].split("/")
    if "" in segments:
        return "has an empty segment ('//' or a trailing '/')"
    if "." in segments or ".." in segments:
        return "has a '.' or '..' segment"
    return None
