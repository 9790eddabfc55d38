"""The loader on the shipped examples and on small valid maps: values, defaults, variants, positions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pkgtool.errors import LayoutError
from pkgtool.layout.load import load_layout
from pkgtool.layout.tomlpos import format_path, scan
from pkgtool.model import ConfigKind, Layout, Relation

MINIMAL = """\
schema = 1

[package]
name = "demo"
version = "1.0"
summary = "A demo package"
description = "Demo."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pkgtool.toml").write_text(text)
    return tmp_path


def _relations(layout: Layout, kind: str = "requires") -> dict[str, tuple[str, str]]:
    return {r.name: (r.op, r.version) for r in layout.relations.get(kind, ())}


@pytest.mark.parametrize("name", ["convirt", "vdsm-hook-acme", "libvirt-hook-acme"])
def test_examples_load(examples_dir: Path, name: str):
    layout = load_layout(examples_dir / name)
    assert layout.package.name == name
    assert layout.root == (examples_dir / name).absolute()
    assert layout.source_file == layout.root / "pkgtool.toml"
    assert layout.schema == 1
    assert layout.changelog and layout.changelog[0].author == "Jane Packager <jane@example.org>"


def test_convirt_values(examples_dir: Path):
    layout = load_layout(examples_dir / "convirt")
    pkg = layout.package
    assert (pkg.version, pkg.release, pkg.arch, pkg.kind, pkg.epoch) == ("0.9.0", "1", "noarch", "app", None)
    assert pkg.description.startswith("ConVirt manages Xen hosts")
    assert _relations(layout)["python"] == (">=", "2.4")
    assert _relations(layout)["pygtk"] == ("", "")
    assert [t.src for t in layout.trees] == ["doc/", "src/", "install/", "image_store/"]
    assert layout.trees[0].doc is True and layout.trees[1].doc is False
    assert layout.trees[0].mode == 0o644 and layout.trees[0].dir_mode is None
    conf = layout.files[0]
    assert conf.config is ConfigKind.NOREPLACE and conf.src == "distros/{distro}/convirt.conf"
    assert layout.dirs[0].path == "/var/cache/convirt/appliance_store" and layout.dirs[0].mode == 0o755
    assert layout.symlinks[0].target == "{datadir}/convirt/install/client/ConVirt"
    assert [a.mode for a in layout.attrs] == [0o755, 0o744]
    assert layout.attrs[1].owner is None
    assert layout.scripts == {"post-install": "packaging/post-install.sh"}
    assert layout.patches[0].file == "patches/0001-paramiko-channel-timeout.patch" and layout.patches[0].strip == 1
    assert layout.changelog[0].date == dt.date(2025, 1, 6)
    assert layout.changelog[0].changes == ("First package of 0.9.0",)


def test_convirt_locations(examples_dir: Path):
    layout = load_layout(examples_dir / "convirt")
    text = (examples_dir / "convirt" / "pkgtool.toml").read_text().splitlines()
    tree2 = layout.trees[2].loc
    assert tree2 is not None and tree2.key == "tree[2]"
    assert text[tree2.line - 1] == "[[tree]]" and text[tree2.line].startswith('src = "install/"')
    python = _relations_with_loc(layout)["python"]
    assert python.loc is not None and text[python.loc.line - 1].startswith("python = ")


def _relations_with_loc(layout: Layout) -> dict[str, Relation]:
    return {r.name: r for r in layout.relations["requires"]}


def test_convirt_debian_variant(examples_dir: Path):
    layout = load_layout(examples_dir / "convirt")
    assert set(layout.variants) == {"debian"}
    debian = layout.variants["debian"]
    assert _relations(debian)["pygtk"] == (">=", "2.12")
    # The rest is merged from the top level, in the top level's order.
    assert list(_relations(debian)) == list(_relations(layout))
    assert _relations(debian)["xen"] == (">=", "3.0.4")
    assert debian.trees == layout.trees and debian.package == layout.package
    assert debian.variants == {}
    assert _relations_with_loc(debian)["pygtk"].loc.key == "distro.debian.requires.pygtk"


