"""oVirt Node releases (distros/node/ovirt-node.toml): the Node versions a bundle fits, the profile
its RPMs are built with, and the paths a stateless Node keeps across a reboot."""

from __future__ import annotations

import dataclasses
import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..data import data_dir
from ..errors import ProfileError, UsageError
from ..model import Profile
from ..profiles import load_profile

_PROFILE_KEYS = ("dist_tag", "compression", "compression_level")  # what a release replaces in its profile
_KEYS = frozenset(("id", "node_versions", "profile", "persisted", "root_size_mib", *_PROFILE_KEYS))


@dataclass(frozen=True)
class NodeRelease:
    id: str
    node_versions: tuple[str, ...]  # globs of Node image versions
    profile: str
    overrides: dict
    persisted: tuple[str, ...]
    root_size_mib: int

    def fits(self, node_version: str) -> bool:
        return any(fnmatch.fnmatchcase(node_version, g) for g in self.node_versions)

    def is_persisted(self, path: str) -> bool:
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.persisted)

    def build_profile(self, project_dir: Path) -> Profile:
        base = load_profile(self.profile, project_dir)
        return dataclasses.replace(base, id=self.id, **self.overrides)


def _file() -> Path:
    return data_dir("distros") / "node" / "ovirt-node.toml"


def _release(raw: object, where: str) -> NodeRelease:
    if not isinstance(raw, dict) or set(raw) - _KEYS:
        unknown = sorted(set(raw) - _KEYS) if isinstance(raw, dict) else []
        raise ProfileError(f"{where}: not a release table (unknown keys: {', '.join(unknown) or '-'})")
    try:
        return NodeRelease(
            id=str(raw["id"]),
            node_versions=tuple(str(v) for v in raw["node_versions"]),
            profile=str(raw["profile"]),
            overrides={k: raw[k] for k in _PROFILE_KEYS if k in raw},
            persisted=tuple(str(p) for p in raw.get("persisted", ())),
            root_size_mib=int(raw.get("root_size_mib", 2048)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProfileError(f"{where}: missing or malformed key {exc}") from None


def node_releases() -> tuple[NodeRelease, ...]:
    path = _file()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read: {exc}") from None
    return tuple(_release(r, f"{path}: release[{i}]") for i, r in enumerate(raw.get("release", [])))


def all_node_versions() -> tuple[str, ...]:
    return tuple(v for r in node_releases() for v in r.node_versions)


def release_for(node_version: str) -> NodeRelease:
    """The Node release whose image versions match ``node_version``."""
    for release in node_releases():
        if release.fits(node_version):
            return release
    raise UsageError(
        f"--node-version {node_version}: no oVirt Node release matches",
        hint="known Node versions: " + ", ".join(all_node_versions()),
    )
