"""Reproducible source tarballs (RPM Source0, Debian orig.tar.gz): sorted, root-owned, one mtime.

The tar stream comes from archive.tar.TarWriter, compressed as the profile's
``source_compression`` says: zstd (in worker threads) or gzip.

For gzip, the stream is cut into independent gzip members of a fixed 1 MiB
of input, compressed at a low level by a few threads (zlib releases the
GIL), because one zlib stream at the default level is by far the slowest
step.  Concatenated members are one valid gzip file (RFC 1952; gzip, tar,
dpkg-source, rpmbuild and Python read them), and because the cut points
depend only on the input, the bytes are the same whatever the number of
cores or threads.  The measurements behind these choices are in
bench/notes.md.
"""

from __future__ import annotations

import contextlib
import os
import zlib
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from ..atomic import atomic_file
from ..errors import PkgtoolError
from ..model import Resolved
from ..sources.generated import generated_sources
from ..sources.regular import open_regular
from ..sources.staging import check_patches
from .tar import DIRTYPE, MODE_OF_SOURCE, REGTYPE, TarFormat, TarWriter, normalised_mode, raise_changed
from .tree_copies import MAX_HANDED, TreeCopies, finish_copy, open_copy

if TYPE_CHECKING:
    from concurrent.futures import Future

# 1 MiB members: each cut restarts deflate's 32 KiB window, which costs little ratio at this size.
GZIP_MEMBER = 1 << 20
# Level 1: about a quarter of level 6's CPU for a somewhat larger tarball (bench/notes.md).
GZIP_LEVEL = 1
_MAX_THREADS = 4


def source_files(resolved: Resolved) -> list[str]:
    """Every file of the layout root that a source package needs, relative and sorted."""
    rels = set()
    for package in resolved.packages:  # one source tree for the main package and every sub-package
        rels.update(e.source for e in package.files if e.source)
        rels.update(package.layout.scripts.values())
    # Patches are not checked by resolve: prove here that each, and what it patches, stays in the tree.
    check_patches(resolved)
    rels.update(p.file for p in resolved.layout.patches)
    rels.add(resolved.layout.source_file.name)
    return sorted(rels)


class SourceMember(NamedTuple):
    """One member of a source tarball, relative to its top directory (a tuple: a tarball may hold 10^4 of them)."""

    rel: str
    path: str  # where to read a file; "" for a directory
    mode: int  # 0o755 for directories; files: MODE_OF_SOURCE (0o755 if executable, else 0o644)
    data: bytes | None = None  # a file pkgtool writes (sources/generated.py): its content, no path

    @property
    def is_dir(self) -> bool:
        return not self.path and self.data is None


def source_members(resolved: Resolved, files: Iterable[str] | None = None) -> list[SourceMember]:
    """The directories and files of a source tarball, sorted.

    No stat here: each file's mode is taken from the descriptor the writer reads it
    through (MODE_OF_SOURCE), and a source that is missing or not a regular file is
    an error there, before anything is in place.
    """
    root = os.fspath(resolved.root)
    base = root if root.endswith("/") else root + "/"  # os.path.join for relative names, without a call each
    rels = sorted(set(files)) if files is not None else source_files(resolved)
    generated = generated_sources(resolved.layout)
    dirs: set[str] = set()
    for rel in rels:
        if not rel or rel.startswith("/") or ".." in rel.split("/"):
            raise PkgtoolError(f"source file {rel!r} is not a relative path inside the layout directory")
        parent = rel.rpartition("/")[0]
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = parent.rpartition("/")[0]
    return [
        SourceMember(name, "", 0o755)
        if name in dirs
        else SourceMember(name, "", 0o644, generated[name])
        if name in generated
        else SourceMember(name, base + name, MODE_OF_SOURCE)
        for name in sorted(dirs.union(rels))
    ]


# source_compression -> the tarball's file name suffix
SUFFIXES = {"gzip": ".tar.gz", "zstd": ".tar.zst"}
ZSTD_LEVEL = 3  # zstd's own default: faster than gzip and smaller than gzip -6 (bench/notes.md)


def tarball_name(top: str, compression: str) -> str:
    """``top`` plus the suffix of ``compression`` ('gzip' or 'zstd')."""
    return top + SUFFIXES[compression]


def write_source_tarball(
    resolved: Resolved, dest: Path, top: str, files: Iterable[str] | None = None, compression: str = "gzip"
) -> Path:
    """Write ``dest`` holding ``top/<rel>`` for each source file; byte-identical for equal input."""
    members = source_members(resolved, files)
    return write_members_tarball(members, dest, top, resolved.source_date_epoch, compression=compression)


def _compressor(raw: BinaryIO, compression: str) -> contextlib.AbstractContextManager[BinaryIO]:
    if compression == "gzip":
        return GzipMembers(raw)
    if compression == "zstd":
        import zstandard  # here: gzip-only runs (every Debian one) never load it

        # threads=-1: worker threads, and the same bytes whatever the number of cores.
        cctx = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1)
        return cctx.stream_writer(raw, closefd=False)
    raise ValueError(f"unknown source compression {compression!r}")


