"""The command line: thin typer commands over the library; exit codes live here and nowhere else.

Exit codes: 0 ok; 1 findings, mismatches or a failed build; 2 usage or input error; 130 interrupted.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from . import __version__
from .atomic import STOP_SIGNALS, sweep_temps
from .cli_bump import bump
from .cli_bundle import NodeVersionOpt, bundle, is_bundle, verify_bundle_cmd
from .cli_completion import answer_completion_requests, completion
from .cli_delivery import export_app, publish
from .cli_docs import register as register_docs
from .cli_output import Level, configure, say, wanted
from .cli_select import app_for
from .cli_source import source
from .cli_support import (
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    DirArg,
    DistroOpt,
    JsonOpt,
    artifact_profile,
    distro_ids,
    emit_json,
    fail,
    resolve_for,
    run_per_distro,
)
from .errors import PkgtoolError, UsageError
from .kinds import KIND_NAMES

app = typer.Typer(
    name="pkgtool",
    help="One layout map (pkgtool.toml) -> RPM spec, debian/ tree, .rpm, .deb, installed root, verification.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
distros_app = typer.Typer(help="List distro profiles, or show one resolved profile.", invoke_without_command=True)
app.add_typer(distros_app, name="distros")
# The commands that deliver packages past one build: publish, export ... (cli_delivery.py).
app.command()(publish)
app.add_typer(export_app, name="export")
app.command()(bump)  # cli_bump.py
app.command()(completion)  # cli_completion.py
app.command()(bundle)  # oVirt Node plugin bundles (cli_bundle.py)
register_docs(app)  # schema, man (cli_docs.py)
app.command()(source)  # the distro's source package, natively (cli_source.py)


# ---------------------------------------------------------------- commands


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"pkgtool {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version and exit.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Say only errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say more: each file written, lint counts.")] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colour, even on a terminal (as NO_COLOR=1).")
    ] = False,
) -> None:
    """pkgtool: one layout map, every package format."""
    configure(quiet, verbose, no_color)


@app.command()
def init(
    directory: DirArg = Path("."),
    kind: Annotated[str, typer.Option("--kind", help=", ".join(KIND_NAMES))] = "app",
    name: Annotated[str | None, typer.Option("--name", help="Package name (default: the directory's name).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing pkgtool.toml.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a commented pkgtool.toml for a plugin kind: of the files already there, else with a sample source."""
    try:
        from .scaffold import init_project

        written = init_project(directory, kind, name, force)
    except PkgtoolError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json({"ok": True, "written": [str(p) for p in written]})
    else:
        for p in written:
            say(f"wrote {p}")


@app.command()
def lint(
    directories: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Directories holding pkgtool.toml, or the maps themselves; several at once (pre-commit).",
            show_default=False,
        ),
    ] = None,
    distro: DistroOpt = None,
    as_json: JsonOpt = False,
    sarif: Annotated[bool, typer.Option("--sarif", help="Print SARIF 2.1.0 (for code-scanning UIs).")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")] = False,
) -> None:
    """Check the map and its sources, with the rules of the package's kind (default: the current directory)."""
    try:
        from .lint import lint_project, merge
        from .project import project_of

        projects = [project_of(p) for p in directories or [Path(".")]]
        reports = [lint_project(p, distro_ids(distro, p)) for p in dict.fromkeys(projects)]
        report = reports[0] if len(reports) == 1 else merge(reports)
    except PkgtoolError as exc:
        fail(exc, as_json or sarif)
    if sarif:
        emit_json(report.to_sarif())
    elif as_json:
        emit_json(report.to_dict())
    elif wanted(Level.NORMAL):
        say(report.to_text())
    elif errors := [d.to_text() for d in report.findings if d.severity.value == "error"]:
        say("\n".join(errors), level=Level.ERROR)  # --quiet: the errors only
    failed = not report.ok or (strict and any(d.severity.value == "warning" for d in report.findings))
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)


OutOpt = Annotated[
    Path, typer.Option("--out", "-o", help="Output directory (per-distro subdirectories for several distros).")
]
JobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", help="Parallel processes for several distros (default: cores).")
]


