"""The entry comparison: every resolved entry against what a root or a package holds, like ``rpm -V``.

``compare`` is one function over Observed paths, so a root and every package
format are checked by the same rules; what differs is only what each side can
carry (a root has no config flag, a package need not carry the system
directories it lands in), and a package's format says that (formats/base.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import string
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from ..errors import PkgtoolError
from ..formats import PackageFormat, format_for
from ..model import Entry, EntryKind, Family, Observed, Resolved
from ..rootfs.paths import file_digest, link_destination
from .report import Mismatch, VerifyReport

ROOT_DIGEST = "sha256"  # what a content difference in a root is reported with


# ---------------------------------------------------------------- expected digests


DigestSource = Callable[[Entry, str], str]


class _StagedDigests:
    """Digests of the entries' final content (patches applied), staged only when first needed."""

    def __init__(self, resolved: Resolved, mangle: bool = False):
        self.resolved = resolved
        self.mangle = mangle  # an .rpm of a profile whose distro rewrites #!/usr/bin/env (formats/rpm/shebangs.py)
        self.stack = contextlib.ExitStack()
        self.dir: Path | None = None
        self.cache: dict[tuple[str, str], str] = {}

    def __call__(self, entry: Entry, algo: str) -> str:
        key = (entry.source or "", algo)
        if key not in self.cache:
            if self.dir is None:
                from ..sources.staging import staged_sources  # deferred: only a content comparison needs it

                self.dir = Path(self.stack.enter_context(staged_sources(self.resolved)))
            try:
                path = self.dir / (entry.source or "")
                rewritten = _mangled_digest(path, algo) if self.mangle and entry.mode & 0o111 else None
                self.cache[key] = rewritten or file_digest(path, algo)
            except OSError as exc:
                raise PkgtoolError(f"{entry.path}: cannot read its source {entry.source}: {exc.strerror}") from None
        return self.cache[key]

    def close(self) -> None:
        self.stack.close()


def _mangled_digest(path: Path, algo: str) -> str | None:
    """The digest of the file with its #!/usr/bin/env line rewritten, or None when it has none."""
    import hashlib

    from ..formats.rpm.shebangs import mangled  # the rewrite's one definition (rewrites_shebangs says when)

    with open(path, "rb") as fh:
        first = mangled(fh.readline(4096))
        if first is None:
            return None
        h = hashlib.new(algo)
        h.update(first)
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------- compare


def _fmt_mode(mode: int) -> str:
    return f"{mode:04o}"


def _norm_path(path: str) -> str:
    if path[:1] == "/" and path[-1:] != "/":
        return path  # already normal: every path of a root, most of an artifact's
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
    elsewhere: frozenset[str] = frozenset(),
) -> VerifyReport:
    """Check every entry against what was observed.

    ``artifact_format`` None means a root: system directories must exist, there
    is no config flag, and every observed non-entry is an extra (the root
    reader only looks inside owned directories).  With a format, its config
    marking and script-set owners are checked its way (PackageFormat), system
    directories are optional, and the parents of entries and the profile's
    ``format_files`` are not extras.
    ``recorded_owners`` (path -> (owner, group)) replaces the on-disk owners,
    for a root installed without root privileges.
    ``content_diffs`` (path -> (expected, actual) sha256), when given, replaces
    the digest comparison: the content was already compared (a root).
    ``elsewhere`` are paths of the map's other packages: in a root, never extras of this one.
    """
    seen = {_norm_path(o.path): o for o in observed}
    scripts = scripts or {}
    own_digests = digest_source is None
    fmt = format_for(artifact_format) if artifact_format is not None else None
    mangle = fmt is not None and fmt.rewrites_shebangs(resolved)
    digests: DigestSource = digest_source or _StagedDigests(resolved, mangle)
    mismatches: list[Mismatch] = []
    checked = 0
    try:
        for entry in resolved.entries:
            obs = seen.get(entry.path)
            if entry.kind is EntryKind.DIR and not entry.owned:
                if fmt is not None and obs is None:
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
            m = _check_one(resolved, entry, obs, digests, fmt, scripts, recorded_owners, content_diffs)
            if m is not None:
                mismatches.append(m)
        for ghost in resolved.ghosts:
            # Owned, never shipped: absent is right (rpm creates none; a .deb carries none), and a
            # present one is held to its type, mode and owner only; its content is the system's.
            obs = seen.get(ghost.path)
            if obs is None:
                continue
            checked += 1
            if obs.kind is not ghost.kind:
                mismatches.append(_type_mismatch(ghost, obs))
                continue
            as_kept = dataclasses.replace(ghost, no_verify=(*ghost.no_verify, "md5"))
            m = _check_one(resolved, as_kept, obs, digests, fmt, scripts, recorded_owners, None)
            if m is not None:
                mismatches.append(m)
    finally:
        if own_digests:
            digests.close()  # type: ignore[attr-defined]
    if check_extras:
        mismatches += _extras(resolved, seen, fmt, elsewhere)
    mismatches.sort(key=lambda m: m.path)
    return VerifyReport(subject=subject, checked=checked, mismatches=tuple(mismatches), notes=tuple(notes))


