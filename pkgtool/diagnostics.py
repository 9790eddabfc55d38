"""One diagnostic shape for lint, load, resolve and verify: data until the last moment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum

from .frozen import frozen_dataclass
from .model import Location


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@frozen_dataclass
class Diagnostic:
    """One finding: rule id, severity, message, where (file, key, line), a hint, the deployed path."""

    rule: str  # stable kebab-case id
    severity: Severity
    message: str
    location: Location | None = None
    hint: str = ""
    path: str = ""  # the deployed path it is about, when there is one

    def to_dict(self) -> dict:
        loc = self.location
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "file": loc.file if loc else None,
            "key": loc.key if loc else None,
            "line": loc.line if loc else None,
            "path": self.path or None,
            "hint": self.hint or None,
        }

    def to_text(self) -> str:
        where = f"{self.location}: " if self.location else ""
        out = f"{where}{self.severity.value}: {self.message} [{self.rule}]"
        if self.hint:
            out += f"\n    hint: {self.hint}"
        return out


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The known word a misspelt ``word`` most likely meant, for a 'did you mean' hint; None when none is close."""
    import difflib  # deferred: only a misspelling needs it, and every command loads a map

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def sort_key(d: Diagnostic) -> tuple:
    loc = d.location
    return (
        loc.file if loc else "",
        loc.line if loc and loc.line is not None else 0,
        loc.key if loc else "",
        d.path,
        d.rule,
    )


def render_text(diags: Iterable[Diagnostic]) -> str:
    return "\n".join(d.to_text() for d in sorted(diags, key=sort_key))


SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def to_sarif(diags: Iterable[Diagnostic], tool_version: str, rules: Sequence[Mapping] = ()) -> dict:
    """SARIF 2.1.0; ``rules`` is the catalogue (lint's registry) that results point into by ruleIndex."""
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for d in sorted(diags, key=sort_key):
        # The hint rides in the message: SARIF's `fixes` needs byte edits, which a hint is not.
        text = f"{d.message}\nHint: {d.hint}" if d.hint else d.message
        r: dict = {"ruleId": d.rule, "level": SARIF_LEVEL[d.severity], "message": {"text": text}}
        if d.rule in index:
            r["ruleIndex"] = index[d.rule]
        if d.location:
            region = {"startLine": d.location.line} if d.location.line else {}
            r["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": d.location.file},
                        **({"region": region} if region else {}),
                    }
                }
            ]
        results.append(r)
    driver: dict = {"name": "pkgtool", "version": tool_version}
    if rules:
        driver["informationUri"] = "docs/lint-rules.md"
        driver["rules"] = [dict(r) for r in rules]
    return {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