@app.command()
def generate(
    directory: DirArg = Path("."),
    distro: DistroOpt = None,
    out: OutOpt = Path("dist"),
    as_json: JsonOpt = False,
    jobs: JobsOpt = None,
) -> None:
    """Write source packages: NAME.spec + tarball (rpm family), or NAME-VERSION/debian/ + orig tarball (deb family)."""
    run_per_distro("generate", directory, distro, out, "native", None, as_json, jobs)


@app.command()
def build(
    directory: DirArg = Path("."),
    distro: DistroOpt = None,
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            help="native (no distro tools needed) or system (rpmbuild / dpkg-buildpackage).",
        ),
    ] = "native",
    out: OutOpt = Path("dist"),
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds before a system tool is stopped.")] = None,
    as_json: JsonOpt = False,
    jobs: JobsOpt = None,
    no_lint: Annotated[bool, typer.Option("--no-lint", help="Skip the lint rules run before building.")] = False,
    arch: Annotated[
        str, typer.Option("--arch", help="Build for these architectures: x86_64,aarch64 (either family's names).")
    ] = "",
) -> None:
    """Write binary packages (.rpm / .deb), natively by default, after the map's lint rules pass."""
    run_per_distro("build", directory, distro, out, backend, timeout, as_json, jobs, lint=not no_lint, arch=arch)


PackageOpt = Annotated[
    list[str] | None,
    typer.Option("--package", "-p", help="A binary package of the map (repeatable); all by default."),
]


@app.command()
def install(
    directory: DirArg = Path("."),
    root: Annotated[Path, typer.Option("--root", "-r", help="Directory to install into (created if missing).")] = ...,  # type: ignore[assignment]
    distro: DistroOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be written; write nothing.")] = False,
    as_json: JsonOpt = False,
    packages: PackageOpt = None,
) -> None:
    """Apply the map to a root directory, exactly as the package would.

    All or nothing: an install that is killed part-way leaves a journal in the root, and the next
    install into that root rolls it back first.
    """
    try:
        from .install.apply import install as do_install

        # One install per binary package of the map, the main one first (its directories first).
        chosen = resolve_for(directory, distro).select(packages or ())
        reports = [do_install(p, root, dry_run=dry_run) for p in chosen]
    except PkgtoolError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json(reports[0].to_dict() if len(reports) == 1 else {"packages": [r.to_dict() for r in reports]})
    else:
        say("\n".join(r.to_text() for r in reports))


@app.command()
def verify(
    directory: DirArg = Path("."),
    artifacts: Annotated[
        list[Path] | None, typer.Argument(help="Built .rpm / .deb files to check.", show_default=False)
    ] = None,
    root: Annotated[Path | None, typer.Option("--root", "-r", help="An installed root to check.")] = None,
    distro: DistroOpt = None,
    as_json: JsonOpt = False,
    packages: PackageOpt = None,
    node_version: NodeVersionOpt = None,
    image_manifest: Annotated[
        Path | None, typer.Option("--image-manifest", help="A bundle's image: `sha256sum` lines of its core files.")
    ] = None,
) -> None:
    """Hold an installed root or built packages against the map (like rpm -V), or a Node plugin bundle (.plugin.tar*) against its manifest; exit 1 on any mismatch."""
    if is_bundle(directory):  # a Node plugin bundle (by its .plugin.tar* name), not a map directory
        verify_bundle_cmd(directory, node_version, root, image_manifest, as_json)
    if root is None and not artifacts:
        fail(UsageError("nothing to verify: give --root DIR and/or package files"), as_json)
    reports = []
    try:
        from .verify.artifact import verify_artifact
        from .verify.root import verify_root

        if root is not None:
            resolved = resolve_for(directory, distro)
            # Each package chosen against its own entries; the others' paths are no extras of it.
            reports += [verify_root(p, root, resolved.packages) for p in resolved.select(packages or ())]
        for art in artifacts or []:
            reports.append(verify_artifact(resolve_for(directory, distro or artifact_profile(art, directory)), art))
    except PkgtoolError as exc:
        fail(exc, as_json)
    ok = all(r.ok for r in reports)
    if as_json:
        emit_json({"ok": ok, "reports": [r.to_dict() for r in reports]})
    else:
        say("\n".join(r.to_text() for r in reports), level=Level.NORMAL if ok else Level.ERROR)
    raise typer.Exit(EXIT_OK if ok else EXIT_FINDINGS)


