"""RPM facts every RPM output shares: the package's EVR, implied Provides, changelog items.

The spec, the native writer and verify read these, so they cannot disagree; nothing here
escapes for a spec (the spec renderer does that) or imports Jinja2.
"""

from __future__ import annotations

import datetime as _dt
import textwrap

from ...model import Package, Resolved, ResolvedRelation
from ...templating import one_line
from . import header as rh
from .names import rpm_release

BUILD_HOST = "pkgtool"
UINT32_MAX = 0xFFFFFFFF


def relation_text(rel: ResolvedRelation) -> str:
    if rel.op and rel.version:
        return f"{rel.name} {rel.op} {rel.version}"
    return rel.name


def package_evr(resolved: Resolved, dist: bool = True) -> str:
    """[epoch:]version-release as every RPM backend writes it (release with the profile's dist tag)."""
    pkg = resolved.package
    release = rpm_release(resolved) if dist else pkg.release
    base = f"{pkg.version}-{release}"
    return f"{pkg.epoch}:{base}" if pkg.epoch is not None else base


def spec_evr(resolved: Resolved) -> str:
    """The same EVR in macros, so the spec follows its own Epoch/Version/Release (and %{?dist})."""
    base = "%{version}-%{release}"
    return "%{epoch}:" + base if resolved.package.epoch is not None else base


def implied_provides(resolved: Resolved, evr: str | None = None) -> tuple[ResolvedRelation, ...]:
    """``Provides: old = EVR`` for each [replaces] bounded from above (``<``, ``<=``) that [provides] lacks.

    Fedora's renaming guideline: Obsoletes goes with a Provides of the old name, so
    that what requires it still resolves.  An unbounded (or ``>``/``>=``/``=``)
    Obsoletes gets none: with its own Provides the package would obsolete itself
    (rpmlint ``self-obsoletion``).  ``evr`` is this package's EVR, ``package_evr``
    unless given (the spec passes ``spec_evr``); file names (``/usr/bin/x``) are
    never provided this way.  Every RPM writer and verify use this one function.
    """
    provided = {r.name for r in resolved.relations.get("provides", ())}
    version = package_evr(resolved) if evr is None else evr
    out: dict[str, ResolvedRelation] = {}
    for r in resolved.relations.get("replaces", ()):
        if r.replaces_older and r.name not in provided:
            out.setdefault(r.name, ResolvedRelation(r.name, "=", version, r.logical))
    return tuple(out[name] for name in sorted(out))


def changelog_items(resolved: Resolved) -> list[tuple[_dt.date, str, str, tuple[str, ...]]]:
    """(date, author, "version-release", changes) newest first; one made from the metadata when the map has none."""
    if resolved.layout.changelog:
        return [(c.date, c.author, c.version, tuple(c.changes)) for c in resolved.layout.changelog]
    pkg = resolved.package
    date = _dt.datetime.fromtimestamp(resolved.source_date_epoch, _dt.UTC).date()
    # rpmlint holds the newest entry against [EPOCH:]VERSION-RELEASE (incoherent-version-in-changelog).
    evr = f"{pkg.version}-{pkg.release}" if pkg.epoch is None else f"{pkg.epoch}:{pkg.version}-{pkg.release}"
    return [(date, pkg.maintainer, evr, (f"Package {pkg.name} {pkg.version}",))]


def wrapped_description(text: str, width: int = 79) -> str:
    """The description as rpm shows it: prose lines wrapped at ``width`` (rpmlint's
    description-line-too-long), the author's line breaks, blank lines and indented
    (verbatim) lines kept."""
    out: list[str] = []
    for line in text.strip("\n").splitlines():
        line = line.rstrip()
        if len(line) <= width or line[:1].isspace():
            out.append(line)
        else:
            out += textwrap.wrap(line, width=width, break_long_words=False, break_on_hyphens=False)
    return "\n".join(out)


def changelog_timestamp(date: _dt.date) -> int:
    """Noon UTC of a changelog date, as rpmbuild stores it (the native builder writes the same)."""
    return int(_dt.datetime(date.year, date.month, date.day, 12, tzinfo=_dt.UTC).timestamp())


def identity_tags(h: rh.Header, name: str, pkg: Package, release: str, epoch: int, total: int) -> None:
    """The tags a binary and a source rpm share, in rpmbuild's order: name to Group."""
    h.strings(rh.HEADERI18NTABLE, ["C"])
    h.string(rh.NAME, name)
    h.string(rh.VERSION, pkg.version)
    h.string(rh.RELEASE, release)
    if pkg.epoch is not None:
        h.int32(rh.EPOCH, pkg.epoch)
    h.i18n(rh.SUMMARY, one_line(pkg.summary))
    h.i18n(rh.DESCRIPTION, wrapped_description(pkg.description))
    h.int32(rh.BUILDTIME, epoch)
    h.string(rh.BUILDHOST, BUILD_HOST)
    if total > UINT32_MAX:  # rpm's 64-bit size tag, only where the 32-bit one cannot hold it
        h.ints(rh.LONGSIZE, rh.Type.INT64, [total])
    else:
        h.int32(rh.SIZE, total)
    if pkg.vendor:
        h.string(rh.VENDOR, pkg.vendor)
    h.string(rh.LICENSE, pkg.license)
    h.string(rh.PACKAGER, pkg.maintainer)
    h.i18n(rh.GROUP, "Unspecified")  # what rpmbuild writes for a spec without Group:
