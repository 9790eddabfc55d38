"""Source files pkgtool writes itself: a sysusers.d file from [[user]]/[[group]].

They live under ``pkgtool-generated/`` of the staged tree and of the source tarball (never
in the map's own tree), so the spec, debian/rules and the native writers install them from
one relative source like any map's file, and `verify` compares them the same way.  The text
is a pure function of the layout: reproducible with no clock and no host lookup.
"""

from __future__ import annotations

from ..model import Layout

GENERATED_DIR = "pkgtool-generated"


def sysusers_source(layout: Layout) -> str:
    """The relative source of the package's sysusers.d file."""
    return f"{GENERATED_DIR}/sysusers/{layout.package.name}.conf"


def _quoted(text: str) -> str:
    # sysusers unquotes C-style: a comment holds no '\' (the map refuses it), so only '"' needs escaping.
    return '"' + text.replace('"', '\\"') + '"' if text else "-"


def sysusers_text(layout: Layout) -> str:
    """systemd-sysusers lines for the map's system accounts, in the order %pre makes them ('' without any).

    A user whose own-name primary group no table declares takes gid = uid (``u NAME UID``), as
    sysusers and the %pre/preinst commands do; a declared or other primary group is named
    (``u NAME UID:GROUP``).
    Non-system accounts are left to %pre/preinst: sysusers makes system accounts only.
    """
    groups = [g for g in layout.groups if g.system]
    users = [u for u in layout.users if u.system]
    if not groups and not users:
        return ""
    lines = [f"# {layout.package.name}: the accounts of its [[group]] and [[user]] tables (written by pkgtool)"]
    declared = {g.name for g in layout.groups}
    lines += [f"g {g.name} {'-' if g.gid is None else g.gid}" for g in groups]
    for u in users:  # an undeclared primary group other than the user's own: made first, as %pre does
        if u.primary not in declared and u.primary != u.name:
            declared.add(u.primary)
            lines.append(f"g {u.primary} -")
    system_groups = {g.name for g in groups}
    for u in users:
        uid = "-" if u.uid is None else str(u.uid)
        named = u.primary != u.name or u.primary in system_groups  # else sysusers makes NAME with gid = uid
        ident = f"{uid}:{u.primary}" if named else uid
        lines.append(f"u {u.name} {ident} {_quoted(u.comment)} {u.home} {u.shell}")
    lines += [f"m {u.name} {g}" for u in users for g in u.groups]
    return "\n".join(lines) + "\n"


def generated_sources(layout: Layout) -> dict[str, bytes]:
    """Relative source -> content of every file pkgtool writes for this layout."""
    text = sysusers_text(layout)
    return {sysusers_source(layout): text.encode()} if text else {}
