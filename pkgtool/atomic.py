"""Atomic output: write into a temporary sibling, then rename into place.

Killing a command at any moment leaves either the previous result or the
complete new one, never half an artifact.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

# Every temporary path this process made and has not yet renamed away or removed: path -> (pid, is a
# directory).  A stop signal is handled between any two lines, so one landing in a clean-up (a
# ``finally`` before its removal, a ``with`` exit) skips it; sweep_temps, at the end of each command
# and each build worker, removes what is left.  The pid keeps a forked worker off its parent's paths.
_LIVE: dict[str, tuple[int, bool]] = {}


def _made(path: str, directory: bool) -> None:
    _LIVE[path] = (os.getpid(), directory)


def _consumed(path: Path | str) -> None:
    _LIVE.pop(os.fspath(path), None)


def _rmtree(top: str) -> None:
    """shutil.rmtree that, as tempfile.TemporaryDirectory does, makes a read-only directory inside ``top``
    writable again (a map's 0555 directory, staged or built without root) instead of leaving it."""

    tried: set[str] = set()

    def retry(func: Callable, path: str, exc: BaseException | tuple) -> None:
        error = exc[1] if isinstance(exc, tuple) else exc  # onerror's exc_info, or onexc's exception
        if not isinstance(error, PermissionError) or path == top or path in tried:
            # Gone already, top's own parent not writable (never ours to change), or tried once (an
            # immutable file): the tree is removed as far as it can be.
            return
        tried.add(path)
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), 0o700)  # a directory of the tree
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, 0o700)
                _rmtree_with(path, retry)
            else:
                os.unlink(path)

    _rmtree_with(top, retry)


def _rmtree_with(path: str, handler: Callable) -> None:
    # Python 3.12 renamed rmtree's error hook (onerror, deprecated there, takes sys.exc_info()).
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=handler)
    else:
        shutil.rmtree(path, onerror=handler)


def _remove(path: str, directory: bool) -> None:
    if directory:
        _rmtree(path)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _discard(path: Path | str, directory: bool) -> None:
    """Remove a temporary path of ours and forget it (the caller holds stop signals)."""
    _remove(os.fspath(path), directory)
    _consumed(path)


def sweep_temps() -> None:
    """Remove the temporary paths this process made and left (an interrupted clean-up); stop signals wait."""
    with sigint_held():
        pid = os.getpid()
        for path, (owner, directory) in list(_LIVE.items()):
            if owner == pid:
                _remove(path, directory)
                del _LIVE[path]


def _tmp_sibling(dest: Path, directory: bool) -> Path:
    """A new temporary file or directory beside ``dest``, registered for sweep_temps (callers hold signals)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{dest.name}.pkgtool-tmp-"
    if directory:
        name = tempfile.mkdtemp(prefix=prefix, dir=dest.parent)
    else:
        fd, name = tempfile.mkstemp(prefix=prefix, dir=dest.parent)
        os.close(fd)
    _made(name, directory)
    return Path(name)


@contextlib.contextmanager
def temp_dir(prefix: str, dir: str | os.PathLike | None = None) -> Iterator[str]:  # noqa: A002 (tempfile's name)
    """tempfile.TemporaryDirectory that a stop signal landing in its clean-up cannot leave behind (sweep_temps)."""
    name: str | None = None
    try:
        with sigint_held():
            name = tempfile.mkdtemp(prefix=prefix, dir=dir)
            _made(name, True)
        yield name
    finally:
        if name is not None:
            with sigint_held():
                _discard(name, True)


@contextlib.contextmanager
def atomic_file(dest: Path, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; on success fsync and rename it over ``dest``."""
    dest = Path(dest)
    tmp: Path | None = None
    try:
        with sigint_held():  # a Ctrl-C between creating the temp file and knowing its name would leak it
            tmp = _tmp_sibling(dest, directory=False)
        yield tmp
        os.chmod(tmp, mode)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        _consumed(tmp)
    except BaseException:
        if tmp is not None:
            with sigint_held():
                _discard(tmp, False)
        raise


def write_bytes_atomic(dest: Path, data: bytes, mode: int = 0o644) -> None:
    with atomic_file(dest, mode) as tmp:
        tmp.write_bytes(data)


_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (renameat2 RENAME_EXCHANGE); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


