"""[[unit]]: a systemd unit installed, enabled, restarted and stopped the way each distro's own tooling does.

The example examples/vdsm-hook-checkips (vdsm's checkips hook: an after_get_stats hook and the checkipsd
daemon as a service) is built natively and with rpmbuild / dpkg-buildpackage; the scriptlets must be the
same for both backends, and a real install into a throwaway root with rpm --root / dpkg --root must make
the same calls to the (recording, fake) systemd tools for native and system builds.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES
from hostroot import calls, make_root, run, seed_dpkg
from tooling import require_root, require_tools

from pkgtool.errors import LayoutError
from pkgtool.formats.deb.debian_dir import debian_files
from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.deb.system import build_deb_system
from pkgtool.formats.deb.units import unit_snippets
from pkgtool.formats.rpm.native import build_rpm
from pkgtool.formats.rpm.scriptlets import rpm_scriptlets
from pkgtool.formats.rpm.system import build_rpm_system
from pkgtool.layout.load import load_layout
from pkgtool.model import OnUpgrade
from pkgtool.project import resolve_dir

EPOCH = 1700000000
EXAMPLE = EXAMPLES / "vdsm-hook-checkips"
UNIT = "vdsm-checkips.service"
# [[tmpfile]]: applied on install in both formats, the same call.
TMPFILES_TOOL = "usr/bin/systemd-tmpfiles"
TMPFILES_CALL = "systemd-tmpfiles --create vdsm-hook-checkips.conf"


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """(resolved, native artifact, system artifact) per format, built once."""
    require_tools("rpmbuild", "dpkg-buildpackage", "dh", "fakeroot")
    out = tmp_path_factory.mktemp("units")
    rpm_r = resolve_dir(EXAMPLE, "fedora", source_date_epoch=EPOCH)
    deb_r = resolve_dir(EXAMPLE, "debian", source_date_epoch=EPOCH)
    rpm_sys = next(p for p in build_rpm_system(rpm_r, out / "rpm-sys") if not p.name.endswith(".src.rpm"))
    return {
        "rpm": (rpm_r, build_rpm(rpm_r, out / "rpm"), rpm_sys),
        "deb": (deb_r, build_deb(deb_r, out / "deb"), build_deb_system(deb_r, out / "deb-sys")[0]),
    }


def _map(tmp_path: Path, unit: str) -> Path:
    text = (EXAMPLE / "pkgtool.toml").read_text()
    head, _, tail = text.partition("\n[[unit]]\n")
    tail = tail.split("\n\n", 1)[1]
    shutil.copytree(EXAMPLE, tmp_path / "p")
    (tmp_path / "p" / "pkgtool.toml").write_text(f"{head}\n[[unit]]\n{unit}\n\n{tail}")
    return tmp_path / "p"


def test_tmpfile_is_a_file_in_tmpfilesdir_applied_on_install():
    (t,) = load_layout(EXAMPLE).tmpfiles
    assert (t.name, t.src) == ("vdsm-hook-checkips.conf", "tmpfiles/vdsm-hook-checkips.conf")
    for distro in ("fedora", "debian"):
        r = resolve_dir(EXAMPLE, distro, source_date_epoch=EPOCH)
        entry = r.by_path()["/usr/lib/tmpfiles.d/vdsm-hook-checkips.conf"]
        assert (entry.mode, entry.origin) == (0o644, "tmpfile[0]")
    r = resolve_dir(EXAMPLE, "debian", source_date_epoch=EPOCH)
    rules = next(f.text for f in debian_files(r) if f.rel == "rules")
    assert "override_dh_installtmpfiles" not in rules  # dh_installtmpfiles runs


def test_unit_keys_and_defaults(tmp_path):
    layout = load_layout(EXAMPLE)
    (u,) = layout.units
    assert (u.name, u.src, u.enable, u.on_upgrade) == (UNIT, "systemd/vdsm-checkips.service", True, OnUpgrade.RESTART)
    r = resolve_dir(EXAMPLE, "debian", source_date_epoch=EPOCH)
    entry = r.by_path()[f"/lib/systemd/system/{UNIT}"]
    assert (entry.mode, entry.source, entry.origin) == (0o644, u.src, "unit[0]")
    other = load_layout(_map(tmp_path, 'src = "systemd/vdsm-checkips.service"\nname = "checkips.service"'))
    assert other.units[0].name == "checkips.service" and other.units[0].on_upgrade is OnUpgrade.RESTART


@pytest.mark.parametrize(
    ("unit", "key", "words"),
    [
        ('src = "systemd/vdsm-checkips.service"\nname = "checkips"', "unit[0].name", "not a systemd unit name"),
        ('src = "systemd/vdsm-checkips.service"\non-upgrade = "restrat"', "unit[0].on-upgrade", "'restart'"),
        ('src = "systemd/vdsm-checkips.service"\nenable = "yes"', "unit[0].enable", "true or false"),
        ('src = "systemd/vdsm-checkips.service"\nwanted-by = "x"', "unit[0]", "wanted-by"),
        ('name = "a.service"', "unit[0]", "src"),
    ],
)
def test_bad_unit_is_a_located_error(tmp_path, unit, key, words):
    with pytest.raises(LayoutError) as err:
        load_layout(_map(tmp_path, unit))
    text = "\n".join(f"{d.location}: {d.message} {d.hint}" for d in err.value.diagnostics)
    assert key in text and words in text and "pkgtool.toml:" in text, text


def test_rpm_scriptlets_are_the_macro_expansion(builds):
    r, native, system = builds["rpm"]
    scripts = rpm_scriptlets(r)
    helper = "/usr/lib/systemd/systemd-update-helper"
    assert f"{helper} install-system-units {UNIT} || :" in scripts["post"]
    assert f"{helper} remove-system-units {UNIT} || :" in scripts["preun"]
    assert f"{helper} mark-restart-system-units {UNIT} || :" in scripts["postun"]
    query = ["rpm", "-qp", "--scripts"]
    same = [
        subprocess.run([*query, str(p)], capture_output=True, text=True, check=True).stdout for p in (native, system)
    ]
    assert same[0] == same[1] and "install-system-units" in same[0]


def test_on_upgrade_none_and_no_enable(tmp_path):
    unit = 'src = "systemd/vdsm-checkips.service"\nenable = false\non-upgrade = "none"'
    project = _map(tmp_path, unit)
    rpm = rpm_scriptlets(resolve_dir(project, "fedora", source_date_epoch=EPOCH))
    assert "postun" not in rpm and "install-system-units" in rpm["post"]  # %systemd_postun is empty
    deb_r = resolve_dir(project, "debian", source_date_epoch=EPOCH)
    snippets = unit_snippets(deb_r)
    assert "deb-systemd-helper debian-installed" in snippets["postinst"]  # postinst-systemd-dont-enable
    assert "deb-systemd-invoke start" in snippets["postinst"] and "_dh_action" not in snippets["postinst"]
    rules = next(f.text for f in debian_files(deb_r) if f.rel == "rules")
    assert (
        "dh_installsystemd --package=vdsm-hook-checkips --no-enable --no-restart-after-upgrade"
        " --no-stop-on-upgrade vdsm-checkips.service" in rules
    )


def _deb_script(deb: Path, name: str) -> str:
    text = subprocess.run(["dpkg-deb", "-I", str(deb), name], capture_output=True, text=True, check=True).stdout
    return "\n".join(
        x for x in text.splitlines() if not x.startswith(("# Automatically added by", "# Added by pkgtool"))
    )


@pytest.mark.parametrize("script", ["postinst", "prerm", "postrm"])
def test_native_deb_scripts_are_what_dh_installsystemd_writes(builds, script):
    _, native, system = builds["deb"]
    assert _deb_script(native, script) == _deb_script(system, script)


@pytest.mark.parametrize("backend", ["native", "system"])
def test_rpm_root_install_and_erase(builds, tmp_path, backend):
    require_root()
    require_tools("rpm", "dash", "ldd", "groupadd", "useradd")
    r, native, system = builds["rpm"]
    root = tmp_path / "root"
    make_root(root, ["usr/lib/systemd/systemd-update-helper", "usr/bin/systemctl", TMPFILES_TOOL])
    db = ["rpm", "--root", str(root), "--dbpath", "/var/lib/rpm"]
    run(*db, "--initdb")
    run(*db, "-i", "--nodeps", str(native if backend == "native" else system))
    assert calls(root) == [TMPFILES_CALL, f"systemd-update-helper install-system-units {UNIT}"]
    assert (root / f"usr/lib/systemd/system/{UNIT}").read_bytes() == (EXAMPLE / "systemd" / UNIT).read_bytes()
    run(*db, "-e", "--nodeps", r.package.name)
    assert calls(root) == [f"systemd-update-helper remove-system-units {UNIT}"]
    assert not (root / f"usr/lib/systemd/system/{UNIT}").exists()


@pytest.mark.parametrize("backend", ["native", "system"])
def test_dpkg_root_install_remove_purge(builds, tmp_path, backend):
    require_root()
    require_tools("dpkg", "dash", "ldd", "groupadd", "useradd")
    r, native, system = builds["deb"]
    root = tmp_path / "root"
    make_root(root, ["usr/bin/deb-systemd-helper", "usr/bin/deb-systemd-invoke", "usr/bin/systemctl", TMPFILES_TOOL])
    seed_dpkg(root)
    dpkg = ["dpkg", f"--root={root}", "--force-depends"]
    run(*dpkg, "-i", str(native if backend == "native" else system))
    assert calls(root) == [
        TMPFILES_CALL,  # dh_installtmpfiles' block comes first, as in RPM's %post
        f"deb-systemd-helper unmask {UNIT}",
        f"deb-systemd-helper --quiet was-enabled {UNIT}",
        f"deb-systemd-helper enable {UNIT}",
        "systemctl --system daemon-reload",
        f"deb-systemd-invoke start {UNIT}",
    ]
    assert (root / f"lib/systemd/system/{UNIT}").is_file()
    run(*dpkg, "-r", r.package.name)
    assert calls(root) == [f"deb-systemd-invoke stop {UNIT}", "systemctl --system daemon-reload"]
    assert not (root / f"lib/systemd/system/{UNIT}").exists()
    run(*dpkg, "-P", r.package.name)
    assert calls(root) == [f"deb-systemd-helper purge {UNIT}"]


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ('src = "tmpfiles/vdsm-hook-checkips.conf"\nname = "a/b.conf"', "tmpfile[1].name", "tmpfiles.d name"),
        ('src = "systemd/vdsm-checkips.service"', "tmpfile[1].src", ".conf"),
        ('src = "tmpfiles/vdsm-hook-checkips.conf"\nmode = "0644"', "tmpfile[1].mode", "[[tmpfile]] takes"),
    ],
)
def test_bad_tmpfile_is_a_located_error(tmp_path, table, key, words):
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    with open(project / "pkgtool.toml", "a") as fh:
        fh.write(f"\n[[tmpfile]]\n{table}\n")
    with pytest.raises(LayoutError) as err:
        load_layout(project)
    text = "\n".join(f"{d.location}: {d.message} {d.hint}" for d in err.value.diagnostics)
    assert key in text and words in text and "pkgtool.toml:" in text, text
