"""Rules of the otopi-plugin kind: createPlugins in each plugin's __init__.py, real stages, files it carries."""

from __future__ import annotations

import ast
import fnmatch
import posixpath
import re
from collections.abc import Iterator, Mapping

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
        "otopi-plugin-missing-file",
        Severity.ERROR,
        "otopi",
        "An otopi plugin's code opens a file beside itself that the plugin does not carry.",
        "A plugin that installs a driver opens the files that travel in its directory: "
        "`os.path.join(os.path.dirname(__file__), 'acme.conf')`, or a glob such as `'*.rpm'`. "
        "ovirt-host-deploy copies the plugin directory to the host as it is, so a name that is not "
        "in it fails there, halfway through the installation. pkgtool reads each module's code "
        "(it never runs it) and finds the names joined to the module's own directory and the "
        "package file names (`*.rpm`, `*.deb`) it mentions. Lint checks the names against the "
        "files the map puts in the plugin directory; package files, which are built from other "
        "maps, are checked by `pkgtool export host-deploy` against the files given with `--carry`.\n\n"
        "Fix: deploy the file into the plugin directory (or carry it with `--carry`), or correct "
        "the name in the code.",
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


# A package file named in the code: a plain file name (a glob allowed), no directory.
_PACKAGE_FILE = re.compile(r"^[A-Za-z0-9_.+~*?\[\]-]+\.(rpm|deb)$")


def _is_here(node: ast.AST, here: set[str]) -> bool:
    """``os.path.dirname(__file__)`` (any wrapper of __file__ inside), or a name bound to it."""
    if isinstance(node, ast.Name):
        return node.id in here
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "dirname":
        return any(isinstance(n, ast.Name) and n.id == "__file__" for a in node.args for n in ast.walk(a))
    return False


def referenced_files(text: str) -> tuple[set[str], set[str]]:
    """(names joined to the module's own directory, package file names) in a module's code.

    Read from the syntax tree, never run; code that does not parse yields nothing (the module
    fails on the host anyway, and other rules are not about syntax).
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set(), set()
    nodes = list(ast.walk(tree))
    here: set[str] = set()
    for node in nodes:  # HERE = os.path.dirname(__file__)
        if isinstance(node, ast.Assign) and _is_here(node.value, set()):
            here.update(t.id for t in node.targets if isinstance(t, ast.Name))
    beside: set[str] = set()
    packages: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join":
            args = node.args
            if len(args) >= 2 and _is_here(args[0], here):
                parts = [a.value for a in args[1:] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if len(parts) == len(args) - 1:
                    beside.add(posixpath.normpath("/".join(parts)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _PACKAGE_FILE.match(node.value):
            packages.add(node.value)
    return beside, packages


def missing_files(code: Mapping[str, str], carried: set[str], check_packages: bool = True) -> list[tuple[str, str]]:
    """``(module, name)`` for each name a plugin's modules refer to that ``carried`` lacks.

    ``code`` maps each module's path in the plugin directory to its text; ``carried`` holds the
    paths of every file in the directory. A glob (``*.rpm``) must match at least one of them.
    """
    out: list[tuple[str, str]] = []
    for module, text in sorted(code.items()):
        beside, packages = referenced_files(text)
        for name in sorted(beside):
            if not check_packages and _PACKAGE_FILE.match(posixpath.basename(name)):
                continue
            rel = posixpath.normpath(posixpath.join(posixpath.dirname(module), name))
            if not any(fnmatch.fnmatchcase(c, rel) for c in carried):
                out.append((module, name))
        for name in sorted(packages - beside) if check_packages else ():
            if not any(fnmatch.fnmatchcase(posixpath.basename(c), name) for c in carried):
                out.append((module, name))
    return out


@check("otopi-plugin-missing-file")
def missing_file(ctx: LintContext) -> Iterator[Finding]:
    for directory, modules in sorted(_plugin_dirs(ctx).items()):
        carried = {posixpath.relpath(e.path, directory) for e in ctx.entries if e.path.startswith(directory + "/")}
        code = {posixpath.relpath(e.path, directory): ctx.text(e) for e in modules}
        by_module = {posixpath.relpath(e.path, directory): e for e in modules}
        for module, name in missing_files(code, carried, check_packages=False):
            yield Finding(
                "otopi-plugin-missing-file",
                f"{directory}/{module} opens {name!r} beside itself, which the plugin does not carry",
                entry=by_module[module],
                key="src",
                hint=f"deploy {name} into {directory}/, or correct the name",
            )


POLICY = KindPolicy()

CHECKS = (create_plugins, unknown_stage, dir_name, missing_file)
