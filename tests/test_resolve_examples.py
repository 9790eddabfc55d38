"""resolve on the shipped examples: exact entries for the paths that matter, per distro."""

from __future__ import annotations

import pytest
from conftest import EXAMPLE_NAMES, EXAMPLES

from pkgtool.layout.load import load_layout
from pkgtool.model import ConfigKind, Entry, EntryKind, ResolvedRelation
from pkgtool.profiles import load_profile
from pkgtool.project import resolve_dir
from pkgtool.resolve import resolve, resolve_collect

ALL = ("fedora", "el9", "opensuse-leap", "debian", "ubuntu")


def entries(example: str, distro: str) -> dict[str, Entry]:
    return resolve_dir(EXAMPLES / example, distro).by_path()


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
@pytest.mark.parametrize("distro", ALL)
def test_every_example_resolves_cleanly_and_sorted(example, distro):
    layout = load_layout(EXAMPLES / example)
    resolved, diags = resolve_collect(layout, load_profile(distro))
    assert diags == []
    paths = [e.path for e in resolved.entries]
    assert paths == sorted(paths) and len(paths) == len(set(paths))
    # every parent of every entry is an entry too
    for p in paths:
        parent = p.rsplit("/", 1)[0]
        assert parent == "" or parent in resolved.by_path(), p


def test_convirt_fedora_entries():
    by = entries("convirt", "fedora")
    assert by["/var/cache/convirt/image_store/fedora_vm/provision.sh"] == Entry(
        path="/var/cache/convirt/image_store/fedora_vm/provision.sh",
        kind=EntryKind.FILE,
        mode=0o744,
        source="image_store/fedora_vm/provision.sh",
        origin="tree[3] attr[1]",
    )
    assert by["/var/cache/convirt/image_store/fedora_vm/vm_conf.template"].mode == 0o644
    link = by["/usr/bin/convirt"]
    assert (link.kind, link.target, link.mode, link.origin) == (
        EntryKind.SYMLINK,
        "/usr/share/convirt/install/client/ConVirt",
        0o777,
        "symlink[0]",
    )
    launcher = by["/usr/share/convirt/install/client/ConVirt"]
    assert (launcher.mode, launcher.origin) == (0o755, "tree[2] attr[0]")
    conf = by["/etc/convirt.conf"]
    assert (conf.config, conf.source, conf.mode) == (ConfigKind.NOREPLACE, "distros/fedora/convirt.conf", 0o644)
    own = by["/usr/share/convirt"]
    assert (own.kind, own.owned, own.implicit, own.mode) == (EntryKind.DIR, True, True, 0o755)
    for system in ("/usr/share", "/usr", "/etc", "/usr/bin", "/var", "/var/cache"):
        assert by[system].owned is False, system
    assert by["/var/cache/convirt/appliance_store"] == Entry(
        path="/var/cache/convirt/appliance_store", kind=EntryKind.DIR, mode=0o755, origin="dir[0]"
    )
    docs = by["/usr/share/convirt/doc/README"]
    assert docs.doc is True and docs.source == "doc/README"
    tree_dir = by["/usr/share/convirt/src/convirt/core"]
    assert (tree_dir.owned, tree_dir.implicit, tree_dir.origin) == (True, False, "tree[1]")
    # nothing else deployed under /etc on an rpm distro is config
    assert by["/usr/share/convirt/src/convirt/core/remote.py"].config is ConfigKind.NONE


def test_convirt_config_per_distro_and_fallbacks():
    assert entries("convirt", "debian")["/etc/convirt.conf"].source == "distros/debian/convirt.conf"
    assert entries("convirt", "debian")["/etc/convirt.conf"].config is ConfigKind.NOREPLACE
    assert entries("convirt", "ubuntu")["/etc/convirt.conf"].source == "distros/debian/convirt.conf"
    assert entries("convirt", "el9")["/etc/convirt.conf"].source == "distros/fedora/convirt.conf"
    assert entries("convirt", "opensuse-leap")["/etc/convirt.conf"].source == "distros/fedora/convirt.conf"


def test_convirt_relations_mapped_per_distro_with_variant():
    fedora = resolve_dir(EXAMPLES / "convirt", "fedora").relations["requires"]
    assert fedora == (
        ResolvedRelation("python3", ">=", "2.4", "python"),
        ResolvedRelation("python3-gobject", "", "", "pygtk"),
        ResolvedRelation("python3-paramiko", ">=", "1.6.4", "paramiko"),
        ResolvedRelation("vte291", "", "", "vte"),
        ResolvedRelation("xen", ">=", "3.0.4", "xen"),
    )
    # [distro.debian.requires] pygtk = ">= 2.12" applies to debian and to ubuntu, which inherits it
    for distro in ("debian", "ubuntu"):
        rels = {r.logical: r for r in resolve_dir(EXAMPLES / "convirt", distro).relations["requires"]}
        assert rels["pygtk"] == ResolvedRelation("python3-gi", ">=", "2.12", "pygtk")
        assert rels["xen"].name == "xen-utils-common"
        assert "curses" not in rels  # python3 >= 2.4 already covers the unversioned python3
    assert resolve_dir(EXAMPLES / "convirt", "fedora").relations["conflicts"] == ()


def test_convirt_scripts_and_epoch():
    r = resolve_dir(EXAMPLES / "convirt", "fedora")
    assert set(r.scripts) == {"post-install"}
    assert r.scripts["post-install"] == (EXAMPLES / "convirt/packaging/post-install.sh").read_text()
    assert r.source_date_epoch == 1736121600  # 2025-01-06, the newest changelog date
    assert resolve_dir(EXAMPLES / "convirt", "fedora", source_date_epoch=5).source_date_epoch == 5


def test_vdsm_hook_points_belong_to_vdsm():
    by = entries("vdsm-hook-acme", "fedora")
    for d in ("/usr/libexec/vdsm", "/usr/libexec/vdsm/hooks", "/usr/libexec/vdsm/hooks/before_vm_start"):
        assert by[d].owned is False, d
    assert by["/usr/share/vdsm-hook-acme"].owned is True
    hook = by["/usr/libexec/vdsm/hooks/before_vm_start/50_acme"]
    assert (hook.mode, hook.source) == (0o755, "hooks/before_vm_start/50_acme")
    sudoers = by["/etc/sudoers.d/50_vdsm_hook_acme"]
    assert (sudoers.mode, sudoers.config) == (0o440, ConfigKind.NOREPLACE)
    assert by["/etc/sudoers.d"].owned is False


def test_opensuse_leap_puts_libexec_under_usr_lib():
    by = entries("vdsm-hook-acme", "opensuse-leap")
    assert "/usr/lib/vdsm/hooks/before_vm_start/50_acme" in by
    assert not any(p.startswith("/usr/libexec") for p in by)
    assert by["/usr/lib/vdsm/hooks"].owned is False


def test_libvirt_hook_dirs_belong_to_libvirt():
    by = entries("libvirt-hook-acme", "debian")
    for d in ("/etc/libvirt", "/etc/libvirt/hooks", "/etc/libvirt/hooks/qemu.d"):
        assert by[d].owned is False, d
    hook = by["/etc/libvirt/hooks/qemu.d/50-acme"]
    assert (hook.mode, hook.config) == (0o755, ConfigKind.NOREPLACE)
    r = resolve(load_layout(EXAMPLES / "libvirt-hook-acme"), load_profile("debian"))
    assert r.relations["requires"] == (ResolvedRelation("libvirt-daemon-system", ">=", "6.5", "libvirt"),)
    assert set(r.scripts) == {"post-install", "post-upgrade"}
