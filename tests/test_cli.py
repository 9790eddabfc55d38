"""The command line as a user runs it: exit codes, --json shapes, one-screen errors, several distros at once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO

PY = sys.executable
ALL = ("debian", "el9", "fedora", "opensuse-leap", "ubuntu")


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [PY, "-m", "pkgtool", *args], cwd=cwd or REPO, env=full_env, capture_output=True, text=True, timeout=300
    )


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr


def test_version_and_help():
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("pkgtool ")
    proc = run("--help")
    assert proc.returncode == 0
    for cmd in ("init", "lint", "generate", "source", "build", "install", "verify", "inspect", "distros", "explain"):
        assert cmd in proc.stdout


def test_distros_list_and_show_json():
    proc = run("distros", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in json.loads(proc.stdout)}
    assert set(ALL) <= set(rows)
    assert rows["ubuntu"]["family"] == "deb" and rows["el9"]["family"] == "rpm"
    assert rows["ubuntu"]["inherits"] == ["debian"]
    assert rows["fedora"]["origin"].endswith("fedora.toml")
    proc = run("distros", "show", "opensuse-leap", "--json")
    data = json.loads(proc.stdout)
    assert data["dirs"]["libexecdir"] == "/usr/lib"
    assert data["chain"] == ["opensuse-leap", "fedora"]
    assert (data["source_compression"], data["compression"]) == ("gzip", "xz")
    text = run("distros", "show", "el9").stdout.splitlines()
    assert "source_compression: zstd" in text and "dist_tag: .el9" in text


def test_unknown_distro_is_input_error():
    proc = run("lint", "examples/convirt", "--distro", "gentoo")
    assert proc.returncode == 2
    assert "gentoo" in proc.stderr
    no_traceback(proc)


def test_explain_known_and_unknown():
    proc = run("explain", "world-writable")
    assert proc.returncode == 0 and "world" in proc.stdout.lower()
    proc = run("explain", "world-writeable")
    assert proc.returncode == 2
    assert "world-writable" in proc.stderr  # did-you-mean
    no_traceback(proc)


@pytest.mark.parametrize("example", ["convirt", "vdsm-hook-acme", "libvirt-hook-acme"])
def test_lint_all_distros_clean(example):
    proc = run("lint", f"examples/{example}", "--distro", "all", "--json")
    assert proc.returncode == 0, proc.stdout
    data = json.loads(proc.stdout)
    assert data["findings"] == []


def test_lint_sarif_on_findings(tmp_path):
    proj = tmp_path / "p"
    shutil.copytree(EXAMPLES / "vdsm-hook-acme", proj)
    os.chmod(proj / "hooks/before_vm_start/50_acme", 0o644)
    text = (proj / "pkgtool.toml").read_text().replace('mode = "0755"', 'mode = "0644"', 1)
    (proj / "pkgtool.toml").write_text(text)
    proc = run("lint", str(proj), "--distro", "fedora", "--sarif")
    assert proc.returncode == 1
    sarif = json.loads(proc.stdout)
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert "vdsm-hook-not-executable" in rules


def test_malformed_map_one_screen_exit_2(tmp_path):
    proj = tmp_path / "bad"
    proj.mkdir()
    (proj / "pkgtool.toml").write_text(
        'schema = 1\n[package]\nname = "x"\nversion = "1"\nsummary = "s"\ndescription = "d"\n'
        'license = "MIT"\nmaintainer = "A <a@example.org>"\n\n[[file]]\nsrc = "f"\ndts = "/etc/x"\nmode = 644\n'
    )
    out = tmp_path / "out"
    for args in (
        ("build", str(proj), "--distro", "fedora", "--out", str(out)),
        ("generate", str(proj), "--distro", "debian", "--out", str(out)),
        ("install", str(proj), "--distro", "fedora", "--root", str(tmp_path / "root")),
    ):
        proc = run(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        no_traceback(proc)
        assert "pkgtool.toml:12" in proc.stderr and "file[0].dts" in proc.stderr and "did you mean 'dst'" in proc.stderr
        assert "pkgtool.toml:13" in proc.stderr and "integer-mode" in proc.stderr
        assert len(proc.stderr.splitlines()) < 25
    assert not out.exists() and not (tmp_path / "root").exists()


def test_build_all_distros_json_names_per_distro(tmp_path):
    out = tmp_path / "dist"
    proc = run("build", "examples/convirt", "--distro", "all", "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert data["ok"] is True
    arts = data["artifacts"]
    assert sorted(a["distro"] for a in arts) == sorted(ALL)
    for a in arts:
        assert Path(a["path"]).is_file() and Path(a["path"]).parent == out / a["distro"]
        assert a["size"] == Path(a["path"]).stat().st_size and len(a["sha256"]) == 64
        assert a["format"] == ("deb" if a["distro"] in ("debian", "ubuntu") else "rpm")
    requires = {}
    for a in arts:
        info = json.loads(run("inspect", a["path"], "--json").stdout)
        requires[a["distro"]] = {r["name"] for r in info["relations"]["requires"]}
    # The logical name 'pygtk' is a different package on each family; 'vte' differs even inside one.
    assert "python3-gobject" in requires["fedora"] and "python3-gi" in requires["debian"]
    assert "python3-gi" in requires["ubuntu"]
    assert "typelib-1_0-Vte-2.91" in requires["opensuse-leap"] and "vte291" in requires["fedora"]


def test_opensuse_leap_puts_libexec_under_usr_lib(tmp_path):
    out = tmp_path / "dist"
    proc = run("build", "examples/vdsm-hook-acme", "--distro", "opensuse-leap,fedora", "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stdout
    paths = {}
    for a in json.loads(proc.stdout)["artifacts"]:
        info = json.loads(run("inspect", a["path"], "--json").stdout)
        paths[a["distro"]] = {e["path"] for e in info["entries"]}
    assert "/usr/lib/vdsm/hooks/before_vm_start/50_acme" in paths["opensuse-leap"]
    assert "/usr/libexec/vdsm/hooks/before_vm_start/50_acme" in paths["fedora"]


def test_one_failing_distro_does_not_hide_the_others(tmp_path):
    proj = tmp_path / "p"
    shutil.copytree(EXAMPLES / "libvirt-hook-acme", proj)
    # Only the el9 variant names a source that does not exist: el9 fails, the others build.
    with open(proj / "pkgtool.toml", "a", encoding="utf-8") as fh:
        fh.write(
            '\n[[distro.el9.file]]\nsrc = "qemu.d/no-such-hook"\ndst = "{sysconfdir}/libvirt/hooks/qemu.d/50-acme"\n'
        )
    out = tmp_path / "dist"
    proc = run("build", str(proj), "--distro", "fedora,el9,debian", "--out", str(out), "--json")
    assert proc.returncode == 1, proc.stdout
    data = json.loads(proc.stdout)
    status = {d["distro"]: d["ok"] for d in data["distros"]}
    assert status == {"fedora": True, "el9": False, "debian": True}
    assert {a["distro"] for a in data["artifacts"]} == {"fedora", "debian"}
    el9 = next(d for d in data["distros"] if d["distro"] == "el9")
    assert "no-such-hook" in " ".join([el9["error"], *(d["message"] for d in el9["diagnostics"])])
    proc = run("build", str(proj), "--distro", "fedora,el9", "--out", str(tmp_path / "d2"))
    assert proc.returncode == 1
    assert (
        "el9: " in proc.stderr and "[missing-source]" in proc.stderr and "fedora" in proc.stdout
    )  # the summary table still lists fedora
    no_traceback(proc)


def test_install_verify_cycle_and_mutations(tmp_path):
    root = tmp_path / "root"
    proc = run("install", "examples/convirt", "--distro", "fedora", "--root", str(root), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)
    proc = run("verify", "examples/convirt", "--distro", "fedora", "--root", str(root))
    assert proc.returncode == 0, proc.stdout
    prov = root / "var/cache/convirt/image_store/fedora_vm/provision.sh"
    os.chmod(prov, 0o755)
    (root / "usr/bin/convirt").unlink()
    readme = root / "usr/share/convirt/doc/README"
    readme.write_bytes(readme.read_bytes().replace(b"C", b"K", 1))
    proc = run("verify", "examples/convirt", "--distro", "fedora", "--root", str(root), "--json")
    assert proc.returncode == 1
    bad = {m["path"]: set(m["problems"]) for r in json.loads(proc.stdout)["reports"] for m in r["mismatches"]}
    assert bad == {
        "/var/cache/convirt/image_store/fedora_vm/provision.sh": {"mode"},
        "/usr/bin/convirt": {"missing"},
        "/usr/share/convirt/doc/README": {"digest"},
    }


def test_verify_needs_something(tmp_path):
    proc = run("verify", "examples/convirt", "--distro", "fedora")
    assert proc.returncode == 2
    no_traceback(proc)


@pytest.mark.damaged_rpms
def test_inspect_rejects_non_package(tmp_path):
    junk = tmp_path / "x.rpm"
    junk.write_bytes(b"hello world, not an rpm")
    proc = run("inspect", str(junk))
    assert proc.returncode == 2 and "not an .rpm or .deb" in proc.stderr
    no_traceback(proc)


def test_init_every_kind_then_lint(tmp_path):
    for kind in ("app", "vdsm-hook", "libvirt-hook", "devstack-plugin", "otopi-plugin", "node-plugin"):
        d = tmp_path / kind
        proc = run("init", str(d), "--kind", kind)
        assert proc.returncode == 0, proc.stderr
        assert (d / "pkgtool.toml").is_file()
        proc = run("lint", str(d), "--distro", "fedora,debian")
        # init's placeholder maintainer is the one thing lint holds against a fresh map.
        assert proc.returncode == 1 and "placeholder-maintainer" in proc.stdout, (kind, proc.stdout)
        toml = d / "pkgtool.toml"
        toml.write_text(toml.read_text().replace("Your Name <you@example.org>", "Jo Doe <jo@example.net>"))
        proc = run("lint", str(d), "--distro", "fedora,debian")
        assert proc.returncode == 0, (kind, proc.stdout)
    proc = run("init", str(tmp_path / "app"), "--kind", "app")
    assert proc.returncode == 2
    no_traceback(proc)


def test_bad_source_date_epoch(tmp_path):
    proc = run(
        "build",
        "examples/convirt",
        "--distro",
        "fedora",
        "--out",
        str(tmp_path),
        env={"SOURCE_DATE_EPOCH": "yesterday"},
    )
    assert proc.returncode == 2 and "SOURCE_DATE_EPOCH" in proc.stderr
    no_traceback(proc)


@pytest.mark.slow
def test_wheel_carries_templates_and_distros(tmp_path):
    """Build the wheel, install it into a fresh venv, and run pkgtool from there (not from the checkout)."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [PY, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)], check=True, capture_output=True
    )
    wheel = next(wheels.glob("pkgtool-*.whl"))
    venv = tmp_path / "venv"
    # The fresh venv borrows this environment's already-installed dependencies, so no download is needed.
    subprocess.run([PY, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    deps_site = next(p for p in map(Path, sys.path) if p.name == "site-packages" and (p / "jinja2").is_dir())
    (site / "deps.pth").write_text(str(deps_site) + "\n")
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert any(n.startswith("pkgtool/_data/templates/rpm/") for n in names)
        assert any(n.startswith("pkgtool/_data/distros/fedora.toml") for n in names)
        zf.extractall(site)
    vpy = venv / "bin" / "python"
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([vpy, "-m", "pkgtool", "--version"], cwd=cwd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and proc.stdout.startswith("pkgtool ")
    probe = subprocess.run(
        [vpy, "-c", "import pkgtool.data as d; print(d.data_dir('templates'))"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
    )
    assert str(site) in probe.stdout, probe.stdout + probe.stderr  # the wheel's copy, not the checkout's
    root = tmp_path / "root"
    proc = subprocess.run(
        [vpy, "-m", "pkgtool", "install", str(EXAMPLES / "convirt"), "--distro", "debian", "--root", str(root)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert (root / "var/cache/convirt/image_store/linux_cd/provision.sh").stat().st_mode & 0o7777 == 0o744
    proc = subprocess.run(
        [
            vpy,
            "-m",
            "pkgtool",
            "generate",
            str(EXAMPLES / "convirt"),
            "--distro",
            "fedora",
            "--out",
            str(tmp_path / "gen"),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "gen" / "convirt.spec").is_file()


def test_commands_do_not_import_what_they_do_not_use():
    """Start-up: the CLI and the native builders import no template engine, pydantic or worker pools.

    jinja2 is needed only to render templates, a process pool only for several distros, a thread
    pool only to gzip a source tarball; pydantic came with typer 0.29 (pinned below it).
    """
    code = (
        "import sys, pkgtool.cli, pkgtool.formats.rpm.native, pkgtool.formats.deb.native, pkgtool.parallel, "
        "pkgtool.resolve, pkgtool.install.apply, pkgtool.verify.root, pkgtool.verify.artifact; "
        "print(' '.join(m for m in ('jinja2', 'pydantic', 'concurrent.futures', 'multiprocessing') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == []
