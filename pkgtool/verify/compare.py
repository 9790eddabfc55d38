"""Hold an installed root, or a built .rpm/.deb, against the resolved entries, like ``rpm -V``.

The comparison itself (``compare``) is one function over Observed paths, so a
root and both artifact formats are checked by the same rules; what differs
is only what each side can carry (a root has no config flag, an artifact
need not carry the system directories it lands in).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import PkgtoolError, UsageError
from ..model import RELATION_KINDS, ArtifactInfo, ConfigKind, Entry, EntryKind, Family, Observed, Resolved
from ..rootfs.paths import file_digest, link_destination

PROBLEMS: tuple[str, ...] = (
    "missing",
    "type",
    "mode",
    "owner",
    "group",
    "digest",
    "target",
    "config",
    "extra",
    "relation",
    "metadata",
    "interrupted",  # a root with the journal of an install that was killed
)

ROOT_DIGEST = "sha256"  # what a content difference in a root is reported with


# Relations a format adds by itself; never reported as unexpected (expected ones are always checked).
_AUTO_RELATIONS: tuple[str, ...] = ("rpmlib(*)", "config(*)", "/*")
_AUTO_PROVIDES: tuple[str, ...] = ("{name}", "{name}(*)")
_OPS = {"<<": "<", ">>": ">", "==": "=", "": ""}

# One column per check, in rpm -V's order where rpm has one: Size Mode 5(digest) Device Link User Group mTime Config.
_FLAGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("S", ()),
    ("M", ("mode", "type")),
    ("5", ("digest",)),
    ("D", ()),
    ("L", ("target",)),
    ("U", ("owner",)),
    ("G", ("group",)),
    ("T", ()),
    ("C", ("config",)),
)


# ---------------------------------------------------------------- report


@dataclass(frozen=True)
class Mismatch:
    path: str  # deployed path; 'requires: NAME' for a relation; '(metadata) FIELD' for metadata
    problems: tuple[str, ...]  # from PROBLEMS
    expected: Mapping[str, object] = field(default_factory=dict)
    actual: Mapping[str, object] = field(default_factory=dict)
    origin: str = ""  # key path of the map entry that asked for it ('attr[1]')

    @property
    def flags(self) -> str:
        if "missing" in self.problems:
            return "missing"
        if "extra" in self.problems:
            return "extra"
        if "relation" in self.problems:
            return "relation"
        if "metadata" in self.problems:
            return "metadata"
        if "interrupted" in self.problems:
            return "interrupted"
        return "".join(ch if any(p in self.problems for p in probs) else "." for ch, probs in _FLAGS)

    def details(self) -> list[str]:
        out = []
        where = f" ({self.origin})" if self.origin else ""
        for p in self.problems:
            exp, act = self.expected.get(p), self.actual.get(p)
            if p == "missing":
                out.append(f"missing, expected a {exp}{where}")
            elif p == "extra":
                out.append(f"{act} not in the map")
            elif p == "mode":
                out.append(f"mode {act}, expected {exp}{where}")
            elif p == "type":
                out.append(f"is a {act}, expected a {exp}{where}")
            elif p in ("owner", "group"):
                out.append(f"{p} {act}, expected {exp}{where}")
            elif p == "digest":
                out.append(f"content differs: {act}, expected {exp}")
            elif p == "target":
                out.append(f"link points to {act}, expected {exp}{where}")
            elif p == "config":
                out.append(f"config {act}, expected {exp}{where}")
            elif p == "interrupted":
                out.append(f"{act}; the next `pkgtool install` into this root rolls it back")
            else:
                out.append(f"{act or 'absent'}, expected {exp or 'nothing'}")
        return out

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "problems": list(self.problems),
            "flags": self.flags,
            "expected": dict(self.expected),
            "actual": dict(self.actual),
            "origin": self.origin or None,
        }

    def to_text(self) -> str:
        lines = [f"{self.flags:<9}  {self.path}"]
        lines += [f"    {d}" for d in self.details()]
        return "\n".join(lines)


@dataclass(frozen=True)
class VerifyReport:
    subject: str  # the root or artifact checked
    checked: int  # entries checked
    mismatches: tuple[Mismatch, ...]
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def by_path(self) -> dict[str, Mismatch]:
        return {m.path: m for m in self.mismatches}

    def to_dict(self) -> dict:
        return {
            "subject": self.subject,
            "ok": self.ok,
            "checked": self.checked,
            "mismatches": [m.to_dict() for m in self.mismatches],
            "notes": list(self.notes),
        }

    def to_text(self) -> str:
        lines = [m.to_text() for m in self.mismatches]
        lines += [f"note: {n}" for n in self.notes]
        verdict = "ok" if self.ok else f"{len(self.mismatches)} mismatching"
        lines.append(f"{self.subject}: {self.checked} paths checked, {verdict}")
        return "\n".join(lines)


# ---------------------------------------------------------------- expected digests


DigestSource = Callable[[Entry, str], str]


class _StagedDigests:
    """Digests of the entries' final content (patches applied), staged only when first needed."""

    def __init__(self, resolved: Resolved):
        self.resolved = resolved
        self.stack = contextlib.ExitStack()
        self.dir: Path | None = None
        self.cache: dict[tuple[str, str], str] = {}

    def __call__(self, entry: Entry, algo: str) -> str:
        key = (entry.source or "", algo)
        if key not in self.cache:
            if self.dir is None:
                from ..sources.staging import staged_sources  # written alongside; late import keeps verify light

                self.dir = Path(self.stack.enter_context(staged_sources(self.resolved)))
            try:
                self.cache[key] = file_digest(self.dir / (entry.source or ""), algo)
            except OSError as exc:
                raise PkgtoolError(f"{entry.path}: cannot read its source {entry.source}: {exc.strerror}") from None
        return self.cache[key]

    def close(self) -> None:
        self.stack.close()


