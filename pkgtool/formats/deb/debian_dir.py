"""The debian/ tree of a source package, and the Debian facts the native .deb writer shares with it.

Everything here reads only ``Resolved``.  The native writer (build/native_deb.py)
calls the same helpers (control fields, link targets, conffiles, copyright,
changelog, lintian overrides) so that both backends ship the same package.
"""

from __future__ import annotations

import datetime as _dt
import os
import posixpath
import re
import stat
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ...archive.source_tarball import source_members, write_members_tarball
from ...atomic import atomic_dir
from ...errors import PkgtoolError
from ...model import ChangelogEntry, ConfigKind, Entry, EntryKind, Resolved, ResolvedRelation
from ...sources.staging import read_patch
from ...templating import command_lines, environment, make_shell_quote, one_line
from ..install_steps import StepKind, chunks, install_steps
from .maintainer_scripts import maintainer_scripts

# Relation kinds -> Debian field, in the order dpkg writes binary control fields (deb-control(5)).
# 'breaks' is no table of the map: implied_breaks derives it from [replaces].
BINARY_RELATION_FIELDS: tuple[tuple[str, str], ...] = (
    ("requires", "Depends"),
    ("recommends", "Recommends"),
    ("suggests", "Suggests"),
    ("conflicts", "Conflicts"),
    ("breaks", "Breaks"),
    ("replaces", "Replaces"),
    ("provides", "Provides"),
)
_DEB_OPS = {"<": "<<", "<=": "<=", "=": "=", ">=": ">=", ">": ">>"}

# debian/changelog trailers need a time; the map gives dates only.
CHANGELOG_TIME = _dt.time(12, 0, 0)

# SPDX id -> (DEP-5 short name, file under /usr/share/common-licenses or "").
_SPDX_DEP5: dict[str, tuple[str, str]] = {
    "GPL-1.0-or-later": ("GPL-1+", "GPL-1"),
    "GPL-2.0-only": ("GPL-2", "GPL-2"),
    "GPL-2.0-or-later": ("GPL-2+", "GPL-2"),
    "GPL-3.0-only": ("GPL-3", "GPL-3"),
    "GPL-3.0-or-later": ("GPL-3+", "GPL-3"),
    "LGPL-2.0-or-later": ("LGPL-2+", "LGPL-2"),
    "LGPL-2.1-only": ("LGPL-2.1", "LGPL-2.1"),
    "LGPL-2.1-or-later": ("LGPL-2.1+", "LGPL-2.1"),
    "LGPL-3.0-only": ("LGPL-3", "LGPL-3"),
    "LGPL-3.0-or-later": ("LGPL-3+", "LGPL-3"),
    "Apache-2.0": ("Apache-2.0", "Apache-2.0"),
    "MPL-2.0": ("MPL-2.0", "MPL-2.0"),
    "CC0-1.0": ("CC0-1.0", "CC0-1.0"),
    "Artistic-1.0-Perl": ("Artistic", "Artistic"),
    "MIT": ("Expat", ""),
    "BSD-2-Clause": ("BSD-2-clause", ""),
    "BSD-3-Clause": ("BSD-3-clause", ""),
    "ISC": ("ISC", ""),
}
_LICENSE_WORD = re.compile(r"[A-Za-z0-9.+-]+")


# ---------------------------------------------------------------- identity


def deb_version(resolved: Resolved) -> str:
    """[epoch:]version-release, as in debian/changelog and the binary control."""
    pkg = resolved.package
    prefix = f"{pkg.epoch}:" if pkg.epoch is not None else ""
    return f"{prefix}{pkg.version}-{pkg.release}"


def file_version(resolved: Resolved) -> str:
    """Version as it appears in file names (dpkg drops the epoch)."""
    pkg = resolved.package
    return f"{pkg.version}-{pkg.release}"


_ARCH_NAMES = {
    "noarch": "all",
    "x86_64": "amd64",
    "aarch64": "arm64",
    "i386": "i386",
    "i686": "i386",
    "ppc64le": "ppc64el",
    "s390x": "s390x",
    "armv7hl": "armhf",
    "riscv64": "riscv64",
}


def deb_arch(resolved: Resolved) -> str:
    """The map's arch as Debian names it; ``native`` is the build host's."""
    arch = resolved.package.arch
    if arch == "native":
        import platform

        arch = platform.machine()
    return _ARCH_NAMES.get(arch, arch)


