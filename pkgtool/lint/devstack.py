"""Rules of the devstack-plugin kind: sourced files, extras.d names, hypervisor plugins, phases."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from ..diagnostics import Severity
from ..kinds.devstack_plugin import EXTRAS_NAME, HYPERVISOR_FUNCTIONS, MODES, PHASES
from ..kinds.devstack_plugin import KIND as DEVSTACK_PLUGIN
from ..model import Entry
from .context import KindPolicy, LintContext
from .rule import Finding, Rule, check

KIND = DEVSTACK_PLUGIN.name
_K = (KIND,)

# "$1" == "stack", [[ $2 = 'post-config' ]], "${2}" == post-extra
_COMPARE = re.compile(r"""["']?\$\{?([12])\}?["']?\s*==?\s*["']?([A-Za-z0-9_.-]+)["']?""")
_EXIT = re.compile(r"^\s*exit\b", re.MULTILINE)
_DEFINE = re.compile(r"^\s*define_plugin\s+\S+", re.MULTILINE)

RULES: tuple[Rule, ...] = (
    Rule(
        "devstack-extras-name",
        Severity.ERROR,
        "devstack",
        "An extras.d script is not named NN-name.sh, or uses a number reserved for DevStack.",
        "DevStack sources `extras.d/*.sh` in name order and reserves the prefixes 00-09 and 90-99 "
        "for its own scripts. A name without the two-digit prefix and `.sh` suffix "
        "(`^[0-9]{2}-[a-z0-9_-]+\\.sh$`) is not picked up, and a reserved number may collide with "
        "DevStack's own.\n\n"
        "Fix: rename it, for example `70-myplugin.sh` (10-89).",
        _K,
    ),
    Rule(
        "devstack-extras-deprecated",
        Severity.WARNING,
        "devstack",
        "The package ships a legacy extras.d script.",
        "DevStack replaced extras.d with plugins (`devstack/plugin.sh` enabled by `enable_plugin`), "
        "and current DevStack ignores every extras.d script except its own 80-tempest.sh.\n\n"
        "Fix: move the script's work into `devstack/plugin.sh`, dispatched on `$1` (stack, "
        "unstack, clean) and `$2` (pre-install, install, post-config, extra, test-config).",
        _K,
    ),
    Rule(
        "devstack-hypervisor-functions",
        Severity.ERROR,
        "devstack",
        "A nova hypervisor plugin does not define all five functions DevStack calls.",
        "DevStack sources `lib/nova_plugins/hypervisor-<name>` for `VIRT_DRIVER=<name>` and then "
        "calls install_nova_hypervisor, configure_nova_hypervisor, start_nova_hypervisor, "
        "stop_nova_hypervisor and cleanup_nova_hypervisor. A missing one fails the stack run with "
        "'command not found' at that step.\n\n"
        "Fix: define every one of the five, empty (`function stop_nova_hypervisor { :; }`) where "
        "there is nothing to do.",
        _K,
    ),
    Rule(
        "devstack-sourced-exit",
        Severity.ERROR,
        "devstack",
        "A file DevStack sources calls exit.",
        "plugin.sh, settings, override-defaults, extras.d scripts and hypervisor plugins are "
        "sourced into stack.sh's own shell, so `exit` there ends the whole DevStack run, skipping "
        "its error handling and cleanup.\n\n"
        'Fix: use `return` in functions, or `die $LINENO "message"` to fail the run properly.',
        _K,
    ),
    Rule(
        "devstack-unknown-phase",
        Severity.WARNING,
        "devstack",
        "plugin.sh compares $1 or $2 with a mode or phase DevStack never passes.",
        "DevStack sources plugin.sh with `$1` one of stack, unstack or clean, and for stack `$2` "
        "one of pre-install, install, post-config, extra or test-config. A branch on another word "
        "(`post-extra`, `configure`) never runs.\n\n"
        "Fix: use one of the phases above (`extra` is the phase after the services start).",
        _K,
    ),
    Rule(
        "devstack-settings-define",
        Severity.WARNING,
        "devstack",
        "devstack/settings does not call define_plugin.",
        "`define_plugin <name>` in devstack/settings declares the plugin's name, which DevStack "
        "uses for `plugin_requires` and to report plugins; without it, other plugins cannot depend "
        "on this one.\n\n"
        "Fix: add `define_plugin <name>` near the top of devstack/settings.",
        _K,
    ),
)


def _dir_and_name(e: Entry) -> tuple[str, str]:
    parent, name = posixpath.split(e.path)
    return posixpath.basename(parent), name


def _is_extras(e: Entry) -> bool:
    return _dir_and_name(e)[0] == "extras.d"


def _is_hypervisor(e: Entry) -> bool:
    return e.path.rsplit("/", 3)[-3:-1] == ["lib", "nova_plugins"] and _dir_and_name(e)[1].startswith("hypervisor-")


def _is_plugin_file(e: Entry, name: str) -> bool:
    return _dir_and_name(e) == ("devstack", name)


def sourced(ctx: LintContext, e: Entry) -> bool:
    """Files DevStack sources into its shell (no execute bit needed, no exit allowed)."""
    if _is_extras(e) or _is_hypervisor(e):
        return True
    if any(_is_plugin_file(e, n) for n in ("plugin.sh", "settings", "override-defaults")):
        return True
    return "/devstack/lib/" in e.path


def _code(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


@check("devstack-extras-name", "devstack-extras-deprecated")
def extras(ctx: LintContext) -> Iterator[Finding]:
    for e in ctx.files:
        if not _is_extras(e):
            continue
        name = _dir_and_name(e)[1]
        m = EXTRAS_NAME.match(name)
        if m is None or int(m.group(1)) < 10 or int(m.group(1)) >= 90:
            yield Finding(
                "devstack-extras-name",
                f"extras.d script {name!r} is not NN-name.sh with NN from 10 to 89",
                entry=e,
                key="dst",
                hint="rename it, for example 70-myplugin.sh",
            )
        yield Finding(
            "devstack-extras-deprecated",
            f"{e.path} is a legacy extras.d script, which current DevStack ignores",
            entry=e,
            key="dst",
            hint="move its work into devstack/plugin.sh",
        )


@check("devstack-hypervisor-functions")
def hypervisor(ctx: LintContext) -> Iterator[Finding]:
    for e in ctx.files:
        if not _is_hypervisor(e):
            continue
        code = _code(ctx.text(e))
        missing = [
            f for f in HYPERVISOR_FUNCTIONS if not re.search(rf"^\s*(function\s+)?{f}\b\s*(\(\s*\))?", code, re.M)
        ]
        if missing:
            yield Finding(
                "devstack-hypervisor-functions",
                f"hypervisor plugin {e.path} does not define {', '.join(missing)}",
                entry=e,
                key="src",
                hint="define all five functions, empty where there is nothing to do",
            )


@check("devstack-sourced-exit")
def sourced_exit(ctx: LintContext) -> Iterator[Finding]:
    for e in ctx.files:
        if sourced(ctx, e) and _EXIT.search(_code(ctx.text(e))):
            yield Finding(
                "devstack-sourced-exit",
                f"{e.path} is sourced by DevStack but calls exit, which ends the whole stack.sh run",
                entry=e,
                key="src",
                hint='use return, or die $LINENO "message"',
            )


@check("devstack-unknown-phase")
def unknown_phase(ctx: LintContext) -> Iterator[Finding]:
    for e in ctx.files:
        if not _is_plugin_file(e, "plugin.sh"):
            continue
        bad = sorted(
            {
                word
                for arg, word in _COMPARE.findall(_code(ctx.text(e)))
                if word not in (MODES if arg == "1" else PHASES)
            }
        )
        if bad:
            yield Finding(
                "devstack-unknown-phase",
                f"{e.path} branches on {', '.join(repr(b) for b in bad)}, which DevStack never passes",
                entry=e,
                key="src",
                hint="modes: stack, unstack, clean; stack phases: " + ", ".join(sorted(PHASES)),
            )


@check("devstack-settings-define")
def settings_define(ctx: LintContext) -> Iterator[Finding]:
    for e in ctx.files:
        if _is_plugin_file(e, "settings") and not _DEFINE.search(_code(ctx.text(e))):
            yield Finding(
                "devstack-settings-define",
                f"{e.path} does not call define_plugin",
                entry=e,
                key="src",
                hint="add: define_plugin <name>",
            )


POLICY = KindPolicy(sourced=sourced)

CHECKS = (extras, hypervisor, sourced_exit, unknown_phase, settings_define)
