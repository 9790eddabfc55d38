"""Lint: every rule over a resolved package, with stable ids, explanations and waivers.

``registry`` is import-light (the loader uses it); the engine imports load,
resolve and profiles only when ``lint_project`` runs.
"""

from __future__ import annotations

from pathlib import Path

from ..model import Resolved
from .engine import LintReport, lint_project, lint_resolved, merge
from .registry import RULES, explain, known_rule_ids, render_markdown
from .rule import Finding, Rule


def lint(target: Resolved | str | Path, distro_ids: list[str] | None = None) -> LintReport:
    """Lint a Resolved, or a project directory for the given distros (all when None)."""
    if isinstance(target, Resolved):
        return lint_resolved(target)
    return lint_project(target, distro_ids or [])


__all__ = [
    "RULES",
    "Finding",
    "LintReport",
    "Rule",
    "explain",
    "known_rule_ids",
    "lint",
    "lint_project",
    "lint_resolved",
    "merge",
    "render_markdown",
]
