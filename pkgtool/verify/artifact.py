"""Hold a built package against the map: its entries (compare), its relations and its metadata."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path

from ..formats import format_for
from ..model import RELATION_KINDS, ArtifactInfo, Family, Resolved
from .compare import compare
from .report import Mismatch, VerifyReport

# Relations a format adds by itself; never reported as unexpected (expected ones are always checked).
_AUTO_RELATIONS: tuple[str, ...] = ("rpmlib(*)", "config(*)", "/*")

_AUTO_PROVIDES: tuple[str, ...] = ("{name}", "{name}(*)")

_OPS = {"<<": "<", ">>": ">", "==": "=", "": ""}


# ---------------------------------------------------------------- relations and metadata


def _rel_text(name: str, op: str, version: str) -> str:
    return f"{name} {op} {version}" if op else name


def _auto(name: str, kind: str, pkg_name: str, extra: Iterable[str]) -> bool:
    pats = list(_AUTO_RELATIONS) + [str(p) for p in extra]
    if kind == "provides":
        pats += [p.format(name=pkg_name) for p in _AUTO_PROVIDES]
    return any(fnmatch.fnmatchcase(name, p) for p in pats)


def expected_relations(resolved: Resolved, family: Family) -> dict[str, dict[str, tuple[tuple[str, str], ...]]]:
    """kind -> name -> the (op, version) pairs that satisfy it, the first one shown in a report.

    The map's relations plus what the format derives from [replaces], from the
    writers' own functions (PackageFormat.implied_relations): RPM's implied
    Provides (with or without the dist tag, as compare_metadata accepts either
    release) and Debian's implied Breaks.
    """
    fmt = format_for(family)
    want: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {}
    for kind in RELATION_KINDS:
        if kind == "build-requires":  # a binary package does not carry them
            continue
        names = want.setdefault(fmt.folded_relations.get(kind, kind), {})
        for r in resolved.relations.get(kind, ()):
            names[r.name] = ((_OPS.get(r.op, r.op), r.version),)
    for kind, implied in fmt.implied_relations(resolved).items():
        names = want.setdefault(kind, {})
        for name, choices in implied.items():
            names[name] = tuple((_OPS.get(op, op), version) for op, version in choices)
    return want


def compare_relations(resolved: Resolved, info: ArtifactInfo) -> list[Mismatch]:
    """Kind by kind: every expected relation is in the artifact with the same operator and version."""
    extra_auto = resolved.profile.extra.get("auto_relations", [])
    extra_auto = extra_auto if isinstance(extra_auto, list | tuple) else []
    out: list[Mismatch] = []
    for kind, want in expected_relations(resolved, info.format).items():
        have: dict[str, list[tuple[str, str]]] = {}
        for r in info.relations.get(kind, ()):
            have.setdefault(r.name, []).append((_OPS.get(r.op, r.op), r.version))
        for name, choices in sorted(want.items()):
            got = have.get(name, [])
            if any(c in got for c in choices):
                continue
            actual = "; ".join(_rel_text(name, o, v) for o, v in got) or None
            out.append(
                Mismatch(
                    f"{kind}: {name}",
                    ("relation",),
                    {"relation": _rel_text(name, *choices[0])},
                    {"relation": actual},
                )
            )
        for name, got in sorted(have.items()):
            if name in want or _auto(name, kind, resolved.package.name, extra_auto):
                continue
            out.append(
                Mismatch(
                    f"{kind}: {name}",
                    ("relation",),
                    {"relation": None},
                    {"relation": "; ".join(_rel_text(name, o, v) for o, v in got)},
                )
            )
    return out


def compare_metadata(resolved: Resolved, info: ArtifactInfo) -> list[Mismatch]:
    pkg, profile = resolved.package, resolved.profile
    out: list[Mismatch] = []

    def check(fieldname: str, ok: bool, expected: object, actual: object) -> None:
        if not ok:
            out.append(Mismatch(f"(metadata) {fieldname}", ("metadata",), {"metadata": expected}, {"metadata": actual}))

    check("format", info.format is profile.family, profile.family.value, info.format.value)
    check("name", info.name == pkg.name, pkg.name, info.name)
    check("version", info.version == pkg.version, pkg.version, info.version)
    fmt = format_for(info.format)
    check("release", info.release in fmt.releases(resolved), pkg.release, info.release)
    check("epoch", (info.epoch or 0) == (pkg.epoch or 0), pkg.epoch, info.epoch)
    if pkg.arch == "noarch":
        check("arch", info.arch == fmt.noarch, fmt.noarch, info.arch)
    return out


# ---------------------------------------------------------------- entry point


def read_artifact(path: Path | str) -> ArtifactInfo:
    """The artifact behind ``path`` (binary packages only): see pkgtool.formats.read.read_artifact."""
    from ..formats.read import read_artifact as read_any

    return read_any(path, binary_only=True)


def verify_artifact(resolved: Resolved, path: Path | str) -> VerifyReport:
    """Hold a built .rpm or .deb against the entries, its relations and its metadata.

    A map with sub-packages is held by the package the artifact names; an artifact
    of no package of the map is held against the main one (and its name mismatches).
    """
    info = read_artifact(path)
    resolved = next((p for p in resolved.packages if p.package.name == info.name), resolved)
    files = compare(
        resolved,
        info.entries,
        subject=str(path),
        artifact_format=info.format,
        scripts=info.scripts,
    )
    more = compare_metadata(resolved, info) + compare_relations(resolved, info)
    return VerifyReport(
        subject=files.subject,
        checked=files.checked,
        mismatches=tuple(sorted((*files.mismatches, *more), key=lambda m: m.path)),
        notes=files.notes,
    )
