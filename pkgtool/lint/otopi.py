"""Rules of the otopi-plugin kind: createPlugins in each plugin's __init__.py, real stages."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from ..diagnostics import Severity
from ..kinds.otopi_plugin import KIND as OTOPI_PLUGIN
from ..kinds.otopi_plugin import STAGES
from ..model import Entry
from .context import KindPolicy, LintContext
from .rule import Finding, Rule, check

KIND = OTOPI_PLUGIN.name
_K = (KIND,)

# What marks a module as part of an otopi plugin.
_PLUGIN_CODE = re.compile(r"@plugin\.event\s*\(|\bplugin\.PluginBase\b|\bfrom\s+otopi\s+import\b")
_CREATE = re.compile(r"^def\s+createPlugins\s*\(", re.MULTILINE)
_STAGE = re.compile(r"\bStages\.STAGE_([A-Za-z0-9_]+)")

RULES: tuple[Rule, ...] = (
    Rule(
        "otopi-create-plugins",
        Severity.ERROR,
        "otopi",
        "An otopi plugin directory has no __init__.py defining createPlugins(context).",
        "otopi loads a plugin by importing the package `<group>/<plugin>/` and calling its "
        "`createPlugins(context)`, which registers the plugin's classes. A directory of plugin "
        "modules without it is skipped without a word, so none of its events run.\n\n"
        "Fix: ship `__init__.py` in the plugin directory with\n"
        "`def createPlugins(context): mymodule.Plugin(context=context)` for each module.",
        _K,
    ),
    Rule(
        "otopi-unknown-stage",
        Severity.ERROR,
        "otopi",
        "An otopi event names a stage that otopi does not have.",
        "`@plugin.event(stage=plugin.Stages.STAGE_X)` must name one of otopi's stages: BOOT, INIT, "
        "SETUP, INTERNAL_PACKAGES, PROGRAMS, LATE_SETUP, CUSTOMIZATION, VALIDATION, "
        "TRANSACTION_BEGIN, EARLY_MISC, PACKAGES, MISC, TRANSACTION_END, CLOSEUP, CLEANUP, "
        "PRE_TERMINATE, TERMINATE, REBOOT. Another name fails with AttributeError when otopi "
        "imports the plugin, aborting the whole installation.\n\n"
        "Fix: use the stage you mean, spelt as above (`STAGE_CLOSEUP`, not `STAGE_CLOSE_UP`).",
        _K,
    ),
    Rule(
        "otopi-plugin-dir-name",
        Severity.ERROR,
        "otopi",
        "An otopi plugin or group directory starts with '_' or '.'.",
        "otopi skips directories whose names start with `_` or `.` when it looks for plugin groups "
        "and plugins, so nothing in them is ever loaded.\n\n"
        "Fix: rename the directory (`_helpers` to `helpers`).",
        _K,
    ),
)


def _plugin_dirs(ctx: LintContext) -> dict[str, list[Entry]]:
    """Directory -> its .py files, for every directory holding otopi plugin code."""
    by_dir: dict[str, list[Entry]] = {}
    for e in ctx.files:
        if e.path.endswith(".py"):
            by_dir.setdefault(posixpath.dirname(e.path), []).append(e)
    return {d: files for d, files in by_dir.items() if any(_PLUGIN_CODE.search(ctx.text(f)) for f in files)}


@check("otopi-create-plugins")
def create_plugins(ctx: LintContext) -> Iterator[Finding]:
    for directory, files in sorted(_plugin_dirs(ctx).items()):
        init = next((f for f in files if f.path.endswith("/__init__.py")), None)
        if init is None:
            yield Finding(
                "otopi-create-plugins",
                f"otopi plugin directory {directory} has no __init__.py",
                entry=files[0],
                key="dst",
                hint="ship __init__.py with def createPlugins(context)",
            )
        elif not _CREATE.search(ctx.text(init)):
            yield Finding(
                "otopi-create-plugins",
                f"{init.path} does not define createPlugins(context)",
                entry=init,
                key="src",
                hint="def createPlugins(context): module.Plugin(context=context)",
            )


@check("otopi-unknown-stage")
def unknown_stage(ctx: LintContext) -> Iterator[Finding]:
    for files in _plugin_dirs(ctx).values():
        for e in files:
            bad = sorted({s for s in _STAGE.findall(ctx.text(e)) if s not in STAGES})
            if bad:
                yield Finding(
                    "otopi-unknown-stage",
                    f"{e.path} uses unknown otopi stage(s) {', '.join('STAGE_' + b for b in bad)}",
                    entry=e,
                    key="src",
                    hint="stages: " + ", ".join(STAGES),
                )


@check("otopi-plugin-dir-name")
def dir_name(ctx: LintContext) -> Iterator[Finding]:
    for directory, files in sorted(_plugin_dirs(ctx).items()):
        plugin = posixpath.basename(directory)
        group = posixpath.basename(posixpath.dirname(directory))
        bad = [n for n in (group, plugin) if n.startswith(("_", "."))]
        if bad:
            yield Finding(
                "otopi-plugin-dir-name",
                f"otopi skips {directory}: {', '.join(repr(b) for b in bad)} starts with '_' or '.'",
                entry=files[0],
                key="dst",
                hint="rename the directory",
            )


POLICY = KindPolicy()

CHECKS = (create_plugins, unknown_stage, dir_name)