def deb_filename(resolved: Resolved) -> str:
    return f"{resolved.package.name}_{file_version(resolved)}_{deb_arch(resolved)}.deb"


def tree_name(resolved: Resolved) -> str:
    return f"{resolved.package.name}-{resolved.package.version}"


def orig_name(resolved: Resolved) -> str:
    return f"{resolved.package.name}_{resolved.package.version}.orig.tar.gz"


def doc_dir(resolved: Resolved) -> str:
    return f"{resolved.profile.dirs.get('docdir', '/usr/share/doc')}/{resolved.package.name}"


def lintian_overrides_path(resolved: Resolved) -> str:
    return f"{resolved.profile.dirs.get('datadir', '/usr/share')}/lintian/overrides/{resolved.package.name}"


# ---------------------------------------------------------------- control fields


def description_field(summary: str, description: str) -> str:
    """Value of a Description field: synopsis, then the extended text, one space in, blank lines as ' .'."""
    out = [one_line(summary)]
    text = _clean_text(description).strip("\n")
    lines = text.split("\n") if text.strip() else []
    for line in lines:
        line = line.rstrip()
        if not line.strip():
            out.append(" .")
        elif line[0].isspace():
            out.append(" " + line)  # shown verbatim by dpkg and apt
        else:
            for part in textwrap.wrap(line, width=79, break_long_words=False, break_on_hyphens=False):
                # ' .x' is reserved by policy: keep a leading dot from being read as a blank line
                out.append(("  " if part.startswith(".") else " ") + part)
    return "\n".join(out)


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(8)
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", text)


def relation_text(rel: ResolvedRelation) -> str:
    name = one_line(rel.name)
    if not rel.op:
        return name
    return f"{name} ({_DEB_OPS[rel.op]} {one_line(rel.version)})"


def simplify_relations(rels: Iterable[ResolvedRelation]) -> list[ResolvedRelation]:
    """Drop exact duplicates and unversioned names that a versioned one of the same name implies.

    Two logical names can map to one Debian package (python, curses -> python3);
    dpkg-gencontrol would fold them the same way, so both backends agree.
    """
    rels = list(rels)
    versioned = {r.name for r in rels if r.op}
    seen: set[tuple[str, str, str]] = set()
    out = []
    for r in rels:
        key = (r.name, r.op, r.version)
        if key in seen or (not r.op and r.name in versioned):
            continue
        seen.add(key)
        out.append(r)
    return out


def implied_breaks(resolved: Resolved) -> tuple[ResolvedRelation, ...]:
    """``Breaks: old (<< v)`` for each [replaces] bounded from above (``<``, ``<=``), as Policy 7.6.1 asks.

    Replaces alone only lets this package overwrite the old one's files; with
    Breaks dpkg also deconfigures or upgrades the old version first.  A name that
    [conflicts] already holds needs none (Conflicts is stronger), nor does a file
    name.  The debian/control, the native .deb and verify all use this one function.
    """
    conflicting = {r.name for r in resolved.relations.get("conflicts", ())}
    return tuple(r for r in resolved.relations.get("replaces", ()) if r.replaces_older and r.name not in conflicting)


def binary_relations(resolved: Resolved) -> dict[str, tuple[ResolvedRelation, ...]]:
    """Relation kind -> relations as a binary package carries them: the map's and the implied Breaks."""
    return {**resolved.relations, "breaks": implied_breaks(resolved)}


def relation_fields(resolved: Resolved) -> list[tuple[str, str]]:
    """(Field, value) for every non-empty binary relation field, without ${misc:Depends}."""
    out = []
    relations = binary_relations(resolved)
    for kind, field in BINARY_RELATION_FIELDS:
        rels = simplify_relations(relations.get(kind, ()))
        if rels:
            out.append((field, ", ".join(relation_text(r) for r in rels)))
    return out


def section(resolved: Resolved) -> str:
    return one_line(resolved.package.section) or "misc"


# ---------------------------------------------------------------- contents


def deployed_rel(path: str) -> str:
    """A deployed absolute path as it appears inside the package tree (no leading '/')."""
    return path.lstrip("/")


