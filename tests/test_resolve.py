"""resolve on small hand-built layouts: trees, globs, attrs, conflicts, unsafe paths, every diagnostic id."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest
from tooling import demo_layout as layout

from pkgtool.errors import ResolveError
from pkgtool.layout.load import load_layout
from pkgtool.model import (
    AttrRule,
    ChangelogEntry,
    ConfigKind,
    DirSpec,
    EntryKind,
    FileSpec,
    Layout,
    Location,
    Relation,
    SymlinkSpec,
    TreeSpec,
)
from pkgtool.profiles import load_profile
from pkgtool.resolve import DEFAULT_EPOCH, resolve, resolve_collect, unsafe_reason

FEDORA = load_profile("fedora")
DEBIAN = load_profile("debian")


def put(root: Path, rel: str, text: str = "x\n", mode: int = 0o644) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    p.chmod(mode)
    return p


def collect(lay: Layout, profile=FEDORA):
    resolved, diags = resolve_collect(lay, profile)
    return resolved.by_path(), diags


def rules(diags) -> list[str]:
    return [d.rule for d in diags]


# ------------------------------------------------------------------ trees


def test_tree_modes_dirs_and_excludes(tmp_path):
    put(tmp_path, "t/run.sh", mode=0o755)
    put(tmp_path, "t/data.txt", mode=0o600)
    put(tmp_path, "t/sub/deep/file.py")
    put(tmp_path, "t/sub/skip.pyc")
    put(tmp_path, "t/cache/big.bin")
    lay = layout(tmp_path, trees=(TreeSpec("t/", "{datadir}/demo/", dir_mode=0o750, exclude=("*.pyc", "cache")),))
    by, diags = collect(lay)
    assert diags == []
    assert by["/usr/share/demo/run.sh"].mode == 0o755  # the source has an x bit
    assert by["/usr/share/demo/data.txt"].mode == 0o644  # no x bit: 0644, not the source's 0600
    assert by["/usr/share/demo/sub/deep/file.py"].source == "t/sub/deep/file.py"
    assert by["/usr/share/demo"].kind is EntryKind.DIR and by["/usr/share/demo"].mode == 0o750
    assert by["/usr/share/demo"].implicit is False and by["/usr/share/demo"].owned is True
    assert by["/usr/share/demo/sub/deep"].mode == 0o750
    assert "/usr/share/demo/sub/skip.pyc" not in by
    assert not any(p.startswith("/usr/share/demo/cache") for p in by)


def test_tree_mode_given_applies_to_files_only(tmp_path):
    put(tmp_path, "t/a/run.sh", mode=0o755)
    lay = layout(tmp_path, trees=(TreeSpec("t", "/opt/demo", mode=0o640, owner="demo", group="demo"),))
    by, _ = collect(lay)
    f, d = by["/opt/demo/a/run.sh"], by["/opt/demo/a"]
    assert (f.mode, f.owner, f.group) == (0o640, "demo", "demo")
    assert (d.mode, d.owner, d.group) == (0o755, "demo", "demo")
    assert by["/opt"].owned is False


def test_tree_exclude_by_relative_path(tmp_path):
    put(tmp_path, "t/a/x.txt")
    put(tmp_path, "t/b/x.txt")
    lay = layout(tmp_path, trees=(TreeSpec("t", "/opt/demo", exclude=("a/*.txt",)),))
    by, _ = collect(lay)
    assert "/opt/demo/a/x.txt" not in by and "/opt/demo/b/x.txt" in by


def test_tree_symlink_inside_kept_outside_refused(tmp_path):
    put(tmp_path, "t/real.txt")
    put(tmp_path, "t/sub/other.txt")
    os.symlink("real.txt", tmp_path / "t/link")
    os.symlink("../real.txt", tmp_path / "t/sub/up")
    os.symlink("sub", tmp_path / "t/dirlink")
    os.symlink("../../etc/passwd", tmp_path / "t/sub/escape")
    os.symlink("/etc/passwd", tmp_path / "t/abs")
    lay = layout(tmp_path, trees=(TreeSpec("t", "/opt/demo"),))
    by, diags = collect(lay)
    assert by["/opt/demo/link"].kind is EntryKind.SYMLINK and by["/opt/demo/link"].target == "real.txt"
    assert by["/opt/demo/sub/up"].target == "../real.txt"
    assert by["/opt/demo/dirlink"].kind is EntryKind.SYMLINK  # not followed
    assert "/opt/demo/dirlink/other.txt" not in by
    assert "/opt/demo/sub/escape" not in by and "/opt/demo/abs" not in by
    assert rules(diags) == ["unsafe-path", "unsafe-path"]
    assert {d.path for d in diags} == {"/opt/demo/sub/escape", "/opt/demo/abs"}
    assert all(d.location.key == "tree[0].src" for d in diags)


def test_tree_dst_matching_a_dir_entry_takes_the_dir(tmp_path):
    put(tmp_path, "t/x")
    lay = layout(
        tmp_path,
        trees=(TreeSpec("t", "/opt/demo/"),),
        dirs=(DirSpec("/opt/demo", mode=0o700, owner="demo"),),
    )
    by, diags = collect(lay)
    assert diags == []
    assert (by["/opt/demo"].mode, by["/opt/demo"].owner, by["/opt/demo"].origin) == (0o700, "demo", "dir[0]")


def test_tree_into_system_dir_does_not_own_it(tmp_path):
    put(tmp_path, "bin/tool", mode=0o755)
    by, diags = collect(layout(tmp_path, trees=(TreeSpec("bin/", "{bindir}/"),)))
    assert diags == []
    assert by["/usr/bin"].owned is False
    assert by["/usr/bin/tool"].mode == 0o755


def test_tree_laid_over_root(tmp_path):
    put(tmp_path, "root/etc/demo.conf")
    by, diags = collect(layout(tmp_path, trees=(TreeSpec("root/", "/"),)), DEBIAN)
    assert diags == []
    assert "/" not in by
    assert by["/etc/demo.conf"].config is ConfigKind.CONFIG  # Debian: every file under /etc
    assert by["/etc"].owned is False


def test_two_trees_filling_one_directory_agree(tmp_path):
    put(tmp_path, "a/x")
    put(tmp_path, "b/y")
    lay = layout(tmp_path, trees=(TreeSpec("a", "/opt/demo"), TreeSpec("b", "/opt/demo")))
    by, diags = collect(lay)
    assert diags == [] and {"/opt/demo/x", "/opt/demo/y"} <= set(by)


def test_tree_missing_and_not_a_directory(tmp_path):
    put(tmp_path, "plain")
    lay = layout(tmp_path, trees=(TreeSpec("nope", "/opt/a"), TreeSpec("plain", "/opt/b")))
    by, diags = collect(lay)
    assert rules(diags) == ["missing-source", "missing-source"]
    assert "not a directory" in diags[1].message
    assert diags[0].location.key == "tree[0].src"
    assert "/opt/a" not in by


def test_distro_placeholder_falls_back_along_the_chain(tmp_path):
    put(tmp_path, "cfg/fedora/a.conf", "fedora\n")
    put(tmp_path, "cfg/el9/b.conf", "el9\n")
    lay = layout(
        tmp_path,
        files=(FileSpec("cfg/{distro}/a.conf", "/etc/a.conf"), FileSpec("cfg/{distro}/b.conf", "/etc/b.conf")),
    )
    by, diags = collect(lay, load_profile("el9"))
    assert diags == []
    assert by["/etc/a.conf"].source == "cfg/fedora/a.conf"
    assert by["/etc/b.conf"].source == "cfg/el9/b.conf"
    by, diags = collect(lay, FEDORA)
    assert rules(diags) == ["missing-source"]
    assert "cfg/fedora/b.conf" in diags[0].message


def test_family_placeholder(tmp_path):
    put(tmp_path, "deb/x")
    by, diags = collect(layout(tmp_path, files=(FileSpec("{family}/x", "/opt/x"),)), DEBIAN)
    assert diags == [] and by["/opt/x"].source == "deb/x"


# ------------------------------------------------------------------ files


def test_file_glob_into_directory(tmp_path):
    put(tmp_path, "bin/b", mode=0o755)
    put(tmp_path, "bin/a")
    put(tmp_path, "bin/sub/c")
    by, diags = collect(layout(tmp_path, files=(FileSpec("bin/*", "{bindir}/"),)))
    assert diags == []
    assert (by["/usr/bin/a"].mode, by["/usr/bin/b"].mode) == (0o644, 0o755)
    assert "/usr/bin/sub" not in by  # a glob takes files, never flattens a tree


def test_glob_with_one_match_to_a_file_path(tmp_path):
    put(tmp_path, "dist/demo-1.0.conf")
    by, diags = collect(layout(tmp_path, files=(FileSpec("dist/demo-*.conf", "/etc/demo.conf"),)))
    assert diags == [] and by["/etc/demo.conf"].source == "dist/demo-1.0.conf"


def test_glob_needs_dir_and_no_match_and_missing(tmp_path):
    put(tmp_path, "d/a.txt")
    put(tmp_path, "d/b.txt")
    lay = layout(
        tmp_path,
        files=(
            FileSpec("d/*.txt", "/opt/one", loc=Location("pkgtool.toml", "file[0]", 7)),
            FileSpec("d/*.md", "/opt/"),
            FileSpec("d/c.txt", "/opt/c.txt"),
        ),
    )
    _, diags = collect(lay)
    assert rules(diags) == ["glob-needs-dir", "glob-no-match", "missing-source"]
    first = diags[0]
    assert (first.location.file, first.location.key, first.location.line) == ("pkgtool.toml", "file[0].dst", 7)
    assert diags[2].location.key == "file[2].src"


@pytest.mark.parametrize(
    "name",
    ["a b.txt", "it's.txt", 'say "hi".txt', "100%.txt", "$HOME.txt", "[x].txt", "{a}.txt", "star*.txt", "q?.txt"],
)
def test_odd_names_are_literal_files(tmp_path, name):
    put(tmp_path, f"files/{name}")
    # braces in a deployed path are doubled, brackets need nothing in src
    dst_name = name.replace("{", "{{").replace("}", "}}")
    lay = layout(
        tmp_path, files=(FileSpec(f"files/{name}", f"/opt/demo/{dst_name}"),), trees=(TreeSpec("files", "/opt/t"),)
    )
    by, diags = collect(lay)
    assert diags == []
    assert by[f"/opt/demo/{name}"].source == f"files/{name}"
    assert by[f"/opt/t/{name}"].source == f"files/{name}"


def test_attr_with_escaped_bracket_name(tmp_path):
    put(tmp_path, "files/[x].txt")
    lay = layout(
        tmp_path,
        trees=(TreeSpec("files", "/opt/t"),),
        attrs=(AttrRule(r"/opt/t/\[x\].txt", mode=0o600),),
    )
    by, diags = collect(lay)
    assert diags == [] and by["/opt/t/[x].txt"].mode == 0o600


def test_file_source_that_is_a_directory(tmp_path):
    (tmp_path / "adir").mkdir()
    _, diags = collect(layout(tmp_path, files=(FileSpec("adir", "/opt/x"),)))
    assert rules(diags) == ["missing-source"] and "directory" in diags[0].message


# ------------------------------------------------------------------ dirs, symlinks, parents


def test_dir_and_symlink_entries(tmp_path):
    lay = layout(
        tmp_path,
        dirs=(DirSpec("/var/lib/demo", mode=0o750, owner="demo", group="adm"),),
        symlinks=(SymlinkSpec("{bindir}/demo", "{datadir}/{name}/run"),),
    )
    by, diags = collect(lay)
    assert diags == []
    d = by["/var/lib/demo"]
    assert (d.kind, d.mode, d.owner, d.group, d.implicit, d.owned) == (EntryKind.DIR, 0o750, "demo", "adm", False, True)
    s = by["/usr/bin/demo"]
    assert (s.kind, s.target, s.mode) == (EntryKind.SYMLINK, "/usr/share/demo/run", 0o777)
    assert by["/var/lib"].owned is False and by["/var/lib"].implicit is True


def test_explicit_dir_replaces_implicit(tmp_path):
    put(tmp_path, "x")
    lay = layout(tmp_path, files=(FileSpec("x", "/opt/demo/x"),), dirs=(DirSpec("/opt/demo", mode=0o711),))
    by, diags = collect(lay)
    assert diags == []
    assert (by["/opt/demo"].implicit, by["/opt/demo"].mode) == (False, 0o711)


def test_implicit_parents_owned_with_0755(tmp_path):
    put(tmp_path, "x", mode=0o600)
    by, _ = collect(layout(tmp_path, files=(FileSpec("x", "/opt/demo/a/b/x"),)))
    for p in ("/opt/demo", "/opt/demo/a", "/opt/demo/a/b"):
        e = by[p]
        assert (e.kind, e.mode, e.owner, e.owned, e.implicit) == (EntryKind.DIR, 0o755, "root", True, True)
    assert by["/opt"].owned is False


# ------------------------------------------------------------------ attrs


def test_attr_rules_in_order_last_wins(tmp_path):
    put(tmp_path, "t/a/x.sh")
    put(tmp_path, "t/a/b/y.sh")
    put(tmp_path, "t/z.txt")
    lay = layout(
        tmp_path,
        trees=(TreeSpec("t", "/opt/demo"),),
        attrs=(
            AttrRule("/opt/demo/**", mode=0o600, owner="demo"),
            AttrRule("/opt/demo/*/*.sh", mode=0o700, allow=("world-writable",)),
            AttrRule("/opt/demo/**/y.sh", group="wheel"),
        ),
    )
    by, diags = collect(lay)
    assert diags == []
    x, y, z = by["/opt/demo/a/x.sh"], by["/opt/demo/a/b/y.sh"], by["/opt/demo/z.txt"]
    assert (x.mode, x.owner, x.group, x.origin, x.allow) == (
        0o700,
        "demo",
        "root",
        "tree[0] attr[0] attr[1]",
        {"world-writable"},
    )
    assert (y.mode, y.owner, y.group, y.origin) == (0o600, "demo", "wheel", "tree[0] attr[0] attr[2]")
    assert (z.mode, z.origin) == (0o600, "tree[0] attr[0]")  # the maker, then every attr applied
    assert by["/opt/demo/a"].mode == 0o600  # '**' also matches directories
    assert by["/opt/demo"].mode == 0o755  # '/opt/demo/**' is below the dir, not the dir
    assert by["/opt"].mode == 0o755 and by["/opt"].owned is False


def test_attr_does_not_change_symlinks_or_system_dirs(tmp_path):
    lay = layout(
        tmp_path,
        symlinks=(SymlinkSpec("/usr/bin/demo", "/usr/share/demo/run"),),
        attrs=(AttrRule("/usr/bin/*", mode=0o700), AttrRule("/usr/*", mode=0o700)),
    )
    by, diags = collect(lay)
    assert by["/usr/bin/demo"].mode == 0o777
    assert by["/usr/bin"].mode == 0o755
    # the second rule can match only system directories, which are not the package's
    assert rules(diags) == ["attr-no-match"]
    assert diags[0].location.key == "attr[1].path"


def test_attr_no_match(tmp_path):
    put(tmp_path, "x")
    lay = layout(tmp_path, files=(FileSpec("x", "/opt/x"),), attrs=(AttrRule("/opt/y", mode=0o600),))
    _, diags = collect(lay)
    assert rules(diags) == ["attr-no-match"]


# ------------------------------------------------------------------ conflicts


def test_conflicts_name_both_entries(tmp_path):
    put(tmp_path, "a")
    put(tmp_path, "t/x")
    lay = layout(
        tmp_path,
        trees=(TreeSpec("t", "/opt/demo"),),
        files=(FileSpec("a", "/opt/demo/x"), FileSpec("a", "/opt/f"), FileSpec("a", "/opt/f")),
        dirs=(DirSpec("/opt/f"), DirSpec("/opt/d"), DirSpec("/opt/d")),
        symlinks=(SymlinkSpec("/opt/demo/x", "a"),),
    )
    _, diags = collect(lay)
    assert rules(diags) == ["conflict"] * 5
    messages = [d.message for d in diags]
    assert "/opt/demo/x is deployed by both tree[0] (file) and file[0] (file)" in messages
    assert "/opt/f is deployed by both file[1] (file) and file[2] (file)" in messages
    assert "/opt/f is deployed by both file[1] (file) and dir[0] (dir)" in messages
    assert "/opt/d is deployed by both dir[1] (dir) and dir[2] (dir)" in messages
    assert "/opt/demo/x is deployed by both tree[0] (file) and symlink[0] (symlink)" in messages


def test_entry_under_a_file_is_a_conflict(tmp_path):
    put(tmp_path, "a")
    lay = layout(tmp_path, files=(FileSpec("a", "/opt/a"), FileSpec("a", "/opt/a/b")))
    _, diags = collect(lay)
    assert rules(diags) == ["conflict"]
    assert "file[0]" in diags[0].message and "file[1]" in diags[0].message


# ------------------------------------------------------------------ unsafe paths and placeholders


@pytest.mark.parametrize(
    "dst",
    ["/opt/../etc/x", "opt/x", "/opt/x\x00y", "/opt/x\ny", "/opt//x", "/opt/./x", "/", "/opt/\x7f"],
)
def test_unsafe_deployed_paths(tmp_path, dst):
    put(tmp_path, "a")
    by, diags = collect(layout(tmp_path, files=(FileSpec("a", dst),)))
    assert rules(diags) == ["unsafe-path"]
    assert diags[0].location.key == "file[0].dst"
    assert not any(e.kind is EntryKind.FILE for e in by.values())


@pytest.mark.parametrize("src", ["../outside", "/etc/passwd", "a/../../x", "sub\nname"])
def test_unsafe_sources(tmp_path, src):
    (tmp_path / "proj").mkdir()
    put(tmp_path, "outside")
    root = tmp_path / "proj"
    _, diags = collect(layout(root, files=(FileSpec(src, "/opt/x"),)))
    assert rules(diags) == ["unsafe-path"]


def test_tree_file_name_with_newline_refused(tmp_path):
    put(tmp_path, "t/ok")
    put(tmp_path, "t/bad\nname")
    by, diags = collect(layout(tmp_path, trees=(TreeSpec("t", "/opt/t"),)))
    assert rules(diags) == ["unsafe-path"] and diags[0].path == "/opt/t/bad\nname"
    assert "/opt/t/ok" in by and "/opt/t/bad\nname" not in by


def test_source_escaping_through_a_symlink(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    put(tmp_path, "secret/key")
    os.symlink(tmp_path / "secret", root / "s")
    lay = layout(root, files=(FileSpec("s/key", "/opt/key"),), trees=(TreeSpec("s", "/opt/s"),))
    by, diags = collect(lay)
    assert rules(diags) == ["unsafe-path", "unsafe-path"]
    assert "/opt/key" not in by and "/opt/s" not in by


def test_unsafe_path_helper():
    assert unsafe_reason("/usr/bin/x") is None
    assert unsafe_reason("/usr/bin/a b [c] %d $e") is None
    assert "control" in unsafe_reason("/a\tb")


def test_unknown_placeholders(tmp_path):
    put(tmp_path, "a")
    lay = layout(
        tmp_path,
        files=(FileSpec("a", "{libdir}/x"), FileSpec("{distroid}/a", "/opt/y")),
        symlinks=(SymlinkSpec("/opt/l", "{nowhere}/x"),),
        attrs=(AttrRule("{bogus}/*", mode=0o600),),
    )
    _, diags = collect(lay)
    assert rules(diags) == ["unknown-placeholder"] * 4
    assert [d.location.key for d in diags] == ["file[0].dst", "file[1].src", "symlink[0].target", "attr[0].path"]
    assert "{libdir}" in diags[0].message


def test_name_and_version_placeholders(tmp_path):
    put(tmp_path, "a")
    by, _ = collect(layout(tmp_path, files=(FileSpec("a", "{docdir}/{name}-{version}/a"),)))
    assert "/usr/share/doc/demo-1.0/a" in by


# ------------------------------------------------------------------ config, host dirs, relations, scripts, epoch


def test_auto_config_dirs_on_debian_only(tmp_path):
    put(tmp_path, "a")
    files = (
        FileSpec("a", "/etc/demo/a"),
        FileSpec("a", "/etc/demo/b", config=ConfigKind.NOREPLACE),
        FileSpec("a", "/opt/etcx"),
    )
    lay = layout(tmp_path, files=files)
    by, _ = collect(lay, DEBIAN)
    assert by["/etc/demo/a"].config is ConfigKind.CONFIG
    assert by["/etc/demo/b"].config is ConfigKind.NOREPLACE
    assert by["/opt/etcx"].config is ConfigKind.NONE
    by, _ = collect(lay, FEDORA)
    assert by["/etc/demo/a"].config is ConfigKind.NONE


def test_kind_host_dirs(tmp_path):
    put(tmp_path, "a", mode=0o755)
    lay = layout(tmp_path, kind="node-plugin", files=(FileSpec("a", "{libexecdir}/ovirt-node/hooks/on-boot/50-a"),))
    by, _ = collect(lay)
    assert by["/usr/libexec/ovirt-node/hooks/on-boot"].owned is False
    lay = layout(tmp_path, kind="app", files=(FileSpec("a", "{libexecdir}/ovirt-node/hooks/on-boot/50-a"),))
    by, _ = collect(lay)
    assert by["/usr/libexec/ovirt-node/hooks/on-boot"].owned is True


def test_relations_mapped_sorted_and_file_deps(tmp_path):
    rels = {
        "requires": (
            Relation("pyyaml", ">=", "5"),
            Relation("/usr/bin/ssh"),
            Relation("unknown-thing"),
            Relation("python3"),
        ),
        "conflicts": (Relation("libvirt", "<", "6"),),
    }
    r, diags = resolve_collect(layout(tmp_path, relations=rels), DEBIAN)
    assert diags == []
    assert [(x.name, x.op, x.version, x.logical) for x in r.relations["requires"]] == [
        ("/usr/bin/ssh", "", "", "/usr/bin/ssh"),
        ("python3", "", "", "python3"),
        ("python3-yaml", ">=", "5", "pyyaml"),
        ("unknown-thing", "", "", "unknown-thing"),
    ]
    assert [x.name for x in r.relations["conflicts"]] == ["libvirt-daemon-system"]
    assert r.relations["provides"] == ()


def test_scripts_read_and_missing(tmp_path):
    put(tmp_path, "s/post.sh", "echo hi\n")
    lay = layout(tmp_path, scripts={"post-install": "s/post.sh", "pre-remove": "s/none.sh"})
    r, diags = resolve_collect(lay, FEDORA)
    assert r.scripts == {"post-install": "echo hi\n"}
    assert rules(diags) == ["missing-source"] and diags[0].location.key == "scripts.pre-remove"


def test_epoch_defaults(tmp_path):
    assert resolve(layout(tmp_path), FEDORA).source_date_epoch == DEFAULT_EPOCH
    log = (
        ChangelogEntry("1.0-2", dt.date(2024, 2, 29), "A <a@example.org>", ("b",)),
        ChangelogEntry("1.0-1", dt.date(2024, 1, 1), "A <a@example.org>", ("a",)),
    )
    assert resolve(layout(tmp_path, changelog=log), FEDORA).source_date_epoch == 1709164800
    assert resolve(layout(tmp_path, changelog=log), FEDORA, source_date_epoch=0).source_date_epoch == 0


def test_resolve_raises_with_every_diagnostic(tmp_path):
    lay = layout(tmp_path, files=(FileSpec("nope", "/opt/a"), FileSpec("nope2", "/opt/b")))
    with pytest.raises(ResolveError) as err:
        resolve(lay, FEDORA)
    assert [d.rule for d in err.value.diagnostics] == ["missing-source", "missing-source"]
    assert "and 1 more" in str(err.value)


def test_variant_for_nearest_profile(tmp_path):
    put(tmp_path, "a")
    base = layout(tmp_path, files=(FileSpec("a", "/opt/base"),))
    deb = layout(tmp_path, files=(FileSpec("a", "/opt/debian"),))
    top = layout(tmp_path, files=(FileSpec("a", "/opt/base"),), variants={"debian": deb})
    assert "/opt/debian" in resolve(top, load_profile("ubuntu")).by_path()
    assert "/opt/base" in resolve(top, FEDORA).by_path()
    assert base.variants == {}


def test_diagnostic_lines_from_a_real_map(tmp_path):
    (tmp_path / "pkgtool.toml").write_text(
        """schema = 1