# What a user or a CI runner sends to stop a command: Ctrl-C, a cancel (SIGTERM), a closed terminal (SIGHUP).
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _nothing_held() -> None:
    return None


@contextlib.contextmanager
def sigint_held() -> Iterator[Callable[[], None]]:
    """Hold SIGINT, SIGTERM and SIGHUP back (each is delivered on exit) while a commit or its cleanup
    must not be cut short.

    The Python-level handlers are swapped for one that only takes note: masking the signals in
    this thread would not do, since the kernel then hands them to any other thread (a compressor,
    a test runner's) and Python runs its handler in the main thread all the same.

    Yields ``stop_here``: called at a point where the caller can still undo cleanly, it delivers a
    held signal there (its handler raises, as it would have), so a long held run stays responsive.
    Delivering ends the hold, as the block's end would: the handlers are put back first, and what the
    handler then does to them (the command line's ignores further stops) is left as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield _nothing_held  # only the main thread sees Python signal handlers
        return
    held: list[tuple[int, FrameType | None]] = []

    def note(signum: int, frame: FrameType | None) -> None:
        held.append((signum, frame))

    previous = {sig: signal.signal(sig, note) for sig in STOP_SIGNALS}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    over = False

    def stop_here() -> None:
        nonlocal over
        if not held:
            return  # the common case, once a file: one arriving now is taken at the next call
        taken = held[:]
        del held[: len(taken)]  # only those seen: one noted meanwhile is appended after them and kept
        live = [(signum, frame) for signum, frame in taken if previous[signum] != signal.SIG_IGN]
        # An ignored signal stays ignored, and the hold goes on.
        if live and not over:
            over = True
            restore()
            signum, frame = live[0]  # the first one decides; the command ends with it
            _deliver(signum, previous[signum], frame)

    try:
        yield stop_here
    finally:
        if not over:
            restore()
            if held:
                signum, frame = held[0]  # the first one decides; the command ends with it
                _deliver(signum, previous[signum], frame)


def _deliver(signum: int, handler: signal.Handlers | Callable | int | None, frame: FrameType | None) -> None:
    """Run the handler a held signal would have met."""
    if callable(handler):
        handler(signum, frame)
    elif handler == signal.SIG_DFL:
        os.kill(os.getpid(), signum)  # the default action: the process ends by the signal
    # SIG_IGN (or a handler not set from Python): nothing to do


@contextlib.contextmanager
def atomic_dir(dest: Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``dest``; on success swap it in for ``dest``.

    The two are exchanged in one rename where the system allows it (else the
    old ``dest`` is moved aside first), and the old one is removed only after
    the new one is in place, so at every instant one complete version exists.
    Ctrl-C is held back during the swap and the cleanup, so neither is left half done.
    """
    dest = Path(dest)
    tmp: Path | None = None
    try:
        with sigint_held():  # as in atomic_file: the temp directory is never made without its name kept
            tmp = _tmp_sibling(dest, directory=True)
        yield tmp
        os.chmod(tmp, 0o755)
    except BaseException:
        if tmp is not None:
            with sigint_held():
                _discard(tmp, True)
        raise
    with sigint_held():
        try:
            if not (dest.exists() or dest.is_symlink()):
                os.replace(tmp, dest)
            elif _exchange(tmp, dest):
                pass  # tmp now holds the old version
            else:
                old = _tmp_sibling(dest, directory=True)
                os.rmdir(old)
                os.replace(dest, old)
                os.replace(tmp, dest)
                _consumed(tmp)
                tmp = old
        finally:
            _discard(tmp, True)


@contextlib.contextmanager
def atomic_file_set(out_dir: Path, name: str) -> Iterator[Path]:
    """Yield a private directory in ``out_dir``; on success move every file in it into ``out_dir``.

    For outputs that only make sense together (a spec and its tarball): an error or a
    Ctrl-C before the moves leaves the files already in ``out_dir`` as they were, and
    the moves themselves run with Ctrl-C held, so an interrupted run never removes an
    older complete set.
    """
    out_dir = Path(out_dir)
    tmp: Path | None = None
    try:
        with sigint_held():
            tmp = _tmp_sibling(out_dir / name, directory=True)
        yield tmp
        with sigint_held():
            for child in sorted(tmp.iterdir()):
                os.replace(child, out_dir / child.name)
    finally:
        if tmp is not None:
            with sigint_held():
                _discard(tmp, True)
