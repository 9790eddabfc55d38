"""sigint_held: a Ctrl-C during a commit waits for its end, whichever thread the kernel hands it to."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from pkgtool.atomic import sigint_held


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)  # time for the signal to reach a thread and for Python to run its handler


@pytest.fixture
def other_thread():
    """A live second thread: a signal the main thread does not take is handed to it."""
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    yield
    stop.set()
    t.join()


def test_held_until_the_block_ends_then_delivered(other_thread):
    reached = []
    with pytest.raises(KeyboardInterrupt), sigint_held():
        _ctrl_c()
        reached.append("end of block")
    assert reached == ["end of block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_previous_handler_gets_it_once(other_thread):
    calls = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: calls.append(signum))
    try:
        with sigint_held():
            _ctrl_c()
            _ctrl_c()
            assert calls == []
        assert calls == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, previous)


def test_nested_holds_deliver_at_the_outermost_end(other_thread):
    order = []
    with pytest.raises(KeyboardInterrupt), sigint_held():
        with sigint_held():
            _ctrl_c()
        order.append("after inner")
    assert order == ["after inner"]


def test_ignored_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with sigint_held():
            _ctrl_c()
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_outside_the_main_thread_it_is_a_plain_block():
    done = []

    def work():
        with sigint_held():
            done.append(threading.current_thread() is not threading.main_thread())

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert done == [True]


@pytest.mark.parametrize("kind", ["file", "dir"])
def test_ctrl_c_while_the_temp_sibling_is_made_leaves_nothing(tmp_path, monkeypatch, kind):
    # The signal arrives while mkstemp/mkdtemp runs: Python acts on it at the next bytecode, before the
    # temp name is kept.  The temp must still be removed, and the Ctrl-C still end the command.
    from pkgtool import atomic

    real = atomic._tmp_sibling

    def made_then_interrupted(dest, directory):
        path = real(dest, directory)
        _ctrl_c()
        return path

    monkeypatch.setattr(atomic, "_tmp_sibling", made_then_interrupted)
    writer = atomic.atomic_file if kind == "file" else atomic.atomic_dir
    with pytest.raises(KeyboardInterrupt):
        with writer(tmp_path / "out") as tmp:
            raise AssertionError(f"the body ran with {tmp}: the Ctrl-C was not delivered first")
    assert os.listdir(tmp_path) == []


def test_stop_here_delivers_a_held_signal_once_at_that_point(other_thread):
    reached = []
    with pytest.raises(KeyboardInterrupt), sigint_held() as stop_here:
        stop_here()  # nothing held: a no-op
        reached.append("before")
        _ctrl_c()
        reached.append("held")
        stop_here()
        reached.append("after")  # not reached: delivered at stop_here
    assert reached == ["before", "held"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sweep_removes_what_a_clean_up_left_and_only_this_process_made(tmp_path):
    from pkgtool import atomic

    made = atomic._tmp_sibling(tmp_path / "out.rpm", directory=False)
    made_dir = atomic._tmp_sibling(tmp_path / "tree", directory=True)
    (made_dir / "f").write_text("x")
    parents = tmp_path / "parents"  # made by another process (a forked worker's parent): not ours to remove
    parents.mkdir()
    atomic._LIVE[str(parents)] = (os.getppid(), True)
    try:
        atomic.sweep_temps()
        assert not made.exists() and not made_dir.exists()
        assert parents.is_dir()
        assert str(made) not in atomic._LIVE and str(parents) in atomic._LIVE
    finally:
        atomic._LIVE.pop(str(parents), None)


def test_a_consumed_temp_is_not_swept(tmp_path):
    from pkgtool.atomic import _LIVE, atomic_dir, write_bytes_atomic

    write_bytes_atomic(tmp_path / "a", b"new")
    with atomic_dir(tmp_path / "d") as d:
        (d / "f").write_text("x")
    assert not [p for p in _LIVE if p.startswith(str(tmp_path))]
    assert (tmp_path / "a").read_bytes() == b"new" and (tmp_path / "d" / "f").read_text() == "x"


def test_a_handler_delivered_by_stop_here_keeps_what_it_set(other_thread):
    """The command line's handler ignores further stops while it unwinds: the hold must not undo that."""
    calls = []

    def like_the_cli(signum, frame):
        calls.append(signum)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise SystemExit(130)

    before = signal.signal(signal.SIGINT, like_the_cli)
    try:
        with pytest.raises(SystemExit), sigint_held() as stop_here:
            _ctrl_c()
            stop_here()
        assert calls == [signal.SIGINT]
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_stop_here_drops_an_ignored_signal_and_keeps_holding(other_thread):
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with sigint_held() as stop_here:
            _ctrl_c()
            stop_here()  # ignored: nothing to deliver
            assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN  # still ours: the hold goes on
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_temp_trees_with_read_only_directories_are_removed_without_root():
    """As tempfile.TemporaryDirectory does: a 0555 directory (a map's, staged or built) does not stay behind."""
    import shutil
    import tempfile
    from pathlib import Path

    from tooling import require_root

    from pkgtool import atomic

    require_root()  # to drop to an unprivileged uid in a child; root itself may write anywhere
    work = Path(tempfile.mkdtemp(prefix="pkgtool-nonroot-"))
    try:
        os.chmod(work, 0o777)
        pid = os.fork()
        if pid == 0:  # child: never return into pytest
            code = 1
            try:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
                with atomic.temp_dir(prefix="t-", dir=work) as tmp:
                    locked = Path(tmp, "a", "locked")
                    (locked / "deeper").mkdir(parents=True)
                    (locked / "deeper" / "f").write_text("x")
                    (locked / "g").write_text("y")
                    os.chmod(locked / "deeper", 0o555)
                    os.chmod(locked, 0o555)
                left = atomic._tmp_sibling(work / "out", directory=True)  # swept, as after an interrupt
                (left / "ro").mkdir()
                (left / "ro" / "f").write_text("z")
                os.chmod(left / "ro", 0o500)
                atomic.sweep_temps()
                code = 0 if not os.listdir(work) else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, os.listdir(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_a_temp_tree_that_cannot_be_removed_is_left_without_an_error(tmp_path, monkeypatch):
    """A directory that stays undeletable (its parent cannot be changed) ends the removal quietly, no loop."""
    import shutil

    from pkgtool import atomic

    top = tmp_path / "t"
    (top / "d").mkdir(parents=True)
    real_rmdir = os.rmdir

    def refused(path, *args, **kwargs):
        if os.fspath(path).endswith("/d") or os.fspath(path) == "d":
            raise PermissionError(1, "Operation not permitted", os.fspath(path))
        return real_rmdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "rmdir", refused)
    atomic._remove(str(top), True)  # returns: no RecursionError, no traceback
    monkeypatch.setattr(os, "rmdir", real_rmdir)
    assert (top / "d").is_dir()
    shutil.rmtree(top)
