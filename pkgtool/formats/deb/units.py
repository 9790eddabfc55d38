"""[[unit]] as the snippets dh_installsystemd writes (templates/systemd/debhelper-autoscripts.toml).

What dh_installsystemd (compat 13) puts at #DEBHELPER#, for the native writer; the system
backend lets dh_installsystemd itself run with the flags ``dh_flags`` gives.  Per unit in
postinst: enable (or dont-enable for ``enable = false``); then per upgrade action
restart (start on first configure, restart on upgrade) or start; prerm: stop on remove;
postrm: daemon-reload on remove, ``deb-systemd-helper purge`` on purge (debhelper adds
prerm/postrm snippets in reverse order).
"""

from __future__ import annotations

import posixpath
import tomllib
from functools import cache

from ...data import data_dir
from ...model import OnUpgrade, Resolved, UnitSpec

_MARK = "# Added by pkgtool as dh_installsystemd would\n"
_END = "# End automatically added section\n"


@cache
def _snippets() -> dict[str, dict[str, str]]:
    with open(data_dir("templates") / "systemd" / "debhelper-autoscripts.toml", "rb") as fh:
        return tomllib.load(fh)


def _snippet(key: str, units: list[str]) -> str:
    quoted = " ".join(f"'{u}'" for u in units)  # as debhelper quotes them (a unit name holds no quote)
    text = _snippets()[key]["text"].lstrip("\n").replace("#UNITFILES#", quoted).replace("#UNITFILE#", quoted)
    return _MARK + text + _END


def _groups(units: tuple[UnitSpec, ...]) -> dict[OnUpgrade, list[str]]:
    out: dict[OnUpgrade, list[str]] = {}
    for u in units:
        out.setdefault(u.on_upgrade, []).append(u.name)
    return out


# Where dh_installtmpfiles looks for the package's tmpfiles.d files.
_TMPFILES_DIRS = ("/usr/lib/tmpfiles.d/", "/etc/tmpfiles.d/")


def tmpfiles_snippet(resolved: Resolved) -> str:
    """dh_installtmpfiles' postinst block for every .conf the package ships there ('' without [[tmpfile]])."""
    if not resolved.layout.tmpfiles:
        return ""
    names = sorted({posixpath.basename(e.path) for e in resolved.files if e.path.startswith(_TMPFILES_DIRS)})
    names = [n for n in names if n.endswith(".conf")]
    text = _snippets()["postinst-tmpfiles"]["text"].lstrip("\n").replace("#TMPFILES#", " ".join(names))
    return _MARK.replace("dh_installsystemd", "dh_installtmpfiles") + text + _END


def unit_snippets(resolved: Resolved) -> dict[str, str]:
    """Maintainer script -> what #DEBHELPER# becomes for the package's tmpfiles and units (empty without)."""
    tmpfiles = tmpfiles_snippet(resolved)
    units = resolved.layout.units
    if not units:
        return {"postinst": tmpfiles} if tmpfiles else {}
    names = sorted(u.name for u in units)
    postinst = [tmpfiles]  # dh_installtmpfiles runs before dh_installsystemd
    for u in sorted(units, key=lambda u: u.name):
        postinst.append(_snippet("postinst-enable" if u.enable else "postinst-dont-enable", [u.name]))
    groups = _groups(units)
    for action, key in ((OnUpgrade.RESTART, "postinst-restart"), (OnUpgrade.NONE, "postinst-start")):
        if action in groups:
            postinst.append(_snippet(key, sorted(groups[action])))
    return {
        "postinst": "".join(postinst),
        "prerm": _snippet("prerm-stop", names),
        "postrm": _snippet("postrm-reload", names) + _snippet("postrm-purge", names),
    }


def dh_flags(resolved: Resolved) -> list[list[str]]:
    """The dh_installsystemd calls debian/rules makes: one per (enable, on-upgrade) group, naming its units."""
    calls: dict[tuple[bool, OnUpgrade], list[str]] = {}
    for u in resolved.layout.units:
        calls.setdefault((u.enable, u.on_upgrade), []).append(u.name)
    out = []
    for (enable, action), names in sorted(calls.items()):
        flags = [] if enable else ["--no-enable"]
        if action is OnUpgrade.NONE:
            flags += ["--no-restart-after-upgrade", "--no-stop-on-upgrade"]
        out.append([*flags, *sorted(names)])
    return out
