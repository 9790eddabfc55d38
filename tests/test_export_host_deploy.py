"""`pkgtool export host-deploy`: the tree ovirt-host-deploy reads, read back the way it reads it.

ovirt-host-deploy's vdsmhooks plugin (src/plugins/ovirt-host-deploy/vdsmhooks/hooks.py) copies
every file of ``hooks.d/`` but dot files into /usr/libexec/vdsm/hooks/ (STAGE_MISC), and installs
the packages listed, one a line, in each ``packages.d/`` file whose name ends with the host's
``platform.linux_distribution(full_distribution_name=0)[0]`` (STAGE_PACKAGES, which runs first).
``_host_deploy_reads`` below does the same on a directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO

from pkgtool.errors import ProfileError
from pkgtool.formats.build import build
from pkgtool.formats.read import read_artifact
from pkgtool.profiles import load_profile
from pkgtool.project import resolve_dir

HOOK_MAPS = ("vdsm-hook-acme", "vdsm-hook-ipcheck")
IDS = ("centos", "debian", "fedora", "redhat")  # of the five shipped profiles; openSUSE Leap has none
DRIVER = "ovirt-host-deploy-acme-driver"


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "pkgtool", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def _host_deploy_reads(plugin_dir: Path, distribution: str, host: Path) -> list[str]:
    """What ovirt-host-deploy does with OUT/vdsmhooks on a host: copy hooks.d, return the packages to install."""
    hooks_d = plugin_dir / "hooks.d"
    for pathname, _, files in os.walk(hooks_d):
        rel = os.path.relpath(pathname, hooks_d)
        for name in files:
            if name.startswith("."):
                continue
            dest = host / "usr/libexec/vdsm/hooks" / rel / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes((Path(pathname) / name).read_bytes())  # content only: otopi's FileTransaction
    packages: list[str] = []
    packages_d = plugin_dir / "packages.d"
    for name in sorted(os.listdir(packages_d)):
        if not name.startswith(".") and name.endswith(distribution):
            packages += (packages_d / name).read_text().splitlines()
    return packages


def _tree(top: Path) -> dict[str, tuple[int, bytes | None, int]]:
    out = {}
    for p in sorted(top.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(top))] = (st.st_mode, p.read_bytes() if p.is_file() else None, int(st.st_mtime))
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("hd") / "plugins"
    proc = run("export", "host-deploy", *(str(EXAMPLES / m) for m in HOOK_MAPS), "--distro", "all",
               "--out", str(out), "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out, json.loads(proc.stdout)


def test_two_hook_maps_give_the_tree_and_one_list_per_distribution_id(exported) -> None:
    out, data = exported
    assert sorted(p.name for p in out.iterdir()) == ["vdsmhooks"]
    lists = sorted(p.name for p in (out / "vdsmhooks/packages.d").iterdir())
    assert lists == sorted(f"{m}.{i}" for m in HOOK_MAPS for i in IDS)
    for m in HOOK_MAPS:
        for i in IDS:
            assert (out / f"vdsmhooks/packages.d/{m}.{i}").read_text() == f"{m}\n"
    assert data["profiles_without_id"] == ["opensuse-leap"]
    assert data["package_lists"] == {f"{m}.{i}": [m] for m in HOOK_MAPS for i in IDS}
    # what hooks.d cannot carry is said, and comes with the packages
    assert "/etc/sudoers.d/50_vdsm_hook_ipcheck" in data["package_only"]
    assert "/usr/lib/systemd/system/vdsm-ipcheck.service" in data["package_only"]


def test_hooks_are_executable_and_helpers_are_not(exported) -> None:
    out, data = exported
    hooks_d = out / "vdsmhooks/hooks.d"
    modes = {str(p.relative_to(hooks_d)): p.stat().st_mode & 0o7777 for p in hooks_d.rglob("*") if p.is_file()}
    assert modes == {
        "after_get_stats/10_ipcheck": 0o755,
        "after_get_stats/ipcheck_utils.py": 0o644,  # VDSM would run it if it were executable
        "after_vdsm_stop/10_ipcheck": 0o755,
        "after_vm_destroy/50_acme": 0o755,
        "before_vdsm_start/10_ipcheck": 0o755,
        "before_vm_start/50_acme": 0o755,
        "ipcheckd": 0o755,
    }
    listed = {f["path"]: f["mode"] for f in data["files"]}
    assert all(listed[f"vdsmhooks/hooks.d/{k}"] == f"{v:04o}" for k, v in modes.items())


@pytest.mark.parametrize("distro", ["fedora", "el9", "debian", "ubuntu"])
def test_host_deploy_reads_the_tree_and_the_packages_carry_the_same_hooks(exported, tmp_path, distro) -> None:
    out, _ = exported
    for distribution in load_profile(distro).host_deploy_ids:
        host = tmp_path / distribution
        packages = _host_deploy_reads(out / "vdsmhooks", distribution, host)
        assert packages == list(HOOK_MAPS)
        copied = {str(p.relative_to(host / "usr/libexec/vdsm/hooks")): p.read_bytes()
                  for p in host.rglob("*") if p.is_file()}  # fmt: skip
        # each listed package, built for this profile, installs the same bytes, with the execute bit
        # (the copy above arrives 0644: the package's install, run first, is what makes hooks run)
        shipped: dict[str, tuple[int, str, str]] = {}
        for name in packages:
            resolved = resolve_dir(EXAMPLES / name, distro)
            hooks = load_profile(distro).dirs["libexecdir"] + "/vdsm/hooks/"
            info = read_artifact(build(resolved, tmp_path / f"{distro}-{name}")[0].path)
            shipped.update({o.path[len(hooks) :]: (o.mode, o.digest, o.digest_algo) for o in info.entries
                            if o.path.startswith(hooks) and o.kind.value == "file"})  # fmt: skip
        assert set(copied) == set(shipped)
        for rel, data in copied.items():
            mode, digest, algo = shipped[rel]
            assert digest == hashlib.new(algo, data).hexdigest(), rel
            assert bool(mode & 0o111) == (not rel.endswith(".py")), rel


def test_export_is_reproducible_and_replaces_only_its_own_directories(tmp_path) -> None:
    out = tmp_path / "out"
    (out / "other-plugin").mkdir(parents=True)
    (out / "other-plugin/keep").write_text("mine\n")
    args = ["export", "host-deploy", *(str(EXAMPLES / m) for m in HOOK_MAPS), "--out", str(out)]
    env_epoch = os.environ["SOURCE_DATE_EPOCH"]
    assert run(*args).returncode == 0
    first = _tree(out / "vdsmhooks")
    assert {m for _, _, m in first.values()} == {int(env_epoch)}
    assert run(*args).returncode == 0
    assert _tree(out / "vdsmhooks") == first
    assert (out / "other-plugin/keep").read_text() == "mine\n"
    assert sorted(p.name for p in out.iterdir()) == ["other-plugin", "vdsmhooks"]  # no temporary left


def test_otopi_plugin_carries_a_built_rpm(tmp_path) -> None:
    rpm = build(resolve_dir(EXAMPLES / "vdsm-hook-ipcheck", "el9"), tmp_path / "rpm")[0].path
    out = tmp_path / "plugins"
    proc = run("export", "host-deploy", str(EXAMPLES / DRIVER), "--carry", rpm, "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    plugin = out / "acme_driver"
    assert sorted(p.name for p in plugin.iterdir()) == sorted(["__init__.py", Path(rpm).name, "packages.py"])
    assert (plugin / Path(rpm).name).read_bytes() == Path(rpm).read_bytes()
    assert (plugin / "__init__.py").read_bytes() == (EXAMPLES / DRIVER / "plugins/acme_driver/__init__.py").read_bytes()
    assert {p.stat().st_mode & 0o777 for p in plugin.iterdir()} == {0o644}
    # otopi finds createPlugins in the directory it loads
    assert "def createPlugins(context)" in (plugin / "__init__.py").read_text()


def test_otopi_plugin_without_the_package_its_code_installs_is_refused(tmp_path) -> None:
    out = tmp_path / "plugins"
    proc = run("export", "host-deploy", str(EXAMPLES / DRIVER), "--out", str(out), "--json")
    assert proc.returncode == 2
    data = json.loads(proc.stdout)
    (diag,) = data["diagnostics"]
    assert diag["rule"] == "otopi-plugin-missing-file" and diag["path"] == "*.rpm"
    assert "acme_driver/packages.py" in diag["message"]
    assert diag["file"] == str(EXAMPLES / DRIVER / "pkgtool.toml")
    assert not out.exists()


def _hook_map(root: Path, name: str, body: str, files: dict[str, tuple[bytes, int]], kind="vdsm-hook") -> Path:
    root.mkdir(parents=True)
    (root / "pkgtool.toml").write_text(
        f'schema = 1\n\n[package]\nname = "{name}"\nversion = "1.0"\nsummary = "Test hook"\n'
        f'description = "A test."\nlicense = "MIT"\nmaintainer = "T <t@example.org>"\nkind = "{kind}"\n\n{body}'
    )
    for rel, (data, mode) in files.items():
        (root / rel).write_bytes(data)
        (root / rel).chmod(mode)
    return root


HOOK = '[[file]]\nsrc = "h"\ndst = "{libexecdir}/vdsm/hooks/before_vm_start/50_t"\nmode = "0755"\n'


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("conflict", "give it different contents"),
        ("symlink", "is a symlink; ovirt-host-deploy copies the contents of regular files only"),
        ("app", "package.kind is 'app'"),
        ("carry-not-a-package", "not an .rpm or .deb package"),
        ("carry-without-plugin", "--carry puts files into one otopi plugin directory"),
        ("source-symlink-out", "leads outside the layout directory through a symlink"),
        ("dst-climbs-out", "has a '.' or '..' segment"),
        ("out-is-a-file", "which is not a directory"),
    ],
)
def test_refusals_are_one_screen_and_write_nothing(tmp_path, case: str, message: str) -> None:
    a = _hook_map(tmp_path / "a", "vdsm-hook-a", HOOK, {"h": (b"#!/bin/sh\nexit 0\n", 0o755)})
    args = [str(a)]
    if case == "conflict":
        args.append(str(_hook_map(tmp_path / "b", "vdsm-hook-b", HOOK, {"h": (b"#!/bin/sh\nexit 1\n", 0o755)})))
    elif case == "symlink":
        body = '[[symlink]]\npath = "{libexecdir}/vdsm/hooks/before_vm_start/60_t"\ntarget = "/bin/true"\n'
        args = [str(_hook_map(tmp_path / "s", "vdsm-hook-s", body, {}))]
    elif case == "app":
        args = [str(EXAMPLES / "convirt")]
    elif case == "carry-not-a-package":
        (tmp_path / "evil.deb").write_bytes(b"#!/bin/sh\nrm -rf /\n")
        args = [str(EXAMPLES / DRIVER), "--carry", str(tmp_path / "evil.deb")]
    elif case == "carry-without-plugin":
        args += ["--carry", str(tmp_path / "x.rpm")]
    elif case == "source-symlink-out":
        (tmp_path / "secret").write_text("secret\n")
        args = [str(_hook_map(tmp_path / "l", "vdsm-hook-l", HOOK, {}))]
        (tmp_path / "l/h").symlink_to(tmp_path / "secret")
    elif case == "dst-climbs-out":
        body = HOOK.replace("before_vm_start/50_t", "../../../../../../escaped")
        args = [str(_hook_map(tmp_path / "c", "vdsm-hook-c", body, {"h": (b"#!/bin/sh\n", 0o755)}))]
    out = tmp_path / "out"
    if case == "out-is-a-file":
        out = tmp_path / "a" / "pkgtool.toml" / "sub"
    proc = run("export", "host-deploy", *args, "--out", str(out))
    assert proc.returncode == 2, proc.stdout
    assert message in proc.stderr and len(proc.stderr.splitlines()) <= 4, proc.stderr
    assert not (tmp_path / "out").exists()
    assert {p.name for p in tmp_path.iterdir()} <= {"a", "b", "c", "evil.deb", "l", "s", "secret"}


def test_host_deploy_ids_are_checked_where_they_are_written(tmp_path) -> None:
    (tmp_path / "distros").mkdir()
    (tmp_path / "distros/fedora.toml").write_text('inherits = "fedora"\n\nhost_deploy_ids = ["fedora", "../x"]\n')
    with pytest.raises(ProfileError, match=r"fedora.toml:3: host_deploy_ids: '\.\./x' is not a distribution id"):
        load_profile("fedora", tmp_path)
    (tmp_path / "distros/fedora.toml").write_text('inherits = "fedora"\nhost_deploy_ids = "fedora"\n')
    with pytest.raises(ProfileError, match="must be a list of strings"):
        load_profile("fedora", tmp_path)


def test_shipped_profiles_map_to_the_ids_python_gives() -> None:
    ids = {d: load_profile(d).host_deploy_ids for d in ("fedora", "el9", "opensuse-leap", "debian", "ubuntu")}
    assert ids == {
        "fedora": ("fedora",),
        "el9": ("redhat", "centos"),
        "opensuse-leap": (),
        "debian": ("debian",),
        "ubuntu": ("debian",),
    }


def _shown_commands(text: str) -> list[str]:
    return [line.split("#")[0].strip() for line in text.splitlines() if line.startswith("pkgtool ")]


def test_every_command_the_docs_show_runs(tmp_path) -> None:
    (tmp_path / "examples").symlink_to(EXAMPLES)
    doc = (REPO / "docs/host-deploy.md").read_text()
    shown = _shown_commands(doc)
    readme = [
        c for c in _shown_commands((REPO / "README.md").read_text()) if c.startswith("pkgtool export host-deploy")
    ]
    assert len(shown) >= 3 and readme and set(readme) <= set(shown)
    for command in shown:
        proc = run(*shlex.split(command)[1:], cwd=tmp_path)
        assert proc.returncode == 0, (command, proc.stderr)
    assert (tmp_path / "dist/host-deploy/vdsmhooks/hooks.d/after_get_stats/10_ipcheck").stat().st_mode & 0o111
    assert any(p.suffix == ".rpm" for p in (tmp_path / "dist/host-deploy/acme_driver").iterdir())
    shutil.rmtree(tmp_path / "dist")
