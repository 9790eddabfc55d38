"""The on-disk install journal: a process killed at any step of an install is rolled back (or finished).

Each case runs `install` in a child process that SIGKILLs itself at the N-th call of one
step (copying a staged file, placing a file, removing a backup), then recovers the root
in this process and asserts it equals the old root exactly, or the new one when the
commit had completed.  N walks every call, so every kill point of a small install is tried.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from tooling import sigint_at_line, snapshot

from pkgtool.errors import InstallError
from pkgtool.install.apply import install
from pkgtool.install.journal import PREFIX, pending, recover, write_witness
from pkgtool.project import resolve_dir

EPOCH = 1736121600
MAP = """\
schema = 1
[package]
name = "journalled"
version = "{version}"
summary = "Interrupted installs"
description = "Interrupted installs."
license = "MIT"
maintainer = "A <a@example.org>"
arch = "noarch"

[[tree]]
src = "data/"
dst = "/usr/share/journalled/"

[[dir]]
path = "/usr/share/journalled/locked"
mode = "0555"

[[file]]
src = "tool"
dst = "/usr/libexec/journalled/tool"
mode = "0755"

[[symlink]]
path = "/usr/bin/journalled"
target = "/usr/libexec/journalled/tool"
"""


def _project(base: Path, generation: int) -> Path:
    p = base / f"project-{generation}"
    (p / "data" / "sub").mkdir(parents=True)
    (p / "pkgtool.toml").write_text(MAP.format(version=f"1.{generation}"))
    (p / "tool").write_text(f"#!/bin/sh\necho {generation}\n")
    for i in range(6):
        # Half the files change between generations, half stay the same; generation 2 adds one.
        text = f"file {i} generation {generation if i % 2 else 1}\n"
        (p / "data" / ("sub" if i % 3 == 0 else ".") / f"f{i}.txt").write_text(text)
    if generation == 2:
        (p / "data" / "sub" / "added.txt").write_text("new in 2\n")
    return p


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pkgtool.install import apply as mod
    from pkgtool.install import journal
    from pkgtool.project import resolve_dir

    project, root, where, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    owner = journal.Journal if where == "finish" else mod
    name = "finish" if where == "finish" else where
    real = getattr(owner, name)
    calls = [0]

    def killer(*args, **kwargs):
        calls[0] += 1
        if calls[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    setattr(owner, name, killer)
    mod.install(resolve_dir(project, "fedora", int(os.environ["SOURCE_DATE_EPOCH"])), root)
    print("finished", calls[0])
    """
)


def _killed_install(project: Path, root: Path, where: str, n: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)}
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(project), str(root), where, str(n)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture
def roots(tmp_path: Path):
    old_p, new_p = _project(tmp_path, 1), _project(tmp_path, 2)
    ref_old, ref_new = tmp_path / "ref-old", tmp_path / "ref-new"
    install(resolve_dir(old_p, "fedora", EPOCH), ref_old)
    install(resolve_dir(old_p, "fedora", EPOCH), ref_new)
    install(resolve_dir(new_p, "fedora", EPOCH), ref_new)
    old, new = snapshot(ref_old), snapshot(ref_new)
    assert old != new
    return old_p, new_p, old, new


# (step wrapped, state the journal is in when it kills, what recovery must give)
STEPS = [("_copy_into", "old"), ("_place", "old"), ("finish", "new")]


@pytest.mark.parametrize(("where", "expect"), STEPS)
def test_kill_at_every_call_of_a_step_recovers_old_or_new(tmp_path: Path, roots, where: str, expect: str):
    old_p, new_p, old, new = roots
    kills = 0
    for n in range(1, 40):
        root = tmp_path / f"root-{where}-{n}"
        install(resolve_dir(old_p, "fedora", EPOCH), root)
        proc = _killed_install(new_p, root, where, n)
        if proc.returncode == 0:
            assert proc.stdout.startswith("finished"), proc.stderr
            assert snapshot(root) == new
            break  # n went past the last call of this step
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        kills += 1
        assert pending(root) == ["journalled"], f"kill {n} at {where}: no journal left"
        done = recover(root)
        assert [r.package for r in done] == ["journalled"]
        assert snapshot(root) == (old if expect == "old" else new), f"kill {n} at {where}"
        assert pending(root) == []
        # Recovery is idempotent, and the next install completes the new root.
        assert recover(root) == []
        install(resolve_dir(new_p, "fedora", EPOCH), root)
        assert snapshot(root) == new
    # Five files and a link change (plus the manifest): every one of those calls was a kill point.
    assert kills >= (1 if where == "finish" else 5), f"{where}: only {kills} kill points reached"


