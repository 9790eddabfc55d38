"""Run one job per distro across cores (process pool), one failure never hiding the others' results."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import PkgtoolError, ToolError
from .formats.build import Artifact
from .model import Resolved


@dataclass(frozen=True)
class DistroResult:
    distro: str
    ok: bool
    seconds: float
    artifacts: tuple[Artifact, ...] = ()
    paths: tuple[str, ...] = ()
    error: str = ""
    details: tuple[str, ...] = field(default=())  # for the screen: diagnostics, command, output
    input_error: bool = False  # the map or profile is wrong (exit 2), not the build (exit 1)
    diagnostics: tuple[dict, ...] = ()  # the same findings as lint --json gives them
    command: tuple[str, ...] = ()
    output: str = ""

    def to_dict(self) -> dict:
        return {
            "distro": self.distro,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "artifacts": [a.to_dict() for a in self.artifacts],
            "paths": list(self.paths),
            "error": self.error or None,
            # Structured, as lint --json: rule, severity, message, file, key, line, path, hint.
            "diagnostics": list(self.diagnostics),
            "command": list(self.command) or None,
            "output": self.output or None,
            "input_error": self.input_error,
        }


@dataclass(frozen=True)
class Job:
    """What to do for every distro: 'build' or 'generate', with its options (picklable)."""

    action: str
    project_dir: str
    out_dir: str
    backend: str = "native"
    source_date_epoch: int | None = None
    timeout: float | None = None
    per_distro_dirs: bool = True
    arches: tuple[str, ...] = ()  # build: --arch, canonical names; () is the map's own arch


# A full, read-only or failing disk under --out: the build failed, the input was fine (exit 1).
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS})


def _write_failure(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc.__context__
    return isinstance(cause, OSError) and cause.errno in _DISK_ERRNOS


def run_one(job: Job, distro: str, resolved: Resolved | None = None) -> DistroResult:
    """``job`` for one distro; ``resolved``, when given, is what resolve_dir returns for it (the lint gate's)."""
    from .project import resolve_dir

    start = time.perf_counter()
    out = Path(job.out_dir) / distro if job.per_distro_dirs else Path(job.out_dir)
    try:
        if resolved is None:
            resolved = resolve_dir(job.project_dir, distro, job.source_date_epoch)
        if job.action == "build":
            from .formats.build import build

            arts = build(resolved, out, job.backend, job.timeout, job.arches)
            return DistroResult(distro, True, time.perf_counter() - start, artifacts=tuple(arts))
        if job.action == "source":
            from .formats.source import source_package

            arts = source_package(resolved, out)
            return DistroResult(distro, True, time.perf_counter() - start, artifacts=tuple(arts))
        from .formats.generate import generate

        paths = generate(resolved, out)
        return DistroResult(distro, True, time.perf_counter() - start, paths=tuple(str(p) for p in paths))
    except OSError as exc:
        # Writing the output failed (a full or read-only file system): a failed build, one line.
        where = exc.filename or out  # a write() that fails names no file
        error = f"cannot write {where}: {exc.strerror or exc}"
        return DistroResult(distro, False, time.perf_counter() - start, error=error)
    except PkgtoolError as exc:
        details = [d.to_text() for d in exc.diagnostics]
        output = getattr(exc, "output", "")
        command = getattr(exc, "command", ())
        if command:
            details.append("command: " + " ".join(command))
        if output:
            details.append(output)
        return DistroResult(
            distro,
            False,
            time.perf_counter() - start,
            error=str(exc),
            details=tuple(details),
            input_error=not isinstance(exc, ToolError) and not _write_failure(exc),
            diagnostics=tuple(d.to_dict() for d in exc.diagnostics),
            command=tuple(command),
            output=output,
        )


def _run_in_worker(job: Job, distro: str) -> DistroResult:
    """run_one in a pool worker, which ends without passing through cli.main: it sweeps its own temporary paths."""
    from .atomic import sweep_temps

    try:
        return run_one(job, distro)
    finally:
        sweep_temps()


def run_all(
    job: Job,
    distros: Sequence[str],
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
    resolved: Mapping[str, Resolved] | None = None,
) -> list[DistroResult]:
    """Run ``job`` for every distro; results in the order of ``distros``.

    ``resolved`` maps distros to their Resolved, already made with the job's epoch (by the lint gate): a
    distro run in this process is not resolved again. Pool workers resolve their own: a forked worker
    would otherwise hold every distro's Resolved (14 MB each for 20,000 files) for the whole build.
    """
    say = progress or (lambda _msg: None)
    resolved = resolved or {}
    if len(distros) == 1:
        say(f"{distros[0]}: {job.action} ...")
        result = run_one(job, distros[0], resolved.get(distros[0]))
        say(_line(result, 1, 1))
        return [result]
    # The pool is imported only here: a one-distro run should not pay for it at start-up.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    workers = max(1, min(jobs or os.cpu_count() or 1, len(distros)))
    # fork shares the already-imported modules with the workers: start-up is then almost free.
    ctx = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
    results: dict[str, DistroResult] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {pool.submit(_run_in_worker, job, d): d for d in distros}
        say(f"{job.action}: {len(distros)} distros on {workers} processes")
        try:
            for fut in as_completed(futures):
                d = futures[fut]
                try:
                    results[d] = fut.result()
                except Exception as exc:  # a crashed worker must not hide the other distros
                    results[d] = DistroResult(d, False, 0.0, error=f"worker failed: {exc}")
                say(_line(results[d], len(results), len(distros)))
        except BaseException:
            # Stopped (Ctrl-C, SIGTERM, SIGHUP to this process alone): each worker is told too, so it
            # removes its temporary files and kills its tool's process group instead of building on.
            procs = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                with contextlib.suppress(OSError):
                    proc.terminate()
            raise
    return [results[d] for d in distros]


def _line(r: DistroResult, n: int, total: int) -> str:
    state = "ok" if r.ok else "FAILED"
    return f"[{n}/{total}] {r.distro}: {state} ({r.seconds:.2f} s)"
