"""A fast, reproducible tar writer for root-owned archives (.deb data.tar, source tarballs).

Every member is owned by root:root (uid/gid 0) and carries one mtime.  The
common header (an ASCII-or-UTF-8 name and link target of at most 100 bytes, a
size below 8 GiB) is packed from a precomputed template into one reusable
buffer, and file data is read into that same buffer with ``os.readv``: no
``TarInfo`` objects, no whole file in memory.  Anything else (long names via
GNU longlink or PAX records, non-ASCII PAX names, base-256 sizes) is left to
``tarfile.TarInfo.tobuf``, so the bytes equal what ``tarfile`` writes for the
same members in the same format.

``add_members`` writes a whole list of members in one loop, the common file
(short name, fits the buffer) inlined: per file one open, one fstat, one
``readv`` of size + 1 bytes (the extra byte shows a file that grew), the
digest, one close, and a header made from a per-mode template.  20,000 small
files are mostly Python overhead, so that loop is kept flat.

With ``md5=True`` the digests of the larger common files are taken by a
second thread from the writer's full buffers (archive/tar_digests.py).
"""

from __future__ import annotations

import enum
import hashlib
import os
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import PkgtoolError
from ..sources.regular import open_regular
from . import tar_digests

BLOCK = tarfile.BLOCKSIZE
RECORD = tarfile.RECORDSIZE
_ZEROS = bytes(RECORD)
_ENCODING = "utf-8"
_ERRORS = "surrogateescape"  # tarfile's default: carries undecodable file names unchanged
_MAX_OCTAL_SIZE = 8**11  # larger sizes need base-256 (GNU) or a PAX record
_PADS = tuple(bytes(n) for n in range(BLOCK))  # zeros up to the next block, by their count
REGTYPE, DIRTYPE, SYMTYPE = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE
# The mode of a regular member that is "the source's, normalised": 0o755 when the file
# has an execute bit, else 0o644 (source tarballs).  Read from the open file's fstat, so
# a source tarball needs no stat of its own per file.
MODE_OF_SOURCE = -1


def normalised_mode(st_mode: int) -> int:
    """What MODE_OF_SOURCE stands for, for a file of ``st_mode``."""
    return 0o755 if st_mode & 0o111 else 0o644


class TarFormat(enum.Enum):
    """The two formats pkgtool writes, as tarfile knows them."""

    GNU = tarfile.GNU_FORMAT  # .deb data.tar/control.tar, like dpkg-deb
    PAX = tarfile.PAX_FORMAT  # source tarballs

    @property
    def magic(self) -> bytes:
        return tarfile.GNU_MAGIC if self is TarFormat.GNU else tarfile.POSIX_MAGIC


@dataclass(frozen=True)
class Added:
    """What ``add_file`` wrote: the member's size, mode and, when asked, its MD5 hex digest."""

    size: int
    md5: str = ""
    mode: int = 0o644


def _template(fmt: TarFormat, mtime: int) -> tuple[bytes, int]:
    """The header with every field that is the same for all members; and its byte sum."""
    h = bytearray(BLOCK)
    h[108:116] = b"%07o\0" % 0  # uid
    h[116:124] = b"%07o\0" % 0  # gid
    h[136:148] = b"%011o\0" % mtime
    h[148:156] = b" " * 8  # the checksum counts its own field as spaces
    h[257:265] = fmt.magic
    h[265:269] = b"root"  # uname
    h[297:301] = b"root"  # gname
    return bytes(h), sum(h)


class _ModeTemplates(dict):
    """mode -> (the template of a regular file's header with that mode and type, its byte sum); filled on use."""

    def __init__(self, template: bytes) -> None:
        super().__init__()
        self._template = template

    def __missing__(self, mode: int) -> tuple[bytes, int]:
        h = bytearray(self._template)
        h[100:108] = b"%07o\0" % (mode & 0o7777)
        h[156] = REGTYPE[0]
        self[mode] = value = (bytes(h), sum(h))
        return value


