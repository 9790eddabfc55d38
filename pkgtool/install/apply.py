"""Apply resolved entries to a root directory, as the package would, all or nothing.

Three steps: plan (look at what is there, refuse anything unsafe before a
byte is written), stage (every file and link as a temp sibling in its final
directory, new directories created), commit (rename into place, keeping
replaced originals aside until the end, then directory modes and owners).
Any failure, KeyboardInterrupt included, undoes the journal so the root is
left as it was.  A kill that no handler sees (SIGKILL, a crash) is covered
by the on-disk journal of install_journal.py: the next install into the
root rolls the interrupted one back first.  Nothing here follows a symlink
inside the root.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import posixpath
import stat
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from ..atomic import sigint_held
from ..errors import InstallError, PkgtoolError
from ..model import Entry, EntryKind, Resolved
from ..rootfs.accounts import Accounts, load_accounts
from ..rootfs.paths import CHUNK, file_digest, link_destination, path_parts
from .journal import Journal, Plan, Recovery, journal_name, pending, recover

MANIFEST_DIR = "/var/lib/pkgtool"
MANIFEST_FORMAT = "pkgtool-install-manifest"

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def manifest_path(name: str) -> str:
    return f"{MANIFEST_DIR}/{name}.json"


# ---------------------------------------------------------------- report


@dataclass(frozen=True)
class InstallAction:
    path: str
    kind: EntryKind
    action: str  # 'create' | 'replace' | 'update' (mode/owner only) | 'unchanged' | 'exists' (system dir)
    mode: int
    owner: str
    group: str
    owned: bool = True
    target: str | None = None
    digest: str = ""  # sha256 of the installed content, files only

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "kind": self.kind.value,
            "action": self.action,
            "mode": f"{self.mode:04o}",
            "owner": self.owner,
            "group": self.group,
            "owned": self.owned,
            "target": self.target,
            "sha256": self.digest or None,
        }


@dataclass(frozen=True)
class InstallReport:
    root: str
    package: str
    version: str  # VERSION-RELEASE
    dry_run: bool
    owners_applied: bool
    manifest: str  # path of the manifest inside the root
    actions: tuple[InstallAction, ...]
    recovered: tuple[Recovery, ...] = ()  # interrupted earlier installs rolled back first

    def count(self, action: str) -> int:
        return sum(1 for a in self.actions if a.action == action)

    @property
    def changed(self) -> int:
        return sum(1 for a in self.actions if a.action in ("create", "replace", "update"))

    def to_dict(self) -> dict:
        return {
            "root": self.root,
            "package": self.package,
            "version": self.version,
            "dry_run": self.dry_run,
            "owners_applied": self.owners_applied,
            "manifest": self.manifest,
            "recovered": [r.to_dict() for r in self.recovered],
            "summary": {k: self.count(k) for k in ("create", "replace", "update", "unchanged", "exists")},
            "actions": [a.to_dict() for a in self.actions],
        }

    def to_text(self) -> str:
        verb = "would install" if self.dry_run else "installed"
        lines = [r.to_text() for r in self.recovered]
        lines.append(f"{verb} {self.package} {self.version} into {self.root}")
        for a in self.actions:
            if a.action == "exists":
                continue
            word = a.action
            owner = f"{a.owner}:{a.group}"
            tail = f" -> {a.target}" if a.target else ""
            lines.append(f"  {word:<10} {a.kind.value:<7} {a.mode:04o} {owner:<20} {a.path}{tail}")
        if self.owners_applied:
            lines.append(f"owners applied; manifest {self.manifest}")
        else:
            lines.append(f"owners NOT applied (not running as root); intended owners recorded in {self.manifest}")
        summary = ", ".join(f"{self.count(k)} {k}" for k in ("create", "replace", "update", "unchanged"))
        lines.append(summary)
        return "\n".join(lines)


# ---------------------------------------------------------------- plan


@dataclass
class _Node:
    path: str
    parts: tuple[str, ...]
    kind: EntryKind
    mode: int
    owner: str
    group: str
    owned: bool
    entry: Entry | None = None
    source: Path | None = None  # FILE: staged content
    content: bytes | None = None  # FILE: content held in memory (the manifest)
    link: str | None = None  # SYMLINK: the text written into the link
    digest: str = ""
    action: str = ""


def _link_text(entry: Entry) -> str:
    # Stored relative, as the packages do, so the link also works seen from outside the root.
    target = entry.target or ""
    if target.startswith("/"):
        return posixpath.relpath(target, posixpath.dirname(entry.path))
    return target


def _nodes(resolved: Resolved, src_dir: Path) -> dict[str, _Node]:
    nodes: dict[str, _Node] = {}
    for e in resolved.entries:
        try:
            parts = path_parts(e.path)
        except ValueError as exc:
            raise InstallError(str(exc), hint="resolve should have refused it (unsafe-path)") from None
        if not parts:
            raise InstallError(f"{e.path}: an entry cannot be the root itself")
        node = _Node(e.path, parts, e.kind, e.mode, e.owner, e.group, e.owned or e.kind is not EntryKind.DIR, entry=e)
        if e.kind is EntryKind.FILE:
            if not e.source:
                raise InstallError(f"{e.path}: file entry without a source")
            node.source = src_dir / e.source
            try:
                node.digest = file_digest(node.source)
            except OSError as exc:
                raise InstallError(f"{e.path}: cannot read its source {e.source}: {exc.strerror}") from None
        elif e.kind is EntryKind.SYMLINK:
            node.link = _link_text(e)
        nodes[e.path] = node
    return nodes


def _add_parents(nodes: dict[str, _Node]) -> None:
    for node in list(nodes.values()):
        for i in range(1, len(node.parts)):
            parent = "/" + "/".join(node.parts[:i])
            have = nodes.get(parent)
            if have is None:
                nodes[parent] = _Node(parent, node.parts[:i], EntryKind.DIR, 0o755, "root", "root", owned=False)
            elif have.kind is not EntryKind.DIR:
                raise InstallError(f"{node.path}: its parent {parent} is a {have.kind.value} entry, not a directory")


def _manifest(resolved: Resolved, nodes: dict[str, _Node], owners_applied: bool) -> bytes:
    pkg = resolved.package
    doc = {
        "format": MANIFEST_FORMAT,
        "schema": 1,
        "package": pkg.name,
        "version": pkg.version,
        "release": pkg.release,
        "epoch": pkg.epoch,
        "distro": resolved.profile.id,
        "source_date_epoch": resolved.source_date_epoch,
        "owners_applied": owners_applied,
        "entries": [
            {
                "path": e.path,
                "kind": e.kind.value,
                "mode": f"{e.mode:04o}",
                "owner": e.owner,
                "group": e.group,
                "owned": e.owned,
                "config": e.config.value,
                "sha256": nodes[e.path].digest or None,
                "target": e.target,
            }
            for e in resolved.entries
        ],
    }
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def _same_owner(st: os.stat_result, node: _Node, accounts: Accounts, owners: bool) -> bool:
    return not owners or (st.st_uid == accounts.uid(node.owner) and st.st_gid == accounts.gid(node.group))


def _judge(root: Path, node: _Node, accounts: Accounts, owners: bool) -> str:
    """What to do at node.path, given what is there; InstallError when it is unsafe or of the wrong type."""
    real = root.joinpath(*node.parts)
    try:
        st = os.lstat(real)
    except FileNotFoundError:
        return "create"
    ftype = stat.S_IFMT(st.st_mode)
    if stat.S_ISLNK(st.st_mode) and node.kind is not EntryKind.SYMLINK:
        raise InstallError(
            f"{real} is a symlink (to {os.readlink(real)!r}) where a {node.kind.value} is to be installed;"
            " refusing to follow it",
            hint="pkgtool never follows a symlink inside the root; remove it or pick another root",
        )
    want = {EntryKind.FILE: stat.S_IFREG, EntryKind.DIR: stat.S_IFDIR, EntryKind.SYMLINK: stat.S_IFLNK}[node.kind]
    if ftype != want:
        raise InstallError(f"{real} exists and is not a {node.kind.value}", hint="remove it first")
    if node.kind is EntryKind.DIR:
        if not node.owned:
            return "exists"
        same = stat.S_IMODE(st.st_mode) == node.mode and _same_owner(st, node, accounts, owners)
        return "unchanged" if same else "update"
    if node.kind is EntryKind.SYMLINK:
        here = os.readlink(real)
        same = link_destination(node.path, here) == link_destination(node.path, node.link or "")
        return "unchanged" if same and _same_owner(st, node, accounts, owners) else "replace"
    same = (
        stat.S_IMODE(st.st_mode) == node.mode
        and _same_owner(st, node, accounts, owners)
        and st.st_size == (len(node.content) if node.content is not None else os.stat(node.source).st_size)
        and file_digest(real) == node.digest
    )
    return "unchanged" if same else "replace"


# ---------------------------------------------------------------- execution helpers


class _DirFds:
    """Directory fds inside the root, opened component by component with O_NOFOLLOW; a few kept open."""

    def __init__(self, root: Path, keep: int = 64):
        self.root_fd = os.open(root, _DIR_FLAGS & ~os.O_NOFOLLOW)
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
        fd = os.open(parts[-1], _DIR_FLAGS, dir_fd=parent)
        self.cache[parts] = fd
        while len(self.cache) > self.keep:
            _, old = self.cache.popitem(last=False)
            os.close(old)
        return fd

    def close(self) -> None:
        for fd in self.cache.values():
            os.close(fd)
        self.cache.clear()
        os.close(self.root_fd)


_counter = itertools.count()


_NAME_MAX = 255  # bytes of one path component on Linux filesystems


def _tmp_name(name: str, tag: str) -> str:
    tail = f".pkgtool-{tag}-{os.getpid()}-{next(_counter)}"
    if len(os.fsencode(name)) + len(tail) + 1 > _NAME_MAX:
        # A name near the limit: keep a readable head and a digest, so the sibling stays unique and legal.
        digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:16]
        name = os.fsencode(name)[:100].decode("utf-8", "ignore") + "~" + digest
    return f".{name}{tail}"


def _copy_into(src: Path, fd: int) -> None:
    """Stream src into the open fd (a module function so tests can make it fail)."""
    with open(src, "rb") as fh:
        while chunk := fh.read(CHUNK):
            _write_all(fd, chunk)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _ids(node: _Node, accounts: Accounts) -> tuple[int, int]:
    uid, gid = accounts.uid(node.owner), accounts.gid(node.group)
    assert uid is not None and gid is not None  # checked before anything was written
    return uid, gid


# ---------------------------------------------------------------- install


def install(resolved: Resolved, root: Path | str, dry_run: bool = False) -> InstallReport:
    """Install every entry of ``resolved`` under ``root``; all or nothing. See the module docstring."""
    from ..sources.staging import staged_sources  # written alongside; imported late to keep this module light

    root = Path(os.path.abspath(root))
    if root.exists() and not root.is_dir():
        raise InstallError(f"{root} is not a directory")
    recovered: list[Recovery] = []
    if root.is_dir() and pending(root):
        if dry_run:
            raise InstallError(
                f"an earlier install into {root} was interrupted ({', '.join(pending(root))})",
                hint="run the install without --dry-run: it rolls the interrupted one back first",
            )
        recovered = recover(root)
    owners = os.geteuid() == 0
    accounts = load_accounts(root if root.is_dir() else None)
    if owners:
        _check_names(resolved, accounts)

    with staged_sources(resolved) as src_dir:
        nodes = _nodes(resolved, Path(src_dir))
        mpath = manifest_path(resolved.package.name)
        if mpath in nodes:
            raise InstallError(f"{mpath}: the package itself deploys pkgtool's install manifest path")
        if "/" + journal_name(resolved.package.name) in nodes:
            raise InstallError(f"/{journal_name(resolved.package.name)}: the package deploys pkgtool's journal path")
        content = _manifest(resolved, nodes, owners)
        nodes[mpath] = _Node(
            mpath,
            path_parts(mpath),
            EntryKind.FILE,
            0o644,
            "root",
            "root",
            owned=True,
            content=content,
            digest=hashlib.sha256(content).hexdigest(),
        )
        _add_parents(nodes)
        order = sorted(nodes.values(), key=lambda n: n.parts)
        _plan(root, order, accounts, owners)
        report = InstallReport(
            root=str(root),
            package=resolved.package.name,
            version=f"{resolved.package.version}-{resolved.package.release}",
            dry_run=dry_run,
            owners_applied=owners,
            manifest=mpath,
            actions=tuple(
                InstallAction(
                    n.path,
                    n.kind,
                    n.action,
                    n.mode,
                    n.owner,
                    n.group,
                    n.owned,
                    n.link,
                    n.digest,
                )
                for n in order
                if n.entry is not None or n.path == mpath or n.action == "create"
            ),
            recovered=tuple(recovered),
        )
        if not dry_run:
            _apply(root, order, accounts, owners, resolved.source_date_epoch, resolved.package.name)
    return report


def _check_names(resolved: Resolved, accounts: Accounts) -> None:
    users = sorted({e.owner for e in resolved.entries if accounts.uid(e.owner) is None})
    groups = sorted({e.group for e in resolved.entries if accounts.gid(e.group) is None})
    if users or groups:
        what = [f"user {u!r}" for u in users] + [f"group {g!r}" for g in groups]
        raise InstallError(
            f"unknown {', '.join(what)} (looked up in {accounts.users_from} / {accounts.groups_from})",
            hint="create them in the root's etc/passwd and etc/group (or on the host) before installing",
        )


def _plan(root: Path, order: list[_Node], accounts: Accounts, owners: bool) -> None:
    """Set node.action for every node; parents come first, so a missing parent means a missing child."""
    absent: set[tuple[str, ...]] = set()
    if not root.exists():
        absent.add(())
    for node in order:
        if node.parts[:-1] in absent:
            node.action = "create"
        else:
            node.action = _judge(root, node, accounts, owners)
        if node.action == "create":
            absent.add(node.parts)


def _apply(root: Path, order: list[_Node], accounts: Accounts, owners: bool, epoch: int, package: str) -> None:
    journal: list[tuple] = []  # what was done, for the in-process rollback
    plan = Plan(package)  # what will be done, on disk, for recovery after a kill
    disk: Journal | None = None
    fds: _DirFds | None = None
    times = (epoch * 10**9, epoch * 10**9)
    try:
        if not root.exists():
            missing = [root, *[p for p in root.parents if not p.exists()]]
            for p in reversed(missing):
                os.mkdir(p, 0o700)
                journal.append(("mkroot", p))
                plan.mkroot.append(str(p))
            os.chmod(root, 0o755)
        fds = _DirFds(root)
        names = _staging_names(order)
        unlocked = {} if owners else _to_unlock(fds, order)  # existing dirs opened for writing -> their mode
        _fill_plan(plan, fds, order, names, unlocked)
        disk = Journal.begin(fds.root_fd, plan)
        for parts, (mode, uid, gid) in unlocked.items():
            journal.append(("attrs", parts, mode, uid, gid))
            os.fchmod(fds.get(parts), mode | 0o700)
        staged: list[tuple[_Node, str]] = []
        # Stage: new directories, and every new or changed file and link as a temp sibling.
        for node in order:
            if node.action not in ("create", "replace"):
                continue
            pfd, name = fds.get(node.parts[:-1]), node.parts[-1]
            if node.kind is EntryKind.DIR:
                os.mkdir(name, 0o700, dir_fd=pfd)
                journal.append(("mkdir", node.parts[:-1], name))
                fd = os.open(name, _DIR_FLAGS, dir_fd=pfd)
                try:
                    os.fchmod(fd, 0o700)  # the umask may have left us without write access
                finally:
                    os.close(fd)
            elif node.kind is EntryKind.SYMLINK:
                tmp = names[node.parts][0]
                # Journal first, act second: an interrupt between the two must not leave an unrecorded file.
                journal.append(("tmp", node.parts[:-1], tmp))
                os.symlink(node.link or "", tmp, dir_fd=pfd)
                if owners:
                    os.chown(tmp, *_ids(node, accounts), dir_fd=pfd, follow_symlinks=False)
                os.utime(tmp, ns=times, dir_fd=pfd, follow_symlinks=False)
                staged.append((node, tmp))
            else:
                tmp = names[node.parts][0]
                journal.append(("tmp", node.parts[:-1], tmp))
                fd = os.open(tmp, _NEW_FILE_FLAGS, 0o600, dir_fd=pfd)
                try:
                    if node.content is not None:
                        _write_all(fd, node.content)
                    else:
                        _copy_into(node.source, fd)
                    if owners:
                        os.fchown(fd, *_ids(node, accounts))  # before chmod: chown clears setuid
                    os.fchmod(fd, node.mode)
                    os.utime(fd, ns=times)
                finally:
                    os.close(fd)
                staged.append((node, tmp))
        # Commit: originals aside, new ones in.
        disk.mark("commit")
        for node, tmp in staged:
            pfd, name = fds.get(node.parts[:-1]), node.parts[-1]
            if node.action == "replace":
                old = names[node.parts][1]
                assert old is not None
                journal.append(("backup", node.parts[:-1], name, old))
                os.rename(name, old, src_dir_fd=pfd, dst_dir_fd=pfd)
            journal.append(("placed", node.parts[:-1], name))
            _place(tmp, name, pfd)
        # Directory modes and owners last, deepest first, so a read-only directory is filled before it closes.
        for node in reversed(order):
            if node.kind is not EntryKind.DIR or node.action not in ("create", "update"):
                continue
            fd = fds.get(node.parts)
            st = os.fstat(fd)
            journal.append(("attrs", node.parts, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))
            if owners:
                os.fchown(fd, *_ids(node, accounts))
            os.fchmod(fd, node.mode)
            if node.action == "create":
                os.utime(fd, ns=times)
        finals = {n.parts for n in order if n.kind is EntryKind.DIR and n.action in ("create", "update")}
        for parts, (old_mode, _uid, _gid) in unlocked.items():
            if parts not in finals:
                os.fchmod(fds.get(parts), old_mode)
        disk.mark("done")
    except BaseException as exc:
        with sigint_held():
            _rollback(root, journal, fds)
            if disk is not None:
                disk.finish()
                # The journal sat in a root made by this run, which the rollback could not remove yet.
                for rec in reversed(journal):
                    if rec[0] == "mkroot":
                        with contextlib.suppress(OSError):
                            os.rmdir(rec[1])
            if fds is not None:
                fds.close()
        if isinstance(exc, PkgtoolError):
            raise
        if isinstance(exc, OSError):
            where = exc.filename or root
            raise InstallError(
                f"install into {root} failed at {where}: {exc.strerror or exc}; the root was left as it was"
            ) from exc
        raise
    # Committed: drop the replaced originals (Ctrl-C waits, so none is left behind).
    with sigint_held():
        for rec in journal:
            if rec[0] == "backup":
                with contextlib.suppress(OSError):
                    os.unlink(rec[3], dir_fd=fds.get(rec[1]))
        disk.finish()
        fds.close()


def _staging_names(order: list[_Node]) -> dict[tuple[str, ...], tuple[str, str | None]]:
    """Temp sibling and backup names of every file and link to place, fixed before anything is written."""
    names: dict[tuple[str, ...], tuple[str, str | None]] = {}
    for node in order:
        if node.kind is not EntryKind.DIR and node.action in ("create", "replace"):
            name = node.parts[-1]
            names[node.parts] = (_tmp_name(name, "new"), _tmp_name(name, "old") if node.action == "replace" else None)
    return names


def _to_unlock(fds: _DirFds, order: list[_Node]) -> dict[tuple[str, ...], tuple[int, int, int]]:
    """Without root: existing read-only directories of ours that must be writable until the commit is done."""
    created = {n.parts for n in order if n.kind is EntryKind.DIR and n.action == "create"}
    out: dict[tuple[str, ...], tuple[int, int, int]] = {}
    for node in order:
        parts = node.parts[:-1]
        if node.action not in ("create", "replace") or parts in created or parts in out:
            continue
        st = os.fstat(fds.get(parts))
        if st.st_uid == os.geteuid() and st.st_mode & 0o300 != 0o300:
            out[parts] = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    return out


def _fill_plan(plan: Plan, fds: _DirFds, order: list[_Node], names: dict, unlocked: dict) -> None:
    plan.dirs = [n.parts for n in order if n.kind is EntryKind.DIR and n.action == "create"]
    plan.unlock = [(parts, *attrs) for parts, attrs in unlocked.items()]
    for node in order:
        if node.kind is EntryKind.DIR and node.action == "update":
            st = os.fstat(fds.get(node.parts))
            plan.attrs.append((node.parts, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))
    plan.moves = [(parts[:-1], parts[-1], tmp, old) for parts, (tmp, old) in names.items()]


def _place(tmp: str, name: str, pfd: int) -> None:
    """Rename a staged temp sibling over its final name (a module function so tests can make it fail)."""
    os.rename(tmp, name, src_dir_fd=pfd, dst_dir_fd=pfd)


def _rollback(root: Path, journal: list[tuple], fds: _DirFds | None) -> None:
    """Undo the journal, newest first; best effort, every step tried."""
    for rec in reversed(journal):
        with contextlib.suppress(OSError, ValueError):
            op = rec[0]
            if op == "mkroot":
                os.rmdir(rec[1])
                continue
            assert fds is not None
            if op == "tmp" or op == "placed":
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(rec[2], dir_fd=fds.get(rec[1]))
            elif op == "backup":
                pfd = fds.get(rec[1])
                os.rename(rec[3], rec[2], src_dir_fd=pfd, dst_dir_fd=pfd)
            elif op == "mkdir":
                fd = fds.cache.pop((*rec[1], rec[2]), None)
                if fd is not None:
                    os.close(fd)
                os.rmdir(rec[2], dir_fd=fds.get(rec[1]))
            elif op == "attrs":
                fd = fds.get(rec[1])
                with contextlib.suppress(PermissionError):
                    os.fchown(fd, rec[3], rec[4])
                os.fchmod(fd, rec[2])


def read_manifest(root: Path | str, name: str) -> dict | None:
    """The install manifest of package ``name`` under root, or None when absent or unreadable."""
    from ..rootfs.paths import lstat_in_root

    parts = path_parts(manifest_path(name))
    st = lstat_in_root(Path(root), parts)
    if st is None or not stat.S_ISREG(st.st_mode):
        return None
    try:
        doc = json.loads(Path(root).joinpath(*parts).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == MANIFEST_FORMAT else None