def link_target(entry: Entry) -> str:
    """The target dh_link would store: relative inside one top-level directory, absolute across them."""
    assert entry.target is not None
    target = entry.target
    if not target.startswith("/"):
        target = posixpath.normpath(posixpath.join(posixpath.dirname(entry.path), target))
    src = [p for p in target.strip("/").split("/") if p not in ("", ".")]
    dest = [p for p in entry.path.strip("/").split("/") if p not in ("", ".")]
    if not src or src[0] != dest[0]:
        return "/" + "/".join(src)
    x = 0
    while x < len(src) and x < len(dest) and src[x] == dest[x]:
        x += 1
    rel = "../" * (len(dest) - 1 - x) + "".join(p + "/" for p in src[x:])
    if x >= len(src) and not rel:
        return "."
    return rel.rstrip("/")


def absolute_target(entry: Entry) -> str:
    """The link's target as an absolute path (what debian/links wants, without its '/')."""
    assert entry.target is not None
    if entry.target.startswith("/"):
        return posixpath.normpath(entry.target)
    return posixpath.normpath(posixpath.join(posixpath.dirname(entry.path), entry.target))


def is_conffile(resolved: Resolved, entry: Entry) -> bool:
    """Debian conffile: asked for by the map, or a regular file under a profile's auto config dir (/etc)."""
    if entry.kind is not EntryKind.FILE:
        return False
    if entry.config is not ConfigKind.NONE:
        return True
    return any(entry.path.startswith(d.rstrip("/") + "/") for d in resolved.profile.auto_config_dirs)


def conffiles(resolved: Resolved) -> list[str]:
    """Paths of every conffile (is_conffile), in entry order; one pass, the prefixes built once."""
    prefixes = tuple(d.rstrip("/") + "/" for d in resolved.profile.auto_config_dirs)
    none = ConfigKind.NONE
    return [e.path for e in resolved.files if e.config is not none or e.path.startswith(prefixes)]


def _debhelper_list_safe(path: str) -> bool:
    # debhelper splits its list files on whitespace and expands ${...}: such names go into rules instead.
    return not re.search(r"\s", path) and "${" not in path and not path.startswith("#")


# ---------------------------------------------------------------- lintian


def mode_tags(entry: Entry) -> list[tuple[str, str]]:
    """Lintian tags (with their context) that an entry's mode draws: lintian's files/permissions check."""
    mode = entry.mode & 0o7777
    perm = format(mode, "04o")
    if entry.kind is EntryKind.DIR:
        return [] if mode == 0o755 else [("non-standard-dir-perm", f"{perm} != 0755")]
    if entry.kind is not EntryKind.FILE:
        return []
    tags = []
    executable = bool(mode & 0o111)
    if executable and mode & 0o444 != 0o444:
        tags.append(("executable-is-not-world-readable", perm))
    if mode & 0o6000:
        if (mode & ~0o6000) != 0o755 and mode != 0o4754:
            tags.append(("non-standard-setuid-executable-perm", perm))
        tags.append(("elevated-privileges", f"{perm} root/root"))
        return tags
    if executable:
        if mode != 0o755:
            tags.append(("non-standard-executable-perm", f"{perm} != 0755"))
        return tags
    if entry.path.startswith("/etc/sudoers.d/"):
        if mode != 0o440:
            tags.append(("bad-perm-for-file-in-etc-sudoers.d", f"{perm} != 0440"))
        return tags
    if mode != 0o644:
        tags.append(("non-standard-file-perm", f"{perm} != 0644"))
    return tags


def lintian_overrides(resolved: Resolved) -> str:
    """One override line for every mode the map asks for on purpose; '' when there is none."""
    name = resolved.package.name
    lines = []
    file_kind, link_kind = EntryKind.FILE, EntryKind.SYMLINK
    for e in resolved.entries:
        # The usual modes draw no tag (mode_tags agrees): skip them without a call.
        mode = e.mode & 0o7777
        if (
            e.kind is link_kind
            or mode == 0o755
            or (mode == 0o644 and e.kind is file_kind and not e.path.startswith("/etc/sudoers.d/"))
        ):
            continue
        pointer = deployed_rel(e.path) + ("/" if e.kind is EntryKind.DIR else "")
        for tag, context in mode_tags(e):
            lines.append(f"{name}: {tag} {context} [{pointer}]")
    return "".join(line + "\n" for line in lines)


# ---------------------------------------------------------------- changelog and copyright


