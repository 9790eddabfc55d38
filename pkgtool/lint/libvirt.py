"""Rules of the libvirt-hook kind: hook names, runnable hooks, no calls back into libvirt, reload."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..diagnostics import Severity
from ..kinds.libvirt_hook import DRIVERS
from ..kinds.libvirt_hook import KIND as LIBVIRT_HOOK
from ..model import Entry, EntryKind
from .context import KindPolicy, LintContext, is_under, parts_below
from .rule import Finding, Rule, check, not_executable

KIND = LIBVIRT_HOOK.name
_K = (KIND,)

# Calls back into libvirt from a hook: the shell client, the Python and Perl bindings.
_CALLS = re.compile(r"\bvirsh\b|^\s*import\s+libvirt\b|^\s*from\s+libvirt\b|\bSys::Virt\b", re.MULTILINE)
# The daemons that read hooks: monolithic libvirtd, or the modular ones (virtqemud, ...).
_DAEMON = re.compile(r"\b(libvirtd|virt(qemu|lxc|xen|network|bhyve|ch)d)\b")

RULES: tuple[Rule, ...] = (
    Rule(
        "libvirt-hook-name",
        Severity.ERROR,
        "libvirt",
        "A file under /etc/libvirt/hooks is not a hook libvirt runs.",
        "libvirt runs `/etc/libvirt/hooks/<driver>` and, since libvirt 6.5, every script in "
        "`/etc/libvirt/hooks/<driver>.d/`, for the drivers daemon, qemu, lxc, libxl, bhyve and "
        "network. Any other name (`kvm`, `qemu-hook`, `qemu.d.bak/`) is never run. A file there "
        "that libvirt could not run anyway (no execute bit, no `#!`, not a binary) is data, such as "
        "the `hooks.json` a dispatcher script reads, and is not reported.\n\n"
        "Fix: deploy the hook as `{sysconfdir}/libvirt/hooks/qemu.d/NN-name` (or the directory of "
        "the driver you mean).",
        _K,
    ),
    Rule(
        "libvirt-hook-not-executable",
        Severity.ERROR,
        "libvirt",
        "A libvirt hook has no execute bit, or is not a script with '#!' or a binary.",
        "libvirt skips hook files it cannot execute, silently, and a script without a shebang "
        "line fails to execute. Either way the hook never runs.\n\n"
        'Fix: start the script with a shebang line (`#!/bin/sh`) and give it `mode = "0755"`.',
        _K,
    ),
    Rule(
        "libvirt-hook-main-script",
        Severity.WARNING,
        "libvirt",
        "The package ships a driver's main hook script itself (/etc/libvirt/hooks/qemu).",
        "There is one main script per driver, and other packages (VDSM among them) ship it too: "
        "two packages owning `/etc/libvirt/hooks/qemu` conflict, and an administrator's own script "
        "there would be replaced; a `[[symlink]]` at that path takes it just the same. Since libvirt 6.5 each package can drop its own script into "
        "`<driver>.d/`, which libvirt runs in order after the main script.\n\n"
        "Fix: deploy the hook as `{sysconfdir}/libvirt/hooks/qemu.d/50-<name>` and require "
        '`libvirt = ">= 6.5"`.',
        _K,
    ),
    Rule(
        "libvirt-hook-calls-libvirt",
        Severity.WARNING,
        "libvirt",
        "A hook appears to call back into libvirt (virsh, the libvirt Python or Perl bindings).",
        "libvirt runs hooks synchronously while it holds locks on the daemon or the guest. A hook "
        "that calls virsh or the libvirt API waits for the daemon, which waits for the hook: a "
        "deadlock that hangs every guest operation. Comment lines are not looked at.\n\n"
        "Fix: read what the hook needs from its arguments and from the domain XML on stdin; do "
        "work that needs libvirt later and asynchronously (queue it for a service).",
        _K,
    ),
    Rule(
        "libvirt-hook-reload",
        Severity.INFO,
        "libvirt",
        "No post-install or post-upgrade script restarts or reloads the libvirt daemon.",
        "libvirt looks for hook scripts when the daemon starts, so a newly installed hook is not "
        "run until libvirtd (or virtqemud, with modular daemons) is restarted or reloaded.\n\n"
        "Fix: add a `post-install` and `post-upgrade` script under [scripts] that reloads the "
        "daemon when it runs, for example `systemctl try-reload-or-restart libvirtd`.",
        _K,
    ),
)


def _parts(ctx: LintContext, e: Entry) -> tuple[str, ...]:
    """Path components below the hooks directory, or () outside it."""
    return parts_below(e.path, ctx.hooks_dir())


def _is_hook(ctx: LintContext, e: Entry) -> bool:
    """A file libvirt runs: hooks/<driver> or hooks/<driver>.d/<anything>."""
    parts = _parts(ctx, e)
    if e.kind is not EntryKind.FILE:
        return False
    if len(parts) == 1:
        return parts[0] in DRIVERS
    return len(parts) == 2 and parts[0].endswith(".d") and parts[0][:-2] in DRIVERS


def _is_data(ctx: LintContext, e: Entry) -> bool:
    """A regular file libvirt could not run anyway: no execute bit, no '#!', not a binary."""
    return e.kind is EntryKind.FILE and not e.mode & 0o111 and not ctx.runnable(e)


@check("libvirt-hook-name")
def hook_name(ctx: LintContext) -> Iterator[Finding]:
    reported: set[str] = set()
    for e in ctx.entries:
        parts = _parts(ctx, e)
        if not parts or e.implicit:
            continue
        top = parts[0]
        if len(parts) == 1 and e.kind is not EntryKind.DIR:
            # A data file beside a dispatcher (a qemu script reading hooks.json) is not a hook.
            bad = top not in DRIVERS and not _is_data(ctx, e)
        else:
            bad = not (top.endswith(".d") and top[:-2] in DRIVERS)
        if bad and top not in reported:
            reported.add(top)
            yield Finding(
                "libvirt-hook-name",
                f"{top!r} in {ctx.hooks_dir()} is not a hook libvirt runs, so {e.path} never runs",
                entry=e,
                key="dst",
                hint="use <driver> or <driver>.d/ with a driver among " + ", ".join(sorted(DRIVERS)),
            )


@check("libvirt-hook-not-executable")
def hook_not_executable(ctx: LintContext) -> Iterator[Finding]:
    for e in ctx.files:
        if _is_hook(ctx, e) and (found := not_executable(ctx, e, "libvirt-hook-not-executable", "libvirt")):
            yield found


@check("libvirt-hook-main-script")
def main_script(ctx: LintContext) -> Iterator[Finding]:
    for e in ctx.entries:  # a symlink there (to a script elsewhere) takes the same place
        parts = _parts(ctx, e)
        if len(parts) == 1 and parts[0] in DRIVERS and e.kind is not EntryKind.DIR:
            yield Finding(
                "libvirt-hook-main-script",
                f"{e.path} is the {parts[0]} driver's main hook script, which other packages ship too",
                entry=e,
                key="path" if e.kind is EntryKind.SYMLINK else "dst",
                hint=f"deploy it as {ctx.hooks_dir()}/{parts[0]}.d/50-{ctx.resolved.package.name}",
            )


def _code(text: str) -> str:
    """The text without comment lines (a hook may well say it must not call virsh)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


