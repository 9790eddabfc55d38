"""Run the rules: over one Resolved (lint_resolved), or over a project for several distros (lint_project)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..diagnostics import Diagnostic, Severity, sort_key, to_sarif
from ..errors import LayoutError, PkgtoolError
from ..model import Layout, Resolved
from .context import LintContext
from .registry import CHECKS, RULES, policy_for, sarif_rules
from .rule import STAGE_FAMILIES, Finding


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Diagnostic, ...]  # sorted, deduplicated across distros
    waived: tuple[Diagnostic, ...] = ()  # findings an `allow` list suppressed
    distros: tuple[str, ...] = ()  # the distros linted
    # finding -> the distros it was found for (every distro when not listed)
    found_for: Mapping[Diagnostic, tuple[str, ...]] = field(default_factory=dict)

    @property
    def suppressed(self) -> int:
        return len(self.waived)

    @property
    def ok(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.findings)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for d in self.findings:
            out[d.severity.value] += 1
        return out

    def distros_of(self, d: Diagnostic) -> tuple[str, ...]:
        return self.found_for.get(d, self.distros)

    def to_dict(self) -> dict:
        findings = []
        for d in self.findings:
            item = d.to_dict()
            item["distros"] = list(self.distros_of(d))
            findings.append(item)
        return {
            "ok": self.ok,
            "distros": list(self.distros),
            "counts": self.counts(),
            "suppressed": self.suppressed,
            "findings": findings,
        }

    def to_text(self) -> str:
        lines = []
        for d in self.findings:
            text = d.to_text()
            only = self.distros_of(d)
            if self.distros and set(only) != set(self.distros):
                first, nl, rest = text.partition("\n")
                text = f"{first} (only for {', '.join(only)}){nl}{rest}"
            lines.append(text)
        c = self.counts()
        summary = f"{c['error']} error(s), {c['warning']} warning(s), {c['info']} note(s)"
        if self.suppressed:
            summary += f", {self.suppressed} waived by allow"
        if self.distros:
            summary += f" [{', '.join(self.distros)}]"
        lines.append(summary)
        return "\n".join(lines)

    def to_sarif(self) -> dict:
        return to_sarif(self.findings, __version__, sarif_rules())


# ---------------------------------------------------------------- one Resolved


@contextlib.contextmanager
def _content_root(resolved: Resolved, problems: list[Diagnostic]) -> Iterator[Path]:
    """The patched sources, staged; the layout root when staging fails with diagnostics (added to problems)."""
    from ..sources.staging import staged_sources

    try:
        cm = staged_sources(resolved)
        root = cm.__enter__()
    except PkgtoolError as exc:
        if not exc.diagnostics:
            raise
        problems.extend(exc.diagnostics)
        yield resolved.root
        return
    try:
        yield root
    finally:
        cm.__exit__(None, None, None)


def _run_checks(ctx: LintContext) -> Iterator[Finding]:
    kind = ctx.kind
    for chk in CHECKS:
        if not any(RULES[r].applies(kind) for r in chk.rules):
            continue
        for finding in chk.fn(ctx):
            if finding.rule not in chk.rules:  # a bug of pkgtool, not of the map
                raise AssertionError(f"{chk.fn.__name__} emitted undeclared rule {finding.rule}")
            if RULES[finding.rule].applies(kind):
                yield finding


def _to_diagnostic(ctx: LintContext, f: Finding) -> Diagnostic:
    location = f.location or ctx.location(f.entry, f.key)
    return Diagnostic(
        rule=f.rule,
        severity=RULES[f.rule].severity,
        message=f.message,
        location=location,
        hint=f.hint,
        path=f.path or (f.entry.path if f.entry else ""),
    )


def _waived(ctx: LintContext, f: Finding) -> bool:
    if f.rule in ctx.layout.lint_allow or f.rule in f.allow:
        return True
    return f.entry is not None and f.rule in f.entry.allow


def lint_resolved(
    resolved: Resolved,
    diagnostics_from_resolve: Iterable[Diagnostic] = (),
    shared_heads: dict[str, dict[str, bytes]] | None = None,
) -> LintReport:
    """Lint one resolved package; resolve's own diagnostics are passed through as findings.

    ``shared_heads`` (source root -> source -> head) keeps the file heads read for one distro for the next:
    unpatched sources are the same files for every distro (a staged, patched tree is never shared).
    """
    findings: list[Diagnostic] = list(diagnostics_from_resolve)
    waived: list[Diagnostic] = []
    with _content_root(resolved, findings) as content_root:
        n_resolve = len(findings)
        unstaged = shared_heads is not None and content_root == resolved.root
        heads = shared_heads.setdefault(str(content_root), {}) if unstaged else {}
        for package in resolved.packages:  # each binary package by the rules of its own kind
            others = tuple(p for p in resolved.packages if p is not package)
            # One tree for the main package and its sub-packages: their contexts share the heads read.
            ctx = LintContext(package, content_root, policy_for(package.package.kind), others, _heads=heads)
            for f in _run_checks(ctx):
                (waived if _waived(ctx, f) else findings).append(_to_diagnostic(ctx, f))
    # A rule both resolve and a check enforce (owns-system-dir) is reported once, by the check, whose line is exact.
    checked = {(d.rule, d.path) for d in findings[n_resolve:] if d.path}
    findings = [d for d in findings[:n_resolve] if (d.rule, d.path) not in checked] + findings[n_resolve:]
    distros = (resolved.profile.id,)
    return LintReport(_unique(findings), _unique(waived), distros)


def _unique(diags: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
    return tuple(sorted(dict.fromkeys(diags), key=sort_key))


# ---------------------------------------------------------------- a project


def merge(reports: Sequence[LintReport]) -> LintReport:
    """One report for several distros: identical findings once, with the distros they came from."""
    found: dict[Diagnostic, list[str]] = {}
    waived: dict[Diagnostic, None] = {}
    distros: list[str] = []
    for rep in reports:
        distros.extend(d for d in rep.distros if d not in distros)
        for d in rep.findings:
            found.setdefault(d, [])
            found[d].extend(x for x in rep.distros_of(d) if x not in found[d])
        waived.update(dict.fromkeys(rep.waived))
    return LintReport(
        findings=tuple(sorted(found, key=sort_key)),
        waived=tuple(sorted(waived, key=sort_key)),
        distros=tuple(distros),
        found_for={d: tuple(v) for d, v in found.items()},
    )


@dataclass(frozen=True)
class ProjectLint:
    """A project's lint report and what it resolved on the way, for a build to reuse (one resolve per distro)."""

    report: LintReport
    # distro -> the Resolved the rules ran over, for each distro that resolve found no error in: exactly
    # what ``resolve`` returns for the same map, profile and epoch (a distro with an error is left out,
    # so the build resolves it again and reports the error itself).
    resolved: Mapping[str, Resolved] = field(default_factory=dict)