def write_members_tarball(
    members: Sequence[SourceMember],
    dest: Path,
    top: str,
    epoch: int,
    tree: Path | None = None,
    compression: str = "gzip",
) -> Path:
    """Write ``dest`` (compressed with ``compression``): ``top/`` then every member under it.

    With ``tree`` (an existing empty directory), also fill it with the members as the tarball
    unpacks (same modes, mtime ``epoch``), from the same read of each file.  Copies, never hard
    links: dpkg-source patches the tree in place.  Small files are written by a second thread
    (tree_copies), so that creating them overlaps the archiving.
    """
    base = os.fspath(tree) if tree is not None else None
    with atomic_file(Path(dest)) as tmp, open(tmp, "wb") as raw:
        with _compressor(raw, compression) as z, TarWriter(z, TarFormat.PAX, epoch, buffer_size=GZIP_MEMBER) as tar:
            tar.add_dir(top)
            if base is None:  # the tarball alone: one batch, the writer's inlined loop
                read = [m for m in members if m.data is None]
                tar.add_members([(f"{top}/{m.rel}", DIRTYPE if m.is_dir else REGTYPE, m.mode, m.path) for m in read])
                for m in members:  # pkgtool's own files after the map's (their directory is pkgtool's too)
                    if m.data is not None:
                        tar.add_bytes(f"{top}/{m.rel}", m.data, m.mode)
                return Path(dest)
            base = base if base.endswith("/") else base + "/"
            with TreeCopies(epoch) as copies:
                for m in members:
                    name = f"{top}/{m.rel}"
                    out = base + m.rel
                    if m.is_dir:
                        tar.add_dir(name, m.mode)
                        os.makedirs(out, exist_ok=True)  # exist_ok: a script named "./x" lists "." too
                        os.chmod(out, m.mode)  # whatever the umask; before any copy into it is queued
                        continue
                    if m.data is not None:
                        tar.add_bytes(name, m.data, m.mode)
                        copies.add(out, m.data, m.mode)
                        continue
                    read = _read_small(m.path)
                    if read is None:  # a large file: archived and copied in buffer-sized reads, here
                        _add_and_copy(tar, name, m, out, epoch)
                        continue
                    data, mode = read
                    if m.mode >= 0:
                        mode = m.mode
                    tar.add_bytes(name, data, mode)  # the bytes add_file writes for the same file
                    copies.add(out, data, mode)
    return Path(dest)


def _read_small(path: str) -> tuple[bytes, int] | None:
    """(content, MODE_OF_SOURCE's mode) of a file of at most MAX_HANDED bytes; None for a larger one."""
    fd, st = open_regular(path)
    try:
        size = st.st_size
        if size > MAX_HANDED:
            return None
        try:
            data = os.read(fd, size + 1)  # one byte more: a file that grew is seen, as in TarWriter
        except OSError as exc:
            raise PkgtoolError(f"cannot read {path}: {exc.strerror}") from None
        if len(data) != size:
            raise_changed(path, size, len(data))
        return data, normalised_mode(st.st_mode)
    finally:
        os.close(fd)


def _add_and_copy(tar: TarWriter, name: str, m: SourceMember, out: str, epoch: int) -> None:
    fd = open_copy(out)
    try:
        added = tar.add_file(name, m.path, m.mode, tee=fd)
        finish_copy(fd, out, added.mode, epoch)
    finally:
        os.close(fd)


class GzipMembers:
    """A write stream of gzip members of ``GZIP_MEMBER`` input bytes each, compressed in threads.

    At most a few members are in flight, so memory stays bounded whatever the input size.
    """

    def __init__(self, out: BinaryIO, level: int = GZIP_LEVEL, threads: int | None = None):
        self._out = out
        self._level = level
        # Imported here: every native build imports this module (through formats/rpm/spec.py) but never gzips.
        from concurrent.futures import ThreadPoolExecutor

        workers = threads or min(_MAX_THREADS, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pkgtool-gzip")
        self._inflight: deque[Future[bytes]] = deque()
        self._limit = 2 * workers
        self._pending = bytearray()
        self._members = 0

    def __enter__(self) -> GzipMembers:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            for f in self._inflight:
                f.cancel()
            self._pool.shutdown(wait=True)

    def write(self, data: bytes | memoryview) -> int:
        if not self._pending and len(data) == GZIP_MEMBER:
            self._submit(bytes(data))  # TarWriter's whole buffer: one copy, since the caller reuses it
            return GZIP_MEMBER
        self._pending += data  # copied: the caller reuses its buffer
        while len(self._pending) >= GZIP_MEMBER:
            self._submit(bytes(self._pending[:GZIP_MEMBER]))
            del self._pending[:GZIP_MEMBER]
        return len(data)

    def close(self) -> None:
        if self._pending or not self._members:
            self._submit(bytes(self._pending))  # an empty input still makes one valid (empty) member
            self._pending.clear()
        while self._inflight:
            self._out.write(self._inflight.popleft().result())
        self._pool.shutdown(wait=True)

    def _submit(self, chunk: bytes) -> None:
        # wbits 31: a whole gzip member (header with mtime 0, no name; CRC-32 and size trailer).
        self._inflight.append(self._pool.submit(zlib.compress, chunk, self._level, 31))
        self._members += 1
        while len(self._inflight) > self._limit:
            self._out.write(self._inflight.popleft().result())