def _type_mismatch(entry: Entry, obs: Observed) -> Mismatch:
    actual = obs.kind.value if obs.kind else "special file"
    return Mismatch(entry.path, ("type",), {"type": entry.kind.value}, {"type": actual}, entry.origin)


# The rpm %verify attributes pkgtool verify checks, and the problem each one names (mtime, rdev:
# never checked; size: part of the digest, so `not md5` is what waives the content).
_NOTHING: frozenset[str] = frozenset()  # most entries waive nothing: no set built for them
_WAIVED_BY = {"md5": "digest", "link": "target", "user": "owner", "group": "group", "mode": "mode"}


def _check_one(
    resolved: Resolved,
    entry: Entry,
    obs: Observed,
    digests: DigestSource,
    fmt: PackageFormat | None,
    scripts: Mapping[str, str],
    recorded_owners: Mapping[str, tuple[str, str]] | None,
    content_diffs: Mapping[str, tuple[str, str]] | None = None,
) -> Mismatch | None:
    problems: list[str] = []
    exp: dict[str, object] = {}
    act: dict[str, object] = {}

    # A [[file]] verify = ["not X"] waives check X, as rpm -V does: rpm attribute -> our problem name.
    waived = {_WAIVED_BY[a] for a in entry.no_verify if a in _WAIVED_BY} if entry.no_verify else _NOTHING

    def bad(problem: str, expected: object, actual: object) -> None:
        if problem in waived:
            return
        problems.append(problem)
        exp[problem], act[problem] = expected, actual

    if entry.kind is not EntryKind.SYMLINK and obs.mode & 0o7777 != entry.mode & 0o7777:
        bad("mode", _fmt_mode(entry.mode), _fmt_mode(obs.mode))
    owner, group = obs.owner, obs.group
    if recorded_owners is not None and entry.path in recorded_owners:
        owner, group = recorded_owners[entry.path]
    by_script = fmt is not None and fmt.owner_set_by_script(entry.path, scripts)
    if owner != entry.owner and not (by_script and owner == "root"):
        bad("owner", entry.owner, owner)
    if group != entry.group and not (by_script and group == "root"):
        bad("group", entry.group, group)
    if entry.kind is EntryKind.FILE and content_diffs is not None:
        if diff := content_diffs.get(entry.path):
            bad("digest", f"{ROOT_DIGEST} {diff[0]}", f"{ROOT_DIGEST} {diff[1]}")
    elif entry.kind is EntryKind.FILE and obs.digest and "md5" not in entry.no_verify:
        algo = obs.digest_algo or "sha256"
        want = digests(entry, algo)
        if want.lower() != obs.digest.lower():
            bad("digest", f"{algo} {want}", f"{algo} {obs.digest}")
    if entry.kind is EntryKind.SYMLINK:
        want_to = link_destination(entry.path, entry.target or "")
        have_to = link_destination(entry.path, obs.target or "")
        if want_to != have_to:
            bad("target", want_to, f"{have_to} ({obs.target})" if obs.target != have_to else have_to)
    # A root has no config marking; each format marks config files its own way.
    config = fmt.config_difference(resolved, entry, obs) if fmt is not None and entry.kind is EntryKind.FILE else None
    if config:
        bad("config", *config)
    if not problems:
        return None
    return Mismatch(entry.path, tuple(problems), exp, act, entry.origin)


def _is_bytecode_of(path: str, entries: Mapping[str, Entry]) -> bool:
    """``D/__pycache__`` or ``D/__pycache__/M.<tag>.pyc`` beside a module ``D/M.py`` of the map: byte-code
    the rpm carries or py3compile / Python made on the host, never an extra of the package."""
    head, _, name = path.rpartition("/")
    if name == "__pycache__":
        return any(p.startswith(head + "/") and p.endswith(".py") and p.count("/") == path.count("/") for p in entries)
    cache, _, _ = head.rpartition("/")
    if not head.endswith("/__pycache__") or not name.endswith(".pyc"):
        return False
    return f"{cache}/{name.split('.', 1)[0]}.py" in entries


def _extras(
    resolved: Resolved, seen: Mapping[str, Observed], fmt: PackageFormat | None, elsewhere: frozenset[str]
) -> list[Mismatch]:
    entries = resolved.by_path()
    allowed_dirs: set[str] = {"/"}
    fmt_files: tuple[str, ...] = ()
    if fmt is not None:
        fmt_files = format_files(resolved)
        for p in (*entries, *fmt_files):
            allowed_dirs.update(_ancestors(p))
    out = []
    ghosts = {g.path for g in resolved.ghosts}
    for path, obs in seen.items():
        if path in entries or path in elsewhere or path in ghosts or _is_bytecode_of(path, entries):
            continue
        if obs.kind is EntryKind.DIR and path in allowed_dirs:
            continue  # a parent directory the format carries
        if any(fnmatch.fnmatchcase(path, pat) for pat in fmt_files):
            continue
        kind = obs.kind.value if obs.kind else "special file"
        out.append(Mismatch(path, ("extra",), {}, {"extra": kind}))
    return out
