"""[[unit]] as RPM scriptlet lines: the recorded expansion of systemd-rpm-macros (templates/systemd/rpm-macros.toml).

    %post    %systemd_post UNITS                    (preset on first install)
    %preun   %systemd_preun UNITS                   (disable --now on erase)
    %postun  %systemd_postun_with_restart UNITS     (on-upgrade = "restart")
             %systemd_postun UNITS                  (on-upgrade = "none": nothing)

The native writer and the spec emit the same lines, so both backends ship one scriptlet.
"""

from __future__ import annotations

import shlex
import tomllib
from functools import cache

from ...data import data_dir
from ...model import OnUpgrade, Resolved


@cache
def _macros() -> dict[str, dict[str, str]]:
    with open(data_dir("templates") / "systemd" / "rpm-macros.toml", "rb") as fh:
        return tomllib.load(fh)


def _expand(key: str, units: list[str]) -> str:
    return _macros()[key]["text"].lstrip("\n").replace("@UNITS@", " ".join(shlex.quote(u) for u in units))


def tmpfiles_post(resolved: Resolved) -> str:
    """%post lines for [[tmpfile]]: %tmpfiles_create NAME.conf ... ('' without any)."""
    names = [t.name for t in resolved.layout.tmpfiles]
    return _expand("tmpfiles-create", names) if names else ""


def unit_scriptlets(resolved: Resolved) -> dict[str, str]:
    """Scriptlet name -> the systemd macro expansions for the package's units (only those with lines)."""
    units = resolved.layout.units
    if not units:
        return {}
    names = [u.name for u in units]
    restart = [u.name for u in units if u.on_upgrade is OnUpgrade.RESTART]
    out = {"post": _expand("post", names), "preun": _expand("preun", names)}
    postun = _expand("postun-restart", restart) if restart else ""
    if postun:
        out["postun"] = postun
    return out
