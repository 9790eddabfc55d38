"""install over an earlier install of the same package replaces its content, as rpm -U and dpkg do,
and keeps pkgtool's own records in one hidden directory (ROOT/.pkgtool), never among package paths."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_install import make_resolved

from pkgtool.install import apply as install_mod
from pkgtool.install.apply import install, read_manifest
from pkgtool.model import ConfigKind, Entry, EntryKind
from pkgtool.verify.root import verify_root

D = EntryKind.DIR


def _dirs(*paths: str, owned: bool = True) -> list[Entry]:
    return [Entry(p, D, 0o755, owned=owned, implicit=not owned) for p in paths]


def v1(tmp_path: Path):
    entries = [
        *_dirs("/etc", "/usr", "/usr/bin", "/usr/lib", owned=False),
        *_dirs("/etc/demo", "/usr/lib/demo", "/usr/lib/demo/plugins"),
        Entry("/etc/demo/edited.conf", EntryKind.FILE, 0o644, source="a.conf", config=ConfigKind.NOREPLACE),
        Entry("/etc/demo/pristine.conf", EntryKind.FILE, 0o644, source="b.conf", config=ConfigKind.NOREPLACE),
        Entry("/usr/lib/demo/main.py", EntryKind.FILE, 0o644, source="main.py"),
        Entry("/usr/lib/demo/old.py", EntryKind.FILE, 0o644, source="old.py"),
        Entry("/usr/lib/demo/plugins/p.py", EntryKind.FILE, 0o644, source="p.py"),
        Entry("/usr/bin/demo-old", EntryKind.SYMLINK, 0o777, target="/usr/lib/demo/old.py"),
    ]
    files = {"a.conf": "a=1\n", "b.conf": "b=1\n", "main.py": "v1\n", "old.py": "old\n", "p.py": "p\n"}
    return make_resolved(tmp_path / "src1", entries, files)


def v2(tmp_path: Path):
    entries = [
        *_dirs("/usr", "/usr/lib", owned=False),
        *_dirs("/usr/lib/demo"),
        Entry("/usr/lib/demo/main.py", EntryKind.FILE, 0o644, source="main.py"),
    ]
    return make_resolved(tmp_path / "src2", entries, {"main.py": "v2\n"})


def tree(root: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            out.append("/" + os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(out)


def test_records_live_in_one_hidden_directory(tmp_path):
    r = v2(tmp_path)
    report = install(r, tmp_path / "R")
    assert report.manifest == "/.pkgtool/demo.json"
    package_paths = {e.path for e in r.entries}
    assert [p for p in tree(tmp_path / "R") if p not in package_paths] == ["/.pkgtool", "/.pkgtool/demo.json"]
    assert not (tmp_path / "R/var").exists()
    assert read_manifest(tmp_path / "R", "demo")["version"] == r.package.version
    assert verify_root(r, tmp_path / "R").ok


def test_upgrade_removes_what_the_map_no_longer_has(tmp_path):
    root = tmp_path / "R"
    install(v1(tmp_path), root)
    (root / "etc/demo/edited.conf").write_text("a=2  # the admin's\n")
    report = install(v2(tmp_path), root)
    actions = {a.path: a.action for a in report.actions}
    assert actions["/usr/lib/demo/old.py"] == "remove" and actions["/usr/bin/demo-old"] == "remove"
    assert actions["/etc/demo/edited.conf"] == "keep" and actions["/etc/demo/pristine.conf"] == "remove"
    assert tree(root) == [
        "/.pkgtool",
        "/.pkgtool/demo.json",
        "/etc",
        "/etc/demo",  # still holds the kept config
        "/etc/demo/edited.conf",
        "/usr",
        "/usr/bin",
        "/usr/lib",
        "/usr/lib/demo",
        "/usr/lib/demo/main.py",
    ]
    assert (root / "etc/demo/edited.conf").read_text() == "a=2  # the admin's\n"
    assert (root / "usr/lib/demo/main.py").read_text() == "v2\n"
    assert read_manifest(root, "demo")["kept"] == ["/etc/demo/edited.conf"]
    rep = verify_root(v2(tmp_path), root)
    assert rep.ok, rep.to_text()
    assert any("kept: /etc/demo/edited.conf" in n for n in rep.notes)
    # Once more: nothing left to remove, the kept config stays recorded.
    again = install(v2(tmp_path), root)
    assert again.count("remove") == 0 and read_manifest(root, "demo")["kept"] == ["/etc/demo/edited.conf"]


def test_verify_reports_what_an_earlier_install_left(tmp_path):
    root = tmp_path / "R"
    install(v1(tmp_path), root)
    rep = verify_root(v2(tmp_path), root)
    assert not rep.ok
    flagged = {m.path for m in rep.mismatches if "extra" in m.problems}
    assert {"/usr/lib/demo/old.py", "/usr/bin/demo-old", "/usr/lib/demo/plugins"} <= flagged
    assert "installed by demo" in json.dumps(rep.to_dict())


def test_failed_upgrade_puts_the_removed_files_back(tmp_path, monkeypatch):
    root = tmp_path / "R"
    install(v1(tmp_path), root)
    before = tree(root)

    def broken(self):
        # After the commit: the old files are already moved aside when this fails.
        assert not (root / "usr/lib/demo/old.py").exists()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(install_mod._Apply, "set_dir_attrs", broken)
    with pytest.raises(Exception, match="No space left"):
        install(v2(tmp_path), root)
    assert tree(root) == before
    assert (root / "usr/lib/demo/old.py").read_text() == "old\n"