# ---------------------------------------------------------------- compare


def _fmt_mode(mode: int) -> str:
    return f"{mode:04o}"


def _norm_path(path: str) -> str:
    if path.startswith("./"):
        path = path[1:]
    if not path.startswith("/"):
        path = "/" + path
    return path.rstrip("/") or "/"


def _ancestors(path: str) -> Iterable[str]:
    parts = [p for p in path.split("/") if p]
    for i in range(1, len(parts)):
        yield "/" + "/".join(parts[:i])


def _format_values(resolved: Resolved) -> dict[str, str]:
    pkg = resolved.package
    return {**dict(resolved.profile.dirs), "name": pkg.name, "version": pkg.version, "release": pkg.release}


def _expand(pattern: str, values: Mapping[str, str]) -> str:
    # Unknown placeholders stay as written: a profile key for another writer must not break verify.
    class _Keep(dict):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    return string.Formatter().vformat(pattern, (), _Keep(values))


def format_files(resolved: Resolved) -> tuple[str, ...]:
    """Paths (globs) the package format adds by itself, from the profile's ``extra.format_files``."""
    raw = resolved.profile.extra.get("format_files", [])
    values = _format_values(resolved)
    return tuple(_expand(str(p), values) for p in (raw if isinstance(raw, list | tuple) else []))


def _is_config(entry: Entry, profile_auto: tuple[str, ...]) -> bool:
    if entry.config is not ConfigKind.NONE:
        return True
    return entry.kind is EntryKind.FILE and any(entry.path.startswith(d.rstrip("/") + "/") for d in profile_auto)


def _statoverride(path: str, scripts: Mapping[str, str]) -> bool:
    # Debian carries non-root owners as dpkg-statoverride calls in postinst, not in the payload.
    return any("dpkg-statoverride" in text and path in text for text in scripts.values())


