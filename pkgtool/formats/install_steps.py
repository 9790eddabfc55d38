"""How the generated spec and debian/rules place entries: a few `install` commands, not one per path.

Directories go in runs of one mode, in path order, so a parent is always made
(with its mode) before its children.  Files that keep their source's name go
into their directory with one `install -t DIR` per (directory, mode); a renamed
file keeps a command of its own.  Each writer quotes the words its own way.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..model import Entry

BATCH = 100  # paths per command: a make recipe command is one `sh -c` argument (128 KiB on Linux)


class StepKind(enum.Enum):
    DIRS = "dirs"  # install -d -m MODE DIR...
    INTO = "into"  # install -D -m MODE -t DEST SRC...
    FILE = "file"  # install -D -m MODE SRC DEST


@dataclass(frozen=True)
class InstallStep:
    kind: StepKind
    mode: int  # permission bits only
    dest: str  # INTO: the directory; FILE: the path; DIRS: ''
    words: tuple[str, ...]  # DIRS: the directories; INTO and FILE: source paths, never starting with '-'


def chunks(words: list[str], size: int = BATCH) -> list[list[str]]:
    """Words in runs of at most ``size``: one command line each."""
    return [words[i : i + size] for i in range(0, len(words), size)]


def install_steps(dirs: Iterable[Entry], files: Iterable[Entry]) -> Iterator[InstallStep]:
    """The steps for ``dirs`` (in path order) then ``files``."""
    for mode, run in itertools.groupby(dirs, key=lambda e: e.mode & 0o7777):
        for chunk in chunks([e.path for e in run]):
            yield InstallStep(StepKind.DIRS, mode, "", tuple(chunk))
    batches: dict[tuple[str, int], list[str]] = {}
    for e in files:
        mode = e.mode & 0o7777
        # posixpath.split and basename, as string methods: this loop runs once per file of the package
        directory, _, name = e.path.rpartition("/")
        directory = directory or "/"
        src = e.source or ""
        if src.startswith("-"):
            src = "./" + src  # never read as an option
        if src.rpartition("/")[2] == name:
            batches.setdefault((directory, mode), []).append(src)
        else:
            yield InstallStep(StepKind.FILE, mode, e.path, (src,))
    for (directory, mode), sources in batches.items():
        for chunk in chunks(sources):
            yield InstallStep(StepKind.INTO, mode, directory, tuple(chunk))