def test_defaults(tmp_path: Path):
    layout = load_layout(_write(tmp_path, MINIMAL))
    pkg = layout.package
    assert (pkg.release, pkg.arch, pkg.kind, pkg.url, pkg.section, pkg.epoch) == ("1", "noarch", "app", "", "", None)
    assert layout.relations == {} and layout.trees == () and layout.changelog == () and layout.variants == {}
    assert layout.lint_allow == ()


def test_path_to_the_file_itself(tmp_path: Path):
    assert load_layout(_write(tmp_path, MINIMAL) / "pkgtool.toml").package.name == "demo"


def test_contents_and_options(tmp_path: Path):
    text = (
        MINIMAL
        + """epoch = 2
arch = "native"
kind = "vdsm-hook"

[recommends]
foo = ">> 2"
bar = "<<3.0"

[[tree]]
src = "src/"
dst = "{datadir}/demo/"
dir-mode = "0750"
owner = "demo"
group = "demo"
exclude = ["*.pyc", "__pycache__"]
allow = ["world-writable"]

[[file]]
src = "demo.conf"
dst = "/etc/demo.conf"
config = true
mode = "4755"

[[attr]]
path = "/usr/share/demo/**"
group = "demo"

[lint]
allow = ["usr-local"]

[[changelog]]
version = "1.0-2"
date = "2025-02-01"
author = "Jane Packager <jane@example.org>"
changes = ["Second"]

[[changelog]]
version = "1.0-1"
date = 2025-01-06
author = "Jane Packager <jane@example.org>"
changes = ["First"]
"""
    )
    layout = load_layout(_write(tmp_path, text))
    assert layout.package.epoch == 2 and layout.package.arch == "native" and layout.package.kind == "vdsm-hook"
    # Debian's '<<' and '>>' are the map's '<' and '>'.
    assert _relations(layout, "recommends") == {"foo": (">", "2"), "bar": ("<", "3.0")}
    tree = layout.trees[0]
    assert (tree.dir_mode, tree.owner, tree.group, tree.exclude) == (0o750, "demo", "demo", ("*.pyc", "__pycache__"))
    assert tree.allow == ("world-writable",)
    assert layout.files[0].config is ConfigKind.CONFIG and layout.files[0].mode == 0o4755
    assert layout.attrs[0].group == "demo" and layout.attrs[0].mode is None
    assert layout.lint_allow == ("usr-local",)
    assert [c.date for c in layout.changelog] == [dt.date(2025, 2, 1), dt.date(2025, 1, 6)]


def test_variant_replaces_arrays_and_merges_package(tmp_path: Path):
    text = (
        MINIMAL
        + """
[requires]
a = ">= 1"

[[file]]
src = "top.conf"
dst = "/etc/top.conf"

[distro.fedora.package]
section = "Applications/System"

[[distro.fedora.file]]
src = "fedora.conf"
dst = "/etc/fedora.conf"

[distro.my-local-distro.scripts]
post-install = "post.sh"
"""
    )
    (tmp_path / "distros").mkdir()
    (tmp_path / "distros" / "my-local-distro.toml").write_text('inherits = "fedora"\n')
    layout = load_layout(_write(tmp_path, text))
    fedora = layout.variants["fedora"]
    # schema 1 keeps its meaning: an array override replaces the top-level array whole.
    assert [f.src for f in fedora.files] == ["fedora.conf"]
    assert fedora.package.section == "Applications/System" and fedora.package.name == "demo"
    assert _relations(fedora) == {"a": (">=", "1")}
    assert fedora.files[0].loc.key == "distro.fedora.file[0]"
    # A project's own profile (distros/*.toml) is a known id.
    assert layout.variants["my-local-distro"].scripts == {"post-install": "post.sh"}
    assert layout.scripts == {} and [f.src for f in layout.files] == ["top.conf"]


