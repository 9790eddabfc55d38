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
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
from dataclasses import dataclass, field

from ..errors import InstallError

PREFIX = ".pkgtool-journal."
MAGIC = b"pkgtool-install-journal 1 state="
STATES = ("writing", "staging", "commit", "done")
_WIDTH = 8  # the state field, padded with spaces
_HEAD = len(MAGIC) + _WIDTH + 1  # + newline
_FLAGS = os.O_RDWR | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

Parts = tuple[str, ...]


@dataclass
class Plan:
    """Everything one install may change, known before the first change is made."""

    package: str
    mkroot: list[str] = field(default_factory=list)  # absolute paths created for the root itself, outermost first
    dirs: list[Parts] = field(default_factory=list)  # new directories, parents first
    unlock: list[tuple[Parts, int, int, int]] = field(default_factory=list)  # dir, mode, uid, gid before
    attrs: list[tuple[Parts, int, int, int]] = field(default_factory=list)  # existing dirs whose mode/owner change
    moves: list[tuple[Parts, str, str, str | None]] = field(default_factory=list)  # dir, name, tmp, backup

    def to_json(self) -> bytes:
        doc = {
            "package": self.package,
            "mkroot": self.mkroot,
            "dirs": [list(p) for p in self.dirs],
            "unlock": [[list(p), m, u, g] for p, m, u, g in self.unlock],
            "attrs": [[list(p), m, u, g] for p, m, u, g in self.attrs],
            "moves": [[list(p), n, t, o] for p, n, t, o in self.moves],
        }
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Plan:
        doc = json.loads(data)
        return cls(
            package=str(doc["package"]),
            mkroot=[str(p) for p in doc["mkroot"]],
            dirs=[_parts(p) for p in doc["dirs"]],
            unlock=[(_parts(p), int(m), int(u), int(g)) for p, m, u, g in doc["unlock"]],
            attrs=[(_parts(p), int(m), int(u), int(g)) for p, m, u, g in doc["attrs"]],
            moves=[(_parts(p), _name(n), _name(t), None if o is None else _name(o)) for p, n, t, o in doc["moves"]],
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


def journal_name(package: str) -> str:
    return PREFIX + package


class Journal:
    """An open, locked journal of one running install."""

    def __init__(self, root_fd: int, name: str, fd: int):
        self.root_fd, self.name, self.fd = root_fd, name, fd

    @classmethod
    def begin(cls, root_fd: int, plan: Plan) -> Journal:
        """Write the plan (state 'writing', then 'staging'); refuse if another install holds the root."""
        name = journal_name(plan.package)
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
        journal = cls(root_fd, name, fd)
        try:
            _write_all(fd, _head("writing") + plan.to_json())
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
        """The install is complete or rolled back: remove the journal, then release the lock."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.name, dir_fd=self.root_fd)
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


@dataclass(frozen=True)
class Recovery:
    """What recover() did for one interrupted install."""

    package: str
    state: str  # the state the journal was left in
    outcome: str  # 'rolled back' or 'completed'

    def to_text(self) -> str:
        return f"recovered an interrupted install of {self.package} (it had reached '{self.state}'): {self.outcome}"

    def to_dict(self) -> dict:
        return {"package": self.package, "state": self.state, "outcome": self.outcome}


def pending(root: str | os.PathLike) -> list[str]:
    """Names of the packages whose install into ``root`` was interrupted (journal present)."""
    try:
        names = os.listdir(root)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(n[len(PREFIX) :] for n in names if n.startswith(PREFIX))


def recover(root: str | os.PathLike) -> list[Recovery]:
    """Undo (or finish) every interrupted install into ``root``; see the module docstring."""
    done: list[Recovery] = []
    if not pending(root):
        return done
    root_fd = os.open(root, _DIR_FLAGS & ~os.O_NOFOLLOW)
    try:
        for package in pending(root):
            done.append(_recover_one(root, root_fd, journal_name(package)))
    finally:
        os.close(root_fd)
    return done


def _recover_one(root: str | os.PathLike, root_fd: int, name: str) -> Recovery:
    where = os.path.join(os.fspath(root), name)
    try:
        fd = os.open(name, _FLAGS, dir_fd=root_fd)
    except OSError as exc:
        raise InstallError(f"{where}: cannot open the journal of an interrupted install: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise InstallError(f"{where}: another pkgtool install into this root is running") from None
            raise
        data = b""
        while chunk := os.read(fd, 1 << 20):
            data += chunk
        state = _state(data)
        if state is None:
            raise InstallError(
                f"{where}: not a pkgtool install journal (or damaged)",
                hint="look at the file; remove it by hand only if no install is running",
            )
        package = name[len(PREFIX) :]
        if state == "writing":
            # Killed while writing the plan: nothing in the root had been touched yet.
            outcome = "nothing to undo"
        else:
            try:
                plan = Plan.from_json(data[_HEAD:])
            except (ValueError, KeyError, TypeError) as exc:
                raise InstallError(f"{where}: damaged journal ({exc})", hint="remove it by hand") from None
            if plan.package != package:
                raise InstallError(f"{where}: the journal names another package ({plan.package!r})")
            if state == "done":
                _drop_backups(root_fd, plan)
                outcome = "completed"
            else:
                _roll_back(root_fd, plan, committing=state == "commit")
                outcome = "rolled back"
        os.unlink(name, dir_fd=root_fd)
        if state not in ("writing", "done"):
            _remove_made_root(plan, os.path.abspath(root))
        return Recovery(package, state, outcome)
    finally:
        os.close(fd)


def _state(data: bytes) -> str | None:
    if _head("writing").startswith(data):
        # Killed between creating the journal and writing its head whole (SIGKILL right after the
        # create, or a short write): the plan was not even written, so nothing had been touched.
        return "writing"
    if len(data) < _HEAD or not data.startswith(MAGIC):
        return None
    state = data[len(MAGIC) : len(MAGIC) + _WIDTH].decode("ascii", "replace").strip()
    return state if state in STATES else None


class _Dirs:
    """Directory fds under the root, opened with O_NOFOLLOW; None when a directory is gone."""

    def __init__(self, root_fd: int):
        self.root_fd = root_fd
        self.cache: dict[Parts, int | None] = {}

    def get(self, parts: Parts) -> int | None:
        if not parts:
            return self.root_fd
        if parts not in self.cache:
            parent = self.get(parts[:-1])
            fd = None
            if parent is not None:
                with contextlib.suppress(OSError):
                    fd = os.open(parts[-1], _DIR_FLAGS, dir_fd=parent)
            self.cache[parts] = fd
        return self.cache[parts]

    def forget(self, parts: Parts) -> None:
        fd = self.cache.pop(parts, None)
        if fd is not None:
            os.close(fd)

    def close(self) -> None:
        for fd in self.cache.values():
            if fd is not None:
                os.close(fd)
        self.cache.clear()


def _exists(name: str, dfd: int) -> bool:
    try:
        os.lstat(name, dir_fd=dfd)
    except FileNotFoundError:
        return False
    return True


def _roll_back(root_fd: int, plan: Plan, committing: bool) -> None:
    dirs = _Dirs(root_fd)
    try:
        for parts, name, tmp, old in reversed(plan.moves):
            dfd = dirs.get(parts)
            if dfd is None:
                continue
            if committing:
                if old is not None and _exists(old, dfd):
                    # The original was moved aside: put it back (over the new file, if that was placed).
                    os.rename(old, name, src_dir_fd=dfd, dst_dir_fd=dfd)
                elif old is None and not _exists(tmp, dfd) and _exists(name, dfd):
                    os.unlink(name, dir_fd=dfd)  # a new path that was already placed
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=dfd)
        for parts, mode, uid, gid in [*reversed(plan.attrs), *reversed(plan.unlock)]:
            dfd = dirs.get(parts)
            if dfd is not None:
                with contextlib.suppress(PermissionError):
                    os.fchown(dfd, uid, gid)
                os.fchmod(dfd, mode)
        for parts in reversed(plan.dirs):
            dirs.forget(parts)
            parent = dirs.get(parts[:-1])
            if parent is not None:
                with contextlib.suppress(FileNotFoundError, OSError):
                    os.rmdir(parts[-1], dir_fd=parent)
    finally:
        dirs.close()


def _drop_backups(root_fd: int, plan: Plan) -> None:
    dirs = _Dirs(root_fd)
    try:
        for parts, _name, _tmp, old in plan.moves:
            dfd = dirs.get(parts)
            if old is not None and dfd is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(old, dir_fd=dfd)
    finally:
        dirs.close()


def _remove_made_root(plan: Plan, root: str) -> None:
    # The root (and its missing parents) were created for the install: remove them again if empty.
    # Only the root and its own ancestors: a journal never names another directory.
    ancestors = {root}
    parent = os.path.dirname(root)
    while parent not in ancestors:
        ancestors.add(parent)
        parent = os.path.dirname(parent)
    for path in reversed(plan.mkroot):
        if path in ancestors:
            with contextlib.suppress(OSError):
                os.rmdir(path)
