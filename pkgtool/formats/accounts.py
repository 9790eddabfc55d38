"""[[group]] and [[user]] as shell: the same lines in RPM's %pre and Debian's preinst.

Each account is made only if missing, with the map's fixed ids, looked up in the root being
installed (never on the host): dpkg --root / rpm --root run the scripts chrooted, and a
chrootless dpkg (DPKG_ROOT set) gets DPKG_ROOT's files and groupadd/useradd --prefix.  The
lookup is plain shell, so %pre needs nothing but groupadd and useradd.  Accounts are never
removed: files, processes and logs may still carry their ids.
"""

from __future__ import annotations

import shlex

from ..model import Layout

# sh function: is NAME ($2) in the root's /etc/passwd or /etc/group ($1)?
HAS_FUNCTION = """pkgtool_has() {
	[ -e "${DPKG_ROOT:-}/etc/$1" ] || return 1
	while IFS=: read -r pkgtool_name pkgtool_rest; do
		[ "$pkgtool_name" = "$2" ] && return 0
	done < "${DPKG_ROOT:-}/etc/$1"
	return 1
}"""
_PREFIX = '${DPKG_ROOT:+--prefix "$DPKG_ROOT"}'


def account_commands(layout: Layout) -> list[str]:
    """One line per account to make: groups first (declared, then users' implied primary groups), then users."""
    q = shlex.quote
    lines = []
    declared = {g.name for g in layout.groups}
    groups = [(g.name, g.gid, g.system) for g in layout.groups]
    for u in layout.users:  # a primary group nobody declared: the user's own, with gid = uid (as sysusers does)
        if u.primary not in declared:
            declared.add(u.primary)
            groups.append((u.primary, u.uid if u.primary == u.name else None, u.system))
    for name, gid, system in groups:
        opts = ["-r"] if system else []
        opts += ["-g", str(gid)] if gid is not None else []
        lines.append(f"pkgtool_has group {q(name)} || groupadd {' '.join([*opts, _PREFIX, q(name)])} || exit $?")
    for u in layout.users:
        opts = ["-r"] if u.system else []
        opts += ["-u", str(u.uid)] if u.uid is not None else []
        opts += ["-g", q(u.primary)]
        opts += ["-G", q(",".join(u.groups))] if u.groups else []
        opts += ["-d", q(u.home), "-M", "-s", q(u.shell)]
        opts += ["-c", q(u.comment)] if u.comment else []
        lines.append(f"pkgtool_has passwd {q(u.name)} || useradd {' '.join([*opts, _PREFIX, q(u.name)])} || exit $?")
    return lines


def account_script(layout: Layout) -> str:
    """The whole block (the lookup function and the commands), or '' when the map declares no account."""
    commands = account_commands(layout)
    if not commands:
        return ""
    return HAS_FUNCTION + "\n" + "\n".join(commands) + "\n"
