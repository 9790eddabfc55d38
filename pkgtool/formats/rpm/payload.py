"""The payload of an RPM v4 package, streamed: cpio "newc" -> compressor -> a temporary file.

Each source file is read once, in chunks: the chunks feed the file's SHA-256
and the cpio stream.  The cpio stream is cut into fixed-size pieces and
handed to a second thread that hashes them (the uncompressed payload
digest), compresses them, and writes and hashes the result, so reading and
compressing overlap; hashlib, zstd, lzma and zlib release the GIL.  At most
a few pieces are in flight, so memory does not grow with the package.
"""

from __future__ import annotations

import hashlib
import os
import queue
import stat
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from ...archive.xz import XzEncoder
from ...errors import ArtifactError
from ...sources.regular import open_regular

PIECE = 1 << 20  # bytes of cpio stream handed to the compressing thread at once
_POOL = 4  # buffers of PIECE bytes: the one being filled, the rest queued or being compressed
MAX_NEWC_SIZE = 0xFFFFFFFF  # newc stores sizes in 8 hex digits; rpm switches formats at this size
TRAILER = "TRAILER!!!"


_S_IFMT, _S_IFREG = 0o170000, stat.S_IFREG
_SHA256 = hashlib.sha256()
_PADS = (b"", b"\0\0\0", b"\0\0", b"\0")  # by length % 4: zeros up to the next multiple of 4
_NUL_PADS = (b"\0", b"\0\0\0\0", b"\0\0\0", b"\0\0")  # by (110 + namesize) % 4: the name's NUL and padding


def _newc_template(mtime: int) -> bytes:
    """A newc header with %-slots for ino, mode, size and namesize; uid/gid/devices 0, nlink 1."""
    # fields: ino mode uid gid nlink mtime size devmajor devminor rdevmajor rdevminor namesize check
    return b"070701%08x%08x" + b"0" * 16 + b"%08x%08x" % (1, mtime) + b"%08x" + b"0" * 32 + b"%08x" + b"0" * 8


class NeedsLargeFiles(Exception):
    """A file does not fit a newc header: the payload must be written again in rpm's stripped format."""


class Codec(Protocol):
    def compress(self, data: bytes | memoryview, /) -> bytes: ...
    def flush(self) -> bytes: ...


class _Identity:
    def compress(self, data: bytes | memoryview) -> bytes:
        return bytes(data)

    def flush(self) -> bytes:
        return b""


class _Zstd:
    """zstandard's compressobj in multi-threaded mode: the same bytes for any number of workers.

    Jobs of one window (at least 2 MiB) instead of zstd's default of four:
    its buffers grow with the job size and the number of jobs in flight, so
    smaller jobs bound peak memory for a payload only slightly larger
    (bench/notes.md). Workers within a memory budget, level 19's tables cut to
    one job so that several fit: see archive/zstd.py.
    """

    def __init__(self, level: int) -> None:
        from ...archive import zstd  # imported here: only zstd payloads need zstandard

        self._obj = zstd.compressor(level).compressobj()

    def compress(self, data: bytes | memoryview) -> bytes:
        return self._obj.compress(data)

    def flush(self) -> bytes:
        return self._obj.flush()


def codec(compression: str, level: int) -> Codec:
    """A compressor for a profile's payload compression (``none``, ``gzip``, ``xz``, ``zstd``)."""
    if compression == "zstd":
        return _Zstd(level)
    if compression == "xz":
        # Fixed-size blocks on a thread pool: the same bytes for any number of cores.
        return XzEncoder(level)
    if compression == "gzip":
        # wbits 31: a gzip member; zlib writes mtime 0 and no name, so the bytes depend on the data only.
        return zlib.compressobj(level, zlib.DEFLATED, 31)
    if compression == "none":
        return _Identity()
    raise ArtifactError(f"unknown payload compression {compression!r}")


@dataclass(frozen=True)
class PayloadDigests:
    archive_size: int  # uncompressed cpio bytes (PAYLOADSIZE)
    compressed_size: int
    sha256: str  # of the compressed payload (PAYLOADDIGEST)
    sha256_uncompressed: str  # (PAYLOADDIGESTALT)


