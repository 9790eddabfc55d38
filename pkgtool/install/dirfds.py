"""Directory fds inside an install root, opened component by component with O_NOFOLLOW."""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class DirFds:
    """Directory fds inside the root, opened component by component with O_NOFOLLOW; a few kept open."""

    def __init__(self, root: Path, keep: int = 64):
        self.root_fd = os.open(root, DIR_FLAGS & ~os.O_NOFOLLOW)
        self.keep = keep
        self.cache: OrderedDict[tuple[str, ...], int] = OrderedDict()

    def get(self, parts: tuple[str, ...]) -> int:
        if not parts:
            return self.root_fd
        fd = self.cache.get(parts)
        if fd is not None:
            self.cache.move_to_end(parts)
            return fd
        parent = self.get(parts[:-1])
        fd = os.open(parts[-1], DIR_FLAGS, dir_fd=parent)
        self.cache[parts] = fd
        while len(self.cache) > self.keep:
            _, old = self.cache.popitem(last=False)
            os.close(old)
        return fd

    def forget(self, parts: tuple[str, ...]) -> None:
        """Close the fd of a directory about to be removed."""
        fd = self.cache.pop(parts, None)
        if fd is not None:
            os.close(fd)

    def close(self) -> None:
        for fd in self.cache.values():
            os.close(fd)
        self.cache.clear()
        os.close(self.root_fd)
