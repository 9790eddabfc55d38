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
import hashlib
import io
import lzma
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

from ..atomic import atomic_file
from ..errors import PkgtoolError
from ..model import EntryKind, Resolved
from ..render import deb as D
from ..render.deb_scripts import expand_debhelper_tokens, maintainer_scripts
from ..render.env import one_line
from ..sources import staged_sources
from ..tarwriter import TarFormat, TarWriter

_SUFFIX = {"xz": ".xz", "zstd": ".zst", "gzip": ".gz", "none": ""}
_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class _Item:
    """One member of data.tar."""

    rel: str  # path without leading '/'
    kind: EntryKind
    mode: int
    source: str | None = None  # FILE read from disk (str: no pathlib in the per-file loop)
    data: bytes | None = None  # FILE made here (copyright, changelog)
    target: str = ""  # SYMLINK


def build_deb(resolved: Resolved, out_dir: Path) -> Path:
    """Write NAME_VERSION-RELEASE_ARCH.deb into ``out_dir``; return its path."""
    compression = resolved.profile.compression
    if compression not in _SUFFIX:
        raise PkgtoolError(f"profile {resolved.profile.id}: unknown compression {compression!r} for a .deb")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / D.deb_filename(resolved)
    suffix = _SUFFIX[compression]
    with staged_sources(resolved) as sources, tempfile.TemporaryFile(dir=out_dir) as data:
        items = payload(resolved, sources)
        md5sums, sizes = _write_data_tar(items, resolved, data)
        control = _control_tar(resolved, items, md5sums, sizes)
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
    doc = D.doc_dir(resolved)
    out = {
        f"{doc}/copyright": D.copyright_text(resolved, D.license_texts(resolved, resolved.root)).encode(),
        f"{doc}/changelog.Debian.gz": gzip_n(D.changelog_text(resolved).encode()),
    }
    overrides = D.lintian_overrides(resolved)
    if overrides:
        out[D.lintian_overrides_path(resolved)] = overrides.encode()
    return out


def gzip_n(data: bytes) -> bytes:
    """Like ``gzip -9n`` (what dh_compress runs): no name, mtime 0."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    out = bytearray(buf.getvalue())
    out[9] = 3  # OS = Unix, as gzip writes it (Python writes 255, unknown)
    return bytes(out)


def payload(resolved: Resolved, sources: Path) -> list[_Item]:
    """Every member of data.tar, in dpkg-deb's order: sorted by path, symlinks last."""
    items: dict[str, _Item] = {}
    base = os.fspath(sources)
    for e in resolved.entries:
        rel = D.deployed_rel(e.path)
        if not rel:
            continue
        if e.kind is EntryKind.FILE:
            assert e.source is not None
            items[rel] = _Item(rel, e.kind, e.mode, source=os.path.join(base, e.source))
        elif e.kind is EntryKind.DIR:
            items[rel] = _Item(rel, e.kind, e.mode)
        else:
            items[rel] = _Item(rel, e.kind, 0o777, target=D.link_target(e))
    for path, content in format_files(resolved, sources).items():
        rel = D.deployed_rel(path)
        items.setdefault(rel, _Item(rel, EntryKind.FILE, 0o644, data=content))
    for rel in list(items):
        # Walk up only to the first ancestor already present: its own ancestors are
        # handled in its turn (or were added with it), and no _Item is built in vain.
        parent = rel.rpartition("/")[0]
        while parent and parent not in items:
            items[parent] = _Item(parent, EntryKind.DIR, 0o755)
            parent = parent.rpartition("/")[0]
    ordered = sorted(
        items.values(), key=lambda it: (it.kind is EntryKind.SYMLINK, it.rel.encode("utf-8", "surrogateescape"))
    )
    return ordered


@contextmanager
def _compressor(resolved: Resolved, raw: BinaryIO) -> Iterator[BinaryIO]:
    """A write stream that compresses into ``raw`` per the profile."""
    kind = resolved.profile.compression
    level = resolved.profile.compression_level
    if kind == "xz":
        stream: BinaryIO = lzma.LZMAFile(raw, "wb", format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=level)  # noqa: SIM115 (closed below)
    elif kind == "zstd":
        # threads=-1: compress in worker threads while this one reads files.  Any threads >= 1
        # gives the same bytes whatever the core count; threads=0 (in-line) would differ.
        cctx = zstandard.ZstdCompressor(level=level, threads=-1)
        stream = cctx.stream_writer(raw, closefd=False)  # type: ignore[assignment]
    elif kind == "gzip":
        stream = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=level)  # type: ignore[assignment]
    else:
        yield raw
        return
    try:
        yield stream
    finally:
        stream.close()