def _changelog_entries(resolved: Resolved) -> list[ChangelogEntry]:
    entries = list(resolved.layout.changelog)
    pkg = resolved.package
    current = f"{pkg.version}-{pkg.release}"
    if not entries or _strip_epoch(entries[0].version) != current:
        stamp = _dt.datetime.fromtimestamp(resolved.source_date_epoch, _dt.UTC).date()
        entries.insert(0, ChangelogEntry(current, stamp, pkg.maintainer, (f"Package {current} made by pkgtool",)))
    return entries


def _strip_epoch(version: str) -> str:
    return version.split(":", 1)[1] if ":" in version else version


def changelog_text(resolved: Resolved) -> str:
    """debian/changelog, newest first, with a right weekday in every trailer."""
    pkg = resolved.package
    distribution = str(resolved.profile.extra.get("changelog_distribution", "unstable"))
    # Written here, not from a template: the native .deb build then needs no Jinja2 (40 ms to import).
    out = []
    for entry in _changelog_entries(resolved):
        version = entry.version if ":" in entry.version or pkg.epoch is None else f"{pkg.epoch}:{entry.version}"
        stamp = _dt.datetime.combine(entry.date, CHANGELOG_TIME, _dt.UTC)
        if out:
            out.append("\n")
        out.append(f"{pkg.name} ({one_line(version)}) {one_line(distribution)}; urgency=medium\n\n")
        for change in entry.changes or ("No changes recorded",):
            wrapped = textwrap.wrap(one_line(change), width=76, break_long_words=False, break_on_hyphens=False)
            first, *more = wrapped or ["(empty)"]
            out.append(f"  * {first}\n")
            out.extend(f"    {line}\n" for line in more)
        out.append(f"\n -- {one_line(entry.author)}  {stamp.strftime('%a, %d %b %Y %H:%M:%S +0000')}\n")
    return "".join(out)


def dep5_license(spdx: str) -> str:
    """An SPDX expression in DEP-5 words: GPL-2.0-or-later -> GPL-2+, OR -> or."""

    def word(m: re.Match[str]) -> str:
        w = m.group(0)
        if w in ("OR", "AND", "WITH"):
            return w.lower()
        return _SPDX_DEP5.get(w, (w, ""))[0]

    return _LICENSE_WORD.sub(word, one_line(spdx))


def copyright_text(resolved: Resolved, license_texts: Iterable[str] = ()) -> str:
    """debian/copyright in DEP-5: one Files paragraph, one License paragraph per licence named."""
    pkg = resolved.package
    years = sorted({e.date.year for e in resolved.layout.changelog}) or [
        _dt.datetime.fromtimestamp(resolved.source_date_epoch, _dt.UTC).year
    ]
    year = str(years[0]) if years[0] == years[-1] else f"{years[0]}-{years[-1]}"
    ids = [w for w in _LICENSE_WORD.findall(pkg.license) if w not in ("OR", "AND", "WITH")]
    texts = [t for t in license_texts if t.strip()]
    paragraphs = []
    for spdx in dict.fromkeys(ids):
        short, common = _SPDX_DEP5.get(spdx, (spdx, ""))
        if texts and len(ids) == 1:
            body = "\n\n".join(texts)
        elif common:
            body = f"On Debian systems, the complete text of this licence can be found in\n/usr/share/common-licenses/{common}."
        else:
            body = f"The package ships under the {spdx} licence (SPDX identifier {spdx})."
        paragraphs.append(f"\nLicense: {short}\n{_field_body(body)}\n")
    # Written here, not from a template: the native .deb build then needs no Jinja2 (40 ms to import).
    source = one_line(pkg.url)
    return "".join(
        [
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n",
            f"Upstream-Name: {pkg.name}\n",
            f"Upstream-Contact: {one_line(pkg.maintainer)}\n",
            f"Source: {source}\n" if source else "",
            "\nFiles: *\n",
            f"Copyright: {year} {one_line(pkg.vendor or pkg.maintainer)}\n",
            f"License: {dep5_license(pkg.license)}\n",
            *paragraphs,
        ]
    )


def _field_body(text: str) -> str:
    """Continuation lines of a deb822 field: one space in, blank lines as ' .'."""
    lines = _clean_text(text).strip("\n").split("\n")
    return "\n".join(" " + line.rstrip() if line.strip() else " ." for line in lines)


def license_texts(resolved: Resolved, sources: Path) -> list[str]:
    """Texts of the files the map marks ``license = true`` (read from the staged sources)."""
    out = []
    for e in resolved.files:
        if e.license and e.source:
            out.append((sources / e.source).read_text(encoding="utf-8", errors="replace"))
    return out


