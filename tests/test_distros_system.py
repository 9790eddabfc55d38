"""Every shipped profile's generated source package builds with its family's own tool, and matches the map."""

from __future__ import annotations

import pytest
from conftest import EXAMPLES
from tooling import require_tools

from pkgtool.formats.build import build
from pkgtool.profiles import list_profiles
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import verify_artifact

PROFILES = [p.id for p in list_profiles()]
TOOLS = {"rpm": ("rpmbuild",), "deb": ("dpkg-buildpackage", "dh", "fakeroot")}


def test_five_profiles_shipped():
    assert {"fedora", "el9", "opensuse-leap", "debian", "ubuntu"} <= set(PROFILES)


@pytest.mark.parametrize("distro", PROFILES)
def test_system_backend_builds_for_every_profile(distro, tmp_path):
    resolved = resolve_dir(EXAMPLES / "convirt", distro, 1736121600)
    require_tools(*TOOLS[resolved.profile.family.value])
    artifacts = build(resolved, tmp_path, backend="system", timeout=300)
    binaries = [a for a in artifacts if a.format in ("rpm", "deb")]
    assert len(binaries) == 1, artifacts
    assert any(a.format in ("src.rpm", "dsc") for a in artifacts), artifacts
    report = verify_artifact(resolved, binaries[0].path)
    assert report.ok, report.to_text()
    # The relations carry this distro's package names, not the map's logical ones.
    requires = {r.name for r in resolved.relations["requires"]}
    assert "pygtk" not in requires and "paramiko" not in requires
