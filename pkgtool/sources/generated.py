"""Source files pkgtool writes itself: a sysusers.d file from [[user]]/[[group]], a preset file from [[unit]].

They live under ``pkgtool-generated/`` of the staged tree and of the source tarball (never
in the map's own tree), so the spec, debian/rules and the native writers install them from
one relative source like any map's file, and `verify` compares them the same way.  The text
is a pure function of the layout: reproducible with no clock and no host lookup.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Layout, Location

GENERATED_DIR = "pkgtool-generated"


def sysusers_source(layout: Layout) -> str:
    """The relative source of the package's sysusers.d file."""
    return f"{GENERATED_DIR}/sysusers/{layout.package.name}.conf"


def _quoted(text: str) -> str:
    # sysusers splits on blanks, unquotes C-style and expands %-specifiers in these fields
    # (sysusers.d(5)): '%' is written '%%'; the map keeps every field on one line.
    text = text.replace("%", "%%")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"' if text else "-"


def _word(text: str) -> str:
    """A path as one sysusers field: quoted only when it holds a blank or a quote (rarely)."""
    return _quoted(text) if any(c in text for c in " \t\"'\\") else text.replace("%", "%%")


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
        lines.append(f"u {u.name} {ident} {_quoted(u.comment)} {_word(u.home)} {_word(u.shell)}")
    lines += [f"m {u.name} {g}" for u in users for g in u.groups]
    return "\n".join(lines) + "\n"


def preset_text(layout: Layout) -> str:
    """systemd.preset lines (``enable UNIT`` / ``disable UNIT``) for the units with a preset ('' without)."""
    lines = [f"{u.preset.value} {u.name}" for u in layout.units if u.preset is not None]
    if not lines:
        return ""
    return (
        f"# {layout.package.name}: the presets of its [[unit]] tables (written by pkgtool)\n" + "\n".join(lines) + "\n"
    )


@dataclass(frozen=True)
class Generated:
    """One file pkgtool writes: where it is deployed (placeholders unexpanded) and its source under GENERATED_DIR."""

    dst: str
    source: str
    data: bytes
    origin: str  # the entry's origin, as a map table's would be
    loc: Location | None  # the table a problem with it is reported at


def generated_files(layout: Layout) -> list[Generated]:
    """Every file pkgtool writes for this layout, in a fixed order."""
    name = layout.package.name
    out = []
    text = sysusers_text(layout)
    if text:  # system accounts only (a non-system one is left to %pre/preinst)
        loc = (layout.users or layout.groups)[0].loc
        out.append(Generated(f"{{sysusersdir}}/{name}.conf", sysusers_source(layout), text.encode(), "sysusers", loc))
    text = preset_text(layout)
    if text:
        loc = next(u.loc for u in layout.units if u.preset is not None)
        source = f"{GENERATED_DIR}/preset/50-{name}.preset"
        out.append(Generated(f"{{presetdir}}/50-{name}.preset", source, text.encode(), "preset", loc))
    return out


def generated_sources(layout: Layout) -> dict[str, bytes]:
    """Relative source -> content of every file pkgtool writes for this layout."""
    return {g.source: g.data for g in generated_files(layout)}
