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
    (abort-*, failed-upgrade, deconfigure, disappear, prerm/postrm upgrade: nothing)

Non-root owners are recorded with dpkg-statoverride in ``postinst configure``
and dropped in ``postrm purge``.  Each packager script runs in a subshell, so
its own ``exit`` ends only itself, with ``set -e`` in force.
"""

from __future__ import annotations

import re

from ...model import EntryKind, Resolved
from ...templating import environment
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
    users = sorted({o["owner"] for o in owners if o["owner"] != "root"})
    groups = sorted({o["group"] for o in owners if o["group"] != "root"})
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
        needs_owners = bool(owners) and script in ("postinst", "postrm")
        if not events and not needs_owners and script not in python:
            continue
        env = environment()  # only here: a package without scripts is built without importing Jinja2
        out[script] = env.get_template("deb/maintscript.j2").render(
            script=script,
            name=resolved.package.name,
            functions=[
                {"name": "pkgtool_" + ev.replace("-", "_"), "event": ev, "text": _body(scripts[ev])} for ev in events
            ],
            events=set(events),
            owners=owners,
            users=users,
            groups=groups,
            python=python.get(script, ""),
        )
    return out


def _body(text: str) -> str:
    return text if text.endswith("\n") or not text else text + "\n"


def expand_debhelper_tokens(text: str, package: str, snippets: str = "") -> str:
    """What dh_installdeb writes into DEBIAN/: #DEBHELPER# -> its snippets (none for pkgtool's trees)."""
    return _DH_TOKEN.sub(lambda m: snippets if m.group(1) == "DEBHELPER" else package, text)
