"""Rules of the node-plugin kind: hook events, runnable hooks, the plugin file, firewall files."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from ..diagnostics import Severity
from ..kinds.node_plugin import FIREWALL_COMMENT, FIREWALL_LINE, HOOK_NAME, HOOK_POINTS, PLUGINS_DIR
from ..kinds.node_plugin import KIND as NODE_PLUGIN
from ..model import Entry, EntryKind
from .context import KindPolicy, LintContext, parts_below
from .rule import Finding, Rule, check, not_executable

KIND = NODE_PLUGIN.name
_K = (KIND,)

# Node's own files in ovirt-plugins.d next to the plugin file; they are judged by other rules.
_SIDE_FILES = (".firewall", ".minimize")

RULES: tuple[Rule, ...] = (
    Rule(
        "node-hook-point",
        Severity.ERROR,
        "node",
        "A file under the oVirt Node hooks directory is not directly in one of its five event directories.",
        "oVirt Node runs the hooks of `{libexecdir}/ovirt-node/hooks/<event>/` for five events: "
        + ", ".join(HOOK_POINTS)
        + ". A directory with any other name (`on_boot`, `post-install`), a file directly in "
        "hooks/, or a file in a subdirectory of an event directory is never run.\n\n"
        "Fix: deploy the hook as `{libexecdir}/ovirt-node/hooks/<event>/NN-name`, with the event "
        "spelt exactly.",
        _K,
    ),
    Rule(
        "node-hook-not-executable",
        Severity.ERROR,
        "node",
        "An oVirt Node hook has no execute bit, or is not a script with '#!' or a binary.",
        "Node executes every file of an event directory. A file without the execute bit, or a "
        "script without a shebang line, cannot be executed: the hook never does its work, and "
        "a failing hook during an upgrade or rollback can stop it half-way.\n\n"
        'Fix: start the script with a shebang line (`#!/bin/sh`) and give it `mode = "0755"`. '
        "Helpers and data belong elsewhere, such as `{datadir}/<package>/`.",
        _K,
    ),
    Rule(
        "node-hook-name",
        Severity.WARNING,
        "node",
        "An oVirt Node hook's name does not follow the NN-name convention.",
        "Node runs the hooks of an event in name order. The convention `NN-name` "
        "(`^[0-9]{2}-[A-Za-z0-9][A-Za-z0-9_.-]*$`, such as `90-start-vdsm`) makes that order "
        "explicit and lets other plugins place their hooks before or after yours.\n\n"
        "Fix: rename the deployed hook, for instance `start.sh` to `90-start`.",
        _K,
    ),
    Rule(
        "node-plugin-file",
        Severity.WARNING,
        "node",
        "The package's plugin file in /etc/ovirt-plugins.d is missing, or its Name or Version is wrong.",
        "oVirt Node lists the installed plugins from `/etc/ovirt-plugins.d/<rpm name>`, a file of "
        "`Name:`, `Version:` and `Install Date:` lines. Without it the plugin does not show as "
        "installed; with a Name other than the package's, or a Version other than the package's "
        "(`version`, or `version-release`), Node reports something that is not installed, which "
        "is what happens when the map's version is bumped and the file is forgotten. A file in "
        "that directory named for another package (other than `*.firewall` and `*.minimize`) "
        "makes Node list a plugin that does not exist. `Install Date:` is not required: it is "
        "only known at install time, and a build-time date would break reproducible builds. "
        "This is a warning because the plugin itself still works.\n\n"
        "Fix: ship `{sysconfdir}/ovirt-plugins.d/<package name>` as a [[file]] item with "
        "`config = true` (so upgrades replace it), holding `Name: <package name>` and "
        "`Version: <package version>`, and keep its Version in step with `package.version`.",
        _K,
    ),
    Rule(
        "node-firewall-format",
        Severity.ERROR,
        "node",
        "A line of a `*.firewall` file under /etc/ovirt-plugins.d is not `port,proto`.",
        "Node opens the ports a plugin lists in `/etc/ovirt-plugins.d/*.firewall`, one `port,proto` "
        "line each, such as `5900,tcp`: the port a number from 1 to 65535, the protocol `tcp` or "
        "`udp`, no spaces. The documented format has no port ranges (`5900:5910`) and no "
        "services. Node's reader skips a line that starts with `#`, and splits every other line "
        "at the comma into exactly two parts: an empty line (a blank line at the end of the file "
        "too) or one with a second comma stops it with an error, and no plugin's ports are "
        "opened; a line it reads but cannot use leaves that port closed.\n\n"
        "Fix: write one `port,proto` line for each port, for example `16514,tcp`; start comments "
        "with `#` in the first column; remove empty lines.",
        _K,
    ),
)


def _split(ctx: LintContext, e: Entry) -> tuple[str, ...]:
    """Path components below the hooks directory, or () outside it."""
    return parts_below(e.path, ctx.hooks_dir())


def _in_point(ctx: LintContext, e: Entry) -> bool:
    """Directly in an event directory: where Node looks for hooks."""
    parts = _split(ctx, e)
    return len(parts) == 2 and parts[0] in HOOK_POINTS


def _is_hook(ctx: LintContext, e: Entry) -> bool:
    return e.kind is EntryKind.FILE and _in_point(ctx, e)


@check("node-hook-point")
def hook_point(ctx: LintContext) -> Iterator[Finding]:
    reported: set[str] = set()
    for e in ctx.entries:
        parts = _split(ctx, e)
        if not parts or e.implicit:
            continue
        if len(parts) == 1 and e.kind is not EntryKind.DIR:
            message = f"{e.path} is directly in {ctx.hooks_dir()}, not in an event directory"
            bad = e.path
        elif parts[0] not in HOOK_POINTS:
            message = f"{parts[0]!r} is not an oVirt Node hook event, so Node never runs {e.path}"
            bad = parts[0]
        elif len(parts) > 2:
            message = f"{e.path} is in a subdirectory of {parts[0]}/; Node runs only the files directly in it"
            bad = "/".join(parts[:2])
        else:
            continue
        if bad not in reported:  # one finding for a whole misnamed directory
            reported.add(bad)
            yield Finding(
                "node-hook-point",
                message,
                entry=e,
                key="dst",
                hint="deploy hooks as hooks/<event>/NN-name with an event among " + ", ".join(HOOK_POINTS),
            )


@check("node-hook-not-executable", "node-hook-name")
def hooks(ctx: LintContext) -> Iterator[Finding]:
    for e in ctx.entries:
        if e.kind not in (EntryKind.FILE, EntryKind.SYMLINK) or not _in_point(ctx, e):
            continue
        name = e.path.rsplit("/", 1)[1]
        if e.kind is EntryKind.FILE and (found := not_executable(ctx, e, "node-hook-not-executable", "Node", "src")):
            yield found
        if not HOOK_NAME.match(name):
            yield Finding(
                "node-hook-name",
                f"hook name {name!r} does not match NN-name (^[0-9]{{2}}-[A-Za-z0-9][A-Za-z0-9_.-]*$)",
                entry=e,
                key="dst",
                hint="Node runs hooks in name order; a two-digit prefix makes the order explicit",
            )


def _fields(text: str) -> dict[str, str]:
    """'Key: value' lines -> {key: value}; the first of a repeated key wins."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and key.strip() not in out:
            out[key.strip()] = value.strip()
    return out


