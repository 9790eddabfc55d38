"""Recovery: the next install into a root rolls an interrupted one back (or finishes it) first.

Recovery acts only on a journal it can prove pkgtool wrote on this host: the
witness journal.py wrote outside the root must be there and match the root,
the journal's name and its whole plan, and every temp name of the plan must
be one install makes.  A file planted under a journal's name (a package that
carried one, a forged `etc/shadow` swap) is refused with a clear error and
left alone: the root is not touched.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from dataclasses import dataclass

from ..bookkeeping import journal_name
from ..errors import InstallError
from .journal import DIR_FLAGS, HEAD, PREFIX, Parts, Plan, drop_witness, pending, read_state, witnessed

_FLAGS = os.O_RDWR | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


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


def recover(root: str | os.PathLike) -> list[Recovery]:
    """Undo (or finish) every interrupted install into ``root``; see the module docstring."""
    done: list[Recovery] = []
    if not pending(root):
        return done
    root_fd = os.open(root, DIR_FLAGS & ~os.O_NOFOLLOW)
    try:
        for package in pending(root):
            done.append(_recover_one(root, root_fd, journal_name(package)))
    finally:
        os.close(root_fd)
    return done


def _read_locked(where: str, root_fd: int, name: str) -> tuple[int, bytes]:
    """The journal's fd (locked) and bytes; InstallError when another install holds it."""
    try:
        fd = os.open(name, _FLAGS, dir_fd=root_fd)
    except OSError as exc:
        raise InstallError(f"{where}: cannot open the journal of an interrupted install: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise InstallError(f"{where}: another pkgtool install into this root is running") from None
        raise
    data = b""
    while chunk := os.read(fd, 1 << 20):
        data += chunk
    return fd, data


def _proven_plan(where: str, root: str | os.PathLike, name: str, data: bytes) -> Plan:
    """The plan of a journal pkgtool provably wrote; InstallError for anything else."""
    try:
        plan = Plan.from_json(data[HEAD:])
    except (ValueError, KeyError, TypeError) as exc:
        raise InstallError(f"{where}: damaged journal ({exc})", hint="remove it by hand") from None
    package = name[len(PREFIX) :]
    if plan.package != package:
        raise InstallError(f"{where}: the journal names another package ({plan.package!r})")
    if not witnessed(root, name, data[HEAD:]):
        raise InstallError(
            f"{where}: this journal was not written by pkgtool on this host (no matching record in its state"
            " directory); refusing to act on it",
            hint="a package or another tool may have planted it: look at it, and remove it by hand"
            " if no install is running",
        )
    return plan


def _recover_one(root: str | os.PathLike, root_fd: int, name: str) -> Recovery:
    where = os.path.join(os.fspath(root), name)
    fd, data = _read_locked(where, root_fd, name)
    try:
        state = read_state(data)
        if state is None:
            raise InstallError(
                f"{where}: not a pkgtool install journal (or damaged)",
                hint="look at the file; remove it by hand only if no install is running",
            )
        package = name[len(PREFIX) :]
        if state == "writing":
            # Killed while writing the plan: nothing in the root had been touched yet.
            os.unlink(name, dir_fd=root_fd)
            drop_witness(root, name)
            return Recovery(package, state, "nothing to undo")
        plan = _proven_plan(where, root, name, data)
        if state == "done":
            _drop_backups(root_fd, plan)
            outcome = "completed"
        else:
            _roll_back(root_fd, plan, committing=state == "commit")
            outcome = "rolled back"
        os.unlink(name, dir_fd=root_fd)
        drop_witness(root, name)
        if state != "done":
            _remove_made_root(plan, os.path.abspath(root))
        return Recovery(package, state, outcome)
    finally:
        os.close(fd)


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
                    fd = os.open(parts[-1], DIR_FLAGS, dir_fd=parent)
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
        for m in reversed(plan.moves):
            dfd = dirs.get(m.parts)
            if dfd is None:
                continue
            if committing:
                if m.old is not None and _exists(m.old, dfd):
                    # The original was moved aside: put it back (over the new file, if that was placed).
                    os.rename(m.old, m.name, src_dir_fd=dfd, dst_dir_fd=dfd)
                elif m.old is None and not _exists(m.tmp, dfd) and _exists(m.name, dfd):
                    os.unlink(m.name, dir_fd=dfd)  # a new path that was already placed
            with contextlib.suppress(FileNotFoundError):
                os.unlink(m.tmp, dir_fd=dfd)
        for d in [*reversed(plan.attrs), *reversed(plan.unlock)]:
            dfd = dirs.get(d.parts)
            if dfd is not None:
                with contextlib.suppress(PermissionError):
                    os.fchown(dfd, d.uid, d.gid)
                os.fchmod(dfd, d.mode)
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
        for m in plan.moves:
            dfd = dirs.get(m.parts)
            if m.old is not None and dfd is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(m.old, dir_fd=dfd)
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
