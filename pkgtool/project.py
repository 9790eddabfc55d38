"""The orchestration a command needs: load the map, pick the profile, resolve.

``resolve`` itself is pure; this is where files are read for it.  The host and artifact distro
detection live here too, so the CLI and the parallel runner ask one place which profile applies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from .errors import UsageError
from .model import Resolved


def project_of(path: Path) -> Path:
    """The project directory of a path given on the command line: a directory, or its pkgtool.toml itself."""
    from .layout.reading import MAP_NAME

    return path.parent if path.name == MAP_NAME and not path.is_dir() else path


def resolve_dir(project_dir: Path | str, distro: str, source_date_epoch: int | None = None) -> Resolved:
    """load_layout + load_profile (project distros/ included) + resolve."""
    from .layout.load import load_layout
    from .profiles import load_profile
    from .resolve import resolve

    layout = load_layout(project_dir)
    profile = load_profile(distro, project_dir)
    return resolve(layout, profile, source_date_epoch)


# Tests and containers point this at another os-release file.
OS_RELEASE_ENV = "PKGTOOL_OS_RELEASE"


@dataclass(frozen=True)
class HostMatch:
    """The profile chosen for this machine, and the os-release fields that chose it."""

    profile: str
    source: str
    fields: dict[str, str] = field(default_factory=dict)
    via: str = "ID"

    def note(self) -> str:
        shown = " ".join(f"{k}={self.fields[k]}" for k in ("ID", "ID_LIKE", "VERSION_ID") if self.fields.get(k))
        return f"using profile {self.profile} for this machine ({self.source}: {shown or 'empty'}); --distro chooses another"

    def to_dict(self) -> dict:
        return {"profile": self.profile, "os_release": self.source, "matched_by": self.via, "fields": self.fields}


def read_os_release(path: Path) -> dict[str, str]:
    """KEY=value lines (os-release(5)); a missing or unreadable file is empty."""
    fields: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return fields
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.lstrip().startswith("#"):
            fields[key.strip()] = value.strip().strip("\"'")
    return fields


def os_release_path(path: Path | str | None = None) -> Path:
    if path is not None:
        return Path(path)
    return Path(os.environ.get(OS_RELEASE_ENV) or "/etc/os-release")


def detect_host(project_dir: Path | None, os_release: Path | str | None = None) -> HostMatch:
    """The profile whose [os_release] data matches this machine: ID first, then each ID_LIKE in order.

    A profile matches a value when its ``id`` (for ID) or ``id_like`` (for ID_LIKE) lists it and
    its ``version_id`` glob, if any, matches VERSION_ID.  No match is an error, never a guess.
    """
    from .profiles import os_release_rules

    path = os_release_path(os_release)
    fields = read_os_release(path)
    rules = os_release_rules(project_dir)
    version = fields.get("VERSION_ID", "")
    tries = [("ID", fields.get("ID", ""), "id")] + [
        ("ID_LIKE", v, "id_like") for v in fields.get("ID_LIKE", "").split()
    ]
    for via, value, key in tries:
        if not value:
            continue
        hits = sorted(
            pid
            for pid, rule in rules.items()
            if value in rule.get(key, []) and fnmatchcase(version, rule.get("version_id", "*"))
        )
        if len(hits) > 1:
            raise UsageError(
                f"{path}: {via}={value} VERSION_ID={version or '(none)'} matches several profiles: {', '.join(hits)}",
                hint="pass --distro to choose one",
            )
        if hits:
            return HostMatch(
                hits[0], str(path), {k: fields[k] for k in ("ID", "ID_LIKE", "VERSION_ID") if k in fields}, via
            )
    shown = " ".join(f"{k}={fields[k]}" for k in ("ID", "ID_LIKE", "VERSION_ID") if fields.get(k)) or "no ID"
    listing = "; ".join(f"{pid} ({_describe(rule)})" for pid, rule in sorted(rules.items()))
    raise UsageError(
        f"{path}: {shown} matches no distro profile; pass --distro",
        hint=f"profiles and the os-release they match: {listing or 'none declare [os_release]'} (see: pkgtool distros)",
    )


def _describe(rule: dict) -> str:
    parts = []
    if rule.get("id"):
        parts.append("ID " + "|".join(rule["id"]))
    if rule.get("id_like"):
        parts.append("ID_LIKE " + "|".join(rule["id_like"]))
    if rule.get("version_id"):
        parts.append("VERSION_ID " + rule["version_id"])
    return ", ".join(parts)


def host_distro(project_dir: Path | None, os_release: Path | str | None = None) -> str:
    """The profile for this machine, for commands run without --distro (see detect_host)."""
    return detect_host(project_dir, os_release).profile


def artifact_distro(name: str, family: str, release: str, project_dir: Path) -> tuple[str, str]:
    """Without --distro: (profile, why) for a package of ``family`` whose release is ``release``.

    The dist tag at the end of the release names the profile (``1.el9`` -> el9); a release
    without one (a .deb, or an rpm built without %{?dist}) takes the host's profile when its
    family fits, else the family's root profile, and ``why`` says it was assumed.
    """
    from .profiles import list_profiles

    profiles = [p for p in list_profiles(project_dir) if p.family.value == family]
    tagged = [p for p in profiles if p.dist_tag and release.endswith(p.dist_tag)]
    # The longest tag wins, so a project profile tagged ".el9_4" is not taken for ".el9".
    tagged.sort(key=lambda p: (-len(p.dist_tag), p.id))
    if tagged:
        return tagged[0].id, f"release {release} ends with {tagged[0].id}'s dist tag {tagged[0].dist_tag}"
    try:
        host = host_distro(project_dir)
        if any(p.id == host for p in profiles):
            return host, f"assumed: release {release} names no profile; {host} is this machine's"
    except UsageError:
        pass
    # The family's root profile (it inherits from none), e.g. the one every other rpm profile builds on.
    roots = [p.id for p in profiles if len(p.chain) == 1]
    if len(roots) == 1:
        return roots[0], f"assumed: release {release} names no profile; {roots[0]} is the {family} family's base"
    raise UsageError(
        f"cannot tell which distro {name} is for (release {release})",
        hint="pass --distro; profiles of the family: " + ", ".join(p.id for p in profiles),
    )
