"""A multi-block .xz stream compressed on several threads, byte-identical whatever the thread count.

Python's ``lzma`` compresses one stream on one core.  The .xz format also
allows a stream of independent blocks (what ``xz -T`` writes): here the input
is cut at fixed offsets (``BLOCK_SIZE`` bytes, never a function of the core
count), each block is compressed by ``lzma.compress`` on a thread pool (it
releases the GIL), and the stream header, block headers (with compressed and
uncompressed sizes, so that decoders may decompress the blocks in parallel
too), index and footer are written here, per the xz file format
specification (1.1.0).

Each block is compressed as a one-block .xz stream and its LZMA2 data and
CRC64 are taken from it: the standard library has no CRC64, and liblzma
computes it in the same pass.  At most ``workers + 1`` blocks are in flight,
so memory does not grow with the input.
"""

from __future__ import annotations

import lzma
import os
import struct
import zlib
from collections import deque
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

# Input bytes per block.  LZMA2's dictionary is capped at the block size (a larger one
# finds nothing more and costs memory), so at preset 6 an encoder peaks at about 25 MB
# instead of 94 MiB.  Against 4 MiB blocks (34 MB each) the payload grows by 0.9 %
# (W1-like text: ratio 0.2134 against 0.2114), and two encoders leave a W1 .deb build
# room under 150 MB (it reached 146 MB with 4 MiB blocks on 60 MB of W1).
BLOCK_SIZE = 3 << 20
# Encoders at once, whatever the core count: they dominate a build's memory.
_ENCODER_BUDGET = 100 << 20

_MAGIC = b"\xfd7zXZ\x00"
_FOOTER_MAGIC = b"YZ"
_CHECK_CRC64 = 0x04
_STREAM_FLAGS = bytes((0, _CHECK_CRC64))
_CHECK_SIZE = 8


def _varint(n: int) -> bytes:
    """The format's multibyte integer: 7 bits per byte, low bits first."""
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n, pos
        shift += 7


def _pad4(n: int) -> bytes:
    return bytes(-n % 4)


def stream_header() -> bytes:
    return _MAGIC + _STREAM_FLAGS + struct.pack("<I", zlib.crc32(_STREAM_FLAGS))


def filters(preset: int) -> list[dict[str, int]]:
    """LZMA2 at ``preset``, the dictionary capped at the block size."""
    dict_size = min(_preset_dict_size(preset), BLOCK_SIZE)
    return [{"id": lzma.FILTER_LZMA2, "preset": preset, "dict_size": dict_size}]


def _preset_dict_size(preset: int) -> int:
    # liblzma's presets 0-9 (the extreme flag does not change the dictionary)
    return (256 << 10, 1 << 20, 2 << 20, 4 << 20, 4 << 20, 8 << 20, 8 << 20, 16 << 20, 32 << 20, 64 << 20)[
        preset & 0x1F
    ]


