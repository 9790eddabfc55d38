"""Finishing the entries: bookkeeping names, implicit parents, [[attr]] rules, auto-config, limits; relations and scripts."""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Mapping, Sequence

from ..bookkeeping import bookkeeping_reason, might_be_bookkeeping
from ..errors import ResolveError
from ..globs import compile_glob
from ..kinds import kind_info
from ..model import (
    RELATION_KINDS,
    ConfigKind,
    EntryKind,
    Relation,
    ResolvedRelation,
)
from ..sources.regular import read_input
from .base import ResolverBase
from .entries import _IMPLICIT_DIR, _ROLE_IMPLICIT, NAME_MAX, PATH_MAX, _entry, _set
from .packages import own_versions


class Finish(ResolverBase):
    def bookkeeping(self) -> None:
        """Refuse every path pkgtool keeps for itself in a root (journal, temp siblings, records)."""
        if not might_be_bookkeeping("\n".join(self.entries)):  # one search over all paths: 100k cost 0.26 s one by one
            return
        for path in [p for p in self.entries if bookkeeping_reason(p)]:
            e = self.entries.pop(path)
            loc = self.meta.pop(path)[1]
            self.diag(
                "unsafe-path",
                f"deployed path {path!r} {bookkeeping_reason(path)}",
                loc,
                self.key(loc, e.origin.split(" ")[0], ""),
                path=path,
                hint="pkgtool would take such a file for its own; rename it",
            )

    def parents(self) -> None:
        entries, meta = self.entries, self.meta
        known_dir = None  # the last parent found to be a directory: the next sibling needs no look-up
        for path in list(entries):
            # Deployed paths are normalised and absolute: the parent is the text before the last '/'.
            parent = path[: path.rindex("/")] or "/"
            if parent == known_dir:
                continue
            child = entries[path]
            first = parent
            while parent != "/":
                p = entries.get(parent)
                if p is not None:
                    if p.kind is not EntryKind.DIR:
                        loc = meta[path][1]
                        self.diag(
                            "conflict",
                            f"{parent} is a {p.kind.value} ({p.origin}) but {child.origin} deploys {path} inside it",
                            loc,
                            self.key(loc, child.origin, ""),
                            path=path,
                        )
                    break
                entries[parent] = _entry(
                    _IMPLICIT_DIR, path=parent, owned=parent not in self.unowned, origin=child.origin
                )
                meta[parent] = (_ROLE_IMPLICIT, meta[path][1])
                parent = parent.rpartition("/")[0] or "/"
            if first != "/" and entries[first].kind is EntryKind.DIR:
                known_dir = first

    def attrs(self) -> None:
        for i, a in enumerate(self.layout.attrs):
            base = f"attr[{i}]"
            key = self.key(a.loc, base, "path")
            pattern = self.expand(a.path, self.dst_values, a.loc, key)
            if pattern is None:
                continue
            rx = compile_glob(pattern)
            changes: dict[str, object] = {}
            if a.mode is not None:
                changes["mode"] = a.mode
            if a.owner is not None:
                changes["owner"] = a.owner
            if a.group is not None:
                changes["group"] = a.group
            hit = False
            for d in self.entries.values():
                if d.kind is EntryKind.DIR and not d.owned:
                    continue  # system and host directories are not the package's to change
                if rx.fullmatch(d.path) is None:
                    continue
                hit = True
                if d.kind is EntryKind.SYMLINK:
                    continue  # a link has no mode or owner of its own in either format
                # The origin keeps the maker and adds each attr in order ('tree[0] attr[2]'), so lint
                # and verify can name both the item that deployed the path and what changed it.
                _set(d, origin=f"{d.origin} {base}" if d.origin else base, **changes)
                if a.allow:
                    _set(d, allow=d.allow.union(a.allow))
            if not hit:
                hint = "attr paths are absolute deployed paths; '*' stays in one directory, '**' crosses them"
                self.diag("attr-no-match", f"[[attr]] {pattern!r} matches no deployed path", a.loc, key, hint=hint)

    def auto_config(self, paths: Sequence[str]) -> None:
        """Mark regular files under the profile's auto-config dirs; ``paths`` are the sorted entry paths."""
        entries = self.entries
        for d in self.profile.auto_config_dirs:
            prefix = d.rstrip("/") + "/"
            # Sorted paths under one prefix are one run: find its start, stop at its end.
            i = bisect_left(paths, prefix)
            while i < len(paths) and paths[i].startswith(prefix):
                e = entries[paths[i]]
                i += 1
                if e.kind is EntryKind.FILE and e.config is ConfigKind.NONE:
                    _set(e, config=ConfigKind.CONFIG)

    def relations(self) -> dict[str, tuple[ResolvedRelation, ...]]:
        kinds = list(RELATION_KINDS) + sorted(k for k in self.layout.relations if k not in RELATION_KINDS)
        rels = {k: tuple(self.layout.relations.get(k, ())) for k in kinds}
        host = kind_info(self.layout.package.kind).host_package
        if host:
            # A plugin is useless without its host (a VDSM hook without vdsm): require it unless the map
            # already does, versioned or not (map_relations drops the bare duplicate).
            rels["requires"] = (*rels.get("requires", ()), Relation(host))
        return {k: own_versions(map_relations(rels[k], self.profile.names), self.layout, self.profile) for k in kinds}

    def python_compile(self) -> tuple[str, ...]:
        """[python] compile: each directory expanded and checked like a deployed path."""
        loc = self.layout.python_loc
        out = []
        for i, raw in enumerate(self.layout.python_compile):
            path = self.deployed(raw, loc, f"python.compile[{i}]", allow_dir_slash=True)
            if path is not None:
                out.append(path)
        return tuple(dict.fromkeys(out))

    def scripts(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for event, src in sorted(self.layout.scripts.items()):
            key = f"scripts.{event}"
            norm = self.safe_src(src, None, key)
            if norm is None:
                continue
            full = os.path.join(self.root, norm)
            if not os.path.lexists(full):
                self.diag("missing-source", f"script {src!r} for {event} not found", None, key)
                continue
            if not self.inside_root(norm, None, key) or not self.regular_source(norm, None, key):
                continue
            try:
                out[event] = read_input(self.root, norm, "script").decode("utf-8")
            except ResolveError as exc:
                self.diags.extend(exc.diagnostics)
            except UnicodeDecodeError:
                self.diag("bad-value", f"script {src!r} is not UTF-8 text", None, key)
        return out

    # ------------------------------------------------------------ names the tools can carry

    def name_limits(self) -> None:
        """Refuse names some output cannot carry, here where the map item is known, not in dpkg later.

        Every deployed path, source path and link target must be UTF-8 (specs, control
        files and JSON are text); a deployed path fits in PATH_MAX with its NUL, and each
        of its names in NAME_MAX bytes (what dpkg and the kernel enforce at install).
        """
        for path, e in self.entries.items():
            # The common case, short UTF-8 names, costs one encode each: the key and location of
            # the map item are looked up only when a name is refused (20,000 entries in W2).
            if _fits(path, NAME_MAX) and _fits(e.source, PATH_MAX - 1) and _fits(e.target, PATH_MAX - 1):
                continue
            loc = self.meta[path][1]
            key = self.key(loc, e.origin.split(" ", 1)[0], "")
            for what, text in (("deployed path", path), ("source path", e.source), ("link target", e.target)):
                if text is None:
                    continue
                try:
                    data = text.encode("utf-8")
                except UnicodeEncodeError:
                    shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                    self.diag(
                        "unsafe-path",
                        f"{what} '{shown}' is not UTF-8",
                        loc,
                        key,
                        path=shown if what == "deployed path" else "",
                        hint="rename the file: specs, control files and package databases hold names as UTF-8 text",
                    )
                    break
                if len(data) > PATH_MAX - 1:
                    self.diag("unsafe-path", f"{what} is {len(data)} bytes; at most {PATH_MAX - 1} install", loc, key)
                    break
                if what == "deployed path":
                    long = next((n for n in path.split("/") if len(n.encode()) > NAME_MAX), None)
                    if long is not None:
                        self.diag(
                            "unsafe-path",
                            f"deployed name {long[:40]!r}... is {len(long.encode())} bytes; at most {NAME_MAX} install",
                            loc,
                            key,
                            path=path,
                        )
                        break


def _fits(text: str | None, limit: int) -> bool:
    """True when ``text`` is absent or UTF-8 of at most ``limit`` bytes (so each of its names fits too)."""
    if text is None:
        return True
    try:
        return len(text.encode("utf-8")) <= limit
    except UnicodeEncodeError:
        return False


def map_relations(rels: Sequence[Relation], names: Mapping[str, str]) -> tuple[ResolvedRelation, ...]:
    """Logical names -> distro names, sorted; file dependencies ('/usr/bin/x') pass through.

    Two logical names may map to one package (python, curses -> python3): exact
    repeats go, and an unversioned relation goes when a versioned one names the same package.
    """
    mapped = {
        ResolvedRelation(r.name if r.name.startswith("/") else names.get(r.name, r.name), r.op, r.version, r.name)
        for r in rels
    }
    versioned = {r.name for r in mapped if r.op}
    seen: set[tuple[str, str, str]] = set()
    out = []
    for r in sorted(mapped, key=lambda r: (r.name, r.op, r.version, r.logical)):
        if (not r.op and r.name in versioned) or (r.name, r.op, r.version) in seen:
            continue
        seen.add((r.name, r.op, r.version))
        out.append(r)
    return tuple(out)
