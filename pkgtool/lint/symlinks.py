"""Core rule about symbolic links: every target must exist once the package is installed."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from ..diagnostics import Severity
from ..globs import PathSet
from ..model import Entry, EntryKind
from .context import LintContext
from .rule import Finding, Rule, check

RULES: tuple[Rule, ...] = (
    Rule(
        "dangling-symlink",
        Severity.ERROR,
        "symlinks",
        "A symlink points at a path that neither the package nor a declared file dependency provides.",
        "Relative targets are taken from the link's directory, and links inside the package are "
        "followed. The target must be an entry of the package (a file, link or directory it "
        "deploys, or a parent directory it creates), a directory the distro profile lists as the "
        "system's, or a path named by a file dependency in [requires] (a relation whose name is the "
        'path itself: `"/usr/bin/python3" = ""`). Otherwise the link is broken on a system where '
        "nothing else happens to ship that path, which is what rpmlint reports as dangling-symlink "
        "and lintian as a broken link.\n\n"
        "Fix: correct the target (a typo, or a placeholder such as `{datadir}` that expands "
        "differently than you thought), ship the target, or declare the dependency that provides it "
        'as a file dependency: `[requires] "/usr/bin/python3" = ""`.',
    ),
)

_MAX_HOPS = 40  # as the kernel's ELOOP limit


def link_destination(link: str, target: str) -> str:
    base = target if target.startswith("/") else posixpath.join(posixpath.dirname(link), target)
    return posixpath.normpath(base)


def follow(path: str, links: dict[str, str]) -> str:
    """Resolve links of the package found in the parents of ``path`` (not the last component)."""
    for _ in range(_MAX_HOPS):
        parts = path.strip("/").split("/")
        for i in range(1, len(parts)):
            prefix = "/" + "/".join(parts[:i])
            if prefix in links:
                path = posixpath.normpath(posixpath.join(link_destination(prefix, links[prefix]), *parts[i:]))
                break
        else:
            return path
    return path


def _file_dependencies(ctx: LintContext) -> set[str]:
    deps: set[str] = set()
    siblings = {p.package.name: p for p in ctx.siblings}
    for rel in ctx.resolved.relations.get("requires", ()):
        for name in (rel.name, rel.logical):
            if name.startswith("/"):
                deps.add(posixpath.normpath(name))
        if rel.name in siblings:  # another package of the map, required: what it ships is there
            deps.update(e.path for e in siblings[rel.name].entries)
    return deps


@check("dangling-symlink")
def dangling_symlink(ctx: LintContext) -> Iterator[Finding]:
    if not any(e.kind is EntryKind.SYMLINK for e in ctx.entries):
        return  # nothing to follow: the path sets below are not built for a package of plain files
    entries = ctx.paths()
    links = {e.path: e.target for e in ctx.entries if e.kind is EntryKind.SYMLINK and e.target}
    known = set(entries) | _file_dependencies(ctx)
    system = PathSet(ctx.profile.system_dirs)  # may hold globs ('/usr/lib/python3*')
    for e in ctx.entries:
        if e.kind is not EntryKind.SYMLINK:
            continue
        if not e.target:
            yield _finding(e, "(empty)")
            continue
        dest = follow(link_destination(e.path, e.target), links)
        if dest not in known and dest not in system:
            yield _finding(e, dest)


def _finding(e: Entry, dest: str) -> Finding:
    return Finding(
        "dangling-symlink",
        f"symlink {e.path} -> {e.target} points at {dest}, which nothing in the package or its file dependencies provides",
        entry=e,
        key="target",
        hint=f'fix the target, ship {dest}, or declare it: [requires] "{dest}" = ""',
    )


CHECKS = (dangling_symlink,)
