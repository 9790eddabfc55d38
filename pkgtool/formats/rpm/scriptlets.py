"""The [scripts] contract as RPM scriptlets: one shell body per scriptlet, dispatched on $1.

RPM passes each scriptlet the number of instances of the package left after
the action: %pre/%post get 1 on install and 2 (or more) on upgrade,
%preun/%postun get 1 on upgrade and 0 on erase.  The map's events are
mapped onto that here, once, for both the spec writer and the native
builder, so the two cannot disagree:

    event         scriptlet  runs when
    pre-install   %pre       $1 -eq 1
    pre-upgrade   %pre       $1 -ge 2
    post-install  %post      $1 -eq 1
    post-upgrade  %post      $1 -ge 2
    pre-remove    %preun     $1 -eq 0
    post-remove   %postun    $1 -eq 0
    purge         %postun    $1 -eq 0, after post-remove (RPM has no purge:
                             erasing is the nearest event it has)
    pre-transaction  %pretrans   always (once per transaction that installs or
    post-transaction %posttrans  upgrades the package; Debian has no such event)

Each user script runs as pkgtool/formats/script_bodies.py says (the same
in both formats): verbatim in its own interpreter, no shell options of
ours, a failure passed on as the scriptlet's exit status.  RPM has no
abort events: a failed %pre stops the transaction before any file moves.
The bodies returned here are plain shell; the spec writer doubles `%`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ...model import Resolved
from ...templating import rpm_escape
from ..accounts import account_script
from ..script_bodies import heredoc_marker, interpreter, run_verbatim
from .units import MacroUse, tmpfiles_post, unit_scriptlets

__all__ = ["heredoc_marker", "interpreter", "rpm_scriptlets"]

# Scriptlet names in the order a spec lists them.
SCRIPTLETS: tuple[str, ...] = ("pretrans", "pre", "post", "preun", "postun", "posttrans")


@dataclass(frozen=True)
class Dispatch:
    event: str
    scriptlet: str
    test: str  # shell test on $1
    when: str  # words for the comment


RPM_DISPATCH: tuple[Dispatch, ...] = (
    Dispatch("pre-install", "pre", '[ "$1" -eq 1 ]', "first installation"),
    Dispatch("pre-upgrade", "pre", '[ "$1" -ge 2 ]', "upgrade, before the new files"),
    Dispatch("post-install", "post", '[ "$1" -eq 1 ]', "first installation"),
    Dispatch("post-upgrade", "post", '[ "$1" -ge 2 ]', "upgrade, after the new files"),
    Dispatch("pre-remove", "preun", '[ "$1" -eq 0 ]', "erase, before the files go"),
    Dispatch("post-remove", "postun", '[ "$1" -eq 0 ]', "erase, after the files went"),
    Dispatch("purge", "postun", '[ "$1" -eq 0 ]', "erase (RPM has no purge)"),
    # No test: rpm runs them once per transaction that installs or upgrades the package.
    Dispatch("pre-transaction", "pretrans", "", "every transaction, before any package of it"),
    Dispatch("post-transaction", "posttrans", "", "every transaction, after all packages of it"),
)

USERADD = "/usr/sbin/useradd"
GROUPADD = "/usr/sbin/groupadd"


def account_lines(resolved: Resolved) -> list[str]:
    """Shell lines that create the non-root groups and users owning entries (idempotent)."""
    owned = resolved.owned
    declared = {u.name for u in resolved.layout.users} | {g.name for g in resolved.layout.groups}
    declared |= {u.primary for u in resolved.layout.users}  # [[user]]/[[group]] make these (account_script)
    primary: dict[str, str] = {}
    for e in owned:
        if e.owner != "root" and e.owner not in primary and e.owner not in declared:
            primary[e.owner] = e.group if e.group != "root" else e.owner
    groups = sorted((set(resolved.groups) | set(primary.values())) - declared)
    lines = []
    for g in groups:
        q = shlex.quote(g)
        lines.append(f"getent group {q} >/dev/null || groupadd -r {q}")
    for u in sorted(primary):
        q = shlex.quote(u)
        lines.append(
            f"getent passwd {q} >/dev/null || useradd -r -g {shlex.quote(primary[u])} -d / -s /sbin/nologin {q}"
        )
    return lines


def pre_requires(resolved: Resolved) -> tuple[str, ...]:
    """Files %pre needs (Requires(pre):) to create the accounts; empty when all owners are root."""
    if not account_lines(resolved) and not account_script(resolved.layout):
        return ()
    return (GROUPADD, USERADD)


@dataclass(frozen=True)
class Part:
    """A block of a scriptlet: shell as the package stores it, or a comment and a systemd-rpm-macros call."""

    text: str
    use: MacroUse | None = None

    @property
    def stored(self) -> str:
        return f"{self.text}\n{self.use.text}" if self.use else self.text

    @property
    def spec(self) -> str:
        """The spec's text: escaped, with the macro named (rpm expands it to ``stored``)."""
        return rpm_escape(self.text) + (f"\n{self.use.call}" if self.use else "")


def rpm_scriptlets(resolved: Resolved) -> dict[str, str]:
    """Scriptlet name ('pre', 'post', 'preun', 'postun') -> shell body, only for those with content."""
    return {name: "\n".join(p.stored for p in parts) + "\n" for name, parts in scriptlet_parts(resolved).items()}


def scriptlet_parts(resolved: Resolved) -> dict[str, list[Part]]:
    """Scriptlet name -> its blocks in order, only for scriptlets with content."""
    bodies: dict[str, list[Part | str]] = {name: [] for name in SCRIPTLETS}
    declared = account_script(resolved.layout)
    if declared:
        bodies["pre"].append("# [[group]] and [[user]]: made if missing, with their fixed ids (install and upgrade).")
        bodies["pre"].append(declared.rstrip("\n"))
    accounts = account_lines(resolved)
    if accounts:
        bodies["pre"].append("# Accounts that own files of this package (made on install and upgrade alike).")
        bodies["pre"].extend(accounts)
    sources = resolved.layout.scripts
    for d in RPM_DISPATCH:
        text = resolved.scripts.get(d.event)
        if text is None:
            continue
        src = sources.get(d.event, "")
        label = f"{d.event} ({src})" if src else d.event
        run = run_verbatim(text, d.event)
        if d.test:
            run = f"if {d.test}; then\n{run}\nfi"
        bodies[d.scriptlet].append(f"# {label}: on {d.when}\n{run}")
    tmpfiles = tmpfiles_post(resolved)
    if tmpfiles:
        bodies["post"].append(Part(f"# [[tmpfile]]: {tmpfiles.macro}", tmpfiles))
    # [[unit]]: systemd-rpm-macros after the packager's body (Debian's #DEBHELPER# stands after it too).
    for name, use in unit_scriptlets(resolved).items():
        bodies[name].append(Part(f"# [[unit]]: {use.macro}", use))
    return {name: [p if isinstance(p, Part) else Part(p) for p in parts] for name, parts in bodies.items() if parts}
