"""The tree walk and entry building of resolve, pinned entry by entry against hand-written expectations.

resolve builds each Entry once, straight from per-tree templates, tells files, directories and links
apart by the directory listing's types, checks names for control characters a directory at a time and
marks auto-config files by a range of the sorted paths.  Every field of every entry is spelt out here,
so none of these shortcuts can change what comes out.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from tooling import demo_layout as layout

from pkgtool.model import (
    AttrRule,
    ConfigKind,
    DirSpec,
    Entry,
    EntryKind,
    FileSpec,
    SymlinkSpec,
    TreeSpec,
)
from pkgtool.profiles import load_profile
from pkgtool.resolve import resolve, resolve_collect

DEBIAN = load_profile("debian")  # auto-config under /etc; /usr, /usr/share, /etc are system dirs

FILE, DIR, LINK = EntryKind.FILE, EntryKind.DIR, EntryKind.SYMLINK
NONE, CONFIG = ConfigKind.NONE, ConfigKind.CONFIG
NO_RULES: frozenset[str] = frozenset()
WAIVED = frozenset({"some-rule"})


def put(root: Path, rel: str, mode: int = 0o644) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(rel + "\n")
    p.chmod(mode)


def row(e: Entry) -> tuple:
    return (
        e.path,
        e.kind,
        oct(e.mode),
        e.owner,
        e.group,
        e.config,
        e.source,
        e.target,
        e.owned,
        e.implicit,
        e.doc,
        e.allow,
        e.origin,
    )


def f(path, mode, source, *, owner="root", group="root", config=NONE, allow=WAIVED, origin="tree[0]", doc=False):
    return (path, FILE, oct(mode), owner, group, config, source, None, True, False, doc, allow, origin)


def d(path, mode=0o755, *, owned=True, implicit=False, allow=WAIVED, origin="tree[0]"):
    return (path, DIR, oct(mode), "root", "root", NONE, None, None, owned, implicit, False, allow, origin)


def link(path, target, *, allow=WAIVED, origin="tree[0]"):
    return (path, LINK, oct(0o777), "root", "root", NONE, None, target, True, False, False, allow, origin)


def make_tree(root: Path) -> None:
    put(root, "t/run.sh", 0o755)  # an x bit: 0755
    put(root, "t/data.txt", 0o600)  # none: 0644, whatever else the source has
    put(root, "t/.hidden")
    put(root, "t/.hdir/inner.txt")
    put(root, "t/with space.txt")
    put(root, "t/ünïcode.txt")
    put(root, "t/[x].txt")
    put(root, "t/{brace}.txt")
    put(root, "t/-dash")
    put(root, "t/sub/deep/file.py")
    put(root, "t/sub/deep/tool.py", 0o700)
    put(root, "t/sub/skip.pyc")  # excluded by name
    put(root, "t/sub/skip-me.txt")  # excluded by relative path
    put(root, "t/keep/skip-me.txt")  # same name elsewhere: kept
    put(root, "t/cache/big.bin")  # a whole directory excluded
    os.symlink("data.txt", root / "t/link-file")
    os.symlink("deep", root / "t/sub/link-dir")  # a link to a directory stays a link, never walked
    os.symlink("../data.txt", root / "t/sub/up")
    put(root, "conf/demo.conf")
    put(root, "conf/hook", 0o755)


def test_tree_walk_entries_field_by_field(tmp_path):
    make_tree(tmp_path)
    lay = layout(
        tmp_path,
        trees=(
            TreeSpec("t/", "{datadir}/demo/", exclude=("*.pyc", "cache", "sub/skip-*"), allow=("some-rule",)),
            TreeSpec("conf", "/etc/demo", dir_mode=0o750),
        ),
        dirs=(DirSpec("/usr/share/demo/sub", mode=0o700),),
        attrs=(AttrRule("/usr/share/demo/**/*.py", mode=0o600, owner="demo", allow=("other-rule",)),),
    )
    resolved = resolve(lay, DEBIAN)
    py = frozenset({"some-rule", "other-rule"})
    assert [row(e) for e in resolved.entries] == [
        d("/etc", owned=False, implicit=True, allow=NO_RULES, origin="tree[1]"),
        d("/etc/demo", 0o750, allow=NO_RULES, origin="tree[1]"),
        f("/etc/demo/demo.conf", 0o644, "conf/demo.conf", config=CONFIG, allow=NO_RULES, origin="tree[1]"),
        f("/etc/demo/hook", 0o755, "conf/hook", config=CONFIG, allow=NO_RULES, origin="tree[1]"),
        d("/usr", owned=False, implicit=True, allow=NO_RULES),
        d("/usr/share", owned=False, implicit=True, allow=NO_RULES),
        d("/usr/share/demo"),
        f("/usr/share/demo/-dash", 0o644, "t/-dash"),
        d("/usr/share/demo/.hdir"),
        f("/usr/share/demo/.hdir/inner.txt", 0o644, "t/.hdir/inner.txt"),
        f("/usr/share/demo/.hidden", 0o644, "t/.hidden"),
        f("/usr/share/demo/[x].txt", 0o644, "t/[x].txt"),
        f("/usr/share/demo/data.txt", 0o644, "t/data.txt"),
        d("/usr/share/demo/keep"),
        f("/usr/share/demo/keep/skip-me.txt", 0o644, "t/keep/skip-me.txt"),
        link("/usr/share/demo/link-file", "data.txt"),
        f("/usr/share/demo/run.sh", 0o755, "t/run.sh"),
        d("/usr/share/demo/sub", 0o700, allow=NO_RULES, origin="dir[0]"),  # the [[dir]] wins over the tree
        d("/usr/share/demo/sub/deep"),
        f(
            "/usr/share/demo/sub/deep/file.py",
            0o600,
            "t/sub/deep/file.py",
            owner="demo",
            allow=py,
            origin="tree[0] attr[0]",
        ),
        f(
            "/usr/share/demo/sub/deep/tool.py",
            0o600,
            "t/sub/deep/tool.py",
            owner="demo",
            allow=py,
            origin="tree[0] attr[0]",
        ),
        link("/usr/share/demo/sub/link-dir", "deep"),
        link("/usr/share/demo/sub/up", "../data.txt"),
        f("/usr/share/demo/with space.txt", 0o644, "t/with space.txt"),
        f("/usr/share/demo/{brace}.txt", 0o644, "t/{brace}.txt"),
        f("/usr/share/demo/ünïcode.txt", 0o644, "t/ünïcode.txt"),
    ]


def test_entries_are_plain_frozen_entries(tmp_path):
    """Built without Entry.__init__, each one still equals, hashes and freezes like one built with it."""
    make_tree(tmp_path)
    lay = layout(tmp_path, trees=(TreeSpec("t", "/opt/demo", mode=0o640, owner="demo"),), dirs=(DirSpec("/opt/x"),))
    resolved = resolve(lay, DEBIAN)
    assert len(resolved.entries) == 26  # /opt, /opt/x and all 24 of the tree
    for e in resolved.entries:
        fields = {fl.name: getattr(e, fl.name) for fl in dataclasses.fields(Entry)}
        assert vars(e) == fields
        assert Entry(**fields) == e and hash(Entry(**fields)) == hash(e)
    # The tree's mode applies to every file, executable or not; directories keep 0755.
    by = resolved.by_path()
    assert (by["/opt/demo/run.sh"].mode, by["/opt/demo/sub/deep"].mode) == (0o640, 0o755)


def test_control_characters_reported_one_by_one(tmp_path):
    """A directory with one bad name: only that name is refused, its siblings are kept."""
    put(tmp_path, "t/a.txt")
    put(tmp_path, "t/bad\nname")
    put(tmp_path, "t/skip\tme")  # excluded: never reported
    put(tmp_path, "t/z.txt")
    lay = layout(tmp_path, trees=(TreeSpec("t", "/opt/demo", exclude=("skip*",)),))
    resolved, diags = resolve_collect(lay, DEBIAN)
    assert [(x.rule, x.message) for x in diags] == [
        ("unsafe-path", "'t/bad\\nname' has a control character in its name"),
    ]
    assert [e.path for e in resolved.files] == ["/opt/demo/a.txt", "/opt/demo/z.txt"]


def test_every_child_of_a_file_is_a_conflict(tmp_path):
    """Siblings under one parent: each is checked (and reported), not only the first."""
    put(tmp_path, "f.txt")
    lay = layout(
        tmp_path,
        files=(FileSpec("f.txt", "/opt/demo/sub"),),
        symlinks=(SymlinkSpec("/opt/demo/sub/a", "x"), SymlinkSpec("/opt/demo/sub/b", "y")),
    )
    _, diags = resolve_collect(lay, DEBIAN)
    assert [x.message for x in diags] == [
        "/opt/demo/sub is a file (file[0]) but symlink[0] deploys /opt/demo/sub/a inside it",
        "/opt/demo/sub is a file (file[0]) but symlink[1] deploys /opt/demo/sub/b inside it",
    ]


def test_auto_config_only_under_the_configured_dirs(tmp_path):
    """Paths that sort next to /etc/ ('/etc-x', '/etc0') are no config files; '/etc/...' ones are."""
    for rel in ("a/etc-x/f", "a/etc/f", "a/etc/sub/g", "a/etc0/f", "a/et/f"):
        put(tmp_path, rel)
    lay = layout(tmp_path, trees=(TreeSpec("a", "/"),))
    by = resolve(lay, DEBIAN).by_path()
    config = sorted(p for p, e in by.items() if e.config is CONFIG)
    assert config == ["/etc/f", "/etc/sub/g"]
    assert by["/etc/sub"].config is NONE  # a directory is never a config file


def test_reversed_class_range_is_literal_not_a_crash(tmp_path):
    """'[z-a]' is no class re accepts: like an unclosed '[', it is literal text (it used to raise re.error)."""
    put(tmp_path, "t/[z-a].txt")
    put(tmp_path, "t/b.txt")
    lay = layout(
        tmp_path,
        trees=(TreeSpec("t", "/opt/demo", exclude=("[z-a].txt", "*.bak")),),
        attrs=(AttrRule("/opt/demo/[z-a]*", mode=0o600),),
    )
    resolved, diags = resolve_collect(lay, DEBIAN)
    assert [x.message for x in diags] == ["[[attr]] '/opt/demo/[z-a]*' matches no deployed path"]
    assert [e.path for e in resolved.files] == ["/opt/demo/b.txt"]
