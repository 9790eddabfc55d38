"""staged_sources and the unified-diff applier: patched copies, never the user's tree."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES

from pkgtool.errors import ResolveError
from pkgtool.model import PatchSpec
from pkgtool.project import resolve_dir
from pkgtool.sources.patching import apply_patch, parse_patch
from pkgtool.sources.staging import needed_sources, staged_sources

REMOTE = "src/convirt/core/remote.py"


def test_no_patches_yields_the_layout_root():
    r = resolve_dir(EXAMPLES / "vdsm-hook-acme", "fedora")
    with staged_sources(r) as tree:
        assert tree == r.root


def test_convirt_patch_applied_to_a_copy():
    r = resolve_dir(EXAMPLES / "convirt", "fedora")
    before = (EXAMPLES / "convirt" / REMOTE).read_bytes()
    with staged_sources(r) as tree:
        assert tree != r.root
        text = (tree / REMOTE).read_text()
        assert "settimeout(30)" in text and "settimeout(None)" not in text
        for e in r.files:  # every source is there
            assert (tree / e.source).is_file(), e.source
        for script in r.layout.scripts.values():
            assert (tree / script).is_file()
        # only what is needed was copied: not the map, not the patches
        assert not (tree / "pkgtool.toml").exists()
        assert not (tree / "patches").exists()
        # the copy keeps the source modes
        assert (tree / "install/client/ConVirt").stat().st_mode & 0o777 == (
            (EXAMPLES / "convirt/install/client/ConVirt").stat().st_mode & 0o777
        )
    assert not tree.exists()  # cleaned up
    assert (EXAMPLES / "convirt" / REMOTE).read_bytes() == before


def copy_convirt(tmp_path: Path) -> Path:
    root = tmp_path / "convirt"
    shutil.copytree(EXAMPLES / "convirt", root, symlinks=True)
    return root


def test_patch_with_line_offset_applies(tmp_path):
    root = copy_convirt(tmp_path)
    remote = root / REMOTE
    remote.write_text("# one\n# two\n# three\n" + remote.read_text())
    r = resolve_dir(root, "debian")
    with staged_sources(r) as tree:
        text = (tree / REMOTE).read_text()
        assert text.startswith("# one\n") and "settimeout(30)" in text


def test_hunk_that_does_not_apply_names_patch_target_and_line(tmp_path):
    root = copy_convirt(tmp_path)
    remote = root / REMOTE
    remote.write_text(remote.read_text().replace("settimeout(None)", "settimeout(5)"))
    r = resolve_dir(root, "fedora")
    with pytest.raises(ResolveError) as err:
        with staged_sources(r):
            pass
    msg = str(err.value)
    assert "patches/0001-paramiko-channel-timeout.patch" in msg
    assert REMOTE in msg
    assert ":6:" in msg  # the '@@' line of the hunk in the patch file
    d = err.value.diagnostics[0]
    assert (d.location.file, d.location.line, d.path) == ("patches/0001-paramiko-channel-timeout.patch", 6, REMOTE)
    assert "settimeout(5)" in remote.read_text()  # the user's tree untouched


def test_strip_levels(tmp_path):
    root = copy_convirt(tmp_path)
    patch = (root / "patches/0001-paramiko-channel-timeout.patch").read_text()
    (root / "patches/p0.patch").write_text(patch.replace("a/src/", "src/").replace("b/src/", "src/"))
    (root / "patches/p2.patch").write_text(patch.replace("a/src/", "x/y/src/").replace("b/src/", "x/y/src/"))
    r = resolve_dir(root, "fedora")
    for name, strip in (("patches/p0.patch", 0), ("patches/p2.patch", 2)):
        layout = dataclasses.replace(r.layout, patches=(PatchSpec(name, strip),))
        with staged_sources(dataclasses.replace(r, layout=layout)) as tree:
            assert "settimeout(30)" in (tree / REMOTE).read_text(), name


def test_patch_outside_tree_refused(tmp_path):
    (tmp_path / "t").mkdir()
    data = b"--- a/../evil\n+++ b/../evil\n@@ -0,0 +1 @@\n+x\n"
    with pytest.raises(ResolveError, match="outside the tree"):
        apply_patch(data, tmp_path / "t", 1, "evil.patch")
    assert not (tmp_path / "evil").exists()


def test_create_delete_and_no_newline(tmp_path):
    (tmp_path / "old.txt").write_text("bye\n")
    (tmp_path / "keep.txt").write_bytes(b"a\nb")
    data = b"""--- /dev/null
+++ b/new.txt
@@ -0,0 +1,2 @@
+hello
+world
--- a/old.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
--- a/keep.txt\t2025-01-01 00:00:00
+++ b/keep.txt\t2025-01-01 00:00:00
@@ -1,2 +1,2 @@
 a
-b
\\ No newline at end of file
+c
\\ No newline at end of file
"""
    changed = apply_patch(data, tmp_path, 1, "mix.patch")
    assert changed == ["new.txt", "old.txt", "keep.txt"]
    assert (tmp_path / "new.txt").read_text() == "hello\nworld\n"
    assert not (tmp_path / "old.txt").exists()
    assert (tmp_path / "keep.txt").read_bytes() == b"a\nc"


def test_several_hunks_with_offsets(tmp_path):
    lines = [f"line {i}\n" for i in range(1, 21)]
    (tmp_path / "f").write_text("extra\n" + "".join(lines))
    data = b"""--- a/f
+++ b/f
@@ -2,3 +2,4 @@
 line 2
 line 3
+inserted
 line 4
@@ -15,3 +16,3 @@
 line 15
-line 16
+LINE 16
 line 17
"""
    apply_patch(data, tmp_path, 1, "multi.patch")
    out = (tmp_path / "f").read_text().splitlines()
    assert out[:6] == ["extra", "line 1", "line 2", "line 3", "inserted", "line 4"]
    assert "LINE 16" in out and "line 16" not in out


def test_nothing_written_when_a_later_file_fails(tmp_path):
    (tmp_path / "a").write_text("1\n")
    (tmp_path / "b").write_text("2\n")
    data = b"--- a/a\n+++ b/a\n@@ -1 +1 @@\n-1\n+one\n--- a/b\n+++ b/b\n@@ -1 +1 @@\n-9\n+nine\n"
    with pytest.raises(ResolveError, match="two.patch:8: b: hunk at line 8"):
        apply_patch(data, tmp_path, 1, "two.patch")
    assert (tmp_path / "a").read_text() == "1\n"


def test_not_a_patch():
    with pytest.raises(ValueError):
        parse_patch(b"just some text\n")
    with pytest.raises(ResolveError, match="no unified diff"):
        apply_patch(b"hello\n", Path("/nonexistent"), 1, "x.patch")


def test_needed_sources_lists_entries_and_scripts():
    r = resolve_dir(EXAMPLES / "convirt", "debian")
    needed = needed_sources(r)
    assert "distros/debian/convirt.conf" in needed and "packaging/post-install.sh" in needed
    assert "distros/fedora/convirt.conf" not in needed