class _Sink(threading.Thread):
    """Compresses the pieces of the cpio stream it is handed, in order; writes and hashes the result.

    Each piece is a buffer of the writer's fixed pool; once compressed it goes back to ``free``.
    """

    def __init__(self, codec: Codec, out: BinaryIO) -> None:
        super().__init__(name="rpm-payload", daemon=True)
        self.codec, self.out = codec, out
        self.pieces: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
        self.free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(_POOL):
            self.free.put(bytearray(PIECE))
        self.sha = hashlib.sha256()
        # The uncompressed payload's digest (PAYLOADDIGESTALT), taken here and not in the reading
        # thread: that thread is the critical path.
        self.alt = hashlib.sha256()
        self.size = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        while (item := self.pieces.get()) is not None:
            buf, length = item
            if self.error is None:
                try:
                    with memoryview(buf) as view:
                        self.alt.update(view[:length])
                        self._write(self.codec.compress(view[:length]))
                except BaseException as exc:  # noqa: BLE001 - handed to the producer thread
                    self.error = exc
            self.free.put(buf)  # even after an error, so that the producer never waits forever
        if self.error is None:
            try:
                self._write(self.codec.flush())
            except BaseException as exc:  # noqa: BLE001
                self.error = exc

    def _write(self, data: bytes) -> None:
        if data:
            self.sha.update(data)
            self.out.write(data)
            self.size += len(data)


