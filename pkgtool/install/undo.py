"""The in-process undo log of one install: a typed record per change made, undone newest first.

Each record is appended before its change is made (an interrupt between the two must not
leave an unrecorded change), and each undo step tolerates a change that was not made.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from .dirfds import DirFds

Parts = tuple[str, ...]


@dataclass(frozen=True)
class MadeRoot:
    """The root, or one of its missing parents, created by this install."""

    path: Path

    def undo(self, fds: DirFds | None) -> None:
        os.rmdir(self.path)


@dataclass(frozen=True)
class DirChanged:
    """An existing directory whose mode or owner is changed: what they were."""

    parts: Parts
    mode: int
    uid: int
    gid: int

    def undo(self, fds: DirFds | None) -> None:
        assert fds is not None
        fd = fds.get(self.parts)
        with contextlib.suppress(PermissionError):
            os.fchown(fd, self.uid, self.gid)
        os.fchmod(fd, self.mode)


@dataclass(frozen=True)
class MadeDir:
    parent: Parts
    name: str

    def undo(self, fds: DirFds | None) -> None:
        assert fds is not None
        fds.forget((*self.parent, self.name))
        os.rmdir(self.name, dir_fd=fds.get(self.parent))


@dataclass(frozen=True)
class MadeFile:
    """A staged temp sibling, or a new name placed by the commit."""

    parent: Parts
    name: str

    def undo(self, fds: DirFds | None) -> None:
        assert fds is not None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.name, dir_fd=fds.get(self.parent))


@dataclass(frozen=True)
class MovedAside:
    """An original file or link renamed to ``old`` before the new one took its name."""

    parent: Parts
    name: str
    old: str

    def undo(self, fds: DirFds | None) -> None:
        assert fds is not None
        pfd = fds.get(self.parent)
        os.rename(self.old, self.name, src_dir_fd=pfd, dst_dir_fd=pfd)


Change = MadeRoot | DirChanged | MadeDir | MadeFile | MovedAside


def undo_all(log: list[Change], fds: DirFds | None) -> None:
    """Undo the log, newest first; best effort, every step tried."""
    for change in reversed(log):
        with contextlib.suppress(OSError, ValueError):
            change.undo(fds)
