"""Core rules about configuration files: where they live, what they are marked, their x bit."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Severity
from ..model import ConfigKind
from .context import LintContext, under
from .rule import Finding, Rule, check

RULES: tuple[Rule, ...] = (
    Rule(
        "executable-config",
        Severity.WARNING,
        "config",
        "A configuration file has an execute bit.",
        "The map marks the file `config`, so package upgrades keep the administrator's edits, yet "
        "its mode makes it executable. Configuration is data: an executable conffile is usually a "
        "script that was marked config by mistake (and then never gets upgraded once edited), or a "
        "data file with a wrong mode.\n\n"
        'Fix: drop the execute bit (`mode = "0644"`), or drop `config` if the file is a program. '
        "Kinds whose host software runs scripts from /etc are exempt where it does so: libvirt hooks "
        "under /etc/libvirt/hooks are meant to be executable conffiles.",
    ),
    Rule(
        "config-outside-etc",
        Severity.WARNING,
        "config",
        "A file marked config is deployed outside /etc.",
        '`config = true` or `"noreplace"` asks RPM and dpkg to keep local edits of the file across '
        "upgrades. Both the FHS and the distributions' policies put host-specific configuration "
        "under /etc; a conffile under /usr is read-only data that an administrator should never "
        "edit, and rpmlint reports it as non-etc-or-var-file-marked-as-conffile.\n\n"
        "Fix: deploy the file under `{sysconfdir}` (and read it from there), or remove `config` if "
        "it is not meant to be edited.",
    ),
    Rule(
        "etc-not-config",
        Severity.WARNING,
        "config",
        "A regular file under /etc is not marked config in the map.",
        "Files under /etc are what administrators edit. Without `config`, an RPM upgrade silently "
        "overwrites their edits, while Debian's debhelper marks every file under /etc a conffile "
        "anyway, so the two packages built from the same map behave differently.\n\n"
        'Fix: deploy it with a [[file]] item that says `config = "noreplace"` (keep edits, write the '
        "new file as .rpmnew) or `config = true` (replace, keep the old one as .rpmsave). A [[tree]] "
        "cannot mark config files: list configuration separately as [[file]] items.",
    ),
)


@check("executable-config")
def executable_config(ctx: LintContext) -> Iterator[Finding]:
    for e in ctx.files:
        if not e.mode & 0o111 or ctx.map_config(e) is ConfigKind.NONE:
            continue
        if ctx.policy.executable_config_ok(ctx, e):
            continue
        yield Finding(
            "executable-config",
            f"configuration file {e.path} is executable (mode {e.mode:04o})",
            entry=e,
            key="mode",
            hint='drop the execute bit (mode = "0644"), or drop config if it is a program',
        )


@check("config-outside-etc")
def config_outside_etc(ctx: LintContext) -> Iterator[Finding]:
    etc = ctx.sysconfdir()
    in_etc = under(etc)
    for e in ctx.files:
        if ctx.map_config(e) is ConfigKind.NONE or in_etc(e.path):
            continue
        yield Finding(
            "config-outside-etc",
            f"{e.path} is marked config but is not under {etc}",
            entry=e,
            key="config",
            hint="move it under {sysconfdir}, or remove config",
        )


@check("etc-not-config")
def etc_not_config(ctx: LintContext) -> Iterator[Finding]:
    etc = ctx.sysconfdir()
    in_etc = under(etc)
    for e in ctx.files:
        if not in_etc(e.path) or ctx.map_config(e) is not ConfigKind.NONE:
            continue
        yield Finding(
            "etc-not-config",
            f"{e.path} is under {etc} but not marked config (Debian makes it a conffile anyway, RPM does not)",
            entry=e,
            key="config",
            hint='deploy it with a [[file]] item with config = "noreplace"',
        )


CHECKS = (executable_config, config_outside_etc, etc_not_config)