class CpioWriter:
    """Writes cpio entries into a compressed, hashed stream, in the order of the header's file list.

    Normally "newc" entries named "./path".  With ``large`` (a file of 4 GiB
    or more; the header then has LONGFILESIZES) every entry is rpm's
    stripped header instead: "07070X" and the entry's index in the file list
    (lib/cpio.c rpmcpioStrippedHeaderWrite); the trailer stays newc.

    File content is read straight into the current buffer of a fixed pool
    (``_POOL`` x ``PIECE`` bytes), hashed there, and the buffer is handed to
    the compressing thread when full: no copies, and no allocation that could
    grow with the package or fragment the heap.
    """

    def __init__(self, codec: Codec, out: BinaryIO, mtime: int, large: bool = False, prefix: str = ".") -> None:
        self._large = large
        # "." makes "./usr/bin/x" of a binary package; a source package's entries are bare names ("" + "x.spec").
        self._prefix = prefix
        self._sink = _Sink(codec, out)
        self._buf = self._sink.free.get()
        self._view = memoryview(self._buf)
        self._pos = 0
        self._size = 0
        self._newc = _newc_template(mtime)
        self._ino = 0
        self._closed = False
        self._sink.start()

    # ------------------------------------------------------------ stream

    def _emit(self, data: bytes) -> None:
        """Append ``data`` to the stream (headers, names, padding, link targets: small)."""
        n = len(data)
        if self._pos + n <= PIECE:
            self._view[self._pos : self._pos + n] = data
            self._pos += n
            return
        done = 0
        while done < n:
            if self._pos == PIECE:
                self._hand_over()
            k = min(PIECE - self._pos, n - done)
            self._view[self._pos : self._pos + k] = data[done : done + k]
            self._pos += k
            done += k

    def _hand_over(self) -> None:
        """Pass the current buffer to the compressing thread and take a free one (waits when all are busy)."""
        self._raise_sink_error()
        self._size += self._pos
        self._view.release()
        self._sink.pieces.put((self._buf, self._pos))
        self._buf = self._sink.free.get()
        self._view = memoryview(self._buf)
        self._pos = 0
        self._raise_sink_error()

    def _read_file(self, fd: int, size: int, src: str) -> str:
        """Read exactly ``size`` bytes of ``fd`` into the stream; return their sha256 hex digest."""
        digest = _SHA256.copy()
        left = size
        probed = False  # whether a read asked for one byte more than was left (to see growth)
        while left or not probed:
            if self._pos == PIECE:
                self._hand_over()
            room = PIECE - self._pos
            want = min(room, left + 1)
            probed = want > left
            chunk = self._view[self._pos : self._pos + want]
            got = os.readv(fd, [chunk])
            if got > left or (got == 0 and left):
                self._check_size(src, size, size - left + got)
            if got:
                digest.update(chunk[:got])
            chunk.release()
            self._pos += got
            left -= got
        return digest.hexdigest()

    def _header(self, mode: int, size: int, name: str, ino: int) -> bytes:
        """The entry's header and name, padded to 4 bytes (the data follows)."""
        if self._large and ino:
            return b"07070X%08x\0\0" % (ino - 1)  # rpm's stripped header, padded to 4 bytes
        raw = name.encode("utf-8", "surrogateescape")
        namesize = len(raw) + 1
        return (self._newc % (ino, mode, size, namesize)) + raw + _NUL_PADS[(110 + namesize) % 4]

    # ------------------------------------------------------------ entries

    def directory(self, path: str, mode: int) -> None:
        self._ino += 1
        self._emit(self._header(stat.S_IFDIR | mode, 0, self._prefix + path, self._ino))

    def symlink(self, path: str, target: str) -> None:
        self._ino += 1
        raw = target.encode("utf-8", "surrogateescape")
        self._emit(
            self._header(stat.S_IFLNK | 0o777, len(raw), self._prefix + path, self._ino) + raw + _PADS[len(raw) % 4]
        )

    def add_entries(self, entries: Iterable[tuple[str, int, str]]) -> list[tuple[int, str]]:
        """Add every ``(path, st_mode, arg)`` in order; return ``(size, sha256 hex or '')`` of each.

        ``arg`` is the source file of a regular file, the target of a symlink, unused
        for a directory.  The bytes are those of ``regular``/``directory``/``symlink``
        called one by one; the common case (a regular file whose entry fits the
        current buffer) is inlined here, since 20,000 small files are mostly the
        Python around their system calls.
        """
        out: list[tuple[int, str]] = []
        append = out.append
        newc = self._newc
        limit = MAX_NEWC_SIZE  # read here, not at import: tests lower it
        inline = not self._large
        sha256 = hashlib.sha256
        for path, mode, arg in entries:
            if not inline or mode & _S_IFMT != _S_IFREG:
                if mode & _S_IFMT == stat.S_IFDIR:
                    self.directory(path, mode & 0o7777)
                    append((0, ""))
                elif mode & _S_IFMT == stat.S_IFLNK:
                    self.symlink(path, arg)
                    append((len(arg.encode("utf-8", "surrogateescape")), ""))
                else:
                    append(self.regular(path, mode & 0o7777, arg))
                continue
            self._ino += 1
            fd, st = open_regular(arg, ArtifactError)
            size = st.st_size
            try:
                if size >= limit:
                    raise NeedsLargeFiles(path)
                raw = (self._prefix + path).encode("utf-8", "surrogateescape")
                namesize = len(raw) + 1
                head = (newc % (self._ino, mode, size, namesize)) + raw + _NUL_PADS[(110 + namesize) % 4]
                pos = self._pos
                end = pos + len(head)
                if end + size + 4 > PIECE:  # crosses into the next buffer: the general path
                    self._emit(head)
                    digest = self._read_file(fd, size, arg)
                    self._emit(_PADS[size % 4])
                    append((size, digest))
                    continue
                view = self._view
                view[pos:end] = head
                with view[end : end + size + 1] as chunk:  # one byte more, to see a file that grew
                    got = os.readv(fd, [chunk])
                if got != size:
                    self._check_size(arg, size, got)
                with view[end : end + size] as data:
                    append((size, sha256(data).hexdigest()))
                pad = _PADS[size % 4]
                view[end + size : end + size + len(pad)] = pad
                self._pos = end + size + len(pad)
            except OSError as exc:
                raise ArtifactError(f"cannot read {arg}: {exc.strerror}") from None
            finally:
                os.close(fd)
        return out

    def regular(self, path: str, mode: int, src: str) -> tuple[int, str]:
        """Stream ``src`` in as ``path``; return its (size, sha256 hex).

        The general path, for any size and either header format: ``add_entries``
        inlines the common case (a newc entry that fits the current buffer) and must
        write the same bytes (tests/test_rpm_writer.py compares the two).
        """
        self._ino += 1
        fd, st = open_regular(src, ArtifactError)
        size = st.st_size
        try:
            if size >= MAX_NEWC_SIZE and not self._large:
                raise NeedsLargeFiles(path)
            self._emit(self._header(stat.S_IFREG | mode, size, self._prefix + path, self._ino))
            digest = self._read_file(fd, size, src)
            self._emit(_PADS[size % 4])
            return size, digest
        except OSError as exc:
            raise ArtifactError(f"cannot read {src}: {exc.strerror}") from None
        finally:
            os.close(fd)

    @staticmethod
    def _check_size(src: str, expected: int, got: int) -> None:
        if got != expected:
            raise ArtifactError(f"{src} changed while it was being packaged ({expected} bytes expected, {got} read)")

    def finish(self) -> PayloadDigests:
        """Write the trailer, flush the compressor and wait for the thread; return the sizes and digests."""
        self._newc = _newc_template(0)  # the trailer is all zeros but nlink and namesize, in any format
        self._emit(self._header(0, 0, TRAILER, 0))
        self._hand_over()
        self._stop()
        self._raise_sink_error()
        return PayloadDigests(self._size, self._sink.size, self._sink.sha.hexdigest(), self._sink.alt.hexdigest())

    def _raise_sink_error(self) -> None:
        exc = self._sink.error
        if exc is None:
            return
        if isinstance(exc, ArtifactError | OSError):
            raise exc
        raise ArtifactError(f"payload compression failed: {exc}") from exc

    def _stop(self) -> None:
        if not self._closed:
            self._closed = True
            self._sink.pieces.put(None)
            self._sink.join()

    def abort(self) -> None:
        """Stop the compressing thread after an error (idempotent)."""
        if self._sink.error is None:
            self._sink.error = ArtifactError("payload aborted")
        self._stop()
        close = getattr(self._sink.codec, "close", None)  # a codec with threads of its own
        if close is not None:
            close()
