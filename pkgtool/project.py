"""The orchestration a command needs: load the map, pick the profile, resolve.

``resolve`` itself is pure; this is where files are read for it.  The host and artifact distro
detection live here too, so the CLI and the parallel runner ask one place which profile applies.
"""

from __future__ import annotations

from pathlib import Path

from .errors import UsageError
from .model import Resolved


def resolve_dir(project_dir: Path | str, distro: str, source_date_epoch: int | None = None) -> Resolved:
    """load_layout + load_profile (project distros/ included) + resolve."""
    from .layout.load import load_layout
    from .profiles import load_profile
    from .resolve import resolve

    layout = load_layout(project_dir)
    profile = load_profile(distro, project_dir)
    return resolve(layout, profile, source_date_epoch)


def host_distro(project_dir: Path | None) -> str:
    """The profile matching this machine's /etc/os-release (ID, then ID_LIKE), for commands run without --distro."""
    from .profiles import list_profiles

    known = {p.id for p in list_profiles(project_dir)}
    fields: dict[str, str] = {}
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            fields[key] = value.strip().strip('"')
    except OSError:
        pass
    for candidate in [fields.get("ID", "")] + fields.get("ID_LIKE", "").split():
        if candidate in known:
            return candidate
    raise UsageError("cannot tell this machine's distro; pass --distro (see: pkgtool distros)")


def artifact_distro(path: Path, project_dir: Path) -> str:
    """Without --distro: the host's profile when its family fits the artifact, else the family's root profile."""
    from .profiles import list_profiles

    family = "deb" if path.name.endswith(".deb") else "rpm"
    profiles = list_profiles(project_dir)
    try:
        host = host_distro(project_dir)
        if any(p.id == host and p.family.value == family for p in profiles):
            return host
    except UsageError:
        pass
    # The family's root profile (it inherits from none), e.g. the one every other rpm profile builds on.
    roots = [p.id for p in profiles if p.family.value == family and len(p.chain) == 1]
    if len(roots) == 1:
        return roots[0]
    raise UsageError(f"cannot tell which distro {path.name} is for; pass --distro")