def compare(
    resolved: Resolved,
    observed: Iterable[Observed],
    *,
    subject: str,
    digest_source: DigestSource | None = None,
    check_extras: bool = True,
    artifact_format: Family | None = None,
    scripts: Mapping[str, str] | None = None,
    recorded_owners: Mapping[str, tuple[str, str]] | None = None,
    notes: Iterable[str] = (),
    content_diffs: Mapping[str, tuple[str, str]] | None = None,
) -> VerifyReport:
    """Check every entry against what was observed.

    ``artifact_format`` None means a root: system directories must exist, there
    is no config flag, and every observed non-entry is an extra (the root
    reader only looks inside owned directories).  With a format, the config
    flag is checked, system directories are optional, and the parents of
    entries and the profile's ``format_files`` are not extras.
    ``recorded_owners`` (path -> (owner, group)) replaces the on-disk owners,
    for a root installed without root privileges.
    ``content_diffs`` (path -> (expected, actual) sha256), when given, replaces
    the digest comparison: the content was already compared (a root).
    """
    seen = {_norm_path(o.path): o for o in observed}
    scripts = scripts or {}
    own_digests = digest_source is None
    digests: DigestSource = digest_source or _StagedDigests(resolved)
    auto_conf = tuple(resolved.profile.auto_config_dirs)
    mismatches: list[Mismatch] = []
    checked = 0
    try:
        for entry in resolved.entries:
            obs = seen.get(entry.path)
            if entry.kind is EntryKind.DIR and not entry.owned:
                if artifact_format is not None and obs is None:
                    continue  # an artifact need not carry the system directories
                checked += 1
                if obs is None:
                    mismatches.append(Mismatch(entry.path, ("missing",), {"missing": "dir"}, {}, entry.origin))
                elif obs.kind is not EntryKind.DIR:
                    mismatches.append(_type_mismatch(entry, obs))
                continue
            checked += 1
            if obs is None:
                exp = entry.kind.value + (f" -> {entry.target}" if entry.target else "")
                mismatches.append(Mismatch(entry.path, ("missing",), {"missing": exp}, {}, entry.origin))
                continue
            if obs.kind is not entry.kind:
                mismatches.append(_type_mismatch(entry, obs))
                continue
            m = _check_one(entry, obs, digests, artifact_format, scripts, recorded_owners, auto_conf, content_diffs)
            if m is not None:
                mismatches.append(m)
    finally:
        if own_digests:
            digests.close()  # type: ignore[attr-defined]
    if check_extras:
        mismatches += _extras(resolved, seen, artifact_format)
    mismatches.sort(key=lambda m: m.path)
    return VerifyReport(subject=subject, checked=checked, mismatches=tuple(mismatches), notes=tuple(notes))


def _type_mismatch(entry: Entry, obs: Observed) -> Mismatch:
    actual = obs.kind.value if obs.kind else "special file"
    return Mismatch(entry.path, ("type",), {"type": entry.kind.value}, {"type": actual}, entry.origin)


