"""[distro.<id>] overrides: schema 2 merges by identity, schema 1 keeps replacing, unknown ids are located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pkgtool.errors import LayoutError
from pkgtool.layout.load import load_layout

HEAD = """\
schema = {schema}

[package]
name = "demo"
version = "1.0"
summary = "A demo package"
description = "Demo."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"

[requires]
a = ">= 1"
b = ""

[scripts]
post-install = "post.sh"

[[file]]
src = "demo"
dst = "{{bindir}}/demo"

[[file]]
src = "demo.conf"
dst = "{{sysconfdir}}/demo.conf"

[[file]]
src = "doc/*.txt"
dst = "{{docdir}}/demo/"

[[dir]]
path = "/var/lib/demo"
"""


def _load(tmp_path: Path, text: str, schema: int = 2):
    (tmp_path / "pkgtool.toml").write_text(HEAD.format(schema=schema) + text)
    return load_layout(tmp_path)


def _errors(tmp_path: Path, text: str, schema: int = 2) -> set[tuple[str, str, int | None]]:
    with pytest.raises(LayoutError) as info:
        _load(tmp_path, text, schema)
    return {(d.rule, d.location.key, d.location.line) for d in info.value.diagnostics}


def test_an_added_file_keeps_the_others(tmp_path: Path):
    layout = _load(tmp_path, '\n[[distro.debian.file]]\nsrc = "debian.conf"\ndst = "{sysconfdir}/demo.d/debian.conf"\n')
    debian = layout.variants["debian"]
    assert [f.dst for f in debian.files] == [
        "{bindir}/demo",
        "{sysconfdir}/demo.conf",
        "{docdir}/demo/",
        "{sysconfdir}/demo.d/debian.conf",
    ]
    assert debian.dirs == layout.dirs and debian.scripts == layout.scripts
    assert debian.files[3].loc.key == "distro.debian.file[0]"


def test_a_twin_replaces_in_place_and_remove_drops(tmp_path: Path):
    text = """
[[distro.el9.file]]
src = "el9/demo.conf"
dst = "{sysconfdir}/demo.conf"
config = "noreplace"

[[distro.el9.file]]
dst = "{bindir}/demo"
remove = true

[[distro.el9.dir]]
path = "/var/lib/demo"
remove = true
"""
    el9 = _load(tmp_path, text).variants["el9"]
    assert [(f.src, f.dst) for f in el9.files] == [
        ("el9/demo.conf", "{sysconfdir}/demo.conf"),
        ("doc/*.txt", "{docdir}/demo/"),
    ]
    assert el9.dirs == ()


def test_a_directory_dst_is_named_by_the_file_it_receives(tmp_path: Path):
    text = '\n[[distro.fedora.file]]\nsrc = "doc/NEWS.txt"\ndst = "{docdir}/demo/"\n'
    fedora = _load(tmp_path, text).variants["fedora"]
    assert [f.src for f in fedora.files][-2:] == ["doc/*.txt", "doc/NEWS.txt"]


def test_tables_merge_key_by_key_and_false_drops(tmp_path: Path):
    text = """
[distro.debian.requires]
a = ">= 2"
b = false
c = ""

[distro.debian.scripts]
pre-remove = "pre-remove.sh"
"""
    debian = _load(tmp_path, text).variants["debian"]
    assert {r.name: r.version for r in debian.relations["requires"]} == {"a": "2", "c": ""}
    assert debian.scripts == {"post-install": "post.sh", "pre-remove": "pre-remove.sh"}


def test_schema_1_keeps_replacing_whole_arrays(tmp_path: Path):
    text = '\n[[distro.debian.file]]\nsrc = "debian.conf"\ndst = "/etc/debian.conf"\n\n[distro.debian.scripts]\npre-remove = "x.sh"\n'
    debian = _load(tmp_path, text, schema=1).variants["debian"]
    assert [f.src for f in debian.files] == ["debian.conf"]
    assert debian.scripts == {"pre-remove": "x.sh"}


def test_remove_needs_schema_2_and_an_override(tmp_path: Path):
    text = '\n[[distro.debian.dir]]\npath = "/var/lib/demo"\nremove = true\n'
    assert _errors(tmp_path, text, schema=1) == {("unknown-key", "distro.debian.dir[0].remove", 35)}
    top = '\n[[dir]]\npath = "/var/lib/other"\nremove = true\n'
    assert _errors(tmp_path, top) == {("unknown-key", "dir[1].remove", 35)}


def test_a_removal_that_matches_nothing_is_located(tmp_path: Path):
    text = '\n[[distro.debian.file]]\ndst = "/usr/bin/demo"\nremove = true\n\n[distro.debian.requires]\nzz = false\n'
    errors = _errors(tmp_path, text)
    assert errors == {("bad-value", "distro.debian.file[0]", 33), ("bad-value", "distro.debian.requires.zz", 38)}


def test_remove_takes_only_the_identity(tmp_path: Path):
    text = '\n[[distro.debian.dir]]\npath = "/var/lib/demo"\nremove = true\nmode = "0700"\n'
    assert _errors(tmp_path, text) == {("unknown-key", "distro.debian.dir[0].mode", 36)}


def test_an_unknown_distro_is_located_with_did_you_mean(tmp_path: Path):
    with pytest.raises(LayoutError) as info:
        _load(tmp_path, '\n[distro.debain.requires]\nx = ""\n')
    (diag,) = info.value.diagnostics
    assert (diag.rule, diag.location.key, diag.location.line) == ("unknown-key", "distro.debain", 33)
    assert "'debian'" in diag.hint


def test_a_project_profile_is_a_known_distro(tmp_path: Path):
    (tmp_path / "distros").mkdir()
    (tmp_path / "distros" / "acme.toml").write_text('inherits = "fedora"\n')
    layout = _load(tmp_path, '\n[distro.acme.requires]\nx = ""\n')
    assert "x" in {r.name for r in layout.variants["acme"].relations["requires"]}


def test_examples_keep_their_meaning():
    """No shipped example overrides an array, so none changes meaning under schema 2."""
    root = Path(__file__).resolve().parent.parent / "examples"
    for toml in sorted(root.glob("*/pkgtool.toml")):
        if toml.parent.name == "broken":  # the README's error example: it does not load, on purpose
            continue
        layout = load_layout(toml)
        for variant in layout.variants.values():
            assert (variant.files, variant.trees, variant.dirs, variant.symlinks) == (
                layout.files,
                layout.trees,
                layout.dirs,
                layout.symlinks,
            ), toml


def test_lint_warns_where_a_schema_1_override_replaces(tmp_path: Path):
    from pkgtool.lint import lint_project

    for name in ("demo", "demo.conf", "post.sh", "debian.conf"):
        (tmp_path / name).write_text("x\n")
    (tmp_path / "doc").mkdir()
    (tmp_path / "doc" / "a.txt").write_text("x\n")
    text = '\n[[distro.debian.file]]\nsrc = "debian.conf"\ndst = "/etc/debian.conf"\nconfig = "noreplace"\n'
    _load(tmp_path, text, schema=1)
    report = lint_project(tmp_path, ["debian", "fedora"])
    found = [d for d in report.findings if d.rule == "override-replaces"]
    assert [(d.location.key, d.location.line) for d in found] == [("distro.debian.file", 33)]
    # Under schema 2 the same override adds, and nothing is reported.
    _load(tmp_path, text, schema=2)
    assert not [d for d in lint_project(tmp_path, ["debian"]).findings if d.rule == "override-replaces"]
