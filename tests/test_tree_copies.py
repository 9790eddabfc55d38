"""pkgtool.archive.tree_copies: the unpacked source tree written beside the tarball, in a second thread."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from pkgtool.archive import tree_copies
from pkgtool.archive.tree_copies import TreeCopies
from pkgtool.errors import PkgtoolError

EPOCH = 1736121600


def _copy_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "source-tree"]


def test_copies_get_their_bytes_mode_and_mtime_whatever_the_umask(tmp_path, monkeypatch):
    monkeypatch.setattr(tree_copies, "_BATCH", 3)  # several hand-overs and a partial last one
    old = os.umask(0o077)
    try:
        with TreeCopies(EPOCH) as copies:
            for i in range(10):
                copies.add(str(tmp_path / f"f{i}"), b"x" * i, 0o755 if i % 2 else 0o644)
    finally:
        os.umask(old)
    for i in range(10):
        st = (tmp_path / f"f{i}").stat()
        assert (tmp_path / f"f{i}").read_bytes() == b"x" * i
        assert (stat.S_IMODE(st.st_mode), st.st_mtime) == (0o755 if i % 2 else 0o644, EPOCH)
    assert _copy_threads() == []


def test_a_failed_copy_is_a_typed_error_at_the_end(tmp_path):
    with pytest.raises(PkgtoolError, match="cannot write .*missing-dir"), TreeCopies(EPOCH) as copies:
        copies.add(str(tmp_path / "missing-dir" / "f"), b"x", 0o644)
    assert _copy_threads() == []


def test_a_failure_in_the_caller_stops_the_copies_before_the_exit_returns(tmp_path, monkeypatch):
    # The caller's cleanup (an atomic_dir) removes the tree right after: by then the threads
    # must have ended, or they would write into a directory being removed.
    monkeypatch.setattr(tree_copies, "_BATCH", 1)
    started = threading.Event()
    release = threading.Event()
    under_way: list[str] = []
    real = tree_copies._write_copy

    def slow(path, data, mode, epoch):
        under_way.append(os.path.basename(path))
        started.set()
        release.wait(5)
        real(path, data, mode, epoch)

    monkeypatch.setattr(tree_copies, "_write_copy", slow)
    n = tree_copies._THREADS + 3
    with pytest.raises(RuntimeError), TreeCopies(EPOCH) as copies:
        for i in range(n):
            copies.add(str(tmp_path / f"f{i}"), b"x", 0o644)
        started.wait(5)
        threading.Timer(0.2, release.set).start()
        raise RuntimeError("the caller failed")
    assert _copy_threads() == []
    # The copies under way were finished, no other was started: at most one per thread.
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(under_way)
    assert 1 <= len(written) <= tree_copies._THREADS < n


def test_copies_are_written_by_several_threads_at_once(tmp_path, monkeypatch):
    # Creating a file is mostly waiting in the kernel: the threads must overlap, not take turns.
    monkeypatch.setattr(tree_copies, "_BATCH", 1)
    together = threading.Barrier(tree_copies._THREADS, timeout=10)  # breaks unless all threads are in a copy
    real = tree_copies._write_copy

    def meet(path, data, mode, epoch):
        together.wait()
        real(path, data, mode, epoch)

    monkeypatch.setattr(tree_copies, "_write_copy", meet)
    with TreeCopies(EPOCH) as copies:
        for i in range(tree_copies._THREADS):
            copies.add(str(tmp_path / f"f{i}"), b"x" * i, 0o644)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"f{i}" for i in range(tree_copies._THREADS)]
    assert _copy_threads() == []


def test_batches_are_cut_by_bytes_as_well_as_by_count(tmp_path, monkeypatch):
    # Large files (up to MAX_HANDED each) must not pile up 256 to a batch: memory stays bounded.
    monkeypatch.setattr(tree_copies, "_BATCH_BYTES", 10)
    handed: list[int] = []
    real_put = TreeCopies._put

    def put(self, batch):
        handed.append(len(batch))
        real_put(self, batch)

    monkeypatch.setattr(TreeCopies, "_put", put)
    with TreeCopies(EPOCH) as copies:
        for i in range(5):
            copies.add(str(tmp_path / f"f{i}"), b"x" * 6, 0o644)
    assert handed == [2, 2, 1]  # 12 bytes reach the limit every second file; the last one at the end
    assert all((tmp_path / f"f{i}").read_bytes() == b"x" * 6 for i in range(5))
