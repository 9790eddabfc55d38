"""Read an installed root for ``verify --root``: one lstat per path, each directory listed once.

Same rules as rootfs.paths, made cheap for 10^4..10^5 paths: nothing
follows a symlink, and a path whose way from the root crosses a link or a
non-directory is absent.  Each directory on the way is checked once and the
answer cached, paths are plain ``str``, and content is compared byte by byte
with the expected source (a digest is computed only to report a difference).
"""

from __future__ import annotations

import os
import stat
from dataclasses import fields

from ..model import EntryKind, Observed, Resolved
from .accounts import Accounts
from .paths import CHUNK

# O_NONBLOCK: a fifo swapped in after the lstat must not hang the read.
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)

_S_IFMT = 0o170000  # stat.S_IFMT(m) is m & this, without the call
_KINDS = {stat.S_IFREG: EntryKind.FILE, stat.S_IFDIR: EntryKind.DIR, stat.S_IFLNK: EntryKind.SYMLINK}


# Observed's frozen __init__ sets each of its ten fields through a guarded object.__setattr__
# (about 5 us a path: 0.1 s of a 20,000-path verify); this fills the same instance dict at once.
_OBSERVED_DEFAULTS = {f.name: f.default for f in fields(Observed)}
_new = object.__new__
_set = object.__setattr__


def _observed(
    path: str, kind: EntryKind | None, mode: int, owner: str, group: str, size: int, target: str | None
) -> Observed:
    """Observed(path, kind, mode, owner, group, size, target=target), equal to it, made cheaply."""
    obs = _new(Observed)
    values = _OBSERVED_DEFAULTS.copy()  # item by item: update(**kw) costs as much again
    values["path"] = path
    values["kind"] = kind
    values["mode"] = mode
    values["owner"] = owner
    values["group"] = group
    values["size"] = size
    values["target"] = target
    _set(obs, "__dict__", values)
    return obs


def _unsafe(path: str) -> bool:
    # resolve never yields these; a root cannot be asked about them either.
    if path[:1] != "/" or "\0" in path:
        return True
    return "/.." in path and ".." in path.split("/")


class RootView:
    """lstat of deployed paths under one root, never through a symlink; directories on the way cached."""

    def __init__(self, root: str | os.PathLike[str], accounts: Accounts):
        self.root = os.fspath(root).rstrip("/")  # '' for '/': root + '/usr' is then '/usr'
        self.real_root = os.fspath(root)
        self.accounts = accounts
        # deployed directory path ('' is the root) -> a real directory reached without a link
        self._dir_ok: dict[str, bool] = {"": True}
        # id -> name, asked of accounts once per id: a root has a handful of owners for 10^4 paths.
        self._user_names: dict[int, str] = {}
        self._group_names: dict[int, str] = {}

    def lstat(self, path: str) -> os.stat_result | None:
        """lstat of root/path, None when it or a directory on the way is missing or not a real directory."""
        if path == "/":
            return os.lstat(self.real_root)
        parent = path[: path.rfind("/")]
        ok = self._dir_ok.get(parent)  # known for all but a directory's first path
        if not (ok if ok is not None else self._parent_ok(parent)):
            self._dir_ok[path] = False
            return None
        try:
            st = os.lstat(self.root + path)
        except (FileNotFoundError, NotADirectoryError):
            self._dir_ok[path] = False
            return None
        self._dir_ok[path] = st.st_mode & _S_IFMT == stat.S_IFDIR
        return st

    def _parent_ok(self, d: str) -> bool:
        ok = self._dir_ok.get(d)
        if ok is None:
            self.lstat(d)  # records the answer for d
            ok = self._dir_ok[d]
        return ok

    def observe(self, path: str, st: os.stat_result | None = None) -> Observed | None:
        """One path as found (no content read), or None when absent."""
        if st is None:
            if _unsafe(path):
                return None
            st = self.lstat(path)
            if st is None:
                return None
        mode = st.st_mode
        kind = _KINDS.get(mode & _S_IFMT)
        owner = self._user_names.get(st.st_uid) or self._user_name(st.st_uid)
        group = self._group_names.get(st.st_gid) or self._group_name(st.st_gid)
        if kind is EntryKind.FILE:
            return _observed(path, kind, mode & 0o7777, owner, group, st.st_size, None)
        if kind is EntryKind.SYMLINK:
            target = os.readlink(self.root + path if path != "/" else self.real_root)
            return _observed(path, kind, 0o777, owner, group, 0, target)
        return _observed(path, kind, mode & 0o7777, owner, group, 0, None)

    def _user_name(self, uid: int) -> str:
        name = self._user_names[uid] = self.accounts.user_name(uid)
        return name

    def _group_name(self, gid: int) -> str:
        name = self._group_names[gid] = self.accounts.group_name(gid)
        return name

    def walk(self, dirpath: str, seen: dict[str, Observed], walked: set[str]) -> None:
        """Observe everything below dirpath (a real directory) not in seen yet; links are not entered."""
        stack = [dirpath]
        dir_kind = EntryKind.DIR
        while stack:
            d = stack.pop()
            if d in walked:
                continue
            walked.add(d)
            base = d.rstrip("/")
            # listdir, not scandir: most names are entries observed already, and a name is
            # cheaper than a DirEntry; the others take the one lstat scandir's stat would make.
            try:
                names = os.listdir(self.root + base if d != "/" else self.real_root)
            except OSError:
                continue
            for name in names:
                child = base + "/" + name
                obs = seen.get(child)
                if obs is None:
                    try:
                        st = os.lstat(self.root + child)
                    except (FileNotFoundError, NotADirectoryError):
                        continue  # gone since the listing
                    self._dir_ok[child] = st.st_mode & _S_IFMT == stat.S_IFDIR
                    obs = self.observe(child, st)
                    if obs is None:
                        continue
                    seen[child] = obs
                if obs.kind is dir_kind:
                    stack.append(child)


