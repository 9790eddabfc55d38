"""The rpmlint configuration generate writes beside the spec: filters for the findings the map asks for on purpose.

``NAME.rpmlintrc`` serves rpmlint 1 (which executes it as Python) and rpmlint 2 (which reads its
``addFilter`` lines with a regex), so every path in it is escaped for both.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from ...kinds import kind_info
from ...model import ConfigKind, EntryKind, Resolved
from ...templating import environment


@dataclass(frozen=True)
class LintFilter:
    """One rpmlint finding the map asks for on purpose, and the path it is about."""

    check: str
    path: str


def lint_filters(resolved: Resolved) -> list[LintFilter]:
    """The rpmlint findings the map's own modes and its kind's layout draw, path by path, and nothing else."""
    out = []
    waivers = kind_info(resolved.package.kind).rpmlint_waivers
    for e in resolved.owned:
        out.extend(LintFilter(check, e.path) for check, glob in waivers if fnmatch.fnmatchcase(e.path, glob))
        mode = e.mode & 0o7777
        if e.kind is EntryKind.DIR and mode != 0o755:
            out.append(LintFilter("non-standard-dir-perm", e.path))
        elif e.kind is EntryKind.FILE:
            if mode & 0o111 and mode & 0o777 not in (0o755, 0o555) and not mode & 0o6000:
                out.append(LintFilter("non-standard-executable-perm", e.path))
            if mode & 0o6000:
                out.append(LintFilter("setuid-binary" if mode & 0o4000 else "setgid-binary", e.path))
                out.append(LintFilter("non-standard-executable-perm", e.path))
            if not mode & 0o004:
                out.append(LintFilter("non-readable", e.path))
            if mode & 0o111 and e.config is not ConfigKind.NONE:
                out.append(LintFilter("executable-marked-as-config-file", e.path))
    return out


def _rc_escape(text: str) -> str:
    """``re.escape`` for a line ``addFilter(r"...")`` that rpmlint 1 executes as Python and rpmlint 2
    reads with a regex and takes literally: quotes, backslash-newline and control characters
    become regex escapes (``\\x22``), so the raw string always closes where it should."""
    out = []
    for c in text:
        if c in "\"'" or ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(re.escape(c))
    return "".join(out)


def render_rpmlintrc(resolved: Resolved) -> str:
    filters = [  # each binary package of the spec, by its own name
        (
            f.check,
            "^" + re.escape(p.package.name) + r"\.\S+: \S+ " + f.check + " " + _rc_escape(f.path) + r"(\s|$)",
        )
        for p in resolved.packages
        for f in lint_filters(p)
    ]
    return environment().get_template("rpm/rpmlintrc.j2").render(name=resolved.package.name, filters=filters)


def render_rpmlint_toml(resolved: Resolved) -> str:
    # The dist tag rpmbuild appends (%{?dist}): rpmlint strips it before it holds the changelog's
    # version against the package's, so "1.0-1" in the changelog matches release "1.fc40".
    tag = resolved.profile.dist_tag
    ext = re.escape(tag) + "$" if tag else ""
    return environment().get_template("rpm/rpmlint.toml.j2").render(license=resolved.package.license, release_ext=ext)
