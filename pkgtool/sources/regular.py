"""Open a source file that goes into an archive: a regular file, read without blocking or following a swap."""

from __future__ import annotations

import os
import stat

from ..errors import PkgtoolError

# O_NONBLOCK: a FIFO swapped in after resolve must not hang the read (regular files ignore it).
OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK


def open_regular(path: str, error: type[PkgtoolError] = PkgtoolError) -> tuple[int, os.stat_result]:
    """``(fd, its fstat)`` for the regular file at ``path``; ``error`` with a clear message otherwise.

    The caller closes ``fd``.  The type is checked on the open descriptor, so a path
    swapped for a FIFO, device or directory since it was listed is refused, not read.
    """
    try:
        fd = os.open(path, OPEN_FLAGS)
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{path} is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd, st