@check("libvirt-hook-calls-libvirt")
def calls_libvirt(ctx: LintContext) -> Iterator[Finding]:
    for e in ctx.files:
        if not _is_hook(ctx, e):
            continue
        m = _CALLS.search(_code(ctx.text(e)))
        if m:
            yield Finding(
                "libvirt-hook-calls-libvirt",
                f"hook {e.path} calls back into libvirt ({m.group(0).strip()!r}): that deadlocks the daemon",
                entry=e,
                key="src",
                hint="use the hook's arguments and the domain XML on stdin instead",
            )


@check("libvirt-hook-reload")
def reload(ctx: LintContext) -> Iterator[Finding]:
    if not any(_is_hook(ctx, e) for e in ctx.files):
        return
    scripts = ctx.resolved.scripts
    if any(_DAEMON.search(_code(scripts.get(ev, ""))) for ev in ("post-install", "post-upgrade")):
        return
    yield Finding(
        "libvirt-hook-reload",
        "no post-install or post-upgrade script reloads libvirtd, which reads hooks only at start",
        location=ctx.map_location("scripts"),
        hint="add [scripts] post-install and post-upgrade running: systemctl try-reload-or-restart libvirtd",
    )


POLICY = KindPolicy(
    exec_judged=_is_hook,
    executable_config_ok=lambda ctx, e: is_under(e.path, ctx.hooks_dir()),
)

CHECKS = (hook_name, hook_not_executable, main_script, calls_libvirt, reload)
