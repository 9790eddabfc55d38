"""The resolver's state and its small questions: placeholders, deployed paths, sources, adding an entry."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Mapping

from ..diagnostics import Diagnostic, Severity, nearest
from ..globs import PathSet
from ..kinds import host_dirs
from ..model import (
    Entry,
    Layout,
    Location,
    Profile,
)
from .claims import claimant
from .entries import _CONTROL, _PLACEHOLDER, _ROLE_DIR, _ROLE_TREE_DIR, unsafe_reason


def pick_variant(layout: Layout, profile: Profile) -> Layout:
    """The layout's [distro.<id>] variant for the nearest id of the profile's chain, else the layout."""
    for distro_id in profile.chain:
        if distro_id in layout.variants:
            return layout.variants[distro_id]
    return layout


class ResolverBase:
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
        self.vars = self.project_vars()
        self.dst_values.update(self.vars)
        self.src_values = {"name": pkg.name, "version": pkg.version, "family": profile.family.value}
        # A host's directories stay the host's whichever package of the map is its plugin.
        kinds = dict.fromkeys([pkg.kind, *(sub.kind for sub in self.layout.subpackages)])
        self.unowned = PathSet([*profile.system_dirs, *(d for k in kinds for d in host_dirs(k, profile.dirs))])

    def project_vars(self) -> dict[str, str]:
        """[vars] expanded in the order written: each may use the profile's directories and the vars above it."""
        out: dict[str, str] = {}
        values = dict(self.dst_values)
        for name, raw in self.layout.vars.items():
            loc = self.layout.var_locs.get(name)
            key = f"vars.{name}"
            if name in self.dst_values or name in ("distro", "family", "release"):
                self.diag(
                    "bad-value",
                    f"[vars] {name} would hide the placeholder {{{name}}} of the {self.profile.id} profile",
                    loc,
                    key,
                    hint="give the variable a name of its own",
                )
                continue
            value = self.expand(raw, values, loc, key)
            if value is not None:
                out[name] = values[name] = value
        return out

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
                close = nearest(name, values)
                guess = f"did you mean {{{close}}}? " if close else ""
                self.diag(
                    "unknown-placeholder",
                    f"unknown placeholder {{{name}}} in {text!r}",
                    loc,
                    key,
                    hint=f"{guess}known here: {known}; write '{{{{' for a literal brace; [vars] defines more",
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
                    f"{path} is deployed by both {old.origin} ({self.what(old)}) and {e.origin} ({self.what(e)})",
                    loc,
                    self.key(loc, e.origin, ""),
                    path=path,
                    hint=f"remove one of {old.origin} and {e.origin}, or exclude the path from the tree",
                )
                return
        self.entries[path] = e
        self.meta[path] = (role, loc)

    def what(self, e: Entry) -> str:
        """An entry's kind, and its package's name when the map has several packages."""
        if not self.layout.subpackages:
            return e.kind.value
        return f"{e.kind.value} of package {claimant(self.layout, e.origin) or self.layout.package.name!r}"

    # ------------------------------------------------------------ contents
