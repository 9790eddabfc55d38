"""[[unit]] preset = "enable" | "disable": the package ships {presetdir}/50-NAME.preset, written by pkgtool.

Like the sysusers.d file (tests/test_sysusers.py), it is a pkgtool-generated/ source of the staged tree
and of the source tarball, so native and system builds both ship it, 0644.  The real `systemctl --root
ROOT preset` reads it and enables the unit as %systemd_post's `systemctl preset` would on a host.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from test_systemd_units import EPOCH, EXAMPLE, UNIT, _map, builds  # noqa: F401 (builds: the shared module fixture)
from test_sysusers import _deb_files, _rpm_files
from tooling import require_tools

from pkgtool.errors import LayoutError
from pkgtool.layout.load import load_layout
from pkgtool.model import Preset
from pkgtool.project import resolve_dir
from pkgtool.sources.generated import preset_text

PRESET = "50-vdsm-hook-checkips.preset"
TEXT = f"# vdsm-hook-checkips: the presets of its [[unit]] tables (written by pkgtool)\nenable {UNIT}\n"
WHERE = {"fedora": "/usr/lib/systemd/system-preset", "debian": "/lib/systemd/system-preset"}


def test_preset_text_of_the_example():
    (u,) = load_layout(EXAMPLE).units
    assert u.preset is Preset.ENABLE
    assert preset_text(load_layout(EXAMPLE)) == TEXT


def test_no_preset_key_no_file(tmp_path):
    project = _map(tmp_path, 'src = "systemd/vdsm-checkips.service"')
    assert preset_text(load_layout(project)) == ""
    r = resolve_dir(project, "fedora", source_date_epoch=EPOCH)
    assert not [p for p in r.by_path() if "system-preset" in p]


def test_disable(tmp_path):
    project = _map(tmp_path, 'src = "systemd/vdsm-checkips.service"\npreset = "disable"')
    assert preset_text(load_layout(project)).splitlines()[1:] == [f"disable {UNIT}"]


def test_bad_preset_is_a_located_error(tmp_path):
    project = _map(tmp_path, 'src = "systemd/vdsm-checkips.service"\npreset = "enabled"')
    with pytest.raises(LayoutError) as err:
        load_layout(project)
    (d,) = err.value.diagnostics
    assert "unit[0].preset" in str(d.location) and "'enable'" in d.hint and "pkgtool.toml:" in str(d.location)


@pytest.mark.parametrize("distro", ["fedora", "debian"])
def test_resolve_places_it_in_presetdir(distro):
    entry = resolve_dir(EXAMPLE, distro, source_date_epoch=EPOCH).by_path()[f"{WHERE[distro]}/{PRESET}"]
    assert (entry.mode, entry.source, entry.origin) == (0o644, f"pkgtool-generated/preset/{PRESET}", "preset")


@pytest.mark.parametrize("ours", [True, False])
def test_systemctl_preset_enables_the_unit_over_a_disable_all_default(tmp_path, ours):
    require_tools("systemctl")
    root = tmp_path / "root"
    presets = root / "usr/lib/systemd/system-preset"
    presets.mkdir(parents=True)
    (root / "usr/lib/systemd/system").mkdir(parents=True)
    (presets / "90-default.preset").write_text("disable *\n")  # as Fedora's fedora-release ships it
    if ours:
        (presets / PRESET).write_text(TEXT)
    shutil.copy(EXAMPLE / "systemd" / UNIT, root / "usr/lib/systemd/system" / UNIT)
    subprocess.run(["systemctl", f"--root={root}", "preset", UNIT], check=True, capture_output=True)
    assert (root / "etc/systemd/system/multi-user.target.wants" / UNIT).is_symlink() is ours


@pytest.mark.parametrize("fmt", ["rpm", "deb"])
def test_native_and_system_packages_ship_it(builds, fmt):  # noqa: F811
    require_tools("rpm", "dpkg-deb")
    _, native, system = builds[fmt]
    listing = _rpm_files if fmt == "rpm" else _deb_files
    path = f"{WHERE['fedora' if fmt == 'rpm' else 'debian']}/{PRESET}"
    for artifact in (native, system):
        assert listing(artifact)[path] == "-rw-r--r--", artifact.name


def test_layout_map_doc_shows_the_exact_text():
    doc = (EXAMPLE.parent.parent / "docs" / "layout-map.md").read_text()
    assert f"```\n{TEXT}```\n" in doc and 'preset = "enable"' in doc