def raise_changed(path: str, expected: int, got: int) -> None:
    """The error for a file whose size changed between its fstat and its read."""
    how = "shrank" if got < expected else "grew"
    raise PkgtoolError(f"{path} {how} while it was being archived ({expected} bytes expected, {got} read)")


class TarWriter:
    """Write a tar stream of root-owned members into ``out`` (a binary write stream).

    Use as a context manager, or call ``close``; ``out`` itself is left open.
    """

    def __init__(self, out: BinaryIO, fmt: TarFormat, mtime: int, buffer_size: int = 1 << 20):
        if buffer_size < RECORD or buffer_size % BLOCK:
            raise ValueError("buffer_size must be a multiple of 512 and at least 10240")
        self._out = out
        self._fmt = fmt
        self._mtime = mtime
        self._buf = bytearray(buffer_size)
        self._view = memoryview(self._buf)
        self._pos = 0
        self._flushed = 0
        self._closed = False
        # An mtime outside the octal field (year 2242+) sends every header to tarfile.
        self._fast = 0 <= mtime < _MAX_OCTAL_SIZE
        self._template, self._template_sum = _template(fmt, mtime if self._fast else 0)
        self._reg_templates = _ModeTemplates(self._template)
        # While add_members hashes on a thread: that thread, and (result index, start, end)
        # of each file in the current buffer that it has still to hash.
        self._digests: tar_digests.Digests | None = None
        self._jobs: list[tuple[int, int, int]] = []

    def __enter__(self) -> TarWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()

    # ------------------------------------------------------------ members

    def add_dir(self, name: str, mode: int = 0o755) -> None:
        if not name.endswith("/"):
            name += "/"  # as tarfile writes directory names
        self._header(name, mode, 0, tarfile.DIRTYPE, "")

    def add_symlink(self, name: str, target: str, mode: int = 0o777) -> None:
        self._header(name, mode, 0, tarfile.SYMTYPE, target)

    def add_bytes(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self._header(name, mode, len(data), tarfile.REGTYPE, "")
        self._put(data)
        self._pad(len(data))

    def add_file(self, name: str, path: str, mode: int = 0o644, md5: bool = False, tee: int | None = None) -> Added:
        """Add the regular file at ``path`` as ``name``; one open, data read straight into the buffer.

        ``mode``: the member's mode, or MODE_OF_SOURCE.  ``tee``: a file descriptor that
        gets a copy of the data on the way (one read, two writes).
        """
        fd, st = open_regular(path)
        if mode < 0:
            mode = normalised_mode(st.st_mode)
        try:
            size, digest = self._stream_file(fd, st.st_size, name, path, mode, md5, tee)
        finally:
            os.close(fd)
        return Added(size, digest, mode)

    def add_members(
        self, members: Iterable[tuple[str, bytes, int, str | bytes]], md5: bool = False
    ) -> list[tuple[int, str]]:
        """Add every ``(name, type, mode, arg)`` in order; return ``(size, md5 hex or '')`` of each regular member.

        ``type`` is ``REGTYPE`` (``arg``: the source path, or the content as bytes;
        ``mode`` may be MODE_OF_SOURCE for a path), ``DIRTYPE`` (``arg`` unused) or
        ``SYMTYPE`` (``arg``: the link target).
        The bytes are those of the same calls to ``add_file``/``add_bytes``/``add_dir``/``add_symlink``.
        """
        out: list[tuple[int, str]] = []
        if not md5:
            self._add_members(members, out, False)
            return out
        self._digests = digests = tar_digests.Digests(out, len(self._buf))
        digests.start()
        try:
            self._add_members(members, out, True)
        except BaseException:
            self._jobs = []
            raise
        finally:
            self._digests = None
            digests.end()  # on an error too: the thread ends before this returns
        # The files of the buffer still being filled: hashed here, no hand-over.
        view = self._view
        for index, start, end in self._jobs:
            out[index] = (end - start, hashlib.md5(view[start:end]).hexdigest())
        self._jobs = []
        return out

    def _add_members(
        self, members: Iterable[tuple[str, bytes, int, str | bytes]], out: list[tuple[int, str]], md5: bool
    ) -> None:
        """add_members' loop; a larger common file's digest is left to the Digests thread (its place in ``out``
        holds ``(size, '')`` until then)."""
        append = out.append
        buf, view, cap = self._buf, self._view, len(self._buf)
        jobs = self._jobs
        reg_templates = self._reg_templates
        new_md5 = hashlib.md5 if md5 else None
        # Without digests nothing goes to the thread (there is none): no size reaches this.
        _THREAD_MD5_MIN = tar_digests.THREAD_MD5_MIN if md5 else _MAX_OCTAL_SIZE  # noqa: N806 - a local constant
        fast = self._fast
        pax = self._fmt is TarFormat.PAX  # non-ASCII names need a PAX record there
        pos = self._pos
        for name, kind, mode, arg in members:
            if arg.__class__ is not str or kind != REGTYPE:
                self._pos = pos
                if kind == DIRTYPE:
                    self.add_dir(name, mode)
                elif kind == SYMTYPE:
                    self.add_symlink(name, arg, mode)  # type: ignore[arg-type]
                else:
                    self.add_bytes(name, arg, mode)  # type: ignore[arg-type]
                    append((len(arg), new_md5(arg).hexdigest() if new_md5 else ""))
                pos = self._pos
                buf, view, jobs = self._buf, self._view, self._jobs  # a flush may have swapped them
                continue
            fd, st = open_regular(arg)
            try:
                size = st.st_size
                if mode < 0:
                    mode = 0o755 if st.st_mode & 0o111 else 0o644  # normalised_mode, inlined
                nb = name.encode(_ENCODING, _ERRORS)
                start = pos + BLOCK
                end = start + size
                if end >= cap and BLOCK + size < cap:  # fits an empty buffer (with the byte that shows growth)
                    self._pos = pos
                    self._flush()
                    buf, view, jobs = self._buf, self._view, self._jobs
                    pos, start, end = 0, BLOCK, BLOCK + size
                if end >= cap or len(nb) > 100 or not fast or (pax and not nb.isascii()):
                    self._pos = pos
                    append(self._stream_file(fd, size, name, arg, mode, md5, None))
                    pos = self._pos
                    buf, view, jobs = self._buf, self._view, self._jobs
                    continue
                size_b = b"%011o\0" % size
                tmpl = reg_templates[mode]
                buf[pos:start] = tmpl[0]
                buf[pos : pos + len(nb)] = nb
                buf[pos + 124 : pos + 136] = size_b
                buf[pos + 148 : pos + 155] = b"%06o\0" % (tmpl[1] + sum(nb) + sum(size_b))
                got = os.readv(fd, [view[start : end + 1]])
                if got != size:
                    raise_changed(arg, size, got)
                if size >= _THREAD_MD5_MIN:
                    jobs.append((len(out), start, end))
                    append((size, ""))
                else:
                    append((size, new_md5(view[start:end]).hexdigest() if new_md5 else ""))
                pad = -size % BLOCK
                buf[end : end + pad] = _PADS[pad]
                pos = end + pad
            except OSError as exc:
                raise PkgtoolError(f"cannot read {arg}: {exc.strerror}") from None
            except UnicodeEncodeError:
                raise PkgtoolError(f"the name {name!r} cannot be written to a tar archive") from None
            finally:
                os.close(fd)
        self._pos = pos

    def close(self) -> None:
        """End the archive as tarfile does: two zero blocks, then zeros up to a whole 10240-byte record."""
        if self._closed:
            return
        self._closed = True
        self._put(_ZEROS[: 2 * BLOCK])
        tail = (self._flushed + self._pos) % RECORD
        if tail:
            self._put(_ZEROS[: RECORD - tail])
        self._flush()

    # ------------------------------------------------------------ internals

    def _header(self, name: str, mode: int, size: int, kind: bytes, linkname: str) -> None:
        try:
            nb = name.encode(_ENCODING, _ERRORS)
            lb = linkname.encode(_ENCODING, _ERRORS)
        except UnicodeEncodeError:
            raise PkgtoolError(f"the name {name!r} (or its link target) cannot be written to a tar archive") from None
        if (
            not self._fast
            or len(nb) > 100
            or len(lb) > 100
            or size >= _MAX_OCTAL_SIZE
            or (self._fmt is TarFormat.PAX and not (nb.isascii() and lb.isascii()))
        ):
            self._put(self._tarfile_header(name, mode, size, kind, linkname))
            return
        mode_b = b"%07o\0" % (mode & 0o7777)
        size_b = b"%011o\0" % size
        chk = self._template_sum + sum(nb) + sum(lb) + sum(mode_b) + sum(size_b) + kind[0]
        if self._pos + BLOCK > len(self._buf):
            self._flush()
        pos = self._pos
        buf = self._buf
        buf[pos : pos + BLOCK] = self._template
        buf[pos : pos + len(nb)] = nb
        buf[pos + 100 : pos + 108] = mode_b
        buf[pos + 124 : pos + 136] = size_b
        buf[pos + 148 : pos + 155] = b"%06o\0" % chk
        buf[pos + 156] = kind[0]
        buf[pos + 157 : pos + 157 + len(lb)] = lb
        self._pos = pos + BLOCK

    def _stream_file(
        self, fd: int, size: int, name: str, path: str, mode: int, md5: bool, tee: int | None
    ) -> tuple[int, str]:
        """Add the open regular file ``fd`` of ``size`` bytes in buffer-sized reads (any size, any name);
        return (size, md5 hex)."""
        self._header(name, mode, size, REGTYPE, "")
        digest = hashlib.md5() if md5 else None
        view, cap = self._view, len(self._buf)
        remaining = size
        try:
            while True:
                if self._pos == cap:
                    self._flush()
                    view = self._view  # add_members' hashing thread may have swapped the buffer
                pos = self._pos
                # One byte more than is left: a file that grew is seen, not cut short in silence.
                n = os.readv(fd, [view[pos : min(cap, pos + remaining + 1)]])
                if n > remaining or (not n and remaining):
                    raise_changed(path, size, size - remaining + n)
                if not n:
                    break
                if digest is not None:
                    digest.update(view[pos : pos + n])
                if tee is not None:
                    _write_all(tee, view[pos : pos + n])
                self._pos = pos + n
                remaining -= n
        except OSError as exc:
            raise PkgtoolError(f"cannot read {path}: {exc.strerror}") from None
        self._pad(size)
        return size, digest.hexdigest() if digest is not None else ""

    def _tarfile_header(self, name: str, mode: int, size: int, kind: bytes, linkname: str) -> bytes:
        info = tarfile.TarInfo(name)
        info.mode = mode
        info.size = size
        info.type = kind
        info.linkname = linkname
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = self._mtime
        try:
            return info.tobuf(self._fmt.value, _ENCODING, _ERRORS)
        except (ValueError, UnicodeError) as exc:
            raise PkgtoolError(f"{name!r} cannot be written to a tar archive: {exc}") from None

    def _put(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        cap = len(self._buf)
        while view:
            if self._pos == cap:
                self._flush()
            n = min(len(view), cap - self._pos)
            self._buf[self._pos : self._pos + n] = view[:n]
            self._pos += n
            view = view[n:]

    def _pad(self, size: int) -> None:
        pad = -size % BLOCK
        if pad:
            self._put(_ZEROS[:pad])

    def _flush(self) -> None:
        if self._pos:
            self._out.write(self._view[: self._pos])
            self._flushed += self._pos
            self._pos = 0
            if self._jobs and self._digests is not None:
                # Files still to hash: the buffer goes to the thread, the writer goes on in a spare one.
                self._digests.todo.put((self._buf, self._jobs))
                self._jobs = []
                self._buf = self._digests.spare()
                self._view = memoryview(self._buf)


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]
