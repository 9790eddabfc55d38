"""Templated files, [vars] and the profiles' package directories, down to what rpmbuild and dpkg-buildpackage install."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from tooling import require_tools

from pkgtool.errors import ResolveError
from pkgtool.formats.build import build
from pkgtool.formats.deb.debian_dir import debian_files
from pkgtool.formats.rpm.spec import render_spec
from pkgtool.project import resolve_dir
from pkgtool.sources.staging import staged_sources
from pkgtool.verify.artifact import verify_artifact

MAP = """\
schema = 2

[package]
name = "hooky"
version = "1.2"
release = "3"
summary = "Templated files"
description = "A unit whose ExecStart is right on every distro."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"

[vars]
hooksdir = "{libexecdir}/hooky/hooks"
odd = "a&b|c\\\\d %{{x}} $HOME 'q'"

[[file]]
src = "hooky.service.in"
dst = "{unitdir}/hooky.service"
template = true

[[file]]
src = "sudoers.in"
dst = "{sudoersdir}/"
template = true
mode = "0440"

[[file]]
src = "99-hooky.rules"
dst = "{udevrulesdir}/"

[[file]]
src = "checkips"
dst = "{hooksdir}/before_vm_start/"
"""

UNIT = """[Unit]
Description=hooky @VERSION@-@RELEASE@

