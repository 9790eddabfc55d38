"""The RPM source package: NAME.spec, NAME-VERSION.tar.zst (or .tar.gz), patches, and an rpmlint configuration.

Everything here reads a Resolved and nothing else.  Text from the map goes
through one of three escapes, each matching where it lands:

- spec text (tags, %description, %changelog, scriptlets, %install lines):
  every `%` doubled (`rpm_escape`), so rpm expands no macro from user data;
  a %description line starting with `%` also gets a leading space, because
  rpm checks each expanded line for a section name (`%files`, `%install`);
- %install shell words: shell-quoted first, then `%` doubled;
- %files paths: see ``files_path``: rpm 4.18 expands a %files line three
  times and globs it, so a name with `%`, brackets, braces, quotes or
  backslashes is written as a glob that matches exactly that one name.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...archive.source_tarball import tarball_name, write_source_tarball
from ...atomic import write_bytes_atomic
from ...errors import ResolveError
from ...links import link_text as link_target  # the relative target in %install and the native RPM
from ...model import ConfigKind, Entry, EntryKind, Profile, Resolved, ResolvedRelation
from ...sources.regular import read_input
from ...templating import command_lines, environment, one_line, rpm_escape, rpm_shell_quote
from ..install_steps import StepKind, install_steps
from .names import rpm_release
from .scriptlets import SCRIPTLETS, pre_requires, rpm_scriptlets

# Map relation kind -> spec tag.  'replaces' is Obsoletes in RPM (plus implied_provides).
RELATION_TAGS: dict[str, str] = {
    "build-requires": "BuildRequires",
    "requires": "Requires",
    "recommends": "Recommends",
    "suggests": "Suggests",
    "conflicts": "Conflicts",
    "provides": "Provides",
    "replaces": "Obsoletes",
}

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


def files_lines(resolved: Resolved) -> list[str]:
    """Every %files line: owned directories with %dir, files with %attr and flags, links plain."""
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
        elif not (e.license or e.doc) and e.config is none:
            append(f"{a} {name}")
        else:
            words = []
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
    return lines


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
            target = rpm_shell_quote(link_target(e))
            lines.append(f"ln -s {target} {install_word(e.path, resolved)}")
    return lines


def relation_text(rel: ResolvedRelation) -> str:
    if rel.op and rel.version:
        return f"{rel.name} {rel.op} {rel.version}"
    return rel.name


def package_evr(resolved: Resolved, dist: bool = True) -> str:
    """[epoch:]version-release as every RPM backend writes it (release with the profile's dist tag)."""
    pkg = resolved.package
    release = rpm_release(resolved) if dist else pkg.release
    base = f"{pkg.version}-{release}"
    return f"{pkg.epoch}:{base}" if pkg.epoch is not None else base


def spec_evr(resolved: Resolved) -> str:
    """The same EVR in macros, so the spec follows its own Epoch/Version/Release (and %{?dist})."""
    base = "%{version}-%{release}"
    return "%{epoch}:" + base if resolved.package.epoch is not None else base


def implied_provides(resolved: Resolved, evr: str | None = None) -> tuple[ResolvedRelation, ...]:
    """``Provides: old = EVR`` for each [replaces] bounded from above (``<``, ``<=``) that [provides] lacks.

    Fedora's renaming guideline: Obsoletes goes with a Provides of the old name, so
    that what requires it still resolves.  An unbounded (or ``>``/``>=``/``=``)
    Obsoletes gets none: with its own Provides the package would obsolete itself
    (rpmlint ``self-obsoletion``).  ``evr`` is this package's EVR, ``package_evr``
    unless given (the spec passes ``spec_evr``); file names (``/usr/bin/x``) are
    never provided this way.  Every RPM writer and verify use this one function.
    """
    provided = {r.name for r in resolved.relations.get("provides", ())}
    version = package_evr(resolved) if evr is None else evr
    out: dict[str, ResolvedRelation] = {}
    for r in resolved.relations.get("replaces", ()):
        if r.replaces_older and r.name not in provided:
            out.setdefault(r.name, ResolvedRelation(r.name, "=", version, r.logical))
    return tuple(out[name] for name in sorted(out))


def relation_lines(resolved: Resolved) -> list[tuple[str, str]]:
    """(tag, value) pairs for the preamble, in RELATION_TAGS order, each escaped; implied Provides after the map's."""
    out = []
    for kind, tag in RELATION_TAGS.items():
        for rel in resolved.relations.get(kind, ()):
            out.append((tag, rpm_escape(one_line(relation_text(rel)))))
        if kind == "provides":
            # The version is spec_evr's macros: not escaped, rpm must expand them.
            implied = implied_provides(resolved, spec_evr(resolved))
            out += [(tag, f"{rpm_escape(one_line(r.name))} = {r.version}") for r in implied]
    return out


def description_lines(text: str) -> list[str]:
    lines = [rpm_escape(line.rstrip()) for line in text.strip("\n").splitlines()]
    # rpm looks for a section name in each expanded line: "%files" in prose would open one.
    return [(" " + line) if line.startswith("%") else line for line in lines]


def changelog_items(resolved: Resolved) -> list[tuple[_dt.date, str, str, tuple[str, ...]]]:
    """(date, author, "version-release", changes) newest first; one made from the metadata when the map has none."""
    if resolved.layout.changelog:
        return [(c.date, c.author, c.version, tuple(c.changes)) for c in resolved.layout.changelog]
    pkg = resolved.package
    date = _dt.datetime.fromtimestamp(resolved.source_date_epoch, _dt.UTC).date()
    return [(date, pkg.maintainer, f"{pkg.version}-{pkg.release}", (f"Package {pkg.name} {pkg.version}",))]


def changelog_entries(resolved: Resolved) -> list[dict[str, object]]:
    """%changelog entries for the template, escaped: header line and change lines."""
    return [
        {
            "header": rpm_escape(one_line(f"* {date.strftime('%a %b %d %Y')} {author} - {version}")),
            "changes": [rpm_escape(one_line(x)) for x in changes],
        }
        for date, author, version, changes in changelog_items(resolved)
    ]


def changelog_timestamp(date: _dt.date) -> int:
    """Noon UTC of a changelog date, as rpmbuild stores it (the native builder writes the same)."""
    return int(_dt.datetime(date.year, date.month, date.day, 12, tzinfo=_dt.UTC).timestamp())


def patch_names(resolved: Resolved) -> list[tuple[str, int, str]]:
    """(file name in SOURCES, strip, relative source) per [[patch]]; names must be distinct."""
    seen: dict[str, str] = {}
    out = []
    for p in resolved.layout.patches:
        name = posixpath.basename(p.file)
        if name in seen:
            raise ResolveError(f"patches {seen[name]} and {p.file} have the same file name; rename one")
        seen[name] = p.file
        out.append((name, p.strip, p.file))
    return out


def macro_fallbacks(resolved: Resolved, used: Sequence[str]) -> list[str]:
    """%global lines for non-core macros the spec uses, so rpmbuilds without them still work."""
    out = []
    for key, macro in sorted(resolved.profile.rpm_macros.items()):
        if macro in CORE_MACROS or not any(macro in line for line in used):
            continue
        m = re.fullmatch(r"%\{([A-Za-z0-9_]+)\}", macro)
        directory = resolved.profile.dirs.get(key)
        if m and directory:
            out.append(f"%{{!?{m.group(1)}:%global {m.group(1)} {rpm_escape(directory)}}}")
    return out


def build_arch(resolved: Resolved) -> tuple[str, str]:
    """('BuildArch', 'noarch') | ('ExclusiveArch', arch) | ('', '') for the build host's arch."""
    arch = resolved.package.arch
    if arch == "noarch":
        return ("BuildArch", "noarch")
    if arch == "native":
        return ("", "")
    return ("ExclusiveArch", rpm_escape(one_line(arch)))


def spec_context(resolved: Resolved) -> dict[str, object]:
    pkg = resolved.package
    files = files_lines(resolved)
    install = install_lines(resolved)
    patches = patch_names(resolved)
    strips = {s for _, s, _ in patches}
    scripts = {name: rpm_escape(body) for name, body in rpm_scriptlets(resolved).items()}
    return {
        "pkg": pkg,
        "name": rpm_escape(pkg.name),
        "source0": tarball_name("%{name}-%{version}", resolved.profile.source_compression),
        "version": rpm_escape(pkg.version),
        "release": rpm_escape(pkg.release),
        "epoch": pkg.epoch,
        "summary": rpm_escape(one_line(pkg.summary)),
        "license": rpm_escape(one_line(pkg.license)),
        "packager": rpm_escape(one_line(pkg.maintainer)),
        "url": rpm_escape(one_line(pkg.url)),
        "vendor": rpm_escape(one_line(pkg.vendor)),
        "group": rpm_escape(one_line(pkg.section)),
        "arch": build_arch(resolved),
        "relations": relation_lines(resolved),
        "pre_requires": list(pre_requires(resolved)),
        "patches": [(rpm_escape(n), s) for n, s, _ in patches],
        "autosetup_strip": next(iter(strips)) if len(strips) == 1 else None,
        "description": description_lines(pkg.description),
        "install": install,
        "scripts": [(name, scripts[name]) for name in SCRIPTLETS if name in scripts],
        "files": files,
        "changelog": changelog_entries(resolved),
        "fallbacks": macro_fallbacks(resolved, files + install),
        "profile": resolved.profile.id,
    }


def render_spec(resolved: Resolved) -> str:
    return environment().get_template("rpm/spec.j2").render(**spec_context(resolved))


# ---------------------------------------------------------------- rpmlint


@dataclass(frozen=True)
class LintFilter:
    """One rpmlint finding the map asks for on purpose, and the path it is about."""

    check: str
    path: str


def lint_filters(resolved: Resolved) -> list[LintFilter]:
    """The rpmlint warnings the map's own modes draw, path by path, and nothing else."""
    out = []
    for e in resolved.owned:
        mode = e.mode & 0o7777
        if e.kind is EntryKind.DIR and mode != 0o755:
            out.append(LintFilter("non-standard-dir-perm", e.path))
        elif e.kind is EntryKind.FILE:
            if mode & 0o111 and mode & 0o777 not in (0o755, 0o555) and not mode & 0o6000:
                out.append(LintFilter("non-standard-executable-perm", e.path))
            if mode & 0o6000:
                out.append(LintFilter("setuid-binary" if mode & 0o4000 else "setgid-binary", e.path))
                out.append(LintFilter("non-standard-executable-perm", e.path))
            if not mode & 0o004:
                out.append(LintFilter("non-readable", e.path))
            if mode & 0o111 and e.config is not ConfigKind.NONE:
                out.append(LintFilter("executable-marked-as-config-file", e.path))
    return out


def render_rpmlintrc(resolved: Resolved) -> str:
    filters = [
        (
            f.check,
            "^" + re.escape(resolved.package.name) + r"\.\S+: \S+ " + f.check + " " + re.escape(f.path) + r"(\s|$)",
        )
        for f in lint_filters(resolved)
    ]
    return environment().get_template("rpm/rpmlintrc.j2").render(name=resolved.package.name, filters=filters)


def render_rpmlint_toml(resolved: Resolved) -> str:
    return environment().get_template("rpm/rpmlint.toml.j2").render(license=resolved.package.license)


# ---------------------------------------------------------------- output


def generate_rpm(resolved: Resolved, out_dir: Path) -> list[Path]:
    """Write NAME.spec, NAME-VERSION.tar.{gz,zst}, each patch, NAME.rpmlintrc and NAME-rpmlint.toml into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pkg = resolved.package
    spec = render_spec(resolved)
    written = []
    spec_path = out_dir / f"{pkg.name}.spec"
    write_bytes_atomic(spec_path, spec.encode("utf-8"))
    written.append(spec_path)
    top = f"{pkg.name}-{pkg.version}"
    compression = resolved.profile.source_compression
    tarball = out_dir / tarball_name(top, compression)
    written.append(write_source_tarball(resolved, tarball, top, compression=compression))
    for name, _, rel in patch_names(resolved):
        dest = out_dir / name
        write_bytes_atomic(dest, read_input(resolved.root, rel, "patch"))
        written.append(dest)
    rc = out_dir / f"{pkg.name}.rpmlintrc"
    write_bytes_atomic(rc, render_rpmlintrc(resolved).encode("utf-8"))
    written.append(rc)
    toml = out_dir / f"{pkg.name}-rpmlint.toml"
    write_bytes_atomic(toml, render_rpmlint_toml(resolved).encode("utf-8"))
    written.append(toml)
    return written
