"""The on-disk write-ahead journal of one install, so that even SIGKILL cannot leave a half-installed root.

An install renames thousands of files into place; no single rename can
make that atomic.  So before the first change to the root, install writes
everything it is about to do (new directories, temp siblings, backups of
replaced files, directory modes it will change) into
``ROOT/.pkgtool-journal.NAME``, and marks the journal's state as it goes:

    writing -> staging -> commit -> done -> (journal removed)

A run that dies at any point leaves the journal behind.  The next
``pkgtool install`` into that root calls :func:`recover` first, which puts
the root back to its state before the interrupted run (``writing``,
``staging``, ``commit``) or finishes the clean-up of a run whose commit had
completed (``done``).  Every recovery step checks what is on disk, so a
recovery that is itself killed can simply run again.

The state lives in a fixed-width field at the start of the file and is
changed with one small ``pwrite``, which a killed process either made or
did not.  The journal is also the lock: an install holds ``flock`` on it,
so a second install into the same root waits for nothing and is refused.
Guarantees are against the process being killed, not against power loss:
staged files are not fsynced (that would cost more than the install).

A file in the root is no proof that pkgtool wrote it: a package could carry
one named like a journal (resolve refuses that name, but another tool may
have put it there).  So before the journal is created, a witness of it (the
SHA-256 of the root, the journal's name and its plan) is written outside the
root, in pkgtool's state directory, and recovery acts only on a journal
whose witness is there and matches (see recovery.py).  Every name a plan
gives is checked too: temp siblings must be the ones install makes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..bookkeeping import JOURNAL_PREFIX, is_tmp_of, journal_name
from ..errors import InstallError

PREFIX = JOURNAL_PREFIX
MAGIC = b"pkgtool-install-journal 1 state="
STATES = ("writing", "staging", "commit", "done")
_WIDTH = 8  # the state field, padded with spaces
HEAD = len(MAGIC) + _WIDTH + 1  # + newline
_FLAGS = os.O_RDWR | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

Parts = tuple[str, ...]


@dataclass(frozen=True)
class DirState:
    """A directory's mode and owner before the install changed them (restored on rollback)."""

    parts: Parts
    mode: int
    uid: int
    gid: int


@dataclass(frozen=True)
class Move:
    """One file or link placed: staged as ``tmp`` beside ``name``; a replaced original kept as ``old``."""

    parts: Parts  # the directory
    name: str
    tmp: str
    old: str | None


@dataclass
class Plan:
    """Everything one install may change, known before the first change is made."""

    package: str
    mkroot: list[str] = field(default_factory=list)  # absolute paths created for the root itself, outermost first
    dirs: list[Parts] = field(default_factory=list)  # new directories, parents first
    unlock: list[DirState] = field(default_factory=list)  # existing dirs made writable for the install
    attrs: list[DirState] = field(default_factory=list)  # existing dirs whose mode/owner change
    moves: list[Move] = field(default_factory=list)

    def to_json(self) -> bytes:
        doc = {
            "package": self.package,
            "mkroot": self.mkroot,
            "dirs": [list(p) for p in self.dirs],
            "unlock": [[list(d.parts), d.mode, d.uid, d.gid] for d in self.unlock],
            "attrs": [[list(d.parts), d.mode, d.uid, d.gid] for d in self.attrs],
            "moves": [[list(m.parts), m.name, m.tmp, m.old] for m in self.moves],
        }
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Plan:
        """The plan of a journal; ValueError for anything install would not have written."""
        doc = json.loads(data)
        return cls(
            package=str(doc["package"]),
            mkroot=[str(p) for p in doc["mkroot"]],
            dirs=[_parts(p) for p in doc["dirs"]],
            unlock=[DirState(_parts(p), int(m), int(u), int(g)) for p, m, u, g in doc["unlock"]],
            attrs=[DirState(_parts(p), int(m), int(u), int(g)) for p, m, u, g in doc["attrs"]],
            moves=[
                _move(_parts(p), _name(n), _name(t), None if o is None else _name(o)) for p, n, t, o in doc["moves"]
            ],
        )


def _name(value: object) -> str:
    """One path component from the journal; anything else means the journal is not ours."""
    name = str(value)
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ValueError(f"bad name in journal: {name!r}")
    return name


def _parts(value: object) -> Parts:
    if not isinstance(value, list):
        raise ValueError("bad path in journal")
    return tuple(_name(x) for x in value)


def _move(parts: Parts, name: str, tmp: str, old: str | None) -> Move:
    # Recovery removes temp siblings and renames backups over names: only install's own are accepted.
    if not is_tmp_of(tmp, name, "new") or (old is not None and not is_tmp_of(old, name, "old")):
        raise ValueError(f"{'/'.join((*parts, name))}: temp names not made by install ({tmp!r}, {old!r})")
    return Move(parts, name, tmp, old)


# ---------------------------------------------------------------- the witness, outside the root


