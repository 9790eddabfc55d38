"""Write a .deb directly: ar(debian-binary, control.tar.*, data.tar.*), no dpkg-deb needed.

The package equals what dpkg-buildpackage makes from the generated debian/
tree: the same paths, modes (root:root; other owners via dpkg-statoverride in
postinst), link targets (dh_link's form), conffiles, md5sums, maintainer
scripts, copyright and changelog.Debian.gz.  Tar entries are sorted, symlinks
last as dpkg-deb does, every mtime is SOURCE_DATE_EPOCH: two builds of the
same input are byte-identical.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ...archive import zstd
from ...archive.tar import DIRTYPE, REGTYPE, SYMTYPE, TarFormat, TarWriter
from ...archive.xz import XzWriter
from ...atomic import atomic_file
from ...errors import PkgtoolError
from ...model import EntryKind, Resolved
from ...sources.staging import staged_sources
from ...templating import one_line
from . import facts
from .maintainer_scripts import SCRIPT_ORDER, expand_debhelper_tokens, maintainer_scripts
from .units import unit_snippets

_SUFFIX = {"xz": ".xz", "zstd": ".zst", "gzip": ".gz", "none": ""}
_COPY_CHUNK = 1 << 20


# One member of data.tar, as TarWriter.add_members takes it: (name "./rel", tar type, mode, arg);
# arg is the source path (str) or the content (bytes) of a file, a link's target, "" for a directory.
# Plain tuples: 20,000 files make 20,000 of them.
Member = tuple[str, bytes, int, "str | bytes"]


def build_deb(resolved: Resolved, out_dir: Path) -> Path:
    """Write NAME_VERSION-RELEASE_ARCH.deb into ``out_dir``; return its path."""
    compression = resolved.profile.compression
    if compression not in _SUFFIX:
        raise PkgtoolError(f"profile {resolved.profile.id}: unknown compression {compression!r} for a .deb")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / facts.deb_filename(resolved)
    suffix = _SUFFIX[compression]
    with staged_sources(resolved) as sources, tempfile.TemporaryFile(dir=out_dir) as data:
        members = payload(resolved, sources)
        md5sums, installed_kib = _write_data_tar(members, resolved, data)
        control = _control_tar(resolved, md5sums, installed_kib)
        data_size = data.tell()
        data.seek(0)
        with atomic_file(dest) as tmp, open(tmp, "wb") as out:
            out.write(b"!<arch>\n")
            epoch = resolved.source_date_epoch
            _ar_member(out, "debian-binary", io.BytesIO(b"2.0\n"), 4, epoch)
            _ar_member(out, f"control.tar{suffix}", io.BytesIO(control), len(control), epoch)
            _ar_member(out, f"data.tar{suffix}", data, data_size, epoch)
    return dest


# ---------------------------------------------------------------- payload


def format_files(resolved: Resolved, sources: Path) -> dict[str, bytes]:
    """Files debhelper adds to every package: copyright, changelog.Debian.gz, lintian overrides."""
    doc = facts.doc_dir(resolved)
    out = {
        f"{doc}/copyright": facts.copyright_text(resolved, facts.license_texts(resolved, resolved.root)).encode(),
        f"{doc}/changelog.Debian.gz": gzip_n(facts.changelog_text(resolved).encode()),
    }
    overrides = facts.lintian_overrides(resolved)
    if overrides:
        out[facts.lintian_overrides_path(resolved)] = overrides.encode()
    return out


def gzip_n(data: bytes) -> bytes:
    """Like ``gzip -9n`` (what dh_compress runs): no name, mtime 0."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    out = bytearray(buf.getvalue())
    out[9] = 3  # OS = Unix, as gzip writes it (Python writes 255, unknown)
    return bytes(out)


