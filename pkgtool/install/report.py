"""What an install did (or, with --dry-run, would do): one action per path, and the report of them."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import EntryKind
from .recovery import Recovery


@dataclass(frozen=True)
class InstallAction:
    path: str
    kind: EntryKind
    # 'create' | 'replace' | 'update' (mode/owner only) | 'unchanged' | 'exists' (system dir);
    # 'remove' | 'keep' (an earlier install's path the map no longer has; 'keep': a modified config)
    action: str
    mode: int
    owner: str
    group: str
    owned: bool = True
    target: str | None = None
    digest: str = ""  # sha256 of the installed content, files only

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "kind": self.kind.value,
            "action": self.action,
            "mode": f"{self.mode:04o}",
            "owner": self.owner,
            "group": self.group,
            "owned": self.owned,
            "target": self.target,
            "sha256": self.digest or None,
        }


@dataclass(frozen=True)
class InstallReport:
    root: str
    package: str
    version: str  # VERSION-RELEASE
    dry_run: bool
    owners_applied: bool
    manifest: str  # path of the manifest inside the root
    actions: tuple[InstallAction, ...]
    recovered: tuple[Recovery, ...] = ()  # interrupted earlier installs rolled back first

    def count(self, action: str) -> int:
        return sum(1 for a in self.actions if a.action == action)

    @property
    def changed(self) -> int:
        return sum(1 for a in self.actions if a.action in ("create", "replace", "update"))

    def to_dict(self) -> dict:
        return {
            "root": self.root,
            "package": self.package,
            "version": self.version,
            "dry_run": self.dry_run,
            "owners_applied": self.owners_applied,
            "manifest": self.manifest,
            "recovered": [r.to_dict() for r in self.recovered],
            "summary": {
                k: self.count(k) for k in ("create", "replace", "update", "unchanged", "exists", "remove", "keep")
            },
            "actions": [a.to_dict() for a in self.actions],
        }

    def to_text(self) -> str:
        verb = "would install" if self.dry_run else "installed"
        lines = [r.to_text() for r in self.recovered]
        lines.append(f"{verb} {self.package} {self.version} into {self.root}")
        for a in self.actions:
            if a.action == "exists":
                continue
            word = a.action
            owner = f"{a.owner}:{a.group}"
            tail = f" -> {a.target}" if a.target else ""
            lines.append(f"  {word:<10} {a.kind.value:<7} {a.mode:04o} {owner:<20} {a.path}{tail}")
        if self.owners_applied:
            lines.append(f"owners applied; manifest {self.manifest}")
        else:
            lines.append(f"owners NOT applied (not running as root); intended owners recorded in {self.manifest}")
        kinds = ["create", "replace", "update", "unchanged"] + [k for k in ("remove", "keep") if self.count(k)]
        summary = ", ".join(f"{self.count(k)} {k}" for k in kinds)
        lines.append(summary)
        return "\n".join(lines)
