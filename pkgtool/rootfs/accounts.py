"""User and group names <-> ids, as a root directory's own etc/passwd and etc/group say.

A package's owners are names; which number a name means depends on the
system the files land on, so an install into a root asks that root first and
the host only when the root has no account files of its own.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..model import Layout


@dataclass(frozen=True)
class Accounts:
    users: Mapping[str, int]  # user name -> uid
    groups: Mapping[str, int]  # group name -> gid
    users_from: str = "host"  # the passwd file read, or 'host'
    groups_from: str = "host"
    _uid_names: Mapping[int, str] = field(default_factory=dict, compare=False, repr=False)
    _gid_names: Mapping[int, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        # The first name listed for an id wins, as getpwuid() does.
        object.__setattr__(self, "_uid_names", _reverse(self.users))
        object.__setattr__(self, "_gid_names", _reverse(self.groups))

    def uid(self, name: str) -> int | None:
        if name in self.users:
            return self.users[name]
        return 0 if name == "root" else None

    def gid(self, name: str) -> int | None:
        if name in self.groups:
            return self.groups[name]
        return 0 if name == "root" else None

    def user_name(self, uid: int) -> str:
        return self._uid_names.get(uid, "root" if uid == 0 else str(uid))

    def group_name(self, gid: int) -> str:
        return self._gid_names.get(gid, "root" if gid == 0 else str(gid))


def _reverse(names: Mapping[str, int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for name, num in names.items():
        out.setdefault(num, name)
    return out


def parse_id_file(text: str) -> dict[str, int]:
    """Parse passwd or group lines ``name:x:ID:...``; comments and malformed lines are skipped."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith(("#", "+", "-")):
            continue
        fields = line.split(":")
        if len(fields) < 3 or not fields[0]:
            continue
        try:
            out.setdefault(fields[0], int(fields[2]))
        except ValueError:
            continue
    return out


def _read_root_file(root: Path, rel: str) -> str | None:
    """Text of root/rel when every component is a real directory/file (no symlink), else None."""
    cur = root
    parts = rel.split("/")
    for i, part in enumerate(parts):
        cur = cur / part
        try:
            st = os.lstat(cur)
        except OSError:
            return None
        last = i == len(parts) - 1
        if (last and not stat.S_ISREG(st.st_mode)) or (not last and not stat.S_ISDIR(st.st_mode)):
            return None
    try:
        return cur.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def load_accounts(root: Path | str | None = None) -> Accounts:
    """Accounts of ``root`` (its etc/passwd and etc/group), each falling back to the host's."""
    users: dict[str, int] | None = None
    groups: dict[str, int] | None = None
    users_from = groups_from = "host"
    if root is not None:
        root = Path(root)
        text = _read_root_file(root, "etc/passwd")
        if text is not None:
            users, users_from = parse_id_file(text), str(root / "etc/passwd")
        text = _read_root_file(root, "etc/group")
        if text is not None:
            groups, groups_from = parse_id_file(text), str(root / "etc/group")
    if users is None:
        users = {}
        for p in pwd.getpwall():
            users.setdefault(p.pw_name, p.pw_uid)
    if groups is None:
        groups = {}
        for g in grp.getgrall():
            groups.setdefault(g.gr_name, g.gr_gid)
    return Accounts(users=users, groups=groups, users_from=users_from, groups_from=groups_from)


def with_declared(accounts: Accounts, layout: Layout) -> Accounts:
    """``accounts`` plus the map's [[user]]/[[group]] fixed ids for names the root does not know yet.

    The package's scripts make those accounts with exactly these ids, so files owned by them get the
    same numbers whether pkgtool or rpm/dpkg puts them in the root.
    """
    users = dict(accounts.users)
    groups = dict(accounts.groups)
    for g in layout.groups:
        if g.gid is not None:
            groups.setdefault(g.name, g.gid)
    for u in layout.users:
        if u.uid is not None:
            users.setdefault(u.name, u.uid)
            if u.primary == u.name:
                groups.setdefault(u.name, u.uid)
    if users == accounts.users and groups == accounts.groups:
        return accounts
    return Accounts(users=users, groups=groups, users_from=accounts.users_from, groups_from=accounts.groups_from)
