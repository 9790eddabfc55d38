"""Hostile inputs, second round: patch targets out of the tree, symlinked inputs, special files,
system directories and pkgtool's own bookkeeping names.

Every command is run through the CLI; each refusal is asserted with its rule id, and the project,
its parent and the sentinel directory are compared byte for byte before and after.
"""

from __future__ import annotations

import os
import socket
import stat
import tempfile
import threading
from pathlib import Path

import pytest
from hostile_harness import HEAD, SENTINEL, check_run, cli, leftovers, snapshot

FILE = '[[file]]\nsrc = "a.txt"\ndst = "/usr/share/hostile/a.txt"\n'
COMMANDS = ("lint", "build", "generate", "install")


def _project(base: Path, body: str) -> Path:
    project = base / "project"
    project.mkdir(parents=True)
    (project / "pkgtool.toml").write_text(HEAD + body)
    (project / "a.txt").write_text("plain file\n")
    return project


def _args(command: str, project: Path, base: Path, distro: str = "debian") -> list[str]:
    if command == "lint":
        return ["lint", str(project), "-d", distro]
    if command == "install":
        return ["install", str(project), "-d", distro, "-r", str(base / "root")]
    return [command, str(project), "-d", distro, "-o", str(base / "out")]


def _tree_mtimes(top: Path) -> dict[str, int]:
    """Directory mtimes: a file created and removed again still changes its directory's."""
    out = {".": os.lstat(top).st_mtime_ns}
    for dirpath, dirnames, _ in os.walk(top):
        for d in dirnames:
            p = Path(dirpath) / d
            out[str(p.relative_to(top))] = os.lstat(p).st_mtime_ns
    return out


# ---------------------------------------------------------------- patch targets


def _climbing_patch(tmp_path: Path, monkeypatch) -> tuple[Path, Path, Path]:
    """A patch whose target (strip 0) climbs two levels: out of the project and out of the staging dir.

    The staging directory is put two levels under tmp_path/t, so that a copy made before the
    target is checked would land in tmp_path/t/victim; the project's own ../../victim exists.
    """
    base = tmp_path / "a"
    project = _project(base, FILE + '[[patch]]\nfile = "evil.patch"\nstrip = 0\n')
    (project / "evil.patch").write_text("--- a.txt\n+++ ../../victim/evil\n@@ -1 +1 @@\n-orig\n+pwned\n")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "evil").write_text("orig\n")
    staging = tmp_path / "t" / "u"
    staging.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(staging))
    return project, victim, staging


@pytest.mark.parametrize("command", COMMANDS)
def test_patch_target_out_of_the_tree_is_refused_before_any_write(command, tmp_path: Path, monkeypatch):
    project, victim, staging = _climbing_patch(tmp_path, monkeypatch)
    before = snapshot(tmp_path)
    run = cli(_args(command, project, project.parent))
    check_run(run, contains=["evil.patch:1", "outside the tree", "[patch-failed]"])
    assert run.exit_code in (1, 2)
    assert (victim / "evil").read_text() == "orig\n"
    assert not (tmp_path / "t" / "victim").exists()
    assert list(staging.iterdir()) == []
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith(("a/out", "a/root"))} == before


def test_patch_target_through_a_symlink_out_of_the_tree_is_refused(tmp_path: Path):
    project = _project(tmp_path, FILE + '[[patch]]\nfile = "evil.patch"\n')
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SENTINEL)
    os.symlink(outside, project / "sub")
    (project / "evil.patch").write_text("--- a/sub/secret.txt\n+++ b/sub/secret.txt\n@@ -1 +1 @@\n-x\n+y\n")
    before = snapshot(outside)
    for command in COMMANDS:
        run = cli(_args(command, project, tmp_path))
        check_run(run, contains=["evil.patch:1", "through a symlink", "[patch-failed]"])
        assert run.exit_code in (1, 2)
    assert snapshot(outside) == before


def test_lint_writes_nothing_but_its_private_temp_dir(tmp_path: Path, monkeypatch):
    """lint of a patched map, watched on the project and its parent: nothing created, changed or removed."""
    project = _project(tmp_path / "w", FILE + '[[patch]]\nfile = "fix.patch"\n')
    (project / "fix.patch").write_text("--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-plain file\n+patched\n")
    private = tmp_path / "private"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    parent = project.parent
    seen_modes: list[int] = []
    stop = threading.Event()

    def watch() -> None:  # the staging directory, while it exists, is private to the user
        while not stop.is_set():
            for p in private.iterdir():
                try:
                    seen_modes.append(stat.S_IMODE(os.lstat(p).st_mode))
                except FileNotFoundError:
                    pass

    before, mtimes = snapshot(parent), _tree_mtimes(parent)
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        run = cli(["lint", str(project), "-d", "fedora", "-d", "debian"])
    finally:
        stop.set()
        watcher.join()
    check_run(run, exit_code=0)
    assert snapshot(parent) == before
    assert _tree_mtimes(parent) == mtimes
    assert list(private.iterdir()) == []
    assert all(m & 0o077 == 0 for m in seen_modes), [oct(m) for m in seen_modes]


# ---------------------------------------------------------------- symlinked inputs


@pytest.mark.parametrize("command", COMMANDS)
def test_symlinked_patch_is_refused_by_every_command(command, tmp_path: Path):
    project = _project(tmp_path, FILE + '[[patch]]\nfile = "fix.patch"\n')
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = b"--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-plain file\n+SECRET-FROM-OUTSIDE\n"
    (outside / "fix.patch").write_bytes(secret)
    os.symlink(outside / "fix.patch", project / "fix.patch")
    run = cli(_args(command, project, tmp_path))
    check_run(run, contains=["fix.patch", "outside the layout directory", "[unsafe-path]"])
    assert run.exit_code in (1, 2)
    for top in (tmp_path / "out", tmp_path / "root"):
        if top.exists():
            found = [p for p in top.rglob("*") if p.is_file() and b"SECRET-FROM-OUTSIDE" in p.read_bytes()]
            assert found == [] and leftovers(top) == []