def state_dir() -> Path:
    """Where install keeps the witnesses of its journals: never inside a root it installs into."""
    explicit = os.environ.get("PKGTOOL_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "pkgtool"


def _witness_path(root: str | os.PathLike, name: str) -> Path:
    key = hashlib.sha256(os.fsencode(os.path.realpath(root)) + b"\0" + os.fsencode(name)).hexdigest()
    return state_dir() / "journals" / key


def _witness_of(root: str | os.PathLike, name: str, plan: bytes) -> bytes:
    digest = hashlib.sha256(os.fsencode(os.path.realpath(root)) + b"\0" + os.fsencode(name) + b"\0" + plan)
    return digest.hexdigest().encode() + b"\n"


def write_witness(root: str | os.PathLike, name: str, plan: bytes) -> Path:
    """Record, outside the root, that this host's pkgtool is about to write this journal."""
    path = _witness_path(root, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f"{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, _witness_of(root, name, plan))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        raise InstallError(
            f"cannot record the install journal in {path.parent}: {exc.strerror}",
            hint="set PKGTOOL_STATE_DIR to a writable directory outside the root",
        ) from None
    return path


def witnessed(root: str | os.PathLike, name: str, plan: bytes) -> bool:
    """True when this host's pkgtool recorded this very journal (same root, name and plan)."""
    try:
        return _witness_path(root, name).read_bytes() == _witness_of(root, name, plan)
    except OSError:
        return False


def drop_witness(root: str | os.PathLike, name: str) -> None:
    with contextlib.suppress(OSError):
        _witness_path(root, name).unlink()


# ---------------------------------------------------------------- the journal of a running install


class Journal:
    """An open, locked journal of one running install."""

    def __init__(self, root_fd: int, name: str, fd: int, root: str):
        self.root_fd, self.name, self.fd, self.root = root_fd, name, fd, root

    @classmethod
    def begin(cls, root_fd: int, plan: Plan, root: str | os.PathLike | None = None) -> Journal:
        """Write the witness, then the plan (state 'writing', then 'staging'); refuse if another install
        holds the root.  ``root`` is the root's path (by default, the one ``root_fd`` was opened on)."""
        where = os.fspath(root) if root is not None else os.readlink(f"/proc/self/fd/{root_fd}")
        name = journal_name(plan.package)
        data = plan.to_json()
        try:
            fd = os.open(name, _FLAGS | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=root_fd)
        except FileExistsError:
            raise InstallError(
                f"{name} exists in the root: another pkgtool install of {plan.package} is running there"
            ) from None
        busy = InstallError(f"another pkgtool install of {plan.package} is running in this root")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            lost = os.fstat(fd).st_nlink == 0
        except BlockingIOError:
            os.close(fd)  # another install's recovery holds our still-empty journal and will remove it
            raise busy from None
        except BaseException:
            _unlink_if_same(root_fd, name, fd)  # Ctrl-C before the lock: leave nothing behind
            os.close(fd)
            raise
        if lost:
            # Another install's recovery took the still-empty journal for a killed one and removed it
            # before we held the lock.  The name may already be that install's journal: leave it alone.
            os.close(fd)
            raise busy
        journal = cls(root_fd, name, fd, where)
        try:
            # The witness before the plan: a journal past 'writing' always has its witness.
            write_witness(where, name, data)
            _write_all(fd, _head("writing") + data)
            os.fsync(fd)
            journal.mark("staging")
        except BaseException:
            journal.finish()
            raise
        return journal

    def mark(self, state: str) -> None:
        # One pwrite of a few bytes: a killed process made it whole or not at all.
        os.pwrite(self.fd, state.ljust(_WIDTH).encode(), len(MAGIC))
        os.fsync(self.fd)

    def finish(self) -> None:
        """The install is complete or rolled back: remove the journal and its witness, then release the lock."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.name, dir_fd=self.root_fd)
        drop_witness(self.root, self.name)
        os.close(self.fd)


def _unlink_if_same(root_fd: int, name: str, fd: int) -> None:
    with contextlib.suppress(OSError):
        mine, there = os.fstat(fd), os.lstat(name, dir_fd=root_fd)
        if (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino):
            os.unlink(name, dir_fd=root_fd)


def _head(state: str) -> bytes:
    return MAGIC + state.ljust(_WIDTH).encode() + b"\n"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def read_state(data: bytes) -> str | None:
    """The state of a journal's bytes; None when they are not a journal's."""
    if _head("writing").startswith(data):
        # Killed between creating the journal and writing its head whole (SIGKILL right after the
        # create, or a short write): the plan was not even written, so nothing had been touched.
        return "writing"
    if len(data) < HEAD or not data.startswith(MAGIC):
        return None
    state = data[len(MAGIC) : len(MAGIC) + _WIDTH].decode("ascii", "replace").strip()
    return state if state in STATES else None


def pending(root: str | os.PathLike) -> list[str]:
    """Names of the packages whose install into ``root`` was interrupted (journal present)."""
    try:
        names = os.listdir(root)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(n[len(PREFIX) :] for n in names if n.startswith(PREFIX))


def recover(root: str | os.PathLike) -> list:
    """Undo (or finish) every interrupted install into ``root`` (recovery.recover)."""
    from .recovery import recover as _recover  # recovery imports this module

    return _recover(root)
