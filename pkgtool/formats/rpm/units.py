"""[[unit]] and [[tmpfile]] as RPM scriptlet lines: systemd-rpm-macros' calls and their recorded expansion.

    %post    %tmpfiles_create NAMES                 ([[tmpfile]])
             %systemd_post UNITS                    (preset on first install)
    %preun   %systemd_preun UNITS                   (disable --now on erase)
    %postun  %systemd_postun_with_restart UNITS     (on-upgrade = "restart")
             %systemd_postun UNITS                  (on-upgrade = "none": nothing, so not written)

The spec names the macros (with BuildRequires: systemd-rpm-macros on Fedora/EL hosts) and
defines each one it uses, when the build host lacks it, as the expansion recorded in
templates/systemd/rpm-macros.toml; the native writer stores that same expansion.  rpm expands
``%name() \\`` to a body that starts with a newline, so the stored text does too (MacroUse.text).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

from ...data import data_dir
from ...model import OnUpgrade, Resolved

# The package holding the macros on Fedora and EL (>= 8); the spec's BuildRequires there.
MACROS_PACKAGE = "systemd-rpm-macros"


@cache
def _macros() -> dict[str, dict[str, str]]:
    with open(data_dir("templates") / "systemd" / "rpm-macros.toml", "rb") as fh:
        return tomllib.load(fh)


@dataclass(frozen=True)
class MacroUse:
    """One systemd-rpm-macros call: the spec writes ``call``, the native writer ``text``, rpm's expansion of it."""

    key: str  # the table of rpm-macros.toml
    names: tuple[str, ...]  # unit or tmpfiles.d names (plain words: their grammars allow no quote, space or %)

    @property
    def macro(self) -> str:
        return _macros()[self.key]["macro"]

    @property
    def call(self) -> str:
        return f"{self.macro} {' '.join(self.names)}"

    @property
    def text(self) -> str:
        """The expansion: a first empty line (the definition's ``() \\``), the recorded lines, no last newline."""
        return "\n" + _body(self.key).replace("@UNITS@", " ".join(self.names))

    def fallback(self) -> str:
        """``%{!?NAME:%global NAME() ...}``: the recorded body where rpmbuild has no such macro (%global: %% -> %)."""
        name = self.macro.lstrip("%")
        body = _body(self.key).replace("%", "%%").replace("@UNITS@", "%%{?*}")
        return f"%{{!?{name}:%global {name}() \\\n" + "\\\n".join(body.split("\n")) + "}"


def _body(key: str) -> str:
    return _macros()[key]["text"].strip("\n")


def tmpfiles_post(resolved: Resolved) -> MacroUse | None:
    """%post's %tmpfiles_create NAME.conf ... for [[tmpfile]] (None without any)."""
    names = tuple(t.name for t in resolved.layout.tmpfiles)
    return MacroUse("tmpfiles-create", names) if names else None


def unit_scriptlets(resolved: Resolved) -> dict[str, MacroUse]:
    """Scriptlet name -> the systemd macro call for the package's units (only those with lines)."""
    units = resolved.layout.units
    if not units:
        return {}
    names = tuple(u.name for u in units)
    restart = tuple(u.name for u in units if u.on_upgrade is OnUpgrade.RESTART)
    out = {"post": MacroUse("post", names), "preun": MacroUse("preun", names)}
    if restart:
        out["postun"] = MacroUse("postun-restart", restart)
    return out


def macro_uses(resolved: Resolved) -> list[MacroUse]:
    """Every macro call of the package's scriptlets, tmpfiles first (the order %post runs them)."""
    tmpfiles = tmpfiles_post(resolved)
    return ([tmpfiles] if tmpfiles else []) + list(unit_scriptlets(resolved).values())