[Service]
ExecStart=@HOOKSDIR@/run @NAME@
Environment=ODD=@ODD@
"""
# No newline at the end: sed and the native fill must agree on that too.
SUDOERS = "vdsm ALL=(ALL) NOPASSWD: @LIBEXECDIR@/hooky/helper, @BINDIR@/true"


def _project(tmp_path: Path, unit: str = UNIT) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pkgtool.toml").write_text(MAP)
    (root / "hooky.service.in").write_text(unit)
    (root / "sudoers.in").write_text(SUDOERS)
    (root / "99-hooky.rules").write_text('ACTION=="add", RUN+="/bin/true"\n')
    (root / "checkips").write_text("#!/bin/sh\nexit 0\n")
    (root / "checkips").chmod(0o755)
    return root


ODD = "a&b|c\\d %{x} $HOME 'q'"


def _expected(libexecdir: str) -> dict[str, str]:
    return {
        "hooky.service": UNIT.replace("@VERSION@", "1.2")
        .replace("@RELEASE@", "3")
        .replace("@HOOKSDIR@", f"{libexecdir}/hooky/hooks")
        .replace("@NAME@", "hooky")
        .replace("@ODD@", ODD),
        "sudoers": SUDOERS.replace("@LIBEXECDIR@", libexecdir).replace("@BINDIR@", "/usr/bin"),
    }


@pytest.mark.parametrize(("distro", "libexecdir"), [("fedora", "/usr/libexec"), ("opensuse-leap", "/usr/lib")])
def test_staging_fills_templates_from_profile_vars_and_metadata(tmp_path: Path, distro: str, libexecdir: str):
    resolved = resolve_dir(_project(tmp_path), distro)
    paths = {e.path for e in resolved.files}
    assert {
        "/usr/lib/systemd/system/hooky.service",
        "/etc/sudoers.d/sudoers",  # a directory dst drops a template's .in
        "/usr/lib/udev/rules.d/99-hooky.rules",
        f"{libexecdir}/hooky/hooks/before_vm_start/checkips",
    } == paths
    with staged_sources(resolved) as tree:
        assert (tree / "hooky.service.in").read_text() == _expected(libexecdir)["hooky.service"]
        assert (tree / "sudoers.in").read_text() == _expected(libexecdir)["sudoers"]
    assert (resolved.root / "hooky.service.in").read_text() == UNIT  # the user's tree is never written


def test_spec_and_rules_use_the_distro_macros_and_sed(tmp_path: Path):
    root = _project(tmp_path)
    spec = render_spec(resolve_dir(root, "fedora"))
    assert "%{_udevrulesdir}/99-hooky.rules" in spec and "%{_unitdir}/hooky.service" in spec
    assert "%{!?_udevrulesdir:%global _udevrulesdir /usr/lib/udev/rules.d}" in spec
    assert "LC_ALL=C sed -i -e 's|@VERSION@|1.2|g'" in spec
    rules = {f.rel: f.text for f in debian_files(resolve_dir(root, "debian"))}["rules"]
    assert "debian/hooky/lib/udev/rules.d" in rules and "$$HOME" in rules


def test_an_unknown_name_names_the_file_line_and_item(tmp_path: Path):
    root = _project(tmp_path, unit=UNIT + "User=@HOOKS_USER@\n")
    resolved = resolve_dir(root, "debian")
    with pytest.raises(ResolveError) as info, staged_sources(resolved):
        pass
    (diag,) = info.value.diagnostics
    assert (diag.rule, diag.location.file, diag.location.line) == ("unknown-placeholder", "hooky.service.in", 7)
    assert "file[0]" in diag.message and "@HOOKSDIR@" in diag.hint


def test_vars_may_not_hide_a_profile_directory(tmp_path: Path):
    root = _project(tmp_path)
    text = (root / "pkgtool.toml").read_text().replace("[vars]\n", '[vars]\nbindir = "/opt/bin"\n')
    (root / "pkgtool.toml").write_text(text)
    with pytest.raises(ResolveError) as info:
        resolve_dir(root, "fedora")
    assert [(d.rule, d.location.key, d.location.line) for d in info.value.diagnostics] == [
        ("bad-value", "vars.bindir", 13)
    ]


def test_an_unknown_placeholder_suggests_the_nearest(tmp_path: Path):
    root = _project(tmp_path)
    text = (root / "pkgtool.toml").read_text().replace("{udevrulesdir}", "{udevrulesdirs}")
    (root / "pkgtool.toml").write_text(text)
    with pytest.raises(ResolveError) as info:
        resolve_dir(root, "fedora")
    (diag,) = info.value.diagnostics
    assert diag.rule == "unknown-placeholder" and "did you mean {udevrulesdir}?" in diag.hint


def _installed(artifact: Path, dest: Path) -> Path:
    dest.mkdir()
    if artifact.suffix == ".deb":
        subprocess.run(["dpkg-deb", "-x", str(artifact), str(dest)], check=True)
    else:
        rpm2cpio = subprocess.run(["rpm2cpio", str(artifact)], check=True, capture_output=True).stdout
        subprocess.run(["cpio", "-idm", "--quiet"], input=rpm2cpio, cwd=dest, check=True)
    return dest


@pytest.mark.parametrize(
    ("distro", "tools"),
    [("fedora", ("rpmbuild",)), ("opensuse-leap", ("rpmbuild",)), ("debian", ("dpkg-buildpackage", "dh", "fakeroot"))],
)
def test_system_and_native_builds_install_the_same_bytes(tmp_path: Path, distro: str, tools: tuple[str, ...]):
    require_tools(*tools)
    resolved = resolve_dir(_project(tmp_path), distro, 1736121600)
    trees = {}
    for backend in ("system", "native"):
        (binary,) = [
            a for a in build(resolved, tmp_path / backend, backend=backend, timeout=300) if a.format in ("rpm", "deb")
        ]
        report = verify_artifact(resolved, binary.path)
        assert report.ok, report.to_text()
        trees[backend] = _installed(Path(binary.path), tmp_path / f"{backend}-root")
    libexecdir = resolved.profile.dirs["libexecdir"]
    expected = _expected(libexecdir)
    unit = resolved.profile.dirs["unitdir"].lstrip("/") + "/hooky.service"
    for backend, tree in trees.items():
        assert (tree / unit).read_text() == expected["hooky.service"], backend
        assert (tree / "etc/sudoers.d/sudoers").read_text() == expected["sudoers"], backend
        assert (tree / "etc/sudoers.d/sudoers").stat().st_mode & 0o777 == 0o440, backend
        rules = resolved.profile.dirs["udevrulesdir"].lstrip("/") + "/99-hooky.rules"
        assert (tree / rules).is_file(), backend
        assert (tree / libexecdir.lstrip("/") / "hooky/hooks/before_vm_start/checkips").is_file(), backend


@pytest.mark.parametrize(
    ("written", "canonical", "deb"),
    [
        ("amd64", "x86_64", "amd64"),
        ("x86_64", "x86_64", "amd64"),
        ("arm64", "aarch64", "arm64"),
        ("all", "noarch", "all"),
    ]
    + [("ppc64el", "ppc64le", "ppc64el"), ("i386", "i686", "i386"), ("s390x", "s390x", "s390x")],
)
def test_either_family_spelling_of_an_arch(tmp_path: Path, written: str, canonical: str, deb: str):
    from pkgtool.arches import deb_name
    from pkgtool.layout.load import load_layout

    root = _project(tmp_path)
    (root / "pkgtool.toml").write_text(MAP.replace('release = "3"', f'release = "3"\narch = "{written}"'))
    assert load_layout(root).package.arch == canonical
    assert deb_name(canonical) == deb


def test_an_unknown_arch_is_located_with_did_you_mean(tmp_path: Path):
    from pkgtool.errors import LayoutError
    from pkgtool.layout.load import load_layout

    root = _project(tmp_path)
    (root / "pkgtool.toml").write_text(MAP.replace('release = "3"', 'release = "3"\narch = "amd46"'))
    with pytest.raises(LayoutError) as info:
        load_layout(root)
    (diag,) = info.value.diagnostics
    assert (diag.rule, diag.location.key, diag.location.line) == ("bad-value", "package.arch", 7)
    assert "did you mean 'amd64'?" in diag.hint


def test_an_arm64_package_is_named_per_family(tmp_path: Path):
    """aarch64 in the map: ExclusiveArch aarch64 in the spec, Architecture arm64 in debian/control."""
    root = _project(tmp_path)
    (root / "pkgtool.toml").write_text(MAP.replace('release = "3"', 'release = "3"\narch = "arm64"'))
    assert re.search(r"^ExclusiveArch: +aarch64$", render_spec(resolve_dir(root, "fedora")), re.M)
    control = {f.rel: f.text for f in debian_files(resolve_dir(root, "debian"))}["control"]
    assert "Architecture: arm64" in control
