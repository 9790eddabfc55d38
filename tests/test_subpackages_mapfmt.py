"""Sub-packages together with schema 2 overrides, templated files and the arch vocabulary."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from subpkg_map import MAP, write_project
from tooling import require_tools

from pkgtool.errors import LayoutError
from pkgtool.formats.build import build
from pkgtool.formats.deb.debian_dir import debian_files
from pkgtool.formats.rpm.spec import render_spec
from pkgtool.layout.load import load_layout
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import verify_artifact

EPOCH = 1736121600

TEMPLATED = """
[[file]]
src = "src/net.conf.in"
dst = "{sysconfdir}/acme/net.conf"
template = true
package = "acme-hooks-net"
"""


def _schema2(extra: str = "") -> str:
    return MAP.replace("schema = 1", "schema = 2") + extra


def _with_template(root: Path) -> Path:
    write_project(root, _schema2(TEMPLATED))
    (root / "src/net.conf.in").write_text("hooks = @LIBEXECDIR@/acme/hooks\nversion = @VERSION@\n")
    return root


def test_an_override_adds_a_subpackage_and_entries_claim_the_top_level_ones(tmp_path: Path):
    extra = """
[[distro.debian.subpackage]]
name = "-doc"
summary = "Documentation of the acme hooks"

[[distro.debian.file]]
src = "src/acme.conf"
dst = "/usr/share/doc/acme-hooks-doc/acme.conf.example"
package = "-doc"
"""
    lay = load_layout(write_project(tmp_path / "p", _schema2(extra)))
    deb = lay.variants["debian"]
    assert [s.name for s in deb.subpackages] == ["acme-hooks-helper", "acme-hooks-net", "acme-hooks-doc"]
    # The top-level files are all still there, with the packages they claimed.
    assert [f.package for f in deb.files] == ["", "", "acme-hooks-helper", "acme-hooks-net", "acme-hooks-doc"]
    assert [s.name for s in lay.subpackages] == ["acme-hooks-helper", "acme-hooks-net"]


def test_an_override_replaces_and_removes_subpackages_by_name(tmp_path: Path):
    extra = """
[[distro.debian.subpackage]]
name = "-helper"
summary = "Helper, Debian flavour"

[[distro.fedora.subpackage]]
name = "no-such-package"
remove = true
"""
    with pytest.raises(LayoutError) as exc:
        load_layout(write_project(tmp_path / "bad", _schema2(extra)))
    d = next(d for d in exc.value.diagnostics if "no-such-package" in d.message)
    assert d.location.key == "distro.fedora.subpackage[0]" and d.location.line is not None
    lay = load_layout(write_project(tmp_path / "p", _schema2(extra.split("[[distro.fedora")[0])))
    assert [s.summary for s in lay.variants["debian"].subpackages] == [
        "Helper, Debian flavour",
        "Network hook for the acme host agent",
    ]


def test_a_subpackage_arch_takes_either_spelling(tmp_path: Path):
    text = MAP.replace('description = "A small helper script the acme hooks call."\narch = "noarch"', 'arch = "amd64"')
    lay = load_layout(write_project(tmp_path / "p", text))
    assert lay.subpackages[0].arch == "x86_64"
    with pytest.raises(LayoutError) as exc:
        load_layout(write_project(tmp_path / "q", text.replace('arch = "amd64"', 'arch = "amd46"')))
    assert any(d.location.key == "subpackage[0].arch" for d in exc.value.diagnostics)


@pytest.mark.parametrize("distro", ["fedora", "debian"])
def test_a_subpackage_template_is_filled_by_sed_in_the_sources(tmp_path: Path, distro: str):
    resolved = resolve_dir(_with_template(tmp_path / "p"), distro, EPOCH)
    if distro == "fedora":
        text = render_spec(resolved)
    else:
        text = next(f.text for f in debian_files(resolved, {}) if f.rel == "rules")
    line = next(x for x in text.splitlines() if "sed -i" in x)
    assert "net.conf" in line and "@LIBEXECDIR@" in line


@pytest.mark.parametrize(
    ("distro", "tools"),
    [("fedora", ("rpmbuild",)), ("debian", ("dpkg-buildpackage", "dh", "fakeroot"))],
)
def test_a_subpackage_template_is_the_same_in_system_and_native_builds(tmp_path: Path, distro: str, tools):
    require_tools(*tools)
    resolved = resolve_dir(_with_template(tmp_path / "p"), distro, EPOCH)
    libexecdir = resolved.profile.dirs["libexecdir"]
    want = f"hooks = {libexecdir}/acme/hooks\nversion = 1.2\n"
    net = resolved.select(["acme-hooks-net"])[0]
    for backend in ("native", "system"):
        artifacts = [
            a for a in build(resolved, tmp_path / backend, backend=backend, timeout=300) if "net" in Path(a.path).name
        ]
        (binary,) = [a for a in artifacts if a.format in ("rpm", "deb")]
        report = verify_artifact(net, binary.path)
        assert report.ok, report.to_text()
        dest = tmp_path / f"{backend}-root"
        dest.mkdir()
        if distro == "debian":
            subprocess.run(["dpkg-deb", "-x", binary.path, str(dest)], check=True)
        else:
            cpio = subprocess.run(["rpm2cpio", binary.path], check=True, capture_output=True).stdout
            subprocess.run(["cpio", "-idm", "--quiet"], input=cpio, cwd=dest, check=True)
        assert (dest / "etc/acme/net.conf").read_text() == want, backend
