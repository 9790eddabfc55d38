"""`pkgtool bundle` and the bundle case of `pkgtool verify`: oVirt Node plugin bundles (pkgtool/bundle/).

cli.py registers `bundle` and hands `verify` a `.plugin.tar*` argument; exit codes only through
cli_support: 0 ok, 1 a mismatch, 2 bad input (a hostile bundle, an unmet requirement).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli_output import Level, say
from .cli_support import EXIT_FINDINGS, EXIT_OK, DirArg, JsonOpt, emit_json, fail
from .errors import PkgtoolError

NodeVersionOpt = Annotated[
    str | None, typer.Option("--node-version", help="The oVirt Node image version the bundle is for.")
]


def bundle(
    directory: DirArg = Path("."),
    node_version: Annotated[str, typer.Option("--node-version", help="The oVirt Node image version (3.6.2).")] = ...,  # type: ignore[assignment]
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write NAME-VERSION.plugin.tar* into.")] = Path(
        "dist"
    ),
    with_rpms: Annotated[
        list[Path] | None, typer.Option("--with", help="A dependency .rpm to carry (repeatable).")
    ] = None,
    image_packages: Annotated[
        Path | None, typer.Option("--image-packages", help="The image's `rpm -qa --provides` output.")
    ] = None,
    compress: Annotated[str, typer.Option("--compress", help="gz, xz or none.")] = "gz",
    as_json: JsonOpt = False,
) -> None:
    """Build the map's RPMs for an oVirt Node release and bundle them with a manifest and an edit-node kickstart."""
    try:
        from .bundle.build import Compress, build_bundle
        from .cli_support import check_out, source_date_epoch
        from .errors import UsageError

        if compress not in {c.value for c in Compress}:
            raise UsageError(f"--compress {compress!r}: choose gz, xz or none")
        check_out(out)
        result = build_bundle(
            directory, node_version, out, with_rpms or (), image_packages, Compress(compress), source_date_epoch()
        )
    except PkgtoolError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json({"ok": True, **result.to_dict()})
        return
    for f in result.manifest.files:
        say(f"{f.size:>10,}  {f.sha256[:16]}  {f.path}", level=Level.DETAIL)
    for name in result.left_out:
        say(f"left out {name}: the Node image has it")
    for w in result.warnings:
        say(f"warning: {w}", err=True)
    say(f"wrote {result.path}")


def is_bundle(path: Path) -> bool:
    from .bundle import is_bundle_name

    return is_bundle_name(path.name)


def verify_bundle_cmd(
    bundle_path: Path, node_version: str | None, root: Path | None, image_manifest: Path | None, as_json: bool
) -> None:
    """verify's bundle case: the bundle itself, or with --root the rebuilt image root."""
    try:
        from .bundle.verify import verify_bundle, verify_image_root

        reports = [verify_bundle(bundle_path, node_version)]
        if root is not None:
            reports.append(verify_image_root(bundle_path, root, image_manifest))
    except PkgtoolError as exc:
        fail(exc, as_json)
    ok = all(r.ok for r in reports)
    if as_json:
        emit_json({"ok": ok, "reports": [r.to_dict() for r in reports]})
    else:
        say("\n".join(r.to_text() for r in reports), level=Level.NORMAL if ok else Level.ERROR)
    raise typer.Exit(EXIT_OK if ok else EXIT_FINDINGS)
