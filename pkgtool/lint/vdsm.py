"""Rules of the vdsm-hook kind: hook points, hooks vs helpers, names, sudoers drop-ins."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..diagnostics import Severity, nearest
from ..kinds.vdsm_hook import HOOK_NAME, HOOK_POINTS, SUDOERS_DIR
from ..kinds.vdsm_hook import KIND as VDSM_HOOK
from ..model import Entry, EntryKind
from .context import KindPolicy, LintContext, parts_below
from .rule import Finding, Rule, check

KIND = VDSM_HOOK.name
_K = (KIND,)

RULES: tuple[Rule, ...] = (
    Rule(
        "vdsm-hook-point",
        Severity.ERROR,
        "vdsm",
        "A file under the VDSM hooks directory is not inside one of the 58 hook-point directories.",
        "VDSM runs the files of `{libexecdir}/vdsm/hooks/<hook-point>/` for a fixed set of 58 hook "
        "points. A directory with any other name, such as `before_vm_started` or "
        "`before_migration`, is never looked at, so the hook never runs. A file directly in hooks/ "
        "is never run by VDSM either: it is reported when it is named like a hook (`NN_name`) and "
        "nothing else in the package names its path; other files there are left alone (vdsm's "
        "checkips hook ships its daemon as hooks/checkipsd, started by a systemd unit). The hook points: "
        + ", ".join(sorted(HOOK_POINTS))
        + ".\n\n"
        "Fix: deploy the hook into the directory of the hook point you mean, spelt exactly.",
        _K,
    ),
    Rule(
        "vdsm-hook-not-executable",
        Severity.ERROR,
        "vdsm",
        "A hook in a hook-point directory has no execute bit.",
        "VDSM runs only the executable regular files of a hook-point directory and silently skips "
        "the others, so a hook without the x bit is a hook that never runs. A file counts as a "
        "hook here when it starts with '#!' or is named like one (`NN_name`).\n\n"
        'Fix: give it `mode = "0755"`. If the file is a helper module or data file, move it out of '
        "the hook-point directory (`{datadir}/<package>/`), where it cannot be mistaken for a hook.",
        _K,
    ),
    Rule(
        "vdsm-helper-executable",
        Severity.ERROR,
        "vdsm",
        "An executable file in a hook-point directory is neither a script with '#!' nor a binary.",
        "The rule that tells hooks from helpers: every executable file in a hook-point directory "
        "is a hook, because VDSM runs every executable, non-dot regular file there. A hook must "
        "therefore be runnable: a script with a shebang line or an ELF binary. An executable file "
        "without either is a helper module or a data file that got the x bit (through a [[tree]] "
        "mode or an [[attr]] glob); VDSM will try to run it, the run fails, and depending on the "
        "exit status the whole hook chain stops.\n\n"
        'Fix: drop its execute bit (`mode = "0644"`), or better move helpers and data out of the '
        "hook-point directory, for instance to `{datadir}/<package>/`, and import them from there.",
        _K,
    ),
    Rule(
        "vdsm-hook-name",
        Severity.WARNING,
        "vdsm",
        "A hook's name does not follow the NN_name convention.",
        "VDSM runs the hooks of a hook point in plain string order of their names. The convention "
        "`^[0-9]{2}_[a-z0-9_]+$` (`50_smbios`) makes that order explicit and lets other packages "
        "place their hooks before or after yours.\n\n"
        "Fix: rename the deployed hook, for instance `smbios.py` to `50_smbios`.",
        _K,
    ),
    Rule(
        "vdsm-hook-dotfile",
        Severity.ERROR,
        "vdsm",
        "A file whose name starts with a dot is deployed into a hook-point directory.",
        "VDSM skips dot files, so a hook named `.50_foo` never runs; and a dot file there is most "
        "often an editor's or a VCS's leftover swept in by a [[tree]].\n\n"
        'Fix: rename it, or `exclude` it from the tree (`exclude = [".*"]`).',
        _K,
    ),
    Rule(
        "vdsm-sudoers-mode",
        Severity.ERROR,
        "vdsm",
        "A sudoers drop-in is not mode 0440.",
        "Hooks that need root for one command ship a drop-in under `/etc/sudoers.d/` (by "
        "convention `50_vdsm_hook_<name>`). sudo ignores, with only a log message, drop-ins that "
        "are writable by group or others, and distributions ship them 0440 owned by root. A wrong "
        "mode means the hook's sudo call fails at run time.\n\n"
        'Fix: `mode = "0440"` on the [[file]] item (and `config = "noreplace"`).',
        _K,
    ),
    Rule(
        "vdsm-hook-package-name",
        Severity.WARNING,
        "vdsm",
        "A vdsm-hook package is not named vdsm-hook-<name>.",
        "oVirt's hook packages are all named `vdsm-hook-<name>` (vdsm-hook-vmfex, "
        "vdsm-hook-nestedvt), which is how administrators and ovirt-host-deploy find them.\n\n"
        "Fix: rename the package, for example `acme` to `vdsm-hook-acme`.",
        _K,
    ),
)


def _split(ctx: LintContext, e: Entry) -> tuple[str, ...]:
    """Path components below the hooks directory, or () outside it."""
    return parts_below(e.path, ctx.hooks_dir())


# A hook's name: NN_ or NN- first (vdsm's own hooks say 50_name).
_LOOKS_LIKE_HOOK = re.compile(r"^[0-9]{2}[_-]")


def _referenced(ctx: LintContext, e: Entry) -> bool:
    """Another file of the package names ``e``'s deployed path (a unit's ExecStart=, a script)."""
    return any(f is not e and e.path in ctx.text(f) for f in ctx.files if f.kind is EntryKind.FILE)


def _is_hook_file(ctx: LintContext, e: Entry) -> bool:
    parts = _split(ctx, e)
    return e.kind is EntryKind.FILE and len(parts) == 2 and parts[0] in HOOK_POINTS


@check("vdsm-hook-point")
def hook_point(ctx: LintContext) -> Iterator[Finding]:
    reported: set[str] = set()
    for e in ctx.entries:
        parts = _split(ctx, e)
        if not parts or e.implicit:
            continue
        if len(parts) == 1 and e.kind is not EntryKind.DIR:
            # VDSM runs hook-point directories only: a file beside them is never run by VDSM, and
            # may be meant so (checkips ships its daemon there, started by a unit). Only a file
            # named like a hook, and run by nothing in the package, is a hook in the wrong place.
            if not _LOOKS_LIKE_HOOK.match(parts[0]) or _referenced(ctx, e):
                continue
            yield Finding(
                "vdsm-hook-point",
                f"{e.path} is directly in {ctx.hooks_dir()}, not in a hook-point directory",
                entry=e,
                key="dst",
                hint="deploy it into hooks/<hook-point>/, such as hooks/before_vm_start/",
            )
        elif parts[0] not in HOOK_POINTS and parts[0] not in reported:
            reported.add(parts[0])
            guess = nearest(parts[0], HOOK_POINTS)
            yield Finding(
                "vdsm-hook-point",
                f"{parts[0]!r} is not a VDSM hook point, so VDSM never runs {e.path}",
                entry=e,
                key="dst",
                hint=f"did you mean {guess}?"
                if guess
                else "use one of the 58 hook points, such as before_vm_start or after_vm_destroy",
            )


@check("vdsm-hook-not-executable", "vdsm-helper-executable", "vdsm-hook-name", "vdsm-hook-dotfile")
def hooks(ctx: LintContext) -> Iterator[Finding]:
    for e in ctx.files:
        if not _is_hook_file(ctx, e):
            continue
        name = e.path.rsplit("/", 1)[1]
        if name.startswith("."):
            yield Finding(
                "vdsm-hook-dotfile",
                f"{e.path} is a dot file in a hook-point directory; VDSM skips it",
                entry=e,
                key="dst",
                hint='rename it, or exclude it from the tree (exclude = [".*"])',
            )
            continue
        executable = bool(e.mode & 0o111)
        if executable and not ctx.runnable(e):
            yield Finding(
                "vdsm-helper-executable",
                f"{e.path} is executable but has no '#!' line and is not a binary: VDSM would run it",
                entry=e,
                key="mode",
                hint="move helpers and data out of the hook-point directory, or drop the x bit",
            )
            continue
        if not executable and (ctx.has_shebang(e) or HOOK_NAME.match(name)):
            yield Finding(
                "vdsm-hook-not-executable",
                f"hook {e.path} has mode {e.mode:04o}: VDSM skips files without the execute bit",
                entry=e,
                key="mode",
                hint='give it mode = "0755"',
            )
        if executable and not HOOK_NAME.match(name):
            yield Finding(
                "vdsm-hook-name",
                f"hook name {name!r} does not match NN_name (^[0-9]{{2}}_[a-z0-9_]+$)",
                entry=e,
                key="dst",
                hint="VDSM runs hooks in string order; a two-digit prefix makes the order explicit",
            )


@check("vdsm-sudoers-mode")
def sudoers_mode(ctx: LintContext) -> Iterator[Finding]:
    sudoers = ctx.expand(SUDOERS_DIR)
    for e in ctx.files:
        if e.path.startswith(sudoers + "/") and e.mode & 0o7777 != 0o440:
            yield Finding(
                "vdsm-sudoers-mode",
                f"sudoers drop-in {e.path} has mode {e.mode:04o}, not 0440",
                entry=e,
                key="mode",
                hint='set mode = "0440"',
            )


@check("vdsm-hook-package-name")
def package_name(ctx: LintContext) -> Iterator[Finding]:
    name = ctx.resolved.package.name
    if not name.startswith(VDSM_HOOK.name_prefix):
        yield Finding(
            "vdsm-hook-package-name",
            f"package {name!r} is not named vdsm-hook-<name>",
            location=ctx.map_location("package.name"),
            hint=f"rename it to {VDSM_HOOK.name_prefix}{name}",
        )


POLICY = KindPolicy(
    exec_judged=lambda ctx, e: _is_hook_file(ctx, e),
)

CHECKS = (hook_point, hooks, sudoers_mode, package_name)
