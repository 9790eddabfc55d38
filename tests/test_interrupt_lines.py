"""A Ctrl-C at any line of `pkgtool build`, `generate` and `source` leaves each output old or new, no temp.

tests/test_interrupt.py sends real signals at random moments; this walks the moments: the
command runs in this process and the stop-signal handler current at one line of pkgtool after
another is run there (tooling.sigint_at_line), as Python runs it when a signal arrives between
two bytecodes.  Every line of atomic.py (the temp siblings, their names, renames and clean-up)
is tried, and evenly spaced lines of the rest, the command line's own code included.
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest
from tooling import sigint_at_line, snapshot

from pkgtool.atomic import STOP_SIGNALS
from pkgtool.cli import main

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vdsm-hook-acme"
OLD, NEW = 1736121600, 1767225600  # two epochs: the same file names, other bytes
SPREAD = 50  # lines tried outside atomic.py, per command


def _run(command: str, distro: str, out: Path) -> None:
    """`pkgtool COMMAND EXAMPLE --distro DISTRO --out OUT` in this process; KeyboardInterrupt if it was interrupted."""
    saved = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    try:
        main(["--quiet", command, str(EXAMPLE), "--distro", distro, "--out", str(out)])
    except SystemExit as exc:
        if exc.code == 130:
            raise KeyboardInterrupt from None
        assert exc.code in (0, None), f"pkgtool {command} exited {exc.code}"
    finally:
        for sig, handler in saved.items():  # the command's own handlers (ignoring after the first stop) go
            signal.signal(sig, handler)


def _count(fn) -> int:
    """How many lines of pkgtool ``fn`` runs: fire beyond the end, read whether it fired (doubling, then halving)."""
    lo, hi = 1, 1
    while sigint_at_line(fn, hi)[0]:  # fired: the run is longer
        lo, hi = hi, hi * 2
    while lo + 1 < hi:  # the last line that fires lies in [lo, hi)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if sigint_at_line(fn, mid)[0] else (lo, mid)
    return lo


@pytest.mark.slow
@pytest.mark.parametrize("distro", ["fedora", "debian"])
@pytest.mark.parametrize("command", ["build", "generate", "source"])
def test_a_ctrl_c_at_any_line_leaves_old_or_new_outputs_and_no_temp(tmp_path: Path, monkeypatch, command, distro):
    template, ref = tmp_path / "old", tmp_path / "new"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(OLD))
    _run(command, distro, template)
    shutil.copytree(template, ref, symlinks=True)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(NEW))
    _run(command, distro, ref)
    old, new = snapshot(template), snapshot(ref)
    assert old != new
    out = tmp_path / "out"

    def attempt(n: int, pick) -> bool:
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(template, out, symlinks=True)
        fired, interrupted = sigint_at_line(lambda: _run(command, distro, out), n, pick)
        where = (
            f"pkgtool {command} --distro {distro}: SIGINT at line {n} of {'atomic.py' if pick else 'pkgtool'}, {fired}"
        )
        now = snapshot(out)
        assert [p for p in now if ".pkgtool-" in p] == [], where
        for path, value in now.items():
            assert value in (old.get(path), new.get(path)), f"{where}: {path} is neither old nor new"
        assert interrupted if fired else now == new, where
        return fired

    def in_atomic(name: str) -> bool:
        return name.endswith("/pkgtool/atomic.py")

    n = 0
    while attempt(n := n + 1, in_atomic):
        pass
    assert n > 10  # the temp siblings' code ran, line by line
    total = _count(lambda: _run(command, distro, tmp_path / "counted"))
    for k in range(SPREAD):
        attempt(1 + k * total // SPREAD, None)
