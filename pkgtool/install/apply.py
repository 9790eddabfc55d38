"""Apply resolved entries to a root directory, as the package would, all or nothing.

Three steps: plan (nodes.py: look at what is there, refuse anything unsafe
before a byte is written), stage (every file and link as a temp sibling in
its final directory, new directories created), commit (rename into place,
keeping replaced originals aside until the end, then directory modes and
owners).  Any failure, KeyboardInterrupt and SIGTERM included, undoes the
log of undo.py so the root is left as it was.  A kill that no handler sees
(SIGKILL, a crash) is covered by the on-disk journal of journal.py: the next
install into the root rolls the interrupted one back first (recovery.py).
Nothing here follows a symlink inside the root.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

from ..atomic import sigint_held
from ..bookkeeping import bookkeeping_reason, tmp_name
from ..errors import InstallError, PkgtoolError
from ..model import EntryKind, Resolved
from ..rootfs.accounts import Accounts, load_accounts, with_declared
from ..rootfs.paths import CHUNK
from ..sources.regular import open_regular
from .dirfds import DIR_FLAGS, DirFds
from .journal import DirState, Journal, Move, Plan, pending
from .manifest import MANIFEST_DIR, MANIFEST_FORMAT, manifest_bytes, manifest_path, read_manifest
from .nodes import Node, add_parents, check_names, content_node, decide, entry_nodes
from .previous import Previous, Stale, previous_content
from .recovery import Recovery, recover
from .report import InstallAction, InstallReport
from .undo import Change, DirChanged, MadeDir, MadeFile, MadeRoot, MovedAside, undo_all

__all__ = [
    "MANIFEST_DIR",
    "MANIFEST_FORMAT",
    "InstallAction",
    "InstallReport",
    "install",
    "manifest_path",
    "read_manifest",
]

_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def install(resolved: Resolved, root: Path | str, dry_run: bool = False) -> InstallReport:
    """Install every entry of ``resolved`` under ``root``; all or nothing. See the module docstring."""
    from ..sources.staging import staged_sources  # deferred: only an install that copies files needs it

    root = Path(os.path.abspath(root))
    if root.exists() and not root.is_dir():
        raise InstallError(f"{root} is not a directory")
    recovered = _recover_first(root, dry_run)
    owners = os.geteuid() == 0
    accounts = with_declared(load_accounts(root if root.is_dir() else None), resolved.layout)
    if owners:
        check_names(resolved, accounts)

    with staged_sources(resolved) as src_dir:
        nodes = entry_nodes(resolved, Path(src_dir))
        for path in nodes:
            reason = bookkeeping_reason(path)
            if reason:  # resolve refuses these; a Resolved made by hand must not get past here either
                raise InstallError(f"{path}: the package deploys a path that {reason}")
        mpath = manifest_path(resolved.package.name)
        digests = {p: n.digest for p, n in nodes.items()}
        prev = previous_content(root, resolved.package.name, set(nodes))
        nodes[mpath] = content_node(mpath, manifest_bytes(resolved, digests, owners, prev.kept))
        add_parents(nodes)
        order = sorted(nodes.values(), key=lambda n: n.parts)
        decide(root, order, accounts, owners)
        report = _report(resolved, root, order, mpath, dry_run, owners, recovered, prev)
        if not dry_run:
            _Apply(root, order, accounts, owners, resolved.source_date_epoch, resolved.package.name, prev).run()
    return report


def _recover_first(root: Path, dry_run: bool) -> list[Recovery]:
    if not (root.is_dir() and pending(root)):
        return []
    if dry_run:
        raise InstallError(
            f"an earlier install into {root} was interrupted ({', '.join(pending(root))})",
            hint="run the install without --dry-run: it rolls the interrupted one back first",
        )
    return recover(root)


def _report(
    resolved: Resolved,
    root: Path,
    order: list[Node],
    mpath: str,
    dry_run: bool,
    owners: bool,
    recovered: list[Recovery],
    prev: Previous,
) -> InstallReport:
    pkg = resolved.package
    return InstallReport(
        root=str(root),
        package=pkg.name,
        version=f"{pkg.version}-{pkg.release}",
        dry_run=dry_run,
        owners_applied=owners,
        manifest=mpath,
        actions=tuple(
            InstallAction(n.path, n.kind, n.action, n.mode, n.owner, n.group, n.owned, n.link, n.digest)
            for n in order
            if n.entry is not None or n.path == mpath or n.action == "create"
        )
        + tuple(_gone(s, "remove") for s in [*prev.remove, *prev.dirs])
        + tuple(_gone(Stale(p, (), "file", 0), "keep") for p in prev.kept),
        recovered=tuple(recovered),
    )


def _gone(s: Stale, action: str) -> InstallAction:
    # An earlier install's path this one removes ('remove') or leaves as a modified config ('keep').
    return InstallAction(s.path, EntryKind(s.kind), action, s.mode, "", "")


# ---------------------------------------------------------------- helpers tests make fail


def _copy_into(src: Path, fd: int) -> None:
    """Stream src (a regular file: checked on the open descriptor) into the open fd."""
    sfd, _st = open_regular(os.fspath(src), InstallError)
    try:
        while chunk := os.read(sfd, CHUNK):
            _write_all(fd, chunk)
    finally:
        os.close(sfd)


def _place(tmp: str, name: str, pfd: int) -> None:
    """Rename a staged temp sibling over its final name."""
    os.rename(tmp, name, src_dir_fd=pfd, dst_dir_fd=pfd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


# ---------------------------------------------------------------- applying, step by step


class _Apply:
    """One install's changes to the root: each step a method, every change logged before it is made."""

    def __init__(
        self, root: Path, order: list[Node], accounts: Accounts, owners: bool, epoch: int, package: str, prev: Previous
    ):
        self.root, self.order, self.accounts, self.owners = root, order, accounts, owners
        self.prev = prev
        self.times = (epoch * 10**9, epoch * 10**9)
        self.log: list[Change] = []  # what was done, for the in-process rollback
        self.plan = Plan(package)  # what will be done, on disk, for recovery after a kill
        self.disk: Journal | None = None
        self.fds: DirFds | None = None
        self.names: dict[tuple[str, ...], tuple[str, str | None]] = {}
        self.unlocked: dict[tuple[str, ...], DirState] = {}
        self.staged: list[tuple[Node, str]] = []

    def run(self) -> None:
        # Stop signals are held for the whole run and taken only where the log says all that was done
        # (stop_here): one handled between any two lines could leave a journal that no rollback knows of
        # (tests/test_install_journal.py delivers one at every line).  Once the commit has begun the run
        # finishes, and a held signal ends the command after the clean-up, the root complete.
        with sigint_held() as stop_here:
            committed = False
            try:
                self.make_root()
                self.fds = DirFds(self.root)
                self.write_journal()
                self.unlock_dirs()
                self.stage(stop_here)
                stop_here()
                self.commit()
                self.set_dir_attrs()
                self.relock_dirs()
                self.journal().mark("done")
                committed = True
                self.clean_up()
            except BaseException as exc:
                if committed:
                    raise  # the clean-up's own failure: the install is complete
                self.roll_back()
                if isinstance(exc, PkgtoolError):
                    raise
                if isinstance(exc, OSError):
                    where = exc.filename or self.root
                    raise InstallError(
                        f"install into {self.root} failed at {where}: {exc.strerror or exc}; the root was left as it was"
                    ) from exc
                raise

    def journal(self) -> Journal:
        assert self.disk is not None
        return self.disk

    def dirs(self) -> DirFds:
        assert self.fds is not None
        return self.fds

    def ids(self, node: Node) -> tuple[int, int]:
        uid, gid = self.accounts.uid(node.owner), self.accounts.gid(node.group)
        assert uid is not None and gid is not None  # checked before anything was written
        return uid, gid

    def make_root(self) -> None:
        if self.root.exists():
            return
        missing = [self.root, *[p for p in self.root.parents if not p.exists()]]
        for p in reversed(missing):
            self.log.append(MadeRoot(p))
            os.mkdir(p, 0o700)
            self.plan.mkroot.append(str(p))
        os.chmod(self.root, 0o755)

    def write_journal(self) -> None:
        """Fix every temp name and every directory change, then write them all down before any change."""
        fds, order = self.dirs(), self.order
        for node in order:
            if node.kind is not EntryKind.DIR and node.action in ("create", "replace"):
                name = node.parts[-1]
                old = tmp_name(name, "old") if node.action == "replace" else None
                self.names[node.parts] = (tmp_name(name, "new"), old)
        for gone in self.prev.remove:
            # A removal is a move aside with nothing staged: rollback and recovery put it back.
            self.names[gone.parts] = (tmp_name(gone.parts[-1], "new"), tmp_name(gone.parts[-1], "old"))
        if not self.owners:
            self.unlocked = _to_unlock(fds, order)
        plan = self.plan
        plan.dirs = [n.parts for n in order if n.kind is EntryKind.DIR and n.action == "create"]
        plan.unlock = list(self.unlocked.values())
        for node in order:
            if node.kind is EntryKind.DIR and node.action == "update":
                plan.attrs.append(_dir_state(node.parts, os.fstat(fds.get(node.parts))))
        plan.moves = [Move(parts[:-1], parts[-1], tmp, old) for parts, (tmp, old) in self.names.items()]
        self.disk = Journal.begin(fds.root_fd, plan, self.root)

    def unlock_dirs(self) -> None:
        """Without root: existing read-only directories of ours stay writable until the commit is done."""
        for d in self.unlocked.values():
            self.log.append(DirChanged(d.parts, d.mode, d.uid, d.gid))
            os.fchmod(self.dirs().get(d.parts), d.mode | 0o700)

    def stage(self, stop_here: Callable[[], None]) -> None:
        """New directories, and every new or changed file and link as a temp sibling; a held stop is taken
        between two of them."""
        for node in self.order:
            if node.action not in ("create", "replace"):
                continue
            stop_here()
            pfd, name = self.dirs().get(node.parts[:-1]), node.parts[-1]
            if node.kind is EntryKind.DIR:
                self.stage_dir(pfd, node, name)
            elif node.kind is EntryKind.SYMLINK:
                self.stage_link(pfd, node)
            else:
                self.stage_file(pfd, node)

    def stage_dir(self, pfd: int, node: Node, name: str) -> None:
        self.log.append(MadeDir(node.parts[:-1], name))
        os.mkdir(name, 0o700, dir_fd=pfd)
        fd = os.open(name, DIR_FLAGS, dir_fd=pfd)
        try:
            os.fchmod(fd, 0o700)  # the umask may have left us without write access
        finally:
            os.close(fd)

    def stage_link(self, pfd: int, node: Node) -> None:
        tmp = self.names[node.parts][0]
        self.log.append(MadeFile(node.parts[:-1], tmp))
        os.symlink(node.link or "", tmp, dir_fd=pfd)
        if self.owners:
            os.chown(tmp, *self.ids(node), dir_fd=pfd, follow_symlinks=False)
        os.utime(tmp, ns=self.times, dir_fd=pfd, follow_symlinks=False)
        self.staged.append((node, tmp))

    def stage_file(self, pfd: int, node: Node) -> None:
        tmp = self.names[node.parts][0]
        self.log.append(MadeFile(node.parts[:-1], tmp))
        fd = os.open(tmp, _NEW_FILE_FLAGS, 0o600, dir_fd=pfd)
        try:
            if node.content is not None:
                _write_all(fd, node.content)
            else:
                assert node.source is not None
                _copy_into(node.source, fd)
            if self.owners:
                os.fchown(fd, *self.ids(node))  # before chmod: chown clears setuid
            os.fchmod(fd, node.mode)
            os.utime(fd, ns=self.times)
        finally:
            os.close(fd)
        self.staged.append((node, tmp))

    def commit(self) -> None:
        """Originals aside, new ones in."""
        self.journal().mark("commit")
        for node, tmp in self.staged:
            parent, name = node.parts[:-1], node.parts[-1]
            pfd = self.dirs().get(parent)
            if node.action == "replace":
                old = self.names[node.parts][1]
                assert old is not None
                self.log.append(MovedAside(parent, name, old))
                os.rename(name, old, src_dir_fd=pfd, dst_dir_fd=pfd)
            self.log.append(MadeFile(parent, name))
            _place(tmp, name, pfd)
        for gone in self.prev.remove:
            parent, name = gone.parts[:-1], gone.parts[-1]
            pfd = self.dirs().get(parent)
            old = self.names[gone.parts][1]
            assert old is not None
            self.log.append(MovedAside(parent, name, old))
            os.rename(name, old, src_dir_fd=pfd, dst_dir_fd=pfd)

    def set_dir_attrs(self) -> None:
        """Directory modes and owners last, deepest first, so a read-only directory is filled before it closes."""
        for node in reversed(self.order):
            if node.kind is not EntryKind.DIR or node.action not in ("create", "update"):
                continue
            fd = self.dirs().get(node.parts)
            before = _dir_state(node.parts, os.fstat(fd))
            self.log.append(DirChanged(before.parts, before.mode, before.uid, before.gid))
            if self.owners:
                os.fchown(fd, *self.ids(node))
            os.fchmod(fd, node.mode)
            if node.action == "create":
                os.utime(fd, ns=self.times)

    def relock_dirs(self) -> None:
        finals = {n.parts for n in self.order if n.kind is EntryKind.DIR and n.action in ("create", "update")}
        for parts, d in self.unlocked.items():
            if parts not in finals:
                os.fchmod(self.dirs().get(parts), d.mode)

    def roll_back(self) -> None:
        with sigint_held():
            undo_all(self.log, self.fds)
            if self.disk is not None:
                self.disk.finish()
                # The journal sat in a root made by this run, which the rollback could not remove yet.
                for change in reversed(self.log):
                    if isinstance(change, MadeRoot):
                        with contextlib.suppress(OSError):
                            os.rmdir(change.path)
            if self.fds is not None:
                self.fds.close()

    def clean_up(self) -> None:
        """Committed: drop the replaced originals (a stop signal waits, so none is left behind)."""
        with sigint_held():
            fds = self.dirs()
            for change in self.log:
                if isinstance(change, MovedAside):
                    with contextlib.suppress(OSError):
                        os.unlink(change.old, dir_fd=fds.get(change.parent))
            for gone in self.prev.dirs:  # deepest first; a directory still holding files stays
                fds.forget(gone.parts)
                with contextlib.suppress(OSError):
                    os.rmdir(gone.parts[-1], dir_fd=fds.get(gone.parts[:-1]))
            self.journal().finish()
            fds.close()


def _dir_state(parts: tuple[str, ...], st: os.stat_result) -> DirState:
    return DirState(parts, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)


def _to_unlock(fds: DirFds, order: list[Node]) -> dict[tuple[str, ...], DirState]:
    """Without root: existing read-only directories of ours that must be writable until the commit is done."""
    created = {n.parts for n in order if n.kind is EntryKind.DIR and n.action == "create"}
    out: dict[tuple[str, ...], DirState] = {}
    for node in order:
        parts = node.parts[:-1]
        if node.action not in ("create", "replace") or parts in created or parts in out:
            continue
        st = os.fstat(fds.get(parts))
        if st.st_uid == os.geteuid() and st.st_mode & 0o300 != 0o300:
            out[parts] = _dir_state(parts, st)
    return out
