"""What a plugin kind itself requires is no rpmlint or lintian error: the generated filters waive it,
for that kind and those paths only (a DevStack plugin lives under /opt/stack by design)."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES
from tooling import require_tools

from pkgtool.formats.deb.facts import lintian_overrides
from pkgtool.formats.deb.system import build_deb_system
from pkgtool.formats.rpm.rpmlint import lint_filters
from pkgtool.formats.rpm.spec import generate_rpm
from pkgtool.formats.rpm.system import build_rpm_system
from pkgtool.project import resolve_dir

EPOCH = 1736121600
EXAMPLE = EXAMPLES / "devstack-plugin-acme"


def test_waivers_follow_the_kind() -> None:
    r = resolve_dir(EXAMPLE, "fedora", source_date_epoch=EPOCH)
    opt = sorted(f.path for f in lint_filters(r) if f.check == "dir-or-file-in-opt")
    assert opt == sorted(e.path for e in r.owned if e.path.startswith("/opt/stack/"))
    # The same tree as an app: /opt is then the packager's choice, and rpmlint may say so.
    app = dataclasses.replace(
        r, layout=dataclasses.replace(r.layout, package=dataclasses.replace(r.package, kind="app"))
    )
    assert not [f for f in lint_filters(app) if f.check == "dir-or-file-in-opt"]
    d = resolve_dir(EXAMPLE, "debian", source_date_epoch=EPOCH)
    assert "devstack-plugin-acme: dir-or-file-in-opt [opt/stack/]\n" in lintian_overrides(d)


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kind-filters")


def test_rpmlint_clean_with_the_generated_filters(out) -> None:
    require_tools("rpmbuild", "rpmlint")
    r = resolve_dir(EXAMPLE, "fedora", source_date_epoch=EPOCH)
    rpm = next(p for p in build_rpm_system(r, out / "rpm") if not p.name.endswith(".src.rpm"))
    generate_rpm(r, out / "gen")
    name = r.package.name
    cmd = ["rpmlint", "-c", str(out / "gen" / f"{name}-rpmlint.toml"), "-r", str(out / "gen" / f"{name}.rpmlintrc")]
    proc = subprocess.run([*cmd, str(rpm)], capture_output=True, text=True)
    assert proc.returncode == 0 and " 0 errors" in proc.stdout, proc.stdout + proc.stderr
    assert "unused-rpmlintrc-filter" not in proc.stdout and "dir-or-file-in-opt" not in proc.stdout


def test_lintian_clean_with_the_generated_overrides(out) -> None:
    require_tools("dpkg-buildpackage", "lintian")
    r = resolve_dir(EXAMPLE, "debian", source_date_epoch=EPOCH)
    debs = [p for p in build_deb_system(r, out / "deb") if p.suffix == ".deb"]
    proc = subprocess.run(["lintian", "--no-cfg", "-I", *map(str, debs)], capture_output=True, text=True)
    lines = proc.stdout.splitlines()
    assert not [x for x in lines if x.startswith("E:")], proc.stdout
    assert not [x for x in lines if "unused-override" in x or "dir-or-file-in-opt" in x], proc.stdout
