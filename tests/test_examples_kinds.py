"""Every example under examples/: lint clean on the five profiles, built natively for each, installed and verified.

There is an example of every plugin kind, each modelled on a real project's layout. The
examples that no other test builds with the distro's own tools are built here with rpmbuild and
dpkg-buildpackage (with lintian), and held against the map like the native packages.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES
from tooling import require_tools

from pkgtool.formats.build import build
from pkgtool.formats.generate import generate
from pkgtool.install.apply import install
from pkgtool.kinds import KIND_NAMES
from pkgtool.layout.load import load_layout
from pkgtool.lint import lint_project
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import verify_artifact
from pkgtool.verify.root import verify_root

DISTROS = ("fedora", "el9", "opensuse-leap", "debian", "ubuntu")
# examples/broken is README's error example: a map with mistakes on purpose (tests/test_docs_commands.py).
ALL_EXAMPLES = tuple(sorted(p.parent.name for p in EXAMPLES.glob("*/pkgtool.toml") if p.parent.name != "broken"))


def test_every_kind_has_an_example() -> None:
    kinds = {load_layout(EXAMPLES / name).package.kind for name in ALL_EXAMPLES}
    assert kinds == set(KIND_NAMES)


@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_example_lints_clean_on_every_profile(example: str) -> None:
    report = lint_project(EXAMPLES / example, list(DISTROS))
    assert report.findings == (), report.to_text()
    assert report.ok and set(report.distros) == set(DISTROS)


@pytest.mark.parametrize("distro", DISTROS)
@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_example_builds_installs_and_verifies(tmp_path: Path, example: str, distro: str) -> None:
    resolved = resolve_dir(EXAMPLES / example, distro)
    artifacts = build(resolved, tmp_path / "out")
    # One artifact per binary package, the main one first (a map may declare sub-packages).
    assert len(artifacts) == len(resolved.packages)
    root = tmp_path / "root"
    for package, artifact in zip(resolved.packages, artifacts, strict=True):
        report = verify_artifact(package, artifact.path)
        assert report.ok, report.to_text()
        install(package, root)
    for package in resolved.packages:
        report = verify_root(package, root, others=resolved.packages)
        assert report.ok, report.to_text()
        hooks = [e for e in package.files if e.mode & 0o111]
        for e in hooks:  # what the host runs arrives executable
            assert (root / e.path.lstrip("/")).stat().st_mode & 0o777 == e.mode


# The new examples, through the distros' own tools (one rpm and one deb profile each).
SYSTEM = ("vdsm-hook-ipcheck", "ovirt-host-deploy-acme-driver", "vdsm-hook-checkips")


@pytest.mark.parametrize("example", SYSTEM)
def test_example_builds_with_rpmbuild(tmp_path: Path, example: str) -> None:
    require_tools("rpmbuild", "rpm")
    resolved = resolve_dir(EXAMPLES / example, "el9")
    artifacts = build(resolved, tmp_path, backend="system")
    rpm = next(a for a in artifacts if a.format == "rpm")
    assert verify_artifact(resolved, rpm.path).ok
    listing = subprocess.run(["rpm", "-qp", "--qf", "[%{FILEMODES:perms} %{FILENAMES}\\n]", rpm.path],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
    for e in resolved.files:
        assert f" {e.path}\n" in listing, e.path
    require_tools("rpmlint")
    generate(resolved, tmp_path / "gen")
    name = resolved.package.name
    config = [str(tmp_path / "gen" / f"{name}-rpmlint.toml"), "-r", str(tmp_path / "gen" / f"{name}.rpmlintrc")]
    proc = subprocess.run(["rpmlint", "-c", *config, rpm.path], capture_output=True, text=True)
    assert proc.returncode == 0 and " 0 errors" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize("example", SYSTEM)
def test_example_builds_with_dpkg_buildpackage(tmp_path: Path, example: str) -> None:
    require_tools("dpkg-buildpackage", "dh", "fakeroot", "dpkg-deb")
    resolved = resolve_dir(EXAMPLES / example, "debian")
    artifacts = build(resolved, tmp_path, backend="system")
    deb = next(a for a in artifacts if a.format == "deb")
    report = verify_artifact(resolved, deb.path)
    assert report.ok, report.to_text()
    require_tools("lintian")
    proc = subprocess.run(["lintian", "--no-cfg", deb.path], capture_output=True, text=True)
    errors = [x for x in (proc.stdout + proc.stderr).splitlines() if x.startswith("E:")]
    assert errors == [], proc.stdout
