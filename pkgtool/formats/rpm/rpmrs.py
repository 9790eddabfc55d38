"""The rpm-rs backend: write the .rpm with the rpm-rs library (RPM v4 format), no rpmbuild needed.

Kept as a second backend (``--backend rpm-rs``) next to pkgtool's own writer
(native_rpm / rpm_writer), which is faster: rpm-rs 0.30 hashes every file
with the v6 digests too and keeps the compressed payload in memory.

It writes what the generated spec makes rpmbuild write: the same paths,
modes, owners, link targets (relative), config/doc/license flags,
relations, scriptlets (the same bodies from render.scripts) and changelog,
so the two backends can be compared entry by entry.  File content comes
from pkgtool.sources.staged_sources, i.e. with the map's patches applied.
"""

from __future__ import annotations

import os
from pathlib import Path

import rpm_rs

from ...atomic import atomic_file
from ...errors import ToolError
from ...model import ConfigKind, EntryKind, Resolved
from ...sources.staging import staged_sources
from ...templating import one_line
from .names import rpm_arch, rpm_file_name, rpm_release
from .scriptlets import pre_requires, rpm_scriptlets
from .spec import changelog_items, changelog_timestamp, implied_provides, link_target

COMPRESSION = {
    "zstd": rpm_rs.CompressionType.Zstd,
    "xz": rpm_rs.CompressionType.Xz,
    "gzip": rpm_rs.CompressionType.Gzip,
    "none": rpm_rs.CompressionType.NONE,
}

# Map relation kind -> PackageBuilder method ('build-requires' has no place in a binary package).
RELATION_METHODS = {
    "requires": "requires",
    "recommends": "recommends",
    "suggests": "suggests",
    "conflicts": "conflicts",
    "provides": "provides",
    "replaces": "obsoletes",
}

_F = rpm_rs.DependencyFlags
OPERATOR_FLAGS = {
    "<": _F.LESS,
    "<=": _F.LESS | _F.EQUAL,
    "=": _F.EQUAL,
    ">=": _F.GREATER | _F.EQUAL,
    ">": _F.GREATER,
}

SCRIPT_METHODS = {
    "pre": "pre_install_script",
    "post": "post_install_script",
    "preun": "pre_uninstall_script",
    "postun": "post_uninstall_script",
}

BUILD_HOST = "pkgtool"


def _builder(resolved: Resolved) -> rpm_rs.PackageBuilder:
    pkg = resolved.package
    profile = resolved.profile
    b = rpm_rs.PackageBuilder(pkg.name, pkg.version, pkg.license, rpm_arch(resolved), pkg.summary)
    config = rpm_rs.BuildConfig(
        format=rpm_rs.RpmFormat.V4,
        compression=COMPRESSION.get(profile.compression, rpm_rs.CompressionType.Gzip),
        compression_level=profile.compression_level,
        source_date=resolved.source_date_epoch,
    )
    b.using_config(config)
    b.release(rpm_release(resolved))
    if pkg.epoch is not None:
        b.epoch(pkg.epoch)
    b.description(pkg.description.strip("\n"))
    b.build_host(BUILD_HOST)
    b.packager(pkg.maintainer)
    if pkg.url:
        b.url(pkg.url)
    if pkg.vendor:
        b.vendor(pkg.vendor)
    if pkg.section:
        b.group(pkg.section)
    return b


def _add_relations(b: rpm_rs.PackageBuilder, resolved: Resolved) -> None:
    for kind, method in RELATION_METHODS.items():
        add = getattr(b, method)
        for rel in resolved.relations.get(kind, ()):
            if rel.op and rel.version:
                add(rel.name, rel.version, flags=OPERATOR_FLAGS[rel.op])
            else:
                add(rel.name)
    for rel in implied_provides(resolved):
        b.provides(rel.name, rel.version, flags=_F.EQUAL)
    for path in pre_requires(resolved):
        b.requires(path, flags=_F.SCRIPT_PRE)


def _add_entries(b: rpm_rs.PackageBuilder, resolved: Resolved, src_dir: Path) -> None:
    for e in resolved.owned:
        if e.kind is EntryKind.DIR:
            b.with_dir_entry(rpm_rs.FileOptions.dir(e.path, user=e.owner, group=e.group, permissions=e.mode & 0o7777))
        elif e.kind is EntryKind.SYMLINK:
            b.with_symlink(rpm_rs.FileOptions.symlink(e.path, link_target(e), user="root", group="root"))
        else:
            opts = rpm_rs.FileOptions.new(
                e.path,
                user=e.owner,
                group=e.group,
                permissions=e.mode & 0o7777,
                config=e.config is not ConfigKind.NONE,
                noreplace=e.config is ConfigKind.NOREPLACE,
                doc=e.doc and not e.license,
                license=e.license,
            )
            src = src_dir / (e.source or "")
            if os.stat(src).st_mtime < resolved.source_date_epoch:
                # rpm-rs clamps newer mtimes to source_date but keeps older ones, which would make
                # the package differ between checkouts; content added from memory gets source_date.
                b.with_file_contents(src.read_bytes(), opts)
            else:
                b.with_file(str(src), opts)  # streamed by rpm-rs; its mtime is clamped to source_date


def build_rpm_rs(resolved: Resolved, out_dir: Path) -> Path:
    """Write NAME-VERSION-RELEASE.ARCH.rpm into out_dir (atomically); byte-identical for equal input."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    b = _builder(resolved)
    _add_relations(b, resolved)
    for name, body in rpm_scriptlets(resolved).items():
        # rpmbuild drops the trailing newline of a scriptlet body; so do we, to store the same text.
        getattr(b, SCRIPT_METHODS[name])(body.rstrip("\n"))
    for date, author, version, changes in changelog_items(resolved):
        text = "\n".join(f"- {one_line(x)}" for x in changes)
        b.add_changelog_entry(one_line(f"{author} - {version}"), text, changelog_timestamp(date))
    dest = out_dir / rpm_file_name(resolved)
    with staged_sources(resolved) as src_dir:
        _add_entries(b, resolved, Path(src_dir))
        try:
            package = b.build()
        except (RuntimeError, ValueError, OSError) as exc:
            raise ToolError(f"rpm-rs could not build {dest.name}: {exc}", command=["rpm-rs"], output=str(exc)) from None
    with atomic_file(dest) as tmp:
        package.write_file(str(tmp))
    return dest
