"""Core rules about permission bits and how a script starts: world-writable, setuid/setgid, scripts without
the x bit, #!/usr/bin/env."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..diagnostics import Severity
from ..formats.rpm.shebangs import mangled
from ..model import EntryKind
from .context import LintContext
from .rule import Finding, Rule, check

RULES: tuple[Rule, ...] = (
    Rule(
        "world-writable",
        Severity.ERROR,
        "modes",
        "A file, or a directory without the sticky bit, is writable by every user.",
        "The resolved mode of the entry has the 'others may write' bit (0o002). Any local user can "
        "then replace the file's content or, for a directory, delete and replace the files of others "
        "in it. That turns a package into a privilege escalation as soon as root runs or reads one of "
        "those files.\n\n"
        'Fix: drop the bit (`mode = "0644"`, `"0755"`). A directory that must be shared by all '
        'users, like /tmp, gets the sticky bit as well (`mode = "1777"`), so that each user can only '
        "remove their own files; a file is never made world-writable. If you really mean it, waive "
        'the finding on that entry with `allow = ["world-writable"]`.',
    ),
    Rule(
        "setuid-unacknowledged",
        Severity.ERROR,
        "modes",
        "A file is setuid or setgid without an explicit acknowledgement in the map.",
        "The resolved mode of a file has the setuid (0o4000) or setgid (0o2000) bit, so it runs with "
        "the privileges of its owner or group whoever starts it. Such a file is a security boundary: "
        "distributions review every one, and packagers lose them by accident as often as they add "
        "them by accident (a stray `4755` in an [[attr]] glob).\n\n"
        "Fix: if the bit is not meant, remove it from the mode. If it is, say so where the mode is "
        'set: add `allow = ["setuid-unacknowledged"]` to the [[file]], [[tree]] or [[attr]] item (or, '
        "less narrowly, to `[lint] allow`). The setgid bit on a directory (group inheritance) is not "
        "reported.",
    ),
    Rule(
        "shebang-not-executable",
        Severity.ERROR,
        "modes",
        "A deployed file starts with '#!' but has no execute bit.",
        "The file's content begins with a shebang line, so it is a script meant to be run, yet its "
        "resolved mode has no execute bit: running it fails with 'Permission denied', and tools that "
        "look for executables (VDSM, libvirt, run-parts) silently skip it. rpmlint reports the same "
        "file in the built package as non-executable-script.\n\n"
        'Fix: give it an executable mode (`mode = "0755"`, or an [[attr]] for the path), or, if the '
        "file is a library that is only imported or sourced, remove the shebang line. Files that a "
        "plugin kind sources (DevStack's plugin.sh, settings, lib/*) are not reported.",
    ),
    Rule(
        "env-shebang",
        Severity.WARNING,
        "modes",
        "An executable script finds its interpreter through /usr/bin/env.",
        "`#!/usr/bin/env python3` runs whichever python3 comes first on the caller's PATH: a "
        "virtualenv, a pyenv shim, /usr/local/bin. A packaged script must run with the distro's "
        "interpreter, the one its Requires/Depends name. rpmbuild's dependency generator reads it as "
        "a requirement on /usr/bin/env only, Fedora's brp-mangle-shebangs rejects or rewrites it, and "
        "Debian policy (10.4) asks for the absolute path. On a profile with `mangle_shebangs` (fedora, "
        "el9) the rpm gets the absolute path anyway (docs/rpm.md) and only what it cannot rewrite, such "
        "as `env -S`, is reported.\n\n"
        "Fix: write the interpreter's absolute path, `#!/usr/bin/python3` (or `#!/bin/bash`). If the "
        'script really must follow PATH, waive the finding on its item with `allow = ["env-shebang"]`.',
    ),
)


@check("world-writable")
def world_writable(ctx: LintContext) -> Iterator[Finding]:
    for e in ctx.resolved.owned:
        if e.kind is EntryKind.SYMLINK or not e.mode & 0o002:
            continue
        if e.kind is EntryKind.DIR and e.mode & 0o1000:
            continue  # sticky: each user may only remove their own files
        what = "directory" if e.kind is EntryKind.DIR else "file"
        yield Finding(
            "world-writable",
            f"{what} {e.path} is writable by every user (mode {e.mode:04o})",
            entry=e,
            key="mode",
            hint="drop the o+w bit; a shared directory needs the sticky bit too (1777)",
        )


@check("setuid-unacknowledged")
def setuid(ctx: LintContext) -> Iterator[Finding]:
    for e in ctx.files:
        bits = e.mode & 0o6000
        if not bits:
            continue
        which = {0o4000: "setuid", 0o2000: "setgid", 0o6000: "setuid and setgid"}[bits]
        yield Finding(
            "setuid-unacknowledged",
            f"{e.path} is {which} (mode {e.mode:04o}) without an acknowledgement",
            entry=e,
            key="mode",
            hint='if intended, add allow = ["setuid-unacknowledged"] to the item that sets the mode',
        )


@check("shebang-not-executable")
def shebang_not_executable(ctx: LintContext) -> Iterator[Finding]:
    for e, head in ctx.heads(f for f in ctx.files if not f.mode & 0o111):
        if not head.startswith(b"#!"):  # ctx.has_shebang, over every file of the package in one loop
            continue
        if ctx.policy.sourced(ctx, e) or ctx.policy.exec_judged(ctx, e):
            continue
        yield Finding(
            "shebang-not-executable",
            f"{e.path} starts with '#!' but its mode {e.mode:04o} has no execute bit",
            entry=e,
            key="mode",
            hint='give it mode "0755", or remove the shebang line if it is only imported or sourced',
        )


@check("env-shebang")
def env_shebang(ctx: LintContext) -> Iterator[Finding]:
    # A profile whose distro rewrites the line (Fedora's brp-mangle-shebangs) ships the absolute path.
    rewrites = bool(ctx.profile.extra.get("mangle_shebangs"))
    for e, head in ctx.heads(f for f in ctx.files if f.mode & 0o111):
        m = _ENV_SHEBANG.match(head)
        if m is None or (rewrites and mangled(head.split(b"\n", 1)[0] + b"\n") is not None):
            continue
        name = m.group(1).decode("utf-8", "replace")
        yield Finding(
            "env-shebang",
            f"{e.path} starts with #!/usr/bin/env {name}: the interpreter is whatever PATH finds",
            entry=e,
            key="src",
            hint=f"write the absolute path of the distro's interpreter, e.g. #!/usr/bin/{name}",
        )


_ENV_SHEBANG = re.compile(rb"#![ \t]*(?:/usr)?/bin/env[ \t]+(?:-S[ \t]+)?([A-Za-z0-9_.+-]+)")

CHECKS = (world_writable, setuid, shebang_not_executable, env_shebang)