def payload(resolved: Resolved, sources: Path) -> list[Member]:
    """Every member of data.tar, in dpkg-deb's order: sorted by path, symlinks last."""
    items: dict[str, Member] = {}
    base = os.fspath(sources) + "/"
    file_kind, dir_kind = EntryKind.FILE, EntryKind.DIR
    for e in resolved.entries:
        rel = e.path.lstrip("/")  # facts.deployed_rel, inlined: once per entry
        if not rel:
            continue
        kind = e.kind
        if kind is file_kind:
            assert e.source is not None
            # base + source, as os.path.join gives for the relative paths resolve makes (no call per file)
            src = e.source if e.source.startswith("/") else base + e.source
            items[rel] = ("./" + rel, REGTYPE, e.mode, src)
        elif kind is dir_kind:
            items[rel] = ("./" + rel, DIRTYPE, e.mode, "")
        else:
            items[rel] = ("./" + rel, SYMTYPE, 0o777, facts.link_target(e))
    for path, content in format_files(resolved, sources).items():
        rel = facts.deployed_rel(path)
        items.setdefault(rel, ("./" + rel, REGTYPE, 0o644, content))
    last = ""
    for rel in list(items):
        # Walk up only to the first ancestor already present: its own ancestors are
        # handled in its turn (or were added with it).  Siblings share a parent: check it once.
        parent = rel.rpartition("/")[0]
        if parent == last:
            continue
        last = parent
        while parent and parent not in items:
            items[parent] = ("./" + parent, DIRTYPE, 0o755, "")
            parent = parent.rpartition("/")[0]
    order = sorted(items, key=lambda rel: (items[rel][1] is SYMTYPE, rel.encode("utf-8", "surrogateescape")))
    return [items[rel] for rel in order]


@contextmanager
def _compressor(resolved: Resolved, raw: BinaryIO) -> Iterator[BinaryIO]:
    """A write stream that compresses into ``raw`` per the profile."""
    kind = resolved.profile.compression
    level = resolved.profile.compression_level
    if kind == "xz":
        # Fixed-size blocks on a thread pool (like dpkg-deb's threaded xz), the same bytes for any core count.
        xz = XzWriter(raw, level)
        try:
            yield xz  # type: ignore[misc]
        except BaseException:
            xz.abort()
            raise
        xz.close()
        return
    elif kind == "zstd":
        # Worker threads compress while this one reads files; the bytes do not depend on their number.
        stream = zstd.compressor(level).stream_writer(raw, closefd=False)  # type: ignore[assignment]
    elif kind == "gzip":
        stream = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=level)  # type: ignore[assignment]
    else:
        yield raw
        return
    try:
        yield stream
    finally:
        stream.close()


