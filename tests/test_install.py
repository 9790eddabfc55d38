"""install(): exact modes and owners, the manifest, safety inside the root, all-or-nothing, dry run."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from tooling import demo_layout, require_root

from pkgtool.errors import InstallError
from pkgtool.install import apply as install_mod
from pkgtool.install.apply import install, read_manifest
from pkgtool.model import Entry, EntryKind, Resolved
from pkgtool.profiles import load_profile
from pkgtool.verify.root import verify_root

EPOCH = 1736121600


def make_resolved(src: Path, entries: list[Entry], files: dict[str, str] | None = None) -> Resolved:
    src.mkdir(parents=True, exist_ok=True)
    for rel, text in (files or {}).items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    layout = demo_layout(src)
    return Resolved(layout, load_profile("fedora"), tuple(sorted(entries, key=lambda e: e.path)), {}, {}, EPOCH)


def demo(tmp_path: Path, owner: str = "root", group: str = "root") -> Resolved:
    entries = [
        Entry("/usr", EntryKind.DIR, 0o755, owned=False, implicit=True),
        Entry("/usr/bin", EntryKind.DIR, 0o755, owned=False, implicit=True),
        Entry("/usr/bin/demo", EntryKind.SYMLINK, 0o777, target="/usr/lib/demo/tool"),
        Entry("/usr/lib", EntryKind.DIR, 0o755, owned=False, implicit=True),
        Entry("/usr/lib/demo", EntryKind.DIR, 0o755),
        Entry("/usr/lib/demo/tool", EntryKind.FILE, 0o4755, source="tool"),
        Entry("/usr/lib/demo/provision.sh", EntryKind.FILE, 0o744, source="provision.sh", origin="attr[1]"),
        Entry("/usr/lib/demo/secret", EntryKind.DIR, 0o700),
        Entry("/usr/lib/demo/secret/key", EntryKind.FILE, 0o440, source="key", owner=owner, group=group),
        Entry("/usr/lib/demo/ro", EntryKind.DIR, 0o555),
        Entry("/usr/lib/demo/ro/data", EntryKind.FILE, 0o444, source="data"),
    ]
    files = {"tool": "#!/bin/sh\necho tool\n", "provision.sh": "#!/bin/sh\n", "key": "k3y\n", "data": "d\n"}
    return make_resolved(tmp_path / "src", entries, files)


def snapshot(root: Path) -> dict[str, tuple]:
    """Everything under root, compared byte for byte: type, mode, owner, content or link target."""
    out: dict[str, tuple] = {}
    if not root.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath, name)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                body: object = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                body = p.read_bytes()
            else:
                body = None
            out[str(p.relative_to(root))] = (
                stat.S_IFMT(st.st_mode),
                stat.S_IMODE(st.st_mode),
                st.st_uid,
                st.st_gid,
                body,
            )
    return out


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.mark.parametrize("umask", [0o077, 0o000, 0o777])
def test_modes_are_exact_whatever_the_umask(tmp_path, umask):
    r = demo(tmp_path)
    old = os.umask(umask)
    try:
        install(r, tmp_path / "R")
    finally:
        os.umask(old)
    lib = tmp_path / "R/usr/lib/demo"
    assert mode_of(lib / "tool") == 0o4755
    assert mode_of(lib / "provision.sh") == 0o744
    assert mode_of(lib / "secret") == 0o700
    assert mode_of(lib / "secret/key") == 0o440
    assert mode_of(lib / "ro") == 0o555
    assert mode_of(lib / "ro/data") == 0o444
    assert mode_of(tmp_path / "R/usr/bin") == 0o755  # a system parent created for the package
    assert os.readlink(tmp_path / "R/usr/bin/demo") == "../lib/demo/tool"
    assert (lib / "tool").read_text() == "#!/bin/sh\necho tool\n"
    assert os.lstat(lib / "tool").st_mtime == EPOCH
    assert verify_root(r, tmp_path / "R").ok


def _root_with_accounts(tmp_path: Path) -> Path:
    root = tmp_path / "R"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\nacme:x:4242:4343::/:/sbin/nologin\n")
    (root / "etc/group").write_text("root:x:0:\nacme:x:4343:\n")
    return root


def test_owners_are_looked_up_in_the_root_and_applied(tmp_path):
    require_root()
    root = _root_with_accounts(tmp_path)
    r = demo(tmp_path, owner="acme", group="acme")
    report = install(r, root)
    assert report.owners_applied
    st = os.lstat(root / "usr/lib/demo/secret/key")
    assert (st.st_uid, st.st_gid) == (4242, 4343)
    assert stat.S_IMODE(st.st_mode) == 0o440
    assert verify_root(r, root).ok
    os.chown(root / "usr/lib/demo/secret/key", 0, 4343)
    mismatch = verify_root(r, root).by_path()["/usr/lib/demo/secret/key"]
    assert mismatch.problems == ("owner",)
    assert (mismatch.expected["owner"], mismatch.actual["owner"]) == ("acme", "root")


def test_setuid_survives_a_non_root_owner(tmp_path):
    require_root()
    root = _root_with_accounts(tmp_path)
    r = make_resolved(
        tmp_path / "src",
        [
            Entry("/opt", EntryKind.DIR, 0o755, owned=False),
            Entry("/opt/helper", EntryKind.FILE, 0o4750, source="helper", owner="acme", group="acme"),
        ],
        {"helper": "#!/bin/sh\n"},
    )
    install(r, root)
    st = os.lstat(root / "opt/helper")
    assert stat.S_IMODE(st.st_mode) == 0o4750 and st.st_uid == 4242


def test_unknown_owner_fails_before_anything_is_written(tmp_path):
    require_root()
    root = _root_with_accounts(tmp_path)
    before = snapshot(root)
    with pytest.raises(InstallError, match="nosuchuser"):
        install(demo(tmp_path, owner="nosuchuser"), root)
    assert snapshot(root) == before


def test_manifest_lists_every_entry(tmp_path):
    r = demo(tmp_path, owner="root", group="root")
    report = install(r, tmp_path / "R")
    doc = json.loads((tmp_path / "R" / report.manifest.lstrip("/")).read_text())
    assert doc["package"] == "demo" and doc["owners_applied"] is (os.geteuid() == 0)
    by_path = {e["path"]: e for e in doc["entries"]}
    assert set(by_path) == {e.path for e in r.entries}
    assert by_path["/usr/lib/demo/tool"]["mode"] == "4755"
    assert by_path["/usr/lib/demo/secret/key"]["sha256"] == report_digest(report, "/usr/lib/demo/secret/key")
    assert by_path["/usr/bin/demo"]["target"] == "/usr/lib/demo/tool"
    assert read_manifest(tmp_path / "R", "demo") == doc


def report_digest(report, path: str) -> str:
    return next(a.digest for a in report.actions if a.path == path)


def test_not_root_records_intended_owners_instead_of_skipping(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    r = demo(tmp_path, owner="svc-not-on-this-host", group="svc-not-on-this-host")
    report = install(r, tmp_path / "R")  # unknown names are no error: nothing is chowned
    assert not report.owners_applied
    assert "NOT applied" in report.to_text()
    doc = read_manifest(tmp_path / "R", "demo")
    assert doc["owners_applied"] is False
    key = next(e for e in doc["entries"] if e["path"] == "/usr/lib/demo/secret/key")
    assert (key["owner"], key["group"]) == ("svc-not-on-this-host", "svc-not-on-this-host")
    # verify holds the recorded owners against the map, and says so
    report = verify_root(r, tmp_path / "R")
    assert report.ok, report.to_text()
    assert any("without root" in n for n in report.notes)


@pytest.mark.parametrize("link", ["usr", "usr/lib"])
def test_symlink_on_the_way_is_refused(tmp_path, link):
    root, outside = tmp_path / "R", tmp_path / "outside"
    outside.mkdir()
    (root / link).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, root / link)
    before = snapshot(root)
    with pytest.raises(InstallError, match="symlink"):
        install(demo(tmp_path), root)
    assert list(outside.iterdir()) == []
    assert snapshot(root) == before


def test_symlink_at_an_entry_path_is_refused(tmp_path):
    root, outside = tmp_path / "R", tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("keep me\n")
    (root / "usr/lib/demo").mkdir(parents=True)
    os.symlink(outside / "victim", root / "usr/lib/demo/tool")
    before = snapshot(root)
    with pytest.raises(InstallError, match="symlink"):
        install(demo(tmp_path), root)
    assert (outside / "victim").read_text() == "keep me\n"
    assert mode_of(outside / "victim") == 0o644
    assert snapshot(root) == before


def test_wrong_type_at_an_entry_path_is_refused(tmp_path):
    root = tmp_path / "R"
    (root / "usr/lib/demo/tool").mkdir(parents=True)
    with pytest.raises(InstallError, match="not a file"):
        install(demo(tmp_path), root)


def test_entry_outside_the_root_is_refused(tmp_path):
    r = make_resolved(tmp_path / "src", [Entry("/usr/../../escape", EntryKind.FILE, 0o644, source="x")], {"x": "x"})
    with pytest.raises(InstallError, match="outside"):
        install(r, tmp_path / "R")
    assert not (tmp_path / "escape").exists() and not (tmp_path / "R").exists()


def test_existing_system_dir_keeps_its_mode(tmp_path):
    root = tmp_path / "R"
    (root / "usr").mkdir(parents=True)
    os.chmod(root / "usr", 0o750)
    install(demo(tmp_path), root)
    assert mode_of(root / "usr") == 0o750


def _previous_version(tmp_path: Path) -> tuple[Resolved, Path]:
    r = demo(tmp_path)
    root = tmp_path / "R"
    install(r, root)
    for name in ("tool", "provision.sh", "data"):  # the next version changes every file
        (tmp_path / "src" / name).write_text(f"new {name}\n")
    return r, root


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failure_while_staging_leaves_the_root_as_it_was(tmp_path, monkeypatch, exc):
    r, root = _previous_version(tmp_path)
    before = snapshot(root)
    real, calls = install_mod._copy_into, []

    def flaky(src, fd):
        calls.append(src)
        if len(calls) == 3:
            raise exc
        real(src, fd)

    monkeypatch.setattr(install_mod, "_copy_into", flaky)
    with pytest.raises(InstallError if isinstance(exc, OSError) else KeyboardInterrupt):
        install(r, root)
    assert len(calls) == 3
    assert snapshot(root) == before


def test_failure_while_committing_restores_replaced_files(tmp_path, monkeypatch):
    r, root = _previous_version(tmp_path)
    (root / "usr/lib/demo/secret/key").unlink()  # one new file to create, three to replace
    before = snapshot(root)
    real, calls = install_mod._place, []

    def flaky(tmp, name, pfd):
        calls.append(name)
        if len(calls) == 3:
            raise OSError(5, "Input/output error")
        real(tmp, name, pfd)

    monkeypatch.setattr(install_mod, "_place", flaky)
    with pytest.raises(InstallError, match="left as it was"):
        install(r, root)
    assert snapshot(root) == before


def test_failure_into_a_new_root_removes_it(tmp_path, monkeypatch):
    r = demo(tmp_path)
    monkeypatch.setattr(install_mod, "_place", lambda *a: (_ for _ in ()).throw(OSError(5, "boom")))
    with pytest.raises(InstallError):
        install(r, tmp_path / "new" / "R")
    assert not (tmp_path / "new").exists()


def test_dry_run_writes_nothing(tmp_path):
    r = demo(tmp_path)
    report = install(r, tmp_path / "R", dry_run=True)
    assert not (tmp_path / "R").exists()
    assert report.dry_run and report.to_text().startswith("would install demo 1.0-1")
    assert {a.path for a in report.actions if a.action == "create"} >= {e.path for e in r.entries}
    install(r, tmp_path / "R")
    (tmp_path / "src/data").write_text("changed\n")
    before = snapshot(tmp_path / "R")
    report = install(r, tmp_path / "R", dry_run=True)
    assert snapshot(tmp_path / "R") == before
    # the file, and the manifest that records its digest
    assert sorted(a.path for a in report.actions if a.action == "replace") == sorted(
        ["/usr/lib/demo/ro/data", report.manifest]
    )


def test_reinstall_is_idempotent_and_replaces_only_what_changed(tmp_path):
    r = demo(tmp_path)
    root = tmp_path / "R"
    install(r, root)
    first = snapshot(root)
    again = install(r, root)
    assert again.changed == 0
    assert again.count("unchanged") + again.count("exists") == len(again.actions)
    assert snapshot(root) == first
    (tmp_path / "src/provision.sh").write_text("#!/bin/sh\necho v2\n")
    os.chmod(root / "usr/lib/demo/secret", 0o755)
    third = install(r, root)
    changed = {a.path: a.action for a in third.actions if a.action not in ("unchanged", "exists")}
    assert changed == {
        "/usr/lib/demo/provision.sh": "replace",
        "/usr/lib/demo/secret": "update",
        third.manifest: "replace",
    }
    assert (root / "usr/lib/demo/provision.sh").read_text().endswith("v2\n")
    assert mode_of(root / "usr/lib/demo/provision.sh") == 0o744
    assert mode_of(root / "usr/lib/demo/secret") == 0o700
    leftovers = [p for p in root.rglob("*") if ".pkgtool-" in p.name]
    assert leftovers == []


def test_report_as_dict(tmp_path):
    report = install(demo(tmp_path), tmp_path / "R")
    d = report.to_dict()
    assert d["summary"]["create"] == report.count("create") > 0
    tool = next(a for a in d["actions"] if a["path"] == "/usr/lib/demo/tool")
    assert (tool["mode"], tool["kind"], tool["action"]) == ("4755", "file", "create")
    assert json.dumps(d)  # JSON-serialisable for --json


def test_really_not_root(tmp_path):
    """Drop to an unprivileged uid in a child process: modes exact, owners recorded, verify clean."""
    require_root()
    work = Path(tempfile.mkdtemp(prefix="pkgtool-nonroot-"))  # pytest's tmp_path is private to root
    try:
        os.chmod(work, 0o755)
        r = demo(work, owner="acme", group="acme")
        for p in [work / "src", *(work / "src").iterdir()]:
            os.chmod(p, 0o755 if p.is_dir() else 0o666)
        (work / "R").mkdir()
        os.chown(work / "R", 65534, 65534)
        (work / "state").mkdir()  # the journal's witness: in the unprivileged user's own state directory
        os.chown(work / "state", 65534, 65534)
        os.environ["PKGTOOL_STATE_DIR"] = str(work / "state")  # the autouse fixture restores it
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: never return into pytest
            code = 1
            try:
                os.close(read_fd)
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
                report = install(r, work / "R")
                lib = work / "R/usr/lib/demo"
                result = {
                    "owners_applied": report.owners_applied,
                    "modes": [mode_of(lib / n) for n in ("tool", "ro", "ro/data", "secret", "secret/key")],
                    "verify_ok": verify_root(r, work / "R").ok,
                    "again": install(r, work / "R").changed,
                }
                (work / "src/data").write_text("v2\n")  # into a read-only directory of ours
                result["replaced"] = [a.path for a in install(r, work / "R").actions if a.action == "replace"]
                result["after"] = [mode_of(lib / "ro"), mode_of(lib / "ro/data"), (lib / "ro/data").read_text()]
                os.write(write_fd, json.dumps(result).encode())
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        with os.fdopen(read_fd) as fh:
            out = fh.read()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0 and out
        result = json.loads(out)
        assert result == {
            "owners_applied": False,
            "modes": [0o4755, 0o555, 0o444, 0o700, 0o440],
            "verify_ok": True,
            "again": 0,
            "replaced": ["/.pkgtool/demo.json", "/usr/lib/demo/ro/data"],
            "after": [0o555, 0o444, "v2\n"],
        }
        assert os.lstat(work / "R/usr/lib/demo/tool").st_uid == 65534
    finally:
        shutil.rmtree(work, ignore_errors=True)