# ---------------------------------------------------------------- the debian/ tree


@dataclass(frozen=True)
class DebianFile:
    rel: str  # path under debian/
    text: str
    mode: int = 0o644


def _install_commands(resolved: Resolved, tmp: str) -> list[str]:
    """override_dh_auto_install's commands, make-quoted: one `install` per run of directories
    of one mode (path order: parents first) and per (directory, mode) of files that keep
    their source's name, so a large tree does not cost one process per path."""
    commands = []
    dirs = [e for e in resolved.entries if e.kind is EntryKind.DIR and e.path != "/"]
    files = [e for e in resolved.entries if e.kind is EntryKind.FILE]
    for step in install_steps(dirs, files):
        mode = f"{step.mode:04o}"
        if step.kind is StepKind.DIRS:
            commands.append(
                command_lines(f"install -d -m {mode}", [make_shell_quote(tmp + d) for d in step.words], "\t\t")
            )
            continue
        sources = [make_shell_quote(w) for w in step.words]
        if step.kind is StepKind.INTO:
            commands.append(
                command_lines(f"install -D -m {mode} -t {make_shell_quote(tmp + step.dest)}", sources, "\t\t")
            )
        else:
            commands.append(f"install -D -m {mode} {sources[0]} {make_shell_quote(tmp + step.dest)}")
    return commands


def _rules(resolved: Resolved) -> str:
    name = resolved.package.name
    tmp = f"debian/{name}"
    links_in_rules = []
    for e in resolved.entries:
        if e.kind is EntryKind.SYMLINK and not (
            _debhelper_list_safe(e.path) and _debhelper_list_safe(absolute_target(e))
        ):
            links_in_rules.append({"dst": e.path, "target": link_target(e)})
    install = _install_commands(resolved, tmp)
    by_mode: dict[int, list[str]] = {}
    for e in resolved.entries:
        if e.kind is not EntryKind.SYMLINK and e.path != "/":
            by_mode.setdefault(e.mode, []).append(e.path)
    chmods = []
    for mode in sorted(by_mode):
        for chunk in chunks(by_mode[mode]):
            chmods.append({"mode": mode, "paths": chunk})
    return (
        environment()
        .get_template("deb/rules.j2")
        .render(
            name=name,
            tmp=f"debian/{name}",
            install=install,
            links=links_in_rules,
            chmods=chmods,
            changelog=f"{doc_dir(resolved)}/changelog.Debian",
            compression=resolved.profile.compression,
            compression_level=resolved.profile.compression_level,
        )
    )


def debian_files(resolved: Resolved, license_texts: Iterable[str] = ()) -> list[DebianFile]:
    """Every file of debian/, rendered; sorted by path."""
    env = environment()
    pkg = resolved.package
    name = pkg.name
    files = [
        DebianFile("control", _control(resolved)),
        DebianFile("rules", _rules(resolved), 0o755),
        DebianFile("changelog", changelog_text(resolved)),
        DebianFile("copyright", copyright_text(resolved, license_texts)),
        DebianFile("source/format", env.get_template("deb/source/format.j2").render()),
    ]
    links = [
        (deployed_rel(absolute_target(e)), deployed_rel(e.path))
        for e in resolved.entries
        if e.kind is EntryKind.SYMLINK and _debhelper_list_safe(e.path) and _debhelper_list_safe(absolute_target(e))
    ]
    if links:
        files.append(DebianFile(f"{name}.links", env.get_template("deb/links.j2").render(links=links)))
    extra_conf = [
        e.path
        for e in resolved.files
        if e.config is not ConfigKind.NONE
        and not any(e.path.startswith(d.rstrip("/") + "/") for d in resolved.profile.auto_config_dirs)
    ]
    if extra_conf:
        files.append(DebianFile(f"{name}.conffiles", env.get_template("deb/conffiles.j2").render(paths=extra_conf)))
    overrides = lintian_overrides(resolved)
    if overrides:
        files.append(DebianFile(f"{name}.lintian-overrides", overrides))
    for script, text in maintainer_scripts(resolved).items():
        files.append(DebianFile(f"{name}.{script}", text, 0o755))
    patch_names = _patch_names(resolved)
    if patch_names:
        files.append(
            DebianFile("patches/series", env.get_template("deb/patches/series.j2").render(patches=patch_names))
        )
    return sorted(files, key=lambda f: f.rel)


