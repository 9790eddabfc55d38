"""Timing whole processes: wall time and peak RSS per run, runs interleaved so figures compare side by side."""

from __future__ import annotations

import os
import shlex
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    maxrss_kb: int  # peak RSS of the process and the children it waited for
    returncode: int


@dataclass
class Case:
    """One command to time.  ``cmd`` as a string runs through /bin/sh (pipelines)."""

    name: str
    label: str
    cmd: Sequence[str] | str
    runs: int = 5
    setup: Callable[[], None] | None = None  # untimed, before every run (warm-up included)
    cwd: Path | None = None
    env: dict[str, str] | None = None
    warmup: bool = True
    needs: tuple[str, ...] = ()  # executables; the case is skipped when one is missing
    error: str = ""  # set when the case could not even be prepared; it is reported, never run

    def command_text(self) -> str:
        return self.cmd if isinstance(self.cmd, str) else shlex.join(str(c) for c in self.cmd)


@dataclass
class Stats:
    name: str
    label: str
    command: str
    samples: list[Sample] = field(default_factory=list)
    error: str = ""  # why the case has no (or fewer) samples
    skipped: bool = False

    @property
    def walls(self) -> list[float]:
        return [s.wall for s in self.samples]

    @property
    def ok(self) -> bool:
        return bool(self.samples) and not self.error

    @property
    def median(self) -> float | None:
        return statistics.median(self.walls) if self.samples else None

    @property
    def min(self) -> float | None:
        return min(self.walls) if self.samples else None

    @property
    def max(self) -> float | None:
        return max(self.walls) if self.samples else None

    @property
    def peak_rss_mb(self) -> float | None:
        return max(s.maxrss_kb for s in self.samples) / 1024 if self.samples else None

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "command": self.command,
            "runs": len(self.samples),
            "median_s": _round(self.median),
            "min_s": _round(self.min),
            "max_s": _round(self.max),
            "peak_rss_mb": _round(self.peak_rss_mb, 1),
            "samples_s": [round(w, 4) for w in self.walls],
            "samples_rss_mb": [round(s.maxrss_kb / 1024, 1) for s in self.samples],
            "error": self.error,
            "skipped": self.skipped,
        }


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def run_once(case: Case, log: Path) -> Sample:
    """Run the case's command once; output goes to ``log`` (never a pipe, which could stall it)."""
    argv = ["/bin/sh", "-c", case.cmd] if isinstance(case.cmd, str) else [str(c) for c in case.cmd]
    env = dict(os.environ)
    if case.env:
        env.update(case.env)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=case.cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        # wait4 gives this child's own rusage (including the children it reaped), not the sum of every run.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Sample(wall=wall, maxrss_kb=usage.ru_maxrss, returncode=proc.returncode)


def _tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def measure(cases: Sequence[Case], log_dir: Path, progress: Callable[[str], None] = print) -> dict[str, Stats]:
    """Time every case: one untimed warm-up each, then rounds that run every case once, in order.

    Interleaving the rounds means a slow drift of the machine (page cache,
    thermal, a neighbour) hits every case alike, so ratios stay honest.
    """
    stats = {c.name: Stats(c.name, c.label, c.command_text()) for c in cases}
    live: list[Case] = []
    for case in cases:
        if case.error:
            stats[case.name].error = case.error
            continue
        missing = [t for t in case.needs if shutil.which(t) is None]
        if missing:
            stats[case.name].error = f"not installed: {', '.join(missing)}"
            stats[case.name].skipped = True
            continue
        live.append(case)

    def attempt(case: Case, tag: str) -> Sample | None:
        log = log_dir / f"{case.name}.{tag}.log"
        try:
            if case.setup is not None:
                case.setup()
            sample = run_once(case, log)
        except Exception as exc:  # a broken setup must not take the whole bench down
            stats[case.name].error = f"setup failed: {exc}"
            return None
        if sample.returncode != 0:
            stats[case.name].error = f"exit code {sample.returncode}:\n{_tail(log)}"
            return None
        return sample

    for case in live:
        if case.warmup:
            progress(f"  warm-up {case.name}")
            attempt(case, "warmup")
    rounds = max((c.runs for c in live), default=0)
    for i in range(rounds):
        for case in live:
            st = stats[case.name]
            if i >= case.runs or st.error:
                continue
            sample = attempt(case, f"run{i}")
            if sample is not None:
                st.samples.append(sample)
                progress(
                    f"  {case.name} run {i + 1}/{case.runs}: {sample.wall:.3f} s, {sample.maxrss_kb / 1024:.0f} MB"
                )
    return stats
