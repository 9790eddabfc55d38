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
import re
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
    tree_depth: int = 0  # a [[tree]] per directory this deep (devstack/ 1, plugins/GROUP/ 2); 0: one [[file]] each


def places(scaffold_doc: dict) -> dict[str, Place]:
    """First source directory -> its Place, from the rendered scaffold map's [[file]] and [[tree]] entries."""
    out: dict[str, Place] = {}
    for table in ("file", "tree"):
        for item in scaffold_doc.get(table, []):
            src, dst = PurePosixPath(item["src"]), item["dst"].rstrip("/")
            if len(src.parts) < 2 and table == "file":
                continue  # a file at the top says nothing about a directory
            rest = "/".join(src.parts[1:])
            if rest and not dst.endswith("/" + rest):
                continue
            prefix = dst[: len(dst) - len(rest)].rstrip("/") if rest else dst
            depth = len(src.parts) if table == "tree" else 0
            out.setdefault(src.parts[0], Place(prefix, item.get("config"), depth))
    return out


def _mode(path: Path) -> int:
    mode = stat.S_IMODE(path.lstat().st_mode)
    try:
        with open(path, "rb") as fh:
            shebang = fh.read(2) == b"#!"
    except OSError:  # unreadable here: its mode as it is; lint and the build say what is wrong
        shebang = False
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


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _s(name)


def _file(rel: str, dst: str, mode: int, config: object = None) -> str:
    text = f'[[file]]\nsrc = {_s(rel)}\ndst = {_s(dst)}\nmode = "{mode:04o}"\n'
    if config is not None:
        text += f"config = {_s(config) if isinstance(config, str) else 'true'}\n"
    return text


def entries_text(directory: Path, name: str, scaffold_doc: dict, script_files: set[str]) -> str:
    """The [[tree]] and [[file]] tables for the files present, in the order of their paths."""
    where = places(scaffold_doc)
    private = f"{{datadir}}/{name}"
    trees: dict[str, tuple[str, list[str]]] = {}  # source directory -> (destination, its files)
    out: dict[str, str] = {}  # the first source path of an entry -> its table
    for rel in present_files(directory):
        if rel in script_files:
            continue
        parts = rel.split("/")
        place = where.get(parts[0]) if len(parts) > 1 else None
        if place is None:  # the package's own data: under {datadir}/NAME/
            place = Place(f"{private}/{parts[0]}", None, 1) if len(parts) > 1 else Place(private)
            parts = ["", *parts] if len(parts) == 1 else parts
        depth = place.tree_depth
        if depth and len(parts) > depth:
            src_dir = "/".join(parts[:depth])
            trees.setdefault(src_dir, ("/".join([place.dst, *parts[1:depth]]), []))[1].append(rel)
        else:
            dst = "/".join([place.dst, *parts[1:]])
            out[rel] = _file(rel, dst, _mode(directory / rel), place.config)
    for src_dir, (dst, files) in trees.items():
        modes = {_mode(directory / f) for f in files}
        if len(modes) == 1:
            out[src_dir + "/"] = (
                f'[[tree]]\nsrc = {_s(src_dir + "/")}\ndst = {_s(dst + "/")}\nmode = "{modes.pop():04o}"\n'
            )
        else:  # one mode per tree: files of several modes are listed one by one
            for rel in files:
                out[rel] = _file(rel, dst + "/" + rel[len(src_dir) + 1 :], _mode(directory / rel))
    return "\n".join(out[k] for k in sorted(out))


def adopted_map(directory: Path, name: str, scaffold_text: str, header: str) -> str:
    """The whole map: the scaffold's header and [requires], the scripts present, the files present."""
    doc = tomllib.loads(scaffold_text)
    parts = [header.rstrip("\n") + "\n"]
    requires = doc.get("requires") or {}
    if requires:
        parts.append("[requires]\n" + "".join(f"{_key(k)} = {_s(v)}\n" for k, v in requires.items()))
    scripts = {k: v for k, v in (doc.get("scripts") or {}).items() if (directory / v).is_file()}
    if scripts:
        parts.append("[scripts]\n" + "".join(f"{k} = {_s(v)}\n" for k, v in scripts.items()))
    parts.append(entries_text(directory, name, doc, set(scripts.values())))
    return "\n".join(p for p in parts if p).rstrip("\n") + "\n"