def test_next_install_recovers_first_and_says_so(tmp_path: Path, roots):
    old_p, new_p, old, new = roots
    root = tmp_path / "root"
    install(resolve_dir(old_p, "fedora", EPOCH), root)
    assert _killed_install(new_p, root, "_place", 3).returncode == -signal.SIGKILL
    with pytest.raises(InstallError, match="interrupted"):
        install(resolve_dir(new_p, "fedora", EPOCH), root, dry_run=True)
    report = install(resolve_dir(new_p, "fedora", EPOCH), root)
    assert [(r.package, r.state, r.outcome) for r in report.recovered] == [("journalled", "commit", "rolled back")]
    assert report.to_text().splitlines()[0].startswith("recovered an interrupted install of journalled")
    assert report.to_dict()["recovered"] == [{"package": "journalled", "state": "commit", "outcome": "rolled back"}]
    assert snapshot(root) == new


def test_a_root_made_by_the_killed_install_is_removed(tmp_path: Path, roots):
    _old_p, new_p, _old, _new = roots
    root = tmp_path / "fresh" / "root"
    assert _killed_install(new_p, root, "_place", 2).returncode == -signal.SIGKILL
    recover(root)
    assert not (tmp_path / "fresh").exists()


def test_a_journal_held_by_a_running_install_is_not_touched(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    path = root / f"{PREFIX}busy"
    path.write_bytes(b"pkgtool-install-journal 1 state=commit  \n{}")
    with open(path, "rb") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(InstallError, match="another pkgtool install"):
            recover(root)
    assert path.exists()


def test_a_damaged_journal_is_a_clear_error(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    (root / f"{PREFIX}demo").write_bytes(b"not a journal")
    with pytest.raises(InstallError, match="not a pkgtool install journal"):
        recover(root)
    (root / f"{PREFIX}demo").write_bytes(b'pkgtool-install-journal 1 state=commit  \n{"package": "demo", "mkroot": [')
    with pytest.raises(InstallError, match="damaged journal"):
        recover(root)
    # A journal whose paths climb out of the root is damaged, not obeyed.
    body = b'{"package":"demo","mkroot":[],"dirs":[],"unlock":[],"attrs":[],"moves":[[[".."],"x","y",null]]}'
    (root / f"{PREFIX}demo").write_bytes(b"pkgtool-install-journal 1 state=commit  \n" + body)
    with pytest.raises(InstallError, match="damaged journal"):
        recover(root)


def test_killed_while_writing_the_plan_changed_nothing(tmp_path: Path):
    root = tmp_path / "root"
    (root / "keep").mkdir(parents=True)
    (root / f"{PREFIX}demo").write_bytes(b'pkgtool-install-journal 1 state=writing \n{"package": "de')
    assert [r.outcome for r in recover(root)] == ["nothing to undo"]
    assert sorted(os.listdir(root)) == ["keep"]


@pytest.mark.parametrize("cut", [0, 1, 20, 40])
def test_killed_before_the_head_was_whole_changed_nothing(tmp_path: Path, cut: int):
    # SIGKILL right after the journal was created (empty file) or mid-way through its first write.
    root = tmp_path / "root"
    (root / "keep").mkdir(parents=True)
    head = b"pkgtool-install-journal 1 state=writing \n"
    assert cut < len(head)
    (root / f"{PREFIX}demo").write_bytes(head[:cut])
    assert [(r.state, r.outcome) for r in recover(root)] == [("writing", "nothing to undo")]
    assert sorted(os.listdir(root)) == ["keep"]


def test_a_short_file_that_is_not_a_head_is_still_refused(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    (root / f"{PREFIX}demo").write_bytes(b"pkgtool-install-journal 1 state=commit")
    with pytest.raises(InstallError, match="not a pkgtool install journal"):
        recover(root)


def test_begin_refuses_when_a_racing_recovery_removed_its_journal(tmp_path: Path, monkeypatch):
    from pkgtool.install import journal as ij

    root = tmp_path / "root"
    root.mkdir()
    real_flock = fcntl.flock
    raced: list[bool] = []

    def late_flock(fd, op):
        # Another install's recovery runs between our create and our lock: it takes the empty file
        # for a killed journal, removes it, and that install creates its own journal under the name.
        if not raced:
            raced.append(True)
            monkeypatch.setattr(ij.fcntl, "flock", real_flock)
            assert [r.outcome for r in recover(root)] == ["nothing to undo"]
            (root / f"{PREFIX}demo").write_bytes(b"theirs")
        return real_flock(fd, op)

    monkeypatch.setattr(ij.fcntl, "flock", late_flock)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(InstallError, match="another pkgtool install of demo is running"):
            ij.Journal.begin(fd, ij.Plan("demo"))
    finally:
        os.close(fd)
    assert (root / f"{PREFIX}demo").read_bytes() == b"theirs"  # the other install's journal is untouched


def test_verify_reports_a_root_with_an_interrupted_install(tmp_path: Path, roots):
    from pkgtool.verify.root import verify_root

    old_p, new_p, _old, _new = roots
    root = tmp_path / "root"
    install(resolve_dir(old_p, "fedora", EPOCH), root)
    assert verify_root(resolve_dir(old_p, "fedora", EPOCH), root).ok
    assert _killed_install(new_p, root, "_copy_into", 2).returncode == -signal.SIGKILL
    report = verify_root(resolve_dir(old_p, "fedora", EPOCH), root)
    assert not report.ok
    first = report.mismatches[0]
    assert (first.path, first.flags) == (f"/{PREFIX}journalled", "interrupted")
    assert "rolls it back" in report.to_text()
    recover(root)
    assert verify_root(resolve_dir(old_p, "fedora", EPOCH), root).ok


def test_a_journal_cannot_remove_directories_outside_the_roots_own_path(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    plan = {
        "package": "demo",
        "mkroot": [str(elsewhere), str(root)],
        "dirs": [],
        "unlock": [],
        "attrs": [],
        "moves": [],
    }
    body = json.dumps(plan).encode()
    (root / f"{PREFIX}demo").write_bytes(b"pkgtool-install-journal 1 state=commit  \n" + body)
    write_witness(root, f"{PREFIX}demo", body)  # as if this host's pkgtool had written it
    assert [r.outcome for r in recover(root)] == ["rolled back"]
    assert elsewhere.is_dir(), "an empty directory named by the journal but outside the root's path was removed"
    assert not root.exists()  # the root itself was named as made by the install, and is empty: removed


def test_ctrl_c_after_the_commit_finds_the_install_complete(tmp_path: Path, roots, monkeypatch):
    """A Ctrl-C held back during the clean-up is delivered after it: the root is the new one, whole."""
    from pkgtool.install.journal import Journal

    old_p, new_p, _old, new = roots
    root = tmp_path / "root"
    install(resolve_dir(old_p, "fedora", EPOCH), root)
    real_finish = Journal.finish

    def finish_with_ctrl_c(self):
        os.kill(os.getpid(), signal.SIGINT)  # held here: delivered when the clean-up ends
        time.sleep(0.05)  # time for the signal to reach whichever thread the kernel picks
        real_finish(self)

    monkeypatch.setattr(Journal, "finish", finish_with_ctrl_c)
    # Another thread alive, as under a test runner or beside a compressor: a signal masked in the
    # main thread alone would be handed to it, and Python would still run the handler at once.
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            install(resolve_dir(new_p, "fedora", EPOCH), root)
    finally:
        stop.set()
        other.join()
    assert snapshot(root) == new
    assert pending(root) == []


def test_a_ctrl_c_at_any_line_of_an_install_leaves_the_root_old_or_new_and_no_journal(tmp_path: Path, roots):
    """Every line of an upgrade is a moment a stop signal can arrive: whichever, the root ends up old or new,
    with no journal, witness or temp sibling left, and the command is interrupted."""
    import shutil

    from pkgtool.bookkeeping import journal_name
    from pkgtool.install.journal import _witness_path

    old_p, new_p, old, new = roots
    template = tmp_path / "template"
    install(resolve_dir(old_p, "fedora", EPOCH), template)
    resolved = resolve_dir(new_p, "fedora", EPOCH)
    n = 0
    while True:
        n += 1
        root = tmp_path / f"root-{n}"
        shutil.copytree(template, root, symlinks=True)
        fired, interrupted = sigint_at_line(lambda root=root: install(resolved, root), n)
        if not fired:  # the install ran fewer lines: every one of them has been tried
            assert snapshot(root) == new
            break
        where = f"SIGINT handled at line {n} of the install, {fired}"
        assert interrupted, where
        assert snapshot(root) in (old, new), where
        assert pending(root) == [], where
        assert not _witness_path(root, journal_name("journalled")).exists(), where
        shutil.rmtree(root)
    assert n > 1000  # the whole install was walked, not a prefix
