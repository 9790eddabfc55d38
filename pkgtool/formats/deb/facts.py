"""Debian facts shared by the debian/ tree and the native .deb writer: names, versions, relations, contents, texts.

Everything here reads only ``Resolved`` and needs no Jinja2: the native writer
(native.py) builds the same package as dpkg-buildpackage on the rendered tree
(debian_dir.py) because both take these facts from here.  One module because
that agreement is the point: a fact split into a second module is a fact one
of the two writers can start to read from somewhere else.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import posixpath
import re
import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path

from ...arches import deb_name
from ...kinds import kind_info
from ...model import ChangelogEntry, ConfigKind, Entry, EntryKind, Resolved, ResolvedRelation
from ...resolve import DEFAULT_EPOCH
from ...templating import one_line
from .python import python_depends

# Relation kinds -> Debian field, in the order dpkg writes binary control fields (deb-control(5)).
# 'breaks' is no table of the map: implied_breaks derives it from [replaces].
# Debian has no per-script dependency: what a preinst needs is a Pre-Depends (Policy 7.2: unpacked
# and configured before this package is unpacked); what postinst, prerm and postrm need, a Depends
# (configured before this package's postinst runs; prerm and postrm run while it still is).
BINARY_RELATION_FIELDS: tuple[tuple[str, str], ...] = (
    ("requires-pre", "Pre-Depends"),
    ("requires", "Depends"),
    ("requires-post", "Depends"),
    ("requires-preun", "Depends"),
    ("requires-postun", "Depends"),
    ("recommends", "Recommends"),
    ("suggests", "Suggests"),
    ("conflicts", "Conflicts"),
    ("breaks", "Breaks"),
    ("replaces", "Replaces"),
    ("provides", "Provides"),
)

DEB_OPS = {"<": "<<", "<=": "<=", "=": "=", ">=": ">=", ">": ">>"}

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


def deb_arch(resolved: Resolved) -> str:
    """The map's arch as Debian names it; ``native`` is the build host's."""
    arch = resolved.package.arch
    if arch == "native":
        import platform

        arch = platform.machine()
    return deb_name(arch)


def deb_filename(resolved: Resolved) -> str:
    return f"{resolved.package.name}_{file_version(resolved)}_{deb_arch(resolved)}.deb"


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
    return f"{name} ({DEB_OPS[rel.op]} {one_line(rel.version)})"


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
    requires = tuple(sorted({*resolved.relations.get("requires", ()), *python_depends(resolved)}, key=lambda r: r.name))
    return {**resolved.relations, "requires": requires, "breaks": implied_breaks(resolved)}


def relation_fields(
    resolved: Resolved, own: Callable[[ResolvedRelation, Resolved], str] | None = None
) -> list[tuple[str, str]]:
    """(Field, value) for every non-empty binary relation field, without ${misc:Depends}.

    ``own`` writes a relation on the package's own version (debian/control: a substvar);
    without it the value is written, as the native writer does.
    """
    by_field: dict[str, list[ResolvedRelation]] = {}
    relations = binary_relations(resolved)
    for kind, field in BINARY_RELATION_FIELDS:
        by_field.setdefault(field, []).extend(relations.get(kind, ()))
    out = []
    for field, found in by_field.items():
        rels = simplify_relations(found)
        if rels:
            texts = (own(r, resolved) if own is not None and r.own else relation_text(r) for r in rels)
            out.append((field, ", ".join(texts)))
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
    # What the package's kind requires by design (kinds/: lintian_waivers), path by path.
    for tag, glob in kind_info(resolved.package.kind).lintian_waivers:
        for e in resolved.entries:
            if fnmatch.fnmatchcase(e.path, glob):
                lines.append(f"{name}: {tag} [{deployed_rel(e.path)}{'/' if e.kind is EntryKind.DIR else ''}]")
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


def changelog_distribution(resolved: Resolved) -> str:
    """The distribution an upload is for: debian/changelog's and the .changes' (the profile's [extra] key)."""
    return one_line(str(resolved.profile.extra.get("changelog_distribution", "unstable")))


def changelog_text(resolved: Resolved) -> str:
    """debian/changelog, newest first, with a right weekday in every trailer."""
    pkg = resolved.package
    distribution = changelog_distribution(resolved)
    # Written here, not from a template: the native .deb build then needs no Jinja2 (40 ms to import).
    out = []
    for entry in _changelog_entries(resolved):
        version = entry.version if ":" in entry.version or pkg.epoch is None else f"{pkg.epoch}:{entry.version}"
        stamp = _dt.datetime.combine(entry.date, CHANGELOG_TIME, _dt.UTC)
        if out:
            out.append("\n")
        out.append(f"{pkg.source or pkg.name} ({one_line(version)}) {one_line(distribution)}; urgency=medium\n\n")
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
    years = sorted({e.date.year for e in resolved.layout.changelog})
    if not years and resolved.source_date_epoch != DEFAULT_EPOCH:
        years = [_dt.datetime.fromtimestamp(resolved.source_date_epoch, _dt.UTC).year]
    # Neither a changelog nor SOURCE_DATE_EPOCH: no year rather than the placeholder epoch's 2000.
    year = "" if not years else str(years[0]) if years[0] == years[-1] else f"{years[0]}-{years[-1]}"
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
            f"Upstream-Name: {pkg.source or pkg.name}\n",
            f"Upstream-Contact: {one_line(pkg.maintainer)}\n",
            f"Source: {source}\n" if source else "",
            "\nFiles: *\n",
            f"Copyright: {(year + ' ') if year else ''}{one_line(pkg.vendor or pkg.maintainer)}\n",
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
