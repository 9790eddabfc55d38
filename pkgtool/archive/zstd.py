"""zstd parameters shared by the .deb members and the RPM payload: reproducible, memory-bounded.

zstd's multi-threaded mode (threads >= 1) writes the same frame whatever the
number of workers, for given parameters and job size; single-threaded mode
(threads=0) writes another.  So the mode is always multi-threaded and the job
size is fixed by the level (one window, at least 2 MiB), never by the machine
(tests/test_zstd_params.py compares 1, 2 and 8 workers).

The number of workers is a matter of speed and memory only: each holds a
compression context and its job's buffers, so the workers are as many as the
cores, within a budget.  Where the budget would not hold two workers of a
level's own parameters (level 19: an 81 MiB context, for an 8 MiB window),
the level keeps its search (strategy, searchLog, minMatch, targetLength) but
gets the window and tables zstd itself would choose for a source of one job
(ZSTD_adjustCParams): at level 19 a 2 MiB window and a 33 MiB context, so
every core works, for a payload about 5 % larger (bench/notes.md).  That too
depends on the level alone, so the bytes never depend on the machine.
"""

from __future__ import annotations

import functools
import os

import zstandard

# Each job reloads this much of the previous one (window >> (9 - log)): 1/8 of the window.
# zstd's default at level 19 is the whole window, which with one-window jobs costs 31 % more
# CPU than single-threaded zstd (24 MiB of text: 45.1 against 34.3 CPU-s); at 6, 32.9 CPU-s
# for a 1.2 % larger payload.  Levels up to 12 (fast to lazy) already use 6: their bytes are unchanged.
OVERLAP_LOG = 6
# Memory for all workers' contexts and job buffers together, whatever the core count: the
# 150 MB peak goal less what a build of 5,000 files holds besides (about 35 MiB).  At 128 MiB a
# machine of 3+ cores ran three level-19 workers and peaked at 146.6 MiB (154 MB) on W1.
_BUDGET = 112 << 20
# The source a level's tables are sized for when two of its own contexts do not fit the budget:
# one 2 MiB job.  Level 19, 51 MB of W1-like text, two workers (peaks of a process that also held
# the 51 MB): 2 MiB window 36.8 CPU-s, 158 MB, 5.4 % larger than single-threaded (59.1 CPU-s,
# 169 MB); 4 MiB window 53.7 CPU-s, 201 MB, 3.3 % larger.  The larger window buys little size
# for much CPU and, at two workers, more memory than the goal leaves.
_CUT_SOURCE = 2 << 20


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _job_size(params: zstandard.ZstdCompressionParameters) -> int:
    return max(2 << 20, 1 << params.window_log)


def _cost(params: zstandard.ZstdCompressionParameters) -> int:
    # a context, and per job its input, its output and the overlap with the previous job
    return params.estimated_compression_context_size() + 3 * _job_size(params)


@functools.cache
def source_size(level: int) -> int:
    """0 where two workers of ``level``'s own parameters fit the budget; else the source its tables are sized for.

    ``from_level(level, source_size=...)`` sizes the window, hash and chain tables as
    ``ZSTD_adjustCParams`` does for a source of one job; the search parameters stay the level's.
    """
    own = zstandard.ZstdCompressionParameters.from_level(level)
    return 0 if 2 * _cost(own) <= _BUDGET else _CUT_SOURCE


def _params(level: int, **kwargs: int) -> zstandard.ZstdCompressionParameters:
    return zstandard.ZstdCompressionParameters.from_level(level, source_size=source_size(level), **kwargs)


def job_size(level: int) -> int:
    """One window, at least 2 MiB: smaller buffers than zstd's default of four windows, same bytes on any machine."""
    return _job_size(_params(level))


def workers(level: int, available: int | None = None) -> int:
    """Workers for ``level`` on ``available`` cores (default: this process's), within the memory budget."""
    return max(1, min(available or cores(), _BUDGET // _cost(_params(level))))


def compressor(level: int, threads: int | None = None) -> zstandard.ZstdCompressor:
    """A compressor for ``level``; ``threads`` (>= 1) changes the speed and memory, never the bytes."""
    n = threads if threads is not None else workers(level)
    if n < 1:
        raise ValueError("zstd threads must be >= 1: single-threaded mode writes other bytes")
    params = _params(level, threads=n, job_size=job_size(level), overlap_log=OVERLAP_LOG)
    return zstandard.ZstdCompressor(compression_params=params)