def encode_block(data: bytes, filter_chain: list[dict[str, int]]) -> tuple[bytes, int, int]:
    """One block: (its bytes, unpadded size, uncompressed size) for the index.

    ``data`` must not be empty (an empty block is not written at all).
    """
    one = lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, filters=filter_chain)
    # liblzma's block header: size byte, flags (one filter, no sizes), filter flags, padding, CRC32.
    head_size = (one[12] + 1) * 4
    head = one[12 : 12 + head_size]
    if head[1] != 0:
        raise ValueError("unexpected block flags from liblzma")
    _, pos = _read_varint(head, 2)  # filter id
    props_size, pos = _read_varint(head, pos)
    filter_flags = head[2 : pos + props_size]
    # The index (its size from the footer) gives the block's unpadded size.
    backward = (struct.unpack_from("<I", one, len(one) - 8)[0] + 1) * 4
    index = len(one) - 12 - backward
    count, pos = _read_varint(one, index + 1)
    unpadded, pos = _read_varint(one, pos)
    if count != 1:
        raise ValueError("unexpected block count from liblzma")
    compressed = unpadded - head_size - _CHECK_SIZE
    start = 12 + head_size
    payload = one[start : start + compressed]
    check_at = start + compressed + (-compressed % 4)
    check = one[check_at : check_at + _CHECK_SIZE]
    # Our header: the same filter, and both sizes (flags 0x40 | 0x80).
    body = bytes((0xC0,)) + _varint(compressed) + _varint(len(data)) + filter_flags
    size = 1 + len(body)
    size += -size % 4 + 4  # padding, then the CRC32
    header = bytes((size // 4 - 1,)) + body + bytes(size - 4 - 1 - len(body))
    header += struct.pack("<I", zlib.crc32(header))
    block = header + payload + _pad4(compressed) + check
    return block, len(header) + compressed + _CHECK_SIZE, len(data)


def index_and_footer(records: list[tuple[int, int]]) -> bytes:
    """The index of ``(unpadded size, uncompressed size)`` per block, and the stream footer."""
    index = bytearray(b"\x00") + _varint(len(records))
    for unpadded, size in records:
        index += _varint(unpadded) + _varint(size)
    index += _pad4(len(index))
    index += struct.pack("<I", zlib.crc32(index))
    tail = struct.pack("<I", len(index) // 4 - 1) + _STREAM_FLAGS
    return bytes(index) + struct.pack("<I", zlib.crc32(tail)) + tail + _FOOTER_MAGIC


def default_workers(preset: int) -> int:
    """Threads for ``preset``: one per usable core, as many as the encoder memory budget allows."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    per_encoder = 12 * min(_preset_dict_size(preset), BLOCK_SIZE) + (1 << 20)
    return max(1, min(cores, _ENCODER_BUDGET // per_encoder))


class XzEncoder:
    """Compresses a stream of bytes into one multi-block .xz stream.

    The interface of ``lzma.LZMACompressor``: ``compress`` takes more input and
    returns the output that is ready (in order), ``flush`` returns the rest.
    The bytes depend on the input and the preset only: ``workers`` changes how
    fast, never what.  The thread pool starts with the first full block, so a
    small member (control.tar) is compressed in the calling thread.
    """

    def __init__(self, preset: int = 6, workers: int | None = None) -> None:
        self._filters = filters(preset)
        self._workers = workers if workers is not None else default_workers(preset)
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future[tuple[bytes, int, int]]] = deque()
        self._buf = bytearray()
        self._records: list[tuple[int, int]] = []
        self._started = False
        self._done = False

    def compress(self, data: bytes | bytearray | memoryview) -> bytes:
        if self._done:
            raise ValueError("compress() after flush()")
        out = [] if self._started else [stream_header()]
        self._started = True
        self._buf += data
        while len(self._buf) >= BLOCK_SIZE:
            block = bytes(self._buf[:BLOCK_SIZE])
            del self._buf[:BLOCK_SIZE]
            self._submit(block)
            # Keep at most workers + 1 blocks in flight: wait for the oldest.
            while len(self._pending) > self._workers:
                out.append(self._take())
        while self._pending and self._pending[0].done():
            out.append(self._take())
        return b"".join(out)

    def flush(self) -> bytes:
        out = [self.compress(b"")] if not self._started else []
        self._done = True
        if self._buf:
            if self._pool is None:  # everything fit one block: no thread needed
                out.append(self._record(encode_block(bytes(self._buf), self._filters)))
            else:
                self._submit(bytes(self._buf))
            self._buf = bytearray()
        while self._pending:
            out.append(self._take())
        self.close()
        out.append(index_and_footer(self._records))
        return b"".join(out)

    def close(self) -> None:
        """Stop the threads (after flush, or to abandon the stream after an error)."""
        for fut in self._pending:
            fut.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _submit(self, block: bytes) -> None:
        if self._pool is None:
            # Imported here: a build that writes no xz stream of two blocks or more never needs it.
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="xz")
        self._pending.append(self._pool.submit(encode_block, block, self._filters))

    def _take(self) -> bytes:
        return self._record(self._pending.popleft().result())

    def _record(self, result: tuple[bytes, int, int]) -> bytes:
        block, unpadded, size = result
        self._records.append((unpadded, size))
        return block


class XzWriter:
    """A write-only file object compressing into ``raw`` with ``XzEncoder`` (for tar writers)."""

    def __init__(self, raw: BinaryIO, preset: int = 6, workers: int | None = None) -> None:
        self._raw = raw
        self._enc = XzEncoder(preset, workers)
        self._closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        out = self._enc.compress(data)
        if out:
            self._raw.write(out)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        """Finish the stream; after an error elsewhere, only stop the threads (nothing more is written)."""
        if self._closed:
            return
        self._closed = True
        self._raw.write(self._enc.flush())

    def abort(self) -> None:
        self._closed = True
        self._enc.close()

    def __enter__(self) -> XzWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