def _check_one(
    entry: Entry,
    obs: Observed,
    digests: DigestSource,
    artifact_format: Family | None,
    scripts: Mapping[str, str],
    recorded_owners: Mapping[str, tuple[str, str]] | None,
    auto_conf: tuple[str, ...],
    content_diffs: Mapping[str, tuple[str, str]] | None = None,
) -> Mismatch | None:
    problems: list[str] = []
    exp: dict[str, object] = {}
    act: dict[str, object] = {}

    def bad(problem: str, expected: object, actual: object) -> None:
        problems.append(problem)
        exp[problem], act[problem] = expected, actual

    if entry.kind is not EntryKind.SYMLINK and obs.mode & 0o7777 != entry.mode & 0o7777:
        bad("mode", _fmt_mode(entry.mode), _fmt_mode(obs.mode))
    owner, group = obs.owner, obs.group
    if recorded_owners is not None and entry.path in recorded_owners:
        owner, group = recorded_owners[entry.path]
    deb_override = artifact_format is Family.DEB and _statoverride(entry.path, scripts)
    if owner != entry.owner and not (deb_override and owner == "root"):
        bad("owner", entry.owner, owner)
    if group != entry.group and not (deb_override and group == "root"):
        bad("group", entry.group, group)
    if entry.kind is EntryKind.FILE and content_diffs is not None:
        if diff := content_diffs.get(entry.path):
            bad("digest", f"{ROOT_DIGEST} {diff[0]}", f"{ROOT_DIGEST} {diff[1]}")
    elif entry.kind is EntryKind.FILE and obs.digest:
        algo = obs.digest_algo or "sha256"
        want = digests(entry, algo)
        if want.lower() != obs.digest.lower():
            bad("digest", f"{algo} {want}", f"{algo} {obs.digest}")
    if entry.kind is EntryKind.SYMLINK:
        want_to = link_destination(entry.path, entry.target or "")
        have_to = link_destination(entry.path, obs.target or "")
        if want_to != have_to:
            bad("target", want_to, f"{have_to} ({obs.target})" if obs.target != have_to else have_to)
    if artifact_format is Family.RPM and entry.kind is EntryKind.FILE and obs.config is not entry.config:
        bad("config", entry.config.value, obs.config.value)
    elif artifact_format is Family.DEB and entry.kind is EntryKind.FILE:
        want_conf, have_conf = _is_config(entry, auto_conf), obs.config is not ConfigKind.NONE
        if want_conf != have_conf:
            bad("config", "conffile" if want_conf else "none", "conffile" if have_conf else "none")
    if not problems:
        return None
    return Mismatch(entry.path, tuple(problems), exp, act, entry.origin)


def _extras(resolved: Resolved, seen: Mapping[str, Observed], artifact_format: Family | None) -> list[Mismatch]:
    entries = resolved.by_path()
    allowed_dirs: set[str] = {"/"}
    fmt_files: tuple[str, ...] = ()
    if artifact_format is not None:
        fmt_files = format_files(resolved)
        for p in (*entries, *fmt_files):
            allowed_dirs.update(_ancestors(p))
    out = []
    for path, obs in seen.items():
        if path in entries:
            continue
        if obs.kind is EntryKind.DIR and path in allowed_dirs:
            continue  # a parent directory the format carries
        if any(fnmatch.fnmatchcase(path, pat) for pat in fmt_files):
            continue
        kind = obs.kind.value if obs.kind else "special file"
        out.append(Mismatch(path, ("extra",), {}, {"extra": kind}))
    return out


