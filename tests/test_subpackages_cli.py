"""`pkgtool install/verify/build --package`: a map's binary packages one by one or all."""

from __future__ import annotations

import json

from subpkg_map import write_project
from test_cli import no_traceback, run


def test_install_all_then_verify_each(tmp_path):
    project = write_project(tmp_path / "p")
    root = tmp_path / "root"
    proc = run("install", str(project), "--root", str(root), "--distro", "fedora", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [r["package"] for r in json.loads(proc.stdout)["packages"]] == [
        "acme-hooks",
        "acme-hooks-helper",
        "acme-hooks-net",
    ]
    assert (root / "usr/libexec/acme/hooks/before_start/50_net").is_file()
    proc = run("verify", str(project), "--root", str(root), "--distro", "fedora", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(json.loads(proc.stdout)["reports"]) == 3
    # Each package alone verifies too: the others' paths are not its extras.
    proc = run("verify", str(project), "--root", str(root), "--distro", "fedora", "--package", "-net")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_install_one_package_only(tmp_path):
    project = write_project(tmp_path / "p")
    root = tmp_path / "root"
    proc = run("install", str(project), "--root", str(root), "--distro", "debian", "--package", "acme-hooks-helper")
    assert proc.returncode == 0, proc.stderr
    assert (root / "usr/libexec/acme/helpers/acme-helper").is_file()
    assert not (root / "usr/libexec/acme/acme-run").exists()
    ok = run("verify", str(project), "--root", str(root), "--distro", "debian", "-p", "-helper")
    assert ok.returncode == 0, ok.stdout
    # The main package was not installed: verifying it finds its files missing.
    missing = run("verify", str(project), "--root", str(root), "--distro", "debian", "-p", "acme-hooks")
    assert missing.returncode == 1 and "/usr/libexec/acme/acme-run" in missing.stdout


def test_unknown_package_is_a_usage_error_with_did_you_mean(tmp_path):
    project = write_project(tmp_path / "p")
    proc = run("install", str(project), "--root", str(tmp_path / "r"), "--distro", "fedora", "-p", "acme-hooks-nett")
    no_traceback(proc)
    assert proc.returncode == 2 and "did you mean 'acme-hooks-net'?" in proc.stderr


def test_build_native_writes_one_package_each_and_verify_picks_by_name(tmp_path):
    project = write_project(tmp_path / "p")
    out = tmp_path / "dist"
    proc = run("build", str(project), "--distro", "debian", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    debs = sorted(out.rglob("*.deb"))
    assert sorted(d.name.split("_")[0] for d in debs) == ["acme-hooks", "acme-hooks-helper", "acme-hooks-net"]
    proc = run("verify", str(project), "--distro", "debian", *map(str, debs))
    assert proc.returncode == 0, proc.stdout + proc.stderr
