"""Templated files (``template = true`` on a [[file]]): ``@NAME@`` filled from the profile's directories,
the package's NAME, VERSION and RELEASE, and the map's [vars].

Native builds, install and verify read the filled bytes from staging; the spec's %install and
debian/rules run ``sed`` with the same values on the installed file (``sed_expressions``), so a
system build and a native build install the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..diagnostics import Diagnostic, Severity, nearest
from ..errors import ResolveError
from ..model import Entry, Location, Resolved

# @NAME@ as autoconf writes it: upper case, digits and '_'.
TEMPLATE_NAME = re.compile(rb"@([A-Z][A-Z0-9_]*)@")


def template_values(resolved: Resolved) -> dict[str, str]:
    """NAME -> value: each profile directory and [vars] name in upper case, and the package's metadata."""
    pkg = resolved.package
    out = {k.upper(): v for k, v in resolved.profile.dirs.items()}
    out.update({k.upper(): v for k, v in resolved.vars.items()})
    out.update(NAME=pkg.name, VERSION=pkg.version, RELEASE=pkg.release)
    return out


def names_used(data: bytes, entry: Entry, values: Mapping[str, str]) -> list[str]:
    """The known @NAME@s of ``data`` in first-seen order; ResolveError naming the line of an unknown one."""
    out: list[str] = []
    for m in TEMPLATE_NAME.finditer(data):
        name = m.group(1).decode("ascii")
        if name in values:
            if name not in out:
                out.append(name)
            continue
        line = data.count(b"\n", 0, m.start()) + 1
        close = nearest(name, values)
        hint = f"did you mean @{close}@? " if close else ""
        message = f"unknown @{name}@ in {entry.source}, a template of {entry.origin} (deployed as {entry.path})"
        diag = Diagnostic(
            "unknown-placeholder",
            Severity.ERROR,
            message,
            Location(entry.source or "", "", line),
            hint + "known: the profile's directories in upper case (@LIBEXECDIR@), @NAME@, @VERSION@, "
            "@RELEASE@ and the map's [vars]",
            entry.path,
        )
        raise ResolveError(f"{entry.source}:{line}: {message}", [diag])
    return out


def fill(data: bytes, entry: Entry, values: Mapping[str, str]) -> bytes:
    """The filled bytes, as `sed -e EXPR...` of ``sed_expressions`` writes them: one name after the other."""
    for name in names_used(data, entry, values):  # an unknown name stops here, with its line
        data = data.replace(f"@{name}@".encode("ascii"), values[name].encode("utf-8"))
    return data


def _sed_replacement(value: str) -> str:
    # In a sed s||| replacement only '\', '&', the delimiter and a newline are special (values are one line).
    return value.replace("\\", "\\\\").replace("&", "\\&").replace("|", "\\|")


def sed_expressions(names: list[str], values: Mapping[str, str]) -> list[str]:
    """One ``s|@NAME@|value|g`` per name, unquoted (each writer quotes for its own shell)."""
    return [f"s|@{n}@|{_sed_replacement(values[n])}|g" for n in names]
