"""The commands that describe pkgtool itself: the map's JSON Schema, man pages.

cli.py registers them with one line; like every command they are thin over the library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli_support import JsonOpt, emit_json, fail
from .errors import PkgtoolError, UsageError


def schema(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the schema to this file (default: stdout).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the JSON Schema (draft 2020-12) of pkgtool.toml, for editors (taplo, Even Better TOML).

    Example: pkgtool schema --out schema/pkgtool.schema.json
    """
    from .layout.schema import schema_text

    text = schema_text()
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        from .atomic import write_bytes_atomic

        if out.is_dir():
            raise UsageError(f"{out}: is a directory; give the schema file's path")
        try:
            write_bytes_atomic(out, text.encode("utf-8"))
        except OSError as exc:
            raise UsageError(f"{out}: cannot write: {exc.strerror or exc}") from None
    except PkgtoolError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json({"ok": True, "out": str(out)})
    else:
        typer.echo(f"wrote {out}")


def man(
    out: Annotated[Path, typer.Option("--out", "-o", help="The directory the pages are written to (created).")] = ...,  # type: ignore[assignment]
    as_json: JsonOpt = False,
) -> None:
    """Write a man page (roff, section 1) for pkgtool and each of its commands, such as pkgtool-lint.1.

    Pages are the same bytes for the same pkgtool and SOURCE_DATE_EPOCH (their date).
    Other files in the directory are left alone.

    Example: pkgtool man --out man
    """
    from . import __version__
    from .atomic import write_bytes_atomic
    from .cli_support import check_out, source_date_epoch
    from .manpages import man_pages

    try:
        check_out(out)
        pages = man_pages(typer.main.get_command(_app()), __version__, source_date_epoch())
        try:
            out.mkdir(parents=True, exist_ok=True)
            for page in pages:
                write_bytes_atomic(out / page.filename, page.text.encode("utf-8"))
        except OSError as exc:
            raise UsageError(f"{out}: cannot write: {exc.strerror or exc}") from None
    except PkgtoolError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json({"ok": True, "out": str(out), "pages": [p.filename for p in pages]})
    else:
        typer.echo(f"wrote {len(pages)} man pages to {out}")


def _app() -> typer.Typer:
    from .cli import app  # the whole command line, registered by the time a command runs

    return app


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application (called once from cli.py)."""
    app.command()(schema)
    app.command()(man)
