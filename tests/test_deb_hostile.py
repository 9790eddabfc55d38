"""Hostile metadata and file names: both backends build, nothing is executed, the text survives literally."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tooling import require_tools

from pkgtool.formats.deb.debian_dir import debian_files
from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.deb.reader import read_deb
from pkgtool.formats.deb.system import build_deb_system
from pkgtool.project import resolve_dir

EPOCH = 1736121600
MARKER = Path("/tmp/pwned")
RUN_ME = "run me $(touch PWNED) `touch PWNED` [x] %d $$.sh"
QUOTED = 'it\'s "quoted" %{_bindir} $HOME ${HOME} (b) {c}.txt'
LINK = "/usr/bin/hostile run $x"
SUMMARY = f"$(touch {MARKER}) `touch x` $$ %{{_bindir}} 100%"


def _layout(root: Path, marker: Path) -> None:
    (root / "files").mkdir(parents=True)
    (root / "files" / RUN_ME).write_text("#!/bin/sh\necho hi\n")
    (root / "files" / RUN_ME).chmod(0o755)
    (root / "files" / QUOTED).write_text("data\n")
    evil = f"$(touch {MARKER}) `touch {marker}` $$ %{{_bindir}} 100%"
    (root / "pkgtool.toml").write_text(
        f'''schema = 1

[package]
name = "hostile"
version = "1.0"
summary = "Evil {SUMMARY}"
description = """
First line: {evil}; 'single' and "double" quotes.

Second paragraph, after a blank line;
  an indented line kept verbatim.
"""
license = "MIT"
maintainer = "Eve {evil} <eve@example.org>"

[requires]
python3 = ">= 3.9"

[[tree]]
src = "files/"
dst = "/usr/share/hostile/"

[[symlink]]
path = "{LINK}"
target = "/usr/share/hostile/{RUN_ME}"

[scripts]
post-install = "files/{RUN_ME}"

[[changelog]]
version = "1.0-1"
date = "2025-01-06"
author = "Eve <eve@example.org>"
changes = ["Evil {evil} entry"]
''',
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    require_tools("dpkg-buildpackage", "dh", "dpkg-deb")
    base = tmp_path_factory.mktemp("hostile")
    marker = base / "pwned-bt"
    MARKER.unlink(missing_ok=True)
    layout = base / "layout"
    _layout(layout, marker)
    r = resolve_dir(layout, "debian", source_date_epoch=EPOCH)
    native = build_deb(r, base / "native")
    system = build_deb_system(r, base / "system", timeout=300)
    return r, base, marker, native, system[0]


def test_nothing_executed(hostile):
    _, base, marker, _, _ = hostile
    assert not MARKER.exists()
    assert not marker.exists()
    assert not list(base.rglob("PWNED"))


@pytest.mark.parametrize("backend", ["native", "system"])
def test_text_preserved_literally(hostile, backend):
    r, _, marker, native, system = hostile
    deb = native if backend == "native" else system
    fields = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True).stdout
    evil = f"$(touch {MARKER}) `touch {marker}` $$ %{{_bindir}} 100%"
    assert f"\nMaintainer: Eve {evil} <eve@example.org>\n" in fields
    description = fields.split("\nDescription: ", 1)[1]
    lines = description.rstrip("\n").split("\n")
    assert lines[0] == f"Evil {SUMMARY}"
    assert all(line.startswith(" ") for line in lines[1:])
    blank = lines.index(" .")
    assert " ".join(x.strip() for x in lines[1:blank]) == f"First line: {evil}; 'single' and \"double\" quotes."
    assert lines[blank + 1 :] == [" Second paragraph, after a blank line;", "   an indented line kept verbatim."]
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    assert f" ./usr/share/hostile/{RUN_ME}\n" in listing
    assert f" ./usr/share/hostile/{QUOTED}\n" in listing
    assert f" .{LINK} -> ../share/hostile/{RUN_ME}\n" in listing


def test_backends_agree_on_hostile_names(hostile):
    _, _, _, native, system = hostile
    a, b = read_deb(native), read_deb(system)
    assert {(e.path, e.mode, e.target) for e in a.entries} == {(e.path, e.mode, e.target) for e in b.entries}
    assert a.scripts == b.scripts
    assert "echo hi\n" in a.scripts["postinst"]  # the packager's script text, kept as written


def test_odd_names_go_through_rules_not_debhelper_lists(hostile):
    r = hostile[0]
    files = {f.rel: f.text for f in debian_files(r)}
    assert "hostile.links" not in files  # whitespace in the link name: made in rules instead
    rules = files["rules"]
    assert "'debian/hostile/usr/bin/hostile run $$x'" in rules
    assert "$$(touch PWNED)" in rules and "$(touch" not in rules.replace("$$(touch", "")
