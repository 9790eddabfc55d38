"""What the commands print: one line per finding, however many distros or path variants share it;
JSON structured like lint's everywhere; modes as octal strings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES, REPO


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "pkgtool", *args], cwd=REPO, env=full, capture_output=True, text=True)


def _broken(tmp_path: Path) -> Path:
    p = tmp_path / "proj"
    shutil.copytree(EXAMPLES / "libvirt-hook-acme", p)
    (p / "qemu.d" / "50-acme").unlink()
    return p


def test_one_missing_source_is_said_once_for_all_distros(tmp_path):
    proc = run("build", str(_broken(tmp_path)), "--distro", "all", "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    said = [line for line in proc.stderr.splitlines() if "missing-source" in line]
    assert len(said) == 1, proc.stderr
    assert said[0].startswith("all 5 distros: ")
    assert "missing-source" not in proc.stdout  # the table says FAILED, the finding is said once below


def test_build_json_diagnostics_are_structured(tmp_path):
    proc = run("build", str(_broken(tmp_path)), "--distro", "fedora,debian", "--out", str(tmp_path / "o"), "--json")
    doc = json.loads(proc.stdout)
    for d in doc["distros"]:
        assert "details" not in d
        (diag,) = d["diagnostics"]
        assert diag["rule"] == "missing-source" and diag["severity"] == "error"
        assert diag["key"] == "file[0].src" and diag["line"] == 19 and diag["file"].endswith("pkgtool.toml")


def test_generate_table_has_no_empty_columns(tmp_path):
    proc = run("generate", str(EXAMPLES / "libvirt-hook-acme"), "--distro", "fedora", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    head, *rows = proc.stdout.splitlines()
    assert head.split() == ["distro", "format", "path"]
    assert rows and all(len(r.split()) == 3 for r in rows)


def test_inspect_json_modes_are_octal_strings(tmp_path):
    proc = run("build", str(EXAMPLES / "libvirt-hook-acme"), "--distro", "fedora", "--out", str(tmp_path), "--json")
    art = json.loads(proc.stdout)["artifacts"][0]["path"]
    info = json.loads(run("inspect", art, "--json").stdout)
    modes = {e["path"]: e["mode"] for e in info["entries"]}
    assert modes["/etc/libvirt/hooks/qemu.d/50-acme"] == "0755"
    assert all(isinstance(m, str) and len(m) >= 4 and set(m) <= set("01234567") for m in modes.values())


def test_init_unknown_kind_suggests_the_nearest(tmp_path):
    proc = run("init", str(tmp_path / "x"), "--kind", "vdsm")
    assert proc.returncode == 2
    assert "did you mean 'vdsm-hook'?" in proc.stderr
    assert not (tmp_path / "x" / "pkgtool.toml").exists()


def test_misspelt_hook_point_suggests_the_nearest(tmp_path):
    p = tmp_path / "hook"
    shutil.copytree(EXAMPLES / "vdsm-hook-acme", p)
    toml = p / "pkgtool.toml"
    text = toml.read_text()
    assert "vdsm/hooks/before_vm_start/" in text
    toml.write_text(text.replace("vdsm/hooks/before_vm_start/", "vdsm/hooks/before_vm_strat/", 1))
    proc = run("lint", str(p), "--distro", "fedora", "--json")
    hints = [d["hint"] for d in json.loads(proc.stdout)["findings"] if d["rule"] == "vdsm-hook-point"]
    assert "did you mean before_vm_start?" in hints, proc.stdout