@pytest.mark.parametrize("distro", ["fedora", "debian"])
def test_generate_reads_a_patch_through_a_symlink_inside_the_tree(distro, tmp_path: Path):
    """The checked path refuses only what leaves the tree: a link to a patch in the tree still works."""
    project = _project(tmp_path, FILE + '[[patch]]\nfile = "fix.patch"\n')
    (project / "patches").mkdir()
    (project / "patches" / "real.patch").write_text("--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-plain file\n+patched\n")
    os.symlink("patches/real.patch", project / "fix.patch")
    run = cli(["generate", str(project), "-d", distro, "-o", str(tmp_path / "out")])
    check_run(run, exit_code=0)
    copies = [p for p in (tmp_path / "out").rglob("fix.patch")]
    assert copies and all(b"+patched" in p.read_bytes() for p in copies)


# ---------------------------------------------------------------- special files as sources


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


@pytest.mark.parametrize("make", [_fifo, _socket], ids=["fifo", "socket"])
@pytest.mark.parametrize("command", COMMANDS)
def test_special_file_as_src_is_refused_by_every_command(make, command, tmp_path: Path):
    project = _project(tmp_path, '[[file]]\nsrc = "special"\ndst = "/usr/share/hostile/special"\n')
    make(project / "special")
    run = cli(_args(command, project, tmp_path))  # a FIFO opened for reading would hang here
    what = "a FIFO" if make is _fifo else "a socket"
    check_run(run, contains=[f"'special' is {what}, not a regular file", "[missing-source]", "pkgtool.toml:"])
    assert run.exit_code in (1, 2)
    assert not (tmp_path / "root" / "usr").exists()


@pytest.mark.parametrize("make", [_fifo, _socket], ids=["fifo", "socket"])
def test_special_file_as_script_or_patch_is_refused(make, tmp_path: Path):
    project = _project(tmp_path, FILE + '[scripts]\npost-install = "post.sh"\n')
    make(project / "post.sh")
    run = cli(["lint", str(project), "-d", "fedora"])
    check_run(run, exit_code=1, contains=["'post.sh' is", "not a regular file", "[missing-source]"])
    other = _project(tmp_path / "p2", FILE + '[[patch]]\nfile = "fix.patch"\n')
    make(other / "fix.patch")
    for command in COMMANDS:
        run = cli(_args(command, other, tmp_path / "p2"))
        check_run(run, contains=["fix.patch", "not a regular file", "[missing-source]"])
        assert run.exit_code in (1, 2)


# ---------------------------------------------------------------- system directories


@pytest.mark.parametrize("command", ["build", "install", "generate"])
def test_dir_claiming_a_system_directory_is_refused_at_resolve(command, tmp_path: Path):
    project = _project(tmp_path, FILE + '[[dir]]\npath = "/etc"\nmode = "0777"\n')
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.chmod(root / "etc", 0o755)
    run = cli(_args(command, project, tmp_path))
    # build's lint gate finds it before resolve does: a lint error (1), not an input error (2).
    exit_code = 1 if command == "build" else 2
    check_run(
        run, exit_code=exit_code, contains=["/etc", "belongs to the system", "[owns-system-dir]", "pkgtool.toml:"]
    )
    assert stat.S_IMODE(os.stat(root / "etc").st_mode) == 0o755
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_waived_system_directory_is_left_as_the_system_has_it(tmp_path: Path):
    body = FILE + '[[dir]]\npath = "/etc"\nmode = "0777"\nallow = ["owns-system-dir"]\n'
    project = _project(tmp_path, body)
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.chmod(root / "etc", 0o755)
    run = cli(_args("install", project, tmp_path))
    check_run(run, exit_code=0)
    assert stat.S_IMODE(os.stat(root / "etc").st_mode) == 0o755


# ---------------------------------------------------------------- bookkeeping names


@pytest.mark.parametrize(
    "dst",
    [
        "/.pkgtool-journal.other",
        "/.pkgtool-journal.hostile",
        "/etc/.shadow.pkgtool-old-1-2",
        "/usr/bin/.tool.pkgtool-new-99-0",
        "/.pkgtool/other.json",
        "/.pkgtool",
    ],
)
@pytest.mark.parametrize("command", ["build", "install", "lint"])
def test_deploying_a_bookkeeping_name_is_refused_at_resolve(dst, command, tmp_path: Path):
    project = _project(tmp_path, f'[[file]]\nsrc = "a.txt"\ndst = "{dst}"\n')
    run = cli(_args(command, project, tmp_path))
    check_run(run, contains=[dst, "[unsafe-path]"])
    assert run.exit_code == (1 if command == "lint" else 2)
    assert not (tmp_path / "root").exists() or leftovers(tmp_path / "root") == []


def test_a_tree_cannot_carry_a_bookkeeping_name(tmp_path: Path):
    project = _project(tmp_path, '[[tree]]\nsrc = "data/"\ndst = "/"\n')
    (project / "data").mkdir()
    (project / "data" / ".pkgtool-journal.victim").write_text("forged\n")
    run = cli(_args("install", project, tmp_path))
    check_run(run, exit_code=2, contains=[".pkgtool-journal.victim", "[unsafe-path]"])
    assert not (tmp_path / "root" / ".pkgtool-journal.victim").exists()
