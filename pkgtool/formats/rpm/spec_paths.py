"""Deployed paths as a spec writes them: under directory macros, as %install shell words, as %files lines.

rpm 4.18 expands a %files line three times and globs it, so a name with `%`, brackets, braces,
quotes or backslashes is written as a glob that matches exactly that one name (``files_path``);
a %install word is shell-quoted first, then has its `%` doubled.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Sequence

from ...errors import ResolveError
from ...links import link_text
from ...model import ConfigKind, Entry, EntryKind, Profile, Resolved
from ...templating import command_lines, rpm_escape, rpm_shell_quote
from ..install_steps import StepKind, install_steps

# Core directory macros every rpm defines; other macros of a profile get a fallback %global.
CORE_MACROS = frozenset(
    {
        "%{_prefix}",
        "%{_bindir}",
        "%{_sbindir}",
        "%{_libexecdir}",
        "%{_datadir}",
        "%{_sysconfdir}",
        "%{_localstatedir}",
        "%{_mandir}",
        "%{_defaultdocdir}",
        "%{_docdir}",
    }
)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Characters a %files path may hold as they are.  Spaces alone are handled by double quotes.
_PLAIN = re.compile(r"[A-Za-z0-9_./+,:@=~^#$`-]*")
# Characters that must match through a one-character class: [%] survives any number of expansions.
_CLASS = set("%[]*?")
# Characters no class can carry through rpm's tokenizer and glob (brace expansion, quotes): matched by '?'.
_ANY = set(" \"'\\{")


def _macro_dirs(profile: Profile) -> tuple[dict[str, str], dict[str, tuple[str, int]]]:
    """(directory -> its rpm macro, for the profile's directories that have one; the memo of
    ``split_macro`` by parent directory), memoised per profile."""
    cached = _MACRO_DIRS.get(id(profile))
    if cached is not None and cached[0] is profile:
        return cached[1], cached[2]
    table: dict[str, str] = {}
    for key, directory in profile.dirs.items():
        macro = profile.rpm_macros.get(key)
        if macro and directory.startswith("/"):
            d = directory.rstrip("/")
            table.setdefault(d, macro)  # two keys for one directory: the first in profile order, as before
    parents: dict[str, tuple[str, int]] = {}
    _MACRO_DIRS[id(profile)] = (profile, table, parents)
    return table, parents


_MACRO_DIRS: dict[int, tuple[Profile, dict[str, str], dict[str, tuple[str, int]]]] = {}


def split_macro(path: str, resolved: Resolved) -> tuple[str, str]:
    """(macro, rest) for the longest profile directory that is a prefix of ``path``; ('', path) if none."""
    table, parents = _macro_dirs(resolved.profile)
    macro = table.get(path)
    if macro is not None:
        return macro, ""
    # Siblings share the answer of their parent: one lookup per path, the walk once per directory.
    parent = path.rpartition("/")[0]
    found = parents.get(parent)
    if found is None:
        found = parents[parent] = _split_dir(parent, table)
    return found[0], path[found[1] :]


def _split_dir(d: str, table: dict[str, str]) -> tuple[str, int]:
    """(macro, length of the directory it stands for) for ``d`` or its nearest listed ancestor."""
    while d:
        macro = table.get(d)
        if macro is not None:
            return macro, len(d)
        d = d.rpartition("/")[0]
    return table.get("", ""), 0  # '' is a profile directory of '/' (none ship one)


def macro_path(path: str, resolved: Resolved) -> str:
    """The path with its directory written as a macro, for spec text (not escaped)."""
    macro, rest = split_macro(path, resolved)
    return macro + rest


def install_word(path: str, resolved: Resolved) -> str:
    """``%{buildroot}%{_datadir}/'a b'``: buildroot and macro outside quotes, the rest a shell word."""
    macro, rest = split_macro(path, resolved)
    return "%{buildroot}" + macro + (rpm_shell_quote(rest) if rest else "")


def files_path(path: str, resolved: Resolved, all_paths: Sequence[str]) -> str:
    """A %files path that names exactly ``path``, whatever characters it holds.

    Found by experiment with rpm 4.18: a %files line is macro-expanded three
    times, quoted names are still globbed, `\\` escapes are not honoured
    outside a glob, and `{` triggers brace expansion even inside `[...]`.
    So: plain names stay plain; names whose only oddity is a space are
    double-quoted; any other name becomes a glob where `%[]*?` are matched by
    one-character classes and space, quotes, backslash and `{` by `?`.  A
    glob that would match another path of the package is refused.
    """
    macro, rest = split_macro(path, resolved)
    if _PLAIN.fullmatch(rest):  # the common case first: no control character either
        return macro + rest
    if _CONTROL.search(rest):
        raise ResolveError(f"{path}: a file name with a control character cannot be listed in an RPM spec")
    if _PLAIN.fullmatch(rest.replace(" ", "")):
        return f'"{macro}{rest}"'
    out = []
    for c in rest:
        if c in _CLASS:
            out.append(f"[{c}]")
        elif c in _ANY:
            out.append("?")
        else:
            out.append(c)
    pattern = "".join(out)
    full = path[: len(path) - len(rest)] + pattern
    others = [p for p in all_paths if p != path and _glob_match(full, p)]
    if others:
        raise ResolveError(
            f"{path}: its name cannot be told apart from {others[0]} in an RPM %files list",
            hint="rename one of them; rpm matches this name only through a glob",
        )
    return macro + pattern


def _glob_match(pattern: str, path: str) -> bool:
    """fnmatch per path segment, as glob(3) matches ('?' and classes never cross '/')."""
    pparts, parts = pattern.split("/"), path.split("/")
    return len(pparts) == len(parts) and all(fnmatch.fnmatchcase(s, p) for p, s in zip(pparts, parts, strict=True))


def attr(entry: Entry) -> str:
    return f"%attr({entry.mode & 0o7777:04o},{rpm_escape(entry.owner)},{rpm_escape(entry.group)})"


def files_lines(resolved: Resolved, all_paths: Sequence[str] | None = None) -> list[str]:
    """Every %files line: owned directories with %dir, files with %attr and flags, links plain.

    ``all_paths`` are every path of the build root (all packages of the spec): a name written
    as a glob must match only itself among them.
    """
    if all_paths is None:
        all_paths = [e.path for e in resolved.entries]
    lines = []
    append = lines.append
    attrs: dict[tuple[int, str, str], str] = {}  # a package has few (mode, owner, group): each %attr made once
    dir_kind, link_kind, none = EntryKind.DIR, EntryKind.SYMLINK, ConfigKind.NONE
    for e in resolved.owned:
        # No rpm_escape here: files_path writes every '%' of a name as '[%]', which no expansion touches.
        name = files_path(e.path, resolved, all_paths)
        kind = e.kind
        if kind is link_kind:
            append(name)
            continue
        key = (e.mode, e.owner, e.group)
        a = attrs.get(key)
        if a is None:
            a = attrs[key] = attr(e)
        if kind is dir_kind:
            append(f"%dir {a} {name}")
        elif not (e.license or e.doc or e.lang or e.no_verify) and e.config is none:
            append(f"{a} {name}")
        else:
            words = []
            if e.lang:
                words.append(f"%lang({e.lang})")
            if e.no_verify:
                words.append(f"%verify(not {' '.join(e.no_verify)})")
            if e.license:
                words.append("%license")
            elif e.doc:
                words.append("%doc")
            if e.config is ConfigKind.NOREPLACE:
                words.append("%config(noreplace)")
            elif e.config is ConfigKind.CONFIG:
                words.append("%config")
            words += [a, name]
            append(" ".join(words))
    for e in resolved.ghosts:
        append(" ".join(_ghost_words(e, files_path(e.path, resolved, all_paths))))
    return lines


def _ghost_words(e: Entry, name: str) -> list[str]:
    """%ghost [%dir] [%lang] [%verify] [%config] %attr NAME: owned, never in the build root or the payload."""
    words = ["%ghost"]
    if e.kind is EntryKind.DIR:
        words.append("%dir")
    if e.lang:
        words.append(f"%lang({e.lang})")
    if e.no_verify:
        words.append(f"%verify(not {' '.join(e.no_verify)})")
    if e.config is ConfigKind.NOREPLACE:
        words.append("%config(noreplace)")
    elif e.config is ConfigKind.CONFIG:
        words.append("%config")
    return [*words, attr(e), name]


def install_lines(resolved: Resolved) -> list[str]:
    """%install: directories, files (with their final mode), then relative symlinks.

    One `install` per run of directories of one mode and per (directory, mode) of
    files that keep their source's name, not one process per path: a tree of
    20,000 files takes seconds in rpmbuild, not minutes.
    """
    lines = []
    # Owned directories with their mode; a link's parent too (install -D makes files' parents).
    link_parents = {posixpath.dirname(e.path) for e in resolved.entries if e.kind is EntryKind.SYMLINK}
    dirs = [e for e in resolved.entries if e.kind is EntryKind.DIR and (e.owned or e.path in link_parents)]
    for step in install_steps(dirs, resolved.files):
        mode = f"{step.mode:04o}"
        if step.kind is StepKind.DIRS:
            lines.append(command_lines(f"install -d -m {mode}", [install_word(d, resolved) for d in step.words]))
            continue
        sources = [rpm_shell_quote(w) for w in step.words]
        if step.kind is StepKind.INTO:
            lines.append(command_lines(f"install -p -D -m {mode} -t {install_word(step.dest, resolved)}", sources))
        else:
            lines.append(f"install -p -D -m {mode} {sources[0]} {install_word(step.dest, resolved)}")
    for e in resolved.entries:
        if e.kind is EntryKind.SYMLINK:
            target = rpm_shell_quote(link_text(e))
            lines.append(f"ln -s {target} {install_word(e.path, resolved)}")
    return lines