def _write_data_tar(items: list[_Item], resolved: Resolved, raw: BinaryIO) -> tuple[dict[str, str], dict[str, int]]:
    """Stream data.tar into ``raw``; return md5 hex digests and sizes of every regular file by rel path."""
    digests: dict[str, str] = {}
    sizes: dict[str, int] = {}
    with _compressor(resolved, raw) as stream, TarWriter(stream, TarFormat.GNU, resolved.source_date_epoch) as tar:
        tar.add_dir("./")
        for it in items:
            name = "./" + it.rel
            if it.kind is EntryKind.DIR:
                tar.add_dir(name, it.mode)
            elif it.kind is EntryKind.SYMLINK:
                tar.add_symlink(name, it.target, it.mode)
            elif it.data is not None:
                tar.add_bytes(name, it.data, it.mode)
                digests[it.rel] = hashlib.md5(it.data).hexdigest()
                sizes[it.rel] = len(it.data)
            else:
                assert it.source is not None
                added = tar.add_file(name, it.source, it.mode, md5=True)
                digests[it.rel] = added.md5
                sizes[it.rel] = added.size
    return digests, sizes


# ---------------------------------------------------------------- control


def control_text(resolved: Resolved, installed_size: int) -> str:
    """DEBIAN/control as dpkg-gencontrol writes it for the generated debian/control."""
    pkg = resolved.package
    fields = [
        ("Package", pkg.name),
        ("Version", D.deb_version(resolved)),
        ("Architecture", D.deb_arch(resolved)),
        ("Maintainer", one_line(pkg.maintainer)),
        ("Installed-Size", str(installed_size)),
        *D.relation_fields(resolved),
        ("Section", D.section(resolved)),
        ("Priority", "optional"),
    ]
    if pkg.url.strip():
        fields.append(("Homepage", one_line(pkg.url)))
    fields.append(("Description", D.description_field(pkg.summary, pkg.description)))
    return "".join(f"{k}: {v}\n" for k, v in fields)


def debian_scripts(resolved: Resolved) -> dict[str, str]:
    """DEBIAN/ maintainer scripts: the debian/ ones with dh_installdeb's tokens expanded."""
    name = resolved.package.name
    return {k: expand_debhelper_tokens(v, name) for k, v in maintainer_scripts(resolved).items()}


def _installed_size(items: list[_Item], sizes: dict[str, int], control_files: dict[str, bytes]) -> int:
    # dpkg-gencontrol: KiB rounded up per file or link, 1 per directory, over the
    # whole build dir (its root and DEBIAN/ with the files present at that point).
    total = 2
    for it in items:
        if it.kind is EntryKind.DIR:
            total += 1
        elif it.kind is EntryKind.SYMLINK:
            total += math.ceil(len(it.target.encode()) / 1024)
        else:
            total += math.ceil(sizes[it.rel] / 1024)  # the size archived, not a second stat
    for content in control_files.values():
        total += math.ceil(len(content) / 1024)
    return total


def _control_tar(resolved: Resolved, items: list[_Item], md5sums: dict[str, str], sizes: dict[str, int]) -> bytes:
    epoch = resolved.source_date_epoch
    members: dict[str, tuple[bytes, int]] = {}
    confs = D.conffiles(resolved)
    if confs:
        members["conffiles"] = ("".join(p + "\n" for p in confs).encode(), 0o644)
    for script, text in debian_scripts(resolved).items():
        members[script] = (text.encode(), 0o755)
    size = _installed_size(items, sizes, {k: v for k, (v, _) in members.items()})
    members["control"] = (control_text(resolved, size).encode(), 0o644)
    conf_rels = {D.deployed_rel(p) for p in confs}
    sums = "".join(
        f"{md5sums[rel]}  {rel}\n"
        for rel in sorted(md5sums, key=lambda r: r.encode("utf-8", "surrogateescape"))
        if rel not in conf_rels
    )
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
    shutil.copyfileobj(fh, out, _COPY_CHUNK)
    if size % 2:
        out.write(b"\n")
