"""What the commands share: errors on one screen (or as JSON), distro selection, --out checks, the per-distro run.

Exit codes live here and in cli.py, nowhere else: 0 ok; 1 findings, mismatches or a failed build;
2 usage or input error; 128 + the signal number when interrupted (130 for Ctrl-C).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from .cli_output import Level, say, wanted
from .errors import PkgtoolError, ToolError, UsageError

DirArg = Annotated[Path, typer.Argument(help="Directory holding pkgtool.toml.", show_default=True)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
DistroOpt = Annotated[
    str | None,
    typer.Option("--distro", "-d", help="Profile id, a comma list, or 'all'. Default: the host's distro."),
]

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
MAX_SCREEN_LINES = 20  # an error report fits one screen; --json has everything


def emit_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def fail(exc: PkgtoolError, as_json: bool) -> NoReturn:
    code = EXIT_FINDINGS if isinstance(exc, ToolError) else EXIT_INPUT
    if as_json:
        payload: dict = {"ok": False, "error": str(exc), "diagnostics": [d.to_dict() for d in exc.diagnostics]}
        if isinstance(exc, ToolError):
            payload.update(command=list(exc.command), output=exc.output)
        emit_json(payload)
        raise typer.Exit(code)
    lines = [f"pkgtool: error: {exc}"]
    diags = list(exc.diagnostics)
    for d in diags[:MAX_SCREEN_LINES]:
        lines.append("  " + d.to_text().replace("\n", "\n  "))
    if len(diags) > MAX_SCREEN_LINES:
        lines.append(f"  ... and {len(diags) - MAX_SCREEN_LINES} more (use --json to see all)")
    if exc.hint:
        lines.append(f"  hint: {exc.hint}")
    if isinstance(exc, ToolError):
        if exc.command:
            lines.append("  command: " + " ".join(exc.command))
        if exc.output:
            lines.append("  output:\n" + exc.output.rstrip())
    say("\n".join(lines), err=True, level=Level.ERROR)
    raise typer.Exit(code)


def source_date_epoch() -> int | None:
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise UsageError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {raw!r}")
    return int(raw)


def distro_ids(arg: str | None, project_dir: Path | None) -> list[str]:
    from .profiles import expand_distros

    if arg:
        return expand_distros(arg, project_dir)
    return [host_choice(project_dir).profile]


def host_choice(project_dir: Path | None):
    """The profile detected for this machine, said on stderr (stdout may be JSON)."""
    from .project import detect_host

    match = detect_host(project_dir)
    say("pkgtool: " + match.note(), err=True)
    return match


def one_distro(arg: str | None, project_dir: Path | None) -> str:
    ids = distro_ids(arg, project_dir)
    if len(ids) != 1:
        raise UsageError("this command takes one distro, not a list or 'all'")
    return ids[0]


def resolve_for(project_dir: Path, distro: str | None):
    from .project import resolve_dir

    return resolve_dir(project_dir, one_distro(distro, project_dir), source_date_epoch())


def progress(as_json: bool):
    def tell(msg: str) -> None:
        say(msg, err=True)

    return None if as_json else tell


def check_out(out: Path) -> None:
    """Refuse an --out that cannot be written before any work (and without creating it yet).

    The nearest existing ancestor must be a directory this process may write: a regular
    file on the way or a read-only file system is an input error, not a traceback later.
    """
    p = out.absolute()
    while not os.path.lexists(p) and p != p.parent:
        p = p.parent
    if not p.is_dir():
        what = "is" if p == out.absolute() else "is under"
        raise UsageError(f"--out {out} {what} {p}, which is not a directory", hint="give a directory for --out")
    if not os.access(p, os.W_OK | os.X_OK):
        try:
            read_only = bool(os.statvfs(p).f_flag & os.ST_RDONLY)
        except OSError:
            read_only = False
        why = "is on a read-only file system" if read_only else "is not writable"
        raise UsageError(f"--out {out}: {p} {why}", hint="give a directory this user can write")


def lint_first(directory: Path, ids: list[str], as_json: bool, layout=None):
    """`build` runs the lint rules of the map first: the same lint_project as `pkgtool lint`.

    A distro with an error-level finding of a lint rule is not built (its result says the located
    findings, exit 1); the other distros still build, as one failing distro never hides the others.
    What the loader or resolve finds (a missing source) is left to the build, which reports it as
    the input error it is (exit 2).  Warnings are said once on stderr for all distros together.
    ``layout`` is the map the caller already loaded (not loaded again; None: lint loads it).
    Returns the lint report, the results of the distros it stopped, and, for a build of one distro, its
    Resolved (made with the build's epoch) so that the build does not resolve it again.  Several distros
    are built by forked workers that resolve their own: each would otherwise inherit all the Resolved.
    """
    from .diagnostics import Severity
    from .lint.engine import lint_and_resolve
    from .lint.registry import CHECKS
    from .parallel import DistroResult

    checked = {rule for chk in CHECKS for rule in chk.rules}
    linted = lint_and_resolve(directory, ids, source_date_epoch(), layout, keep=len(ids) == 1)
    report = linted.report
    if not as_json:
        for d in report.findings:
            if d.severity is Severity.WARNING:
                say(d.to_text(), err=True)
        c = report.counts()
        say(
            f"lint: {c['error']} error(s), {c['warning']} warning(s), {c['info']} note(s)", err=True, level=Level.DETAIL
        )
    stopped = []
    for distro in ids:
        mine = [d for d in report.findings if d.severity is Severity.ERROR and distro in report.distros_of(d)]
        # An input error of the loader or resolve wins: the build reports it, located, with exit 2.
        errors = [d for d in mine if d.rule in checked] if all(d.rule in checked for d in mine) else []
        if errors:
            error = f"{distro}: lint found {len(errors)} error(s); nothing built (--no-lint skips lint)"
            details = tuple(d.to_text() for d in errors)
            stopped.append(
                DistroResult(
                    distro, False, 0.0, error=error, details=details, diagnostics=tuple(d.to_dict() for d in errors)
                )
            )
    return report, stopped, linted.resolved


def run_per_distro(
    action: str,
    directory: Path,
    distro: str | None,
    out: Path,
    backend: str,
    timeout,
    as_json,
    jobs,
    lint=False,
    arch: str = "",
):
    from .parallel import Job, run_all

    try:
        from .arches import arch_list
        from .formats.build import check_arches
        from .layout.load import load_layout

        check_out(out)
        layout = load_layout(directory)  # a malformed map is reported once, not once per distro
        arches = arch_list(arch) if arch else ()
        if arches:  # refused once, before any distro builds (each build checks again, for the library)
            check_arches(layout.package.arch, arches, backend)
        host = None if distro else host_choice(directory)
        ids = [host.profile] if host else distro_ids(distro, directory)
        report, stopped, resolved = lint_first(directory, ids, as_json, layout) if lint else (None, [], {})
        job = Job(
            action,
            str(directory),
            str(out),
            backend,
            source_date_epoch(),
            timeout,
            per_distro_dirs=len(ids) > 1,
            arches=arches,
        )
    except PkgtoolError as exc:
        fail(exc, as_json)
    todo = [d for d in ids if d not in {r.distro for r in stopped}]
    done = {r.distro: r for r in [*stopped, *(run_all(job, todo, jobs, progress(as_json), resolved) if todo else [])]}
    results = [done[d] for d in ids]
    ok = all(r.ok for r in results)
    if as_json:
        arts = [a.to_dict() for r in results for a in r.artifacts]
        doc = {"ok": ok, "action": action, "distros": [r.to_dict() for r in results], "artifacts": arts}
        if host is not None:
            doc["host"] = host.to_dict()
        if report is not None:
            doc["lint"] = report.to_dict()
        emit_json(doc)
    else:
        if not (len(results) == 1 and not ok):
            say(summary(results, action))
        if wanted(Level.DETAIL):
            say("\n".join(f"wrote {p}" for p in written_files(results)))
        say_failures([r for r in results if not r.ok], len(results))
    failed = [r for r in results if not r.ok]
    if not failed:
        raise typer.Exit(EXIT_OK)
    # Bad input everywhere is a usage/input error; a build failure, or a partial result, is exit 1.
    only_input = len(failed) == len(results) and all(r.input_error for r in failed)
    raise typer.Exit(EXIT_INPUT if only_input else EXIT_FINDINGS)


def _paths_table(results) -> str:
    """generate's table: source files have no artifact size or digest, so no such columns."""
    rows = [(r.distro, "FAILED", "(below)") for r in results if not r.ok]
    rows += [(r.distro, "source", p) for r in results if r.ok for p in r.paths]
    rows.sort(key=lambda row: row[0])
    head = ("distro", "format", "path")
    w0, w1 = (max(len(x[i]) for x in [head, *rows]) for i in range(2))
    return "\n".join(f"{a.ljust(w0)}  {b.ljust(w1)}  {c}" for a, b, c in [head, *rows])


def say_failures(failed, total: int) -> None:
    """Each failure once: a finding that several distros share is said once, with their names."""
    if total == 1 and failed:
        r = failed[0]
        say("pkgtool: error: " + r.error, err=True, level=Level.ERROR)
        for detail in r.details[:MAX_SCREEN_LINES]:
            say("  " + detail.replace("\n", "\n  "), err=True, level=Level.ERROR)
        return
    groups: dict[str, list[str]] = {}
    for r in failed:
        # The findings when there are some (the error line names the distro, so it never groups).
        for line in (r.details or (r.error,))[:MAX_SCREEN_LINES]:
            groups.setdefault(line, []).append(r.distro)
    for line, distros in groups.items():
        who = f"all {total} distros" if len(distros) == total else ", ".join(distros)
        say(f"{who}: {line}".replace("\n", "\n  "), err=True, level=Level.ERROR)


def written_files(results) -> list[str]:
    """--verbose: every file a run wrote, those inside a written directory (debian/) one by one."""
    out: list[str] = []
    for r in results:
        for p in [*(a.path for a in r.artifacts), *r.paths]:
            path = Path(p)
            out += sorted(str(f) for f in path.rglob("*") if f.is_file()) if path.is_dir() else [str(path)]
    return out


def summary(results, action: str) -> str:
    if action == "generate":
        return _paths_table(results)
    rows = []
    for r in results:
        if not r.ok:
            rows.append((r.distro, "FAILED", "", "", "(below)"))
            continue
        for a in r.artifacts:
            rows.append((r.distro, a.format, f"{a.size:,}", a.sha256[:16], a.path))
        for p in r.paths:
            rows.append((r.distro, "source", "", "", p))
    head = ("distro", "format", "size", "sha256", "path")
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(4)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head[:4], widths, strict=True)) + "  " + head[4]]
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
    return "\n".join(lines)


def artifact_profile(path: Path, project_dir: Path) -> str:
    """The profile to hold a package against without --distro, from its magic bytes and release."""
    from .formats.read import read_artifact
    from .project import artifact_distro

    info = read_artifact(path, binary_only=True)
    distro, why = artifact_distro(path.name, info.format.value, info.release, project_dir)
    say(f"pkgtool: {path.name}: profile {distro} ({why}); --distro chooses another", err=True)
    return distro
