"""`pkgtool init` in a tree that has files: a map of those files, modes as they are, no samples, never a silent overwrite."""

from __future__ import annotations

import shutil
import tomllib

import pytest
from conftest import EXAMPLES
from test_cli import no_traceback, run

AUTHOR = {"DEBFULLNAME": "Jo Doe", "DEBEMAIL": "jo@example.net"}


def _write(path, text, mode):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def test_app_tree_is_taken_in_as_it_is(tmp_path):
    d = tmp_path / "mytool"
    _write(d / "bin/mytool", "#!/bin/sh\necho hi\n", 0o644)  # a script without its x bit
    _write(d / "etc/mytool.conf", "a = 1\n", 0o640)
    _write(d / "share/data/one.txt", "1\n", 0o644)
    _write(d / "share/data/two.txt", "2\n", 0o644)
    _write(d / ".git/config", "x\n", 0o644)
    before = sorted(p.relative_to(d).as_posix() for p in d.rglob("*"))
    proc = run("init", str(d), "--kind", "app", env=AUTHOR)
    assert proc.returncode == 0, proc.stderr
    after = sorted(p.relative_to(d).as_posix() for p in d.rglob("*"))
    assert sorted([*before, "pkgtool.toml"]) == after  # no sample file added
    doc = tomllib.loads((d / "pkgtool.toml").read_text())
    assert doc["package"]["maintainer"] == "Jo Doe <jo@example.net>"
    files = {f["src"]: f for f in doc["file"]}
    assert files["bin/mytool"] == {"src": "bin/mytool", "dst": "{bindir}/mytool", "mode": "0755"}
    assert files["etc/mytool.conf"] == {
        "src": "etc/mytool.conf",
        "dst": "{sysconfdir}/mytool.conf",
        "mode": "0640",
        "config": "noreplace",
    }
    assert doc["tree"] == [{"src": "share/", "dst": "{datadir}/mytool/share/", "mode": "0644"}]
    assert not any(".git" in f["src"] for f in doc["file"])
    proc = run("lint", str(d), "--distro", "fedora,debian")
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize(
    ("example", "kind", "expect"),
    [
        (
            "vdsm-hook-acme",
            "vdsm-hook",
            ("file", "hooks/before_vm_start/50_acme", "{libexecdir}/vdsm/hooks/before_vm_start/50_acme"),
        ),
        ("libvirt-hook-acme", "libvirt-hook", ("file", "qemu.d/50-acme", "{sysconfdir}/libvirt/hooks/qemu.d/50-acme")),
        (
            "ovirt-host-deploy-acme-driver",
            "otopi-plugin",
            ("tree", "plugins/acme_driver/", "{datadir}/ovirt-host-deploy/plugins/acme_driver/"),
        ),
        ("devstack-plugin-acme", "devstack-plugin", ("tree", "devstack/", "{datadir}/devstack-plugin-acme/devstack/")),
    ],
)
def test_plugin_trees_placed_as_their_kind_places_them(tmp_path, example, kind, expect):
    d = tmp_path / example
    shutil.copytree(EXAMPLES / example, d)
    (d / "pkgtool.toml").unlink()
    proc = run("init", str(d), "--kind", kind, env=AUTHOR)
    assert proc.returncode == 0, proc.stderr
    doc = tomllib.loads((d / "pkgtool.toml").read_text())
    table, src, dst = expect
    assert {"src": src, "dst": dst} == {
        k: v for e in doc[table] if e["src"] == src for k, v in e.items() if k in ("src", "dst")
    }
    if kind == "vdsm-hook":
        assert doc["requires"] == {"vdsm": ""}
    if kind == "libvirt-hook":  # its scripts are [scripts], not files to install
        assert doc["scripts"]["post-install"] == "packaging/reload-libvirtd.sh"
        assert all(not f["src"].startswith("packaging/") for f in doc["file"])
    proc = run("lint", str(d), "--distro", "fedora,debian")
    assert proc.returncode == 0, proc.stdout


def test_existing_map_kept_unless_force(tmp_path):
    d = tmp_path / "app"
    _write(d / "bin/app", "#!/bin/sh\n", 0o755)
    assert run("init", str(d), env=AUTHOR).returncode == 0
    (d / "pkgtool.toml").write_text("# mine\n")
    proc = run("init", str(d), env=AUTHOR)
    no_traceback(proc)
    assert proc.returncode == 2 and "--force" in proc.stderr
    assert (d / "pkgtool.toml").read_text() == "# mine\n"
    proc = run("init", str(d), "--force", env=AUTHOR)
    assert proc.returncode == 0, proc.stderr
    assert 'src = "bin/app"' in (d / "pkgtool.toml").read_text()
