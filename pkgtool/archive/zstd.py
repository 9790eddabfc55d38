"""zstd parameters shared by the .deb members and the RPM payload: reproducible, memory-bounded.

zstd's multi-threaded mode (threads >= 1) writes the same frame whatever the
number of workers, for a given job size; single-threaded mode (threads=0)
writes another.  So the mode is always multi-threaded and the job size is
fixed by the level (one window, at least 2 MiB), never by the machine
(tests/test_zstd_params.py compares 1, 2 and 8 workers).

The number of workers is a matter of speed and memory only: each holds a
compression context (about 1 MiB at level 3, 81 MiB at level 19) and its
job's buffers, so the workers are as many as the cores, within a budget.
Where the budget never holds two (level 19: two workers took a build to
206 MB), the level is compressed single-threaded, in the caller's thread (the
RPM payload's compressing thread, beside the one that reads the files):
that depends on the level alone, so it too is the same on every machine.
"""

from __future__ import annotations

import os

import zstandard

# Each job reloads this much of the previous one (window >> (9 - log)): 1/8 of the window.
# zstd's default at level 19 is the whole window, which with one-window jobs costs 31 % more
# CPU than single-threaded zstd (24 MiB of text: 45.1 against 34.3 CPU-s); at 6, 32.9 CPU-s
# for a 1.2 % larger payload.  Levels up to 12 (fast to lazy) already use 6: their bytes are unchanged.
OVERLAP_LOG = 6
# Memory for all workers' contexts and job buffers together, whatever the core count.
_BUDGET = 128 << 20


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def job_size(level: int) -> int:
    """One window, at least 2 MiB: smaller buffers than zstd's default of four windows, same bytes on any machine."""
    return max(2 << 20, 1 << zstandard.ZstdCompressionParameters.from_level(level).window_log)


def _per_worker(level: int) -> int:
    base = zstandard.ZstdCompressionParameters.from_level(level)
    # a context, and per job its input, its output and the overlap with the previous job
    return base.estimated_compression_context_size() + 3 * job_size(level)


def single_threaded(level: int) -> bool:
    """Whether ``level`` is compressed in the caller's thread: the budget never holds two workers.

    One worker would use no more cores than that and hold job buffers besides (level 19:
    about 20 MB more), and reload part of each previous job.  The choice depends on the level
    only, so the bytes still never depend on the machine.
    """
    return 2 * _per_worker(level) > _BUDGET


def workers(level: int, available: int | None = None) -> int:
    """Workers for ``level`` on ``available`` cores (default: this process's), within the memory budget."""
    return max(1, min(available or cores(), _BUDGET // _per_worker(level)))


def compressor(level: int, threads: int | None = None) -> zstandard.ZstdCompressor:
    """A compressor for ``level``; ``threads`` (>= 1) changes the speed and memory, never the bytes."""
    if single_threaded(level):
        return zstandard.ZstdCompressor(level=level)
    n = threads if threads is not None else workers(level)
    if n < 1:
        raise ValueError("zstd threads must be >= 1: single-threaded mode writes other bytes")
    params = zstandard.ZstdCompressionParameters.from_level(
        level, threads=n, job_size=job_size(level), overlap_log=OVERLAP_LOG
    )
    return zstandard.ZstdCompressor(compression_params=params)