def test_unknown_rule_ids_are_lints_to_report(tmp_path: Path):
    """The loader checks an id's shape and does not import lint; lint reports an id it does not know."""
    from pkgtool.lint import lint_project

    text = MINIMAL + '\n[[dir]]\npath = "/var/lib/demo"\nallow = ["usr-local", "usr-locale"]\n'
    layout = load_layout(_write(tmp_path, text))
    assert layout.dirs[0].allow == ("usr-local", "usr-locale")
    report = lint_project(tmp_path, ["fedora"])
    (diag,) = report.findings
    assert (diag.rule, diag.location.key, diag.location.line) == ("unknown-rule", "dir[0].allow[1]", 13)
    assert "usr-local" in diag.hint


def test_unknown_rule_id_in_a_variant_and_in_lint_allow(tmp_path: Path):
    from pkgtool.lint import lint_project

    text = (
        MINIMAL
        + '\n[lint]\nallow = ["world-writeable"]\n\n[[distro.fedora.file]]\nsrc = "a"\ndst = "/etc/a"\nallow = ["nope"]\n'
    )
    _write(tmp_path, text)
    report = lint_project(tmp_path, ["fedora"])
    got = {(d.rule, d.location.key, d.location.line) for d in report.findings}
    assert got == {("unknown-rule", "lint.allow[0]", 12), ("unknown-rule", "distro.fedora.file[0].allow[0]", 17)}


def test_load_does_not_import_lint():
    import subprocess
    import sys

    code = "import sys, pkgtool.layout.load as m; m.load_layout; print([k for k in sys.modules if 'pkgtool.lint' in k])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_schema_too_new_stops_validation(tmp_path: Path):
    with pytest.raises(LayoutError) as info:
        load_layout(_write(tmp_path, "schema = 9\n[package]\nname = 'BAD'\n"))
    assert [d.rule for d in info.value.diagnostics] == ["schema-too-new"]


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ('"1.0 beta"', "bad-version"),
        ('""', "bad-version"),
        ('"1.0\\u0000"', "bad-version"),
        ("1.0", "bad-type"),
        ('"beta1"', "bad-version"),
    ],
)
def test_bad_versions(tmp_path: Path, value: str, rule: str):
    with pytest.raises(LayoutError) as info:
        load_layout(_write(tmp_path, MINIMAL.replace('version = "1.0"', f"version = {value}")))
    assert [(d.rule, d.location.key, d.location.line) for d in info.value.diagnostics] == [(rule, "package.version", 5)]


def test_diagnostics_are_sorted_by_line(tmp_path: Path):
    text = MINIMAL.replace('name = "demo"', 'name = "Demo"') + 'bogus = 1\n\n[[dir]]\npath = "/x"\nmode = 7\n'
    with pytest.raises(LayoutError) as info:
        load_layout(_write(tmp_path, text))
    lines = [d.location.line for d in info.value.diagnostics]
    assert lines == sorted(lines) and len(lines) == 3


# ---------------------------------------------------------------- the position scanner


def test_scan_positions():
    text = """\
a = '''x
[[fake]]
'''
b = { c = 1, "d.e" = [ {f = 1}, {g = 2} ] }
[[x.y]]
[[x.y]]
[x.y.z]
q.r = [
  1,
  2,
]
"""
    pos = scan(text)
    found = {format_path(k): v for k, v in pos.lines.items()}
    assert found["a"] == 1 and "fake" not in found
    assert found["b.c"] == 4 and found['b."d.e"[1].g'] == 4
    assert found["x.y[0]"] == 5 and found["x.y[1]"] == 6 and found["x.y[1].z"] == 7
    assert found["x.y[1].z.q.r"] == 8 and found["x.y[1].z.q.r[1]"] == 10
    # Unknown paths fall back to the nearest table that exists.
    assert pos.line(("x", "y", 1, "z", "missing")) == 7 and pos.line(("nothing",)) is None


def test_format_path_quotes_odd_keys():
    assert format_path(("tree", 2, "mode")) == "tree[2].mode"
    assert format_path(("requires", "a.b")) == 'requires."a.b"'
    assert format_path(("requires", "x\ny")) == 'requires."x\\ny"'
