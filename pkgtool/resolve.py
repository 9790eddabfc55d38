"""Layout + Profile -> Resolved: every deployed path, final.  Pure: reads the source tree, writes nothing.

Order of work: pick the profile's variant of the layout; expand contents
([[tree]], [[file]], [[dir]], [[symlink]]) with placeholders, checking paths
and conflicts; add implicit parent directories (owned unless the profile or
the plugin kind says they belong to the system / host software); apply
[[attr]] rules in order; mark auto-config files; map relations; read
scripts.  ``resolve_collect`` reports every problem and skips the faulty
entries; ``resolve`` raises ResolveError when there is any error.
"""

from __future__ import annotations

import os
import posixpath
import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, fields
from operator import attrgetter
from pathlib import Path

from .bookkeeping import bookkeeping_reason, might_be_bookkeeping
from .diagnostics import Diagnostic, Severity
from .errors import ResolveError
from .globs import PathSet, compile_any, compile_glob
from .kinds import host_dirs, kind_info
from .model import (
    RELATION_KINDS,
    ConfigKind,
    Entry,
    EntryKind,
    FileSpec,
    Layout,
    Location,
    Profile,
    Relation,
    Resolved,
    ResolvedRelation,
    TreeSpec,
)
from .sources.regular import not_regular, read_input

# 2000-01-01T00:00:00Z: the epoch of a layout without changelog when none is given.
DEFAULT_EPOCH = 946684800
_UNIX_DAY0 = 719163  # date(1970, 1, 1).toordinal(): days, not calendar (whose import costs 10 ms)

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


def _entry(template: Mapping[str, object], **values: object) -> Entry:
    # Entries are built and adjusted (attrs, auto-config) here, then handed out frozen: filling the
    # instance __dict__ directly skips the frozen __init__'s 14 object.__setattr__ calls, and building
    # each Entry once (no mutable draft copied at the end) halves the objects the GC has to scan.
    entry = _new_entry(Entry)
    fields_ = entry.__dict__
    fields_.update(template)
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


def pick_variant(layout: Layout, profile: Profile) -> Layout:
    """The layout's [distro.<id>] variant for the nearest id of the profile's chain, else the layout."""
    for distro_id in profile.chain:
        if distro_id in layout.variants:
            return layout.variants[distro_id]
    return layout


def default_epoch(layout: Layout) -> int:
    """The newest changelog date at 00:00 UTC, else 2000-01-01 (the clock is never read)."""
    if layout.changelog:
        newest = max(c.date for c in layout.changelog)
        return (newest.toordinal() - _UNIX_DAY0) * 86400
    return DEFAULT_EPOCH


