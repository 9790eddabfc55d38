"""The commands that deliver packages past one build: repositories, exports for other tools.

cli.py registers them; like every command here they are thin over the library, exit codes
only through cli_support.fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli_output import say
from .cli_support import JsonOpt, emit_json, fail
from .errors import PkgtoolError

# ---------------------------------------------------------------- publish


def publish(
    packages: Annotated[
        list[Path], typer.Argument(help="Built .rpm / .deb files, or directories holding them.", show_default=False)
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The repository directory (replaced whole).")] = ...,  # type: ignore[assignment]
    sign: Annotated[bool, typer.Option("--sign", help="Sign the packages and the repositories with GnuPG.")] = False,
    key_id: Annotated[
        str | None, typer.Option("--key-id", help="The signing key (default: $PKGTOOL_GPG_KEY), from $GNUPGHOME.")
    ] = None,
    suite: Annotated[str, typer.Option("--suite", help="The APT suite (dists/SUITE).")] = "stable",
    component: Annotated[str, typer.Option("--component", help="The APT component.")] = "main",
    arch: Annotated[
        str | None,
        typer.Option("--arch", help="APT architectures, a comma list (default: the packages' own, else amd64)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Publish built packages as an RPM repository per distro (createrepo_c) and an APT repository, signed with --sign."""
    try:
        from .cli_support import check_out, source_date_epoch
        from .publish import PublishOptions
        from .publish import publish as do_publish
        from .publish.apt_repo import AptOptions

        check_out(out)
        archs = tuple(a.strip() for a in arch.split(",") if a.strip()) if arch else ()
        options = PublishOptions(AptOptions(suite, component, archs), sign, key_id, source_date_epoch())
        repos = do_publish(packages, out, options)
    except PkgtoolError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json({"ok": True, "out": str(out), "repositories": [r.to_dict() for r in repos]})
        return
    for r in repos:
        signed = ", signed" if r.signed else ""
        count = f"{len(r.packages)} package{'' if len(r.packages) == 1 else 's'}"
        say(f"{r.kind} {r.name}: {r.path} ({count}{signed})")


# ---------------------------------------------------------------- export

export_app = typer.Typer(help="Write resolved maps in the layout another tool reads.", no_args_is_help=True)


@export_app.command("host-deploy")
def export_host_deploy_cmd(
    directories: Annotated[list[Path], typer.Argument(help="Directories holding vdsm-hook or otopi-plugin maps.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="ovirt-host-deploy's plugin group directory to write.")],
    distro: Annotated[str, typer.Option("--distro", "-d", help="Profile ids, a comma list, or 'all'.")] = "all",
    carry: Annotated[
        list[Path] | None, typer.Option("--carry", help="A built package the otopi plugin carries (repeatable).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """vdsmhooks/hooks.d + packages.d/<name>.<id> for hook maps; the plugin directory for an otopi plugin."""
    try:
        from .cli_support import check_out, source_date_epoch
        from .export.host_deploy import export_host_deploy
        from .profiles import expand_distros

        check_out(out)
        ids = expand_distros(distro, directories[0] if distro.strip() != "all" else None)
        result = export_host_deploy(directories, ids, out, carry or (), source_date_epoch())
    except PkgtoolError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json({"ok": True, **result.to_dict()})
        return
    for f in result.files:
        say(f"{f.mode:04o} {out / f.path}")
    if result.package_only:
        say("installed by the listed packages only (hooks.d carries only VDSM's hooks directory):")
        for path in result.package_only:
            say(f"  {path}")
    if result.without_id:
        say(f"no packages.d list for {', '.join(result.without_id)}: ovirt-host-deploy has no id for it")


@export_app.command("obs")
def export_obs_cmd(
    directory: Annotated[Path, typer.Argument(help="Directory holding pkgtool.toml.")] = Path("."),
    out: Annotated[Path, typer.Option("--out", "-o", help="The OBS package directory (replaced whole).")] = ...,  # type: ignore[assignment]
    distro: Annotated[str, typer.Option("--distro", "-d", help="The rpm-family profile of the spec.")] = "fedora",
    deb_distro: Annotated[str, typer.Option("--deb-distro", help="The deb-family profile of debian.*.")] = "debian",
    obs_release: Annotated[
        bool, typer.Option("--obs-release", help="DEBTRANSFORM-RELEASE: OBS appends +<build counter> to the version.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The spec, its tarball and patches, debian.* files and NAME.dsc for OBS's debtransform."""
    try:
        from .cli_support import check_out, source_date_epoch
        from .export.obs import export_obs

        check_out(out)
        result = export_obs(directory, distro, deb_distro, out, source_date_epoch(), obs_release)
    except PkgtoolError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json({"ok": True, **result.to_dict()})
        return
    for f in result.files:
        say(f"{f.sha256[:16]}  {out / f.name}")


@export_app.command("ci")
def export_ci_cmd(
    directory: Annotated[Path, typer.Argument(help="The map's directory, relative to the repository root.")] = Path(
        "."
    ),
    provider: Annotated[str, typer.Option("--provider", help="github or gitlab.")] = ...,  # type: ignore[assignment]
    out: Annotated[Path, typer.Option("--out", "-o", help="The repository root to write the workflow under.")] = Path(
        "."
    ),
    distro: Annotated[str, typer.Option("--distro", "-d", help="Profile ids, a comma list, or 'all'.")] = "all",
    pip: Annotated[str, typer.Option("--pip", help="What the jobs pip-install as pkgtool.")] = "pkgtool",
    as_json: JsonOpt = False,
) -> None:
    """A workflow that builds the map for each profile in its distro's image, verifies and uploads the packages."""
    try:
        from .cli_support import check_out
        from .errors import UsageError
        from .export.ci import Provider, export_ci
        from .profiles import expand_distros

        try:
            chosen = Provider(provider)
        except ValueError:
            raise UsageError(f"--provider {provider!r}: github or gitlab") from None
        check_out(out)
        result = export_ci(chosen, directory, expand_distros(distro, directory), out, pip)
    except PkgtoolError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json({"ok": True, **result.to_dict()})
        return
    say(f"{result.path}: {', '.join(f'{j.distro} ({j.image})' for j in result.jobs)}")
