"""Layout + Profile -> Resolved: every deployed path, final.  Pure: reads the source tree, writes nothing.

Order of work: pick the profile's variant of the layout; expand contents
([[tree]], [[file]], [[dir]], [[symlink]]) with placeholders, checking paths
and conflicts; add implicit parent directories (owned unless the profile or
the plugin kind says they belong to the system / host software); apply
[[attr]] rules in order; mark auto-config files; map relations; read
scripts.  ``resolve_collect`` reports every problem and skips the faulty
entries; ``resolve`` raises ResolveError when there is any error.
"""

from __future__ import annotations

import dataclasses

from ..diagnostics import Diagnostic, Severity
from ..errors import ResolveError
from ..model import Entry, Layout, Profile, Resolved
from .base import pick_variant
from .contents import Contents
from .entries import NAME_MAX, PATH_MAX, unsafe_reason
from .finish import Finish, map_relations
from .packages import share_out, sub_layout

__all__ = [
    "DEFAULT_EPOCH",
    "NAME_MAX",
    "PATH_MAX",
    "default_epoch",
    "map_relations",
    "pick_variant",
    "resolve",
    "resolve_collect",
    "unsafe_reason",
]

# 2000-01-01T00:00:00Z: the epoch of a layout without changelog when none is given.
DEFAULT_EPOCH = 946684800
_UNIX_DAY0 = 719163  # date(1970, 1, 1).toordinal(): days, not calendar (whose import costs 10 ms)


def default_epoch(layout: Layout) -> int:
    """The newest changelog date at 00:00 UTC, else 2000-01-01 (the clock is never read)."""
    if layout.changelog:
        newest = max(c.date for c in layout.changelog)
        return (newest.toordinal() - _UNIX_DAY0) * 86400
    return DEFAULT_EPOCH


class _Resolver(Contents, Finish):
    """One resolution: contents, then finishing, in the order of ``run``."""

    def run(self, source_date_epoch: int | None) -> Resolved:
        self.trees()
        self.files()
        self.dirs()
        self.symlinks()
        self.parents()
        self.bookkeeping()
        self.attrs()
        self.name_limits()
        paths = sorted(self.entries)
        self.auto_config(paths)
        entries = tuple(map(self.entries.__getitem__, paths))
        epoch = default_epoch(self.layout) if source_date_epoch is None else source_date_epoch
        pyc = self.python_compile()

        def package(part: _Resolver, share: tuple[Entry, ...]) -> Resolved:
            shipped, ghosts = _split_ghosts(share)
            return Resolved(
                part.layout,
                self.profile,
                shipped,
                part.relations(),
                part.scripts(),
                epoch,
                vars=self.vars,
                ghosts=ghosts,
                python_compile=pyc,
            )

        if not self.layout.subpackages:
            return package(self, entries)
        shares = share_out(self.layout, entries)
        subs = []
        for sub in self.layout.subpackages:
            # Relations and scripts are read the same way as the main package's, from its own layout.
            part = _Resolver(sub_layout(self.layout, sub), self.profile)
            subs.append(package(part, shares[sub.name]))
            self.diags.extend(part.diags)
        return dataclasses.replace(package(self, shares[""]), subpackages=tuple(subs))


def _split_ghosts(entries: tuple[Entry, ...]) -> tuple[tuple[Entry, ...], tuple[Entry, ...]]:
    """(shipped entries, ghosts): ghosts went through conflicts, parents and [[attr]] like the rest."""
    return tuple(e for e in entries if not e.ghost), tuple(e for e in entries if e.ghost)


def resolve_collect(
    layout: Layout, profile: Profile, source_date_epoch: int | None = None
) -> tuple[Resolved, list[Diagnostic]]:
    """Resolve what can be resolved and report every problem; never raises for content problems."""
    r = _Resolver(layout, profile)
    resolved = r.run(source_date_epoch)
    return resolved, r.diags


def resolve(layout: Layout, profile: Profile, source_date_epoch: int | None = None) -> Resolved:
    """Every deployed entry of ``layout`` on ``profile``; ResolveError (with .diagnostics) on any error."""
    resolved, diags = resolve_collect(layout, profile, source_date_epoch)
    errors = [d for d in diags if d.severity is Severity.ERROR]
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ResolveError(
            f"cannot resolve {layout.package.name} for {profile.id}: {first.to_text()}{more}",
            diagnostics=diags,
        )
    return resolved
