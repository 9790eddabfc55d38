"""[distro.<id>] variants: how an override joins the top-level map.

Schema 2 merges by identity: an array item with the same identity (``dst`` of a
[[file]]/[[tree]], ``path`` of a [[dir]]/[[symlink]]/[[attr]], ``file`` of a
[[patch]], ``version`` of a [[changelog]] entry) replaces its twin in place, new
items are added, ``remove = true`` on an item drops its twin; tables merge key by
key and ``false`` drops a key.  Schema 1 keeps its meaning: arrays and [scripts]
are replaced whole (package and relation tables already merged).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..model import RELATION_KINDS, Layout
from ..profiles import known_ids
from .fields import FieldReader, _Src
from .grammar import DISTRO_ID_RE, SECTION_KEYS, TOP_KEYS, _did_you_mean
from .tomlpos import KeyPath, format_path

# Array -> the key naming an item (its identity) and the Layout field it fills.
IDENTITY = {
    "tree": ("dst", "trees"),
    "file": ("dst", "files"),
    "dir": ("path", "dirs"),
    "symlink": ("path", "symlinks"),
    "attr": ("path", "attrs"),
    "patch": ("file", "patches"),
    "changelog": ("version", "changelog"),
}
# Tables whose keys a schema 2 override may drop with `false`.
DROPPABLE = (*RELATION_KINDS, "scripts", "vars")


@dataclass(frozen=True)
class _Merged:
    """A table merged key by key: its own path, and each key with the path it was written at."""

    path: KeyPath
    fields: dict[str, _Src]


@dataclass(frozen=True)
class _Items:
    """An array of tables whose items keep the paths they were written at."""

    path: KeyPath
    items: tuple[_Src, ...]


def raw_identity(kind: str, item: Mapping[str, Any]) -> str | None:
    key = IDENTITY[kind][0]
    value = item.get(key)
    if not isinstance(value, str):
        return None
    return _with_src(kind, value, item.get("src"))


def _with_src(kind: str, value: str, src: object) -> str:
    # A dst ending in '/' is a directory that many items fill: the file's own name completes it.
    if kind in ("tree", "file") and value.endswith("/") and isinstance(src, str):
        return value + src.rstrip("/").rpartition("/")[2]
    return value


def spec_identity(kind: str, spec: Any) -> str:
    key = IDENTITY[kind][0]
    return _with_src(kind, str(getattr(spec, key)), getattr(spec, "src", None))


class Variants(FieldReader):
    """The whole map with its variants; ``sections`` and ``build`` are the subclass's."""

    def layout(self, doc: dict[str, Any], root: Path, source: Path) -> Layout | None:
        schema = self.schema(doc)  # type: ignore[attr-defined]
        if schema is None:
            return None
        top = self.sections(doc, (), TOP_KEYS, "the top level")  # type: ignore[attr-defined]
        self.refuse_removes(top, "remove = true belongs in a [distro.<id>] override, not in the top-level map")
        layout = self.build(top, root, source, schema)  # type: ignore[attr-defined]
        variants: dict[str, Layout] = {}
        for distro_id, table in self.distros(doc, known_ids(root)):
            base: KeyPath = ("distro", distro_id)
            override = self.sections(table, base, SECTION_KEYS, f"[distro.{distro_id}]")  # type: ignore[attr-defined]
            if schema < 2:
                self.refuse_removes(override, "remove = true needs schema = 2 (which merges overrides by identity)")
                variant = self.build(_replace(top, override), root, source, schema)  # type: ignore[attr-defined]
                if variant is not None:
                    variant = dataclasses.replace(variant, replaced=self.replacing(top, override))
            elif layout is not None:
                variant = self.merged(top, override, layout, root, source)
            else:
                variant = None
            if variant is not None:
                variants[distro_id] = variant
        if layout is None:
            return None
        return dataclasses.replace(layout, variants=variants)

    def replacing(self, top: Mapping[str, Any], override: Mapping[str, Any]) -> tuple:
        """Where a schema 1 override replaces a non-empty top-level array or [scripts] whole (for lint)."""
        out = []
        for key in (*IDENTITY, "scripts"):
            base = top.get(key)
            full = isinstance(base, _Merged) and base.fields or isinstance(base, _Src) and bool(base.value)
            mine = override.get(key)
            if full and mine is not None:
                out.append(self.loc(mine.path))
        return tuple(out)

    def refuse_removes(self, sections: dict[str, Any], message: str) -> None:
        for kind in IDENTITY:
            src = sections.get(kind)
            if not isinstance(src, _Src) or not isinstance(src.value, list):
                continue
            kept = []
            for i, item in enumerate(src.value):
                if isinstance(item, dict) and "remove" in item:
                    self.err("unknown-key", (*src.path, i, "remove"), message)
                    continue
                kept.append(_Src(item, (*src.path, i)))
            if len(kept) != len(src.value):
                sections[kind] = _Items(src.path, tuple(kept))

    def merged(
        self, top: Mapping[str, Any], override: dict[str, Any], layout: Layout, root: Path, source: Path
    ) -> Layout | None:
        removed: dict[str, dict[str, KeyPath]] = {}
        for kind in IDENTITY:
            src = override.get(kind)
            if isinstance(src, _Src) and isinstance(src.value, list):
                override[kind], removed[kind] = self.split_removes(kind, src)
        if isinstance(override.get("subpackage"), _Src):
            override["subpackage"] = self.joined_subpackages(top.get("subpackage"), override["subpackage"])
        tables = _merge_tables(top, override, drop=True)
        self.check_drops(top, override)
        variant = self.build(tables, root, source, layout.schema)  # type: ignore[attr-defined]
        if variant is None:
            return None
        changes: dict[str, Any] = {}
        for kind, (_, attr) in IDENTITY.items():
            if kind not in override and kind not in removed:
                continue
            changes[attr] = self.join(kind, getattr(layout, attr), getattr(variant, attr), removed.get(kind, {}))
        if "lint" in override:
            changes["lint_allow"] = tuple(dict.fromkeys((*layout.lint_allow, *variant.lint_allow)))
        return dataclasses.replace(variant, **changes)

    def split_removes(self, kind: str, src: _Src) -> tuple[_Items, dict[str, KeyPath]]:
        """(the items to add or replace, identity -> path of each ``remove = true`` item)."""
        key = IDENTITY[kind][0]
        kept: list[_Src] = []
        removed: dict[str, KeyPath] = {}
        for i, item in enumerate(src.value):
            path = (*src.path, i)
            if not isinstance(item, dict) or "remove" not in item:
                kept.append(_Src(item, path))
                continue
            if item["remove"] is not True:
                self.err("bad-value", (*path, "remove"), f"{format_path((*path, 'remove'))} can only be true")
                continue
            ident = raw_identity(kind, item)
            if ident is None:
                self.err("missing-key", (*path, key), f"a remove = true item names its {key}", f"write {key} = ...")
                continue
            extra = sorted(set(item) - {"remove", key, "src"})
            if extra:
                self.err(
                    "unknown-key",
                    (*path, extra[0]),
                    f"a remove = true item takes only {key} (and src), not {extra[0]!r}",
                    "drop the other keys: the item is removed whole",
                )
            removed[ident] = path
        return _Items(src.path, tuple(kept)), removed

    def join(self, kind: str, base: tuple, override: tuple, removed: Mapping[str, KeyPath]) -> tuple:
        """The top-level items with twins replaced in place and removals applied, then the new ones."""
        new = {spec_identity(kind, s): s for s in override}
        found = set()
        out = []
        for spec in base:
            ident = spec_identity(kind, spec)
            if ident in removed:
                found.add(ident)
                continue
            if ident in new:
                found.add(ident)
                out.append(new[ident])
                continue
            out.append(spec)
        out.extend(s for i, s in new.items() if i not in found)
        for ident, path in removed.items():
            if ident not in found:
                key = IDENTITY[kind][0]
                self.err(
                    "bad-value",
                    path,
                    f"{format_path(path)} removes {ident!r}, but no top-level [[{kind}]] has that {key}",
                    f"identities are compared as written, placeholders unexpanded; check the {key}",
                )
        return tuple(out)

    def joined_subpackages(self, top: Any, src: _Src) -> Any:
        """[[subpackage]] joined by name before building, so entries may claim a top-level one.

        An override item with the name of a top-level sub-package replaces it, ``remove = true``
        drops it, a new name adds one; each item keeps the path it was written at.
        """
        if not isinstance(src.value, list):
            return src  # reported as a bad type when built
        base = list(top.value) if isinstance(top, _Src) and isinstance(top.value, list) else []
        items = {_sub_name(item, i): _Src(item, (*top.path, i)) for i, item in enumerate(base)}
        for i, item in enumerate(src.value):
            path = (*src.path, i)
            name = _sub_name(item, f"new {i}")
            if isinstance(item, dict) and item.get("remove") is True:
                if name not in items:
                    self.err(
                        "bad-value",
                        path,
                        f"{format_path(path)} removes {name!r}, no top-level [[subpackage]] has that name",
                    )
                items.pop(name, None)
                continue
            items[name] = _Src(item, path)
        return _Items(src.path, tuple(items.values()))

    def check_drops(self, top: Mapping[str, Any], override: Mapping[str, Any]) -> None:
        for name in DROPPABLE:
            table = override.get(name)
            if not isinstance(table, _Merged):
                continue
            base = top.get(name)
            for key, src in table.fields.items():
                if src.value is False and (not isinstance(base, _Merged) or key not in base.fields):
                    self.err(
                        "bad-value",
                        src.path,
                        f"{format_path(src.path)} = false removes nothing: the top-level [{name}] has no {key!r}",
                    )

    def distros(self, doc: dict[str, Any], known: list[str]) -> list[tuple[str, dict[str, Any]]]:
        if "distro" not in doc:
            return []
        value = doc["distro"]
        if not isinstance(value, dict):
            self.bad_type(value, ("distro",), "a table of [distro.<id>] tables")
            return []
        out = []
        for distro_id, table in value.items():
            path: KeyPath = ("distro", distro_id)
            if not DISTRO_ID_RE.fullmatch(distro_id):
                self.err("bad-value", path, f"{distro_id!r} is not a distro id", "lower case letters, digits and . _ -")
                continue
            if distro_id not in known:
                hint = _did_you_mean(distro_id, known) or f"known profiles: {', '.join(known)}"
                self.err(
                    "unknown-key",
                    path,
                    f"unknown distro {distro_id!r} in [distro.{distro_id}]: no shipped or project profile has that id",
                    f"{hint} (a project's own profiles are its distros/*.toml)",
                )
                continue
            if not isinstance(table, dict):
                self.bad_type(table, path, "a table")
                continue
            out.append((distro_id, table))
        return out


def _sub_name(item: Any, default: object) -> object:
    return item.get("name", default) if isinstance(item, dict) else default


def _replace(top: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Schema 1: [package], relations and [vars] merge key by key; every other section replaces."""
    out = dict(top)
    for key, value in override.items():
        if key != "scripts" and isinstance(value, _Merged) and isinstance(out.get(key), _Merged):
            out[key] = _Merged(out[key].path, {**out[key].fields, **value.fields})
        else:
            out[key] = value
    return out


def _merge_tables(top: Mapping[str, Any], override: Mapping[str, Any], drop: bool) -> dict[str, Any]:
    """Schema 2: every table merges key by key (``false`` drops a key); arrays are joined after building."""
    out = dict(top)
    for key, value in override.items():
        base = out.get(key)
        if isinstance(value, _Merged) and isinstance(base, _Merged):
            fields = {**base.fields, **value.fields}
            if drop and key in DROPPABLE:
                fields = {k: v for k, v in fields.items() if v.value is not False}
            out[key] = _Merged(base.path, fields)
        elif isinstance(value, _Merged) and drop and key in DROPPABLE:
            out[key] = _Merged(value.path, {k: v for k, v in value.fields.items() if v.value is not False})
        else:
            out[key] = value
    return out
