"""Core rules about the package's metadata."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..diagnostics import Severity
from ..model import Family
from .context import LintContext
from .rule import Finding, Rule, check

RULES: tuple[Rule, ...] = (
    Rule(
        "summary-style",
        Severity.WARNING,
        "metadata",
        "The summary ends with a period, starts lowercase, or repeats the package name.",
        "The summary is shown after the package name in every listing (`dnf search`, `apt "
        "search`), so both distributions' policies want a short capitalised phrase without a "
        "final period that does not repeat the name (rpmlint: summary-ended-with-dot, "
        "summary-not-capitalized, name-repeated-in-summary).\n\n"
        "A summary may start with a name that its project spells in lowercase when that name is "
        "part of the package name or one of its relations (`libvirt QEMU hook ...` in "
        "libvirt-hook-acme), or with a word that has capitals inside (`iSCSI`).\n\n"
        'Fix: write `summary = "Graphical management of Xen virtual machines"`, not '
        '`"convirt - graphical management of xen virtual machines."`.',
    ),
    Rule(
        "override-replaces",
        Severity.WARNING,
        "metadata",
        "A schema 1 [distro.<id>] array replaces the whole top-level array.",
        "Under `schema = 1` an override such as `[[distro.debian.file]]` replaces every top-level "
        "`[[file]]` for that distro: a Debian-only config file silently drops the binary, the unit "
        "and the docs. Schema 2 merges overrides by identity (same `dst` or `path` replaces, new "
        "items are added, `remove = true` removes).\n\n"
        "Fix: write `schema = 2` and keep in the override only what differs (docs/layout-map.md, "
        "`[distro.<id>]`); if the replacement is meant, list `remove = true` items instead.",
    ),
    Rule(
        "placeholder-maintainer",
        Severity.ERROR,
        "metadata",
        "The maintainer is still the placeholder `pkgtool init` wrote.",
        '`pkgtool init` writes `maintainer = "Your Name <you@example.org>"` for the author to '
        "replace. Left as it is, it becomes the Maintainer field of the .deb and the author of every "
        "generated changelog entry, and reviewers cannot reach anyone.\n\n"
        'Fix: `maintainer = "Jane Doe <jane@example.net>"`: a real name and an address that answers.',
    ),
    Rule(
        "transaction-script-on-debian",
        Severity.WARNING,
        "metadata",
        "A pre-transaction or post-transaction script is given for a Debian profile, which has no such event.",
        "`[scripts] pre-transaction` and `post-transaction` become RPM's `%pretrans` and `%posttrans`, "
        "run once per rpm/dnf transaction that installs or upgrades the package. dpkg has no "
        "transaction-wide event, so a .deb carries neither script: the work they do is not done on "
        "Debian and Ubuntu.\n\n"
        "Fix: move the work into pre-install/pre-upgrade (preinst) or post-install/post-upgrade "
        "(postinst), which both formats have; or keep the script only for RPM distros with "
        "`[distro.debian.scripts] pre-transaction = false`.",
    ),
)

# What templates/init/common/header.toml.j2 writes.
_PLACEHOLDER_NAME = "your name"
_PLACEHOLDER_ADDRESS = "you@example.org"


def _lowercase_names(ctx: LintContext) -> set[str]:
    names = set(ctx.resolved.package.name.split("-"))
    names.add(ctx.resolved.package.name)
    for rels in ctx.layout.relations.values():
        names.update(r.name for r in rels)
    return names


@check("summary-style")
def summary_style(ctx: LintContext) -> Iterator[Finding]:
    summary = ctx.resolved.package.summary.strip()
    if not summary:
        return  # the loader reports a missing summary
    loc = ctx.map_location("package.summary")
    name = ctx.resolved.package.name
    if summary.endswith(".") and not summary.endswith("..."):
        yield Finding("summary-style", "the summary ends with a period", location=loc, hint="drop the final period")
    first = summary.split()[0]
    if first[0].islower() and first == first.lower() and first.rstrip(",:") not in _lowercase_names(ctx):
        yield Finding(
            "summary-style",
            f"the summary starts with a lowercase word ({first!r})",
            location=loc,
            hint="capitalise the first word",
        )
    if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", summary, re.IGNORECASE):
        yield Finding(
            "summary-style",
            f"the summary repeats the package name {name!r}",
            location=loc,
            hint="listings already show the name; say what the package does",
        )


@check("override-replaces")
def override_replaces(ctx: LintContext) -> Iterator[Finding]:
    for loc in ctx.layout.replaced:
        yield Finding(
            "override-replaces",
            f"{loc.key} replaces every top-level item for this distro (schema 1)",
            location=loc,
            hint="write schema = 2: overrides then add and replace by identity, and remove = true removes",
        )


@check("placeholder-maintainer")
def placeholder_maintainer(ctx: LintContext) -> Iterator[Finding]:
    maintainer = ctx.resolved.package.maintainer
    name, _, rest = maintainer.partition("<")
    if name.strip().lower() == _PLACEHOLDER_NAME or rest.rstrip(">").strip().lower() == _PLACEHOLDER_ADDRESS:
        yield Finding(
            "placeholder-maintainer",
            f"the maintainer is the placeholder {maintainer!r}",
            location=ctx.map_location("package.maintainer"),
            hint="put your name and e-mail address in [package] maintainer",
        )


@check("transaction-script-on-debian")
def transaction_script_on_debian(ctx: LintContext) -> Iterator[Finding]:
    if ctx.profile.family is not Family.DEB:
        return
    for event in ("pre-transaction", "post-transaction"):
        if event in ctx.layout.scripts:
            yield Finding(
                "transaction-script-on-debian",
                f"[scripts] {event} is RPM only: a .deb runs no such script",
                location=ctx.map_location(f"scripts.{event}"),
                hint="use pre-install/post-install (and -upgrade), which dpkg runs too",
            )


CHECKS = (summary_style, override_replaces, placeholder_maintainer, transaction_script_on_debian)