def lint_project(project_dir: str | Path, distro_ids: Sequence[str] = ()) -> LintReport:
    """Load the map, resolve it for each distro (all profiles when none is given), lint each, merge.

    A map that does not load is reported (its diagnostics are the findings) and
    nothing else is checked.  Unknown distro ids raise ProfileError.
    """
    return lint_and_resolve(project_dir, distro_ids).report


def lint_and_resolve(
    project_dir: str | Path,
    distro_ids: Sequence[str] = (),
    source_date_epoch: int | None = None,
    layout: Layout | None = None,
    keep: bool = True,
) -> ProjectLint:
    """lint_project, keeping each distro's Resolved (resolved with ``source_date_epoch``, as a build does).

    ``layout`` is the map already loaded from ``project_dir`` (a caller that loaded it need not load it again);
    the findings are the same whatever the epoch: no rule reads it.  ``keep=False`` keeps no Resolved (each
    is freed once linted), for a caller that will not use them.
    """
    from ..layout.load import load_layout
    from ..profiles import list_profiles, load_profile
    from ..resolve import resolve_collect

    project_dir = Path(project_dir)
    ids = list(distro_ids) or [p.id for p in list_profiles(project_dir)]
    if layout is None:
        try:
            layout = load_layout(project_dir)
        except LayoutError as exc:
            if not exc.diagnostics:
                raise
            return ProjectLint(LintReport(findings=_unique(exc.diagnostics), distros=tuple(ids)))
    unknown = unknown_allow_ids(Path(layout.source_file))
    if unknown:  # as a loader error: the map is reported, nothing else is checked
        return ProjectLint(LintReport(findings=_unique(unknown), distros=tuple(ids)))
    reports = []
    resolved_by_distro: dict[str, Resolved] = {}
    heads: dict[str, dict[str, bytes]] = {}  # each source file's head read once for all distros
    for distro in ids:
        profile = load_profile(distro, project_dir)
        resolved, diags = resolve_collect(layout, profile, source_date_epoch)
        reports.append(lint_resolved(resolved, diags, heads))
        if keep and not any(d.severity is Severity.ERROR for d in diags):  # what `resolve` would have returned
            resolved_by_distro[distro] = resolved
    return ProjectLint(merge(reports), resolved_by_distro)


_ALLOW_TABLES = ("tree", "file", "dir", "symlink", "attr")


def unknown_allow_ids(source: Path) -> list[Diagnostic]:
    """`unknown-rule` for each `allow` entry that names no rule, at its key path and line.

    The loader checks only the shape of an id (it does not import lint); the map
    has loaded, so every `allow` here is a list of strings.
    """
    import tomllib

    from ..layout.grammar import _did_you_mean
    from ..layout.load import display_path
    from ..layout.tomlpos import format_path, scan
    from ..model import Location

    text = source.read_text(encoding="utf-8")
    doc = tomllib.loads(text)
    known = sorted(RULES)
    found: list[tuple[tuple, str]] = []

    def walk(table: Mapping, base: tuple) -> None:
        lint = table.get("lint")
        if isinstance(lint, dict):
            found.extend(((*base, "lint", "allow", i), v) for i, v in enumerate(lint.get("allow", [])))
        for name in _ALLOW_TABLES:
            for j, item in enumerate(table.get(name, []) if isinstance(table.get(name), list) else []):
                if isinstance(item, dict):
                    found.extend(((*base, name, j, "allow", i), v) for i, v in enumerate(item.get("allow", [])))

    walk(doc, ())
    for distro_id, table in (doc.get("distro") or {}).items():
        if isinstance(table, dict):
            walk(table, ("distro", distro_id))
    bad = [(path, value) for path, value in found if value not in RULES]
    if not bad:
        return []
    positions, display = scan(text), display_path(source)
    out = []
    for path, value in bad:
        hint = _did_you_mean(value, known) or "`pkgtool explain` lists the rule ids"
        location = Location(display, format_path(path), positions.line(path))
        out.append(Diagnostic("unknown-rule", Severity.ERROR, f"unknown rule id {value!r}", location, hint))
    return out


def stage_rule_ids() -> frozenset[str]:
    return frozenset(r.id for r in RULES.values() if r.family in STAGE_FAMILIES)
