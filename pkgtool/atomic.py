"""Atomic output: write into a temporary sibling, then rename into place.

Killing a command at any moment leaves either the previous result or the
complete new one, never half an artifact.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _tmp_sibling(dest: Path, directory: bool) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{dest.name}.pkgtool-tmp-"
    if directory:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=dest.parent))
    fd, name = tempfile.mkstemp(prefix=prefix, dir=dest.parent)
    os.close(fd)
    return Path(name)


@contextlib.contextmanager
def atomic_file(dest: Path, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; on success fsync and rename it over ``dest``."""
    dest = Path(dest)
    tmp = _tmp_sibling(dest, directory=False)
    try:
        yield tmp
        os.chmod(tmp, mode)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_bytes_atomic(dest: Path, data: bytes, mode: int = 0o644) -> None:
    with atomic_file(dest, mode) as tmp:
        tmp.write_bytes(data)


@contextlib.contextmanager
def atomic_dir(dest: Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``dest``; on success swap it in for ``dest``.

    The old ``dest`` (if any) is moved aside first and removed only after the
    new one is in place, so at every instant one complete version exists.
    """
    dest = Path(dest)
    tmp = _tmp_sibling(dest, directory=True)
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        if dest.exists() or dest.is_symlink():
            old = _tmp_sibling(dest, directory=True)
            os.rmdir(old)
            os.replace(dest, old)
            os.replace(tmp, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
