"""`pkgtool init` in a tree that already has files: a map of what is there, no sample files added.

Where a directory goes comes from the kind's own scaffold map (templates/init/<kind>/):
each of its [[file]]/[[tree]] entries says where its first source directory is deployed
(vdsm-hook: ``hooks/`` -> ``{libexecdir}/vdsm/hooks/``; app: ``bin/`` -> ``{bindir}/``, ``etc/``
-> ``{sysconfdir}/`` as config).  Everything else goes under ``{datadir}/NAME/``.  Modes are
taken from the files as they are; a script with a ``#!`` line is made executable in the map.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .layout.load import MAP_NAME

# Not package content: version control, caches, build output.
_SKIP_DIRS = frozenset({"__pycache__", "dist", "build", "node_modules"})
_SKIP_SUFFIXES = (".pyc", ".pyo", ".swp", "~")


@dataclass(frozen=True)
class Place:
    """Where a top-level source directory is deployed, as the kind's scaffold map says."""

    dst: str  # a destination directory, with profile placeholders
    config: object = None  # the scaffold entry's `config` (None: not a config file)
    as_tree: bool = False  # the scaffold deploys it as a [[tree]] (a directory of its own)


def places(scaffold_doc: dict) -> dict[str, Place]:
    """First source directory -> its Place, from the rendered scaffold map's [[file]] and [[tree]] entries."""
    out: dict[str, Place] = {}
    for table, as_tree in (("file", False), ("tree", True)):
        for item in scaffold_doc.get(table, []):
            src, dst = PurePosixPath(item["src"]), item["dst"].rstrip("/")
            if len(src.parts) < 2 and not as_tree:
                continue  # a file at the top says nothing about a directory
            rest = "/".join(src.parts[1:])
            if rest and not dst.endswith("/" + rest):
                continue
            prefix = dst[: len(dst) - len(rest)].rstrip("/") if rest else dst
            out.setdefault(src.parts[0], Place(prefix, item.get("config"), as_tree))
    return out


def _mode(path: Path) -> int:
    mode = stat.S_IMODE(path.lstat().st_mode)
    with open(path, "rb") as fh:
        shebang = fh.read(2) == b"#!"
    if shebang and not mode & 0o111:
        mode |= (mode & 0o444) >> 2  # executable wherever it is readable: 0644 -> 0755
    return mode


def present_files(directory: Path) -> list[str]:
    """The regular files of the tree, relative and sorted; hidden ones, caches and the map itself left out."""
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in files:
            p = Path(root) / name
            rel = p.relative_to(directory).as_posix()
            if name.startswith(".") or name.endswith(_SKIP_SUFFIXES) or rel == MAP_NAME or not p.is_file():
                continue
            if p.is_symlink():
                continue  # a link's target may be outside the tree; map it by hand with [[symlink]]
            found.append(rel)
    return sorted(found)


def _s(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def entries_text(directory: Path, name: str, scaffold_doc: dict, script_files: set[str]) -> str:
    """The [[tree]] and [[file]] tables for the files present."""
    where = places(scaffold_doc)
    default = Place(f"{{datadir}}/{name}", None, True)
    groups: dict[str, list[str]] = {}
    for rel in present_files(directory):
        if rel in script_files:
            continue
        top = rel.split("/", 1)[0] if "/" in rel else ""
        groups.setdefault(top, []).append(rel)
    out: list[str] = []
    for top, files in groups.items():
        place = where.get(top, default) if top else default
        modes = {_mode(directory / f) for f in files}
        base = place.dst if top in where else f"{default.dst}/{top}" if top else default.dst
        if top and place.as_tree and len(modes) == 1 and place.config is None:
            out.append(f'[[tree]]\nsrc = {_s(top + "/")}\ndst = {_s(base + "/")}\nmode = "{modes.pop():04o}"\n')
            continue
        for rel in files:
            sub = rel.split("/", 1)[1] if top else rel
            text = f'[[file]]\nsrc = {_s(rel)}\ndst = {_s(base + "/" + sub)}\nmode = "{_mode(directory / rel):04o}"\n'
            if place.config is not None and top in where:
                text += f"config = {_s(place.config) if isinstance(place.config, str) else 'true'}\n"
            out.append(text)
    return "\n".join(out)


def adopted_map(directory: Path, name: str, scaffold_text: str, header: str) -> str:
    """The whole map: the scaffold's header and [requires], the scripts present, the files present."""
    doc = tomllib.loads(scaffold_text)
    parts = [header.rstrip("\n") + "\n"]
    requires = doc.get("requires") or {}
    if requires:
        parts.append("[requires]\n" + "".join(f"{_s(k)} = {_s(v)}\n" for k, v in requires.items()))
    scripts = {k: v for k, v in (doc.get("scripts") or {}).items() if (directory / v).is_file()}
    if scripts:
        parts.append("[scripts]\n" + "".join(f"{k} = {_s(v)}\n" for k, v in scripts.items()))
    parts.append(entries_text(directory, name, doc, set(scripts.values())))
    return "\n".join(p for p in parts if p).rstrip("\n") + "\n"