def _write_data_tar(members: list[Member], resolved: Resolved, raw: BinaryIO) -> tuple[list[tuple[str, str]], int]:
    """Stream data.tar into ``raw``.

    Return (rel path, md5 hex) of every regular file, in md5sums order, and the
    KiB dpkg-gencontrol counts for the tree: rounded up per file or link, 1 per
    directory, the root included (the size archived, not a second stat).
    """
    with _compressor(resolved, raw) as stream, TarWriter(stream, TarFormat.GNU, resolved.source_date_epoch) as tar:
        tar.add_dir("./")
        results = tar.add_members(members, md5=True)
    regular = [m[0][2:] for m in members if m[1] is REGTYPE]
    kib = 1 + sum((size + 1023) // 1024 for size, _ in results)
    for _, kind, _, arg in members:
        if kind is DIRTYPE:
            kib += 1
        elif kind is SYMTYPE:
            kib += (len(arg.encode("utf-8", "surrogateescape")) + 1023) // 1024  # type: ignore[union-attr]
    # Regular files are not links: data.tar's order is already md5sums' (UTF-8 bytes of the path).
    return [(rel, digest) for rel, (_, digest) in zip(regular, results, strict=True)], kib


# ---------------------------------------------------------------- control


def control_text(resolved: Resolved, installed_size: int) -> str:
    """DEBIAN/control as dpkg-gencontrol writes it for the generated debian/control."""
    pkg = resolved.package
    fields = [
        ("Package", pkg.name),
        # dpkg-gencontrol names the source package of a binary package named otherwise.
        *([("Source", pkg.source)] if pkg.source else []),
        ("Version", facts.deb_version(resolved)),
        ("Architecture", facts.deb_arch(resolved)),
        ("Maintainer", one_line(pkg.maintainer)),
        ("Installed-Size", str(installed_size)),
        *facts.relation_fields(resolved),
        ("Section", facts.section(resolved)),
        ("Priority", "optional"),
    ]
    if pkg.url.strip():
        fields.append(("Homepage", one_line(pkg.url)))
    fields.append(("Description", facts.description_field(pkg.summary, pkg.description)))
    return "".join(f"{k}: {v}\n" for k, v in fields)


def debian_scripts(resolved: Resolved) -> dict[str, str]:
    """DEBIAN/ maintainer scripts: the debian/ ones with dh_installdeb's tokens expanded.

    #DEBHELPER# becomes what dh_installsystemd adds for [[unit]]; a script the map has no
    body for but a unit needs is written as dh_installdeb writes it (a shebang and set -e).
    """
    name = resolved.package.name
    snippets = unit_snippets(resolved)
    ours = maintainer_scripts(resolved)
    out = {}
    for script in SCRIPT_ORDER:
        if script in ours:
            out[script] = expand_debhelper_tokens(ours[script], name, snippets.get(script, ""))
        elif script in snippets:
            out[script] = "#!/bin/sh\nset -e\n" + snippets[script]
    return out


def _control_tar(resolved: Resolved, md5sums: list[tuple[str, str]], data_kib: int) -> bytes:
    epoch = resolved.source_date_epoch
    members: dict[str, tuple[bytes, int]] = {}
    confs = facts.conffiles(resolved)
    if confs:
        members["conffiles"] = ("".join(p + "\n" for p in confs).encode(), 0o644)
    for script, text in debian_scripts(resolved).items():
        members[script] = (text.encode(), 0o755)
    # dpkg-gencontrol counts the build dir with DEBIAN/ as it is at that point (control not yet in it).
    size = data_kib + 1 + sum((len(content) + 1023) // 1024 for content, _ in members.values())
    members["control"] = (control_text(resolved, size).encode(), 0o644)
    if confs:
        conf_rels = {facts.deployed_rel(p) for p in confs}
        md5sums = [(rel, digest) for rel, digest in md5sums if rel not in conf_rels]
    sums = "".join([f"{digest}  {rel}\n" for rel, digest in md5sums])
    if sums:
        members["md5sums"] = (sums.encode("utf-8", "surrogateescape"), 0o644)
    raw = io.BytesIO()
    with _compressor(resolved, raw) as stream, TarWriter(stream, TarFormat.GNU, epoch) as tar:
        tar.add_dir("./")
        for name in sorted(members):
            content, mode = members[name]
            tar.add_bytes("./" + name, content, mode)
    return raw.getvalue()


# ---------------------------------------------------------------- ar


def _ar_member(out: BinaryIO, name: str, fh: BinaryIO, size: int, epoch: int) -> None:
    header = f"{name:<16}{epoch:<12}{0:<6}{0:<6}{'100644':<8}{size:<10}`\n".encode("ascii")
    assert len(header) == 60
    out.write(header)
    _copy(fh, out, size)
    if size % 2:
        out.write(b"\n")


def _copy(src: BinaryIO, dst: BinaryIO, size: int) -> None:
    """Copy ``size`` bytes from ``src``'s position to ``dst``: in the kernel for real files (no 20 MB through Python)."""
    if not isinstance(src, io.BytesIO):
        dst.flush()
        left = size
        try:
            while left and (n := os.copy_file_range(src.fileno(), dst.fileno(), left)):
                left -= n
        except OSError:
            if left != size:
                raise
        if left == 0:
            return
        if left != size:
            raise PkgtoolError(f"the data member came out {left} bytes short")
        # copy_file_range refused before copying anything (old kernel, some file systems): copy in user space.
    shutil.copyfileobj(src, dst, _COPY_CHUNK)
