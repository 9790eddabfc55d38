"""What verify reports: one Mismatch per path (or relation, or metadata field), in rpm -V's columns, and the report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..printable import escape

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
        lines = [f"{self.flags:<9}  {escape(self.path)}"]
        lines += [f"    {escape(d)}" for d in self.details()]
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
        lines += [f"note: {escape(n)}" for n in self.notes]
        verdict = "ok" if self.ok else f"{len(self.mismatches)} mismatching"
        lines.append(f"{escape(self.subject)}: {self.checked} paths checked, {verdict}")
        return "\n".join(lines)
