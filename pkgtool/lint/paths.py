"""Core rules about where things are deployed: /usr/local, system and host-owned directories."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Severity
from ..globs import PathSet
from ..kinds import host_dirs
from ..model import EntryKind
from .context import LintContext, under
from .rule import Finding, Rule, check

RULES: tuple[Rule, ...] = (
    Rule(
        "usr-local",
        Severity.ERROR,
        "paths",
        "The package deploys something under /usr/local.",
        "The FHS reserves /usr/local for the local administrator: software installed by hand, "
        "outside the package manager. A package that writes there collides with that software, and "
        "Debian policy and Fedora's guidelines forbid it (rpmlint: dir-or-file-in-usr-local).\n\n"
        "Fix: deploy under the profile's directories instead: `{bindir}`, `{datadir}`, "
        "`{libexecdir}`, ... (which are under /usr).",
    ),
    Rule(
        "owns-system-dir",
        Severity.ERROR,
        "paths",
        "A [[dir]] item claims a system or host-owned directory.",
        "The distro profile lists directories that belong to the base system (`/usr/bin`, `/etc`, "
        "`/usr/share`, ...), and a plugin kind lists those that belong to the host software (for a "
        "VDSM hook, `{libexecdir}/vdsm/hooks` and each hook-point directory). A package that owns one "
        "of them conflicts with the `filesystem` package or with the host software (rpmlint: "
        "standard-dir-owned-by-package), and removing it may try to remove the directory.\n\n"
        "Fix: remove the [[dir]] item: pkgtool creates the parents a file needs without owning the "
        "system ones. A [[tree]] or [[file]] may deploy into such a directory "
        '(`dst = "{bindir}/"`): the directory is then a parent the package needs, not one it '
        "owns, and is not reported.\n\n"
        "Not only a lint finding: `build`, `generate` and `install` refuse such a map too, because "
        "installing it would change the mode or owner of a directory the package does not own. "
        "Waived with `allow`, the item is left unowned and the directory keeps its own mode.",
    ),
)


@check("usr-local")
def usr_local(ctx: LintContext) -> Iterator[Finding]:
    in_usr_local = under("/usr/local")
    for e in ctx.resolved.owned:
        if e.implicit or not in_usr_local(e.path):
            continue
        yield Finding(
            "usr-local",
            f"{e.path} is under /usr/local, which belongs to the local administrator",
            entry=e,
            key="path" if e.kind is not EntryKind.FILE else "dst",
            hint="deploy under {bindir}, {datadir}, {libexecdir}, ... instead",
        )


def _owner_of(ctx: LintContext):
    """A function: deployed directory -> who owns it ('' when the package may)."""
    system = PathSet(ctx.profile.system_dirs)  # may hold globs ('/usr/lib/python3*')
    host = PathSet(host_dirs(ctx.kind, ctx.profile.dirs))

    def owner(path: str) -> str:
        if path in system:
            return "the system (the distro profile's system_dirs)"
        if path in host:
            return f"the host software of a {ctx.kind} package"
        return ""

    return owner


@check("owns-system-dir")
def owns_system_dir(ctx: LintContext) -> Iterator[Finding]:
    owner_of = _owner_of(ctx)
    seen: set[str] = set()
    layout = ctx.layout
    for i, spec in enumerate(layout.dirs):
        path = ctx.expand(spec.path)
        if owner_of(path) and path not in seen:
            seen.add(path)
            yield Finding(
                "owns-system-dir",
                f"dir[{i}] claims {path}, which belongs to {owner_of(path)}",
                path=path,
                location=ctx.item_location("dir", i, "path"),
                allow=frozenset(spec.allow),
                hint="remove this [[dir]] item; parents of files are created without being owned",
            )
    # Whatever resolve still lets the package own (a belt to the braces above).
    for e in ctx.entries:
        if e.kind is EntryKind.DIR and e.owned and not e.implicit and owner_of(e.path) and e.path not in seen:
            seen.add(e.path)
            yield Finding(
                "owns-system-dir",
                f"the package owns {e.path}, which belongs to {owner_of(e.path)}",
                entry=e,
                key="path",
            )


CHECKS = (usr_local, owns_system_dir)