def read_root(resolved: Resolved, root: str | os.PathLike[str], accounts: Accounts) -> dict[str, Observed]:
    """Every entry path found under root, and every other path inside the package's owned directories."""
    view = RootView(root, accounts)
    seen: dict[str, Observed] = {}
    for entry in resolved.entries:
        obs = view.observe(entry.path)
        if obs is not None:
            seen[entry.path] = obs
    walked: set[str] = set()
    for entry in resolved.entries:
        if entry.kind is EntryKind.DIR and entry.owned:
            obs = seen.get(entry.path)
            if obs is not None and obs.kind is EntryKind.DIR:
                view.walk(entry.path, seen, walked)
    return seen


# ---------------------------------------------------------------- content


class SourceError(Exception):
    """The expected side (a staged source) could not be read; ``error`` is the OSError."""

    def __init__(self, error: OSError):
        super().__init__(error.strerror)
        self.error = error


def same_content(installed: str, source: str, size: int = CHUNK) -> bool:
    """Whether two regular files hold the same bytes; read in chunks, never through a final symlink.

    ``size`` (the installed file's lstat size) sizes the reads, so a file of that size takes one read a side.
    OSError on the installed side propagates; on the source side it is raised as SourceError.
    """
    n = min(CHUNK, max(size, 0) + 1)
    fd = os.open(installed, _OPEN_FLAGS)
    try:
        try:
            sfd = os.open(source, _OPEN_FLAGS)
        except OSError as exc:
            raise SourceError(exc) from None
        try:
            while True:
                a = os.read(fd, n)
                try:
                    b = os.read(sfd, n)
                except OSError as exc:
                    raise SourceError(exc) from None
                # A short read of a regular file is its end, so equal files give equal chunks.
                if a != b:
                    return False
                if len(a) < n:
                    return True
        finally:
            os.close(sfd)
    finally:
        os.close(fd)


def compare_contents(triples: list[tuple[str, str, int]]) -> list[bool | Exception]:
    """same_content of each (installed, source, size), or the exception it raised, in order.

    One thread: with two, the GIL ate the overlap, the reads being short and from the page cache (bench/notes.md).
    """
    out: list[bool | Exception] = []
    for installed, source, size in triples:
        try:
            out.append(same_content(installed, source, size))
        except (OSError, SourceError) as exc:
            out.append(exc)
    return out
