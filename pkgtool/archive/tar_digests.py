"""The md5 of the files TarWriter.add_members archives, taken on a second thread.

As formats/rpm/payload.py does for the rpm payload: hashlib releases the GIL
above 2 KiB, so hashing overlaps the writer's reads and the compressor.  A
buffer full of members is written out, then handed to this thread with the
(result index, start, end) of each file to hash in it, and the writer goes on
in a spare buffer; the thread hands the buffer back once hashed.  The tar
bytes and the digests are those of hashing in the writer's thread.
"""

from __future__ import annotations

import hashlib
import queue
import threading

_SPARE_BUFFERS = 3  # buffers being hashed or free, beside the one being filled
# Files from this size are hashed by add_members' thread, smaller ones in the writer's thread:
# each hand-over of the GIL costs a few microseconds, about what hashing 4 KiB costs.  W1 (5,000
# files of 8-72 KiB) gains from the thread; on W2 (20,000 files of 4 KiB) sending every file
# there gained nothing on a busy 2-core machine (bench/notes.md).
THREAD_MD5_MIN = 8 << 10


class Digests(threading.Thread):
    """Hashes the files in the full buffers it is handed, in any order; puts ``(size, md5 hex)`` at
    each file's index in ``results``; hands each buffer back through ``free``."""

    def __init__(self, results: list[tuple[int, str]], buffer_size: int) -> None:
        super().__init__(name="tar-md5", daemon=True)
        self.results = results
        self.todo: queue.SimpleQueue[tuple[bytearray, list[tuple[int, int, int]]] | None] = queue.SimpleQueue()
        self.free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        # Spares are made when first needed: bytearray(n) writes its n zeros, so each costs
        # resident memory, and a tree of small files (hashed in the writer's thread) needs none.
        self._size, self._made = buffer_size, 0
        self.error: BaseException | None = None

    def run(self) -> None:
        results, md5 = self.results, hashlib.md5
        while (item := self.todo.get()) is not None:
            buf, jobs = item
            try:
                if self.error is None:
                    with memoryview(buf) as view:
                        for index, start, end in jobs:
                            results[index] = (end - start, md5(view[start:end]).hexdigest())
            except BaseException as exc:  # noqa: BLE001 - raised in the writer's thread
                self.error = exc
            finally:
                self.free.put(buf)  # always: the writer may be waiting for it

    def spare(self) -> bytearray:
        """A buffer to fill: a new one while fewer than _SPARE_BUFFERS were made and none is free, else
        one the thread has hashed, once it has one (it hands back every buffer)."""
        if self._made < _SPARE_BUFFERS:
            try:
                return self.free.get_nowait()
            except queue.Empty:
                self._made += 1
                return bytearray(self._size)
        while True:
            try:
                return self.free.get(timeout=1.0)
            except queue.Empty:
                if not self.is_alive():  # a bug, not bad input: fail rather than wait for ever
                    raise RuntimeError("the tar-md5 thread ended without handing back a buffer") from self.error

    def end(self) -> None:
        """Wait until every buffer handed over is hashed; raise what went wrong in the thread."""
        self.todo.put(None)
        self.join()
        if self.error is not None:
            raise self.error
