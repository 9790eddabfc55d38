"""What a lint rule is (metadata), and what a check yields (a Finding).

Import-light on purpose: the loader imports the registry, which imports this,
to validate ``allow`` lists.  Nothing here may import load, resolve or jinja.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..diagnostics import Severity
from ..model import Entry, Location

if TYPE_CHECKING:  # the context is only a type here; importing it would pull the engine in
    from .context import LintContext

_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

# Families whose ids come from other stages: registered so that `explain` and
# `allow` know them, but lint never runs them and waivers never hide them.
STAGE_FAMILIES = frozenset({"loader", "resolve"})

ALL_KINDS = "all"


@dataclass(frozen=True)
class Rule:
    id: str  # stable kebab-case id
    severity: Severity  # default severity
    family: str  # 'loader', 'resolve', 'paths', 'modes', ..., or a plugin kind's module name
    summary: str  # one line
    explanation: str  # what it means, why it matters, how to fix it
    applies_to: str | tuple[str, ...] = ALL_KINDS  # plugin kinds, or "all"

    def __post_init__(self) -> None:
        # A malformed rule is a bug of pkgtool, caught by any test that imports the registry.
        if not _ID.match(self.id):
            raise ValueError(f"rule id {self.id!r} is not kebab-case")
        if not self.summary or "\n" in self.summary:
            raise ValueError(f"rule {self.id}: summary must be one non-empty line")
        if not self.explanation.strip():
            raise ValueError(f"rule {self.id}: explanation is empty")

    def applies(self, kind: str) -> bool:
        return self.applies_to == ALL_KINDS or kind in self.applies_to

    @property
    def kinds_text(self) -> str:
        return "all" if self.applies_to == ALL_KINDS else ", ".join(self.applies_to)


@dataclass(frozen=True)
class Finding:
    """What a check reports; the engine turns it into a Diagnostic (severity, location, waivers)."""

    rule: str
    message: str
    entry: Entry | None = None  # the deployed entry it is about: gives path, waivers and map location
    key: str = ""  # key under the entry's map item that is at fault: 'mode', 'config', 'dst', ...
    hint: str = ""
    path: str = ""  # deployed path when there is no entry
    location: Location | None = None  # explicit location for findings about the map itself
    allow: frozenset[str] = frozenset()  # waivers of the map item, for findings without an entry


CheckFn = Callable[["LintContext"], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    """A check function and the rule ids it may emit (the engine refuses any other id)."""

    rules: tuple[str, ...]
    fn: CheckFn


def check(*rule_ids: str) -> Callable[[CheckFn], Check]:
    def wrap(fn: CheckFn) -> Check:
        return Check(tuple(rule_ids), fn)

    return wrap


def not_executable(ctx: LintContext, e: Entry, rule_id: str, host: str, src_key: str = "") -> Finding | None:
    """The finding for a hook the host cannot execute (no execute bit, or neither '#!' nor ELF), or None."""
    if not e.mode & 0o111:
        return Finding(
            rule_id,
            f"hook {e.path} has mode {e.mode:04o}: {host} skips files without the execute bit",
            entry=e,
            key="mode",
            hint='give it mode = "0755"',
        )
    if not ctx.runnable(e):
        return Finding(
            rule_id,
            f"hook {e.path} has no '#!' line and is not a binary, so it cannot be executed",
            entry=e,
            key=src_key,
            hint="start it with a shebang line such as #!/bin/sh",
        )
    return None