# ---------------------------------------------------------------- artifacts: relations and metadata


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
    writers' own functions: RPM's implied Provides (with or without the dist tag,
    as compare_metadata accepts either release) and Debian's implied Breaks.
    """
    # Imported here: the renderers cost ~40 ms of start-up that verifying a root never needs.
    from ..formats.deb.debian_dir import implied_breaks
    from ..formats.rpm.spec import implied_provides, package_evr

    want = {
        kind: {r.name: ((_OPS.get(r.op, r.op), r.version),) for r in resolved.relations.get(kind, ())}
        for kind in RELATION_KINDS
        if kind != "build-requires"  # a binary package does not carry them
    }
    if family is Family.RPM:
        bare = implied_provides(resolved, package_evr(resolved, dist=False))
        for full, plain in zip(implied_provides(resolved), bare, strict=True):
            want["provides"][full.name] = tuple(dict.fromkeys((("=", full.version), ("=", plain.version))))
    else:
        want["breaks"] = {r.name: ((_OPS.get(r.op, r.op), r.version),) for r in implied_breaks(resolved)}
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
    releases = {pkg.release, pkg.release + profile.dist_tag} if info.format is Family.RPM else {pkg.release}
    check("release", info.release in releases, pkg.release, info.release)
    check("epoch", (info.epoch or 0) == (pkg.epoch or 0), pkg.epoch, info.epoch)
    if pkg.arch == "noarch":
        want_arch = "noarch" if info.format is Family.RPM else "all"
        check("arch", info.arch == want_arch, want_arch, info.arch)
    return out


# ---------------------------------------------------------------- entry points


def verify_root(resolved: Resolved, root: Path | str) -> VerifyReport:
    """Hold an installed root directory against the entries."""
    from ..install.apply import read_manifest

    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"{root}: not a directory")
    notes: list[str] = []
    recorded: dict[str, tuple[str, str]] | None = None
    manifest = read_manifest(root, resolved.package.name)
    if manifest is not None:
        pkg = resolved.package
        if (manifest.get("version"), manifest.get("release")) != (pkg.version, pkg.release):
            notes.append(
                f"the install manifest records {manifest.get('version')}-{manifest.get('release')},"
                f" the map is {pkg.version}-{pkg.release}"
            )
        if manifest.get("owners_applied") is False:
            recorded = {
                e["path"]: (e["owner"], e["group"])
                for e in manifest.get("entries", [])
                if isinstance(e, dict) and {"path", "owner", "group"} <= e.keys()
            }
            notes.append("installed without root: owners checked against the install manifest, not the files")
    from ..rootfs.accounts import load_accounts
    from ..rootfs.walk import read_root

    seen = read_root(resolved, root, load_accounts(root))
    report = compare(
        resolved,
        seen.values(),
        subject=str(root),
        recorded_owners=recorded,
        notes=notes,
        content_diffs=_content_diffs(resolved, seen, root),
    )
    from ..install.journal import journal_name, pending

    if resolved.package.name not in pending(root):
        return report
    # The files may be a mix of two versions until the journal is replayed: say so first.
    killed = Mismatch(
        "/" + journal_name(resolved.package.name),
        ("interrupted",),
        actual={"interrupted": f"an install of {resolved.package.name} into this root was interrupted"},
    )
    return replace(report, mismatches=(killed, *report.mismatches))


def _content_diffs(resolved: Resolved, seen: Mapping[str, Observed], root: Path) -> dict[str, tuple[str, str]]:
    """path -> (expected, actual) digest of every installed file whose bytes differ from its final source."""
    from ..rootfs.walk import SourceError, compare_contents

    files = [e for e in resolved.entries if e.kind is EntryKind.FILE and _is_file(seen.get(e.path))]
    if not files:
        return {}
    from ..sources.staging import staged_sources  # late import keeps verify light

    top = str(root).rstrip("/")
    diffs: dict[str, tuple[str, str]] = {}
    with staged_sources(resolved) as staged:
        base = os.fspath(staged).rstrip("/") + "/"  # sources are relative: resolve refuses others
        todo = [(top + e.path, base + (e.source or ""), seen[e.path].size) for e in files]
        for e, (inst, src, _), same in zip(files, todo, compare_contents(todo), strict=True):
            if same is True:
                continue
            if isinstance(same, SourceError):
                raise _source_error(e, same.error)
            if isinstance(same, OSError):
                raise _root_error(e, root, same)
            # Digests only to say how they differ; the bytes were compared already.
            try:
                want = file_digest(src, ROOT_DIGEST)
            except OSError as exc:
                raise _source_error(e, exc) from None
            try:
                have = file_digest(inst, ROOT_DIGEST)
            except OSError as exc:
                raise _root_error(e, root, exc) from None
            if want != have:  # else a read came up short: not a difference
                diffs[e.path] = (want, have)
    return diffs


def _source_error(entry: Entry, exc: OSError) -> PkgtoolError:
    return PkgtoolError(f"{entry.path}: cannot read its source {entry.source}: {exc.strerror}")


def _root_error(entry: Entry, root: Path, exc: OSError) -> PkgtoolError:
    return PkgtoolError(f"{entry.path}: cannot read it under {root}: {exc.strerror}")


def _is_file(obs: Observed | None) -> bool:
    return obs is not None and obs.kind is EntryKind.FILE


def read_artifact(path: Path | str) -> ArtifactInfo:
    """The artifact behind ``path`` (binary packages only): see pkgtool.readers.read_artifact."""
    from ..formats.read import read_artifact as read_any

    return read_any(path, binary_only=True)


def verify_artifact(resolved: Resolved, path: Path | str) -> VerifyReport:
    """Hold a built .rpm or .deb against the entries, its relations and its metadata."""
    info = read_artifact(path)
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
