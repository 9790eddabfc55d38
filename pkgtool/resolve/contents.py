"""Expanding the map's contents into entries: [[tree]], [[file]], [[dir]], [[symlink]]."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence

from ..globs import PathSet, compile_any
from ..model import (
    Entry,
    EntryKind,
    FileSpec,
    Location,
    TreeSpec,
)
from ..sources.generated import GENERATED_DIR, generated_files
from ..sources.regular import not_regular
from .base import ResolverBase
from .entries import (
    _CONTROL,
    _DIR,
    _FILE,
    _IMPLICIT_DIR,
    _ROLE_DIR,
    _ROLE_TREE_DIR,
    _SRC_MAGIC,
    _SYMLINK,
    _by_name,
    _entry,
    _glob,
    _new_entry,
    _template,
    _with_allow,
    unsafe_reason,
)


class Contents(ResolverBase):
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
            if f.ghost:
                self.ghost_file(f, f"file[{i}]")
            else:
                self.one_file(f, f"file[{i}]")
        for i, u in enumerate(self.layout.units):  # a unit file is a file of the main package in {unitdir}
            self.one_file(u.as_file(), f"unit[{i}]")
        for i, t in enumerate(self.layout.tmpfiles):  # and a tmpfiles.d file one in {tmpfilesdir}
            self.one_file(t.as_file(), f"tmpfile[{i}]")
        for g in generated_files(self.layout):  # pkgtool's own sources (sources/generated.py)
            key = g.loc.key if g.loc else ""
            path = self.deployed(g.dst, g.loc, key)
            if os.path.lexists(os.path.join(self.root, GENERATED_DIR)):  # its files would shadow the tree's
                self.diag("conflict", f"the tree has {GENERATED_DIR}/, where pkgtool writes {g.source}", g.loc, key)
            elif path is not None:
                self.add(_entry(_FILE, path=path, mode=0o644, source=g.source, origin=g.origin), "file", g.loc)

    def one_file(self, f: FileSpec, base: str) -> None:
        src_key = self.key(f.loc, base, "src")
        cands = self.src_candidates(f.src, f.loc, src_key)
        if cands is None:
            return
        matches = self.match_file_src(cands, f, src_key)
        if not matches:
            return
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
            return
        dst = self.deployed(f.dst, f.loc, dst_key, allow_dir_slash=True)
        if dst is None:
            return
        for m in matches:
            name = posixpath.basename(m)
            if f.template and into_dir and name.endswith(".in"):
                name = name[:-3]  # a template's deployed name drops its .in
            path = f"{dst}/{name}" if into_dir else dst
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
                template=f.template,
                lang=f.lang,
                no_verify=f.no_verify,
            )
            self.add(entry, "file", f.loc)

    def ghost_file(self, f: FileSpec, base: str) -> None:
        """A ghost [[file]]: one path, owned with its mode and owner, no source and no content."""
        dst_key = self.key(f.loc, base, "dst")
        if f.dst.endswith("/"):
            self.diag("bad-value", f"a ghost names one file, not a directory: {f.dst!r}", f.loc, dst_key)
            return
        path = self.deployed(f.dst, f.loc, dst_key)
        if path is None:
            return
        entry = _entry(
            _FILE,
            path=path,
            mode=0o644 if f.mode is None else f.mode,
            owner=f.owner,
            group=f.group,
            config=f.config,
            allow=_with_allow(f.allow),
            origin=base,
            lang=f.lang,
            no_verify=f.no_verify,
            ghost=True,
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
                _DIR,
                path=path,
                mode=mode,
                owner=d.owner,
                group=d.group,
                allow=_with_allow(d.allow),
                origin=base,
                ghost=d.ghost,
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
            link = _entry(
                _SYMLINK, path=path, target=target, allow=_with_allow(s.allow), origin=base, absolute=s.absolute
            )
            self.add(link, "symlink", s.loc)

    # ------------------------------------------------------------ after contents
