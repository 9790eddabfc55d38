"""Write the unpacked source tree's files in worker threads, from the bytes the tarball read.

``generate --distro debian`` writes the orig tarball and, beside it, the same
files unpacked (dpkg-source needs the tree).  Creating many files is kernel
time, and how much varies with the file system, so it should overlap the
tarball's reads and compression rather than add to them.  Here the main
thread reads each file once, archives the bytes and hands them over in
batches; ``_THREADS`` threads create, write, chmod and date the copies while
the system calls release the GIL.  Several threads, not one: on ext4 creating
a file is mostly waiting in the kernel (an empty file costs as much as one of
4 KiB), and creations in different directories overlap, so 4 threads made
W2's 20,000 files about twice as fast as one, on 2 cores too.  The files are
independent (the caller creates every directory before it queues a copy into
it), so the tree is the same whichever thread writes which file.  Memory stays
bounded: only files up to ``MAX_HANDED`` bytes are handed over, in batches of
at most ``_BATCH`` files or about ``_BATCH_BYTES`` bytes, and at most
``_QUEUED`` batches wait (plus one being written per thread); larger files are
copied by the caller as they are archived.  Figures are in bench/notes.md.
"""

from __future__ import annotations

import os
import queue
import threading
from types import TracebackType

from ..atomic import sigint_held
from ..errors import PkgtoolError

MAX_HANDED = 1 << 20  # bytes; a larger file is teed by the caller, in buffer-sized reads
_BATCH = 256  # files per hand-over: one queue operation each, not one per file
_BATCH_BYTES = 4 << 20  # or fewer files, once they hold this much
_QUEUED = 8  # batches waiting: at most about (_QUEUED + _THREADS) * (_BATCH_BYTES + MAX_HANDED) bytes held
_THREADS = 4  # a fixed number: it changes the speed only, never the tree
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC


def open_copy(path: str) -> int:
    """A new file at ``path`` for a copy (mode 0600 until it is complete); a typed error if that fails."""
    try:
        return os.open(path, _CREATE, 0o600)
    except OSError as exc:
        raise PkgtoolError(f"cannot write {path}: {exc.strerror}") from None


def finish_copy(fd: int, path: str, mode: int, epoch: int) -> None:
    """Give the copy its mode (whatever the umask) and the tarball's mtime."""
    try:
        os.fchmod(fd, mode)
        os.utime(fd, (epoch, epoch))
    except OSError as exc:
        raise PkgtoolError(f"cannot write {path}: {exc.strerror}") from None


def _write_copy(path: str, data: bytes, mode: int, epoch: int) -> None:
    fd = open_copy(path)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        finish_copy(fd, path, mode, epoch)
    except OSError as exc:
        raise PkgtoolError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        os.close(fd)


class TreeCopies:
    """``add(path, data, mode)`` queues one copy; leaving the ``with`` waits for all and raises their error.

    After an error (here or in the caller) the threads stop between two files;
    what they wrote stays for the caller's cleanup (an atomic_dir's temp directory).
    """

    def __init__(self, epoch: int) -> None:
        self._epoch = epoch
        self._pending: list[tuple[str, bytes, int]] = []
        self._pending_bytes = 0
        self._batches: queue.Queue[list[tuple[str, bytes, int]] | None] = queue.Queue(maxsize=_QUEUED)
        self._stop = False
        self._error: BaseException | None = None
        self._threads = [threading.Thread(target=self._run, name="source-tree", daemon=True) for _ in range(_THREADS)]

    def __enter__(self) -> TreeCopies:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None and self._pending:
                self._put(self._pending)
                self._pending = []
            if exc_type is not None:
                self._stop = True  # the caller failed: no more copies, only the threads' end
            self._end_threads()  # they may be a few thousand files behind: a Ctrl-C can land here
        except BaseException:
            self._stop_now()
            raise
        if exc_type is None:
            self._raise_error()

    def _end_threads(self) -> None:
        """One end mark per thread (each takes one and ends), then wait for them all."""
        for _ in self._threads:
            self._batches.put(None)  # the threads drain the queue, so there is room
        for thread in self._threads:
            thread.join()

    def _stop_now(self) -> None:
        """Stop the threads between two files and wait for them, a Ctrl-C held meanwhile: once this
        returns nothing writes into the tree any more, so the caller's cleanup can remove it."""
        self._stop = True
        with sigint_held():
            self._end_threads()  # again if need be: surplus marks are left in a queue no one reads

    def add(self, path: str, data: bytes, mode: int) -> None:
        """Queue a copy of ``data`` (at most MAX_HANDED bytes) at ``path`` with ``mode``."""
        self._pending.append((path, data, mode))
        self._pending_bytes += len(data)
        if len(self._pending) >= _BATCH or self._pending_bytes >= _BATCH_BYTES:
            self._put(self._pending)
            self._pending = []
            self._pending_bytes = 0

    def _put(self, batch: list[tuple[str, bytes, int]]) -> None:
        self._raise_error()
        self._batches.put(batch)  # waits while _QUEUED batches are queued: memory stays bounded

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        epoch = self._epoch
        while (batch := self._batches.get()) is not None:
            if self._stop:
                continue  # drain, so that the caller never waits on a full queue
            try:
                for path, data, mode in batch:
                    if self._stop:
                        break
                    _write_copy(path, data, mode, epoch)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                if self._error is None:  # the first one (two threads may fail at once: either is true)
                    self._error = exc
                self._stop = True
