"""examples/vdsm-hooks-acme: three hook packages from one tree, lint clean, built for all five profiles
by both backends, native == system for every package, checked by rpmlint and lintian, installed by rpm
and dpkg into throwaway roots, verified."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import EXAMPLES
from test_deb_system import _seed_root
from tooling import require_root, require_tools

from pkgtool.formats.read import read_artifact
from pkgtool.lint.engine import lint_project
from pkgtool.profiles import list_profiles
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import verify_artifact
from pkgtool.verify.root import verify_root

pytestmark = pytest.mark.tools

EXAMPLE = EXAMPLES / "vdsm-hooks-acme"
EPOCH = 1736121600
NAMES = ["vdsm-hook-acme", "vdsm-hook-acme-bridge", "vdsm-hook-acme-smbios"]
DISTROS = [p.id for p in list_profiles()]


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """{distro: (resolved, {name: native}, {name: system}, generated dir)} for the five profiles."""
    require_tools("rpmbuild", "dpkg-buildpackage")
    out = {}
    for distro in DISTROS:
        r = resolve_dir(EXAMPLE, distro, source_date_epoch=EPOCH)
        base = tmp_path_factory.mktemp(distro)
        from pkgtool.formats.base import BuildOptions, format_for

        fmt = format_for(r.profile.family)
        native = fmt.builders()["native"](r, base / "native", BuildOptions())
        system = fmt.builders()["system"](r, base / "system", BuildOptions(timeout=300))
        fmt.generate(r, base / "generated")
        binary = [p for p in system if p.suffix == fmt.suffix and not p.name.endswith(".src.rpm")]
        out[distro] = (
            r,
            {read_artifact(p).name: p for p in native},
            {read_artifact(p).name: p for p in binary},
            base,
            system,
        )
    return out


def test_lints_clean_on_every_profile():
    report = lint_project(EXAMPLE)
    assert report.findings == (), report.to_text()
    assert len(report.distros) == 5


def test_the_helper_is_in_two_hook_points_of_the_main_package():
    r = resolve_dir(EXAMPLE, "fedora", source_date_epoch=EPOCH)
    sources = {e.path: e.source for e in r.files}
    hooks = "/usr/libexec/vdsm/hooks"
    assert sources[f"{hooks}/before_vm_start/10_acme_log"] == sources[f"{hooks}/after_vm_destroy/10_acme_log"]
    # The hook points are vdsm's: none of the three packages owns them.
    assert not [e.path for p in r.packages for e in p.owned if e.path.rpartition("/")[0] == hooks]


@pytest.mark.parametrize("distro", DISTROS)
def test_native_and_system_agree_for_every_package(built, distro):
    r, native, system, _, _ = built[distro]
    assert sorted(native) == sorted(system) == NAMES
    for name in NAMES:
        n, s = read_artifact(native[name]), read_artifact(system[name])
        assert [(o.path, o.kind, o.mode, o.owner, o.group, o.target, o.config, o.digest) for o in n.entries] == [
            (o.path, o.kind, o.mode, o.owner, o.group, o.target, o.config, o.digest) for o in s.entries
        ], name
        assert n.relations == s.relations and n.scripts == s.scripts, name
        for art in (native[name], system[name]):
            report = verify_artifact(r, art)  # picks the package the artifact names
            assert report.ok, report.to_text()


def test_rpmlint_and_lintian_find_no_errors(built):
    require_tools("rpmlint", "lintian")
    _, _, system, base, outputs = built["fedora"]
    gen = base / "generated"
    proc = _run(
        "rpmlint",
        "-c",
        str(gen / "vdsm-hook-acme-rpmlint.toml"),
        "-r",
        str(gen / "vdsm-hook-acme.rpmlintrc"),
        *map(str, system.values()),
        check=False,
    )
    assert " 0 errors" in proc.stdout, proc.stdout
    assert "unused-rpmlintrc-filter" not in proc.stdout
    _, _, debs, _, deb_outputs = built["debian"]
    dsc = [p for p in deb_outputs if p.suffix == ".dsc"]
    proc = _run("lintian", "--no-cfg", *map(str, [*debs.values(), *dsc]), check=False)
    assert not [x for x in (proc.stdout + proc.stderr).splitlines() if x.startswith("E:")], proc.stdout


@pytest.mark.parametrize("backend", ["native", "system"])
def test_rpm_root_install_and_verify(built, backend, tmp_path):
    require_root()
    r, native, system, _, _ = built["fedora"]
    rpms = native if backend == "native" else system
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    for f in ("passwd", "group"):
        shutil.copy(f"/etc/{f}", root / "etc" / f)
    db = ["--root", str(root), "--dbpath", "/var/lib/rpm"]
    _run("rpm", *db, "--initdb")
    res = _run("rpm", *db, "-i", "--nodeps", "--noscripts", *map(str, rpms.values()), check=False)
    assert res.returncode == 0, res.stderr
    v = _run("rpm", *db, "-V", "--nodeps", *NAMES, check=False)
    assert v.returncode == 0 and v.stdout == "", v.stdout + v.stderr
    for p in r.packages:
        report = verify_root(p, root, r.packages)
        assert report.ok, report.to_text()


@pytest.mark.parametrize("backend", ["native", "system"])
def test_dpkg_root_install_and_verify(built, backend, tmp_path):
    require_root()
    require_tools("dpkg", "ldd")
    r, native, system, _, _ = built["debian"]
    debs = native if backend == "native" else system
    root = tmp_path / "root"
    _seed_root(root)
    # --force-depends: vdsm is not in the throwaway root; the packages' own relations are met among them.
    proc = _run("dpkg", f"--root={root}", "--force-depends", "-i", *map(str, debs.values()), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    status = (root / "var/lib/dpkg/status").read_text()
    assert status.count("Status: install ok installed") == 3
    for p in r.packages:
        report = verify_root(p, root, r.packages)
        assert report.ok, report.to_text()


def test_pkgtool_install_and_verify_every_profile(tmp_path):
    for distro in DISTROS:
        r = resolve_dir(EXAMPLE, distro, source_date_epoch=EPOCH)
        root = tmp_path / distro
        from pkgtool.install.apply import install

        for p in r.packages:
            install(p, root)
        for p in r.packages:
            report = verify_root(p, root, r.packages)
            assert report.ok, f"{distro}: {report.to_text()}"


@pytest.mark.parametrize("distro", DISTROS)
def test_templated_unit_points_at_the_distros_hook(built, distro):
    """vdsm-acme-bridge.service.in is filled per distro: its @LIBEXECDIR@ is the profile's, in both builds."""
    r, native, system, _, _ = built[distro]
    libexec = r.profile.dirs["libexecdir"]
    want = f"ExecStartPost=/bin/test -x {libexec}/vdsm/hooks/before_device_create/50_acme_bridge\n"
    for art in (native["vdsm-hook-acme-bridge"], system["vdsm-hook-acme-bridge"]):
        if art.suffix == ".rpm":
            cmd = f"rpm2cpio {art} | cpio -i --quiet --to-stdout '*/vdsm-acme-bridge.service'"
        else:
            cmd = f"dpkg-deb --fsys-tarfile {art} | tar -xO --wildcards '*/vdsm-acme-bridge.service'"
        text = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, check=True).stdout
        assert want in text, (art, text)
        assert "@" not in text.replace("(vdsm-hook-acme-bridge 2.0.1)", ""), text
