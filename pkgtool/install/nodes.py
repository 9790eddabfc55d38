"""What install does at each path: one node per entry (and per parent), judged against the root.

Nothing here writes.  A node's action is decided from what is in the root
now ('create', 'replace', 'update' for a mode or owner only, 'unchanged',
'exists' for a directory the package does not own), and anything unsafe (a
symlink where a directory or file goes, a type that differs) is refused
before the first byte is written.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import InstallError, PkgtoolError
from ..links import link_text
from ..model import Entry, EntryKind, Resolved
from ..rootfs.accounts import Accounts
from ..rootfs.paths import CHUNK, file_digest, link_destination, path_parts
from ..sources.regular import open_regular


@dataclass
class Node:
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


def source_digest(path: Path) -> str:
    """sha256 of a staged source, read through the checked opener (a FIFO swapped in is refused, not read)."""
    fd, _st = open_regular(os.fspath(path), InstallError)
    h = hashlib.sha256()
    try:
        while chunk := os.read(fd, CHUNK):
            h.update(chunk)
    finally:
        os.close(fd)
    return h.hexdigest()


def entry_nodes(resolved: Resolved, src_dir: Path) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    for e in resolved.entries:
        try:
            parts = path_parts(e.path)
        except ValueError as exc:
            raise InstallError(str(exc), hint="resolve should have refused it (unsafe-path)") from None
        if not parts:
            raise InstallError(f"{e.path}: an entry cannot be the root itself")
        node = Node(e.path, parts, e.kind, e.mode, e.owner, e.group, e.owned or e.kind is not EntryKind.DIR, entry=e)
        if e.kind is EntryKind.FILE:
            if not e.source:
                raise InstallError(f"{e.path}: file entry without a source")
            node.source = src_dir / e.source
            try:
                node.digest = source_digest(node.source)
            except PkgtoolError as exc:
                raise InstallError(f"{e.path}: its source {e.source}: {exc.message}") from None
        elif e.kind is EntryKind.SYMLINK:
            node.link = link_text(e)
        nodes[e.path] = node
    return nodes


def content_node(path: str, content: bytes) -> Node:
    """A file pkgtool writes itself (the manifest), root-owned, 0644."""
    digest = hashlib.sha256(content).hexdigest()
    return Node(path, path_parts(path), EntryKind.FILE, 0o644, "root", "root", True, content=content, digest=digest)


def add_parents(nodes: dict[str, Node]) -> None:
    for node in list(nodes.values()):
        for i in range(1, len(node.parts)):
            parent = "/" + "/".join(node.parts[:i])
            have = nodes.get(parent)
            if have is None:
                nodes[parent] = Node(parent, node.parts[:i], EntryKind.DIR, 0o755, "root", "root", owned=False)
            elif have.kind is not EntryKind.DIR:
                raise InstallError(f"{node.path}: its parent {parent} is a {have.kind.value} entry, not a directory")


def check_names(resolved: Resolved, accounts: Accounts) -> None:
    users = sorted({e.owner for e in resolved.entries if accounts.uid(e.owner) is None})
    groups = sorted({e.group for e in resolved.entries if accounts.gid(e.group) is None})
    if users or groups:
        what = [f"user {u!r}" for u in users] + [f"group {g!r}" for g in groups]
        raise InstallError(
            f"unknown {', '.join(what)} (looked up in {accounts.users_from} / {accounts.groups_from})",
            hint="create them in the root's etc/passwd and etc/group (or on the host) before installing",
        )


def _same_owner(st: os.stat_result, node: Node, accounts: Accounts, owners: bool) -> bool:
    return not owners or (st.st_uid == accounts.uid(node.owner) and st.st_gid == accounts.gid(node.group))


def judge(root: Path, node: Node, accounts: Accounts, owners: bool) -> str:
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


def decide(root: Path, order: list[Node], accounts: Accounts, owners: bool) -> None:
    """Set node.action for every node; parents come first, so a missing parent means a missing child."""
    absent: set[tuple[str, ...]] = set()
    if not root.exists():
        absent.add(())
    for node in order:
        if node.parts[:-1] in absent:
            node.action = "create"
        else:
            node.action = judge(root, node, accounts, owners)
        if node.action == "create":
            absent.add(node.parts)
