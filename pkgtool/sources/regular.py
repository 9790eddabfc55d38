"""Open a source file that goes into an archive: a regular file, read without blocking or following a swap."""

from __future__ import annotations

import os
import posixpath
import stat

from ..diagnostics import Diagnostic, Severity
from ..errors import PkgtoolError, ResolveError
from ..model import Location

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


_SPECIAL = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}


def not_regular(mode: int) -> str | None:
    """'is a FIFO, not a regular file' (and so on) for a mode that is not a regular file's; else None."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a regular file"
    return f"is {_SPECIAL.get(stat.S_IFMT(mode), 'special')}, not a regular file"


def input_path(root: str | os.PathLike, rel: str, what: str, loc: Location | None = None) -> str:
    """The path of input file ``rel`` under ``root``, proven to stay there; ResolveError (unsafe-path) if not.

    Every command reads map-named inputs (patches, scripts) through this, so a symlink in the
    tree that leads out of it is refused the same way by build, generate, lint and install.
    """
    top = os.fspath(root)
    norm = posixpath.normpath(rel)
    full = os.path.join(top, norm)
    real, top_real = os.path.realpath(full), os.path.realpath(top)
    if rel.startswith("/") or norm == ".." or norm.startswith("../") or not real.startswith(top_real + os.sep):
        message = f"{what} {rel!r} is outside the layout directory"
        raise ResolveError(message, [Diagnostic("unsafe-path", Severity.ERROR, message, loc)])
    return full


def read_input(root: str | os.PathLike, rel: str, what: str, loc: Location | None = None) -> bytes:
    """The bytes of input file ``rel``: inside ``root`` (input_path) and a regular file (open_regular)."""
    path = input_path(root, rel, what, loc)

    def refused(message: str) -> ResolveError:
        message = message.replace(path, f"{what} {rel!r}")
        return ResolveError(message, [Diagnostic("missing-source", Severity.ERROR, message, loc)])

    try:
        why = not_regular(os.stat(path).st_mode)  # named before the open: a socket cannot be opened
    except OSError:
        why = None  # open_regular says why
    if why:
        raise refused(f"{what} {rel!r} {why}")
    try:
        fd, st = open_regular(path)
    except PkgtoolError as exc:
        raise refused(exc.message) from None
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    except OSError as exc:
        raise refused(f"cannot read {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    return b"".join(chunks)