def _plugin_file_problems(ctx: LintContext, e: Entry) -> list[str]:
    package = ctx.resolved.package
    fields = _fields(ctx.text(e))
    versions = (package.version, f"{package.version}-{package.release}")
    problems = []
    name = fields.get("Name", "")
    if not name:
        problems.append("has no 'Name:' line")
    elif name != package.name:
        problems.append(f"says Name: {name}, but the package is {package.name}")
    version = fields.get("Version", "")
    if not version:
        problems.append("has no 'Version:' line")
    elif version not in versions:
        problems.append(f"says Version: {version}, but the package version is {package.version}")
    return problems


@check("node-plugin-file")
def plugin_file(ctx: LintContext) -> Iterator[Finding]:
    package = ctx.resolved.package
    root = ctx.expand(PLUGINS_DIR)
    expected = f"{root}/{package.name}"
    found = False
    for e in ctx.files:
        if posixpath.dirname(e.path) != root or e.path.endswith(_SIDE_FILES):
            continue
        if e.path != expected:
            yield Finding(
                "node-plugin-file",
                f"{e.path} makes Node list a plugin {posixpath.basename(e.path)!r}, not this package",
                entry=e,
                key="dst",
                hint=f"name the plugin file after the package: {expected}",
            )
            continue
        found = True
        problems = _plugin_file_problems(ctx, e)
        if problems:
            yield Finding(
                "node-plugin-file",
                f"plugin file {e.path} " + "; ".join(problems),
                entry=e,
                key="src",
                hint=f"write the lines 'Name: {package.name}' and 'Version: {package.version}'",
            )
    if not found:
        yield Finding(
            "node-plugin-file",
            f"the package ships no {expected}, so oVirt Node does not list the plugin as installed",
            path=expected,
            location=ctx.map_location("package.name"),
            hint=f'add a [[file]] with dst = "{{sysconfdir}}/ovirt-plugins.d/{package.name}" and config = true',
        )


@check("node-firewall-format")
def firewall_format(ctx: LintContext) -> Iterator[Finding]:
    root = ctx.expand(PLUGINS_DIR)
    for e in ctx.files:
        if posixpath.dirname(e.path) != root or not e.path.endswith(".firewall"):
            continue
        bad = []
        for number, line in enumerate(ctx.text(e).splitlines(), 1):
            if line.startswith(FIREWALL_COMMENT):
                continue
            m = FIREWALL_LINE.match(line)
            if m is None or not 1 <= int(m.group(1)) <= 65535:
                bad.append((number, line))
        if bad:
            number, line = bad[0]
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            yield Finding(
                "node-firewall-format",
                f"{e.path} line {number}: {line[:60]!r} is not 'port,proto'{more}",
                entry=e,
                key="src",
                hint="one port (1-65535) and tcp or udp a line, such as 5900,tcp; '#' comments; no empty lines",
            )


POLICY = KindPolicy(exec_judged=_is_hook)

CHECKS = (hook_point, hooks, plugin_file, firewall_format)