@app.command()
def inspect(
    package: Annotated[Path, typer.Argument(help="A .rpm or .deb file.")],
    as_json: JsonOpt = False,
) -> None:
    """List an artifact's entries: mode, owner, size, link target, flags, and its relations."""
    try:
        from .inspection import inspect_artifact, render_text, to_dict

        info = inspect_artifact(package)
    except PkgtoolError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json(to_dict(info))
    else:
        say(render_text(info))


@distros_app.callback()
def distros_list(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Option("--dir", help="Project directory (its own distros/ adds profiles).")
    ] = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """List the distro profiles: id, family, release, and where each came from."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        from .profiles import list_profiles

        profiles = list_profiles(directory)
    except PkgtoolError as exc:
        fail(exc, as_json)
    rows = [
        {
            "id": p.id,
            "family": p.family.value,
            "release": p.release,
            "description": p.description,
            "inherits": list(p.chain[1:]),
            "origin": str(p.origin),
        }
        for p in profiles
    ]
    if as_json:
        emit_json(rows)
        return
    w = max(len(r["id"]) for r in rows) if rows else 2
    for r in rows:
        say(f"{r['id']:<{w}}  {r['family']:<4} {r['release']:<8} {r['origin']}")


@distros_app.command("show")
def distros_show(
    distro_id: Annotated[str, typer.Argument(help="Profile id.")],
    directory: Annotated[
        Path, typer.Option("--dir", help="Project directory (its own distros/ adds profiles).")
    ] = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Print one profile with inheritance applied."""
    try:
        from .profiles import load_profile, profile_summary

        data = profile_summary(load_profile(distro_id, directory))
    except PkgtoolError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        if isinstance(value, dict):
            say(f"{key}:")
            for k, v in value.items():
                say(f"  {k} = {v}")
        elif isinstance(value, list):
            say(f"{key}: {', '.join(map(str, value))}")
        else:
            say(f"{key}: {value}")


@app.command()
def explain(
    rule_id: Annotated[str | None, typer.Argument(help="A rule id, such as world-writable.")] = None,
    list_rules: Annotated[bool, typer.Option("--list", help="List every rule id, severity and summary.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Explain a lint rule: what it checks, why, and how to fix it; --list shows every rule."""
    from .lint.registry import RULES, catalogue
    from .lint.registry import explain as explain_rule

    try:
        if list_rules == (rule_id is not None):
            raise UsageError("give a rule id or --list", hint="`pkgtool explain --list` shows every rule id")
        if list_rules:
            rules = catalogue()
            if as_json:
                emit_json({"rules": rules})
            else:
                width = max(len(r["id"]) for r in rules)
                for r in rules:
                    typer.echo(f"{r['id']:<{width}}  {r['severity']:<7}  {r['summary']}")
            return
        text = explain_rule(rule_id or "")
    except PkgtoolError as exc:
        fail(exc, as_json)
    if as_json:
        rule = RULES[rule_id or ""]
        emit_json({"id": rule.id, "severity": rule.severity.value, "explanation": text})
    else:
        say(text)


# ---------------------------------------------------------------- entry point


def _on_sigint(signum, _frame) -> NoReturn:
    # SystemExit unwinds through every atomic_* context manager and run_tool (which kills the tool's
    # process group), so temporary output and children are gone.  SIGTERM and SIGHUP alike.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    name = "" if signum == signal.SIGINT else f" ({signal.Signals(signum).name})"
    sys.stderr.write(f"pkgtool: interrupted{name}\n")
    raise SystemExit(EXIT_INTERRUPTED if signum == signal.SIGINT else 128 + signum)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    for sig in STOP_SIGNALS:
        signal.signal(sig, _on_sigint)
    answer_completion_requests()
    try:
        app_for(app, args)(args=args, prog_name="pkgtool", standalone_mode=True)
    finally:
        sweep_temps()  # what a stop signal landing in a clean-up left (atomic._LIVE)