class _Resolver:
    def __init__(self, top: Layout, profile: Profile):
        self.layout = pick_variant(top, profile)
        self.profile = profile
        self.root = self.layout.root
        self.root_real = os.path.realpath(self.root)
        self.file = str(self.layout.source_file)
        self.diags: list[Diagnostic] = []
        self.entries: dict[str, Entry] = {}  # path -> entry, in the order made (implicit parents follow it)
        self.meta: dict[str, tuple[str, Location | None]] = {}  # path -> (role, loc), for conflicts
        pkg = self.layout.package
        self.dst_values = {"name": pkg.name, "version": pkg.version, **profile.dirs}
        self.src_values = {"name": pkg.name, "version": pkg.version, "family": profile.family.value}
        self.unowned = PathSet([*profile.system_dirs, *host_dirs(pkg.kind, profile.dirs)])

    # ------------------------------------------------------------ helpers

    def diag(self, rule: str, message: str, loc: Location | None, key: str, path: str = "", hint: str = "") -> None:
        location = Location(loc.file if loc else self.file, key, loc.line if loc else None)
        self.diags.append(Diagnostic(rule, Severity.ERROR, message, location, hint, path))

    @staticmethod
    def key(spec_loc: Location | None, base: str, leaf: str) -> str:
        # Keep the loader's key (it knows about [distro.X] variants) when there is one.
        head = spec_loc.key if spec_loc is not None and spec_loc.key else base
        head = head.split(".", 1)[0] if head.startswith(base) else head
        return f"{head}.{leaf}" if leaf else head

    def expand(self, text: str, values: Mapping[str, str], loc: Location | None, key: str) -> str | None:
        unknown: list[str] = []

        def sub(m: re.Match[str]) -> str:
            if m.group(0) == "{{":
                return "{"
            if m.group(0) == "}}":
                return "}"
            name = m.group(1)
            if name in values:
                return values[name]
            unknown.append(name)
            return m.group(0)

        out = _PLACEHOLDER.sub(sub, text)
        if unknown:
            known = ", ".join("{" + k + "}" for k in sorted(values))
            for name in unknown:
                self.diag(
                    "unknown-placeholder",
                    f"unknown placeholder {{{name}}} in {text!r}",
                    loc,
                    key,
                    hint=f"known here: {known}; write '{{{{' for a literal brace",
                )
            return None
        return out

    def deployed(self, raw: str, loc: Location | None, key: str, *, allow_dir_slash: bool = False) -> str | None:
        """Expand and check a deployed path; a trailing '/' is dropped when allowed."""
        path = self.expand(raw, self.dst_values, loc, key)
        if path is None:
            return None
        if allow_dir_slash and len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        reason = unsafe_reason(path)
        if reason is not None:
            self.diag("unsafe-path", f"deployed path {path!r} {reason}", loc, key, path=path)
            return None
        return path

    def src_candidates(self, raw: str, loc: Location | None, key: str) -> list[str] | None:
        """The src with placeholders expanded; with {distro}, one per profile of the chain, nearest first."""
        if "{" in raw and not os.path.isabs(raw) and os.path.lexists(os.path.join(self.root, raw)):
            return [raw]  # a file really named with braces is taken as it is
        out: list[str] = []
        ids = self.profile.chain if "{distro}" in raw else self.profile.chain[:1]
        for distro_id in ids:
            value = self.expand(raw, {**self.src_values, "distro": distro_id}, loc, key)
            if value is None:
                return None
            if value not in out:
                out.append(value)
        return out

    def safe_src(self, rel: str, loc: Location | None, key: str) -> str | None:
        """A normalised relative source path inside the layout root, or None (reported)."""
        if _CONTROL.search(rel):
            self.diag("unsafe-path", f"source path {rel!r} contains a control character", loc, key)
            return None
        if rel.startswith("/") or os.path.isabs(rel):
            self.diag("unsafe-path", f"source path {rel!r} is absolute; it must be relative to the layout", loc, key)
            return None
        norm = posixpath.normpath(rel)
        if norm == ".." or norm.startswith("../"):
            self.diag("unsafe-path", f"source path {rel!r} leaves the layout directory", loc, key)
            return None
        return norm

    def inside_root(self, rel: str, loc: Location | None, key: str) -> bool:
        """False (reported) when a symlink on the way takes ``rel`` out of the layout root."""
        real = os.path.realpath(os.path.join(self.root, rel))
        if real == self.root_real or real.startswith(self.root_real + os.sep):
            return True
        self.diag("unsafe-path", f"source path {rel!r} leads outside the layout directory through a symlink", loc, key)
        return False

    def add(self, e: Entry, role: str, loc: Location | None) -> None:
        path = e.path
        old = self.entries.get(path)
        if old is not None:
            old_role = self.meta[path][0]
            if role == _ROLE_DIR and old_role == _ROLE_TREE_DIR:
                pass  # an explicit [[dir]] says how a tree's directory should be
            elif old_role == _ROLE_DIR and role == _ROLE_TREE_DIR:
                return
            elif old_role == role == _ROLE_TREE_DIR and (old.mode, old.owner, old.group) == (e.mode, e.owner, e.group):
                return  # two trees filling the same directory agree on it
            else:
                self.diag(
                    "conflict",
                    f"{path} is deployed by both {old.origin} ({old.kind.value}) and {e.origin} ({e.kind.value})",
                    loc,
                    self.key(loc, e.origin, ""),
                    path=path,
                    hint=f"remove one of {old.origin} and {e.origin}, or exclude the path from the tree",
                )
                return
        self.entries[path] = e
        self.meta[path] = (role, loc)

    # ------------------------------------------------------------ contents

    def trees(self) -> None:
        for i, t in enumerate(self.layout.trees):
            base = f"tree[{i}]"
            src_key = self.key(t.loc, base, "src")
            cands = self.src_candidates(t.src.rstrip("/") or ".", t.loc, src_key)
            if cands is None:
                continue
            src = None
            for cand in cands:
                norm = self.safe_src(cand, t.loc, src_key)
                if norm is None:
                    break
                if os.path.isdir(os.path.join(self.root, norm)):
                    src = norm
                    break
            else:
                tried = ", ".join(cands)
                what = "is not a directory" if os.path.lexists(os.path.join(self.root, cands[0])) else "not found"
                self.diag("missing-source", f"tree source {t.src!r} {what} (tried: {tried})", t.loc, src_key)
            if src is None or not self.inside_root(src, t.loc, src_key):
                continue
            if t.dst.startswith("/") and not t.dst.strip("/"):
                dst: str | None = "/"  # a tree laid over the whole filesystem: '/' itself is no entry
            else:
                dst = self.deployed(t.dst, t.loc, self.key(t.loc, base, "dst"), allow_dir_slash=True)
            if dst is None:
                continue
            self.walk_tree(t, base, src, dst)

    def walk_tree(self, t: TreeSpec, base: str, src: str, dst: str) -> None:
        dir_tmpl = _template(
            kind=EntryKind.DIR,
            mode=0o755 if t.dir_mode is None else t.dir_mode,
            owner=t.owner,
            group=t.group,
            allow=_with_allow(t.allow),
            origin=base,
        )
        file_tmpl = _template(
            kind=EntryKind.FILE,
            mode=t.mode,
            owner=t.owner,
            group=t.group,
            doc=t.doc,
            license=t.license,
            allow=_with_allow(t.allow),
            origin=base,
        )
        loc = t.loc
        if dst != "/":
            self.add(_entry(dir_tmpl, path=dst, owned=dst not in self.unowned), _ROLE_TREE_DIR, loc)
        # One regex for all patterns: it fullmatches a name when one of the patterns does.
        excluded = compile_any(t.exclude)
        prefix_dst = "" if dst == "/" else dst
        src_prefix = "" if src == "." else src + "/"
        stack = [("", os.path.join(self.root, src))]
        entries, meta = self.entries, self.meta
        file_meta = ("tree", loc)
        for_mode = t.mode is None
        new, control = _new_entry, _CONTROL.search
        while stack:
            rel_dir, abs_dir = stack.pop()
            try:
                it = os.scandir(abs_dir)
            except OSError as exc:
                self.diag(
                    "missing-source",
                    f"cannot read {src_prefix}{rel_dir}: {exc.strerror}",
                    loc,
                    self.key(loc, base, "src"),
                )
                continue
            with it:
                # sorted by name so that diagnostics and implicit-dir origins never depend on the filesystem
                listing = sorted(it, key=_by_name)
            # One search over the whole directory; names are checked one by one only when it finds something.
            suspect = control("".join([e.name for e in listing])) is not None
            dst_dir = f"{prefix_dst}/{rel_dir}"
            src_dir = src_prefix + rel_dir
            for e in listing:
                name = e.name
                if excluded is not None and (excluded.fullmatch(rel_dir + name) or excluded.fullmatch(name)):
                    continue
                path = dst_dir + name
                if suspect and control(name):
                    self.diag(
                        "unsafe-path",
                        f"{(src_dir + name)!r} has a control character in its name",
                        loc,
                        self.key(loc, base, "src"),
                        path=path,
                    )
                    continue
                # The common case first; with follow_symlinks=False the three tests exclude each other.
                if e.is_file(follow_symlinks=False):
                    entry = new(Entry)
                    fields_ = entry.__dict__
                    fields_.update(file_tmpl)
                    fields_["path"] = path
                    fields_["source"] = src_dir + name
                    if for_mode:
                        fields_["mode"] = 0o755 if e.stat(follow_symlinks=False).st_mode & 0o111 else 0o644
                    if path in entries:
                        self.add(entry, "tree", loc)
                    else:
                        entries[path] = entry
                        meta[path] = file_meta
                elif e.is_dir(follow_symlinks=False):
                    self.add(_entry(dir_tmpl, path=path, owned=path not in self.unowned), _ROLE_TREE_DIR, loc)
                    stack.append((rel_dir + name + "/", e.path))
                elif e.is_symlink():
                    self.tree_symlink(e.path, rel_dir + name, path, t, base, src_prefix)
                else:
                    self.diag(
                        "missing-source",
                        f"{src_dir}{name} is not a regular file, directory or symlink",
                        loc,
                        self.key(loc, base, "src"),
                        path=path,
                    )

    def tree_symlink(self, abs_path: str, rel: str, path: str, t: TreeSpec, base: str, src_prefix: str) -> None:
        target = os.readlink(abs_path)
        where = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
        if target.startswith("/") or where == ".." or where.startswith("../") or _CONTROL.search(target):
            self.diag(
                "unsafe-path",
                f"symlink {src_prefix}{rel} -> {target} points outside its tree",
                t.loc,
                self.key(t.loc, base, "src"),
                path=path,
                hint="use a relative link inside the tree, or declare it as a [[symlink]]",
            )
            return
        link = _entry(_SYMLINK, path=path, target=target, allow=_with_allow(t.allow), origin=base)
        self.add(link, "tree", t.loc)

    def files(self) -> None:
        for i, f in enumerate(self.layout.files):
            base = f"file[{i}]"
            src_key = self.key(f.loc, base, "src")
            cands = self.src_candidates(f.src, f.loc, src_key)
            if cands is None:
                continue
            matches = self.match_file_src(cands, f, src_key)
            if not matches:
                continue
            dst_key = self.key(f.loc, base, "dst")
            into_dir = f.dst.endswith("/")
            if not into_dir and len(matches) > 1:
                self.diag(
                    "glob-needs-dir",
                    f"{f.src!r} matches {len(matches)} files but dst {f.dst!r} names one file",
                    f.loc,
                    dst_key,
                    hint="end dst with '/' to install them into that directory",
                )
                continue
            dst = self.deployed(f.dst, f.loc, dst_key, allow_dir_slash=True)
            if dst is None:
                continue
            for m in matches:
                path = f"{dst}/{posixpath.basename(m)}" if into_dir else dst
                reason = unsafe_reason(path)
                if reason is not None:
                    self.diag("unsafe-path", f"deployed path {path!r} {reason}", f.loc, dst_key, path=path)
                    continue
                mode = f.mode
                if mode is None:
                    mode = 0o755 if os.stat(os.path.join(self.root, m)).st_mode & 0o111 else 0o644
                entry = _entry(
                    _FILE,
                    path=path,
                    mode=mode,
                    owner=f.owner,
                    group=f.group,
                    config=f.config,
                    source=m,
                    doc=f.doc,
                    license=f.license,
                    allow=_with_allow(f.allow),
                    origin=base,
                )
                self.add(entry, "file", f.loc)

    def match_file_src(self, cands: Sequence[str], f: FileSpec, src_key: str) -> list[str]:
        """The source files a [[file]] names: a literal path first, else a glob; [] when reported."""
        found: list[str] | None = None
        globbed = False
        for cand in cands:
            norm = self.safe_src(cand, f.loc, src_key)
            if norm is None:
                return []
            # A literal name with []*? in it is a file, not a pattern.
            if os.path.lexists(os.path.join(self.root, norm)):
                found = [norm]
                break
            if _SRC_MAGIC.search(cand):
                globbed = True
                hits = sorted(
                    posixpath.normpath(h)
                    for h in _glob(cand, root_dir=self.root)
                    if not os.path.isdir(os.path.join(self.root, h))
                )
                if hits:
                    found = hits
                    break
        tried = ", ".join(cands)
        if found is None:
            if globbed:
                self.diag("glob-no-match", f"{f.src!r} matches no file (tried: {tried})", f.loc, src_key)
            else:
                self.diag("missing-source", f"source file {f.src!r} not found (tried: {tried})", f.loc, src_key)
            return []
        out = []
        for m in found:
            if self.safe_src(m, f.loc, src_key) is None or not self.inside_root(m, f.loc, src_key):
                continue
            if os.path.isdir(os.path.join(self.root, m)):
                self.diag(
                    "missing-source",
                    f"source {m!r} is a directory",
                    f.loc,
                    src_key,
                    hint="use [[tree]] for a directory",
                )
                continue
            if not os.path.exists(os.path.join(self.root, m)):
                self.diag("missing-source", f"source {m!r} is a dangling symlink", f.loc, src_key)
                continue
            if not self.regular_source(m, f.loc, src_key):
                continue
            out.append(m)
        return out

    def regular_source(self, rel: str, loc: Location | None, key: str) -> bool:
        """False (reported) for a FIFO, socket or device: reading one hangs or is not a file's content."""
        try:
            mode = os.stat(os.path.join(self.root, rel)).st_mode
        except OSError as exc:
            self.diag("missing-source", f"source {rel!r} cannot be read: {exc.strerror}", loc, key)
            return False
        why = not_regular(mode)
        if why is None:
            return True
        self.diag("missing-source", f"source {rel!r} {why}", loc, key)
        return False

    def dirs(self) -> None:
        for i, d in enumerate(self.layout.dirs):
            base = f"dir[{i}]"
            path = self.deployed(d.path, d.loc, self.key(d.loc, base, "path"), allow_dir_slash=True)
            if path is None:
                continue
            mode = 0o755 if d.mode is None else d.mode
            entry = _entry(
                _DIR, path=path, mode=mode, owner=d.owner, group=d.group, allow=_with_allow(d.allow), origin=base
            )
            if path in self.unowned:
                entry = self.system_dir(entry, d.allow, d.loc, self.key(d.loc, base, "path"))
                if entry is None:
                    continue
            self.add(entry, _ROLE_DIR, d.loc)

    def system_dir(self, entry: Entry, allow: Sequence[str], loc: Location | None, key: str) -> Entry | None:
        """A [[dir]] naming a system or host directory: an error, or (waived) a directory left as it is.

        The map does not own such a directory, so it can never set its mode or owner: install
        would otherwise chmod the root's /etc.  With the rule waived the item is kept as a parent
        the package needs, unowned, with the system's mode.
        """
        rule = "owns-system-dir"
        if rule in allow or rule in self.layout.lint_allow:
            return _entry(_IMPLICIT_DIR, path=entry.path, owned=False, allow=entry.allow, origin=entry.origin)
        whose = "the system" if entry.path in PathSet(self.profile.system_dirs) else "the host software"
        self.diag(
            rule,
            f"{entry.origin} claims {entry.path}, which belongs to {whose}; a package cannot own it or change its mode",
            loc,
            key,
            path=entry.path,
            hint="remove this [[dir]] item; parents of files are created without being owned",
        )
        return None

    def symlinks(self) -> None:
        for i, s in enumerate(self.layout.symlinks):
            base = f"symlink[{i}]"
            path = self.deployed(s.path, s.loc, self.key(s.loc, base, "path"))
            target_key = self.key(s.loc, base, "target")
            target = self.expand(s.target, self.dst_values, s.loc, target_key)
            if path is None or target is None:
                continue
            if not target or _CONTROL.search(target):
                self.diag(
                    "unsafe-path",
                    f"symlink target {target!r} is empty or has a control character",
                    s.loc,
                    target_key,
                    path=path,
                )
                continue
            link = _entry(_SYMLINK, path=path, target=target, allow=_with_allow(s.allow), origin=base)
            self.add(link, "symlink", s.loc)

    # ------------------------------------------------------------ after contents

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
        return {k: map_relations(rels[k], self.profile.names) for k in kinds}

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

    def run(self, source_date_epoch: int | None) -> Resolved:
        self.trees()
        self.files()
        self.dirs()
        self.symlinks()
        self.parents()
        self.bookkeeping()
        self.attrs()
        self.name_limits()
        paths = sorted(self.entries)
        self.auto_config(paths)
        entries = tuple(map(self.entries.__getitem__, paths))
        return Resolved(
            layout=self.layout,
            profile=self.profile,
            entries=entries,
            relations=self.relations(),
            scripts=self.scripts(),
            source_date_epoch=default_epoch(self.layout) if source_date_epoch is None else source_date_epoch,
        )


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


def resolve_collect(
    layout: Layout, profile: Profile, source_date_epoch: int | None = None
) -> tuple[Resolved, list[Diagnostic]]:
    """Resolve what can be resolved and report every problem; never raises for content problems."""
    r = _Resolver(layout, profile)
    resolved = r.run(source_date_epoch)
    return resolved, r.diags


def resolve(layout: Layout, profile: Profile, source_date_epoch: int | None = None) -> Resolved:
    """Every deployed entry of ``layout`` on ``profile``; ResolveError (with .diagnostics) on any error."""
    resolved, diags = resolve_collect(layout, profile, source_date_epoch)
    errors = [d for d in diags if d.severity is Severity.ERROR]
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ResolveError(
            f"cannot resolve {layout.package.name} for {profile.id}: {first.to_text()}{more}",
            diagnostics=diags,
        )
    return resolved