[package]
name = "demo"
version = "1.0"
summary = "Demo"
description = "Demo."
license = "MIT"
maintainer = "A <a@example.org>"

[[file]]
src = "missing.txt"
dst = "/opt/demo/missing.txt"
"""
    )
    _, diags = resolve_collect(load_layout(tmp_path), FEDORA)
    assert rules(diags) == ["missing-source"]
    loc = diags[0].location
    assert loc.key == "file[0].src"
    assert loc.line in (11, 12)  # the [[file]] header or its src line
    assert loc.file.endswith("pkgtool.toml")


def test_ten_thousand_files_resolve_fast(tmp_path):
    for d in range(100):
        sub = tmp_path / "big" / f"d{d:03}"
        sub.mkdir(parents=True)
        for f in range(100):
            (sub / f"f{f:03}.txt").write_bytes(b"")
    lay = layout(tmp_path, trees=(TreeSpec("big", "/opt/big"),), attrs=(AttrRule("/opt/big/*/f00?.txt", mode=0o600),))
    start = time.perf_counter()
    r = resolve(lay, FEDORA)
    elapsed = time.perf_counter() - start
    assert len(r.files) == 10_000
    assert sum(1 for e in r.files if e.mode == 0o600) == 1000
    assert elapsed < 3.0, f"resolve of 10,000 files took {elapsed:.2f}s"


def test_a_plugin_kind_requires_its_host_unless_the_map_does(tmp_path):
    put(tmp_path, "hook", "#!/bin/sh\n", 0o755)
    files = (FileSpec("hook", "/usr/libexec/vdsm/hooks/before_vm_start/50_demo", mode="0755"),)

    def requires(kind: str, rels: dict) -> list[tuple[str, str, str]]:
        resolved = resolve(layout(tmp_path, kind=kind, files=files, relations=rels), FEDORA)
        return [(r.name, r.op, r.version) for r in resolved.relations["requires"]]

    assert requires("vdsm-hook", {}) == [("vdsm", "", "")]
    # A versioned requirement in the map wins over the bare one the kind adds.
    assert requires("vdsm-hook", {"requires": (Relation("vdsm", ">=", "4.50"),)}) == [("vdsm", ">=", "4.50")]
    # The host's logical name goes through the profile's name map like any other (libvirt-daemon on Fedora).
    assert FEDORA.names["libvirt"] == "libvirt-daemon"
    assert requires("libvirt-hook", {"requires": (Relation("python3"),)}) == [
        ("libvirt-daemon", "", ""),
        ("python3", "", ""),
    ]
    assert requires("app", {}) == []


def test_frozen_entries_are_whole_entries(tmp_path):
    """freeze() fills an Entry's fields directly (for speed): it must equal one built by Entry(...)."""
    import dataclasses

    from pkgtool.model import Entry

    put(tmp_path, "data/a.txt")
    lay = layout(tmp_path, trees=(TreeSpec("data/", "/usr/share/demo/"),))
    for e in resolve(lay, FEDORA).entries:
        fields = {f.name: getattr(e, f.name) for f in dataclasses.fields(Entry)}
        assert set(vars(e)) == set(fields), "freeze() misses a field of Entry"
        rebuilt = Entry(**fields)
        assert rebuilt == e and hash(rebuilt) == hash(e)
        with pytest.raises(dataclasses.FrozenInstanceError):
            e.mode = 0  # type: ignore[misc]