def _control(resolved: Resolved) -> str:
    pkg = resolved.package
    build_deps = ["debhelper-compat (= 13)"]
    build_deps += [relation_text(r) for r in simplify_relations(resolved.relations.get("build-requires", ()))]
    relations = [list(f) for f in relation_fields(resolved)]
    if relations and relations[0][0] == "Depends":
        relations[0][1] += ", ${misc:Depends}"
    else:
        relations.insert(0, ["Depends", "${misc:Depends}"])
    return (
        environment()
        .get_template("deb/control.j2")
        .render(
            name=pkg.name,
            section=substvar_literal(section(resolved)),
            maintainer=substvar_literal(one_line(pkg.maintainer)),
            build_depends=", ".join(build_deps),
            standards_version=resolved.profile.standards_version or "4.6.2",
            homepage=substvar_literal(one_line(pkg.url)),
            arch=deb_arch(resolved),
            relations=relations,
            description=substvar_literal(description_field(pkg.summary, pkg.description)),
        )
    )


def substvar_literal(text: str) -> str:
    """Map text for debian/control that dpkg-gencontrol and dpkg-source hand back unchanged.

    Both expand ``${name}`` in every field (an unknown name becomes empty); ``${}`` is their
    escape for a literal ``$`` (deb-substvars(5)), so each ``${`` is written ``${}{``.
    """
    return text.replace("${", "${}{")


def _patch_names(resolved: Resolved) -> list[str]:
    names: list[str] = []
    for i, p in enumerate(resolved.layout.patches):
        base = posixpath.basename(p.file)
        names.append(base if base not in names else f"{i:04d}-{base}")
    return names


def patch_as_p1(text: str, strip: int) -> str:
    """dpkg-source applies every patch with -p1: rewrite the file names of a -pN patch to a/ b/ form."""
    if strip == 1:
        return text

    def fix(prefix: str, name: str, side: str) -> str:
        if name == "/dev/null":
            return prefix + name
        parts = name.split("/")
        if len(parts) <= strip:
            raise PkgtoolError(f"patch file name {name!r} has fewer than {strip} components to strip")
        return f"{prefix}{side}/{'/'.join(parts[strip:])}"

    out = []
    for line in text.splitlines(keepends=True):
        m = re.match(r"^(--- |\+\+\+ )([^\t\n]+)(.*)$", line, re.S)
        if m:
            side = "a" if m.group(1) == "--- " else "b"
            line = fix(m.group(1), m.group(2), side) + m.group(3)
        out.append(line)
    return "".join(out)


def generate_deb(resolved: Resolved, out_dir: Path) -> list[Path]:
    """Write NAME-VERSION/ (sources + debian/) and NAME_VERSION.orig.tar.gz into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    top = tree_name(resolved)
    epoch = resolved.source_date_epoch
    members = source_members(resolved)
    tree = out_dir / top
    with atomic_dir(tree) as tmp:
        # The tree holds what the orig tarball holds, so dpkg-source sees no change outside
        # debian/: each source is copied into it from the read that archives it (not extracted
        # again; not hard-linked, dpkg-source patches the tree in place).
        orig = write_members_tarball(members, out_dir / orig_name(resolved), top, epoch, tree=tmp)
        debian = tmp / "debian"
        texts = license_texts(resolved, resolved.root)
        for f in debian_files(resolved, texts):
            dest = debian / f.rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(f.text, encoding="utf-8")
            dest.chmod(f.mode)
        for name, p in zip(_patch_names(resolved), resolved.layout.patches, strict=True):
            text = read_patch(resolved, p).decode("utf-8", "surrogateescape")
            (debian / "patches" / name).write_text(
                patch_as_p1(text, p.strip), encoding="utf-8", errors="surrogateescape"
            )
        # The copied sources already have their modes and mtime; only debian/ is new.
        _normalise_tree(debian, epoch)
        os.chmod(tmp, 0o755)
    return [tree, orig]


def _normalise_tree(top: Path, epoch: int) -> None:
    """Modes and mtimes independent of the umask and the clock: dirs 0755, files 0755 or 0644."""
    for dirpath, dirnames, filenames in os.walk(top):
        for name in filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode):
                os.chmod(path, 0o755 if st.st_mode & 0o100 else 0o644)
                os.utime(path, (epoch, epoch))
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o755)
    os.chmod(top, 0o755)
