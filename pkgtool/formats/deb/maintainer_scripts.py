"""Debian maintainer scripts generated from the [scripts] contract.

dpkg calls each script with an action word; the map names events.  The
dispatch (see docs/debian.md) is:

    preinst  install [old]          -> pre-install
    preinst  upgrade old            -> pre-upgrade
    postinst configure ''           -> post-install   (first configuration)
    postinst configure old          -> post-upgrade
    prerm    remove                 -> pre-remove
    postrm   remove                 -> post-remove
    postrm   purge                  -> purge
    postinst abort-upgrade | abort-remove | abort-deconfigure -> post-upgrade
    postrm   abort-install          -> post-remove
    (preinst/postrm abort-upgrade, failed-upgrade, deconfigure, disappear, prerm/postrm upgrade: nothing)

Non-root owners are recorded with dpkg-statoverride in ``postinst configure``
and dropped in ``postrm purge``.  Ghosts (files and directories the map owns
but does not ship: RPM's %ghost) are made empty in ``postinst configure`` when
missing, with their mode and owner, and removed in ``postrm purge``, as
debhelper-using packages do for their log files.  Each packager script runs as RPM's does
(pkgtool/formats/script_bodies.py): verbatim in its own interpreter, out of
reach of this script's ``set -e``, a failure ending the maintainer script.
"""

from __future__ import annotations

import re
import shlex

from ...model import EntryKind, Resolved
from ...templating import environment
from ..accounts import HAS_FUNCTION, account_commands
from ..script_bodies import run_verbatim
from .python import python_snippets

SCRIPT_ORDER: tuple[str, ...] = ("preinst", "postinst", "prerm", "postrm")

# dh_installdeb replaces these tokens; the native writer does the same so both backends ship one script.
_DH_TOKEN = re.compile(r"#(DEBHELPER|PACKAGE)#")


def _owners(resolved: Resolved) -> list[dict]:
    out = []
    for e in resolved.owned:
        if e.kind is EntryKind.SYMLINK or (e.owner == "root" and e.group == "root"):
            continue
        out.append({"path": e.path, "owner": e.owner, "group": e.group, "mode": e.mode})
    return out


def maintainer_scripts(resolved: Resolved) -> dict[str, str]:
    """debian/NAME.{preinst,postinst,prerm,postrm} with #DEBHELPER#; only the scripts that have work."""
    scripts = resolved.scripts
    owners = _owners(resolved)
    ghosts = [
        {
            "path": g.path,
            "dir": g.kind is EntryKind.DIR,
            "owner": g.owner,
            "group": g.group,
            "mode": g.mode,
            # root:root is what the script makes anyway: no account lookup needed for it.
            "owns": "".join(f" {o} {shlex.quote(n)}" for o, n in (("-o", g.owner), ("-g", g.group)) if n != "root"),
        }
        for g in resolved.ghosts
    ]
    layout = resolved.layout
    declared = {u.name for u in layout.users} | {g.name for g in layout.groups} | {u.primary for u in layout.users}
    # [[user]]s and [[group]]s come from preinst, with their fixed ids.
    users = sorted({o["owner"] for o in owners + ghosts if o["owner"] != "root"} - declared)
    groups = sorted({o["group"] for o in owners + ghosts if o["group"] != "root"} - declared)
    cases: dict[str, list[tuple[str, str]]] = {
        # script -> [(case pattern, body kind)]
        "preinst": [("install", "pre-install"), ("upgrade", "pre-upgrade")],
        "postinst": [("configure", "")],
        "prerm": [("remove", "pre-remove")],
        "postrm": [("remove", "post-remove"), ("purge", "purge")],
    }
    out = {}
    python = python_snippets(resolved)
    for script in SCRIPT_ORDER:
        events = [ev for _, ev in cases[script] if ev and ev in scripts]
        if script == "postinst":
            events = [ev for ev in ("post-install", "post-upgrade") if ev in scripts]
        needs_owners = bool(owners or ghosts) and script in ("postinst", "postrm")
        commands = account_commands(resolved.layout) if script == "preinst" else []
        accounts = "".join(f"\t{c}\n" for c in commands)
        if not events and not needs_owners and not accounts and script not in python:
            continue
        env = environment()  # only here: a package without scripts is built without importing Jinja2
        out[script] = env.get_template("deb/maintscript.j2").render(
            script=script,
            name=resolved.package.name,
            functions=[
                {"name": "pkgtool_" + ev.replace("-", "_"), "event": ev, "text": run_verbatim(scripts[ev], ev)}
                for ev in events
            ],
            events=set(events),
            owners=owners,
            ghosts=ghosts,
            users=users,
            groups=groups,
            accounts=accounts,
            has_function=HAS_FUNCTION,
            python=python.get(script, ""),
        )
    return out


def expand_debhelper_tokens(text: str, package: str, snippets: str = "") -> str:
    """What dh_installdeb writes into DEBIAN/: #DEBHELPER# -> its snippets (none for pkgtool's trees)."""
    return _DH_TOKEN.sub(lambda m: snippets if m.group(1) == "DEBHELPER" else package, text)
